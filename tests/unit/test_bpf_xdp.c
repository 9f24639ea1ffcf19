/* SPDX-License-Identifier: MIT */
/*
 * The XDP program through BPF_PROG_TEST_RUN: the real verifier, the real
 * socket lookup, crafted frames in, verdict and frame out.
 *
 * Expected ACKs are built here from scratch: the payload by the userspace
 * encoder (agent/core/codec.c), the Ethernet/IP/UDP framing and both
 * checksums by the small routines below, which share no code with the BPF
 * program.  An ACK that differs from it in a single byte fails the test.
 *
 * The test runs in a network namespace of its own (unshare), so the UDP
 * sockets it binds to stand in for the agent cannot meet anyone else's.
 * Needs root; without it, or when this kernel cannot run XDP programs at
 * all, it prints SKIP and exits 77.  A program the verifier rejects is a
 * failure, not a skip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <xgossip/siphash.h>
#include <xgossip/wire.h>
#include <xgossip/xdp_maps.h>

#include "core/codec.h"
#include "xdp_pass.skel.h"
#include "xgossip.skel.h"

#define PORT      17946
#define CLUSTER   0x0102030405060708ULL
#define SELF_ID   0x1111222233334444ULL
#define PEER_ID   0xaaaabbbbccccddddULL
#define OTHER_ID  0x5555666677778888ULL
#define PRIMARY_ID   3
#define SECONDARY_ID 2
#define HOUR_NS   (3600ULL * 1000 * 1000 * 1000)

static const uint8_t key_primary[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
					 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key_secondary[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
					   0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
					   0xac, 0xad, 0xae, 0xaf };
static const uint8_t key_unknown[16] = { 0x77 };

static const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_self[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 0x01 };

static struct xgossip_bpf *skel;
static int prog_fd, sock4 = -1, sock6 = -1;

/* --- clock and maps ------------------------------------------------------ */

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put_config(uint64_t liveness_ns, uint8_t keys_slot)
{
	struct xg_bpf_config c = {
		.cluster_id = CLUSTER,
		.node_id = SELF_ID,
		.liveness_ns = liveness_ns,
		.port = PORT,
		.keys_slot = keys_slot,
	};
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xg_config),
					     &zero, &c, BPF_ANY), 0);
}

static void put_keys(__u32 slot, const uint8_t *primary, const uint8_t *secondary)
{
	struct xg_bpf_keys k;

	memset(&k, 0, sizeof(k));
	if (primary) {
		memcpy(k.primary, primary, 16);
		k.primary_id = PRIMARY_ID;
		k.flags |= XG_KEY_HAS_PRIMARY;
	}
	if (secondary) {
		memcpy(k.secondary, secondary, 16);
		k.secondary_id = SECONDARY_ID;
		k.flags |= XG_KEY_HAS_SECONDARY;
	}
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xg_keys),
					     &slot, &k, BPF_ANY), 0);
}

static void put_heartbeat(uint64_t v)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xg_heartbeat),
					     &zero, &v, BPF_ANY), 0);
}

/* The state every case starts from: configured, keys in slot 1 (as the
 * loader publishes them), a fresh heartbeat with a window no test run can
 * outlast, so no case depends on how fast this machine is. */
static void baseline(void)
{
	put_keys(0, NULL, NULL);
	put_keys(1, key_primary, key_secondary);
	put_config(HOUR_NS, 1);
	put_heartbeat(mono_now());
}

static void read_stats(struct xg_bpf_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	const size_t nf = sizeof(*sum) / sizeof(__u64);
	__u64 *v, *out = (__u64 *)sum;
	__u32 zero = 0;
	size_t i;
	int c;

	assert_true(ncpu > 0);
	v = calloc((size_t)ncpu, sizeof(*sum));
	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.xg_stats),
					     &zero, v), 0);
	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++)
		for (i = 0; i < nf; i++)
			out[i] += v[(size_t)c * nf + i];
	free(v);
}

/* --- sockets standing in for the agent ----------------------------------- */

static int bind_udp(int family, const char *addr)
{
	int one = 1, fd;

	fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	if (family == 4) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(PORT) };

		assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
		/* The address need not exist here: freebind lets the test
		 * bind the very address its frames are sent to. */
		assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
					    sizeof(one)), 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_port = htons(PORT) };

		assert_int_equal(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
					    sizeof(one)), 0);
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND,
					    &one, sizeof(one)), 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	return fd;
}

static void close_sockets(void)
{
	if (sock4 >= 0)
		close(sock4);
	if (sock6 >= 0)
		close(sock6);
	sock4 = sock6 = -1;
}

static void bind_wildcard(void)
{
	close_sockets();
	sock4 = bind_udp(4, "0.0.0.0");
	sock6 = bind_udp(6, "::");
}

/* --- frames, built independently of the program -------------------------- */

#define IP4_SRC "198.18.0.1"
#define IP4_DST "198.18.0.2"
#define IP6_SRC "fd00:198:18::1"
#define IP6_DST "fd00:198:18::2"

