/* Unit tests for the DNS answer cache (lib/dnsq.h, dnsq_cache_*): the TTL
 * rules (RFC 2308 for negative answers, a few seconds for failures,
 * nothing for timeouts), expiry, keys, the entry and byte bounds, answers
 * that outlive their eviction, many threads at once, and a struct dnsq
 * with a cache against a fake resolver on 127.0.0.1 that counts what it
 * is asked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsq.h"
#include "xalloc.h"

/* ---- building answers ---- */

/* A record from a zone line; the lines here are constant and valid, so a
 * failure is a broken test (abort() also works in the helper threads,
 * where cmocka's assertions do not). */
static ldns_rr *rr_new(const char *line)
{
	ldns_rr *rr = NULL;
	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK)
		abort();
	return rr;
}

/* A list of the records of 'lines' (NULL-terminated). */
static ldns_rr_list *rrs_new(const char *const *lines)
{
	ldns_rr_list *l = ldns_rr_list_new();
	for (; *lines; lines++)
		ldns_rr_list_push_rr(l, rr_new(*lines));
	return l;
}

/* A reply with 'answer' and 'authority' lines (either may be NULL). */
static ldns_pkt *pkt_new(ldns_pkt_rcode rcode, const char *const *answer,
                         const char *const *authority)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (; answer && *answer; answer++)
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr_new(*answer));
	for (; authority && *authority; authority++)
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr_new(*authority));
	return p;
}

static const char *const txt300[] = {"a.example. 300 IN TXT \"v=spf1 -all\"", NULL};
static const char *const soa[] = {
    "example. 900 IN SOA ns.example. host.example. 1 3600 600 86400 120", NULL};

/* ---- TTL rules ---- */

static void test_ttl_answer(void **state)
{
	(void)state;
	static const char *const two[] = {"a.example. 300 IN TXT \"x\"",
	                                  "a.example. 60 IN TXT \"y\"", NULL};
	static const char *const cname[] = {"a.example. 30 IN CNAME b.example.",
	                                    "b.example. 300 IN TXT \"x\"", NULL};
	static const char *const zero[] = {"a.example. 0 IN TXT \"x\"", NULL};
	static const char *const week[] = {"a.example. 604800 IN TXT \"x\"", NULL};
	ldns_rr_list *l = rrs_new(two);
	assert_int_equal(dnsq_cache_ttl(DNSQ_ANSWER, NULL, l), 60); /* the least */
	ldns_rr_list_deep_free(l);
	ldns_pkt *p = pkt_new(LDNS_RCODE_NOERROR, cname, NULL);
	l = rrs_new(cname + 1);
	assert_int_equal(dnsq_cache_ttl(DNSQ_ANSWER, p, l), 30); /* the CNAME's */
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(p);
	l = rrs_new(zero);
	assert_int_equal(dnsq_cache_ttl(DNSQ_ANSWER, NULL, l), 0);
	ldns_rr_list_deep_free(l);
	l = rrs_new(week);
	assert_int_equal(dnsq_cache_ttl(DNSQ_ANSWER, NULL, l), DNSQ_CACHE_MAX_TTL);
	ldns_rr_list_deep_free(l);
}

static void test_ttl_negative(void **state)
{
	(void)state;
	static const char *const soa_short[] = {
	    "example. 30 IN SOA ns.example. host.example. 1 3600 600 86400 120", NULL};
	static const char *const soa_long[] = {
	    "example. 90000 IN SOA ns.example. host.example. 1 3600 600 86400 90000", NULL};
	ldns_pkt *p = pkt_new(LDNS_RCODE_NXDOMAIN, NULL, soa);
	assert_int_equal(dnsq_cache_ttl(DNSQ_NXDOMAIN, p, NULL), 120); /* MINIMUM < TTL */
	assert_int_equal(dnsq_cache_ttl(DNSQ_NODATA, p, NULL), 120);
	ldns_pkt_free(p);
	p = pkt_new(LDNS_RCODE_NOERROR, NULL, soa_short);
	assert_int_equal(dnsq_cache_ttl(DNSQ_NODATA, p, NULL), 30); /* TTL < MINIMUM */
	ldns_pkt_free(p);
	p = pkt_new(LDNS_RCODE_NXDOMAIN, NULL, soa_long);
	assert_int_equal(dnsq_cache_ttl(DNSQ_NXDOMAIN, p, NULL), DNSQ_CACHE_MAX_NEGATIVE_TTL);
	ldns_pkt_free(p);
	p = pkt_new(LDNS_RCODE_NXDOMAIN, NULL, NULL); /* no SOA: not cached */
	assert_int_equal(dnsq_cache_ttl(DNSQ_NXDOMAIN, p, NULL), 0);
	ldns_pkt_free(p);
	assert_int_equal(dnsq_cache_ttl(DNSQ_NXDOMAIN, NULL, NULL), 0);
}

