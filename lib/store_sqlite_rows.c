/* Domains, users, aliases and the audit log in SQLite; see store.h. */
#include "store_sqlite.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- domains ---- */

#define DOMAIN_COLS                                                                                \
	"d.id, d.name, d.created,"                                                                 \
	" (SELECT count(*) FROM users u WHERE u.domain_id = d.id),"                                \
	" (SELECT count(*) FROM aliases a WHERE a.domain_id = d.id)"

static void domain_fill(sqlite3_stmt *s, void *out)
{
	struct domain_row *r = out;
	r->id = sqlite3_column_int64(s, 0);
	r->name = sql_col_text(s, 1);
	r->created = sql_col_text(s, 2);
	r->users = sqlite3_column_int64(s, 3);
	r->aliases = sqlite3_column_int64(s, 4);
}

static void domain_add_row(sqlite3_stmt *s, void *out)
{
	struct domain_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	domain_fill(s, &l->v[l->n++]);
}

int store_domain_get(struct store *st, const char *name, struct domain_row *out,
                     struct mc_error *err)
{
	const char *p[] = {name};
	memset(out, 0, sizeof(*out));
	return sql_query_one(st, "SELECT " DOMAIN_COLS " FROM domains d WHERE d.name = ?1", 1, p,
	                     domain_fill, out, err);
}

int store_domain_list(struct store *st, struct domain_list *out, struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	return sql_query_all(st, "SELECT " DOMAIN_COLS " FROM domains d ORDER BY d.name", 0, NULL,
	                     domain_add_row, out, err);
}