struct fspec {
	int      family;     /* 4 or 6 */
	uint16_t vlan_tpid;  /* 0: untagged, else 0x8100 or 0x88a8 */
	uint8_t  dst_mac[6], src_mac[6];
	uint8_t  src_ip[16], dst_ip[16];
	uint16_t sport, dport;
	uint8_t  ttl;
	uint8_t  ip_proto;   /* 17 unless a case says otherwise */
	bool     ip_options; /* IPv4: 4 bytes of NOP options */
	uint16_t frag_off;   /* IPv4 flags+offset field, host order */
	bool     v6_hopopts; /* IPv6: a hop-by-hop header before UDP */
	bool     udp_csum_zero;
	int      ip_len_delta;  /* added to the IP length field */
	int      udp_len_delta; /* added to the UDP length field */
	const uint8_t *payload;
	size_t   plen;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 over big-endian 16-bit words, byte by byte. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t udp_checksum(int family, const uint8_t *src, const uint8_t *dst,
			     const uint8_t *udp, size_t udp_len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;
	uint16_t c;

	sum = sum16(src, alen, sum);
	sum = sum16(dst, alen, sum);
	sum += 17;
	sum += (uint32_t)udp_len;
	sum = sum16(udp, udp_len, sum);
	c = fold16(sum);
	return c ? c : 0xffff;
}

static size_t build_frame(const struct fspec *s, uint8_t *out)
{
	size_t off = 0, l3, l4, udp_len = 8 + s->plen, ip_hlen;
	uint8_t *udp;

	memcpy(out, s->dst_mac, 6);
	memcpy(out + 6, s->src_mac, 6);
	off = 12;
	if (s->vlan_tpid) {
		put16(out + off, s->vlan_tpid);
		put16(out + off + 2, 0x2064); /* PCP 1, VID 100 */
		off += 4;
	}
	put16(out + off, s->family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = off;

	if (s->family == 4) {
		ip_hlen = s->ip_options ? 24 : 20;
		memset(out + l3, 0, ip_hlen);
		out[l3] = (uint8_t)(0x40 | (ip_hlen / 4));
		out[l3 + 1] = 0x28;                        /* tos */
		put16(out + l3 + 2, (uint16_t)(ip_hlen + udp_len + s->ip_len_delta));
		put16(out + l3 + 4, 0x1234);               /* id */
		put16(out + l3 + 6, s->frag_off);
		out[l3 + 8] = s->ttl;
		out[l3 + 9] = s->ip_proto;
		memcpy(out + l3 + 12, s->src_ip, 4);
		memcpy(out + l3 + 16, s->dst_ip, 4);
		if (s->ip_options)
			memset(out + l3 + 20, 1, 4);       /* NOPs */
		put16(out + l3 + 10, fold16(sum16(out + l3, ip_hlen, 0)));
		l4 = l3 + ip_hlen;
	} else {
		size_t ext = s->v6_hopopts ? 8 : 0;

		out[l3] = 0x60 | 0x0a;                     /* tclass 0xa1 */
		out[l3 + 1] = 0x11;
		out[l3 + 2] = 0x23;                        /* flow 0x12345 */
		out[l3 + 3] = 0x45;
		put16(out + l3 + 4, (uint16_t)(ext + udp_len + s->ip_len_delta));
		out[l3 + 6] = s->v6_hopopts ? 0 : s->ip_proto;
		out[l3 + 7] = s->ttl;
		memcpy(out + l3 + 8, s->src_ip, 16);
		memcpy(out + l3 + 24, s->dst_ip, 16);
		l4 = l3 + 40;
		if (ext) {
			uint8_t hbh[8] = { 17, 0, 1, 4, 0, 0, 0, 0 }; /* PadN */

			memcpy(out + l4, hbh, 8);
			l4 += 8;
		}
	}

	udp = out + l4;
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
	put16(udp + 4, (uint16_t)(udp_len + s->udp_len_delta));
	put16(udp + 6, 0);
	memcpy(udp + 8, s->payload, s->plen);
	if (!(s->family == 4 && s->udp_csum_zero))
		put16(udp + 6, udp_checksum(s->family, s->src_ip, s->dst_ip,
					    udp, udp_len));
	return l4 + udp_len;
}

static void spec_init(struct fspec *s, int family, const uint8_t *payload,
		      size_t plen)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	memcpy(s->dst_mac, mac_self, 6);
	memcpy(s->src_mac, mac_peer, 6);
	if (family == 4) {
		inet_pton(AF_INET, IP4_SRC, s->src_ip);
		inet_pton(AF_INET, IP4_DST, s->dst_ip);
	} else {
		inet_pton(AF_INET6, IP6_SRC, s->src_ip);
		inet_pton(AF_INET6, IP6_DST, s->dst_ip);
	}
	s->sport = 40001;
	s->dport = PORT;
	s->ttl = 7;
	s->ip_proto = 17;
	s->payload = payload;
	s->plen = plen;
}

/* The frame the program must send back for a PING built from s. */
/* The frame the program sends back for a PING: an ACK, or the NACK of a
 * hung agent (type, flags). */
static size_t expected_reply(const struct fspec *ping,
			     const struct xg_probe_msg *pm, uint8_t type,
			     uint8_t flags, uint8_t *out)
{
	struct xg_probe_msg am = *pm;
	uint8_t payload[sizeof(struct xg_probe)];
	struct fspec s = *ping;

	am.type = type;
	am.flags = flags;
	am.key_id = PRIMARY_ID;
	am.sender_id = pm->target_id;
	am.target_id = pm->sender_id;
	assert_int_equal(xg_probe_encode(&am, key_primary, payload, sizeof(payload)),
			 (ssize_t)sizeof(payload));
	memcpy(s.dst_mac, ping->src_mac, 6);
	memcpy(s.src_mac, ping->dst_mac, 6);
	memcpy(s.dst_ip, ping->src_ip, 16);
	memcpy(s.src_ip, ping->dst_ip, 16);
	s.sport = ping->dport;
	s.dport = ping->sport;
	s.ttl = 64;
	s.udp_csum_zero = false;
	s.payload = payload;
	s.plen = sizeof(payload);
	return build_frame(&s, out);
}

static size_t expected_ack(const struct fspec *ping, const struct xg_probe_msg *pm,
			   uint8_t *out)
{
	return expected_reply(ping, pm, XG_T_ACK, 0, out);
}

static void ping_msg(struct xg_probe_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = XG_T_PING;
	m->flags = XG_F_SUSPECTED;
	m->key_id = PRIMARY_ID;
	m->cluster_id = CLUSTER;
	m->seq = 0x01020304;
	m->sender_id = PEER_ID;
	m->target_id = SELF_ID;
	m->ts_ns = 0x1122334455667788ULL;
}

static void encode_ping(const struct xg_probe_msg *m, const uint8_t *key,
			uint8_t out[sizeof(struct xg_probe)])
{
	assert_int_equal(xg_probe_encode(m, key, out, sizeof(struct xg_probe)),
			 (ssize_t)sizeof(struct xg_probe));
}

/* --- running the program ------------------------------------------------- */

struct run {
	int      verdict;
	uint8_t  out[512];
	uint32_t out_len;
	struct xg_bpf_stats delta;
};

static void run_frame(const uint8_t *frame, size_t len, struct run *r)
{
	struct xg_bpf_stats before, after;
	__u64 *b = (__u64 *)&before, *a = (__u64 *)&after, *d = (__u64 *)&r->delta;
	size_t i;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = (__u32)len,
		    .data_out = r->out,
		    .data_size_out = sizeof(r->out),
		    .repeat = 1);

