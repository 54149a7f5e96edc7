/* Unit tests for lib/address.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "address.h"

/* Long names built at compile time so the tables stay tables. */
#define A10 "aaaaaaaaaa"
#define A60 A10 A10 A10 A10 A10 A10
#define A61 A60 "a"
#define A62 A60 "aa"
#define A63 A60 "aaa"
#define A64 A60 "aaaa"
#define A65 A60 "aaaaa"
#define B63                                                                                        \
	"bbbbbbbbbb"                                                                               \
	"bbbbbbbbbb"                                                                               \
	"bbbbbbbbbb"                                                                               \
	"bbbbbbbbbb"                                                                               \
	"bbbbbbbbbb"                                                                               \
	"bbbbbbbbbb"                                                                               \
	"bbb"
#define D189 A63 "." B63 "." A61         /* 189 characters */
#define D253 A63 "." B63 "." A63 "." A61 /* the longest domain */
#define D254 A63 "." B63 "." A63 "." A62

enum mode { NORMAL, SOURCE, BOTH };

struct addr_case {
	const char *in;
	enum mode mode;
	const char *want; /* normalised address, or NULL for an error */
	const char *why;  /* a part of the error message */
};

static const struct addr_case addr_cases[] = {
    /* valid, and how they are normalised */
    {"user@example.org", BOTH, "user@example.org", NULL},
    {"User.Name@Example.ORG", BOTH, "user.name@example.org", NULL},
    {"A@EXAMPLE.ORG", NORMAL, "a@example.org", NULL},
    {"a+tag@x.org", NORMAL, "a+tag@x.org", NULL},
    {"o'brien@x.org", NORMAL, "o'brien@x.org", NULL},
    {"!#$%&'*+-/=?^_`{|}~@x.org", NORMAL, "!#$%&'*+-/=?^_`{|}~@x.org", NULL},
    {"first.middle.last@x.org", NORMAL, "first.middle.last@x.org", NULL},
    {"user@b\xc3\xbc"
     "cher.example",
     BOTH, "user@xn--bcher-kva.example", NULL},
    {"user@B\xc3\x9c"
     "CHER.Example",
     NORMAL, "user@xn--bcher-kva.example", NULL},
    {"a@Fa\xc3\x9f.de", NORMAL, "a@xn--fa-hia.de", NULL},         /* non-transitional */
    {"a@\xef\xbd\x85\xef\xbd\x98.org", NORMAL, "a@ex.org", NULL}, /* fullwidth "ex" */
    {"a@xn--bcher-kva.example", NORMAL, "a@xn--bcher-kva.example", NULL},
    {"user@example.org.", NORMAL, "user@example.org", NULL},
    {"user@mail.sub.example.co.uk", NORMAL, "user@mail.sub.example.co.uk", NULL},
    {"a@x-y.org", NORMAL, "a@x-y.org", NULL},
    {"a@123.org", NORMAL, "a@123.org", NULL},
    {A64 "@x.org", NORMAL, A64 "@x.org", NULL},
    {"a@" A63 ".org", NORMAL, "a@" A63 ".org", NULL},
    {A64 "@" D189, NORMAL, A64 "@" D189, NULL}, /* 254 characters */
    {"@x.org", SOURCE, "@x.org", NULL},
    {"@B\xc3\xbc"
     "cher.example",
     SOURCE, "@xn--bcher-kva.example", NULL},

    /* shape */
    {"", BOTH, NULL, "address is empty"},
    {"foo", BOTH, NULL, "missing '@'"},
    {"a@b@x.org", BOTH, NULL, "more than one '@'"},
    {"\"a b\"@x.org", BOTH, NULL, "quoted local parts are not supported"},
    {"\"a@b\"@x.org", NORMAL, NULL, "quoted local parts are not supported"},
    {"@x.org", NORMAL, NULL, "local part is empty"},
    {"@", SOURCE, NULL, "domain is empty"},
    {"a@", BOTH, NULL, "domain is empty"},
    {A65 "@x.org", NORMAL, NULL, "local part is longer than 64 characters"},
    {A64 "@" D189 "a", NORMAL, NULL, "address is longer than 254 characters"},

    /* local part */
    {"a..b@x.org", NORMAL, NULL, "local part has consecutive dots"},
    {".a@x.org", NORMAL, NULL, "local part starts with a dot"},
    {"a.@x.org", NORMAL, NULL, "local part ends with a dot"},
    {"a b@x.org", NORMAL, NULL, "local part contains a space"},
    {"a(b)@x.org", NORMAL, NULL, "local part contains '('"},
    {"a,b@x.org", NORMAL, NULL, "local part contains ','"},
    {"a'; DROP TABLE users;--@x.org", BOTH, NULL, "local part contains ';'"},
    {"j\xc3\xbcrgen@x.org", BOTH, NULL, "non-ASCII local parts are not supported"},

    /* bytes */
    {"a\xff@x.org", NORMAL, NULL, "not valid UTF-8"},
    {"a@\xc3\x28.org", NORMAL, NULL, "not valid UTF-8"},
    {"a\xc0\xae@x.org", NORMAL, NULL, "not valid UTF-8"},     /* overlong '.' */
    {"a\xed\xa0\x80@x.org", NORMAL, NULL, "not valid UTF-8"}, /* surrogate */
    {"a\xc2\x80@x.org", NORMAL, NULL, "control characters"},  /* C1 control */
    {"a\x01@x.org", BOTH, NULL, "address contains control characters"},
    {"a@x.org\n", NORMAL, NULL, "address contains control characters"},
    {"a\x7f@x.org", NORMAL, NULL, "address contains control characters"},

    /* domain */
    {"a@x", BOTH, NULL, "domain needs at least two labels"},
    {"a@x.", NORMAL, NULL, "domain needs at least two labels"},
    {"a@[192.0.2.1]", BOTH, NULL, "IP address literals are not supported"},
    {"a@[IPv6:2001:db8::1]", NORMAL, NULL, "IP address literals are not supported"},
    {"a@192.0.2.1", NORMAL, NULL, "IP addresses are not supported"},
    {"a@x.123", NORMAL, NULL, "top-level domain '123' is all-numeric"},
    {"a@x_y.org", NORMAL, NULL, "label 'x_y' contains '_'"},
    {"a@ex ample.org", NORMAL, NULL, "label 'ex ample' contains a space"},
    {"a@-x.org", NORMAL, NULL, "label '-x' starts with a hyphen"},
    {"a@x-.org", NORMAL, NULL, "label 'x-' ends with a hyphen"},
    {"a@x..org", NORMAL, NULL, "domain has an empty label"},
    {"a@.x.org", NORMAL, NULL, "domain has an empty label"},
    {"a@x.org..", NORMAL, NULL, "domain has an empty label"},
    {"a@" A64 ".org", NORMAL, NULL, "is longer than 63 characters"},
    {"a@ab--cd.org", NORMAL, NULL, "IDNA conversion failed"},
    {"a@xn--zz.org", NORMAL, NULL, "IDNA conversion failed"},
    {"a@\xe2\x98\x83.net", NORMAL, NULL, "IDNA conversion failed"}, /* snowman */
    {"a@" D254, NORMAL, NULL, "domain is longer than 253 characters"},
};

