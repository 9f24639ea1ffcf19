/* SPDX-License-Identifier: MIT */
/*
 * Text names of member states and events, as they appear in logs, the
 * control protocol and metrics labels; keep them stable.
 */
#include "core/swim.h"

const char *xg_state_name(enum xg_state s)
{
	switch (s) {
	case XG_ALIVE:
		return "alive";
	case XG_SUSPECT:
		return "suspect";
	case XG_DEAD:
		return "dead";
	case XG_LEFT:
		return "left";
	}
	return "unknown";
}

const char *xg_event_name(enum xg_event_type t)
{
	switch (t) {
	case XG_EV_JOIN:
		return "join";
	case XG_EV_LEAVE:
		return "leave";
	case XG_EV_FAIL:
		return "fail";
	case XG_EV_UPDATE:
		return "update";
	case XG_EV_SUSPECT:
		return "suspect";
	case XG_EV_ALIVE:
		return "alive";
	case XG_EV_REFUTE:
		return "refute";
	}
	return "unknown";
}