	read_stats(&before);
	assert_int_equal(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	read_stats(&after);
	r->verdict = (int)opts.retval;
	r->out_len = opts.data_size_out;
	for (i = 0; i < sizeof(before) / sizeof(__u64); i++)
		d[i] = a[i] - b[i];
}

#define STAT_OFF(field) offsetof(struct xg_bpf_stats, field)

static __u64 stat_at(const struct xg_bpf_stats *s, size_t off)
{
	return *(const __u64 *)((const uint8_t *)s + off);
}

/* Exactly one outcome counter moved, the one expected, by one; rx and the
 * verdict counters agree with the verdict. */
static void check_outcome(const struct run *r, int verdict, size_t outcome_off)
{
	const size_t first = STAT_OFF(not_ours), last = STAT_OFF(other_type);
	size_t off;

	assert_int_equal(r->verdict, verdict);
	assert_int_equal(r->delta.rx, 1);
	for (off = first; off <= last; off += sizeof(__u64))
		assert_int_equal(stat_at(&r->delta, off), off == outcome_off);
	assert_int_equal(r->delta.passed, verdict == XDP_PASS);
	assert_int_equal(r->delta.dropped, verdict == XDP_DROP);
	assert_int_equal(r->delta.tx, verdict == XDP_TX);
}

static void check_unchanged(const struct run *r, const uint8_t *in, size_t len)
{
	assert_int_equal(r->out_len, len);
	assert_memory_equal(r->out, in, len);
}

/* --- PING answered ------------------------------------------------------- */

struct ping_case {
	const char *name;
	int         family;
	uint16_t    vlan;
	bool        csum_zero;
	bool        secondary;
	const char *bind4, *bind6; /* NULL: wildcard sockets */
};

static const struct ping_case answered[] = {
	{ "ack_ipv4", 4, 0, false, false, NULL, NULL },
	{ "ack_ipv4_no_udp_csum", 4, 0, true, false, NULL, NULL },
	{ "ack_ipv4_vlan_8021q", 4, 0x8100, false, false, NULL, NULL },
	{ "ack_ipv4_vlan_8021ad", 4, 0x88a8, false, false, NULL, NULL },
	{ "ack_ipv6", 6, 0, false, false, NULL, NULL },
	{ "ack_ipv6_vlan_8021q", 6, 0x8100, false, false, NULL, NULL },
	{ "ack_ipv4_secondary_key", 4, 0, false, true, NULL, NULL },
	{ "ack_ipv6_secondary_key", 6, 0x8100, false, true, NULL, NULL },
	{ "ack_ipv4_agent_bound_to_address", 4, 0, false, false, IP4_DST, NULL },
	{ "ack_ipv6_agent_bound_to_address", 6, 0, false, false, NULL, IP6_DST },
};

static void test_ping_answered(void **state)
{
	const struct ping_case *c = *state;
	uint8_t payload[sizeof(struct xg_probe)], in[256], want[256];
	struct xg_probe_msg m, back;
	struct fspec s;
	struct run r;
	size_t len, wlen;

	baseline();
	if (c->bind4 || c->bind6) {
		close_sockets();
		if (c->bind4)
			sock4 = bind_udp(4, c->bind4);
		if (c->bind6)
			sock6 = bind_udp(6, c->bind6);
	}
	ping_msg(&m);
	encode_ping(&m, c->secondary ? key_secondary : key_primary, payload);
	spec_init(&s, c->family, payload, sizeof(payload));
	s.vlan_tpid = c->vlan;
	s.udp_csum_zero = c->csum_zero;
	len = build_frame(&s, in);
	wlen = expected_ack(&s, &m, want);

	run_frame(in, len, &r);
	check_outcome(&r, XDP_TX, STAT_OFF(ping_answered));
	assert_int_equal(r.delta.mac_secondary, c->secondary ? 1 : 0);
	assert_int_equal(r.out_len, wlen);
	assert_memory_equal(r.out, want, wlen);

	/* And the prober's decoder accepts it as our ACK. */
	assert_int_equal(xg_probe_decode(r.out + wlen - sizeof(struct xg_probe),
					 sizeof(struct xg_probe), key_primary,
					 NULL, &back), 0);
	assert_int_equal(back.type, XG_T_ACK);
	assert_true(back.sender_id == SELF_ID && back.target_id == PEER_ID);
	assert_true(back.seq == m.seq && back.ts_ns == m.ts_ns);
	bind_wildcard();
}

/* A hung agent (its heartbeat older than the window): the PING is answered
 * with the target's own NACK flagged REFUSED, signed like an ACK, so the
 * prober stops waiting for an ACK that cannot come. */
static void test_ping_hung_nack(void **state)
{
	int family = *(const int *)*state;
	uint8_t payload[sizeof(struct xg_probe)], in[256], want[256];
	struct xg_probe_msg m, back;
	struct fspec s;
	struct run r;
	size_t len, wlen;

	baseline();
	/* A window of 1 us and a beat 1 s old, as for the fault cases. */
	put_config(1000, 1);
	put_heartbeat(mono_now() - 1000000000ULL);
	ping_msg(&m);
	encode_ping(&m, key_primary, payload);
	spec_init(&s, family, payload, sizeof(payload));
	len = build_frame(&s, in);
	wlen = expected_reply(&s, &m, XG_T_NACK, XG_F_REFUSED, want);

	run_frame(in, len, &r);
	check_outcome(&r, XDP_TX, STAT_OFF(ping_stale_heartbeat));
	assert_int_equal(r.out_len, wlen);
	assert_memory_equal(r.out, want, wlen);
	assert_int_equal(xg_probe_decode(r.out + wlen - sizeof(struct xg_probe),
					 sizeof(struct xg_probe), key_primary,
					 NULL, &back), 0);
	assert_int_equal(back.type, XG_T_NACK);
	assert_int_equal(back.flags, XG_F_REFUSED);
	assert_true(back.sender_id == SELF_ID && back.target_id == PEER_ID);
	assert_true(back.seq == m.seq && back.ts_ns == m.ts_ns);
}

/* --- PINGs not answered -------------------------------------------------- */

enum ping_fault {
	F_BAD_MAC,
	F_UNKNOWN_KEY,
	F_OTHER_CLUSTER,
	F_OTHER_TARGET,
	F_STALE_HEARTBEAT,
	F_ZERO_HEARTBEAT,
	F_FUTURE_HEARTBEAT,
	F_NO_SOCKET,
	F_SOCKET_OTHER_ADDR,
	F_NO_KEY,
	F_MCAST_MAC,
	F_MCAST_IP,
	F_WRONG_PORT,
	F_IP_OPTIONS,
	F_FRAG_MF,
	F_FRAG_OFFSET,
	F_V6_EXT,
	F_BAD_MAGIC,
	F_BAD_VERSION,
	F_HDR_LEN,
	F_UDP_LEN_MISMATCH,
	F_NOT_UDP,
	F_NOT_CONFIGURED,
};

struct fault_case {
	const char     *name;
	int             family;
	enum ping_fault fault;
	int             verdict;
	size_t          outcome;
};

static const struct fault_case faults[] = {
	{ "bad_mac_v4", 4, F_BAD_MAC, XDP_DROP, STAT_OFF(bad_mac) },
	{ "bad_mac_v6", 6, F_BAD_MAC, XDP_DROP, STAT_OFF(bad_mac) },
	{ "unknown_key_v4", 4, F_UNKNOWN_KEY, XDP_DROP, STAT_OFF(bad_mac) },
	{ "other_cluster_v4", 4, F_OTHER_CLUSTER, XDP_DROP, STAT_OFF(other_cluster) },
	{ "other_cluster_v6", 6, F_OTHER_CLUSTER, XDP_DROP, STAT_OFF(other_cluster) },
	{ "other_target_v4", 4, F_OTHER_TARGET, XDP_PASS, STAT_OFF(ping_other_target) },
	{ "other_target_v6", 6, F_OTHER_TARGET, XDP_PASS, STAT_OFF(ping_other_target) },
	{ "zero_heartbeat_v4", 4, F_ZERO_HEARTBEAT, XDP_PASS, STAT_OFF(ping_stale_heartbeat) },
	{ "future_heartbeat_v4", 4, F_FUTURE_HEARTBEAT, XDP_PASS, STAT_OFF(ping_stale_heartbeat) },
	{ "no_socket_v4", 4, F_NO_SOCKET, XDP_PASS, STAT_OFF(ping_no_socket) },
	{ "no_socket_v6", 6, F_NO_SOCKET, XDP_PASS, STAT_OFF(ping_no_socket) },
	{ "socket_on_other_addr_v4", 4, F_SOCKET_OTHER_ADDR, XDP_PASS, STAT_OFF(ping_no_socket) },
	{ "socket_on_other_addr_v6", 6, F_SOCKET_OTHER_ADDR, XDP_PASS, STAT_OFF(ping_no_socket) },
	{ "no_key_loaded_v4", 4, F_NO_KEY, XDP_PASS, STAT_OFF(ping_no_key) },
	{ "multicast_mac_v4", 4, F_MCAST_MAC, XDP_PASS, STAT_OFF(ping_not_unicast) },
	{ "multicast_ip_v4", 4, F_MCAST_IP, XDP_PASS, STAT_OFF(ping_not_unicast) },
	{ "multicast_ip_v6", 6, F_MCAST_IP, XDP_PASS, STAT_OFF(ping_not_unicast) },
	{ "wrong_port_v4", 4, F_WRONG_PORT, XDP_PASS, STAT_OFF(not_ours) },
	{ "wrong_port_v6", 6, F_WRONG_PORT, XDP_PASS, STAT_OFF(not_ours) },
	{ "ipv4_options", 4, F_IP_OPTIONS, XDP_PASS, STAT_OFF(ip_unsupported) },
	{ "ipv4_more_fragments", 4, F_FRAG_MF, XDP_PASS, STAT_OFF(ip_unsupported) },
	{ "ipv4_fragment_offset", 4, F_FRAG_OFFSET, XDP_PASS, STAT_OFF(ip_unsupported) },
	{ "ipv6_extension_header", 6, F_V6_EXT, XDP_PASS, STAT_OFF(ip_unsupported) },
	{ "bad_magic_v4", 4, F_BAD_MAGIC, XDP_PASS, STAT_OFF(bad_header) },
	{ "bad_version_v6", 6, F_BAD_VERSION, XDP_PASS, STAT_OFF(bad_header) },
	{ "ping_header_len_v4", 4, F_HDR_LEN, XDP_PASS, STAT_OFF(ping_malformed) },
	{ "udp_len_mismatch_v4", 4, F_UDP_LEN_MISMATCH, XDP_PASS, STAT_OFF(not_ours) },
	{ "udp_len_mismatch_v6", 6, F_UDP_LEN_MISMATCH, XDP_PASS, STAT_OFF(not_ours) },
	{ "not_udp_v4", 4, F_NOT_UDP, XDP_PASS, STAT_OFF(not_ours) },
	{ "not_configured_v4", 4, F_NOT_CONFIGURED, XDP_PASS, STAT_OFF(not_ours) },
};

/* Re-sign a raw probe after editing it, so only the edited field is
 * wrong (the userspace encoder refuses to write bad headers). */
static void resign(uint8_t p[sizeof(struct xg_probe)], const uint8_t *key)
{
	xg_mac_store(p + offsetof(struct xg_probe, mac),
		     xg_siphash24(key, p, offsetof(struct xg_probe, mac)));
}

static void test_ping_fault(void **state)
{
	const struct fault_case *c = *state;
	uint8_t payload[sizeof(struct xg_probe)], in[256];
	struct xg_probe_msg m;
	struct fspec s;
	struct run r;
	size_t len;

	baseline();
	ping_msg(&m);
	if (c->fault == F_OTHER_CLUSTER)
		m.cluster_id = CLUSTER + 1;
	if (c->fault == F_OTHER_TARGET)
		m.target_id = OTHER_ID;
	encode_ping(&m, c->fault == F_UNKNOWN_KEY ? key_unknown : key_primary,
		    payload);
	spec_init(&s, c->family, payload, sizeof(payload));

	switch (c->fault) {
	case F_BAD_MAC:
		payload[sizeof(payload) - 1] ^= 0x01;
		break;
	case F_STALE_HEARTBEAT:
		/* A window of 1 us and a beat 1 s old: stale however fast
		 * or slow this machine is. */
		put_config(1000, 1);
		put_heartbeat(mono_now() - 1000000000ULL);
		break;
	case F_ZERO_HEARTBEAT:
		put_heartbeat(0);
		break;
	case F_FUTURE_HEARTBEAT:
		put_heartbeat(mono_now() + HOUR_NS / 2);
		break;
	case F_NO_SOCKET:
		close_sockets();
		break;
	case F_SOCKET_OTHER_ADDR:
		close_sockets();
		sock4 = bind_udp(4, "198.18.0.9");
		sock6 = bind_udp(6, "fd00:198:18::9");
		break;
	case F_NO_KEY:
		put_keys(1, NULL, NULL);
		break;
	case F_MCAST_MAC:
		memcpy(s.dst_mac, mac_mcast, 6);
		break;
	case F_MCAST_IP:
		if (c->family == 4)
			inet_pton(AF_INET, "224.0.0.251", s.dst_ip);
		else
			inet_pton(AF_INET6, "ff02::fb", s.dst_ip);
		break;
	case F_WRONG_PORT:
		s.dport = PORT + 1;
		break;
	case F_IP_OPTIONS:
		s.ip_options = true;
		break;
	case F_FRAG_MF:
		s.frag_off = 0x2000;
		break;
	case F_FRAG_OFFSET:
		s.frag_off = 0x0010;
		break;
	case F_V6_EXT:
		s.v6_hopopts = true;
		break;
	case F_BAD_MAGIC:
		payload[0] ^= 0xff;
		resign(payload, key_primary);
		break;
	case F_BAD_VERSION:
		payload[2] = XG_VERSION + 1;
		resign(payload, key_primary);
		break;
	case F_HDR_LEN:
		payload[7] = sizeof(struct xg_probe) + 8;
		resign(payload, key_primary);
		break;
	case F_UDP_LEN_MISMATCH:
		s.udp_len_delta = -2;
		break;
	case F_NOT_UDP:
		s.ip_proto = 6;
		break;
	case F_NOT_CONFIGURED: {
		/* What a freshly loaded program sees before the loader
		 * writes its config. */
		struct xg_bpf_config z = { 0 };
		__u32 zero = 0;

		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xg_config),
						     &zero, &z, BPF_ANY), 0);
		break;
	}
	default:
		break;
	}
	len = build_frame(&s, in);
	run_frame(in, len, &r);
	check_outcome(&r, c->verdict, c->outcome);
	check_unchanged(&r, in, len);
	bind_wildcard();
}

