/* Unit tests for lib/password.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "password.h"

#define DOVEADM "/usr/bin/doveadm"

/* Cheap argon2 parameters keep the suite fast; one test uses the defaults. */
static const struct password_policy fast = {
    .min_length = 12,
    .dictionary_check = 1,
    .time_cost = 1,
    .memory_kib = 1024,
    .parallelism = 1,
};

static const struct password_policy defaults = {
    .min_length = 12,
    .dictionary_check = 1,
    .time_cost = 3,
    .memory_kib = 65536,
    .parallelism = 1,
};

struct check_case {
	const char *pw;
	const char *user;
	const char *why; /* NULL: accepted */
};

static const struct check_case check_cases[] = {
    {"correct horse battery staple", NULL, NULL},
    {"Tr0ub4dor&3xyz", "alice@example.org", NULL},
    {"xq7-Lorem-Vexing-42", "alice@example.org", NULL},
    {"b\xc3\xbc"
     "cherwurm-Vexing-42",
     NULL, NULL},
    {NULL, NULL, "password is empty"},
    {"", NULL, "password is empty"},
    {"Sh0rt!x", NULL, "password is too short: at least 12 characters"},
    {"password1234", NULL, "password is too weak: the password fails the dictionary check"},
    {"P@ssword2024", NULL, "password is too weak: the password fails the dictionary check"},
    {"Sunshine!2024", NULL, "password is too weak: the password fails the dictionary check"},
    {"abcdefghijklmnop", NULL, "password is too weak: "},
    {"aaaaaaaaaaaaaaaa", NULL, "password is too weak: the password is a palindrome"},
    {"alice-Correct7horse", "alice@example.org",
     "password is too weak: the password contains the user name"},
    {"Xalice@example.orgX", "alice@example.org", "contains the user name"},
    {"Correct\thorse7battery", NULL, "password contains control characters"},
    {"Correct horse7battery\n", NULL, "password contains control characters"},
    {"Correct\x7fhorse7battery", NULL, "password contains control characters"},
    {"Correct\xffhorse7battery", NULL, "password is not valid UTF-8"},
    {"Correct\xc2\x85horse7battery", NULL, "control characters"}, /* C1 NEL */
};

static void test_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		struct mc_error err;
		int rc;

		mc_error_clear(&err);
		rc = password_check(&fast, c->pw, c->user, &err);
		if (!c->why) {
			if (rc != 0)
				fail_msg("case %zu refused: %s", i, err.msg);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu ('%s') accepted", i, c->pw ? c->pw : "(null)");
		assert_int_equal(err.kind, MC_EDATA);
		if (!strstr(err.msg, c->why))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, c->why);
		assert_true(err.msg[strlen(err.msg) - 1] != '.');
	}
}

static void test_check_policy(void **state)
{
	struct password_policy p = fast;
	struct mc_error err;
	char *longpw = malloc(PASSWORD_MAX_LEN + 2);

	(void)state;
	/* the dictionary check can be turned off */
	p.dictionary_check = 0;
	assert_int_equal(password_check(&p, "password1234", NULL, &err), 0);
	/* min_length is honoured */
	p.min_length = 20;
	assert_int_equal(password_check(&p, "Tr0ub4dor&3xyz", NULL, &err), -1);
	assert_string_equal(err.msg, "password is too short: at least 20 characters");
	/* too long, by a byte */
	memset(longpw, 'x', PASSWORD_MAX_LEN + 1);
	longpw[PASSWORD_MAX_LEN + 1] = '\0';
	assert_int_equal(password_check(&fast, longpw, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "password is too long"));
	free(longpw);
}

static void test_hash_verify(void **state)
{
	const char *pw = "correct horse battery staple";
	char *h1 = NULL, *h2 = NULL;
	struct mc_error err;

	(void)state;
	assert_int_equal(password_hash(&fast, pw, &h1, &err), 0);
	assert_int_equal(password_hash(&fast, pw, &h2, &err), 0);
	assert_non_null(strstr(h1, "{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$"));
	assert_ptr_equal(strstr(h1, "{ARGON2ID}"), h1);
	assert_string_not_equal(h1, h2); /* random salt */
	assert_int_equal(password_verify(h1, pw, &err), 1);
	assert_int_equal(password_verify(h2, pw, &err), 1);
	assert_int_equal(password_verify(h1, "correct horse battery stapler", &err), 0);
	assert_int_equal(password_verify(h1, "", &err), 0);
	/* the bare argon2 form is accepted too */
	assert_int_equal(password_verify(h1 + strlen("{ARGON2ID}"), pw, &err), 1);
	password_free(h1);
	password_free(h2);
}

static void test_hash_defaults(void **state)
{
	const char *pw = "Vexing-Lorem-42-ipsum";
	char *h = NULL;
	struct mc_error err;

	(void)state;
	assert_int_equal(password_hash(&defaults, pw, &h, &err), 0);
	assert_non_null(strstr(h, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$"));
	assert_int_equal(password_verify(h, pw, &err), 1);
	assert_int_equal(password_verify(h, "vexing-Lorem-42-ipsum", &err), 0);
	password_free(h);
}

struct param_case {
	long long t, m, p;
};

static const struct param_case bad_params[] = {
    {0, 1024, 1}, {65, 1024, 1}, {1, 4, 1}, {1, 5LL * 1024 * 1024, 1},
    {1, 1024, 0}, {1, 1024, 65}, {1, 8, 2}, {-1, 1024, 1},
};

static void test_hash_bad_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++) {
		struct password_policy p = fast;
		struct mc_error err;
		char *h = NULL;

		p.time_cost = bad_params[i].t;
		p.memory_kib = bad_params[i].m;
		p.parallelism = bad_params[i].p;
		if (password_hash(&p, "Vexing-Lorem-42-ipsum", &h, &err) != -1)
			fail_msg("case %zu accepted: %s", i, h);
		assert_int_equal(err.kind, MC_EDATA);
		assert_non_null(strstr(err.msg, "invalid argon2"));
	}
}

