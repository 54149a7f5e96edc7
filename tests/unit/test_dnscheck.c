/* Unit tests for the pure parts of the DNS check: SPF lookup counting and
 * check_host() over a fake zone (a table the lookup callback answers
 * from), DMARC parsing, expected-versus-found record comparison, and the
 * resolver address forms. The live check runs against real servers in
 * tests/integration/dns_check.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dnscheck.h"
#include "dnsq.h"
#include "xalloc.h"

/* ---- a fake zone ---- */

/* One answer: the records as zone lines, or a status without records. */
struct fake_rr {
	const char *name; /* absolute */
	const char *type;
	enum dnsq_status status; /* DNSQ_ANSWER when 'rr' is set */
	const char *rr[4];
};

struct fake {
	const struct fake_rr *zone;
	size_t n;
	ldns_rr_list *lists[64]; /* built answers, freed at the end */
	size_t nlists;
	int asked;           /* lookups made */
	int unknown_pending; /* names not in the zone: PENDING (1) or NXDOMAIN (0) */
};

static void fake_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct fake *f = ctx;
	f->asked++;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < f->n; i++) {
		const struct fake_rr *z = &f->zone[i];
		if (strcasecmp(z->name, name) || ldns_get_rr_type_by_name(z->type) != type)
			continue;
		if (!z->rr[0]) {
			out->status = z->status;
			return;
		}
		ldns_rr_list *l = ldns_rr_list_new();
		for (size_t j = 0; j < 4 && z->rr[j]; j++) {
			ldns_rr *rr = NULL;
			char *line = xasprintf("%s 300 IN %s %s", name, z->type, z->rr[j]);
			assert_int_equal(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL),
			                 LDNS_STATUS_OK);
			ldns_rr_list_push_rr(l, rr);
			free(line);
		}
		assert_true(f->nlists < 64);
		f->lists[f->nlists++] = l;
		out->status = DNSQ_ANSWER;
		out->rrs = l;
		return;
	}
	/* a name with no records of this type: NODATA if it has others */
	for (size_t i = 0; i < f->n; i++)
		if (!strcasecmp(f->zone[i].name, name)) {
			out->status = DNSQ_NODATA;
			return;
		}
	out->status = f->unknown_pending ? DNSQ_PENDING : DNSQ_NXDOMAIN;
}

static void fake_release(struct fake *f)
{
	for (size_t i = 0; i < f->nlists; i++)
		ldns_rr_list_deep_free(f->lists[i]);
	f->nlists = 0;
}

#define FAKE(z)                                                                                    \
	{                                                                                          \
		z, sizeof(z) / sizeof(z[0]), {0}, 0, 0, 0                                          \
	}

static const struct fake_rr basic[] = {
    {"example.org.", "MX", 0, {"10 mail.example.org."}},
    {"example.org.", "TXT", 0, {"\"v=spf1 mx -all\""}},
    {"mail.example.org.", "A", 0, {"192.0.2.10"}},
    {"mail.example.org.", "AAAA", 0, {"2001:db8::10"}},
    {"other.example.org.", "TXT", 0, {"\"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:1::/48 ~all\""}},
    {"neutral.example.org.", "TXT", 0, {"\"v=spf1 ?all\""}},
    {"redir.example.org.", "TXT", 0, {"\"v=spf1 redirect=example.org\""}},
    {"nospf.example.org.", "TXT", 0, {"\"google-site-verification=abc\""}},
    {"two.example.org.", "TXT", 0, {"\"v=spf1 -all\"", "\"v=spf1 +all\""}},
    {"broken.example.org.", "TXT", DNSQ_SERVFAIL, {NULL}},
    {"slow.example.org.", "TXT", DNSQ_TIMEOUT, {NULL}},
    {"loop1.example.org.", "TXT", 0, {"\"v=spf1 include:loop2.example.org -all\""}},
    {"loop2.example.org.", "TXT", 0, {"\"v=spf1 include:loop1.example.org -all\""}},
    {"empty.example.org.", "MX", DNSQ_NODATA, {NULL}},
};

