/* SPDX-License-Identifier: MIT */
/*
 * libxgossip-embed: the xgossipd agent inside an application.
 *
 * The same agent as xgossipd (membership, failure detection, tags, user
 * broadcasts, unicasts over TLS, XDP fast path, state dir), configured
 * with the same options as its command line, driven by the application's
 * own event loop or by xgossip_run().  docs/EMBEDDING.md is the guide;
 * docs/examples/chat.c a complete program.
 *
 * Rules that hold for every call:
 *
 *  - Errors are negative errno values (0 or a positive value is success).
 *  - One thread: an instance is driven, and every call on it made, from
 *    one thread at a time, the one running xgossip_process/xgossip_run.
 *    The only exception is xgossip_stop(), which may be called from any
 *    thread or from a signal handler.
 *  - Callbacks run from inside xgossip_process() or xgossip_run() (join
 *    and send callbacks possibly also from xgossip_free()), never from
 *    inside the call that registered them.  A callback may call anything
 *    except xgossip_process, xgossip_run and xgossip_free.  Pointers it
 *    is given are valid only until it returns.
 *  - Logs are xgossipd's log lines, to standard error by default
 *    (xgossip_set_log_fd); the level is the "log-level" option.  Both are
 *    process-wide.
 */
#ifndef XGOSSIP_XGOSSIP_H
#define XGOSSIP_XGOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XGOSSIP_NAME_MAX  64  /* a node name, NUL included */
#define XGOSSIP_TAGS_MAX  512 /* a member's tags, encoded, NUL excluded */
#define XGOSSIP_ADDR_MAX  48  /* "[v6]:port", NUL included */
#define XGOSSIP_ID_LEN    16  /* a message id */
#define XGOSSIP_TOPIC_MAX 64  /* a topic: 1..64 printable ASCII bytes */

struct xgossip;
struct xgossip_config;

/* ---- configuration ------------------------------------------------------
 *
 * Options are xgossipd's command-line options, named without the leading
 * "--" ("bind", "join", "tls-ca", ...; `xgossipd --help` lists them), with
 * the same values and the same meaning; they are parsed by xgossipd's own
 * parser.  Options without a value ("insecure-dev") take NULL.  Setting an
 * option again is like repeating it on the command line: "join", "tag"
 * and "event-handler" accumulate, for the others the last value wins.
 *
 * Differences from xgossipd: there is no control socket unless "control"
 * is given, and the agent leaves signals alone (the application owns
 * them; the agent writes with MSG_NOSIGNAL).  "help" and "version" are
 * refused.
 */

/* An empty configuration, or NULL when out of memory. */
struct xgossip_config *xgossip_config_new(void);
/* Record option = value (copied).  -EINVAL for a name that is not an
 * option's spelling, a value for an option that takes none, or "help" /
 * "version"; -ENOMEM.  Everything else (unknown options, bad values,
 * options that contradict each other) is found by xgossip_config_check
 * and xgossip_new, with an explanation. */
int  xgossip_config_set(struct xgossip_config *cfg, const char *option,
			const char *value);
/* Parse the whole configuration as xgossip_new() will, without starting
 * anything.  0, or -EINVAL with the parser's explanation in errbuf
 * (always NUL-terminated when errlen > 0). */
int  xgossip_config_check(const struct xgossip_config *cfg, char *errbuf,
			  size_t errlen);
void xgossip_config_free(struct xgossip_config *cfg);

/* ---- life ----------------------------------------------------------------- */

/* Start an agent: parse cfg (which may be freed afterwards), claim the
 * state dir, bind the sockets, load XDP as configured and start joining
 * the "join" seeds.  Nothing is delivered before the first
 * xgossip_process/xgossip_run, so subscribe in between.  0, -EINVAL (bad
 * configuration) or the start-up error (-EACCES, -EADDRINUSE, -EBUSY for
 * a state dir in use, ...), with an explanation in errbuf. */
int  xgossip_new(struct xgossip **out, const struct xgossip_config *cfg,
		 char *errbuf, size_t errlen);

/* Integration with the application's loop: wait for POLLIN on this
 * descriptor (it also becomes readable when a timer of the agent is due,
 * so no timeout is needed), then call xgossip_process().  The descriptor
 * is the agent's; do not read, close or add it to an edge-triggered set. */