static void test_ttl_failures(void **state)
{
	(void)state;
	ldns_pkt *p = pkt_new(LDNS_RCODE_SERVFAIL, NULL, soa);
	assert_int_equal(dnsq_cache_ttl(DNSQ_SERVFAIL, p, NULL), DNSQ_CACHE_FAILURE_TTL);
	assert_int_equal(dnsq_cache_ttl(DNSQ_REFUSED, p, NULL), DNSQ_CACHE_FAILURE_TTL);
	assert_true(DNSQ_CACHE_FAILURE_TTL <= 5);
	assert_int_equal(dnsq_cache_ttl(DNSQ_TIMEOUT, p, NULL), 0);
	assert_int_equal(dnsq_cache_ttl(DNSQ_ERROR, p, NULL), 0);
	assert_int_equal(dnsq_cache_ttl(DNSQ_PENDING, p, NULL), 0);
	ldns_pkt_free(p);
}

/* ---- the table ---- */

/* Add an answer of 'lines' for 'name' at 'now'; 1 when it was kept. */
static int add_txt(struct dnsq_cache *c, const char *name, const char *const *lines, long long now)
{
	ldns_rr_list *l = rrs_new(lines);
	const struct dnsq_cached *e =
	    dnsq_cache_add(c, name, LDNS_RR_TYPE_TXT, 0, DNSQ_ANSWER, 1, NULL, &l, now);
	int kept = e != NULL;
	if (e) {
		assert_null(l);
		assert_int_equal(e->status, DNSQ_ANSWER);
		assert_int_equal(ldns_rr_list_rr_count(e->rrs), 1);
		dnsq_cache_drop(c, e);
	}
	ldns_rr_list_deep_free(l);
	return kept;
}

/* 1 when (name, TXT, cd 0) is cached at 'now'. */
static int has(struct dnsq_cache *c, const char *name, long long now)
{
	const struct dnsq_cached *e = dnsq_cache_get(c, name, LDNS_RR_TYPE_TXT, 0, now);
	dnsq_cache_drop(c, e);
	return e != NULL;
}

static void test_expiry_and_keys(void **state)
{
	(void)state;
	struct dnsq_cache *c = dnsq_cache_new(0, 0);
	struct dnsq_cache_stats st;
	assert_true(add_txt(c, "A.Example.", txt300, 1000));
	assert_true(has(c, "a.example", 1000));    /* no case, no final dot */
	assert_true(has(c, "A.EXAMPLE.", 300999)); /* 300 s later, less 1 ms */
	const struct dnsq_cached *e = dnsq_cache_get(c, "a.example", LDNS_RR_TYPE_TXT, 0, 1000);
	assert_non_null(e);
	assert_int_equal(e->ad, 1);
	dnsq_cache_drop(c, e);
	assert_null(dnsq_cache_get(c, "a.example", LDNS_RR_TYPE_A, 0, 1000));   /* type */
	assert_null(dnsq_cache_get(c, "a.example", LDNS_RR_TYPE_TXT, 1, 1000)); /* cd */
	assert_false(has(c, "b.example", 1000));
	assert_false(has(c, "a.example", 301000)); /* expired, and gone */
	dnsq_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.stores, 1);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 4);
	dnsq_cache_free(c);
}

static void test_negative_and_failures(void **state)
{
	(void)state;
	struct dnsq_cache *c = dnsq_cache_new(0, 0);
	ldns_pkt *p = pkt_new(LDNS_RCODE_NXDOMAIN, NULL, soa);
	const struct dnsq_cached *e =
	    dnsq_cache_add(c, "gone.example", LDNS_RR_TYPE_TXT, 0, DNSQ_NXDOMAIN, 0, p, NULL, 0);
	assert_non_null(e);
	assert_null(e->rrs);
	dnsq_cache_drop(c, e);
	ldns_pkt_free(p);
	e = dnsq_cache_get(c, "gone.example", LDNS_RR_TYPE_TXT, 0, 119999);
	assert_non_null(e);
	assert_int_equal(e->status, DNSQ_NXDOMAIN);
	dnsq_cache_drop(c, e);
	assert_false(has(c, "gone.example", 120000));

	p = pkt_new(LDNS_RCODE_SERVFAIL, NULL, NULL);
	e = dnsq_cache_add(c, "broken.example", LDNS_RR_TYPE_TXT, 0, DNSQ_SERVFAIL, 0, p, NULL, 0);
	dnsq_cache_drop(c, e);
	assert_true(has(c, "broken.example", DNSQ_CACHE_FAILURE_TTL * 1000 - 1));
	assert_false(has(c, "broken.example", DNSQ_CACHE_FAILURE_TTL * 1000));
	e = dnsq_cache_add(c, "slow.example", LDNS_RR_TYPE_TXT, 0, DNSQ_TIMEOUT, 0, p, NULL, 0);
	assert_null(e);
	assert_false(has(c, "slow.example", 0));
	ldns_pkt_free(p);

	static const char *const zero[] = {"z.example. 0 IN TXT \"x\"", NULL};
	assert_false(add_txt(c, "z.example", zero, 0)); /* TTL 0: used, not kept */
	assert_false(has(c, "z.example", 0));
	dnsq_cache_free(c);
}

