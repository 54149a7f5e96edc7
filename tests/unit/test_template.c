/* Unit tests for the template renderer, and every shipped template. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "xalloc.h"

static int render(const char *text, const struct template_vars *vars, struct strbuf *out,
                  struct mc_error *err)
{
	return template_render("t.in", text, strlen(text), vars, out, err);
}

static void test_placeholders(void **state)
{
	struct template_vars vars;
	struct strbuf out = STRBUF_INIT;
	struct mc_error err;
	(void)state;
	template_vars_init(&vars);
	template_vars_set(&vars, "paths.database", "/var/lib/mailctl/mailctl.db");
	template_vars_set(&vars, "a_b-c", "x");
	template_vars_set(&vars, "a_b-c", "y"); /* replaced */
	assert_int_equal(
	    render("dbpath = {{paths.database}}\n{{ a_b-c }}{{a_b-c}} { {x} }", &vars, &out, &err),
	    0);
	assert_string_equal(out.buf, "dbpath = /var/lib/mailctl/mailctl.db\nyy { {x} }");
	strbuf_release(&out);
	template_vars_release(&vars);
}

static void test_errors_name_line_and_produce_nothing(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"a\nb {{nope}}", "'t.in':2: unknown placeholder 'nope'"},
	    {"a {{x", "'t.in':1: '{{' without a name and '}}'"},
	    {"{{}}", "'t.in':1: '{{' without a name and '}}'"},
	    {"{{x y}}", "'t.in':1: '{{' without a name and '}}'"},
	    {"\n\n{{bad}}", "'t.in':3: value of 'bad' holds a control character"},
	};
	struct template_vars vars;
	struct mc_error err;
	(void)state;
	template_vars_init(&vars);
	template_vars_set(&vars, "x", "1");
	template_vars_set(&vars, "bad", "line\nbreak");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out = STRBUF_INIT;
		strbuf_addstr(&out, "kept");
		assert_int_equal(render(cases[i].text, &vars, &out, &err), -1);
		assert_int_equal(err.kind, MC_EDATA);
		assert_string_equal(err.msg, cases[i].msg);
		assert_string_equal(out.buf, "kept");
		strbuf_release(&out);
	}
	template_vars_release(&vars);
}

/* Every shipped template renders from the configuration alone, leaving no
 * placeholder behind. */
static void test_shipped_templates_render(void **state)
{
	static const char *const dirs[] = {"postfix", "dovecot"};
	struct template_vars vars;
	struct config cfg;
	struct mc_error err;
	int files = 0;
	(void)state;
	config_init(&cfg);
	template_vars_init(&vars);
	template_vars_from_config(&vars, &cfg);
	template_vars_set(&vars, "mailhost", "mail.example.org");
	int with_db = 0;
	for (size_t d = 0; d < 2; d++) {
		char *dir = xasprintf("%s/templates/%s", MAILCTL_SRC, dirs[d]);
		DIR *dh = opendir(dir);
		assert_non_null(dh);
		struct dirent *e;
		while ((e = readdir(dh))) {
			if (e->d_name[0] == '.')
				continue;
			char *path = xasprintf("%s/%s", dir, e->d_name);
			struct strbuf out = STRBUF_INIT;
			if (template_render_file(path, &vars, &out, &err) < 0)
				fail_msg("%s", err.msg);
			assert_null(strstr(out.buf, "{{"));
			with_db += strstr(out.buf, cfg.database) != NULL;
			strbuf_release(&out);
			free(path);
			files++;
		}
		closedir(dh);
		free(dir);
	}
	assert_true(files >= 5);
	assert_true(with_db >= 5); /* the four Postfix maps and the Dovecot queries */
	template_vars_release(&vars);
	config_release(&cfg);
}

static void test_missing_file(void **state)
{
	struct template_vars vars;
	struct strbuf out = STRBUF_INIT;
	struct mc_error err;
	(void)state;
	template_vars_init(&vars);
	assert_int_equal(template_render_file("/nonexistent/x.cf", &vars, &out, &err), -1);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, "no such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_errors_name_line_and_produce_nothing),
	    cmocka_unit_test(test_shipped_templates_render),
	    cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
