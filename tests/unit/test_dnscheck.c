/* Unit tests for the pure parts of the DNS check: SPF lookup counting and
 * check_host() over a fake zone (a table the lookup callback answers
 * from), expected-versus-found record comparison, the verdict on a
 * fetched MTA-STS policy and the policy we serve, and the resolver
 * address forms. The DMARC record parser is tested in test_dmarc.c, the
 * MTA-STS parser in test_mtasts.c; the live check (and the policy fetch)
 * runs against real servers in tests/integration/dns_check.sh. */
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

#include "fake_dns.h"

/* ---- a fake zone ---- */

static const struct fake_dns_row basic[] = {
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

static enum spf_result host(struct fake_dns *f, const char *record, const char *ip);

/* check_host() of spf.c on 'record' as the SPF record of 'domain'. */
static enum spf_result host_at(struct fake_dns *f, const char *domain, const char *record,
                               const char *ip)
{
	struct spf_request req = {.ip = ip, .helo = "mail.example.org", .sender = ""};
	struct spf_outcome o;
	spf_check_record(&req, domain, NULL, record, fake_dns_lookup, f, &o);
	return o.result;
}

static void count(struct fake_dns *f, const char *record, struct dnscheck_spf *out)
{
	dnscheck_spf_count("example.org", record, fake_dns_lookup, f, out);
}

static void test_spf_count_basic(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(basic);
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
	fake_dns_release(&f);
}

/* Lookups are counted through every include, recursively: a chain of 11
 * includes is 11, over the limit of 10. */
static void test_spf_count_chain(void **state)
{
	struct fake_dns_row zone[12];
	char names[12][32], texts[12][64];
	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "l%d.example.org.", i);
		if (i < 11)
			snprintf(texts[i], sizeof(texts[i]),
			         "\"v=spf1 include:l%d.example.org -all\"", i + 1);
		else
			snprintf(texts[i], sizeof(texts[i]), "\"v=spf1 -all\"");
		zone[i] = (struct fake_dns_row){names[i], "TXT", 0, {texts[i]}};
	}
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct dnscheck_spf s;
	dnscheck_spf_count("l0.example.org", "v=spf1 include:l1.example.org -all", fake_dns_lookup,
	                   &f, &s);
	assert_int_equal(s.lookups, 11);
	assert_true(s.lookups > SPF_MAX_LOOKUPS);
	assert_string_equal(s.problem, "");
	/* exactly at the limit: l2 -> ... -> l11 is 10 */
	dnscheck_spf_count("l1.example.org", "v=spf1 include:l2.example.org -all", fake_dns_lookup,
	                   &f, &s);
	assert_int_equal(s.lookups, 10);
	/* and check_host() gives permerror past the limit when it has to go there */
	assert_int_equal(
	    host_at(&f, "l0.example.org", "v=spf1 include:l1.example.org -all", "192.0.2.10"),
	    SPF_PERMERROR);
	assert_int_equal(
	    host_at(&f, "l1.example.org", "v=spf1 include:l2.example.org -all", "192.0.2.10"),
	    SPF_FAIL);
	fake_dns_release(&f);
}

static void test_spf_count_void_and_problems(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(basic);
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
	fake_dns_release(&f);
}

/* Unknown answers come back PENDING: the caller asks again after a round. */
static void test_spf_pending(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(basic);
	struct dnscheck_spf s;
	(void)state;
	f.unknown_pending = 1;
	count(&f, "v=spf1 include:later.example.org include:other.example.org -all", &s);
	assert_int_equal(s.pending, 1);
	assert_int_equal(s.lookups, 2);
	assert_int_equal(
	    host_at(&f, "example.org", "v=spf1 include:later.example.org -all", "192.0.2.10"),
	    SPF_PENDING);
	fake_dns_release(&f);
}

/* ---- SPF: check_host() ---- */

static enum spf_result host(struct fake_dns *f, const char *record, const char *ip)
{
	return host_at(f, "example.org", record, ip);
}

static void test_spf_host(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(basic);
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
	fake_dns_release(&f);
}

/* More than two void lookups is a permanent error (RFC 7208 4.6.4). */
static void test_spf_host_voids(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(basic);
	(void)state;
	assert_int_equal(host(&f, "v=spf1 a:x1.example.org a:x2.example.org -all", "192.0.2.10"),
	                 SPF_FAIL);
	assert_int_equal(host(&f, "v=spf1 a:x1.example.org a:x2.example.org a:x3.example.org -all",
	                      "192.0.2.10"),
	                 SPF_PERMERROR);
	fake_dns_release(&f);
}

