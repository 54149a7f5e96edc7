/* Unit tests for the CLI's dispatch tables and its printer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <unistd.h>

#include "cli.h"
#include "print.h"

/* Every group and verb is complete: the help and man page rely on it. */
static void test_tables_complete(void **state)
{
	(void)state;
	size_t groups = 0, verbs = 0;
	for (const struct command *c = commands; c->name; c++, groups++) {
		assert_non_null(c->help);
		assert_non_null(c->verbs);
		for (const struct command *d = c + 1; d->name; d++)
			assert_string_not_equal(c->name, d->name);
		for (const struct verb *v = c->verbs; v->name; v++, verbs++) {
			assert_non_null(v->run);
			assert_non_null(v->args);
			assert_non_null(v->help);
			assert_true(strlen(v->help) > 10);
			for (const struct verb *w = v + 1; w->name; w++)
				assert_string_not_equal(v->name, w->name);
			for (const char *const *o = v->options; o && *o; o++)
				assert_non_null(strchr(*o, '\t'));
		}
	}
	assert_true(groups >= 6);
	assert_true(verbs >= 20);
}

/* Every verb that changes accounts demands privileges and a writable store. */
static void test_mutations_need_privilege(void **state)
{
	static const char *const writes[] = {
	    "domain add",  "domain del", "user add",  "user del",  "user passwd", "user disable",
	    "user enable", "user quota", "alias add", "alias del", "dkim keygen", "db init"};
	(void)state;
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		int found = 0;
		for (const struct command *c = commands; c->name; c++)
			for (const struct verb *v = c->verbs; v->name; v++) {
				char *full;
				assert_true(asprintf(&full, "%s %s", c->name, v->name) > 0);
				if (strcmp(full, writes[i]) == 0) {
					found = 1;
					assert_true(v->flags & (CMD_PRIV | CMD_STORE_RW));
				}
				free(full);
			}
		assert_true(found);
	}
}

/* Run the printer with stdout sent to a file; return what it wrote. */
static char *capture(void (*fill)(struct printer *), int json, int record)
{
	char path[] = "/tmp/mailctl-print.XXXXXX", *buf = calloc(1, 4096);
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	struct printer p;
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	print_begin(&p, json, record);
	fill(&p);
	assert_int_equal(print_end(&p), 0);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_true(pread(fd, buf, 4095, 0) >= 0);
	close(fd);
	unlink(path);
	return buf;
}

static void fill_users(struct printer *p)
{
	char *targets[] = {"a@example.org", "b@example.org"};
	print_col(p, "address", "ADDRESS", CELL_STR);
	print_col(p, "quota", "QUOTA", CELL_INT);
	print_col(p, "enabled", "ENABLED", CELL_BOOL);
	print_col(p, "targets", "TARGETS", CELL_LIST);
	print_str(p, "zoë@example.org");
	print_int(p, 5);
	print_bool(p, 1);
	print_list(p, targets, 2);
	print_str(p, "quote\"d@example.org");
	print_int(p, 1073741824);
	print_bool(p, 0);
	print_list(p, targets, 0);
}

static void test_table_aligned_by_display_width(void **state)
{
	(void)state;
	char *out = capture(fill_users, 0, 0);
	assert_string_equal(
	    out, "ADDRESS              QUOTA       ENABLED  TARGETS\n"
	         "zoë@example.org      5           yes      a@example.org, b@example.org\n"
	         "quote\"d@example.org  1073741824  no       \n");
	free(out);
}

static void test_json_typed_and_escaped(void **state)
{
	(void)state;
	char *out = capture(fill_users, 1, 0);
	assert_non_null(strstr(out, "\"address\": \"quote\\\"d@example.org\""));
	assert_non_null(strstr(out, "\"quota\": 1073741824"));
	assert_non_null(strstr(out, "\"enabled\": false"));
	assert_non_null(strstr(out, "\"targets\": []"));
	assert_non_null(strstr(out, "\"zoë@example.org\""));
	free(out);
}

static void fill_message(struct printer *p)
{
	print_summary(p, "added user '%s'", "a@example.org");
	print_col(p, "address", "", CELL_STR);
	print_str(p, "a@example.org");
}

static void test_record_message(void **state)
{
	(void)state;
	char *out = capture(fill_message, 0, 1);
	assert_string_equal(out, "added user 'a@example.org'\n");
	free(out);
	out = capture(fill_message, 1, 1);
	assert_non_null(strstr(out, "\"message\": \"added user 'a@example.org'\""));
	assert_non_null(strstr(out, "\"address\": \"a@example.org\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables_complete),
	    cmocka_unit_test(test_mutations_need_privilege),
	    cmocka_unit_test(test_table_aligned_by_display_width),
	    cmocka_unit_test(test_json_typed_and_escaped),
	    cmocka_unit_test(test_record_message),
	};
	setlocale(LC_CTYPE, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
