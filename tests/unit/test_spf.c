/* Unit tests for SPF (lib/spf*.c) over a fake zone: the macro examples of
 * RFC 7208 7.4, the processing limits of 4.6.4, DNS errors and pending
 * answers, the identities, and the why/mechanism texts. The RFC test
 * suites run in tests/conformance/test_spf_suite.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "strbuf.h"
#include "xalloc.h"

#include "fake_dns.h"

/* ---- a fake zone ---- */

static const struct fake_dns_row zone[] = {
    {"example.org.", "TXT", 0, {"\"v=spf1 mx ip4:192.0.2.0/24 -all\""}},
    {"example.org.", "MX", 0, {"10 mail.example.org."}},
    {"mail.example.org.", "A", 0, {"198.51.100.10"}},
    {"mail.example.org.", "AAAA", 0, {"2001:db8::10"}},
    {"nospf.example.org.", "TXT", 0, {"\"hello\""}},
    {"two.example.org.", "TXT", 0, {"\"v=spf1 -all\"", "\"v=spf1 +all\""}},
    {"broken.example.org.", "TXT", DNSQ_SERVFAIL, {NULL}},
    {"refused.example.org.", "A", DNSQ_REFUSED, {NULL}},
    {"slow.example.org.", "A", DNSQ_TIMEOUT, {NULL}},
    {"slowmx.example.org.", "MX", 0, {"10 slow.example.org."}},
    {"inc.example.org.", "TXT", 0, {"\"v=spf1 include:broken.example.org -all\""}},
    {"exp.example.org.", "TXT", 0, {"\"v=spf1 -all exp=why.example.org\""}},
    {"why.example.org.", "TXT", 0, {"\"%{i} is not one of %{d}'s senders, %{l}\""}},
    {"expbroken.example.org.", "TXT", 0, {"\"v=spf1 -all exp=broken.example.org\""}},
    {"pexp.example.org.", "TXT", 0, {"\"v=spf1 -all exp=pwhy.example.org\""}},
    {"pwhy.example.org.", "TXT", 0, {"\"host %{p}\""}},
    {"example.net.", "TXT", 0, {"\"v=spf1 -all exp=pwhy.example.org\""}},
    {"3.2.0.192.in-addr.arpa.", "PTR", 0, {"mx.example.org.", "other.example.net."}},
    {"mx.example.org.", "A", 0, {"192.0.2.3"}},
    {"other.example.net.", "A", 0, {"192.0.2.3"}},
    {"9.2.0.192.in-addr.arpa.", "PTR", DNSQ_SERVFAIL, {NULL}},
    {"redir.example.org.", "TXT", 0, {"\"v=spf1 redirect=example.org\""}},
    {"helo.example.org.", "TXT", 0, {"\"v=spf1 a:%{h} -all\""}},
    {"mail.helo.example.org.", "A", 0, {"203.0.113.5"}},
};

static const struct spf_request req4 = {.ip = "192.0.2.3",
                                        .helo = "mail.helo.example.org",
                                        .sender = "strong-bad@email.example.com",
                                        .receiver = "mx.example.net",
                                        .now = 1700000000};

/* check_host() on 'record' as example.org's record, for 'ip'. */
static void record(struct fake_dns *f, const char *rec, const char *ip, struct spf_outcome *o)
{
	struct spf_request req = req4;
	req.ip = ip;
	spf_check_record(&req, "example.org", "user@example.org", rec, fake_dns_lookup, f, o);
}

static enum spf_result result(struct fake_dns *f, const char *rec, const char *ip)
{
	struct spf_outcome o;
	record(f, rec, ip, &o);
	return o.result;
}

/* ---- macros: RFC 7208 7.4 ---- */

static void expands(const char *ip, const char *text, int exp, const char *want)
{
	struct spf_request req = req4;
	struct strbuf sb = STRBUF_INIT;
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	req.ip = ip;
	assert_int_equal(spf_expand(&req, "email.example.com", "strong-bad@email.example.com", text,
	                            exp, fake_dns_lookup, &f, &sb),
	                 0);
	/* the nibbles of an IPv6 %{i} are upper case here (as the RFC test suite
	 * has them), lower case in the RFC's example; DNS names ignore case */
	if (strchr(ip, ':'))
		assert_int_equal(strcasecmp(sb.buf, want), 0);
	else
		assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
	fake_dns_release(&f);
}

