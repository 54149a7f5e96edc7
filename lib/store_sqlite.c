/*
 * The SQLite implementation of store.h.
 *
 * Every statement is prepared with bound parameters. Foreign keys are on
 * for every connection. Journal mode stays the default rollback journal so
 * Postfix and Dovecot can read the file without write access to a -shm.
 */
#include "store_sqlite.h"
#include "store_schema.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int store_schema_latest(void)
{
	return store_nmigrations;
}

/* Turn an SQLite failure into an error kind and message. */
int sql_fail(struct store *st, sqlite3 *db, const char *what, struct mc_error *err)
{
	int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
	const char *path = st ? st->path : "";
	const char *msg = db ? sqlite3_errmsg(db) : "unknown error";
	switch (code & 0xff) {
	case SQLITE_READONLY:
		return mc_fail(err, MC_EIO, "database '%s' is read-only: %s", path, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return mc_fail(err, MC_ETEMP, "database '%s' is busy, try again: %s", path, msg);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return mc_fail(err, MC_EUNAVAIL, "database '%s' is damaged or not a database: %s",
		               path, msg);
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return mc_fail(err, MC_EIO, "cannot %s database '%s': %s", what, path, msg);
	case SQLITE_CONSTRAINT:
		return mc_fail(err, MC_EDATA, "cannot %s: %s", what, msg);
	default:
		return mc_fail(err, MC_EINTERNAL, "cannot %s: %s", what, msg);
	}
}

sqlite3_stmt *sql_prepare(struct store *st, const char *sql, struct mc_error *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		sql_fail(st, st->db, "prepare statement", err);
		return NULL;
	}
	return s;
}

/* Bind a list of text parameters (NULL binds SQL NULL). */
void sql_bind_texts(sqlite3_stmt *s, int n, const char *const *v)
{
	for (int i = 0; i < n; i++) {
		if (v[i])
			sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, i + 1);
	}
}

/* Step a statement that returns no rows, then finalize it. */
int sql_exec_done(struct store *st, sqlite3_stmt *s, const char *what, struct mc_error *err)
{
	int rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		sql_fail(st, st->db, what, err);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

char *sql_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return xstrdup(t ? (const char *)t : "");
}

/* Run a one-row query with text parameters; calls 'fill' on the row.
 * Returns 1 found, 0 not found, -1 error. */
int sql_query_one(struct store *st, const char *sql, int n, const char *const *params,
                  void (*fill)(sqlite3_stmt *, void *), void *out, struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st, sql, err);
	if (!s)
		return -1;
	sql_bind_texts(s, n, params);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		fill(s, out);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sql_fail(st, st->db, "query", err);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Run a query and call 'add' for each row. Returns 0 or -1. */
int sql_query_all(struct store *st, const char *sql, int n, const char *const *params,
                  void (*add)(sqlite3_stmt *, void *), void *out, struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st, sql, err);
	int rc;
	if (!s)
		return -1;
	sql_bind_texts(s, n, params);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		add(s, out);
	if (rc != SQLITE_DONE)
		sql_fail(st, st->db, "query", err);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run an INSERT/UPDATE/DELETE with one integer and up to three texts. */
int sql_exec_id(struct store *st, const char *sql, long long id, int n, const char *const *texts,
                const char *what, struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st, sql, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(s, i + 2, texts[i], -1, SQLITE_TRANSIENT);
	return sql_exec_done(st, s, what, err);
}

static int open_db(struct store *st, int flags, struct mc_error *err)
{
	if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK) {
		int rc = sql_fail(st, st->db, "open", err);
		sqlite3_close(st->db);
		st->db = NULL;
		return rc;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(st, st->db, "open", err);
	return 0;
}

static int read_version(struct store *st, int *version, struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st, "PRAGMA user_version", err);
	if (!s)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sql_fail(st, st->db, "read schema version of", err);
		sqlite3_finalize(s);
		return -1;
	}
	*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static struct store *store_new(const char *path)
{
	struct store *st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	return st;
}

static int check_exists(const char *path, struct mc_error *err)
{
	struct stat sb;
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return mc_fail(err, MC_EUNAVAIL, "database '%s' is not a regular file",
			               path);
		return 0;
	}
	if (errno == ENOENT)
		return mc_fail(err, MC_EUNAVAIL,
		               "database '%s' does not exist: run 'mailctl db init' first", path);
	return mc_fail(err, MC_EIO, "cannot open database '%s': %s", path, mc_strerror(errno));
}