/* --- truncation ---------------------------------------------------------- */

/* A valid PING cut at every length from the end of the Ethernet header to
 * one byte short: never answered, never dropped, never modified (the IP
 * and UDP lengths then claim more than the frame holds). */
static void truncated_ping(int family, uint16_t vlan)
{
	uint8_t payload[sizeof(struct xg_probe)], in[256];
	struct xg_probe_msg m;
	struct fspec s;
	struct run r;
	size_t len, cut;

	baseline();
	ping_msg(&m);
	encode_ping(&m, key_primary, payload);
	spec_init(&s, family, payload, sizeof(payload));
	s.vlan_tpid = vlan;
	len = build_frame(&s, in);
	for (cut = 14; cut < len; cut++) {
		run_frame(in, cut, &r);
		if (r.verdict != XDP_PASS || r.delta.not_ours != 1)
			fail_msg("cut at %zu of %zu: verdict %d", cut, len,
				 r.verdict);
		check_unchanged(&r, in, cut);
	}
}

static void test_truncated_v4(void **state)
{
	(void)state;
	truncated_ping(4, 0);
}

static void test_truncated_v6(void **state)
{
	(void)state;
	truncated_ping(6, 0);
}

static void test_truncated_vlan(void **state)
{
	(void)state;
	truncated_ping(4, 0x8100);
	truncated_ping(6, 0x88a8);
}