/* ---- SPF: counting ---- */

static enum spf_result host(struct fake *f, const char *record, const char *ip);

/* check_host() of spf.c on 'record' as the SPF record of 'domain'. */
static enum spf_result host_at(struct fake *f, const char *domain, const char *record,
                               const char *ip)
{
	struct spf_request req = {.ip = ip, .helo = "mail.example.org", .sender = ""};
	struct spf_outcome o;
	spf_check_record(&req, domain, NULL, record, fake_lookup, f, &o);
	return o.result;
}

static void count(struct fake *f, const char *record, struct dnscheck_spf *out)
{
	dnscheck_spf_count("example.org", record, fake_lookup, f, out);
}

static void test_spf_count_basic(void **state)
{
	struct fake f = FAKE(basic);
	struct dnscheck_spf s;
	(void)state;
	count(&f, "v=spf1 mx ip4:192.0.2.10 ip6:2001:db8::10 -all", &s);
	assert_int_equal(s.lookups, 1);
	assert_int_equal(s.voids, 0);
	assert_int_equal(s.all, '-');
	assert_string_equal(s.problem, "");
	assert_int_equal(s.pending + s.tempfail, 0);
	/* a, mx, include, exists, ptr and redirect each cost one; ip4/ip6/all none */
	count(&f,
	      "v=spf1 a mx include:other.example.org exists:mail.example.org ptr "
	      "ip4:192.0.2.1 redirect=neutral.example.org",
	      &s);
	assert_int_equal(s.lookups, 6);
	assert_int_equal(s.has_redirect, 1);
	assert_int_equal(s.all, 0);
	count(&f, "v=spf1 +all", &s);
	assert_int_equal(s.all, '+');
	count(&f, "V=SPF1 ?ALL", &s);
	assert_int_equal(s.all, '?');
	fake_release(&f);
}

/* Lookups are counted through every include, recursively: a chain of 11
 * includes is 11, over the limit of 10. */
static void test_spf_count_chain(void **state)
{
	struct fake_rr zone[12];
	char names[12][32], texts[12][64];
	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "l%d.example.org.", i);
		if (i < 11)
			snprintf(texts[i], sizeof(texts[i]),
			         "\"v=spf1 include:l%d.example.org -all\"", i + 1);
		else
			snprintf(texts[i], sizeof(texts[i]), "\"v=spf1 -all\"");
		zone[i] = (struct fake_rr){names[i], "TXT", 0, {texts[i]}};
	}
	struct fake f = FAKE(zone);
	struct dnscheck_spf s;
	dnscheck_spf_count("l0.example.org", "v=spf1 include:l1.example.org -all", fake_lookup, &f,
	                   &s);
	assert_int_equal(s.lookups, 11);
	assert_true(s.lookups > SPF_MAX_LOOKUPS);
	assert_string_equal(s.problem, "");
	/* exactly at the limit: l2 -> ... -> l11 is 10 */
	dnscheck_spf_count("l1.example.org", "v=spf1 include:l2.example.org -all", fake_lookup, &f,
	                   &s);
	assert_int_equal(s.lookups, 10);
	/* and check_host() gives permerror past the limit when it has to go there */
	assert_int_equal(
	    host_at(&f, "l0.example.org", "v=spf1 include:l1.example.org -all", "192.0.2.10"),
	    SPF_PERMERROR);
	assert_int_equal(
	    host_at(&f, "l1.example.org", "v=spf1 include:l2.example.org -all", "192.0.2.10"),
	    SPF_FAIL);
	fake_release(&f);
}

