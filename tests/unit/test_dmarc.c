/* Unit tests for lib/dmarc: the record parser (what the DNS check and the
 * milter read from it), organizational domains over the public suffix
 * list, and the RFC5322.From parser (the RFC 5322 Appendix A examples,
 * obsolete forms, groups, IDN, malformed fields). Whole evaluations are in
 * tests/conformance/test_dmarc_table.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dmarc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- records ---- */

static void test_record_valid(void **state)
{
	struct dmarc_record d;
	(void)state;
	assert_int_equal(
	    dmarc_record_parse("v=DMARC1; p=quarantine; rua=mailto:pm@example.org", &d), 0);
	assert_string_equal(d.p, "quarantine");
	assert_string_equal(d.sp, "");
	assert_string_equal(d.rua, "mailto:pm@example.org");
	assert_string_equal(d.ruf, "");
	assert_int_equal(d.adkim, 'r');
	assert_int_equal(d.aspf, 'r');
	assert_int_equal(d.pct, 100);
	assert_string_equal(d.problem, "");
	assert_string_equal(d.unknown, "");
	assert_int_equal(d.none_fallback, 0);

	assert_int_equal(
	    dmarc_record_parse("\tv = DMARC1 ;p=reject;sp=none; adkim=s; aspf=s; "
	                       "pct=0; fo=0:1:d:s; ri=86400; rf=afrf; np=reject; "
	                       "psd=n; t=y; ruf=mailto:a@x.example,mailto:b@y.example;",
	                       &d),
	    0);
	assert_string_equal(d.p, "reject");
	assert_string_equal(d.sp, "none");
	assert_int_equal(d.adkim, 's');
	assert_int_equal(d.aspf, 's');
	assert_int_equal(d.pct, 0);
	assert_string_equal(d.ruf, "mailto:a@x.example,mailto:b@y.example");
	assert_int_equal(dmarc_record_parse(" v = DMARC1 ;p=reject; pct=50", &d), 0);
	assert_int_equal(d.pct, 50);

	/* empty parts are allowed anywhere after v= */
	assert_int_equal(dmarc_record_parse("v=DMARC1;; p=none ;  ;", &d), 0);
	assert_string_equal(d.p, "none");

	/* unknown tags are ignored by receivers: valid, but noted */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; adkm=s; foo=bar", &d), 0);
	assert_string_equal(d.unknown, "adkm, foo");
}

/* Tag names and the values of p, sp, adkim, aspf are case-insensitive
 * (RFC 7489 6.4 ABNF); v=DMARC1 itself is spelled with %x. */
static void test_record_case(void **state)
{
	struct dmarc_record d;
	(void)state;
	assert_int_equal(
	    dmarc_record_parse("V=DMARC1; P=REJECT; SP=Quarantine; ADKIM=S; Aspf=s; PCT=25; "
	                       "FO=D; RF=AFRF; RUA=mailto:Reports@Example.org",
	                       &d),
	    0);
	assert_string_equal(d.p, "reject");
	assert_string_equal(d.sp, "quarantine");
	assert_int_equal(d.adkim, 's');
	assert_int_equal(d.aspf, 's');
	assert_int_equal(d.pct, 25);
	assert_string_equal(d.rua, "mailto:Reports@Example.org"); /* URIs as written */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=none; P=reject", &d), -1);
	assert_string_equal(d.problem, "tag 'p' appears twice");
}

