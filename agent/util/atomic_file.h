/* SPDX-License-Identifier: MIT */
/*
 * Small files that must never be seen half-written (the state directory):
 * write a temporary file in the same directory, fsync it, rename it over
 * the target, fsync the directory.  After a crash at any point the target
 * holds either the old or the new content, never a mix or nothing.
 */
#ifndef XGOSSIP_UTIL_ATOMIC_FILE_H
#define XGOSSIP_UTIL_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Replace dir/name with data (file mode `mode`, whatever the umask).
 * 0 or -errno; on error the old file is untouched and no temporary file
 * is left behind. */
int xg_file_write_atomic(const char *dir, const char *name, const void *data,
			 size_t len, mode_t mode);

/* Read all of dir/name into buf (cap bytes; a NUL is appended, so at most
 * cap - 1 bytes of content).  *len gets the content length.  0, -ENOENT,
 * -EFBIG (larger than cap - 1) or -errno. */
int xg_file_read_small(const char *dir, const char *name, char *buf,
		       size_t cap, size_t *len);

/* The same for a full path; symlinks are followed (Kubernetes mounts
 * Secret files as links), unlike xg_file_read_small. */
int xg_file_read_path(const char *path, char *buf, size_t cap, size_t *len);

/* mkdir -p: missing parents get 0755, the last component `mode`; an
 * existing directory is left as it is.  0 or -errno. */
int xg_mkdir_p(const char *path, mode_t mode);

#endif /* XGOSSIP_UTIL_ATOMIC_FILE_H */