static void test_spf_count_void_and_problems(void **state)
{
	struct fake f = FAKE(basic);
	struct dnscheck_spf s;
	(void)state;
	/* nxdomain include, no-MX domain, nxdomain a: three voids */
	count(&f, "v=spf1 include:gone.example.org mx:empty.example.org a:gone2.example.org -all",
	      &s);
	assert_int_equal(s.lookups, 3);
	assert_int_equal(s.voids, 3);
	assert_non_null(strstr(s.problem, "'include:gone.example.org' has no SPF record"));
	count(&f, "v=spf1 include:nospf.example.org -all", &s);
	assert_int_equal(s.voids, 0);
	assert_non_null(strstr(s.problem, "has no SPF record"));
	count(&f, "v=spf1 include:two.example.org -all", &s);
	assert_non_null(strstr(s.problem, "has 2 SPF records"));
	count(&f, "v=spf1 include:loop1.example.org -all", &s);
	assert_non_null(strstr(s.problem, "loops back"));
	count(&f, "v=spf1 foo:bar -all", &s);
	assert_non_null(strstr(s.problem, "unknown mechanism 'foo'"));
	count(&f, "v=spf1 ip4:300.1.2.3 -all", &s);
	assert_non_null(strstr(s.problem, "invalid address"));
	count(&f, "v=spf1 -redirect=example.org", &s);
	assert_non_null(strstr(s.problem, "invalid term"));
	count(&f, "v=spf1 ip4:192.0.2.0/33 -all", &s);
	assert_non_null(strstr(s.problem, "invalid prefix length in 'ip4:192.0.2.0/33'"));
	count(&f, "v=spf1 ip4:2001:db8::1 -all", &s);
	assert_non_null(strstr(s.problem, "invalid address"));
	count(&f, "v=spf1 include -all", &s);
	assert_non_null(strstr(s.problem, "'include' needs an argument"));
	count(&f, "v=spf1 -all:example.org", &s);
	assert_non_null(strstr(s.problem, "takes no argument"));
	assert_int_equal(host(&f, "v=spf1 exists -all", "192.0.2.10"), SPF_PERMERROR);
	/* failures are not voids: they are reported apart */
	count(&f, "v=spf1 include:broken.example.org include:slow.example.org -all", &s);
	assert_int_equal(s.tempfail, 2);
	assert_int_equal(s.voids, 0);
	assert_string_equal(s.problem, "");
	fake_release(&f);
}

/* Unknown answers come back PENDING: the caller asks again after a round. */
static void test_spf_pending(void **state)
{
	struct fake f = FAKE(basic);
	struct dnscheck_spf s;
	(void)state;
	f.unknown_pending = 1;
	count(&f, "v=spf1 include:later.example.org include:other.example.org -all", &s);
	assert_int_equal(s.pending, 1);
	assert_int_equal(s.lookups, 2);
	assert_int_equal(
	    host_at(&f, "example.org", "v=spf1 include:later.example.org -all", "192.0.2.10"),
	    SPF_PENDING);
	fake_release(&f);
}

/* ---- SPF: check_host() ---- */

static enum spf_result host(struct fake *f, const char *record, const char *ip)
{
	return host_at(f, "example.org", record, ip);
}