static int run_mode(const struct addr_case *c, int source, char **out, struct mc_error *err)
{
	*out = NULL;
	mc_error_clear(err);
	if (source)
		return addr_normalize_source(c->in, out, NULL, NULL, err);
	return addr_normalize(c->in, out, NULL, NULL, err);
}

static void check_case(const struct addr_case *c, int source)
{
	struct mc_error err;
	char *out;
	int rc = run_mode(c, source, &out, &err);

	if (c->want) {
		if (rc != 0)
			fail_msg("'%s' (source=%d) refused: %s", c->in, source, err.msg);
		assert_string_equal(out, c->want);
		free(out);
		return;
	}
	if (rc != -1)
		fail_msg("'%s' (source=%d) accepted as '%s'", c->in, source, out);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "invalid address '"));
	if (!strstr(err.msg, c->why))
		fail_msg("'%s': message '%s' lacks '%s'", c->in, err.msg, c->why);
	assert_null(strchr(err.msg, '\n'));
}

static void test_addr_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		if (c->mode != SOURCE)
			check_case(c, 0);
		if (c->mode != NORMAL)
			check_case(c, 1);
	}
}

struct msg_case {
	const char *in;
	int domain; /* addr_domain_normalize() rather than addr_normalize() */
	const char *msg;
};