/* Short UDP payloads whose IP and UDP lengths agree with the frame: the
 * program must stop at each of its own boundaries (common header, probe). */
static void test_short_payloads(void **state)
{
	static const struct {
		size_t plen;
		size_t outcome;
	} cuts[] = {
		{ 0, STAT_OFF(bad_header) },
		{ 1, STAT_OFF(bad_header) },
		{ sizeof(struct xg_hdr) - 1, STAT_OFF(bad_header) },
		{ sizeof(struct xg_hdr), STAT_OFF(ping_malformed) },
		{ sizeof(struct xg_probe) - 1, STAT_OFF(ping_malformed) },
		{ sizeof(struct xg_probe) + 1, STAT_OFF(ping_malformed) },
	};
	uint8_t payload[sizeof(struct xg_probe) + 8] = { 0 }, in[256];
	struct xg_probe_msg m;
	struct fspec s;
	struct run r;
	size_t i, len;
	int fam;

	(void)state;
	baseline();
	ping_msg(&m);
	encode_ping(&m, key_primary, payload);
	for (fam = 4; fam <= 6; fam += 2) {
		for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			spec_init(&s, fam, payload, cuts[i].plen);
			len = build_frame(&s, in);
			run_frame(in, len, &r);
			check_outcome(&r, XDP_PASS, cuts[i].outcome);
			check_unchanged(&r, in, len);
		}
	}
}

