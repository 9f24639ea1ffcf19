/* SPDX-License-Identifier: MIT */
/*
 * Starting, signalling and reaping one handler child.
 *
 * posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK) costs the loop the
 * time to exec, not a copy of the agent's address space.  The child gets
 * a fresh start whatever the agent has set up: every signal at its
 * default and none blocked (the agent blocks SIGTERM/SIGINT/SIGHUP for
 * its signalfd and ignores SIGPIPE, which a shell script would inherit),
 * no descriptor but 0, 1 and 2, and a session of its own, so that the
 * agent can signal everything the handler started with one kill() and a
 * terminal's ^C does not reach it.
 */
#include "daemon/evhandler_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* dup2 onto 0..2 of an fd that already is 0..2 would keep its
 * close-on-exec flag, and a later dup2 could overwrite it: the agent may
 * have been started with standard descriptors closed. */
static int above_std(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd < 0 ? -1 : nfd;
}

static int close_err(int fd, int err)
{
	if (fd >= 0)
		close(fd);
	return err;
}

/* A memfd holding the event, its offset back at 0 for the child. */
static int input_fd(const uint8_t *in, size_t len)
{
	int fd = above_std(memfd_create("xgossip-event", MFD_CLOEXEC));
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, in + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return close_err(fd, n < 0 ? -errno : -EIO);
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return close_err(fd, -errno);
	return fd;
}

/* The read end is non-blocking for the loop; the write end stays
 * blocking, as a child's stdout is expected to be. */
static int output_pipe(int p[2])
{
	int fl;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	p[0] = above_std(p[0]);
	p[1] = above_std(p[1]);
	if (p[0] < 0 || p[1] < 0)
		goto fail;
	fl = fcntl(p[0], F_GETFL);
	if (fl < 0 || fcntl(p[0], F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	return 0;
fail:
	fl = -errno;
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return fl ? fl : -EIO;
}

static int setup_attr(posix_spawnattr_t *attr)
{
	sigset_t none, all;
	int err;

	sigemptyset(&none);
	sigfillset(&all);
	err = posix_spawnattr_init(attr);
	if (err)
		return -err;
	err = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
				       POSIX_SPAWN_SETSIGDEF |
				       POSIX_SPAWN_SETSID);
	if (!err)
		err = posix_spawnattr_setsigmask(attr, &none);
	if (!err)
		err = posix_spawnattr_setsigdefault(attr, &all);
	if (err)
		posix_spawnattr_destroy(attr);
	return -err;
}

static int setup_actions(posix_spawn_file_actions_t *fa, int in, int out)
{
	int err;

	err = posix_spawn_file_actions_init(fa);
	if (err)
		return -err;
	err = posix_spawn_file_actions_adddup2(fa, in, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(fa, out, 1);
	if (!err)
		err = posix_spawn_file_actions_adddup2(fa, out, 2);
	/* Everything the agent has is close-on-exec; this also covers a
	 * library that forgot. */
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	if (err)
		posix_spawn_file_actions_destroy(fa);
	return -err;
}

static int do_spawn(const char *path, char *const envp[], int in, int out,
		    pid_t *pid)
{
	char *argv[] = { (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int err;

	err = setup_attr(&attr);
	if (err)
		return err;
	err = setup_actions(&fa, in, out);
	if (!err) {
		err = -posix_spawn(pid, path, &fa, &attr, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
	}
	posix_spawnattr_destroy(&attr);
	return err;
}

int xg_evh_spawn(const char *path, char *const envp[], const uint8_t *in,
		 size_t len, struct xg_evh_proc *out)
{
	int infd, p[2], err;
	pid_t pid;

	infd = input_fd(in, len);
	if (infd < 0)
		return infd;
	err = output_pipe(p);
	if (err)
		return close_err(infd, err);
	err = do_spawn(path, envp, infd, p[1], &pid);
	close(infd);
	close(p[1]);
	if (err)
		return close_err(p[0], err);
	out->pid = pid;
	out->outfd = p[0];
	out->pidfd = above_std(pidfd_open(pid, 0));
	if (out->pidfd < 0) {
		/* Without a pidfd the loop could not see it end: undo the
		 * start rather than leave an unwatched child. */
		err = -errno;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return close_err(p[0], err);
	}
	return 0;
}

void xg_evh_proc_kill(const struct xg_evh_proc *p, int sig)
{
	/* The group first: the child is its leader (its own session), and
	 * while it is unreaped its pid, hence the group id, cannot be
	 * reused.  The pidfd reaches the child even if it left its group. */
	kill(-p->pid, sig);
	pidfd_send_signal(p->pidfd, sig, NULL, 0);
}

int xg_evh_proc_reap(const struct xg_evh_proc *p, bool block, int *code,
		     int *status)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si,
			   WEXITED | (block ? 0 : WNOHANG)) == 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (si.si_pid == 0)
		return -EAGAIN;
	*code = si.si_code;
	*status = si.si_status;
	return 0;
}