static const struct msg_case msg_cases[] = {
    {"foo", 0, "invalid address 'foo': missing '@'"},
    {"a..b@x.org", 0, "invalid address 'a..b@x.org': local part has consecutive dots"},
    {"x_y.org", 1, "invalid domain 'x_y.org': label 'x_y' contains '_'"},
    {"a\x01@x.org", 0, "invalid address 'a\\x01@x.org': address contains control characters"},
    {"", 1, "invalid domain '': domain is empty"},
    {NULL, 1, "invalid domain '': domain is empty"},
    {NULL, 0, "invalid address '': address is empty"},
};

static void test_exact_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		const struct msg_case *c = &msg_cases[i];
		struct mc_error err;
		char *out = NULL;
		int rc = c->domain ? addr_domain_normalize(c->in, &out, &err)
		                   : addr_normalize(c->in, &out, NULL, NULL, &err);
		assert_int_equal(rc, -1);
		assert_int_equal(err.kind, MC_EDATA);
		assert_string_equal(err.msg, c->msg);
	}
}

struct dom_case {
	const char *in;
	const char *want; /* NULL: refused */
	const char *why;
};

static const struct dom_case dom_cases[] = {
    {"b\xc3\xbc"
     "cher.example",
     "xn--bcher-kva.example", NULL},
    {"M\xc3\xbcnchen.DE.", "xn--mnchen-3ya.de", NULL},
    {"Example.ORG.", "example.org", NULL},
    {D253, D253, NULL},
    {D254, NULL, "domain is longer than 253 characters"},
    {D253 "." A63, NULL, "domain is longer than 255 octets"},
    {"localhost", NULL, "domain needs at least two labels"},
    {"[::1]", NULL, "IP address literals are not supported"},
    {"10.0.0.1", NULL, "IP addresses are not supported"},
    {"x.y.2024", NULL, "all-numeric"},
    {"x.org\r", NULL, "domain contains control characters"},
    {"x\xfe.org", NULL, "domain is not valid UTF-8"},
    {"user@x.org", NULL, "label 'user@x' contains '@'"},
};

static void test_domain_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dom_cases) / sizeof(dom_cases[0]); i++) {
		const struct dom_case *c = &dom_cases[i];
		struct mc_error err;
		char *out = NULL;
		int rc = addr_domain_normalize(c->in, &out, &err);
		if (c->want) {
			if (rc != 0)
				fail_msg("'%s' refused: %s", c->in, err.msg);
			assert_string_equal(out, c->want);
			free(out);
			continue;
		}
		if (rc != -1)
			fail_msg("'%s' accepted as '%s'", c->in, out);
		assert_int_equal(err.kind, MC_EDATA);
		if (!strstr(err.msg, "invalid domain '") || !strstr(err.msg, c->why))
			fail_msg("'%s': message '%s' lacks '%s'", c->in, err.msg, c->why);
	}
}

