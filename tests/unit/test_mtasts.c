/* Unit tests for the MTA-STS policy parser (RFC 8461 3.2: the examples,
 * line ends, every error, the limits, the wildcard rules), MX matching
 * (RFC 8461 4.1) and the fetch's checks that need no network (no
 * address). The fetch itself runs against a real nginx in
 * tests/integration/dns_check.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "strbuf.h"

static int parse(const char *text, struct mtasts_policy *p, struct mc_error *err)
{
	return mtasts_parse(text, strlen(text), p, err);
}

/* The first example of RFC 8461 3.2, with LF line ends. */
static void test_parse_rfc_example(void **state)
{
	struct mtasts_policy p;
	struct mc_error err;
	(void)state;
	assert_int_equal(parse("version: STSv1\n"
	                       "mode: enforce\n"
	                       "mx: mail.example.com\n"
	                       "mx: *.example.net\n"
	                       "mx: backupmx.example.com\n"
	                       "max_age: 604800\n",
	                       &p, &err),
	                 0);
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(p.mx[0], "mail.example.com");
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.mx[2], "backupmx.example.com");
	assert_null(p.mx[3]);
	assert_int_equal(mtasts_policy_match(&p, "mx1.example.net."), 1);
	assert_int_equal(mtasts_policy_match(&p, "BACKUPMX.example.com"), 2);
	assert_int_equal(mtasts_policy_match(&p, "example.net"), -1);
	mtasts_policy_release(&p);
	assert_null(p.mx);
	assert_int_equal(p.nmx, 0);
}

/* CRLF, LF, both mixed, no final line end, blanks around values, fields
 * in any order after version, extensions ignored, the mode values. */
static void test_parse_forms(void **state)
{
	static const struct {
		const char *text;
		enum mtasts_mode mode;
		unsigned long max_age;
		size_t nmx;
	} ok[] = {
	    {"version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 86400\r\n",
	     MTASTS_TESTING, 86400, 1},
	    {"version: STSv1\r\nmode: none\nmx: a.example\r\nmax_age: 0", MTASTS_NONE, 0, 1},
	    {"version:STSv1\nmax_age:\t 31557600 \t\nmx:  *.example.org\nmode: enforce  ",
	     MTASTS_ENFORCE, 31557600, 1},
	    {"version: STSv1\nmode: enforce\nx-note: anything goes, even: colons\nmx: a.example\n"
	     "mx: b.example\nmx: c.example\nmax_age: 0000604800\nfoo.bar_baz-9: v\n",
	     MTASTS_ENFORCE, 604800, 3},
	    /* digits and hyphens inside labels; a one-label name */
	    {"version: STSv1\nmode: enforce\nmx: 1-a.b2.example\nmx: localhost\nmax_age: 1\n",
	     MTASTS_ENFORCE, 1, 2},
	};
	struct mtasts_policy p;
	struct mc_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (parse(ok[i].text, &p, &err) < 0)
			fail_msg("policy %zu: %s", i, err.msg);
		assert_int_equal(p.mode, ok[i].mode);
		assert_int_equal(p.max_age, ok[i].max_age);
		assert_int_equal(p.nmx, ok[i].nmx);
		mtasts_policy_release(&p);
	}
	assert_string_equal(mtasts_mode_name(MTASTS_ENFORCE), "enforce");
	assert_string_equal(mtasts_mode_name(MTASTS_TESTING), "testing");
	assert_string_equal(mtasts_mode_name(MTASTS_NONE), "none");
}