int store_domain_insert(struct store *st, const char *name, long long *id, struct mc_error *err)
{
	const char *p[] = {name};
	sqlite3_stmt *s = sql_prepare(st, "INSERT INTO domains (name) VALUES (?1)", err);
	if (!s)
		return -1;
	sql_bind_texts(s, 1, p);
	if (sql_exec_done(st, s, "add domain", err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_domain_delete(struct store *st, long long id, struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM domains WHERE id = ?1", id, 0, NULL, "delete domain",
	                   err);
}

void domain_row_release(struct domain_row *r)
{
	free(r->name);
	free(r->created);
	memset(r, 0, sizeof(*r));
}

void domain_list_release(struct domain_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		domain_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
	"u.id, u.domain_id, u.address, u.local_part, d.name, u.display_name,"                      \
	" u.quota_bytes, u.enabled, u.admin, u.created"
#define USER_FROM " FROM users u JOIN domains d ON d.id = u.domain_id"

static void user_fill(sqlite3_stmt *s, void *out)
{
	struct user_row *r = out;
	r->id = sqlite3_column_int64(s, 0);
	r->domain_id = sqlite3_column_int64(s, 1);
	r->address = sql_col_text(s, 2);
	r->local_part = sql_col_text(s, 3);
	r->domain = sql_col_text(s, 4);
	r->display_name = sql_col_text(s, 5);
	r->quota_bytes = sqlite3_column_int64(s, 6);
	r->enabled = sqlite3_column_int(s, 7);
	r->admin = sqlite3_column_int(s, 8);
	r->created = sql_col_text(s, 9);
}

static void user_fill_hash(sqlite3_stmt *s, void *out)
{
	user_fill(s, out);
	((struct user_row *)out)->password_hash = sql_col_text(s, 10);
}

static void user_add_row(sqlite3_stmt *s, void *out)
{
	struct user_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	user_fill(s, &l->v[l->n++]);
}

int store_user_get(struct store *st, const char *address, struct user_row *out,
                   struct mc_error *err)
{
	const char *p[] = {address};
	memset(out, 0, sizeof(*out));
	return sql_query_one(
	    st, "SELECT " USER_COLS ", u.password_hash" USER_FROM " WHERE u.address = ?1", 1, p,
	    user_fill_hash, out, err);
}

int store_user_list(struct store *st, const char *domain, struct user_list *out,
                    struct mc_error *err)
{
	const char *p[] = {domain};
	memset(out, 0, sizeof(*out));
	return sql_query_all(st,
	                     "SELECT " USER_COLS USER_FROM
	                     " WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.name, u.local_part",
	                     1, p, user_add_row, out, err);
}

int store_user_first_admin(struct store *st, struct user_row *out, struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	return sql_query_one(st,
	                     "SELECT " USER_COLS ", u.password_hash" USER_FROM
	                     " WHERE u.admin = 1 ORDER BY u.id LIMIT 1",
	                     0, NULL, user_fill_hash, out, err);
}

int store_user_insert(struct store *st, const struct user_row *u, long long *id,
                      struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st,
	                              "INSERT INTO users (domain_id, local_part, address,"
	                              " password_hash, display_name, quota_bytes, enabled, admin)"
	                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                              err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, u->domain_id);
	sqlite3_bind_text(s, 2, u->local_part, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, u->address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, u->password_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, u->display_name ? u->display_name : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 6, u->quota_bytes);
	sqlite3_bind_int(s, 7, u->enabled ? 1 : 0);
	sqlite3_bind_int(s, 8, u->admin ? 1 : 0);
	if (sql_exec_done(st, s, "add user", err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_user_delete(struct store *st, long long id, struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM users WHERE id = ?1", id, 0, NULL, "delete user", err);
}

int store_user_set_password(struct store *st, long long id, const char *hash, struct mc_error *err)
{
	return sql_exec_id(st, "UPDATE users SET password_hash = ?2 WHERE id = ?1", id, 1, &hash,
	                   "set password", err);
}

/* UPDATE one integer column of a user. */
static int user_set_int(struct store *st, const char *sql, long long id, long long v,
                        struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(st, sql, err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, v);
	return sql_exec_done(st, s, "update user", err);
}

int store_user_set_enabled(struct store *st, long long id, int enabled, struct mc_error *err)
{
	return user_set_int(st, "UPDATE users SET enabled = ?2 WHERE id = ?1", id, !!enabled, err);
}

int store_user_set_quota(struct store *st, long long id, long long bytes, struct mc_error *err)
{
	return user_set_int(st, "UPDATE users SET quota_bytes = ?2 WHERE id = ?1", id, bytes, err);
}

void user_row_release(struct user_row *r)
{
	free(r->address);
	free(r->local_part);
	free(r->domain);
	free(r->display_name);
	if (r->password_hash) {
		memset(r->password_hash, 0, strlen(r->password_hash));
		free(r->password_hash);
	}
	free(r->created);
	memset(r, 0, sizeof(*r));
}

void user_list_release(struct user_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		user_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- aliases ---- */

#define ALIAS_SELECT                                                                               \
	"SELECT a.id, a.domain_id, a.source, a.required, a.created, t.target"                      \
	" FROM aliases a JOIN domains d ON d.id = a.domain_id"                                     \
	" LEFT JOIN alias_targets t ON t.alias_id = a.id "
#define ALIAS_ORDER " ORDER BY d.name, a.source, t.target"

/* Rows come one per target, ordered by alias: fold them into alias rows. */
static void alias_add_row(sqlite3_stmt *s, void *out)
{
	struct alias_list *l = out;
	long long id = sqlite3_column_int64(s, 0);
	struct alias_row *r = l->n ? &l->v[l->n - 1] : NULL;
	if (!r || r->id != id) {
		l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
		r = &l->v[l->n++];
		memset(r, 0, sizeof(*r));
		r->id = id;
		r->domain_id = sqlite3_column_int64(s, 1);
		r->source = sql_col_text(s, 2);
		r->required = sqlite3_column_int(s, 3);
		r->created = sql_col_text(s, 4);
	}
	if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
		r->targets = xrealloc(r->targets, (r->ntargets + 1) * sizeof(char *));
		r->targets[r->ntargets++] = sql_col_text(s, 5);
	}
}

int store_alias_get(struct store *st, const char *source, struct alias_row *out,
                    struct mc_error *err)
{
	struct alias_list l = {0};
	const char *p[] = {source};
	memset(out, 0, sizeof(*out));
	if (sql_query_all(st, ALIAS_SELECT "WHERE a.source = ?1" ALIAS_ORDER, 1, p, alias_add_row,
	                  &l, err) < 0)
		return -1;
	if (l.n == 0) {
		free(l.v);
		return 0;
	}
	*out = l.v[0];
	free(l.v);
	return 1;
}

int store_alias_list(struct store *st, const char *domain, struct alias_list *out,
                     struct mc_error *err)
{
	const char *p[] = {domain};
	memset(out, 0, sizeof(*out));
	return sql_query_all(st, ALIAS_SELECT "WHERE ?1 IS NULL OR d.name = ?1" ALIAS_ORDER, 1, p,
	                     alias_add_row, out, err);
}

int store_alias_list_by_target(struct store *st, const char *target, struct alias_list *out,
                               struct mc_error *err)
{
	const char *p[] = {target};
	memset(out, 0, sizeof(*out));
	return sql_query_all(st,
	                     ALIAS_SELECT "WHERE a.id IN (SELECT alias_id FROM alias_targets"
	                                  " WHERE target = ?1)" ALIAS_ORDER,
	                     1, p, alias_add_row, out, err);
}

int store_alias_list_by_target_domain(struct store *st, const char *domain, struct alias_list *out,
                                      struct mc_error *err)
{
	const char *p[] = {domain};
	memset(out, 0, sizeof(*out));
	return sql_query_all(st,
	                     ALIAS_SELECT
	                     "WHERE a.id IN (SELECT alias_id FROM alias_targets"
	                     " WHERE substr(target, -length(?1) - 1) = '@' || ?1)" ALIAS_ORDER,
	                     1, p, alias_add_row, out, err);
}

int store_alias_insert(struct store *st, long long domain_id, const char *source, int required,
                       long long *id, struct mc_error *err)
{
	sqlite3_stmt *s = sql_prepare(
	    st, "INSERT INTO aliases (domain_id, source, required) VALUES (?1, ?2, ?3)", err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 3, required ? 1 : 0);
	if (sql_exec_done(st, s, "add alias", err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_alias_add_target(struct store *st, long long alias_id, const char *target,
                           struct mc_error *err)
{
	return sql_exec_id(st,
	                   "INSERT OR IGNORE INTO alias_targets (alias_id, target) VALUES (?1, ?2)",
	                   alias_id, 1, &target, "add alias target", err);
}

int store_alias_del_target(struct store *st, long long alias_id, const char *target,
                           struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM alias_targets WHERE alias_id = ?1 AND target = ?2",
	                   alias_id, 1, &target, "delete alias target", err);
}

int store_alias_delete(struct store *st, long long alias_id, struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM aliases WHERE id = ?1", alias_id, 0, NULL,
	                   "delete alias", err);
}

void alias_row_release(struct alias_row *r)
{
	for (size_t i = 0; i < r->ntargets; i++)
		free(r->targets[i]);
	free(r->targets);
	free(r->source);
	free(r->created);
	memset(r, 0, sizeof(*r));
}

void alias_list_release(struct alias_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		alias_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- audit log ---- */

int store_audit(struct store *st, const char *actor, const char *action, const char *subject,
                const char *detail, struct mc_error *err)
{
	const char *p[] = {actor, action, subject, detail ? detail : ""};
	sqlite3_stmt *s = sql_prepare(
	    st, "INSERT INTO audit_log (actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4)",
	    err);
	if (!s)
		return -1;
	sql_bind_texts(s, 4, p);
	return sql_exec_done(st, s, "write audit log", err);
}

static void audit_add_row(sqlite3_stmt *s, void *out)
{
	struct audit_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	struct audit_row *r = &l->v[l->n++];
	r->id = sqlite3_column_int64(s, 0);
	r->at = sql_col_text(s, 1);
	r->actor = sql_col_text(s, 2);
	r->action = sql_col_text(s, 3);
	r->subject = sql_col_text(s, 4);
	r->detail = sql_col_text(s, 5);
}

int store_audit_list(struct store *st, long long limit, struct audit_list *out,
                     struct mc_error *err)
{
	sqlite3_stmt *s;
	int rc;
	memset(out, 0, sizeof(*out));
	s = sql_prepare(st,
	                "SELECT id, at, actor, action, subject, detail FROM audit_log"
	                " ORDER BY id DESC LIMIT ?1",
	                err);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		audit_add_row(s, out);
	if (rc != SQLITE_DONE)
		sql_fail(st, st->db, "read audit log", err);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

void audit_list_release(struct audit_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].at);
		free(l->v[i].actor);
		free(l->v[i].action);
		free(l->v[i].subject);
		free(l->v[i].detail);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