/* --- other traffic ------------------------------------------------------- */

static void test_not_ip(void **state)
{
	uint8_t arp[60] = { 0 };
	struct run r;

	(void)state;
	baseline();
	memset(arp, 0xff, 6);
	memcpy(arp + 6, mac_peer, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	run_frame(arp, sizeof(arp), &r);
	check_outcome(&r, XDP_PASS, STAT_OFF(not_ours));
	check_unchanged(&r, arp, sizeof(arp));
}

static void test_other_types_pass(void **state)
{
	static const uint8_t types[] = { XG_T_ACK, XG_T_NACK, XG_T_PING_REQ,
					 XG_T_GOSSIP, XG_T_STATE, XG_T_PUSH_ACK,
					 XG_T_PULL_REQUEST, XG_T_PULL_RESPONSE };
	uint8_t payload[sizeof(struct xg_probe)], in[256];
	struct xg_probe_msg m;
	struct fspec s;
	struct run r;
	size_t i, len;

	(void)state;
	baseline();
	ping_msg(&m);
	for (i = 0; i < sizeof(types); i++) {
		encode_ping(&m, key_primary, payload);
		payload[3] = types[i];
		resign(payload, key_primary);
		spec_init(&s, i & 1 ? 6 : 4, payload, sizeof(payload));
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_PASS, STAT_OFF(other_type));
		check_unchanged(&r, in, len);
	}
}