static void test_record_invalid(void **state)
{
	static const struct {
		const char *txt, *problem;
	} cases[] = {
	    {"p=none; v=DMARC1", "must start with v=DMARC1"},
	    {"v=DMARC2; p=none", "must start with v=DMARC1"},
	    {"v=dmarc1; p=none", "must start with v=DMARC1"},
	    {"; v=DMARC1; p=none", "must start with v=DMARC1"},
	    {"v=DMARC1; rua=mailto:a@b.example", "no p= policy"},
	    {"v=DMARC1", "no p= policy"},
	    {"v=DMARC1; p=strict", "p=strict: must be none, quarantine or reject"},
	    {"v=DMARC1; p=reject; sp=all", "sp=all: must be none"},
	    {"v=DMARC1; p=none; p=reject", "tag 'p' appears twice"},
	    {"v=DMARC1; p=none; pct=101", "pct=101"},
	    {"v=DMARC1; p=none; pct=-1", "pct=-1"},
	    {"v=DMARC1; p=none; pct=+5", "pct=+5"},
	    {"v=DMARC1; p=none; pct=", "pct=: must be a whole number"},
	    {"v=DMARC1; p=none; adkim=x", "adkim=x"},
	    {"v=DMARC1; p=none; aspf=relaxed", "aspf=relaxed"},
	    {"v=DMARC1; p=none; rua=pm@example.org", "rua=pm@example.org"},
	    {"v=DMARC1; p=none; fo=2", "fo=2"},
	    {"v=DMARC1; p=none; rf=iodef", "rf=iodef"},
	    {"v=DMARC1; p=none; ri=soon", "ri=soon"},
	    {"v=DMARC1; p none", "is not tag=value"},
	    {"v=DMARC1; p=none; 1p=x", "is not tag=value"},
	    {"v=DMARC1; p=none; a b=x", "is not tag=value"},
	    {"", "must start with v=DMARC1"},
	    {"v=DMARC1; p=none; pct=\x1b[2J", "pct=\\x1b[2J"}, /* quoted printable */
	};
	struct dmarc_record d;
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(dmarc_record_parse(cases[i].txt, &d), -1);
		if (!strstr(d.problem, cases[i].problem))
			fail_msg("'%s': problem '%s', want '%s'", cases[i].txt, d.problem,
			         cases[i].problem);
		assert_int_equal(d.none_fallback, 0 + (i == 4));
	}
}

/* RFC 7489 6.6.3 step 6: a bad or missing p= (or bad sp=) with a valid
 * rua= is read as p=none; the parser says when that applies. */
static void test_record_fallback(void **state)
{
	static const struct {
		const char *txt;
		int fallback;
	} cases[] = {
	    {"v=DMARC1; rua=mailto:a@b.example", 1},
	    {"v=DMARC1; p=bogus; rua=mailto:a@b.example", 1},
	    {"v=DMARC1; rua=mailto:a@b.example; p=bogus", 1},
	    {"v=DMARC1; p=reject; sp=bogus; rua=mailto:a@b.example", 1},
	    {"v=DMARC1; p=bogus", 0},
	    {"v=DMARC1; p=bogus; rua=nowhere", 0},
	    {"v=DMARC1; p=bogus; rua=mailto:a@b.example; pct=200", 0},
	};
	struct dmarc_record d;
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(dmarc_record_parse(cases[i].txt, &d), -1);
		if (d.none_fallback != cases[i].fallback)
			fail_msg("'%s': fallback %d (%s)", cases[i].txt, d.none_fallback,
			         d.problem);
	}
}

static void test_record_long(void **state)
{
	char txt[4200], rua[1100];
	struct dmarc_record d;
	(void)state;
	/* a long rua= list is valid and kept cut to the buffer */
	memset(rua, 0, sizeof(rua));
	for (int i = 0; i < 40; i++)
		strcat(rua, i ? ",mailto:r@example.org" : "mailto:r@example.org");
	snprintf(txt, sizeof(txt), "v=DMARC1; p=reject; rua=%s", rua);
	assert_int_equal(dmarc_record_parse(txt, &d), 0);
	assert_int_equal(strlen(d.rua), sizeof(d.rua) - 1);
	assert_memory_equal(d.rua, rua, sizeof(d.rua) - 1);
	/* a value too long to read */
	memset(txt, 'x', sizeof(txt) - 1);
	txt[sizeof(txt) - 1] = '\0';
	memcpy(txt, "v=DMARC1; p=none; x=", 20);
	assert_int_equal(dmarc_record_parse(txt, &d), -1);
	assert_non_null(strstr(d.problem, "longer than"));
	/* many unknown tags: the list is cut, not overrun */
	strcpy(txt, "v=DMARC1; p=none");
	for (int i = 0; i < 60; i++)
		snprintf(txt + strlen(txt), sizeof(txt) - strlen(txt), "; tag%d=x", i);
	assert_int_equal(dmarc_record_parse(txt, &d), 0);
	assert_true(strlen(d.unknown) < sizeof(d.unknown));
	assert_int_equal(strncmp(d.unknown, "tag0, tag1, ", 12), 0);
}