static void test_lru_entries(void **state)
{
	(void)state;
	struct dnsq_cache *c = dnsq_cache_new(3, 0);
	struct dnsq_cache_stats st;
	assert_true(add_txt(c, "1.example", txt300, 0));
	assert_true(add_txt(c, "2.example", txt300, 0));
	assert_true(add_txt(c, "3.example", txt300, 0));
	assert_true(has(c, "1.example", 0)); /* 1 is now the most recent, 2 the least */
	assert_true(add_txt(c, "4.example", txt300, 0));
	assert_false(has(c, "2.example", 0));
	assert_true(has(c, "1.example", 0));
	assert_true(has(c, "3.example", 0));
	assert_true(has(c, "4.example", 0));
	assert_true(add_txt(c, "4.example", txt300, 0)); /* the same key again replaces */
	dnsq_cache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 1);
	dnsq_cache_free(c);
}

static void test_bytes_bound(void **state)
{
	(void)state;
	struct dnsq_cache_stats st;
	/* Room for a few small answers but not one large. */
	struct dnsq_cache *c = dnsq_cache_new(1000, 1200);
	char big[600];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 0;
	char *line =
	    xasprintf("big.example. 300 IN TXT \"%.250s\" \"%.250s\" \"%.250s\" \"%.250s\" "
	              "\"%.250s\" \"%.250s\"",
	              big, big, big, big, big, big);
	const char *const huge[] = {line, NULL};
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%d.example", i);
		assert_true(add_txt(c, name, txt300, 0));
		dnsq_cache_stats(c, &st);
		assert_true(st.bytes <= 1200);
	}
	assert_true(st.entries > 1 && st.entries < 20);
	assert_true(has(c, "n19.example", 0)); /* the newest stay */
	assert_false(has(c, "n0.example", 0));
	/* Larger than the whole budget: handed back usable, but not kept. */
	ldns_rr_list *l = rrs_new(huge);
	const struct dnsq_cached *e =
	    dnsq_cache_add(c, "big.example", LDNS_RR_TYPE_TXT, 0, DNSQ_ANSWER, 0, NULL, &l, 0);
	assert_non_null(e);
	assert_null(l);
	assert_int_equal(ldns_rr_list_rr_count(e->rrs), 1);
	assert_false(has(c, "big.example", 0));
	assert_true(has(c, "n19.example", 0)); /* and nothing was evicted for it */
	dnsq_cache_drop(c, e);
	free(line);
	dnsq_cache_free(c);
}

/* An answer evicted or expired while a query holds it stays readable. */
static void test_reference_outlives_eviction(void **state)
{
	(void)state;
	struct dnsq_cache *c = dnsq_cache_new(1, 0);
	assert_true(add_txt(c, "keep.example", txt300, 0));
	const struct dnsq_cached *e = dnsq_cache_get(c, "keep.example", LDNS_RR_TYPE_TXT, 0, 0);
	assert_non_null(e);
	assert_true(add_txt(c, "other.example", txt300, 0)); /* evicts keep.example */
	assert_false(has(c, "keep.example", 0));
	char *txt = ldns_rr2str(ldns_rr_list_rr(e->rrs, 0));
	assert_non_null(strstr(txt, "v=spf1 -all"));
	free(txt);
	dnsq_cache_drop(c, e);
	dnsq_cache_free(c);
}

/* ---- threads ---- */

#define THREADS 4
#define ROUNDS  2000

static void *hammer(void *arg)
{
	struct dnsq_cache *c = arg;
	for (int i = 0; i < ROUNDS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "h%d.example", i % 50);
		const struct dnsq_cached *e = dnsq_cache_get(c, name, LDNS_RR_TYPE_TXT, 0, i);
		if (e) {
			if (ldns_rr_list_rr_count(e->rrs) != 1)
				abort();
			dnsq_cache_drop(c, e);
			continue;
		}
		ldns_rr_list *l = rrs_new(txt300);
		e = dnsq_cache_add(c, name, LDNS_RR_TYPE_TXT, 0, DNSQ_ANSWER, 0, NULL, &l, i);
		dnsq_cache_drop(c, e);
		ldns_rr_list_deep_free(l);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct dnsq_cache *c = dnsq_cache_new(20, 0); /* fewer than the names: evictions too */
	pthread_t t[THREADS];
	struct dnsq_cache_stats st;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	dnsq_cache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, THREADS * ROUNDS);
	assert_true(st.entries <= 20);
	assert_true(st.hits > 0 && st.evictions > 0);
	dnsq_cache_free(c);
}