static void test_hash_refuses(void **state)
{
	struct mc_error err;
	char *h = NULL;

	(void)state;
	assert_int_equal(password_hash(&fast, "", &h, &err), -1);
	assert_string_equal(err.msg, "password is empty");
	assert_int_equal(password_hash(&fast, NULL, &h, &err), -1);
	assert_null(h);
}

static const char *const malformed[] = {
    "",
    "garbage",
    "{ARGON2ID}",
    "{ARGON2ID}$argon2id$",
    "{ARGON2ID}$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$"
    "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ",
    "{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$",
    "{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$!!!$c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ",
    "{SHA512-CRYPT}$6$rounds=5000$abc$def",
    /* costs a hostile row could use to exhaust memory or time */
    "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$"
    "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ",
    "$argon2id$v=19$m=1024,t=4294967295,p=1$c2FsdHNhbHRzYWx0$"
    "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ",
    "$argon2id$v=19$m=1024,t=-1,p=1$c2FsdHNhbHRzYWx0$"
    "c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ",
};

static void test_verify_malformed(void **state)
{
	char *h = NULL;
	struct mc_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		mc_error_clear(&err);
		if (password_verify(malformed[i], "x", &err) != -1)
			fail_msg("'%s' not refused as malformed", malformed[i]);
		assert_non_null(strstr(err.msg, "malformed password hash"));
	}
	/* a good hash with its tag cut short */
	assert_int_equal(password_hash(&fast, "Vexing-Lorem-42-ipsum", &h, &err), 0);
	h[strlen(h) - 10] = '\0';
	assert_int_equal(password_verify(h, "Vexing-Lorem-42-ipsum", &err), -1);
	password_free(h);
	assert_int_equal(password_verify(NULL, "x", &err), -1);
}

static int generated_ok(const char *s)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz"
	                               "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

	if (strlen(s) != 27 || s[6] != '-' || s[13] != '-' || s[20] != '-')
		return 0;
	for (size_t i = 0; i < 27; i++)
		if (i % 7 != 6 && !strchr(alphabet, s[i]))
			return 0;
	return strpbrk(s, "abcdefghijkmnpqrstuvwxyz") && strpbrk(s, "ABCDEFGHJKLMNPQRSTUVWXYZ") &&
	       strpbrk(s, "23456789");
}

static void test_generate(void **state)
{
	char *a = NULL, *b = NULL;
	struct mc_error err;

	(void)state;
	assert_int_equal(password_generate(&a, &err), 0);
	assert_int_equal(password_generate(&b, &err), 0);
	assert_true(generated_ok(a));
	assert_true(generated_ok(b));
	assert_string_not_equal(a, b);
	assert_null(strpbrk(a, "0Oo1lI"));
	assert_int_equal(password_check(&defaults, a, "alice@example.org", &err), 0);
	password_free(a);
	password_free(b);
}

/* Many draws: the format holds every time and every symbol turns up. */
static void test_generate_many(void **state)
{
	int seen[256] = {0};
	struct mc_error err;

	(void)state;
	for (int i = 0; i < 100; i++) {
		char *s = NULL;
		assert_int_equal(password_generate(&s, &err), 0);
		if (!generated_ok(s))
			fail_msg("bad generated password '%s'", s);
		for (const char *p = s; *p; p++)
			seen[(unsigned char)*p]++;
		password_free(s);
	}
	for (const char *p = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"; *p; p++)
		if (!seen[(unsigned char)*p])
			fail_msg("'%c' never generated in 2400 draws", *p);
	for (const char *p = "0Oo1lI"; *p; p++)
		assert_int_equal(seen[(unsigned char)*p], 0);
}

static void test_free_null(void **state)
{
	(void)state;
	password_free(NULL);
}

/* Ask Dovecot itself whether it accepts the hash: exit status 0 and
 * "(verified)" from doveadm pw -t. */
static int doveadm_verifies(const char *hash, const char *pw)
{
	char cmd[1024], line[1024];
	int verified = 0, status;
	FILE *f;

	snprintf(cmd, sizeof(cmd), DOVEADM " pw -t '%s' -p '%s' 2>&1", hash, pw);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "(verified)"))
			verified = 1;
	status = pclose(f);
	return verified && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_dovecot_interop(void **state)
{
	static const struct password_policy *const policies[] = {&fast, &defaults};
	const char *pw = "Vexing Lorem 42 b\xc3\xbc"
	                 "cher";
	struct mc_error err;

	(void)state;
	if (access(DOVEADM, X_OK) != 0)
		fail_msg(DOVEADM " is missing: install dovecot-core to run this test");
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		char *h = NULL;
		assert_int_equal(password_hash(policies[i], pw, &h, &err), 0);
		if (!doveadm_verifies(h, pw))
			fail_msg("doveadm did not verify '%s'", h);
		assert_false(doveadm_verifies(h, "Vexing Lorem 43"));
		password_free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_table),      cmocka_unit_test(test_check_policy),
	    cmocka_unit_test(test_hash_verify),      cmocka_unit_test(test_hash_defaults),
	    cmocka_unit_test(test_hash_bad_params),  cmocka_unit_test(test_hash_refuses),
	    cmocka_unit_test(test_verify_malformed), cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_generate_many),    cmocka_unit_test(test_free_null),
	    cmocka_unit_test(test_dovecot_interop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
