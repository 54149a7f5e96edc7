/* DKIM keys in SQLite; see store.h. */
#include "store_sqlite.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define DKIM_SELECT                                                                                \
	"SELECT k.id, k.domain_id, d.name, k.selector, k.algorithm, k.bits, k.public_key,"         \
	" k.key_file, k.state, k.created, k.retired"                                               \
	" FROM dkim_keys k JOIN domains d ON d.id = k.domain_id "

static void dkim_fill(sqlite3_stmt *s, void *out)
{
	struct dkim_row *r = out;
	r->id = sqlite3_column_int64(s, 0);
	r->domain_id = sqlite3_column_int64(s, 1);
	r->domain = sql_col_text(s, 2);
	r->selector = sql_col_text(s, 3);
	r->algorithm = sql_col_text(s, 4);
	r->bits = sqlite3_column_int64(s, 5);
	r->public_key = sql_col_text(s, 6);
	r->key_file = sql_col_text(s, 7);
	r->state = sql_col_text(s, 8);
	r->created = sql_col_text(s, 9);
	r->retired = sql_col_text(s, 10);
}

static void dkim_add_row(sqlite3_stmt *s, void *out)
{
	struct dkim_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	dkim_fill(s, &l->v[l->n++]);
}

int store_dkim_get(struct store *st, const char *domain, const char *selector, struct dkim_row *out,
                   struct mc_error *err)
{
	const char *p[] = {domain, selector};
	memset(out, 0, sizeof(*out));
	return sql_query_one(st, DKIM_SELECT "WHERE d.name = ?1 AND k.selector = ?2", 2, p,
	                     dkim_fill, out, err);
}

int store_dkim_list(struct store *st, const char *domain, struct dkim_list *out,
                    struct mc_error *err)
{
	const char *p[] = {domain};
	memset(out, 0, sizeof(*out));
	return sql_query_all(st,
	                     DKIM_SELECT "WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.name, k.id", 1,
	                     p, dkim_add_row, out, err);
}

int store_dkim_insert(struct store *st, const struct dkim_row *k, long long *id,
                      struct mc_error *err)
{
	const char *p[] = {k->selector, k->algorithm, k->public_key, k->key_file, k->state};
	sqlite3_stmt *s = sql_prepare(st,
	                              "INSERT INTO dkim_keys (selector, algorithm, public_key,"
	                              " key_file, state, domain_id, bits)"
	                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                              err);
	if (!s)
		return -1;
	sql_bind_texts(s, 5, p);
	sqlite3_bind_int64(s, 6, k->domain_id);
	sqlite3_bind_int64(s, 7, k->bits);
	if (sql_exec_done(st, s, "add dkim key", err) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_dkim_set_state(struct store *st, long long id, const char *state, struct mc_error *err)
{
	return sql_exec_id(st,
	                   "UPDATE dkim_keys SET state = ?2, retired = CASE WHEN ?2 = 'retired'"
	                   " THEN coalesce(retired, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) END"
	                   " WHERE id = ?1",
	                   id, 1, &state, "set dkim key state", err);
}

int store_dkim_retire(struct store *st, long long id, const char *at, struct mc_error *err)
{
	return sql_exec_id(st, "UPDATE dkim_keys SET state = 'retired', retired = ?2 WHERE id = ?1",
	                   id, 1, &at, "retire dkim key", err);
}

int store_dkim_delete(struct store *st, long long id, struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM dkim_keys WHERE id = ?1", id, 0, NULL,
	                   "delete dkim key", err);
}

int store_dkim_delete_domain(struct store *st, long long domain_id, struct mc_error *err)
{
	return sql_exec_id(st, "DELETE FROM dkim_keys WHERE domain_id = ?1", domain_id, 0, NULL,
	                   "delete dkim keys", err);
}

void dkim_row_release(struct dkim_row *r)
{
	free(r->domain);
	free(r->selector);
	free(r->algorithm);
	free(r->public_key);
	free(r->key_file);
	free(r->state);
	free(r->created);
	free(r->retired);
	memset(r, 0, sizeof(*r));
}

void dkim_list_release(struct dkim_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		dkim_row_release(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