/* ---- a struct dnsq with a cache, against a fake resolver ---- */

struct resolver {
	int fd;
	struct dnsq_server server;
	int asked; /* queries received */
	int stop;
	pthread_t thread;
};

/* The reply to one query: TXT records at "txt.test." (TTL 300) and
 * "zero.test." (TTL 0), NXDOMAIN with an SOA for anything else. */
static ldns_pkt *reply_to(const ldns_pkt *q)
{
	const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	char *name = ldns_rdf2str(ldns_rr_owner(question));
	ldns_pkt *r = ldns_pkt_new();
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, 1);
	ldns_pkt_set_rd(r, 1);
	ldns_pkt_set_ra(r, 1);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
	if (!strcmp(name, "txt.test.")) {
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr_new("txt.test. 300 IN TXT \"hello\""));
	} else if (!strcmp(name, "zero.test.")) {
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr_new("zero.test. 0 IN TXT \"now\""));
	} else {
		ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		ldns_pkt_push_rr(
		    r, LDNS_SECTION_AUTHORITY,
		    rr_new("test. 300 IN SOA ns.test. host.test. 1 3600 600 86400 60"));
	}
	free(name);
	return r;
}

static void *serve(void *arg)
{
	struct resolver *s = arg;
	uint8_t buf[4096];
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n =
		    recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		ldns_pkt *q = NULL;
		if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
			continue;
		__atomic_add_fetch(&s->asked, 1, __ATOMIC_ACQ_REL);
		ldns_pkt *r = reply_to(q);
		uint8_t *wire = NULL;
		size_t len = 0;
		if (ldns_pkt2wire(&wire, r, &len) == LDNS_STATUS_OK)
			sendto(s->fd, wire, len, 0, (struct sockaddr *)&from, fromlen);
		free(wire);
		ldns_pkt_free(r);
		ldns_pkt_free(q);
	}
	return NULL;
}

static void resolver_start(struct resolver *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	struct mc_error err = {0};
	char spec[64];
	memset(s, 0, sizeof(*s));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(dnsq_server_parse(spec, &s->server, &err), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void resolver_stop(struct resolver *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static int asked(struct resolver *s)
{
	return __atomic_load_n(&s->asked, __ATOMIC_ACQUIRE);
}

/* One message's worth of DNS: a dnsq of its own over the shared cache. */
static void lookup(struct resolver *s, struct dnsq_cache *c, const char *name,
                   enum dnsq_status want, int want_cached)
{
	struct dnsq d;
	struct dnsq_answer a;
	dnsq_init(&d, &s->server);
	d.cache = c;
	dnsq_lookup_now(&d, name, LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(a.status, want);
	if (want == DNSQ_ANSWER) {
		assert_int_equal(ldns_rr_list_rr_count(a.rrs), 1);
		assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(a.rrs, 0)), LDNS_RR_TYPE_TXT);
	}
	assert_int_equal(d.v[0].cached, want_cached);
	dnsq_release(&d);
}

static void test_dnsq_uses_cache(void **state)
{
	(void)state;
	struct resolver s;
	struct dnsq_cache *c = dnsq_cache_new(0, 0);
	resolver_start(&s);

	lookup(&s, c, "txt.test", DNSQ_ANSWER, 0);
	assert_int_equal(asked(&s), 1);
	lookup(&s, c, "TXT.test.", DNSQ_ANSWER, 1); /* the next message: from the cache */
	assert_int_equal(asked(&s), 1);

	lookup(&s, c, "none.test", DNSQ_NXDOMAIN, 0); /* negative, with an SOA: kept */
	lookup(&s, c, "none.test", DNSQ_NXDOMAIN, 1);
	assert_int_equal(asked(&s), 2);

	lookup(&s, c, "zero.test", DNSQ_ANSWER, 0); /* TTL 0: asked every time */
	lookup(&s, c, "zero.test", DNSQ_ANSWER, 0);
	assert_int_equal(asked(&s), 4);

	lookup(&s, NULL, "txt.test", DNSQ_ANSWER, 0); /* no cache: asked */
	assert_int_equal(asked(&s), 5);

	resolver_stop(&s);
	dnsq_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ttl_answer),
	    cmocka_unit_test(test_ttl_negative),
	    cmocka_unit_test(test_ttl_failures),
	    cmocka_unit_test(test_expiry_and_keys),
	    cmocka_unit_test(test_negative_and_failures),
	    cmocka_unit_test(test_lru_entries),
	    cmocka_unit_test(test_bytes_bound),
	    cmocka_unit_test(test_reference_outlives_eviction),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_dnsq_uses_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
