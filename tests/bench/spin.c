/* SPDX-License-Identifier: MIT */
/*
 * bench-spin: burn one CPU and count how much of it we got.
 *
 *   bench-spin --cpu N --duration S [--delay S] [--normal]
 *
 * Pinned to CPU N, it spins for S seconds (after sleeping --delay S) and
 * prints "spins=<n> ns=<elapsed> rate=<spins per second>".
 *
 * Default policy SCHED_IDLE: the spinner only runs when nothing else on
 * the CPU wants to, including softirq work, which /proc/stat does not book
 * to anyone on an otherwise idle CPU (DESIGN.md section 5).  So
 * 1 - rate(during a test) / rate(idle calibration) is the share of the CPU
 * the test used.  --normal runs under SCHED_OTHER instead: a CPU hog that
 * competes with a pinned agent, for the starved-agent latency test.
 *
 * The clock is read once per CHUNK iterations so the loop body, not the
 * vDSO, dominates; the volatile counter keeps the compiler from folding
 * the loop.
 *
 * On a shared machine other tenants' processes also take the CPU from the
 * spinner, and a calibration taken a few seconds earlier may have seen
 * more or less of them.  So it also reports what the scheduler booked,
 * which other tenants cannot disturb: "exec=" its own CPU time, and with
 * --watch PID (repeatable) the CPU time of each watched process (all its
 * threads) over the same window, "watch=PID:ns,...".  Softirq work that
 * interrupts the spinner is booked to it but yields no spins, so
 * exec - spins / (spins per exec ns when undisturbed) is the softirq time
 * it absorbed (tests/bench/probe_table.py does that arithmetic).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 4096u
#define WATCH_MAX 16

/* First field of a schedstat file: ns spent on a CPU.  0 when unreadable
 * (the process may have exited: the caller sees a zero delta). */
static uint64_t schedstat_ns(const char *path)
{
	unsigned long long ns = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* CPU time of every thread of pid. */
static uint64_t process_ns(int pid)
{
	char path[64];
	struct dirent *d;
	uint64_t sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		char p[300];

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", pid, d->d_name);
		sum += schedstat_ns(p);
	}
	closedir(dir);
	return sum;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 3600)
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int pin(int cpu, int policy)
{
	struct sched_param sp = { .sched_priority = 0 };
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	if (sched_setscheduler(0, policy, &sp) < 0)
		return -errno;
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void usage(FILE *f)
{
	fputs("usage: bench-spin --cpu N --duration S [--delay S] [--normal]\n"
	      "                  [--watch PID]...\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpu",      required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "delay",    required_argument, NULL, 'w' },
		{ "normal",   no_argument,       NULL, 'n' },
		{ "watch",    required_argument, NULL, 'p' },
		{ "help",     no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t duration = 0, delay = 0, start, end, now, exec0, exec1;
	uint64_t watch0[WATCH_MAX];
	volatile uint64_t spins = 0;
	int cpu = -1, policy = SCHED_IDLE, c, err, watch[WATCH_MAX], nwatch = 0;
	char *e;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			errno = 0;
			cpu = (int)strtol(optarg, &e, 10);
			if (errno || e == optarg || *e || cpu < 0 || cpu >= CPU_SETSIZE) {
				fprintf(stderr, "bench-spin: --cpu %s: want a CPU number\n", optarg);
				return 2;
			}
			break;
		case 'd':
		case 'w':
			if (parse_seconds(optarg, c == 'd' ? &duration : &delay)) {
				fprintf(stderr, "bench-spin: %s: want seconds\n", optarg);
				return 2;
			}
			break;
		case 'n':
			policy = SCHED_OTHER;
			break;
		case 'p':
			errno = 0;
			c = (int)strtol(optarg, &e, 10);
			if (errno || e == optarg || *e || c <= 0 || nwatch == WATCH_MAX) {
				fprintf(stderr, "bench-spin: --watch %s: want a pid (at most %d)\n",
					optarg, WATCH_MAX);
				return 2;
			}
			watch[nwatch++] = c;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cpu < 0 || duration == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	err = pin(cpu, policy);
	if (err) {
		fprintf(stderr, "bench-spin: pinning to CPU %d: %s\n", cpu, strerror(-err));
		return 1;
	}
	if (delay)
		sleep_ns(delay);
	for (c = 0; c < nwatch; c++)
		watch0[c] = process_ns(watch[c]);
	exec0 = schedstat_ns("/proc/thread-self/schedstat");
	start = mono_ns();
	end = start + duration;
	do {
		for (unsigned i = 0; i < CHUNK; i++)
			spins = spins + 1;
		now = mono_ns();
	} while (now < end);
	exec1 = schedstat_ns("/proc/thread-self/schedstat");
	printf("spins=%" PRIu64 " ns=%" PRIu64 " rate=%.1f exec=%" PRIu64,
	       (uint64_t)spins, now - start,
	       (double)spins * 1e9 / (double)(now - start), exec1 - exec0);
	for (c = 0; c < nwatch; c++) {
		uint64_t ns = process_ns(watch[c]);

		printf("%s%d:%" PRIu64, c ? "," : " watch=", watch[c],
		       ns > watch0[c] ? ns - watch0[c] : 0);
	}
	putchar('\n');
	return 0;
}