static void test_record_is_dmarc(void **state)
{
	static const struct {
		const char *txt;
		int is;
	} cases[] = {
	    {"v=DMARC1; p=none", 1},
	    {" v = DMARC1 ;p=none", 1},
	    {"V=DMARC1", 1},
	    {"v=DMARC1;", 1},
	    {"v=DMARC1 ", 1},
	    {"v=DMARC10; p=none", 0},
	    {"v=dmarc1; p=none", 0},
	    {"v=spf1 -all", 0},
	    {"xv=DMARC1", 0},
	    {"p=none; v=DMARC1", 0},
	    {"", 0},
	    {"v=DMARC1 x", 0},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		if (dmarc_record_is_dmarc(cases[i].txt) != cases[i].is)
			fail_msg("'%s': want %d", cases[i].txt, cases[i].is);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dmarc_result_name(DMARC_NONE), "none");
	assert_string_equal(dmarc_result_name(DMARC_PASS), "pass");
	assert_string_equal(dmarc_result_name(DMARC_FAIL), "fail");
	assert_string_equal(dmarc_result_name(DMARC_TEMPERROR), "temperror");
	assert_string_equal(dmarc_result_name(DMARC_PERMERROR), "permerror");
	assert_int_equal(dmarc_policy_strength("none"), 0);
	assert_int_equal(dmarc_policy_strength("Quarantine"), 1);
	assert_int_equal(dmarc_policy_strength("reject"), 2);
	assert_int_equal(dmarc_policy_strength("bogus"), -1);
	assert_int_equal(dmarc_policy_strength(""), -1);
}

/* ---- organizational domains ---- */

