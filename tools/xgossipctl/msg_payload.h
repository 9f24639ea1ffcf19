/* SPDX-License-Identifier: MIT */
/*
 * The payload of xgossipctl broadcast and send: all of a file or of
 * standard input, read before anything is sent, with a hard limit so a
 * mistaken pipe cannot make xgossipctl (or the agent) swallow gigabytes.
 */
#ifndef XGOSSIPCTL_MSG_PAYLOAD_H
#define XGOSSIPCTL_MSG_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* The agent's default --max-message-size (docs/MESSAGING.md). */
#define CTL_MSG_MAX_PAYLOAD ((size_t)16 << 20)

/* Read fd to its end into *buf (malloc'd, the caller frees; never NULL on
 * success, even for 0 bytes), *len bytes.  0, -EFBIG (more than max
 * bytes: reading stops at the first byte over), -ENOMEM or read()'s
 * -errno.  *buf is NULL on error. */
int ctl_payload_read_fd(int fd, size_t max, uint8_t **buf, size_t *len);

/* The same from path, or from stdin_fd when path is NULL or "-"; adds
 * open()'s -errno. */
int ctl_payload_read(const char *path, int stdin_fd, size_t max,
		     uint8_t **buf, size_t *len);

#endif /* XGOSSIPCTL_MSG_PAYLOAD_H */
