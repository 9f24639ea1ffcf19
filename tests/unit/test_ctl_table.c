/* SPDX-License-Identifier: MIT */
/* xgossipctl's human output (tools/xgossipctl/table.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/xgossipctl/table.h"

/* Output captured in memory. */
struct mem {
	char  *buf;
	size_t len;
	FILE  *f;
};

static FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

/* The text written so far; the caller frees it. */
static char *mem_close(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

static json_object *parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	assert_non_null(o);
	return o;
}

static void test_text_width(void **state)
{
	(void)state;
	assert_int_equal(ctl_text_width(""), 0);
	assert_int_equal(ctl_text_width("node1"), 5);
	assert_int_equal(ctl_text_width("n\xc5\x93ud"), 4);       /* nœud */
	assert_int_equal(ctl_text_width("\xf0\x9f\x98\x80!"), 2);
}

static void test_tags_and_values(void **state)
{
	json_object *o = parse("{\"t\":{\"role\":\"db\",\"zone\":\"a\"},"
			       "\"e\":{},\"n\":null,\"a\":[\"x\",1,true],"
			       "\"i\":42,\"s\":\"str\"}");
	json_object *v;
	char *s;

	(void)state;
	json_object_object_get_ex(o, "t", &v);
	s = ctl_tags_text(v);
	assert_string_equal(s, "role=db,zone=a");
	free(s);
	json_object_object_get_ex(o, "e", &v);
	s = ctl_tags_text(v);
	assert_string_equal(s, "");
	free(s);
	s = ctl_tags_text(NULL);
	assert_string_equal(s, "");
	free(s);

	json_object_object_get_ex(o, "n", &v);
	s = ctl_value_text(v);
	assert_string_equal(s, "-");
	free(s);
	json_object_object_get_ex(o, "a", &v);
	s = ctl_value_text(v);
	assert_string_equal(s, "x,1,true");
	free(s);
	json_object_object_get_ex(o, "i", &v);
	s = ctl_value_text(v);
	assert_string_equal(s, "42");
	free(s);
	json_object_object_get_ex(o, "s", &v);
	s = ctl_value_text(v);
	assert_string_equal(s, "str");
	free(s);
	json_object_put(o);
}

static void test_members_table(void **state)
{
	json_object *r = parse(
		"{\"ok\":true,\"members\":["
		"{\"name\":\"alpha\",\"id\":\"0000000000000001\","
		" \"addr\":\"198.18.0.1:7946\",\"status\":\"alive\","
		" \"incarnation\":1,\"tags\":{\"role\":\"db\",\"zone\":\"a\"},"
		" \"since_ms\":5,\"self\":true},"
		"{\"name\":\"n\xc5\x93ud-b\",\"id\":\"0000000000000002\","
		" \"addr\":\"[fd00:198:18::2]:7946\",\"status\":\"suspect\","
		" \"incarnation\":12,\"tags\":{},\"since_ms\":0,\"self\":false}"
		"]}");
	char *out;

	(void)state;
	{
		struct mem m;
		FILE *f = mem_open(&m);

		assert_int_equal(ctl_print_members(f, r), 0);
		out = mem_close(&m);
	}
	/* Aligned by code points, two blanks between columns, nothing
	 * trailing. */
	assert_string_equal(out,
		"Name    Address                Status   Incarnation  Tags\n"
		"alpha   198.18.0.1:7946        alive    1            role=db,zone=a\n"
		"n\xc5\x93ud-b  [fd00:198:18::2]:7946  suspect  12\n");
	free(out);
	json_object_put(r);

	r = parse("{\"ok\":true,\"members\":[]}");
	{
		struct mem m;
		FILE *f = mem_open(&m);

		assert_int_equal(ctl_print_members(f, r), 0);
		out = mem_close(&m);
	}
	assert_string_equal(out, "Name  Address  Status  Incarnation  Tags\n");
	free(out);
	json_object_put(r);

	r = parse("{\"ok\":true}");
	{
		struct mem m;
		FILE *f = mem_open(&m);

		assert_int_equal(ctl_print_members(f, r), -EBADMSG);
		out = mem_close(&m);
	}
	free(out);
	json_object_put(r);
}

static void test_info_sections(void **state)
{
	json_object *r = parse(
		"{\"ok\":true,"
		"\"node\":{\"name\":\"me\",\"tags\":{\"k\":\"v\"}},"
		"\"agent\":{\"version\":\"0.1.0\",\"state_dir\":null,"
		" \"uptime_s\":61},"
		"\"members\":{\"alive\":3}}");
	char *out;

	(void)state;
	{
		struct mem m;
		FILE *f = mem_open(&m);

		assert_int_equal(ctl_print_info(f, r), 0);
		out = mem_close(&m);
	}
	assert_string_equal(out,
		"node:\n"
		"  name = me\n"
		"  tags = k=v\n"
		"\n"
		"agent:\n"
		"  version   = 0.1.0\n"
		"  state_dir = -\n"
		"  uptime_s  = 61\n"
		"\n"
		"members:\n"
		"  alive = 3\n");
	free(out);
	json_object_put(r);
}

static void test_event_rows(void **state)
{
	json_object *ev = parse(
		"{\"event\":\"fail\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"name\":\"node2\",\"id\":\"0000000000000002\","
		"\"addr\":\"198.18.0.2:7946\",\"status\":\"dead\","
		"\"incarnation\":4,\"tags\":{\"zone\":\"b\"}}");
	char *out, *head;

	(void)state;
	{
		struct mem m;
		FILE *f = mem_open(&m);

		ctl_print_event_header(f);
		head = mem_close(&m);
	}
	{
		struct mem m;
		FILE *f = mem_open(&m);

		assert_int_equal(ctl_print_event(f, ev), 0);
		out = mem_close(&m);
	}
	assert_string_equal(head,
		"Time                         Event    Name                  "
		"Address                Status   Incarnation  Tags\n");
	assert_string_equal(out,
		"2023-11-14T22:13:20.000000Z  fail     node2                 "
		"198.18.0.2:7946        dead     4            zone=b\n");
	/* Header and rows line up. */
	assert_int_equal(strstr(head, "Tags") - head, strstr(out, "zone") - out);
	free(head);
	free(out);
	json_object_put(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_tags_and_values),
		cmocka_unit_test(test_members_table),
		cmocka_unit_test(test_info_sections),
		cmocka_unit_test(test_event_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
