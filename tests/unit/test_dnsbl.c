/* Unit tests for the DNSBL table, query names, code decoding and verdicts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dnsbl.h"

static const char table_text[] =
    "lists:\n"
    "  - zone: zen.example\n"
    "    kind: ip\n"
    "    ipv6: true\n"
    "    weight: major\n"
    "    delist: https://delist.example/\n"
    "    codes:\n"
    "      - {value: 127.0.0.2, meaning: spam source}\n"
    "      - {range: 127.0.0.4-127.0.0.7, meaning: exploited}\n"
    "    refused:\n"
    "      - {range: 127.255.255.252-127.255.255.255, meaning: refused}\n"
    "  - zone: dbl.example\n"
    "    kind: domain\n"
    "    weight: minor\n"
    "    delist: https://delist.example/\n"
    "    codes: [{value: 127.0.1.2, meaning: spam domain}]\n"
    "    test_listed: [dbltest.com]\n"
    "    test_clean: [invalid]\n"
    "  - zone: v4only.example\n"
    "    kind: ip\n"
    "    weight: minor\n"
    "    delist: https://delist.example/\n"
    "    codes: [{value: 127.0.0.2, meaning: listed}]\n";

static void load(struct dnsbl_table *t)
{
	struct mc_error err;
	if (dnsbl_table_parse(t, "t.yaml", table_text, strlen(table_text), &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_ranges(void **state)
{
	uint32_t lo, hi;
	(void)state;
	assert_int_equal(dnsbl_parse_range("127.0.0.2", &lo, &hi), 0);
	assert_true(lo == 0x7f000002 && hi == 0x7f000002);
	assert_int_equal(dnsbl_parse_range("127.0.0.2-127.0.0.11", &lo, &hi), 0);
	assert_true(lo == 0x7f000002 && hi == 0x7f00000b);
	assert_int_equal(dnsbl_parse_range("127.0.0.11-127.0.0.2", &lo, &hi), -1);
	assert_int_equal(dnsbl_parse_range("127.0.0", &lo, &hi), -1);
	assert_int_equal(dnsbl_parse_range("127.0.0.2-", &lo, &hi), -1);
	assert_int_equal(dnsbl_parse_range("::1", &lo, &hi), -1);
	assert_int_equal(dnsbl_parse_range("", &lo, &hi), -1);
}

static void test_names(void **state)
{
	struct dnsbl_table t;
	char buf[300];
	(void)state;
	load(&t);
	assert_int_equal(dnsbl_query_name(&t.v[0], "192.0.2.10", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "10.2.0.192.zen.example");
	assert_int_equal(dnsbl_query_name(&t.v[0], "2001:db8::10", buf, sizeof(buf)), 1);
	assert_string_equal(
	    buf, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example");
	assert_int_equal(dnsbl_query_name(&t.v[0], "::ffff:7f00:2", buf, sizeof(buf)), 1);
	assert_string_equal(
	    buf, "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zen.example");
	/* a domain on an IP list, IPv6 on an IPv4-only list: not covered */
	assert_int_equal(dnsbl_query_name(&t.v[0], "example.org", buf, sizeof(buf)), 0);
	assert_int_equal(dnsbl_query_name(&t.v[2], "2001:db8::10", buf, sizeof(buf)), 0);
	assert_int_equal(dnsbl_query_name(&t.v[1], "192.0.2.10", buf, sizeof(buf)), 0);
	assert_int_equal(dnsbl_query_name(&t.v[1], "Example.ORG.", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "Example.ORG.dbl.example");
	assert_int_equal(dnsbl_query_name(&t.v[1], "bad domain", buf, sizeof(buf)), -1);
	assert_int_equal(dnsbl_query_name(&t.v[0], "192.0.2.10", buf, 10), -1);
	assert_int_equal(dnsbl_subject_kind("a..b"), DNSBL_SUBJECT_BAD);
	assert_int_equal(dnsbl_subject_kind("-a.b"), DNSBL_SUBJECT_BAD);
	assert_int_equal(dnsbl_subject_kind("192.0.2.1"), DNSBL_SUBJECT_V4);
	dnsbl_table_release(&t);
}

static void test_decode(void **state)
{
	struct dnsbl_table t;
	int refused;
	(void)state;
	load(&t);
	assert_string_equal(dnsbl_decode(&t.v[0], 0x7f000002, &refused), "spam source");
	assert_false(refused);
	assert_string_equal(dnsbl_decode(&t.v[0], 0x7f000005, &refused), "exploited");
	assert_null(dnsbl_decode(&t.v[0], 0x7f000003, &refused));
	assert_false(refused);
	assert_string_equal(dnsbl_decode(&t.v[0], 0x7ffffffe, &refused), "refused");
	assert_true(refused);
	assert_null(dnsbl_decode(&t.v[1], 0x7ffffffe, &refused));
	assert_string_equal(t.v[1].test_listed[0], "dbltest.com");
	assert_null(t.v[1].test_listed[1]);
	assert_int_equal(t.v[0].weight, DNSBL_MAJOR);
	assert_int_equal(t.v[1].kind, DNSBL_DOMAIN);
	dnsbl_table_release(&t);
}