int  xgossip_fd(const struct xgossip *g);
/* Do the work that is ready, without blocking (a bounded amount: when
 * more is pending the descriptor stays readable).  0 while the agent
 * runs, 1 once it has stopped (it left the cluster, or failed: call
 * xgossip_free), -errno if it failed now; -EDEADLK from a callback. */
int  xgossip_process(struct xgossip *g);

/* Or let the library run the loop: blocks until xgossip_stop() (returns
 * 0; the node is still a member, run or process may be called again),
 * until the agent stops (1: it left or failed) or fails now (-errno). */
int  xgossip_run(struct xgossip *g);
/* Make xgossip_run return 0 as soon as the callback now running (if any)
 * returns; if it is not running, the next one returns at once.  Safe from
 * any thread and from a signal handler. */
void xgossip_stop(struct xgossip *g);

/* Leave the cluster gracefully: the departure spreads (at most the
 * "leave-timeout" option, 5s by default), then the agent stops and
 * xgossip_process / xgossip_run return 1.  0, -EALREADY, -ESHUTDOWN
 * (the agent has stopped already). */
int  xgossip_leave(struct xgossip *g);

/* Tear down (without leaving: the others will see this node fail unless
 * it left first).  Pending join and send callbacks are called now, with
 * an error.  Returns 0, or -EIO if the agent had failed.  NULL is fine.
 * Not from a callback. */
int  xgossip_free(struct xgossip *g);

/* Where the log lines of every agent of the process go (default 2,
 * standard error; -1 discards them).  Call between instances' calls, not
 * concurrently with them. */
void xgossip_set_log_fd(int fd);

/* ---- this node -------------------------------------------------------- */

const char *xgossip_name(const struct xgossip *g); /* valid until free */
uint64_t    xgossip_id(const struct xgossip *g);   /* the node id */

/* ---- membership ------------------------------------------------------- */

enum xgossip_state {
	XGOSSIP_ALIVE,
	XGOSSIP_SUSPECT,
	XGOSSIP_DEAD,
	XGOSSIP_LEFT,
};

struct xgossip_member {
	char               name[XGOSSIP_NAME_MAX];
	uint64_t           id;
	char               addr[XGOSSIP_ADDR_MAX]; /* "198.18.0.11:7946" */
	enum xgossip_state state;
	uint32_t           incarnation;
	/* The tags as they travel: "key=value" lines joined by '\n' (sorted
	 * by key; "" for none).  xgossip_tag() reads one. */
	char               tags[XGOSSIP_TAGS_MAX + 1];
	bool               self;                   /* this node */
};

/* Every member this node knows, itself included, in no particular order,
 * into a malloc'd array (*n may be 0; free it with xgossip_members_free).
 * 0, -ENOMEM. */
int  xgossip_members(struct xgossip *g, struct xgossip_member **out,
		     size_t *n);
void xgossip_members_free(struct xgossip_member *members);
/* This node as the others see it. */
int  xgossip_self(struct xgossip *g, struct xgossip_member *out);

/* The value of tag key into buf (truncated to cap - 1): buf, or NULL when
 * the member has no such tag. */
const char *xgossip_tag(const struct xgossip_member *m, const char *key,
			char *buf, size_t cap);
const char *xgossip_state_name(enum xgossip_state s); /* "alive", ... */

enum xgossip_event_type {
	XGOSSIP_EV_JOIN,    /* a member appeared */
	XGOSSIP_EV_LEAVE,   /* it left gracefully */
	XGOSSIP_EV_FAIL,    /* it was declared dead */
	XGOSSIP_EV_UPDATE,  /* its tags or address changed */
	XGOSSIP_EV_SUSPECT, /* it is suspected of having failed */
	XGOSSIP_EV_ALIVE,   /* a suspect or dead member is alive again */
	XGOSSIP_EV_REFUTE,  /* this node refuted a suspicion of itself */
};
const char *xgossip_event_name(enum xgossip_event_type t); /* "join", ... */

struct xgossip_member_event {
	enum xgossip_event_type type;
	struct xgossip_member   member; /* as it is after the event */
};
typedef void (*xgossip_member_fn)(void *ctx,
				  const struct xgossip_member_event *ev);
