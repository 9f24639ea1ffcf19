/* SPDX-License-Identifier: MIT */
/*
 * The application's message subscriptions and membership callbacks.
 *
 * A callback may subscribe and unsubscribe (itself included) while a
 * message is being handed out.  So a dispatch walks the entries that
 * existed when it began, by index (the array may move under it), and an
 * entry removed meanwhile is only marked dead; the array is compacted once
 * the outermost dispatch is over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib_int.h"

int lib_subs_add(struct lib_subs *s, const struct lib_sub *proto)
{
	struct lib_sub e = *proto;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct lib_sub *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	e.topic = NULL;
	if (proto->topic && !(e.topic = strdup(proto->topic)))
		return -ENOMEM;
	/* Handles are never reused while the process lives (2^31 of them):
	 * a stale handle cannot remove someone else's subscription. */
	if (s->last_handle == 0x7fffffff) {
		free(e.topic);
		return -ENOSPC;
	}
	e.handle = ++s->last_handle;
	e.dead = false;
	s->v[s->n++] = e;
	return e.handle;
}

static void sweep(struct lib_subs *s)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].dead) {
			free(s->v[i].topic);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
	s->garbage = false;
}

int lib_subs_remove(struct lib_subs *s, int handle)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].handle != handle || s->v[i].dead)
			continue;
		s->v[i].dead = true;
		s->garbage = true;
		if (!s->dispatching)
			sweep(s);
		return 0;
	}
	return -ENOENT;
}

static void dispatch_end(struct lib_subs *s)
{
	if (--s->dispatching == 0 && s->garbage)
		sweep(s);
}

void lib_subs_message(struct lib_subs *s, const struct xgossip_message *m)
{
	size_t i, n = s->n;

	s->dispatching++;
	for (i = 0; i < n; i++) {
		/* A copy: the callback may grow (move) the array. */
		struct lib_sub e = s->v[i];

		if (e.dead || e.member)
			continue;
		if (e.topic && strcmp(e.topic, m->topic) != 0)
			continue;
		e.on_msg(e.ctx, m);
	}
	dispatch_end(s);
}

void lib_subs_member(struct lib_subs *s, const struct xgossip_member_event *ev)
{
	size_t i, n = s->n;

	s->dispatching++;
	for (i = 0; i < n; i++) {
		struct lib_sub e = s->v[i];

		if (e.dead || !e.member)
			continue;
		e.on_member(e.ctx, ev);
	}
	dispatch_end(s);
}

void lib_subs_free(struct lib_subs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].topic);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
