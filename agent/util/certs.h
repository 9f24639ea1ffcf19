/* SPDX-License-Identifier: MIT */
/*
 * A small private CA for one cluster's TLS (xgossipctl tls init).
 *
 * Enough for an operator without a PKI: one CA key that signs one key and
 * certificate per node, the node's name as subjectAltName, usable as both
 * TLS client and server (push/pull connects both ways).  Keys are EC
 * P-256.  Files are written atomically, keys with mode 0600; an existing
 * CA is reused, so nodes can be added later without touching the others.
 */
#ifndef XGOSSIP_UTIL_CERTS_H
#define XGOSSIP_UTIL_CERTS_H

#include <stdbool.h>
#include <stddef.h>

#define XG_CERTS_NAME_MAX  63
#define XG_CERTS_CA_DAYS   3650
#define XG_CERTS_DAYS_MAX  36500

/* 0 if name is usable as a node name: [A-Za-z0-9._-]{1,63}, and its files
 * collide with no other file of the directory (not "ca", not ending in
 * "-key").  Else -EINVAL with the reason in err. */
int xg_certs_name_check(const char *name, char *err, size_t errlen);

/* Make a CA (self-signed, CA:TRUE, keyCertSign, 10 years) into dir/ca.pem
 * and dir/ca-key.pem unless both exist (then reuse them), and for each
 * name a key and a certificate signed by the CA: dir/<name>.pem,
 * dir/<name>-key.pem, SAN DNS:<name> (plus IP:<name> when the name is an
 * IPv4 literal), EKU serverAuth+clientAuth, valid for `days` (1 ..
 * XG_CERTS_DAYS_MAX), random 128-bit serial.  dir is created (0700) if
 * missing.  0 or -errno (-EINVAL for bad arguments or a half-present or
 * unusable CA); err gets the reason. */
int xg_certs_init(const char *dir, const char *const *names, size_t n,
		  unsigned days, char *err, size_t errlen);

/* Told about each file as it is settled: created, or (the CA) reused. */
typedef void (*xg_certs_report_fn)(void *ctx, const char *dir,
				   const char *file, bool created);

/* xg_certs_init, reporting each file to report (may be NULL). */
int xg_certs_init_ex(const char *dir, const char *const *names, size_t n,
		     unsigned days, xg_certs_report_fn report, void *rctx,
		     char *err, size_t errlen);

#endif /* XGOSSIP_UTIL_CERTS_H */
