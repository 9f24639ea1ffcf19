/* SPDX-License-Identifier: MIT */
/*
 * BoringSSL's own socket BIO writes with send(..., 0): a peer that has gone
 * would kill a host process that did not ignore SIGPIPE.  This one passes
 * MSG_NOSIGNAL and keeps errno where the error mapping can find it after
 * BoringSSL has made other calls.
 */
#include "net/tls_int.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int would_block(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static int sock_read(BIO *b, char *buf, int len)
{
	struct xg_tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(c->fd, buf, (size_t)len, 0);
	if (n >= 0)
		return (int)n;
	c->sock_err = errno;
	if (would_block(errno))
		BIO_set_retry_read(b);
	return -1;
}

static int sock_write(BIO *b, const char *buf, int len)
{
	struct xg_tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n >= 0)
		return (int)n;
	c->sock_err = errno;
	if (would_block(errno))
		BIO_set_retry_write(b);
	return -1;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Writes go straight to the socket: nothing to flush. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void make_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "xgossip socket");

	if (m && BIO_meth_set_read(m, sock_read) &&
	    BIO_meth_set_write(m, sock_write) &&
	    BIO_meth_set_ctrl(m, sock_ctrl)) {
		method = m;
		return;
	}
	BIO_meth_free(m);
}

BIO *xg_tls_bio_new(struct xg_tls_conn *conn)
{
	BIO *b;

	/* One method for the process: it is never freed, like BoringSSL's
	 * built-in ones. */
	pthread_once(&method_once, make_method);
	if (!method)
		return NULL;
	b = BIO_new(method);
	if (!b)
		return NULL;
	BIO_set_data(b, conn);
	BIO_set_init(b, 1);
	return b;
}
