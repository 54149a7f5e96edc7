/* Unit tests for lib/size.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "size.h"

#define K 1024LL
#define M (1024 * K)
#define G (1024 * M)
#define T (1024 * G)

struct parse_case {
	const char *in;
	long long want; /* when 'why' is NULL */
	const char *why;
};

static const struct parse_case parse_cases[] = {
    {"0", 0, NULL},
    {"none", 0, NULL},
    {"None", 0, NULL},
    {"UNLIMITED", 0, NULL},
    {"unlimited", 0, NULL},
    {"1", 1, NULL},
    {"1000", 1000, NULL},
    {"007", 7, NULL},
    {"100B", 100, NULL},
    {"1K", K, NULL},
    {"1k", K, NULL},
    {"1KB", K, NULL},
    {"1kib", K, NULL},
    {"1KiB", K, NULL},
    {"500M", 500 * M, NULL},
    {"500mb", 500 * M, NULL},
    {"2G", 2 * G, NULL},
    {"2GiB", 2 * G, NULL},
    {"1.5G", 3 * G / 2, NULL},
    {"0.5K", 512, NULL},
    {"1.1T", 1209462790553LL, NULL}, /* floor(1.1 * 2^40) */
    {"1.0001K", 1024, NULL},         /* 1024.1024 rounds down */
    {"0.001G", 1073741, NULL},       /* 1073741.824 rounds down */
    {"1T", T, NULL},
    {"8192T", 8192 * T, NULL}, /* 2^53, the limit */
    {"9007199254740992", 9007199254740992LL, NULL},

    {"", 0, "empty"},
    {" 1G", 0, "contains white space"},
    {"1G ", 0, "contains white space"},
    {"1 G", 0, "contains white space"},
    {"1\tG", 0, "contains white space"},
    {"-1", 0, "negative sizes are not allowed"},
    {"-1G", 0, "negative sizes are not allowed"},
    {"+1G", 0, "not a number"},
    {"abc", 0, "not a number"},
    {"G", 0, "not a number"},
    {".5G", 0, "not a number"},
    {"1.", 0, "expected digits after '.'"},
    {"1.G", 0, "expected digits after '.'"},
    {"1.5", 0, "a fraction of a byte needs a unit"},
    {"1.5B", 0, "a fraction of a byte needs a unit"},
    {"5P", 0, "unknown unit"},
    {"1iB", 0, "unknown unit"},
    {"1GiBB", 0, "unknown unit"},
    {"1e3", 0, "unknown unit"},
    {"0x10", 0, "unknown unit"},
    {"1,5G", 0, "unknown unit"},
    {"8193T", 0, "too large"},
    {"8192.5T", 0, "too large"},
    {"9007199254740993", 0, "too large"},
    {"99999999999999999999999999", 0, "too large"},
    {"1.0000000000000000001G", 0, "too many decimal places"},
    {"0.0001K", 0, "rounds down to 0 bytes"},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct mc_error err;
		long long got = -42;
		int rc = size_parse(c->in, &got, &err);
		if (!c->why) {
			if (rc != 0)
				fail_msg("'%s' refused: %s", c->in, err.msg);
			if (got != c->want)
				fail_msg("'%s': got %lld, want %lld", c->in, got, c->want);
			continue;
		}
		if (rc != -1)
			fail_msg("'%s' accepted as %lld", c->in, got);
		assert_int_equal(err.kind, MC_EDATA);
		if (strncmp(err.msg, "invalid size '", 14) || !strstr(err.msg, c->why))
			fail_msg("'%s': message '%s' lacks '%s'", c->in, err.msg, c->why);
		assert_int_equal(got, -42); /* untouched on error */
	}
}

static void test_parse_messages(void **state)
{
	struct mc_error err;
	long long got;

	(void)state;
	assert_int_equal(size_parse("abc", &got, &err), -1);
	assert_string_equal(err.msg, "invalid size 'abc': not a number");
	assert_int_equal(size_parse(NULL, &got, &err), -1);
	assert_string_equal(err.msg, "invalid size '': empty");
	assert_int_equal(size_parse("1\nG", &got, &err), -1);
	assert_string_equal(err.msg, "invalid size '1\\x0aG': contains white space");
}

struct format_case {
	long long bytes;
	const char *want;
};

static const struct format_case format_cases[] = {
    {0, "unlimited"},
    {1, "1"},
    {1000, "1000"},
    {1023, "1023"},
    {K, "1K"},
    {1536, "1536"},
    {500 * M, "500M"},
    {3 * G / 2, "1536M"},
    {2 * G, "2G"},
    {T, "1T"},
    {8192 * T, "8192T"},
    {T + 1, "1099511627777"},
    {5 * G + K, "5242881K"},
};

static void test_format_table(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		size_format(format_cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, format_cases[i].want);
	}
}

/* What size_format() writes, size_parse() reads back unchanged. */
static void test_roundtrip(void **state)
{
	static const long long values[] = {0, 1, 999, K, 1536, 500 * M, 3 * G / 2, 7 * T, 8192 * T};
	char buf[32];
	long long got;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		size_format(values[i], buf, sizeof(buf));
		assert_int_equal(size_parse(buf, &got, NULL), 0);
		assert_int_equal(got, values[i]);
	}
}

static void test_format_small_buffer(void **state)
{
	char buf[4];

	(void)state;
	size_format(1000, buf, sizeof(buf));
	assert_string_equal(buf, "100"); /* truncated, still terminated */
	size_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "unl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),         cmocka_unit_test(test_parse_messages),
	    cmocka_unit_test(test_format_table),        cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_format_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