static void test_org_domain(void **state)
{
	static const struct {
		const char *in, *org;
	} cases[] = {
	    {"example.com", "example.com"},
	    {"a.b.example.com", "example.com"},
	    {"example.co.uk", "example.co.uk"},
	    {"foo.bar.example.co.uk", "example.co.uk"},
	    {"co.uk", "co.uk"}, /* a bare public suffix is its own */
	    {"com", "com"},
	    {"EXAMPLE.Co.UK", "example.co.uk"},
	    {"mail.example.com.", "example.com"},
	    {"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},           /* münchen.de */
	    {"a.b.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},       /* */
	    {"mail.example.xn--p1ai", "example.xn--p1ai"},        /* .рф */
	    {"a.example.xn--55qx5d.cn", "example.xn--55qx5d.cn"}, /* .公司.cn */
	    {"xn--55qx5d.cn", "xn--55qx5d.cn"},
	    {"city.kawasaki.jp", "city.kawasaki.jp"}, /* an exception rule */
	    {"a.b.kawasaki.jp", "a.b.kawasaki.jp"},   /* a wildcard rule */
	    {"foo.blogspot.com", "foo.blogspot.com"}, /* the private section counts */
	    {"a.example.unknowntld", "example.unknowntld"},
	    {"localhost", "localhost"},
	    {"_dmarc.example.com", "example.com"},
	};
	static const char *const bad[] = {
	    "",
	    ".",
	    "..",
	    "a..b.example",
	    ".example.com",
	    "example.com..",
	    "bücher.example",
	    "exa mple.com",
	    "a@b.example",
	    "[192.0.2.1]",
	    "example.com/x",
	};
	char out[256];
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		if (dmarc_org_domain(cases[i].in, out, sizeof(out)) < 0)
			fail_msg("'%s' refused", cases[i].in);
		if (strcmp(out, cases[i].org))
			fail_msg("'%s': '%s', want '%s'", cases[i].in, out, cases[i].org);
	}
	for (size_t i = 0; i < N(bad); i++)
		if (dmarc_org_domain(bad[i], out, sizeof(out)) == 0)
			fail_msg("'%s' accepted as '%s'", bad[i], out);
}

static void test_org_domain_limits(void **state)
{
	char out[256], label[70], name[300];
	(void)state;
	/* labels up to 63 octets, names up to 253 */
	memset(label, 'a', 63);
	snprintf(name, sizeof(name), "%.63s.example", label);
	assert_int_equal(dmarc_org_domain(name, out, sizeof(out)), 0);
	snprintf(name, sizeof(name), "%.63sa.example", label);
	assert_int_equal(dmarc_org_domain(name, out, sizeof(out)), -1);
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.57s.com", label, label, label, label);
	assert_int_equal(strlen(name), 253);
	assert_int_equal(dmarc_org_domain(name, out, sizeof(out)), 0);
	snprintf(name, sizeof(name), "%.63s.%.63s.%.63s.%.58s.com", label, label, label, label);
	assert_int_equal(dmarc_org_domain(name, out, sizeof(out)), -1);
	/* the answer must fit */
	assert_int_equal(dmarc_org_domain("a.example.com", out, 12), 0);
	assert_int_equal(dmarc_org_domain("a.example.com", out, 11), -1);
}

/* The list in use is the packaged one when it is installed. */
static void test_psl_source(void **state)
{
	(void)state;
	if (access(DMARC_PSL_FILE, R_OK) == 0)
		assert_string_equal(dmarc_psl_source(), DMARC_PSL_FILE);
	else
		assert_string_equal(dmarc_psl_source(), "built-in");
}

/* ---- From ---- */

struct from_case {
	const char *value;
	size_t count;
	const char *domains[4];
};

static void check_from(const struct from_case *c)
{
	char d[4][256];
	const char *v[1] = {c->value};
	memset(d, 0x55, sizeof(d));
	size_t n = dmarc_from_domains(v, 1, d, 4);
	if (n != c->count)
		fail_msg("'%s': %zu addresses, want %zu", c->value, n, c->count);
	for (size_t i = 0; i < n && i < 4; i++)
		if (strcmp(d[i], c->domains[i]))
			fail_msg("'%s': domain %zu '%s', want '%s'", c->value, i, d[i],
			         c->domains[i]);
}

/* RFC 5322 Appendix A, and the usual forms of display names. */
static void test_from_rfc5322(void **state)
{
	static const struct from_case cases[] = {
	    {"John Doe <jdoe@machine.example>", 1, {"machine.example"}},
	    {" \"Joe Q. Public\" <john.q.public@example.com>", 1, {"example.com"}},
	    {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	     3,
	     {"x.test", "example.org", "y.test"}},
	    {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	     2,
	     {"nil.test", "example.net"}},
	    {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 1, {"silly.test"}},
	    {"A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	     "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of "
	     "the group)",
	     3,
	     {"public.example", "example.org", "one.test"}},
	    {"Undisclosed recipients:;", 0, {NULL}},
	    {"\"Doe, John\" <john@example.com>", 1, {"example.com"}},
	    {"\"a@evil.example\" <x@good.example>", 1, {"good.example"}},
	    {"\"very.(),:;<>[]\\\".VERY.\\\"very@\\\\ \\\"very\\\".unusual\"@strange.example.com",
	     1,
	     {"strange.example.com"}},
	    {"jdoe@EXAMPLE.Com", 1, {"example.com"}},
	    {"=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>", 1, {"example.de"}},
	    {"\"=?UTF-8?B?SsO2cmc=?=\" <joerg@example.de>", 1, {"example.de"}},
	    {"user@xn--mnchen-3ya.de", 1, {"xn--mnchen-3ya.de"}},
	    {"Jörg <joerg@münchen.de>", 1, {"xn--mnchen-3ya.de"}},
	    {"x@[192.0.2.1]", 1, {"[192.0.2.1]"}},
	    {"", 0, {NULL}},
	    {"  (just a comment) ", 0, {NULL}},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		check_from(&cases[i]);
}

/* RFC 5322 4.4: the obsolete syntax receivers must still read. */
static void test_from_obsolete(void **state)
{
	static const struct from_case cases[] = {
	    {"Joe Q. Public <john.q.public@example.com>", 1, {"example.com"}},
	    {"Mary Smith <@node.test:mary@example.net>", 1, {"example.net"}},
	    {"<@a.test,@b.test:mary@example.net>", 1, {"example.net"}},
	    {"John Doe <jdoe@machine(comment).  example>", 1, {"machine.example"}},
	    {"Mary Smith\r\n  \r\n\t<mary@example.net>", 1, {"example.net"}},
	    {"a@b.example,, ,c@b.example,", 2, {"b.example", "b.example"}},
	    {"a@sub . b . example", 1, {"sub.b.example"}},
	    {"g1: a@x.example;, b@y.example, g2: ;", 2, {"x.example", "y.example"}},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		check_from(&cases[i]);
}

/* What leaves doubt is counted with an empty domain, never skipped. */
static void test_from_malformed(void **state)
{
	static const struct from_case cases[] = {
	    {"nobody", 1, {""}},
	    {"a@", 1, {""}},
	    {"@example.com", 1, {"example.com"}},
	    {"<postmaster>", 1, {""}},
	    {"Name <>", 1, {""}},
	    {"<a@b.example> c@d.example", 1, {""}},
	    {"<a@b.example> <c@d.example>", 1, {""}},
	    {"a@b.example c@d.example", 1, {""}},
	    {"a@b.example <c@d.example>", 1, {""}},
	    {"a@b example", 1, {""}},
	    {"a@b.example@c.example", 1, {""}},
	    {"a@\"b\".example", 1, {""}},
	    {"\"Doe <a@b.example>", 1, {""}},
	    {"Doe <a@b.example", 1, {""}},
	    {"a@b.example (comment", 1, {""}},
	    {"a@b.example)", 1, {""}},
	    {"<a@b:c@d.example>", 1, {""}},
	    {"<a,b@d.example>", 1, {""}},
	    {"g: h: a@b.example;", 1, {""}},
	    {"a@b.example: x", 1, {""}},
	    {"ok@fine.example, broken", 2, {"fine.example", ""}},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		check_from(&cases[i]);
}

/* Several values; more addresses than room; a domain too long to keep. */
static void test_from_values(void **state)
{
	const char *v[] = {"a@x.example", "B <b@Y.example>, c@z.example"};
	char d[2][256], longer[400];
	(void)state;
	assert_int_equal(dmarc_from_domains(v, 2, d, 2), 3);
	assert_string_equal(d[0], "x.example");
	assert_string_equal(d[1], "y.example");
	assert_int_equal(dmarc_from_domains(v, 2, NULL, 0), 3);
	assert_int_equal(dmarc_from_domains(v, 0, d, 2), 0);
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "x@", 2);
	memcpy(longer + sizeof(longer) - 9, ".example", 9);
	v[0] = longer;
	assert_int_equal(dmarc_from_domains(v, 1, d, 2), 1);
	assert_string_equal(d[0], "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_valid),
	    cmocka_unit_test(test_record_case),
	    cmocka_unit_test(test_record_invalid),
	    cmocka_unit_test(test_record_fallback),
	    cmocka_unit_test(test_record_long),
	    cmocka_unit_test(test_record_is_dmarc),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_org_domain),
	    cmocka_unit_test(test_org_domain_limits),
	    cmocka_unit_test(test_psl_source),
	    cmocka_unit_test(test_from_rfc5322),
	    cmocka_unit_test(test_from_obsolete),
	    cmocka_unit_test(test_from_malformed),
	    cmocka_unit_test(test_from_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