/* Say why a database cannot be used before SQLite says only "unable to
 * open database file". Writing also needs the directory, for the journal. */
static int check_access(const char *path, enum store_mode mode, struct mc_error *err)
{
	if (access(path, R_OK) < 0)
		return mc_fail(err, MC_EIO, "cannot read database '%s': %s", path,
		               mc_strerror(errno));
	if (mode != STORE_WRITE)
		return 0;
	if (access(path, W_OK) < 0)
		return mc_fail(err, MC_EIO, "database '%s' is read-only: %s", path,
		               mc_strerror(errno));
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (access(slash ? dir : ".", W_OK) < 0)
		rc = mc_fail(err, MC_EIO,
		             "database '%s' is read-only: its directory is not writable for the "
		             "journal: %s",
		             path, mc_strerror(errno));
	free(dir);
	return rc;
}

/* A newer schema means a newer mailctl wrote it: never touch it. */
static int check_not_newer(const char *path, int version, struct mc_error *err)
{
	if (version <= store_nmigrations)
		return 0;
	return mc_fail(err, MC_EUNAVAIL,
	               "database '%s' has schema version %d, newer than this mailctl knows (%d)",
	               path, version, store_nmigrations);
}

int store_open(struct store **out, const char *path, enum store_mode mode, struct mc_error *err)
{
	int version, flags = mode == STORE_WRITE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
	*out = NULL;
	if (check_exists(path, err) < 0)
		return -1;
	if (check_access(path, mode, err) < 0)
		return -1;
	struct store *st = store_new(path);
	if (open_db(st, flags, err) < 0 || read_version(st, &version, err) < 0)
		goto fail;
	if (version < store_nmigrations) {
		mc_fail(err, MC_EUNAVAIL,
		        "database '%s' has schema version %d, this mailctl needs %d: run "
		        "'mailctl db init' to migrate it",
		        path, version, store_nmigrations);
		goto fail;
	}
	if (check_not_newer(path, version, err) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

int store_version(const char *path, int *version, struct mc_error *err)
{
	if (check_exists(path, err) < 0)
		return -1;
	struct store *st = store_new(path);
	int rc = open_db(st, SQLITE_OPEN_READONLY, err);
	if (rc == 0)
		rc = read_version(st, version, err);
	store_close(st);
	return rc;
}

/* Create an empty file with the mode we want before SQLite opens it. */
static int create_file(const char *path, struct mc_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return mc_fail(err, MC_EIO, "cannot create database '%s': %s", path,
		               mc_strerror(errno));
	}
	/* Postfix and Dovecot read it through the group: the umask must not
	 * take that away. */
	if (fchmod(fd, 0640) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return mc_fail(err, MC_EIO, "cannot set the mode of '%s': %s", path,
		               mc_strerror(e));
	}
	close(fd);
	return 0;
}

static int migrate_step(struct store *st, int to, struct mc_error *err)
{
	char pragma[64];
	if (store_begin(st, err) < 0)
		return -1;
	if (sqlite3_exec(st->db, store_migrations[to - 1], NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", to);
	if (sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return store_commit(st, err);
fail:
	sql_fail(st, st->db, "migrate", err);
	store_rollback(st);
	return -1;
}

int store_init(const char *path, int *from, int *to, struct mc_error *err)
{
	int version;
	struct stat sb;
	int fresh = stat(path, &sb) < 0 && errno == ENOENT;
	if (fresh && create_file(path, err) < 0)
		return -1;
	struct store *st = store_new(path);
	if (open_db(st, SQLITE_OPEN_READWRITE, err) < 0 || read_version(st, &version, err) < 0)
		goto fail;
	*from = version;
	if (check_not_newer(path, version, err) < 0)
		goto fail;
	while (version < store_nmigrations) {
		if (migrate_step(st, version + 1, err) < 0)
			goto fail;
		version++;
	}
	*to = version;
	store_close(st);
	return 0;
fail:
	store_close(st);
	if (fresh)
		unlink(path);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_tx)
		store_rollback(st);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int store_begin(struct store *st, struct mc_error *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(st, st->db, "begin a transaction on", err);
	st->in_tx = 1;
	return 0;
}

int store_commit(struct store *st, struct mc_error *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sql_fail(st, st->db, "commit to", err);
		store_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void store_rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}
