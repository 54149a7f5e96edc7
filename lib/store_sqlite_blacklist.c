/* Blocklist results in SQLite; see store.h. */
#include "store_sqlite.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BL_COLUMNS "id, checked, subject, zone, status, detail"

static void bl_add_row(sqlite3_stmt *s, void *out)
{
	struct blacklist_list *l = out;
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	struct blacklist_row *r = &l->v[l->n++];
	r->id = sqlite3_column_int64(s, 0);
	r->checked = sql_col_text(s, 1);
	r->subject = sql_col_text(s, 2);
	r->zone = sql_col_text(s, 3);
	r->status = sql_col_text(s, 4);
	r->detail = sql_col_text(s, 5);
}

int store_blacklist_add(struct store *st, const struct blacklist_row *r, struct mc_error *err)
{
	const char *p[] = {r->checked, r->subject, r->zone, r->status, r->detail ? r->detail : ""};
	sqlite3_stmt *s =
	    sql_prepare(st,
	                "INSERT INTO blacklist_results (checked, subject, zone, status,"
	                " detail) VALUES (?1, ?2, ?3, ?4, ?5)",
	                err);
	if (!s)
		return -1;
	sql_bind_texts(s, 5, p);
	return sql_exec_done(st, s, "record blocklist result", err);
}

int store_blacklist_latest(struct store *st, struct blacklist_list *out, struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	return sql_query_all(st,
	                     "SELECT " BL_COLUMNS " FROM blacklist_results b WHERE id ="
	                     " (SELECT max(id) FROM blacklist_results WHERE subject = b.subject"
	                     " AND zone = b.zone) ORDER BY subject, zone",
	                     0, NULL, bl_add_row, out, err);
}

int store_blacklist_history(struct store *st, const char *subject, int changes, long long limit,
                            struct blacklist_list *out, struct mc_error *err)
{
	char lim[32];
	snprintf(lim, sizeof(lim), "%lld", limit > 0 ? limit : -1);
	const char *p[] = {subject, changes ? "1" : "0", lim};
	memset(out, 0, sizeof(*out));
	/* A change: no earlier result for the pair, or one with another status. */
	return sql_query_all(st,
	                     "SELECT " BL_COLUMNS " FROM blacklist_results b"
	                     " WHERE (?1 IS NULL OR subject = ?1) AND (?2 = '0' OR"
	                     " coalesce((SELECT status FROM blacklist_results p WHERE"
	                     " p.subject = b.subject AND p.zone = b.zone AND p.id < b.id"
	                     " ORDER BY p.id DESC LIMIT 1), '') <> b.status)"
	                     " ORDER BY id DESC LIMIT CAST(?3 AS INTEGER)",
	                     3, p, bl_add_row, out, err);
}

int store_blacklist_prune(struct store *st, const char *before, struct mc_error *err)
{
	const char *p[] = {before};
	return sql_exec_id(st, "DELETE FROM blacklist_results WHERE checked < ?2", 0, 1, p,
	                   "prune blocklist results", err);
}

void blacklist_list_release(struct blacklist_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].checked);
		free(l->v[i].subject);
		free(l->v[i].zone);
		free(l->v[i].status);
		free(l->v[i].detail);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
