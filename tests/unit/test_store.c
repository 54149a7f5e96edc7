/* Unit tests for the SQLite store: creation, migrations, errors, rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_schema.h"
#include "xalloc.h"

#include "instance.h"

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static char *fresh_db(void)
{
	static int n;
	int from, to;
	struct mc_error err;
	char *p = xasprintf("%s/db%d.sqlite", dir, n++);
	assert_int_equal(store_init(p, &from, &to, &err), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, store_schema_latest());
	return p;
}

static void test_init_creates_private_file(void **state)
{
	struct stat sb;
	int from, to;
	struct mc_error err;
	(void)state;
	char *p = fresh_db();
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_int_equal(store_init(p, &from, &to, &err), 0);
	assert_int_equal(from, to); /* idempotent */
	free(p);
}

static void test_open_missing(void **state)
{
	struct store *st;
	struct mc_error err;
	(void)state;
	char *p = path_in("nope.db");
	assert_int_equal(store_open(&st, p, STORE_READ, &err), -1);
	assert_int_equal(err.kind, MC_EUNAVAIL);
	assert_non_null(strstr(err.msg, "mailctl db init"));
	assert_int_equal(access(p, F_OK), -1); /* not created by a read */
	free(p);
}

static void test_open_corrupt(void **state)
{
	struct store *st;
	struct mc_error err;
	(void)state;
	char *p = path_in("corrupt.db");
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	assert_int_equal(store_open(&st, p, STORE_WRITE, &err), -1);
	assert_int_equal(err.kind, MC_EUNAVAIL);
	assert_non_null(strstr(err.msg, "not a database"));
	free(p);
}

static void set_version(const char *p, int v)
{
	sqlite3 *db;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_schema_versions(void **state)
{
	struct store *st;
	struct mc_error err;
	int from, to;
	(void)state;
	char *p = fresh_db();
	set_version(p, 99);
	assert_int_equal(store_open(&st, p, STORE_READ, &err), -1);
	assert_non_null(strstr(err.msg, "newer"));
	assert_int_equal(store_init(p, &from, &to, &err), -1);
	free(p);

	/* An empty SQLite file is version 0: refused until migrated. */
	p = path_in("empty.db");
	set_version(p, 0);
	assert_int_equal(store_open(&st, p, STORE_READ, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 0"));
	assert_int_equal(store_init(p, &from, &to, &err), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, store_schema_latest());
	assert_int_equal(store_open(&st, p, STORE_READ, &err), 0);
	store_close(st);
	free(p);
}

static struct store *open_rw(char **pathp)
{
	struct store *st;
	struct mc_error err;
	*pathp = fresh_db();
	assert_int_equal(store_open(&st, *pathp, STORE_WRITE, &err), 0);
	return st;
}

static void test_rollback_leaves_nothing(void **state)
{
	struct domain_row d;
	struct mc_error err;
	long long id;
	char *p;
	(void)state;
	struct store *st = open_rw(&p);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_domain_insert(st, "example.org", &id, &err), 0);
	store_rollback(st);
	assert_int_equal(store_domain_get(st, "example.org", &d, &err), 0);
	store_close(st);
	free(p);
}

static void test_foreign_keys_enforced(void **state)
{
	struct user_row u = {0};
	struct mc_error err;
	long long id;
	char *p;
	(void)state;
	struct store *st = open_rw(&p);
	u.domain_id = 4242;
	u.local_part = "a";
	u.address = "a@nowhere.example";
	u.password_hash = "x";
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_user_insert(st, &u, &id, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "FOREIGN KEY"));
	store_rollback(st);
	store_close(st);
	free(p);
}

static void test_rows_round_trip(void **state)
{
	struct user_row u = {0}, got;
	struct alias_row a;
	struct alias_list al;
	struct audit_list log;
	struct mc_error err;
	long long did, uid, aid;
	char *p;
	(void)state;
	struct store *st = open_rw(&p);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_domain_insert(st, "example.org", &did, &err), 0);
	u.domain_id = did;
	u.local_part = "o'brien";
	u.address = "o'brien@example.org";
	u.password_hash = "{ARGON2ID}$argon2id$fake";
	u.display_name = "Ó Briain";
	u.quota_bytes = 1024;
	u.enabled = 1;
	assert_int_equal(store_user_insert(st, &u, &uid, &err), 0);
	assert_int_equal(store_alias_insert(st, did, "@example.org", 0, &aid, &err), 0);
	assert_int_equal(store_alias_add_target(st, aid, "o'brien@example.org", &err), 0);
	assert_int_equal(store_alias_add_target(st, aid, "o'brien@example.org", &err), 0);
	assert_int_equal(store_alias_add_target(st, aid, "x@off.example", &err), 0);
	assert_int_equal(store_audit(st, "tester", "test.add", "o'brien", "", &err), 0);
	assert_int_equal(store_commit(st, &err), 0);

	assert_int_equal(store_user_get(st, "o'brien@example.org", &got, &err), 1);
	assert_string_equal(got.display_name, "Ó Briain");
	assert_string_equal(got.domain, "example.org");
	assert_string_equal(got.password_hash, "{ARGON2ID}$argon2id$fake");
	assert_int_equal(got.quota_bytes, 1024);
	user_row_release(&got);
	assert_int_equal(store_alias_get(st, "@example.org", &a, &err), 1);
	assert_int_equal(a.ntargets, 2); /* the repeated target was ignored */
	alias_row_release(&a);
	assert_int_equal(store_alias_list_by_target(st, "x@off.example", &al, &err), 0);
	assert_int_equal(al.n, 1);
	assert_int_equal(al.v[0].ntargets, 2);
	alias_list_release(&al);
	assert_int_equal(store_audit_list(st, 10, &log, &err), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.v[0].actor, "tester");
	audit_list_release(&log);
	store_close(st);
	free(p);
}

