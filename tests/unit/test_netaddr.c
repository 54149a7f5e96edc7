/* Unit tests for public address classification and interface detection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "netaddr.h"

static void test_classification(void **state)
{
	static const struct {
		const char *addr;
		int want;
	} cases[] = {
	    {"192.0.2.10", 1},     {"198.51.100.7", 1}, {"203.0.113.9", 1}, {"8.8.8.8", 1},
	    {"2001:db8::10", 1},   {"2a01:4f8::1", 1},  {"10.1.2.3", 0},    {"172.16.0.1", 0},
	    {"172.31.255.255", 0}, {"172.32.0.1", 1},   {"192.168.1.1", 0}, {"100.64.0.1", 0},
	    {"100.128.0.1", 1},    {"127.0.0.1", 0},    {"169.254.9.9", 0}, {"224.0.0.251", 0},
	    {"0.0.0.0", 0},        {"::1", 0},          {"::", 0},          {"fe80::1", 0},
	    {"fd00::1", 0},        {"fc12::1", 0},      {"ff02::1", 0},     {"::ffff:10.0.0.1", 0},
	    {"not-an-ip", -1},     {"192.0.2.300", -1}, {"", -1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (netaddr_is_public(cases[i].addr) != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].addr,
			         netaddr_is_public(cases[i].addr), cases[i].want);
}

/* Whatever this machine has, detection never returns loopback and lists
 * are NULL-terminated, sorted and without repeats. */
static void test_detect(void **state)
{
	struct netaddr_list v4 = {0}, v6 = {0};
	struct mc_error err;
	(void)state;
	assert_int_equal(netaddr_detect(&v4, &v6, &err), 0);
	for (size_t i = 0; i < v4.n; i++) {
		assert_int_equal(netaddr_is_public(v4.v[i]), 1);
		if (i)
			assert_true(strcmp(v4.v[i - 1], v4.v[i]) < 0);
	}
	if (v4.n)
		assert_null(v4.v[v4.n]);
	for (size_t i = 0; i < v6.n; i++)
		assert_int_equal(netaddr_is_public(v6.v[i]), 1);
	netaddr_list_add(&v4, "192.0.2.1");
	netaddr_list_add(&v4, "192.0.2.1");
	size_t n = v4.n;
	assert_string_equal(v4.v[n - 1], "192.0.2.1");
	assert_null(v4.v[n]);
	netaddr_list_release(&v4);
	netaddr_list_release(&v6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classification),
	    cmocka_unit_test(test_detect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