static void test_spf_host(void **state)
{
	struct fake f = FAKE(basic);
	(void)state;
	assert_int_equal(host(&f, "v=spf1 mx -all", "192.0.2.10"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 mx -all", "2001:db8::10"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 mx -all", "192.0.2.11"), SPF_FAIL);
	assert_int_equal(host(&f, "v=spf1 mx/24 -all", "192.0.2.11"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 a:mail.example.org ~all", "192.0.2.11"), SPF_SOFTFAIL);
	assert_int_equal(host(&f, "v=spf1 a:mail.example.org//64 -all", "2001:db8::99"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.200"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 ip4:192.0.2.0/25 -all", "192.0.2.200"), SPF_FAIL);
	assert_int_equal(host(&f, "v=spf1 ip6:2001:db8::/32 -all", "2001:db8:ffff::1"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 ip6:2001:db8::/32 -all", "192.0.2.1"), SPF_FAIL);
	/* include: pass matches; the included record's fail or neutral does not */
	assert_int_equal(host(&f, "v=spf1 include:other.example.org -all", "198.51.100.7"),
	                 SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 include:other.example.org -all", "192.0.2.10"), SPF_FAIL);
	assert_int_equal(host(&f, "v=spf1 include:neutral.example.org ?all", "192.0.2.10"),
	                 SPF_NEUTRAL);
	/* include of a domain without SPF is a permanent error */
	assert_int_equal(host(&f, "v=spf1 include:nospf.example.org -all", "192.0.2.10"),
	                 SPF_PERMERROR);
	assert_int_equal(host(&f, "v=spf1 include:broken.example.org -all", "192.0.2.10"),
	                 SPF_TEMPERROR);
	/* the first match wins */
	assert_int_equal(
	    host(&f, "v=spf1 ip4:192.0.2.10 include:broken.example.org -all", "192.0.2.10"),
	    SPF_PASS);
	/* redirect, and no match at all */
	assert_int_equal(host(&f, "v=spf1 redirect=example.org", "192.0.2.10"), SPF_PASS);
	assert_int_equal(host(&f, "v=spf1 ip4:198.51.100.1", "192.0.2.10"), SPF_NEUTRAL);
	assert_int_equal(host(&f, "v=spf1 redirect=gone.example.org", "192.0.2.10"), SPF_PERMERROR);
	assert_int_equal(host(&f, "v=spf1 exists:mail.example.org -all", "203.0.113.9"), SPF_PASS);
	assert_int_equal(host(&f, "not spf", "192.0.2.10"), SPF_PERMERROR);
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	fake_release(&f);
}

/* More than two void lookups is a permanent error (RFC 7208 4.6.4). */
static void test_spf_host_voids(void **state)
{
	struct fake f = FAKE(basic);
	(void)state;
	assert_int_equal(host(&f, "v=spf1 a:x1.example.org a:x2.example.org -all", "192.0.2.10"),
	                 SPF_FAIL);
	assert_int_equal(host(&f, "v=spf1 a:x1.example.org a:x2.example.org a:x3.example.org -all",
	                      "192.0.2.10"),
	                 SPF_PERMERROR);
	fake_release(&f);
}

static void test_spf_select(void **state)
{
	static const struct fake_rr zone[] = {
	    {"a.example.", "TXT", 0, {"\"v=spf10 nope\"", "\"other\"", "\"v=spf1 -all\""}},
	    {"b.example.", "TXT", 0, {"\"v=spf1\"", "\"v=spf1 a\" \" -all\""}},
	};
	struct fake f = FAKE(zone);
	struct dnsq_answer a;
	char *first;
	(void)state;
	fake_lookup(&f, "a.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, NULL), 1);
	assert_string_equal(first, "v=spf1 -all");
	free(first);
	/* strings of one record are joined without a separator */
	fake_lookup(&f, "b.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, NULL), 2);
	assert_string_equal(first, "v=spf1");
	free(first);
	assert_int_equal(spf_select(NULL, &first, NULL), 0);
	assert_null(first);
	fake_release(&f);
}

/* ---- DMARC ---- */

static void test_dmarc_valid(void **state)
{
	struct dmarc_record d;
	(void)state;
	assert_int_equal(
	    dmarc_record_parse("v=DMARC1; p=quarantine; rua=mailto:pm@example.org", &d), 0);
	assert_string_equal(d.p, "quarantine");
	assert_string_equal(d.rua, "mailto:pm@example.org");
	assert_int_equal(d.adkim, 'r');
	assert_int_equal(d.aspf, 'r');
	assert_int_equal(d.pct, 100);
	assert_string_equal(d.problem, "");
	assert_int_equal(dmarc_record_parse(" v = DMARC1 ;p=reject;sp=none; adkim=s; aspf=s; "
	                                      "pct=50; fo=0:1:d; ri=86400; rf=afrf; "
	                                      "ruf=mailto:a@x.example,mailto:b@y.example;",
	                                      &d),
	                 0);
	assert_string_equal(d.p, "reject");
	assert_string_equal(d.sp, "none");
	assert_int_equal(d.adkim, 's');
	assert_int_equal(d.pct, 50);
	/* unknown tags are ignored by receivers: valid, but noted */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; adkm=s; foo=bar", &d), 0);
	assert_string_equal(d.unknown, "adkm, foo");
}

static void test_dmarc_invalid(void **state)
{
	static const struct {
		const char *txt, *problem;
	} cases[] = {
	    {"p=none; v=DMARC1", "must start with v=DMARC1"},
	    {"v=DMARC2; p=none", "must start with v=DMARC1"},
	    {"v=dmarc1; p=none", "must start with v=DMARC1"},
	    {"v=DMARC1; rua=mailto:a@b.example", "no p= policy"},
	    {"v=DMARC1", "no p= policy"},
	    {"v=DMARC1; p=strict", "p=strict: must be none, quarantine or reject"},
	    {"v=DMARC1; p=none; p=reject", "tag 'p' appears twice"},
	    {"v=DMARC1; p=none; pct=101", "pct=101"},
	    {"v=DMARC1; p=none; adkim=x", "adkim=x"},
	    {"v=DMARC1; p=none; rua=pm@example.org", "rua=pm@example.org"},
	    {"v=DMARC1; p=none; fo=2", "fo=2"},
	    {"v=DMARC1; p none", "is not tag=value"},
	    {"", "must start with v=DMARC1"},
	};
	struct dmarc_record d;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dmarc_record_parse(cases[i].txt, &d), -1);
		if (!strstr(d.problem, cases[i].problem))
			fail_msg("'%s': problem '%s', want '%s'", cases[i].txt, d.problem,
			         cases[i].problem);
	}
}

static void test_dmarc_strength(void **state)
{
	(void)state;
	assert_int_equal(dmarc_policy_strength("none"), 0);
	assert_int_equal(dmarc_policy_strength("Quarantine"), 1);
	assert_int_equal(dmarc_policy_strength("reject"), 2);
	assert_int_equal(dmarc_policy_strength("bogus"), -1);
}

/* ---- expected versus found ---- */

static ldns_rr_list *rrs(const char *const *lines)
{
	ldns_rr_list *l = ldns_rr_list_new();
	for (; *lines; lines++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, *lines, 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_rr_list_push_rr(l, rr);
	}
	return l;
}

static enum dnscheck_status compare(const struct dnsrec *want, const char *const *lines)
{
	ldns_rr_list *l = rrs(lines);
	enum dnscheck_status st = dnscheck_compare(want, l);
	ldns_rr_list_deep_free(l);
	return st;
}

static void test_compare(void **state)
{
	struct dnsrec_list exp = {0};
	struct mc_error err;
	char longtxt[600];
	(void)state;
	memset(longtxt, 'k', sizeof(longtxt) - 1);
	memcpy(longtxt, "v=DKIM1; k=rsa; p=", 18);
	longtxt[sizeof(longtxt) - 1] = '\0';
	assert_int_equal(dnsrec_txt(&exp, "example.org", 300, "v=spf1 mx -all", "spf", &err), 0);
	assert_int_equal(dnsrec_txt(&exp, "s._domainkey.example.org", 300, longtxt, "dkim", &err),
	                 0);
	exp.v = xrealloc(exp.v, 3 * sizeof(*exp.v));
	exp.alloc = 3;
	exp.v[2] = (struct dnsrec){xstrdup("example.org."),
	                           xstrdup("MX"),
	                           300,
	                           xstrdup("10 mail.example.org."),
	                           xstrdup("example.org.\t300\tIN\tMX\t10 mail.example.org."),
	                           "mx",
	                           0};
	exp.n = 3;

	const char *same[] = {"example.org. 60 IN TXT \"other\"",
	                      "example.org. 60 IN TXT \"v=spf1  mx\" \" -all\"", NULL};
	assert_int_equal(compare(&exp.v[0], same), DNSCHECK_OK);
	const char *diff[] = {"example.org. 60 IN TXT \"v=spf1 a -all\"", NULL};
	assert_int_equal(compare(&exp.v[0], diff), DNSCHECK_DIFFERENT);
	const char *none[] = {NULL};
	assert_int_equal(compare(&exp.v[0], none), DNSCHECK_MISSING);
	assert_int_equal(dnscheck_compare(&exp.v[0], NULL), DNSCHECK_MISSING);

	/* a long record split at other places than ours is the same record */
	char *split = xasprintf("s._domainkey.example.org. 60 IN TXT \"%.100s\" \"%.255s\" \"%s\"",
	                        longtxt, longtxt + 100, longtxt + 355);
	const char *dk[] = {split, NULL};
	assert_int_equal(compare(&exp.v[1], dk), DNSCHECK_OK);
	free(split);

	/* names compare without regard to case; other fields exactly */
	const char *mx[] = {"example.org. 60 IN MX 10 MAIL.Example.ORG.", NULL};
	assert_int_equal(compare(&exp.v[2], mx), DNSCHECK_OK);
	const char *mx20[] = {"example.org. 60 IN MX 20 mail.example.org.", NULL};
	assert_int_equal(compare(&exp.v[2], mx20), DNSCHECK_DIFFERENT);
	dnsrec_list_release(&exp);
}

static void test_txt_join(void **state)
{
	const char *lines[] = {"x. IN TXT \"ab\" \"\" \"c\\\"d\"", NULL};
	ldns_rr_list *l = rrs(lines);
	char *s = dnscheck_txt(ldns_rr_list_rr(l, 0));
	(void)state;
	assert_string_equal(s, "abc\"d");
	free(s);
	ldns_rr_list_deep_free(l);
}

/* ---- resolver addresses ---- */

static void test_server_parse(void **state)
{
	static const struct {
		const char *spec, *text;
	} good[] = {
	    {"192.0.2.53", "192.0.2.53:53"},
	    {"192.0.2.53:5353", "192.0.2.53:5353"},
	    {"2001:db8::53", "[2001:db8::53]:53"},
	    {"[2001:db8::53]", "[2001:db8::53]:53"},
	    {"[2001:db8::53]:5300", "[2001:db8::53]:5300"},
	};
	static const char *const bad[] = {"",
	                                  "ns.example.org",
	                                  "192.0.2.53:0",
	                                  "192.0.2.53:65536",
	                                  "192.0.2.53:x",
	                                  "[2001:db8::53",
	                                  "[2001:db8::53]x",
	                                  "[192.0.2.53]:53x",
	                                  "1.2.3.4.5"};
	struct dnsq_server s;
	struct mc_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(dnsq_server_parse(good[i].spec, &s, &err), 0);
		assert_string_equal(s.text, good[i].text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dnsq_server_parse(bad[i], &s, &err) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(err.kind, MC_EUSAGE);
	}
}

static void test_server_system(void **state)
{
	char path[] = "/tmp/mailctl-resolv.XXXXXX";
	int fd = mkstemp(path);
	struct dnsq_server s;
	struct mc_error err;
	(void)state;
	assert_true(fd >= 0);
	const char text[] = "# comment\nsearch example.org\nnameserver 2001:db8::53\n"
	                    "nameserver 192.0.2.53\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(dnsq_server_system(path, &s, &err), 0);
	assert_string_equal(s.text, "[2001:db8::53]:53");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "search x\n", 9), 9);
	close(fd);
	assert_int_equal(dnsq_server_system(path, &s, &err), -1);
	assert_int_equal(err.kind, MC_ECONFIG);
	assert_non_null(strstr(err.msg, "names no nameserver"));
	unlink(path);
	assert_int_equal(dnsq_server_system(path, &s, &err), -1);
	assert_non_null(strstr(err.msg, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spf_count_basic),
	    cmocka_unit_test(test_spf_count_chain),
	    cmocka_unit_test(test_spf_count_void_and_problems),
	    cmocka_unit_test(test_spf_pending),
	    cmocka_unit_test(test_spf_host),
	    cmocka_unit_test(test_spf_host_voids),
	    cmocka_unit_test(test_spf_select),
	    cmocka_unit_test(test_dmarc_valid),
	    cmocka_unit_test(test_dmarc_invalid),
	    cmocka_unit_test(test_dmarc_strength),
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_txt_join),
	    cmocka_unit_test(test_server_parse),
	    cmocka_unit_test(test_server_system),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