static void test_parts(void **state)
{
	char *out = NULL, *local = NULL, *domain = NULL;
	struct mc_error err;

	(void)state;
	assert_int_equal(addr_normalize("Bob@B\xc3\xbc"
	                                "cher.Example",
	                                &out, &local, &domain, &err),
	                 0);
	assert_string_equal(out, "bob@xn--bcher-kva.example");
	assert_string_equal(local, "bob");
	assert_string_equal(domain, "xn--bcher-kva.example");
	free(out);
	free(local);
	free(domain);

	assert_int_equal(addr_normalize_source("@X.org", &out, &local, &domain, &err), 0);
	assert_string_equal(out, "@x.org");
	assert_string_equal(local, "");
	assert_string_equal(domain, "x.org");
	free(out);
	free(local);
	free(domain);

	/* every output is optional */
	assert_int_equal(addr_normalize("a@x.org", NULL, NULL, NULL, NULL), 0);
	assert_int_equal(addr_normalize("a", NULL, NULL, NULL, NULL), -1);
}

/* A 10 KB input must still give a short, one-line message. */
static void test_huge_input(void **state)
{
	static const char *const tails[] = {"@x.org", "", "\n@x.org"};
	struct mc_error err;
	char *out = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t n = 10240;
		char *in = malloc(n + strlen(tails[i]) + 1);
		memset(in, i == 2 ? '\n' : 'a', n);
		strcpy(in + n, tails[i]);
		assert_int_equal(addr_normalize(in, &out, NULL, NULL, &err), -1);
		assert_null(strchr(err.msg, '\n'));
		assert_true(strlen(err.msg) < 200);
		assert_non_null(strstr(err.msg, "...': "));
		free(in);
	}
}

struct print_case {
	const char *in;
	unsigned long size;
	const char *want;
};

static const struct print_case print_cases[] = {
    {"abc", 16, "abc"},
    {"a\x01z", 16, "a\\x01z"},
    {"\xc3\xbc", 16, "\\xc3\\xbc"},
    {"tab\there", 16, "tab\\x09here"},
    {"abcd", 5, "abcd"},  /* fits exactly */
    {"abcde", 5, "a..."}, /* one too many */
    {"abcdefghij", 8, "abcd..."},
    {"\x01\x02\x03", 8, "\\x01..."}, /* escapes are never split */
    {"abcdef", 3, "ab"},             /* no room for "..." */
    {NULL, 8, ""},
    {"", 8, ""},
};

static void test_printable(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(print_cases) / sizeof(print_cases[0]); i++) {
		const struct print_case *c = &print_cases[i];
		memset(buf, 'X', sizeof(buf));
		assert_ptr_equal(addr_printable(c->in, buf, c->size), buf);
		assert_string_equal(buf, c->want);
		assert_true(strlen(buf) < c->size);
	}
}

struct utf8_case {
	const char *in;
	int clean;
};

static const struct utf8_case utf8_cases[] = {
    {"", 1},
    {"plain ascii", 1},
    {"b\xc3\xbc"
     "cher",
     1},
    {"\xe2\x98\x83", 1},
    {"\xf0\x9f\x92\xa9", 1},
    {"\x1f", 0},
    {"\x7f", 0},
    {"\xc2\x9f", 0},         /* C1 control */
    {"\xc3", 0},             /* truncated */
    {"\xc1\xbf", 0},         /* overlong */
    {"\xe0\x80\xaf", 0},     /* overlong */
    {"\xed\xbf\xbf", 0},     /* surrogate */
    {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
    {"\xff", 0},
};

static void test_clean_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++)
		if (addr_is_clean_utf8(utf8_cases[i].in) != utf8_cases[i].clean)
			fail_msg("case %zu: expected %d", i, utf8_cases[i].clean);
	assert_int_equal(addr_is_clean_utf8(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_table),   cmocka_unit_test(test_exact_messages),
	    cmocka_unit_test(test_domain_table), cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_huge_input),   cmocka_unit_test(test_printable),
	    cmocka_unit_test(test_clean_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
