/* ACME accounts and certificate attempts in SQLite; see store.h. */
#include "store_sqlite.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- ACME accounts ---- */

static void account_fill(sqlite3_stmt *s, void *out)
{
	struct acme_account_row *r = out;
	r->directory = sql_col_text(s, 0);
	r->url = sql_col_text(s, 1);
	r->key_file = sql_col_text(s, 2);
	r->contact = sql_col_text(s, 3);
	r->ca_file = sql_col_text(s, 4);
	r->created = sql_col_text(s, 5);
}

int store_acme_account_get(struct store *st, const char *directory, struct acme_account_row *out,
                           struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	return sql_query_one(st,
	                     "SELECT directory, url, key_file, contact, ca_file, created"
	                     " FROM acme_accounts WHERE directory = ?1",
	                     1, &directory, account_fill, out, err);
}

int store_acme_account_put(struct store *st, const struct acme_account_row *a, struct mc_error *err)
{
	const char *p[] = {a->directory, a->url, a->key_file, a->contact ? a->contact : "",
	                   a->ca_file ? a->ca_file : ""};
	sqlite3_stmt *s = sql_prepare(st,
	                              "INSERT INTO acme_accounts (directory, url, key_file,"
	                              " contact, ca_file) VALUES (?1, ?2, ?3, ?4, ?5)"
	                              " ON CONFLICT (directory) DO UPDATE SET url = ?2,"
	                              " key_file = ?3, contact = ?4, ca_file = ?5",
	                              err);
	if (!s)
		return -1;
	sql_bind_texts(s, 5, p);
	return sql_exec_done(st, s, "save the acme account", err);
}

void acme_account_row_release(struct acme_account_row *r)
{
	free(r->directory);
	free(r->url);
	free(r->key_file);
	free(r->contact);
	free(r->ca_file);
	free(r->created);
	memset(r, 0, sizeof(*r));
}

/* ---- certificate attempts ---- */

#define ATTEMPT_SELECT                                                                             \
	"SELECT id, started, finished, kind, actor, directory, names, names_given, result,"        \
	" detail, serial, not_after, duration_ms FROM cert_attempts "

static void attempt_fill(sqlite3_stmt *s, void *out)
{
	struct cert_attempt_row *r = out;
	r->id = sqlite3_column_int64(s, 0);
	r->started = sql_col_text(s, 1);
	r->finished = sql_col_text(s, 2);
	r->kind = sql_col_text(s, 3);
	r->actor = sql_col_text(s, 4);
	r->directory = sql_col_text(s, 5);
	r->names = sql_col_text(s, 6);
	r->names_given = sqlite3_column_int(s, 7);
	r->result = sql_col_text(s, 8);
	r->detail = sql_col_text(s, 9);
	r->serial = sql_col_text(s, 10);
	r->not_after = sql_col_text(s, 11);
	r->duration_ms = sqlite3_column_int64(s, 12);
}

static void attempt_add(sqlite3_stmt *s, void *out)
{
	struct cert_attempt_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	attempt_fill(s, &l->v[l->n++]);
}

int store_cert_attempt_insert(struct store *st, const struct cert_attempt_row *r, long long *id,
                              struct mc_error *err)
{
	const char *p[] = {r->started,
	                   r->kind,
	                   r->actor,
	                   r->directory,
	                   r->names,
	                   r->result,
	                   r->detail ? r->detail : "",
	                   r->serial ? r->serial : "",
	                   r->not_after ? r->not_after : ""};
	sqlite3_stmt *s = sql_prepare(st,
	                              "INSERT INTO cert_attempts (started, kind, actor, directory,"
	                              " names, result, detail, serial, not_after, names_given,"
	                              " duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	                              " ?10, ?11)",
	                              err);
	if (!s)
		return -1;
	sql_bind_texts(s, 9, p);
	sqlite3_bind_int(s, 10, r->names_given ? 1 : 0);
	sqlite3_bind_int64(s, 11, r->duration_ms);
	if (sql_exec_done(st, s, "record the certificate attempt", err) < 0)
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_cert_attempt_list(struct store *st, long long limit, struct cert_attempt_list *out,
                            struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s = sql_prepare(st, ATTEMPT_SELECT "ORDER BY id DESC LIMIT ?1", err);
	int rc;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		attempt_add(s, out);
	if (rc != SQLITE_DONE)
		sql_fail(st, st->db, "query", err);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_cert_attempt_last_installed(struct store *st, struct cert_attempt_row *out,
                                      struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	return sql_query_one(st,
	                     ATTEMPT_SELECT "WHERE result IN ('issued', 'unverified')"
	                                    " ORDER BY id DESC LIMIT 1",
	                     0, NULL, attempt_fill, out, err);
}

void cert_attempt_row_release(struct cert_attempt_row *r)
{
	free(r->started);
	free(r->finished);
	free(r->kind);
	free(r->actor);
	free(r->directory);
	free(r->names);
	free(r->result);
	free(r->detail);
	free(r->serial);
	free(r->not_after);
	memset(r, 0, sizeof(*r));
}

void cert_attempt_list_release(struct cert_attempt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		cert_attempt_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