/* --- seen message ids ---------------------------------------------------- */

static size_t build_msg(uint8_t type, const uint8_t id[16], uint8_t *out,
			size_t body)
{
	size_t len = sizeof(struct xg_msg_hdr) + body + XG_MAC_LEN;

	memset(out, 0, len);
	put16(out, XG_MAGIC);
	out[2] = XG_VERSION;
	out[3] = type;
	put16(out + 6, (uint16_t)len);
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(CLUSTER >> (56 - 8 * i));
	memcpy(out + offsetof(struct xg_msg_hdr, msg_id), id, 16);
	memset(out + sizeof(struct xg_msg_hdr), 0x5a, body);
	return len;
}

static void seen_put(const uint8_t id[16])
{
	struct xg_bpf_seen_key k;
	__u64 when = mono_now();

	memcpy(k.id, id, 16);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.xg_seen),
					     &k, &when, BPF_ANY), 0);
}

static void test_seen_ids(void **state)
{
	static const uint8_t seen_id[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
					     5, 6, 7, 8, 9, 10, 11, 12 };
	static const uint8_t new_id[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
					    5, 6, 7, 8, 9, 10, 11, 13 };
	uint8_t msg[256], in[400];
	struct fspec s;
	struct run r;
	size_t mlen, len;
	int fam;

	(void)state;
	baseline();
	seen_put(seen_id);
	for (fam = 4; fam <= 6; fam += 2) {
		/* PUSH and PULL_SYNC with a seen id: dropped. */
		mlen = build_msg(XG_T_PUSH, seen_id, msg, 100);
		spec_init(&s, fam, msg, mlen);
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_DROP, STAT_OFF(dup_dropped));

		mlen = build_msg(XG_T_PULL_SYNC, seen_id, msg, 0);
		spec_init(&s, fam, msg, mlen);
		s.vlan_tpid = 0x8100;
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_DROP, STAT_OFF(dup_dropped));

		/* An id one bit away: passed. */
		mlen = build_msg(XG_T_PUSH, new_id, msg, 100);
		spec_init(&s, fam, msg, mlen);
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_PASS, STAT_OFF(msg_unknown));
		check_unchanged(&r, in, len);

		/* A PUSH too short to hold an id: passed for userspace to
		 * reject. */
		mlen = build_msg(XG_T_PUSH, seen_id, msg, 0);
		spec_init(&s, fam, msg, sizeof(struct xg_msg_hdr) - 1);
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_PASS, STAT_OFF(msg_malformed));

		/* Other types with a seen id at the same offset are not
		 * subject to the seen map. */
		mlen = build_msg(XG_T_PULL_REQUEST, seen_id, msg, 0);
		spec_init(&s, fam, msg, mlen);
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_PASS, STAT_OFF(other_type));

		/* A dup of another cluster is the cluster's business. */
		mlen = build_msg(XG_T_PUSH, seen_id, msg, 10);
		msg[15] ^= 1;
		spec_init(&s, fam, msg, mlen);
		len = build_frame(&s, in);
		run_frame(in, len, &r);
		check_outcome(&r, XDP_DROP, STAT_OFF(other_cluster));
	}
}

/* The program may not write the maps the agent owns: the verifier must
 * have seen them as read-only. */
static void test_agent_maps_read_only_to_program(void **state)
{
	struct bpf_map *maps[] = { skel->maps.xg_config, skel->maps.xg_keys,
				   skel->maps.xg_seen };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		assert_true(bpf_map__map_flags(maps[i]) & BPF_F_RDONLY_PROG);
	assert_false(bpf_map__map_flags(skel->maps.xg_stats) & BPF_F_RDONLY_PROG);
	/* The heartbeat is mapped writable by the agent, which the kernel
	 * allows only without BPF_F_RDONLY_PROG. */
	assert_false(bpf_map__map_flags(skel->maps.xg_heartbeat) & BPF_F_RDONLY_PROG);
}

/* --- the buddy notice ---------------------------------------------------- */

static __u64 suspected_pings(void)
{
	struct xg_bpf_notice n;
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.xg_notice),
					     &zero, &n), 0);
	return n.suspected_pings;
}