#define HEAD "version: STSv1\n"
#define TAIL "mode: enforce\nmx: mail.example.org\nmax_age: 604800\n"

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"", "the policy is empty"},
	    {"mode: enforce\n" HEAD "mx: a.example\nmax_age: 1\n",
	     "line 1: the policy must begin with 'version: STSv1'"},
	    {"version: STSv2\n" TAIL, "line 1: unknown version 'STSv2' (only STSv1 is defined)"},
	    {"version: stsv1\n" TAIL, "line 1: unknown version 'stsv1'"},
	    {"Version: STSv1\n" TAIL, "line 1: the policy must begin with 'version: STSv1'"},
	    {HEAD "version: STSv1\n" TAIL, "line 2: 'version' must be the first field"},
	    {HEAD "mode: Enforce\nmx: a.example\nmax_age: 1\n",
	     "line 2: unknown mode 'Enforce' (enforce, testing or none)"},
	    {HEAD TAIL "mode: testing\n", "line 5: a second 'mode' field"},
	    {HEAD TAIL "max_age: 1\n", "line 5: a second 'max_age' field"},
	    {HEAD "mode: enforce\nmx: a.example\nmax_age: 1d\n",
	     "line 4: max_age '1d' is not a number of seconds"},
	    {HEAD "mode: enforce\nmx: a.example\nmax_age: -1\n", "max_age '-1' is not a number"},
	    {HEAD "mode: enforce\nmx: a.example\nmax_age: 12345678901\n",
	     "max_age '12345678901' is not a number"},
	    {HEAD "mode: enforce\nmx: a.example\nmax_age: 31557601\n",
	     "line 4: max_age 31557601 is over 31557600 seconds"},
	    {HEAD "mode: enforce\nmax_age: 1\n", "the policy has no 'mx' field"},
	    {HEAD "mx: a.example\nmax_age: 1\n", "the policy has no 'mode' field"},
	    {HEAD "mode: enforce\nmx: a.example\n", "the policy has no 'max_age' field"},
	    {HEAD "mode enforce\n", "line 2: 'mode enforce' is not 'key: value'"},
	    {HEAD "\n" TAIL, "line 2: empty line"},
	    {HEAD TAIL "\n", "line 5: empty line"},
	    {HEAD "\r\n" TAIL, "line 2: empty line"},
	    {"version : STSv1\n" TAIL, "line 1: invalid field name 'version '"},
	    {HEAD "_x: 1\n" TAIL, "line 2: invalid field name '_x'"},
	    {HEAD "a23456789012345678901234567890123: 1\n" TAIL, "line 2: invalid field name"},
	    {HEAD "x y: 1\n" TAIL, "line 2: invalid field name 'x y'"},
	    {HEAD "mode:\n" TAIL, "line 2: 'mode' has no value"},
	    {HEAD "mode: \t \n" TAIL, "line 2: 'mode' has no value"},
	    {HEAD "x: a\x01z\n" TAIL, "line 2: a control character in the value of 'x'"},
	    {HEAD "x: a\x7fz\n" TAIL, "line 2: a control character in the value of 'x'"},
	    {"version: STSv1\rmode: enforce\n", "line 1: a control character in the value"},
	    {HEAD TAIL "x: y\r", "line 5: a control character in the value of 'x'"},
	};
	struct mtasts_policy p;
	struct mc_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].text, &p, &err) == 0)
			fail_msg("policy %zu accepted", i);
		assert_int_equal(err.kind, MC_EDATA);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("policy %zu: '%s', want '%s'", i, err.msg, bad[i].msg);
		assert_null(p.mx);
		assert_int_equal(p.nmx, 0);
	}
	/* a NUL byte inside the length */
	assert_int_equal(
	    mtasts_parse(HEAD "x: a\0b\n" TAIL, sizeof(HEAD "x: a\0b\n" TAIL) - 1, &p, &err), -1);
	assert_string_equal(err.msg, "the policy contains a NUL byte");
}

/* mx patterns: a host name, or "*." and one; nothing else. */
static void test_parse_mx_patterns(void **state)
{
	static const char *const good[] = {"a.example", "*.example.net", "*.com",           "x",
	                                   "a-b.c-d.e", "0.1.2.example", "MAIL.Example.ORG"};
	static const char *const bad[] = {
	    "*",           "*.",          "**.example",   "a.*.example", "*example.com",
	    "a..example",  ".a.example",  "a.example.",   "-a.example",  "a-.example",
	    "a_b.example", "*.*.example", "a.example:25", "[192.0.2.1]"};
	char text[512];
	struct mtasts_policy p;
	struct mc_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), HEAD "mode: enforce\nmx: %s\nmax_age: 1\n", good[i]);
		if (parse(text, &p, &err) < 0)
			fail_msg("mx '%s': %s", good[i], err.msg);
		assert_string_equal(p.mx[0], good[i]);
		mtasts_policy_release(&p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEAD "mode: enforce\nmx: %s\nmax_age: 1\n", bad[i]);
		if (parse(text, &p, &err) == 0)
			fail_msg("mx '%s' accepted", bad[i]);
		assert_non_null(strstr(err.msg, "line 3: invalid mx pattern"));
	}
	/* labels up to 63 bytes, names up to 253 */
	char label[70], name[300];
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), HEAD "mode: enforce\nmx: %s.example\nmax_age: 1\n", label);
	assert_int_equal(parse(text, &p, &err), 0);
	mtasts_policy_release(&p);
	snprintf(text, sizeof(text), HEAD "mode: enforce\nmx: a%s.example\nmax_age: 1\n", label);
	assert_int_equal(parse(text, &p, &err), -1);
	/* 4 labels of 63 and one of 1: 4 * 64 + 1 = 257 > 253 */
	snprintf(name, sizeof(name), "%s.%s.%s.%s.x", label, label, label, label);
	snprintf(text, sizeof(text), HEAD "mode: enforce\nmx: %s\nmax_age: 1\n", name);
	assert_int_equal(parse(text, &p, &err), -1);
	assert_non_null(strstr(err.msg, "invalid mx pattern"));
	/* a long bad value is shortened in the message */
	assert_true(strlen(err.msg) < 120);
}