/* Call fn for every membership event from now on.  A handle (> 0) for
 * xgossip_unsubscribe, or -ENOMEM. */
int  xgossip_on_member(struct xgossip *g, xgossip_member_fn fn, void *ctx);

/* Join through more addresses ("198.18.0.11", "198.18.0.11:7946",
 * "[fd00::11]:7946": IP literals, resolving names would block the loop;
 * names belong in the "join" option).  done(ctx, joined, err) is called
 * exactly once, when every address has succeeded or failed: joined is
 * how many did, err the first error's text or NULL.  done may be NULL.
 * 0 when the attempt started, -EINVAL (an address is not an IP literal;
 * done is then not called), -ESHUTDOWN (leaving), -ENOMEM. */
typedef void (*xgossip_join_fn)(void *ctx, int joined, const char *err);
int  xgossip_join(struct xgossip *g, const char *const *addrs, size_t n,
		  xgossip_join_fn done, void *ctx);

/* Change this node's tags ("key=value" items; keys to delete) and spread
 * them.  0, -EINVAL (bad key or value), -E2BIG (over XGOSSIP_TAGS_MAX
 * encoded; nothing is changed then). */
int  xgossip_set_tags(struct xgossip *g, const char *const *kv, size_t n);
int  xgossip_del_tags(struct xgossip *g, const char *const *keys, size_t n);

/* ---- messages ----------------------------------------------------------- */

enum xgossip_kind {
	XGOSSIP_BROADCAST, /* xgossip_broadcast from another member */
	XGOSSIP_UNICAST,   /* xgossip_send to this node */
};

struct xgossip_message {
	enum xgossip_kind kind;
	uint8_t           id[XGOSSIP_ID_LEN];
	uint64_t          origin;      /* node id of the member that sent it */
	const char       *origin_name; /* NULL: not a known member (yet) */
	const char       *topic;
	const void       *data;        /* valid during the callback only */
	size_t            len;
	unsigned          hops;        /* forwards on the way; 0: direct */
	uint64_t          sent_ms;     /* ms since 1970: a broadcast's
					* origin's wall clock when it sent
					* it; for a unicast, when it arrived */
};
typedef void (*xgossip_message_fn)(void *ctx, const struct xgossip_message *m);

/* Call fn for every message delivered to this node on topic (NULL: every
 * topic) from now on.  Each message is delivered once per node, to every
 * matching subscription.  A handle (> 0), -EINVAL (bad topic), -ENOMEM. */
int  xgossip_subscribe(struct xgossip *g, const char *topic,
		       xgossip_message_fn fn, void *ctx);
/* Remove a subscription or an on_member callback; from a callback too
 * (it is then not called again, even for the message being delivered).
 * 0 or -ENOENT. */
int  xgossip_unsubscribe(struct xgossip *g, int handle);

/* Send to every other live member, each delivering it once (not to this
 * node's own subscriptions).  Payloads up to the "max-message-size"
 * option (16 MiB); above about 1.2 KiB they travel over TLS.  The message
 * id into id unless NULL.  0, -EINVAL (bad topic), -EMSGSIZE, -ENOBUFS
 * (too many messages in flight), -ESHUTDOWN. */
int  xgossip_broadcast(struct xgossip *g, const char *topic,
		       const void *data, size_t len, uint8_t *id);

/* Send to one member (its name, or its node id in 16 hex digits) over
 * TLS; done(ctx, err, rtt_ns) is called exactly once, from the loop: err
 * 0 once the target delivered it to its application (rtt_ns from the
 * connection to the receipt), else -errno (-ETIMEDOUT, -ECONNREFUSED,
 * an error the target returned, -ECANCELED when the agent stops...).
 * done may be NULL.  The message id into id unless NULL.  0 when the
 * send started (data was copied), or -ENOENT (no such member), -ELOOP
 * (this node), -EHOSTDOWN (the member is not alive), -EINVAL, -EMSGSIZE,
 * -ENOBUFS (too many sends in flight), -ESHUTDOWN (done is then not
 * called). */
typedef void (*xgossip_send_fn)(void *ctx, int err, uint64_t rtt_ns);
int  xgossip_send(struct xgossip *g, const char *node, const char *topic,
		  const void *data, size_t len, uint8_t *id,
		  xgossip_send_fn done, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* XGOSSIP_XGOSSIP_H */