static void run_ping(uint8_t flags, struct run *r)
{
	uint8_t payload[sizeof(struct xg_probe)], in[256];
	struct xg_probe_msg m;
	struct fspec s;
	size_t len;

	ping_msg(&m);
	m.flags = flags;
	encode_ping(&m, key_primary, payload);
	spec_init(&s, 4, payload, sizeof(payload));
	len = build_frame(&s, in);
	run_frame(in, len, r);
}

/* A PING flagged XG_F_SUSPECTED that the kernel answers must still reach
 * the agent as news (Lifeguard's buddy system): the program counts it in
 * xg_notice.  Unflagged PINGs, and flagged ones it passes up (the agent
 * sees those itself), do not count. */
static void test_suspected_notice(void **state)
{
	struct run r;
	__u64 before;

	(void)state;
	baseline();
	before = suspected_pings();
	run_ping(XG_F_SUSPECTED, &r);
	check_outcome(&r, XDP_TX, STAT_OFF(ping_answered));
	assert_int_equal(suspected_pings(), before + 1);
	/* The ACK carries no flag. */
	assert_int_equal(r.out[r.out_len - sizeof(struct xg_probe) +
			       offsetof(struct xg_hdr, flags)], 0);

	run_ping(0, &r);
	check_outcome(&r, XDP_TX, STAT_OFF(ping_answered));
	assert_int_equal(suspected_pings(), before + 1);

	put_heartbeat(0);
	run_ping(XG_F_SUSPECTED, &r);
	check_outcome(&r, XDP_PASS, STAT_OFF(ping_stale_heartbeat));
	assert_int_equal(suspected_pings(), before + 1);

	/* The agent maps both the notice and the heartbeat. */
	assert_true(bpf_map__map_flags(skel->maps.xg_notice) & BPF_F_MMAPABLE);
	assert_false(bpf_map__map_flags(skel->maps.xg_notice) & BPF_F_RDONLY_PROG);
	assert_true(bpf_map__map_flags(skel->maps.xg_heartbeat) & BPF_F_MMAPABLE);
}

/* --- setup --------------------------------------------------------------- */

static void skip_all(const char *why)
{
	printf("SKIP: test_bpf_xdp: %s\n", why);
	fflush(stdout);
	exit(77);
}

static void bpf_or_skip(void)
{
	struct xdp_pass_bpf *pass;

	if (geteuid() != 0)
		skip_all("needs root (BPF_PROG_TEST_RUN, sockets in a private netns)");
	if (unshare(CLONE_NEWNET) < 0) {
		char why[128];

		snprintf(why, sizeof(why), "cannot create a network namespace: %s",
			 strerror(errno));
		skip_all(why);
	}
	if (!getenv("XG_LIBBPF_LOG"))
		libbpf_set_print(NULL);
	/* A trivial XDP program tells "no BPF here" apart from "the
	 * verifier rejects xgossip": only the former is a skip. */
	pass = xdp_pass_bpf__open_and_load();
	if (!pass) {
		char why[128];

		snprintf(why, sizeof(why), "this kernel cannot load XDP programs: %s",
			 strerror(errno));
		skip_all(why);
	}
	xdp_pass_bpf__destroy(pass);

	skel = xgossip_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "FAIL: xgossip.bpf.o did not load (%s); "
			"rerun with XG_LIBBPF_LOG=1 for the verifier log\n",
			strerror(errno));
		exit(1);
	}
	prog_fd = bpf_program__fd(skel->progs.xgossip_xdp);
}

static int group_teardown(void **state)
{
	(void)state;
	close_sockets();
	xgossip_bpf__destroy(skel);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	bind_wildcard();
	return 0;
}

#define N_ANSWERED (sizeof(answered) / sizeof(answered[0]))
#define N_FAULTS   (sizeof(faults) / sizeof(faults[0]))

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_truncated_v4),
		cmocka_unit_test(test_truncated_v6),
		cmocka_unit_test(test_truncated_vlan),
		cmocka_unit_test(test_short_payloads),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_other_types_pass),
		cmocka_unit_test(test_seen_ids),
		cmocka_unit_test(test_agent_maps_read_only_to_program),
		cmocka_unit_test(test_suspected_notice),
	};
	static const int hung_v4 = 4, hung_v6 = 6;
	struct CMUnitTest tests[N_ANSWERED + N_FAULTS + 2 +
				sizeof(fixed) / sizeof(fixed[0])];
	size_t n = 0, i;

	bpf_or_skip();
	for (i = 0; i < N_ANSWERED; i++)
		tests[n++] = (struct CMUnitTest){ .name = answered[i].name,
						  .test_func = test_ping_answered,
						  .initial_state = (void *)&answered[i] };
	for (i = 0; i < N_FAULTS; i++)
		tests[n++] = (struct CMUnitTest){ .name = faults[i].name,
						  .test_func = test_ping_fault,
						  .initial_state = (void *)&faults[i] };
	tests[n++] = (struct CMUnitTest){ .name = "hung_nack_v4",
					  .test_func = test_ping_hung_nack,
					  .initial_state = (void *)&hung_v4 };
	tests[n++] = (struct CMUnitTest){ .name = "hung_nack_v6",
					  .test_func = test_ping_hung_nack,
					  .initial_state = (void *)&hung_v6 };
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("test_bpf_xdp", tests, n, group_setup,
				       group_teardown);
}
