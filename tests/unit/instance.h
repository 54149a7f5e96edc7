/*
 * instance.h - a private mailctl instance for unit tests (included once,
 * by a test program, after cmocka.h).
 *
 * All paths point under one temporary directory, made by run_in_tmpdir()
 * and removed after the tests; instance_setup() gives each test its own
 * fresh database and key directory, with cheap password hashing.
 */
#ifndef MAILCTL_TEST_INSTANCE_H
#define MAILCTL_TEST_INSTANCE_H

#include <stdio.h>
#include <stdlib.h>

#include "account.h"
#include "xalloc.h"

static char dir[] = "/tmp/mailctl-unit.XXXXXX";
__attribute__((unused)) static struct config cfg;
__attribute__((unused)) static struct mc_ctx ctx;

/* Replace a configured path with <dir>/<name><n>. */
static void instance_path(char **field, const char *name, int n)
{
	free(*field);
	*field = xasprintf("%s/%s%d", dir, name, n);
}

__attribute__((unused)) static int instance_setup(void **state)
{
	struct mc_error err;
	static int n;
	int from, to;
	(void)state;
	config_init(&cfg);
	instance_path(&cfg.database, "db", n);
	instance_path(&cfg.key_dir, "keys", n); /* made by the first key */
	instance_path(&cfg.mail_root, "mail", n);
	instance_path(&cfg.archive_root, "archive", n++);
	free(cfg.admin_address);
	cfg.admin_address = xstrdup("admin@example.org");
	cfg.argon2_time_cost = 1;
	cfg.argon2_memory_kib = 1024;
	if (store_init(cfg.database, &from, &to, &err) < 0 ||
	    store_open(&ctx.st, cfg.database, STORE_WRITE, &err) < 0)
		return -1;
	ctx.cfg = &cfg;
	ctx.actor = "unit";
	return 0;
}

__attribute__((unused)) static int instance_teardown(void **state)
{
	(void)state;
	store_close(ctx.st);
	ctx.st = NULL;
	config_release(&cfg);
	return 0;
}

/* Make the directory, run the group, remove the directory. */
#define run_in_tmpdir(tests)                                                                       \
	(mkdtemp(dir) ? run_and_clean(cmocka_run_group_tests(tests, NULL, NULL)) : 1)

static int run_and_clean(int rc)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	free(cmd);
	return rc;
}

#endif