static void test_spf_select(void **state)
{
	static const struct fake_dns_row zone[] = {
	    {"a.example.", "TXT", 0, {"\"v=spf10 nope\"", "\"other\"", "\"v=spf1 -all\""}},
	    {"b.example.", "TXT", 0, {"\"v=spf1\"", "\"v=spf1 a\" \" -all\""}},
	};
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct dnsq_answer a;
	char *first;
	(void)state;
	fake_dns_lookup(&f, "a.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, NULL), 1);
	assert_string_equal(first, "v=spf1 -all");
	free(first);
	/* strings of one record are joined without a separator */
	fake_dns_lookup(&f, "b.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, NULL), 2);
	assert_string_equal(first, "v=spf1");
	free(first);
	assert_int_equal(spf_select(NULL, &first, NULL), 0);
	assert_null(first);
	fake_dns_release(&f);
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

/* ---- MTA-STS: the verdict on what was fetched ---- */

#define OURS "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 604800\r\n"

/* A fetch that got 'text' (parsed), as mtasts_fetch() leaves it. */
static void fetched(struct mtasts_fetch *f, const char *text)
{
	struct mc_error err;
	memset(f, 0, sizeof(*f));
	f->domain = "example.org";
	f->text = xstrdup(text);
	f->len = strlen(text);
	assert_int_equal(mtasts_parse(f->text, f->len, &f->policy, &err), 0);
}

static enum dnscheck_status judge(const struct mtasts_fetch *f, const char *ours,
                                  const char *const *mx, int mx_known, const char *detail,
                                  const char *fix)
{
	struct dnscheck_sts_verdict v;
	size_t n = 0;
	while (mx && mx[n])
		n++;
	dnscheck_sts_judge(f, ours, (char *const *)mx, n, mx_known, &v);
	if (!strstr(v.detail, detail))
		fail_msg("detail '%s', want '%s'", v.detail, detail);
	if (!strstr(v.fix, fix))
		fail_msg("fix '%s', want '%s'", v.fix, fix);
	assert_null(strchr(v.detail, '\n'));
	enum dnscheck_status st = v.status;
	free(v.detail);
	free(v.fix);
	return st;
}

static void test_sts_judge_policy(void **state)
{
	static const char *const ours_mx[] = {"mail.example.org.", NULL};
	static const char *const two_mx[] = {"MAIL.example.org.", "mx2.example.org.", NULL};
	struct mtasts_fetch f;
	(void)state;
	/* ours, byte for byte, covering the MX */
	fetched(&f, OURS);
	assert_int_equal(judge(&f, OURS, ours_mx, 1,
	                       "MTA-STS: the policy mailctl writes (mode enforce, max_age 604800, "
	                       "mx mail.example.org)",
	                       ""),
	                 DNSCHECK_OK);
	/* an MX host the policy does not cover is named */
	assert_int_equal(judge(&f, OURS, two_mx, 1,
	                       "the MX host mx2.example.org is not covered by the policy",
	                       "cover mx2.example.org with an mx line"),
	                 DNSCHECK_DIFFERENT);
	/* MX unknown: said, not judged */
	assert_int_equal(judge(&f, OURS, NULL, 0, "the MX hosts could not be looked up", ""),
	                 DNSCHECK_OK);
	/* what we serve unknown: only validity and the MX are judged */
	assert_int_equal(judge(&f, NULL, ours_mx, 1, "MTA-STS: valid (mode enforce", ""),
	                 DNSCHECK_OK);
	mtasts_fetch_release(&f);
	/* a wildcard covers both; the mode is ours but the text is not */
	fetched(&f, "version: STSv1\nmode: enforce\nmx: *.example.org\nmax_age: 86400\n");
	assert_int_equal(judge(&f, OURS, two_mx, 1,
	                       "the policy served is not the one mailctl writes (mode enforce, "
	                       "max_age 86400, mx *.example.org)",
	                       "run 'mailctl apply'"),
	                 DNSCHECK_DIFFERENT);
	mtasts_fetch_release(&f);
	/* another mode */
	fetched(&f,
	        "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n");
	assert_int_equal(judge(&f, OURS, ours_mx, 1,
	                       "the policy's mode is 'testing', but mailctl publishes 'enforce'",
	                       "run 'mailctl apply'"),
	                 DNSCHECK_DIFFERENT);
	/* an uncovered MX comes first */
	assert_int_equal(judge(&f, OURS, two_mx, 1, "mx2.example.org is not covered", ""),
	                 DNSCHECK_DIFFERENT);
	mtasts_fetch_release(&f);
}

/* Every way the fetch can fail: its status, its message kept, a fix. */
static void test_sts_judge_errors(void **state)
{
	static const struct {
		enum mtasts_fetch_error e;
		enum dnscheck_status st;
		const char *what, *fix;
	} cases[] = {
	    {MTASTS_FETCH_NOADDR, DNSCHECK_MISSING, "senders cannot fetch the policy",
	     "publish an address for mta-sts.example.org"},
	    {MTASTS_FETCH_CONNECT, DNSCHECK_ERROR, "the policy is unreachable",
	     "start nginx ('mailctl service start') and open port 443"},
	    {MTASTS_FETCH_TIMEOUT, DNSCHECK_TIMEOUT, "the policy is unreachable", "start nginx"},
	    {MTASTS_FETCH_TLS, DNSCHECK_ERROR, "certificate or TLS problem",
	     "a certificate from a public CA that names mta-sts.example.org"},
	    {MTASTS_FETCH_REDIRECT, DNSCHECK_ERROR, "senders ignore the policy",
	     "serve the policy at that address itself with status 200"},
	    {MTASTS_FETCH_HTTP, DNSCHECK_ERROR, "senders ignore the policy", "with status 200"},
	    {MTASTS_FETCH_TYPE, DNSCHECK_ERROR, "senders ignore the policy", "as text/plain"},
	    {MTASTS_FETCH_SIZE, DNSCHECK_ERROR, "senders ignore the policy",
	     "serve the policy 'mailctl apply' writes"},
	    {MTASTS_FETCH_SYNTAX, DNSCHECK_ERROR, "senders ignore the policy",
	     "serve the policy 'mailctl apply' writes"},
	};
	static const char *const mx[] = {"mail.example.org.", NULL};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mtasts_fetch f = {.domain = "example.org", .error = cases[i].e};
		snprintf(f.err.msg, sizeof(f.err.msg), "the reason %zu", i);
		char *detail = xasprintf("MTA-STS: the reason %zu: %s", i, cases[i].what);
		assert_int_equal(judge(&f, OURS, mx, 1, detail, cases[i].fix), cases[i].st);
		free(detail);
	}
}

/* The policy we serve: from the configured mode, else recovered from the
 * id our _mta-sts record carries. */
static void test_sts_policy(void **state)
{
	static const char *const v4[] = {"192.0.2.10", NULL}, *const v6[] = {NULL};
	struct dnsrec_input rin = {.domain = "example.org",
	                           .mailhost = "mail.example.org",
	                           .ipv4 = v4,
	                           .ipv6 = v6,
	                           .ttl = 3600,
	                           .dmarc_policy = "quarantine",
	                           .report_address = "postmaster@example.org",
	                           .mta_sts_mode = "testing",
	                           .caa_issuer = "letsencrypt.org"};
	struct dnsrec_list recs = {0};
	struct mc_error err;
	(void)state;
	assert_int_equal(dnsrec_build(&rin, &recs, &err), 0);
	struct dnscheck_domain d = {"example.org", &recs, NULL, 0};
	struct dnscheck_input in = {.mailhost = "mail.example.org", .domains = &d, .ndomains = 1};
	char *p = dnscheck_sts_policy(&in, &d);
	assert_non_null(p);
	assert_string_equal(p, "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\n"
	                       "max_age: 604800\r\n");
	free(p);
	in.mta_sts_mode = "enforce"; /* the configuration has the last word */
	p = dnscheck_sts_policy(&in, &d);
	assert_string_equal(p, OURS);
	free(p);
	/* another mail host: no mode gives that id */
	in.mta_sts_mode = NULL;
	in.mailhost = "other.example.org";
	assert_null(dnscheck_sts_policy(&in, &d));
	dnsrec_list_release(&recs);
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
	    cmocka_unit_test(test_compare),
	    cmocka_unit_test(test_txt_join),
	    cmocka_unit_test(test_sts_judge_policy),
	    cmocka_unit_test(test_sts_judge_errors),
	    cmocka_unit_test(test_sts_policy),
	    cmocka_unit_test(test_server_parse),
	    cmocka_unit_test(test_server_system),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
