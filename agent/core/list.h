/* SPDX-License-Identifier: MIT */
/*
 * Intrusive circular doubly-linked list.  The core keeps members on short
 * side lists (suspects, dead-or-left) without allocating list nodes, so a
 * state change never allocates and unlinking is O(1).
 */
#ifndef XGOSSIP_CORE_LIST_H
#define XGOSSIP_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct xg_link {
	struct xg_link *prev, *next;
};

#define xg_container_of(ptr, type, field) \
	((type *)(void *)((char *)(ptr) - offsetof(type, field)))

static inline void xg_list_init(struct xg_link *head)
{
	head->prev = head->next = head;
}

static inline bool xg_list_empty(const struct xg_link *head)
{
	return head->next == head;
}

/* A link that is on no list points at itself, so "is it linked?" needs no
 * separate flag. */
static inline bool xg_list_linked(const struct xg_link *l)
{
	return l->next != l && l->next != NULL;
}

static inline void xg_list_append(struct xg_link *head, struct xg_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void xg_list_unlink(struct xg_link *l)
{
	if (!xg_list_linked(l))
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

#endif /* XGOSSIP_CORE_LIST_H */
