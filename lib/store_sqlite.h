/*
 * store_sqlite - internals shared by the SQLite backend's files
 * (store_sqlite.c: connection, transactions, migrations;
 * store_sqlite_rows.c: domains, users, aliases, audit log;
 * store_sqlite_dkim.c: DKIM keys).
 * Not for use outside the backend: callers use store.h.
 */
#ifndef MAILCTL_STORE_SQLITE_H
#define MAILCTL_STORE_SQLITE_H

#include <sqlite3.h>

#include "store.h"

struct store {
	sqlite3 *db;
	char *path;
	int in_tx;
};

/* Map the connection's last error to an error kind and message; -1. */
int sql_fail(struct store *st, sqlite3 *db, const char *what, struct mc_error *err);
sqlite3_stmt *sql_prepare(struct store *st, const char *sql, struct mc_error *err);
/* Bind n text parameters from 1; NULL binds SQL NULL. */
void sql_bind_texts(sqlite3_stmt *s, int n, const char *const *v);
/* Step a statement that returns no rows, then finalize it. */
int sql_exec_done(struct store *st, sqlite3_stmt *s, const char *what, struct mc_error *err);
/* A column as a fresh string ("" for NULL). */
char *sql_col_text(sqlite3_stmt *s, int i);
/* Run a one-row query with n text parameters; 'fill' gets the row.
 * Returns 1 found, 0 not found, -1 error. */
int sql_query_one(struct store *st, const char *sql, int n, const char *const *params,
                  void (*fill)(sqlite3_stmt *, void *), void *out, struct mc_error *err);
/* Run a query and call 'add' for each row. Returns 0 or -1. */
int sql_query_all(struct store *st, const char *sql, int n, const char *const *params,
                  void (*add)(sqlite3_stmt *, void *), void *out, struct mc_error *err);
/* Run a statement without rows: ?1 is 'id', ?2... the n texts. */
int sql_exec_id(struct store *st, const char *sql, long long id, int n, const char *const *texts,
                const char *what, struct mc_error *err);

#endif