/* The size limit: 64 KiB exactly is fine, one byte more is not. */
static void test_parse_size(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct mtasts_policy p;
	struct mc_error err;
	(void)state;
	strbuf_addstr(&sb, HEAD TAIL);
	while (sb.len + 80 < MTASTS_MAX_SIZE)
		strbuf_addstr(&sb,
		              "x: 0123456789012345678901234567890123456789012345678901234567890123"
		              "4567890\n");
	strbuf_addstr(&sb, "x: ");
	while (sb.len < MTASTS_MAX_SIZE - 1)
		strbuf_addch(&sb, 'y');
	strbuf_addch(&sb, '\n');
	assert_int_equal(sb.len, MTASTS_MAX_SIZE);
	assert_int_equal(mtasts_parse(sb.buf, sb.len, &p, &err), 0);
	assert_int_equal(p.nmx, 1);
	mtasts_policy_release(&p);
	strbuf_addch(&sb, 'z');
	assert_int_equal(mtasts_parse(sb.buf, sb.len, &p, &err), -1);
	assert_string_equal(err.msg, "the policy is 65537 bytes, over the limit of 65536");
	strbuf_release(&sb);
}

/* RFC 8461 4.1: case-insensitive, a final dot aside, the wildcard one
 * left-most label. */
static void test_match(void **state)
{
	static const struct {
		const char *pattern, *host;
		int match;
	} cases[] = {
	    {"mail.example.com", "mail.example.com", 1},
	    {"mail.example.com", "MAIL.Example.COM.", 1},
	    {"Mail.Example.Com", "mail.example.com", 1},
	    {"mail.example.com", "mail.example.co", 0},
	    {"mail.example.com", "mx.mail.example.com", 0},
	    {"*.example.com", "mail.example.com", 1},
	    {"*.example.com", "mail.example.com.", 1},
	    {"*.EXAMPLE.com", "Mail.example.COM", 1},
	    {"*.example.com", "example.com", 0},
	    {"*.example.com", "foo.bar.example.com", 0},
	    {"*.example.com", ".example.com", 0},
	    {"*.example.com", "mailexample.com", 0},
	    {"*.example.com", "mail.example.net", 0},
	    {"*.com", "example.com", 1},
	    {"*.com", "com", 0},
	    {"", "", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mtasts_mx_match(cases[i].pattern, cases[i].host) != cases[i].match)
			fail_msg("'%s' against '%s': want %d", cases[i].pattern, cases[i].host,
			         cases[i].match);
}

/* What is decided before anything is sent: no (usable) address, a name
 * that cannot go into a URL. */
static void test_fetch_no_address(void **state)
{
	static const char *const none[] = {NULL};
	static const char *const junk[] = {"not-an-address", "192.0.2.300", NULL};
	struct mtasts_fetch_options o = {NULL, 100};
	struct mc_error err;
	(void)state;
	struct mtasts_fetch f = {.domain = "example.org", .addrs = none};
	assert_int_equal(mtasts_fetch(&f, &o, &err), -1);
	assert_int_equal(f.error, MTASTS_FETCH_NOADDR);
	assert_string_equal(err.msg, "mta-sts.example.org has no address to connect to");
	assert_string_equal(f.err.msg, err.msg);
	assert_null(f.text);
	assert_int_equal(f.http_status, 0);
	f.addrs = junk;
	assert_int_equal(mtasts_fetch(&f, &o, &err), -1);
	assert_int_equal(f.error, MTASTS_FETCH_NOADDR);
	static const char *const v4[] = {"192.0.2.10", NULL};
	struct mtasts_fetch g = {.domain = "example.org/x?", .addrs = v4};
	assert_int_equal(mtasts_fetch(&g, &o, &err), -1);
	assert_int_equal(g.error, MTASTS_FETCH_NOADDR);
	mtasts_fetch_release(&f);
	mtasts_fetch_release(&g);
	/* several at once, none sendable: every one gets its result */
	struct mtasts_fetch v[2] = {{.domain = "a.example", .addrs = none},
	                            {.domain = "b.example", .addrs = NULL}};
	assert_int_equal(mtasts_fetch_all(v, 2, NULL, &err), 0);
	assert_int_equal(v[0].error, MTASTS_FETCH_NOADDR);
	assert_int_equal(v[1].error, MTASTS_FETCH_NOADDR);
	assert_non_null(strstr(v[1].err.msg, "mta-sts.b.example"));
	assert_string_equal(mtasts_fetch_error_name(MTASTS_FETCH_REDIRECT), "redirect");
	assert_string_equal(mtasts_fetch_error_name(MTASTS_FETCH_TYPE), "content type");
	char *url = mtasts_url("example.org");
	assert_string_equal(url, "https://mta-sts.example.org/.well-known/mta-sts.txt");
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_rfc_example), cmocka_unit_test(test_parse_forms),
	    cmocka_unit_test(test_parse_errors),      cmocka_unit_test(test_parse_mx_patterns),
	    cmocka_unit_test(test_parse_size),        cmocka_unit_test(test_match),
	    cmocka_unit_test(test_fetch_no_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