static void test_macro_rfc_examples(void **state)
{
	static const struct {
		const char *text, *want;
	} ex[] = {
	    {"%{s}", "strong-bad@email.example.com"},
	    {"%{o}", "email.example.com"},
	    {"%{d}", "email.example.com"},
	    {"%{d4}", "email.example.com"},
	    {"%{d3}", "email.example.com"},
	    {"%{d2}", "example.com"},
	    {"%{d1}", "com"},
	    {"%{dr}", "com.example.email"},
	    {"%{d2r}", "example.email"},
	    {"%{l}", "strong-bad"},
	    {"%{l-}", "strong.bad"},
	    {"%{lr}", "strong-bad"},
	    {"%{lr-}", "bad.strong"},
	    {"%{l1r-}", "strong"},
	    {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
	    {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
	    {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	    {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	    {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		expands("192.0.2.3", ex[i].text, 0, ex[i].want);
	expands(
	    "2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}", 0,
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

static void test_macro_more(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	(void)state;
	/* explanation-only letters, escapes, the receiver and the time */
	expands("192.0.2.3", "%{c} to %{r} at %{t}: 100%% %_%-", 1,
	        "192.0.2.3 to mx.example.net at 1700000000: 100%  %20");
	expands("2001:db8::cb01", "%{c}", 1, "2001:db8::cb01");
	/* upper-case letters are URL-escaped; the helo and the p macro */
	expands("192.0.2.3", "%{S}", 1, "strong-bad%40email.example.com");
	expands("192.0.2.3", "%{h} %{p} %{P}", 1,
	        "mail.helo.example.org mx.example.org mx.example.org");
	/* several delimiters, and more parts than there are */
	expands("192.0.2.3", "%{l9r-.}", 0, "bad.strong");
	/* IPv4-mapped IPv6 is IPv4 */
	expands("::ffff:192.0.2.3", "%{i} %{v}", 1, "192.0.2.3 in-addr");
	/* a domain-spec loses its final dot, and labels on the left past 253 */
	expands("192.0.2.3", "foo.example.com.", 0, "foo.example.com");
	char *long_spec = xasprintf("%s.%s.%s.%s.example.com", "%{o}%{o}%{o}%{o}%{o}",
	                            "%{o}%{o}%{o}%{o}%{o}", "%{o}%{o}%{o}%{o}%{o}", "x");
	struct spf_request req = req4;
	assert_int_equal(
	    spf_expand(&req, "email.example.com", NULL, long_spec, 0, fake_dns_lookup, &f, &sb), 0);
	assert_true(sb.len <= 253);
	assert_string_equal(sb.buf + sb.len - 13, "x.example.com");
	strbuf_reset(&sb);
	/* syntax errors */
	static const char *const bad[] = {"%{d0}",  "%x",  "%{a}", "%{c}",
	                                  "%{r}.x", "%{d", "50%",  "%{dx}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    spf_expand(&req, "example.com", NULL, bad[i], 0, fake_dns_lookup, &f, &sb), -1);
	free(long_spec);
	strbuf_release(&sb);
	fake_dns_release(&f);
}

static void test_domain_spec(void **state)
{
	(void)state;
	assert_true(spf_domain_spec_valid("example.com"));
	assert_true(spf_domain_spec_valid("example.com."));
	assert_true(spf_domain_spec_valid("%{d}"));
	assert_true(spf_domain_spec_valid("_spf.%{d2}"));
	assert_true(spf_domain_spec_valid("foo.xn--zckzah"));
	assert_true(spf_domain_spec_valid("foo:bar/baz.example.com"));
	assert_false(spf_domain_spec_valid(""));
	assert_false(spf_domain_spec_valid("museum"));
	assert_false(spf_domain_spec_valid("museum."));
	assert_false(spf_domain_spec_valid("abc.123"));
	assert_false(spf_domain_spec_valid("example.-com"));
	assert_false(spf_domain_spec_valid("example.com:8080"));
	assert_false(spf_domain_spec_valid("%{r}.example.com"));
	assert_false(spf_domain_spec_valid("%{d}."));
}

static void test_record_parse(void **state)
{
	struct spf_record r;
	char why[256];
	const char *text = "v=spf1 -a:mail.example.com/24//64 ~ip6:2001:db8::/32 mx "
	                   "redirect=_spf.example.com unknown=%{d} exp=why.%{d}";
	(void)state;
	assert_int_equal(spf_record_parse(text, strlen(text), &r, why, sizeof(why)), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.terms[0].mech, SPF_M_A);
	assert_int_equal(r.terms[0].qual, '-');
	assert_string_equal(r.terms[0].spec, "mail.example.com");
	assert_int_equal(r.terms[0].cidr4, 24);
	assert_int_equal(r.terms[0].cidr6, 64);
	assert_int_equal(r.terms[1].mech, SPF_M_IP6);
	assert_int_equal(r.terms[1].cidr6, 32);
	assert_null(r.terms[2].spec);
	assert_string_equal(r.redirect, "_spf.example.com");
	assert_string_equal(r.exp, "why.%{d}");
	spf_record_release(&r);
	static const struct {
		const char *rec, *why;
	} bad[] = {
	    {"v=spf1 moo", "unknown mechanism 'moo'"},
	    {"v=spf1 a/33", "invalid prefix length in 'a/33'"},
	    {"v=spf1 ip4:1.2.3.4//8", "IPv6 prefix length"},
	    {"v=spf1 ip4:1.2.03.4", "invalid address in 'ip4:1.2.03.4'"},
	    {"v=spf1 -redirect=x.example", "a modifier takes no qualifier"},
	    {"v=spf1 exp=a.example exp=b.example", "'exp=' appears twice"},
	    {"v=spf1 a:\x01.example", "byte 0x01"},
	    {"v=spf1 include", "'include' needs an argument"},
	    {"v=spf1 all:x", "takes no argument"},
	    {"v=spf10", "does not start with v=spf1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    spf_record_parse(bad[i].rec, strlen(bad[i].rec), &r, why, sizeof(why)), -1);
		assert_non_null(strstr(why, bad[i].why));
		spf_record_release(&r);
	}
}

/* ---- evaluation ---- */

static void test_why_and_mechanism(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	struct spf_request req = req4;
	(void)state;
	req.sender = "user@example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_PASS);
	assert_string_equal(o.mechanism, "ip4:192.0.2.0/24");
	assert_string_equal(o.why, "matched ip4:192.0.2.0/24 in the SPF record of example.org");
	assert_string_equal(o.domain, "example.org");
	assert_string_equal(o.sender, "user@example.org");
	assert_int_equal(o.lookups, 1); /* mx, before ip4 */
	req.ip = "203.0.113.1";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_FAIL);
	assert_string_equal(o.mechanism, "-all");
	assert_string_equal(o.explanation, "");
	req.sender = "x@nospf.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_NONE);
	assert_string_equal(o.why, "no SPF record at nospf.example.org");
	req.sender = "x@two.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_PERMERROR);
	assert_non_null(strstr(o.why, "2 SPF records at two.example.org"));
	record(&f, "v=spf1 ip4:198.51.100.1", "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_NEUTRAL);
	assert_string_equal(o.mechanism, "");
	assert_non_null(strstr(o.why, "no term matched 192.0.2.3"));
	/* redirect: the target's term decides */
	req.sender = "x@redir.example.org";
	req.ip = "2001:db8::10";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_PASS);
	assert_string_equal(o.mechanism, "mx");
	assert_int_equal(o.lookups, 2);
	fake_dns_release(&f);
}

static void test_identities(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o, h;
	struct spf_request req = req4;
	(void)state;
	/* the null reverse-path is postmaster@HELO, the same as the HELO check */
	req.sender = "";
	req.helo = "helo.example.org";
	req.ip = "203.0.113.5";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	spf_check_helo(&req, fake_dns_lookup, &f, &h);
	assert_int_equal(o.result, SPF_FAIL); /* a:%{h} is helo.example.org itself */
	assert_int_equal(h.result, o.result);
	assert_string_equal(o.sender, "postmaster@helo.example.org");
	assert_string_equal(o.domain, "helo.example.org");
	req.helo = NULL;
	spf_check_helo(&req, fake_dns_lookup, &f, &h);
	assert_int_equal(h.result, SPF_NONE);
	req.helo = "localhost";
	spf_check_helo(&req, fake_dns_lookup, &f, &h);
	assert_int_equal(h.result, SPF_NONE);
	assert_non_null(strstr(h.why, "not a valid domain name"));
	/* no local part: postmaster; an explanation with %{l} shows it */
	req.sender = "@exp.example.org";
	req.ip = "192.0.2.3";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_FAIL);
	assert_string_equal(o.sender, "postmaster@exp.example.org");
	assert_string_equal(o.explanation,
	                    "192.0.2.3 is not one of exp.example.org's senders, postmaster");
	/* a bad client address */
	req.ip = "not-an-ip";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_PERMERROR);
	fake_dns_release(&f);
}

/* RFC 7208 4.6.4: 10 terms that query DNS; the 11th is a permerror. */
static void test_lookup_limit(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	struct strbuf rec = STRBUF_INIT;
	(void)state;
	strbuf_addstr(&rec, "v=spf1");
	for (int i = 0; i < 10; i++)
		strbuf_addstr(&rec, " mx");
	strbuf_addstr(&rec, " ip4:192.0.2.3");
	record(&f, rec.buf, "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_PASS);
	assert_int_equal(o.lookups, 10);
	strbuf_reset(&rec);
	strbuf_addstr(&rec, "v=spf1");
	for (int i = 0; i < 11; i++)
		strbuf_addstr(&rec, " mx");
	strbuf_addstr(&rec, " ip4:192.0.2.3");
	record(&f, rec.buf, "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_PERMERROR);
	assert_string_equal(o.why, "11 DNS lookups, the limit is 10");
	assert_string_equal(o.mechanism, "mx");
	/* terms past a match are not counted */
	record(&f, "v=spf1 ip4:192.0.2.3 mx mx mx mx mx mx mx mx mx mx mx mx", "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_PASS);
	assert_int_equal(o.lookups, 0);
	strbuf_release(&rec);
	fake_dns_release(&f);
}

static void test_void_limit(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	(void)state;
	record(&f, "v=spf1 a:x1.example.org mx:x2.example.org ?all", "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_NEUTRAL);
	assert_int_equal(o.voids, 2);
	record(&f, "v=spf1 a:x1.example.org mx:x2.example.org exists:x3.example.org ?all",
	       "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_PERMERROR);
	assert_string_equal(o.why, "3 void lookups, the limit is 2 ('x3.example.org' has none)");
	/* an exp= that finds nothing is not a void lookup */
	record(&f, "v=spf1 a:x1.example.org a:x2.example.org -all exp=x3.example.org", "192.0.2.3",
	       &o);
	assert_int_equal(o.result, SPF_FAIL);
	assert_int_equal(o.voids, 2);
	fake_dns_release(&f);
}

static void test_name_limits(void **state)
{
	static const struct fake_dns_row names[] = {
	    {"many.example.",
	     "MX",
	     0,
	     {"1 a.example.", "2 a.example.", "3 a.example.", "4 a.example.", "5 a.example.",
	      "6 a.example.", "7 a.example.", "8 a.example.", "9 a.example.", "10 a.example.",
	      "11 b.example."}},
	    {"b.example.", "A", 0, {"192.0.2.3"}},
	    {"3.2.0.192.in-addr.arpa.",
	     "PTR",
	     0,
	     {"a.example.", "a.example.", "a.example.", "a.example.", "a.example.", "a.example.",
	      "a.example.", "a.example.", "a.example.", "a.example.", "b.example."}},
	};
	struct fake_dns f = FAKE_DNS_TABLE(names);
	struct spf_outcome o;
	(void)state;
	record(&f, "v=spf1 mx:many.example -all", "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_PERMERROR);
	assert_string_equal(o.why, "11 MX records at 'many.example', the limit is 10");
	/* the 11th PTR name is not looked at: no match, not an error */
	record(&f, "v=spf1 ptr:b.example -all", "192.0.2.3", &o);
	assert_int_equal(o.result, SPF_FAIL);
	fake_dns_release(&f);
}

static void test_temperror(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	struct spf_request req = req4;
	(void)state;
	req.sender = "x@broken.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_TEMPERROR);
	assert_string_equal(o.why, "servfail looking up the TXT records of broken.example.org");
	req.sender = "x@inc.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_TEMPERROR);
	assert_string_equal(o.mechanism, "include:broken.example.org");
	assert_non_null(strstr(o.why, "include:broken.example.org gave temperror: servfail"));
	assert_int_equal(result(&f, "v=spf1 a:refused.example.org -all", "192.0.2.3"),
	                 SPF_TEMPERROR);
	assert_int_equal(result(&f, "v=spf1 mx:slowmx.example.org -all", "192.0.2.3"),
	                 SPF_TEMPERROR);
	/* the first match wins before the trouble is reached */
	assert_int_equal(result(&f, "v=spf1 ip4:192.0.2.3 a:refused.example.org -all", "192.0.2.3"),
	                 SPF_PASS);
	/* a failing PTR lookup means no match (RFC 7208 5.5), and %{p} unknown */
	assert_int_equal(result(&f, "v=spf1 ptr -all", "192.0.2.9"), SPF_FAIL);
	/* a failing exp= lookup leaves the fail without explanation */
	req.sender = "x@expbroken.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_FAIL);
	assert_string_equal(o.explanation, "");
	fake_dns_release(&f);
}

static void test_ptr_and_p(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	struct spf_request req = req4;
	(void)state;
	assert_int_equal(result(&f, "v=spf1 ptr:example.org -all", "192.0.2.3"), SPF_PASS);
	assert_int_equal(result(&f, "v=spf1 ptr:example.net -all", "192.0.2.3"), SPF_PASS);
	assert_int_equal(result(&f, "v=spf1 ptr:example.com -all", "192.0.2.3"), SPF_FAIL);
	/* %{p}: the first validated name, but one under the domain checked
	 * comes first */
	req.sender = "x@pexp.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_string_equal(o.explanation, "host mx.example.org");
	req.sender = "x@example.net";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_string_equal(o.explanation, "host other.example.net");
	req.ip = "192.0.2.9";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_string_equal(o.explanation, "host unknown");
	fake_dns_release(&f);
}

/* A pending answer stops the evaluation wherever it is met. */
static void test_pending(void **state)
{
	struct fake_dns f = FAKE_DNS_TABLE(zone);
	struct spf_outcome o;
	struct spf_request req = req4;
	(void)state;
	f.unknown_pending = 1;
	req.sender = "x@later.example.org";
	spf_check_mailfrom(&req, fake_dns_lookup, &f, &o);
	assert_int_equal(o.result, SPF_PENDING);
	assert_non_null(strstr(o.why, "waiting for the TXT records of later.example.org"));
	assert_int_equal(result(&f, "v=spf1 include:later.example.org -all", "192.0.2.3"),
	                 SPF_PENDING);
	assert_int_equal(result(&f, "v=spf1 redirect=later.example.org", "192.0.2.3"), SPF_PENDING);
	assert_int_equal(result(&f, "v=spf1 a:later.example.org -all", "192.0.2.3"), SPF_PENDING);
	assert_int_equal(
	    result(&f, "v=spf1 mx:slowmx.example.org exists:%{p}.later.example.org", "192.0.2.77"),
	    SPF_TEMPERROR); /* the first trouble decides */
	assert_int_equal(result(&f, "v=spf1 exists:%{p}.x.example.org", "192.0.2.77"), SPF_PENDING);
	assert_int_equal(result(&f, "v=spf1 -all exp=later.example.org", "192.0.2.3"), SPF_PENDING);
	assert_int_equal(result(&f, "v=spf1 ~all exp=later.example.org", "192.0.2.3"),
	                 SPF_SOFTFAIL); /* exp= is only fetched for fail */
	assert_string_equal(spf_result_name(SPF_PENDING), "pending");
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	fake_dns_release(&f);
}

static void test_select(void **state)
{
	static const struct fake_dns_row z[] = {
	    {"a.example.", "TXT", 0, {"\"v=spf10 nope\"", "\"other\"", "\"V=SPF1 -all\""}},
	    {"b.example.", "TXT", 0, {"\"v=spf1 a\" \" -all\""}},
	};
	struct fake_dns f = FAKE_DNS_TABLE(z);
	struct dnsq_answer a;
	char *first;
	size_t len;
	(void)state;
	fake_dns_lookup(&f, "a.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, &len), 1);
	assert_string_equal(first, "V=SPF1 -all");
	assert_int_equal(len, 11);
	free(first);
	fake_dns_lookup(&f, "b.example.", LDNS_RR_TYPE_TXT, &a);
	assert_int_equal(spf_select(a.rrs, &first, &len), 1);
	assert_string_equal(first, "v=spf1 a -all");
	free(first);
	fake_dns_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_macro_rfc_examples),
	    cmocka_unit_test(test_macro_more),
	    cmocka_unit_test(test_domain_spec),
	    cmocka_unit_test(test_record_parse),
	    cmocka_unit_test(test_why_and_mechanism),
	    cmocka_unit_test(test_identities),
	    cmocka_unit_test(test_lookup_limit),
	    cmocka_unit_test(test_void_limit),
	    cmocka_unit_test(test_name_limits),
	    cmocka_unit_test(test_temperror),
	    cmocka_unit_test(test_ptr_and_p),
	    cmocka_unit_test(test_pending),
	    cmocka_unit_test(test_select),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