/* A database made by the first release (schema 1: accounts only) moves to
 * the current schema and keeps its rows. */
static void test_migrate_v1_keeps_rows(void **state)
{
	sqlite3 *db;
	struct store *st;
	struct domain_row d;
	struct dkim_list l;
	struct mc_error err;
	int from, to;
	(void)state;
	char *p = path_in("v1.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "PRAGMA user_version = 1;"
	                              " INSERT INTO domains (name, created)"
	                              " VALUES ('old.example', '2025-01-02T03:04:05Z');",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&st, p, STORE_READ, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 1"));
	assert_int_equal(store_init(p, &from, &to, &err), 0);
	assert_int_equal(from, 1);
	assert_true(to >= 2);
	assert_int_equal(to, store_schema_latest());
	assert_int_equal(store_open(&st, p, STORE_READ, &err), 0);
	assert_int_equal(store_domain_get(st, "old.example", &d, &err), 1);
	assert_string_equal(d.created, "2025-01-02T03:04:05Z");
	domain_row_release(&d);
	assert_int_equal(store_dkim_list(st, NULL, &l, &err), 0); /* the table exists, empty */
	assert_int_equal(l.n, 0);
	dkim_list_release(&l);
	store_close(st);
	free(p);
}

static void test_dkim_rows(void **state)
{
	struct dkim_row k = {0}, got;
	struct dkim_list l;
	struct mc_error err;
	long long did, kid;
	char *p;
	(void)state;
	struct store *st = open_rw(&p);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_domain_insert(st, "example.org", &did, &err), 0);
	k = (struct dkim_row){.domain_id = did,
	                      .selector = "s1",
	                      .algorithm = "rsa",
	                      .bits = 2048,
	                      .public_key = "MIIB",
	                      .key_file = "/k/s1.pem",
	                      .state = "active"};
	assert_int_equal(store_dkim_insert(st, &k, &kid, &err), 0);
	k.selector = "s2";
	k.algorithm = "ed25519";
	k.bits = 256;
	assert_int_equal(store_dkim_insert(st, &k, &kid, &err), 0);
	/* the schema refuses what the code never writes */
	assert_int_equal(store_dkim_insert(st, &k, &kid, &err), -1); /* selector taken */
	assert_int_equal(err.kind, MC_EDATA);
	k.selector = "s3";
	k.algorithm = "dsa";
	assert_int_equal(store_dkim_insert(st, &k, &kid, &err), -1);
	assert_non_null(strstr(err.msg, "CHECK"));
	k.algorithm = "rsa";
	k.state = "lost";
	assert_int_equal(store_dkim_insert(st, &k, &kid, &err), -1);
	/* a domain with keys cannot go without them */
	assert_int_equal(store_domain_delete(st, did, &err), -1);
	assert_non_null(strstr(err.msg, "FOREIGN KEY"));
	assert_int_equal(store_commit(st, &err), 0);

	assert_int_equal(store_dkim_get(st, "example.org", "s2", &got, &err), 1);
	assert_string_equal(got.domain, "example.org");
	assert_string_equal(got.algorithm, "ed25519");
	assert_int_equal(got.bits, 256);
	assert_string_equal(got.key_file, "/k/s1.pem");
	assert_true(strlen(got.created) == 20);
	assert_int_equal(store_dkim_set_state(st, got.id, "retired", &err), 0);
	dkim_row_release(&got);
	assert_int_equal(store_dkim_get(st, "example.org", "s2", &got, &err), 1);
	assert_string_equal(got.state, "retired");
	dkim_row_release(&got);
	assert_int_equal(store_dkim_get(st, "example.org", "nope", &got, &err), 0);
	assert_int_equal(store_dkim_list(st, "example.org", &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].selector, "s1"); /* oldest first */
	dkim_list_release(&l);
	assert_int_equal(store_dkim_delete_domain(st, did, &err), 0);
	assert_int_equal(store_domain_delete(st, did, &err), 0);
	assert_int_equal(store_dkim_list(st, NULL, &l, &err), 0);
	assert_int_equal(l.n, 0);
	dkim_list_release(&l);
	store_close(st);
	free(p);
}

static void test_read_only_mode_cannot_write(void **state)
{
	struct store *st;
	struct mc_error err;
	long long id;
	(void)state;
	char *p = fresh_db();
	assert_int_equal(store_open(&st, p, STORE_READ, &err), 0);
	assert_int_equal(store_begin(st, &err) == 0 &&
	                     store_domain_insert(st, "example.org", &id, &err) == 0,
	                 0);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, "read-only"));
	store_close(st);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_creates_private_file),
	    cmocka_unit_test(test_open_missing),
	    cmocka_unit_test(test_open_corrupt),
	    cmocka_unit_test(test_schema_versions),
	    cmocka_unit_test(test_rollback_leaves_nothing),
	    cmocka_unit_test(test_foreign_keys_enforced),
	    cmocka_unit_test(test_rows_round_trip),
	    cmocka_unit_test(test_migrate_v1_keeps_rows),
	    cmocka_unit_test(test_dkim_rows),
	    cmocka_unit_test(test_read_only_mode_cannot_write),
	};
	return run_in_tmpdir(tests);
}
