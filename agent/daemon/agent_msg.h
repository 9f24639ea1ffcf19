/* SPDX-License-Identifier: MIT */
/*
 * User messaging in the agent (docs/MESSAGING.md): the daemon's side of
 * the messenger (core/msg.h).  It resolves member ids to addresses, seals
 * and opens the packets with the keyring, keeps the XDP seen map in step
 * with the messenger's seen table, and hands delivered messages to the
 * control socket's subscribers and to event handlers.
 */
#ifndef XGOSSIP_DAEMON_AGENT_MSG_H
#define XGOSSIP_DAEMON_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/msg.h"

struct xg_agent;

/* After the core and the keyring: the messenger with this run's
 * incarnation and the keyring's keys.  0 or -errno. */
int  xg_agent_msg_setup(struct xg_agent *a);
void xg_agent_msg_close(struct xg_agent *a);
/* The keyring changed: give the messenger the same keys. */
int  xg_agent_msg_keys(struct xg_agent *a);

/* An opened (plaintext) messaging packet, types PUSH .. PULL_RESPONSE. */
void xg_agent_msg_on_packet(struct xg_agent *a, const struct xg_addr *from,
			    const uint8_t *pkt, size_t len, uint64_t now_ns);
void     xg_agent_msg_tick(struct xg_agent *a, uint64_t now_ns);
uint64_t xg_agent_msg_next_deadline(const struct xg_agent *a);

static inline bool xg_wire_is_msg(uint8_t type)
{
	return xg_msg_type_valid(type);
}

#endif /* XGOSSIP_DAEMON_AGENT_MSG_H */