static void bad_table(const char *text, const char *want)
{
	struct dnsbl_table t;
	struct mc_error err;
	assert_int_equal(dnsbl_table_parse(&t, "t.yaml", text, strlen(text), &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("'%s' not in '%s'", want, err.msg);
	assert_int_equal(err.kind, MC_ECONFIG);
	dnsbl_table_release(&t);
}

#define HEAD "lists:\n  - zone: a.example\n    delist: x\n"

static void test_errors(void **state)
{
	(void)state;
	bad_table("lists: [", "'t.yaml':");
	bad_table("zones: []\n", "'t.yaml':1: unknown key 'zones'");
	bad_table("lists: 3\n", "'lists' must be a list");
	bad_table(HEAD "    kind: ipv4\n", "'t.yaml':4: invalid kind 'ipv4': ip or domain");
	bad_table(HEAD "    kind: ip\n    weight: big\n", "invalid weight 'big'");
	bad_table(HEAD "    kind: ip\n    weight: major\n    colour: red\n",
	          "unknown field 'colour'");
	bad_table(HEAD "    kind: ip\n    weight: major\n", "list 'a.example' lacks 'codes'");
	bad_table(
	    HEAD "    kind: ip\n    weight: major\n    codes: [{value: 127.0.0.300, meaning: x}]\n",
	    "'codes': invalid code '127.0.0.300'");
	bad_table(HEAD "    kind: ip\n    weight: major\n    codes: [{range: 127.0.0.2-127.0.0.1, "
	               "meaning: x}]\n",
	          "invalid code '127.0.0.2-127.0.0.1'");
	bad_table(HEAD "    kind: ip\n    weight: major\n    codes: [{value: 127.0.0.2}]\n",
	          "has no meaning");
	bad_table(
	    HEAD
	    "    kind: domain\n    weight: major\n    codes: [{value: 127.0.0.2, meaning: x}]\n",
	    "lacks 'test_listed'");
	bad_table("lists:\n  - zone: 'not a zone'\n", "invalid zone 'not a zone'");
	bad_table(HEAD
	          "    kind: ip\n    weight: major\n    codes: [{value: 127.0.0.2, meaning: x}]\n"
	          "  - zone: a.example\n    kind: ip\n    weight: major\n    delist: x\n"
	          "    codes: [{value: 127.0.0.2, meaning: x}]\n",
	          "list 'a.example' appears twice");
}

/* The shipped table parses and holds the lists issue 7 names. */
static void test_shipped(void **state)
{
	struct dnsbl_table t;
	struct mc_error err;
	char path[4096];
	int refused;
	(void)state;
	snprintf(path, sizeof(path), "%s/data/dnsbl.yaml", MAILCTL_SRC);
	if (dnsbl_table_load(&t, path, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(t.n >= 10);
	assert_string_equal(t.v[0].zone, "zen.spamhaus.org");
	assert_string_equal(dnsbl_decode(&t.v[0], 0x7ffffffe, &refused),
	                    "query refused (public/open resolver, typo or too many queries): use "
	                    "your own recursive resolver");
	assert_true(refused);
	dnsbl_table_release(&t);
	assert_int_equal(dnsbl_table_load(&t, "/nonexistent/dnsbl.yaml", &err), -1);
	assert_non_null(strstr(err.msg, "cannot open '/nonexistent/dnsbl.yaml'"));
	dnsbl_table_release(&t);
}

static void test_public_resolver(void **state)
{
	struct dnsq_server s;
	struct mc_error err;
	(void)state;
	assert_int_equal(dnsq_server_parse("8.8.8.8", &s, &err), 0);
	assert_string_equal(dnsbl_public_resolver(&s), "Google");
	assert_int_equal(dnsq_server_parse("[2606:4700:4700::1111]:53", &s, &err), 0);
	assert_string_equal(dnsbl_public_resolver(&s), "Cloudflare");
	assert_int_equal(dnsq_server_parse("192.0.2.53", &s, &err), 0);
	assert_null(dnsbl_public_resolver(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),  cmocka_unit_test(test_names),
	    cmocka_unit_test(test_decode),  cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_shipped), cmocka_unit_test(test_public_resolver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
