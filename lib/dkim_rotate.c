/* DKIM key rotation, one step per call; see dkim_rotate.h. */
#include "dkim_rotate.h"
#include "dkim.h"
#include "dkim_msg.h"
#include "dnscheck.h"
#include "domain.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
/* 9999-12-31T23:59:59Z: the last time DKIM_TIME_LEN holds. */
#define TIME_MAX 253402300799LL

/* ---- names and times ---- */

const char *dkim_rotate_action_name(enum dkim_rotate_action a)
{
	static const char *const names[] = {"started", "waiting", "switched", "grace",
	                                    "removed", "idle",    "aborted"};
	return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

const char *dkim_rotate_change_name(enum dkim_rotate_change c)
{
	static const char *const names[] = {"none", "made", "activated", "retired", "removed"};
	return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

const char *dkim_rotate_dns_name(enum dkim_rotate_dns d)
{
	static const char *const names[] = {"",        "published", "missing", "different",
	                                    "several", "failed",    "pending"};
	return (size_t)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

const char *dkim_rotate_role_name(enum dkim_rotate_role r)
{
	static const char *const names[] = {"new", "old", "retired"};
	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

void dkim_time_format(time_t t, char buf[DKIM_TIME_LEN])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, DKIM_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, DKIM_TIME_LEN, "?");
}

int dkim_time_parse(const char *s, time_t *out)
{
	char again[DKIM_TIME_LEN];
	struct tm tm;
	char *end;
	if (s[0] == '@') {
		if (!isdigit((unsigned char)s[1]))
			return -1;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (*end || errno || v > TIME_MAX)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	/* strptime() takes "2026-2-30T1:2:3Z" and blanks; the one form only */
	dkim_time_format(*out, again);
	return strcmp(again, s) == 0 ? 0 : -1;
}

/* ---- the report ---- */

static void row_copy(struct dkim_row *to, const struct dkim_row *from)
{
	*to = *from;
	to->domain = xstrdup(from->domain);
	to->selector = xstrdup(from->selector);
	to->algorithm = xstrdup(from->algorithm);
	to->public_key = xstrdup(from->public_key);
	to->key_file = xstrdup(from->key_file);
	to->state = xstrdup(from->state);
	to->created = xstrdup(from->created);
	to->retired = xstrdup(from->retired ? from->retired : "");
}

static struct dkim_rotate_key *report_add(struct dkim_rotate_report *r, const struct dkim_row *row,
                                          enum dkim_rotate_role role,
                                          enum dkim_rotate_change change)
{
	r->v = xgrow(r->v, &r->alloc, r->n + 1, sizeof(*r->v));
	struct dkim_rotate_key *k = &r->v[r->n++];
	memset(k, 0, sizeof(*k));
	row_copy(&k->row, row);
	k->role = role;
	k->change = change;
	return k;
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

void dkim_rotate_report_release(struct dkim_rotate_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		dkim_row_release(&r->v[i].row);
		free(r->v[i].dns_detail);
		for (size_t j = 0; j < r->v[i].nfound; j++)
			free(r->v[i].found[j]);
		free(r->v[i].found);
	}
	free(r->v);
	free(r->domain);
	memset(r, 0, sizeof(*r));
}

/* ---- the keys of a domain, by role ---- */

struct plan {
	struct domain_row d;
	struct dkim_list keys;
	size_t *active, nactive;
	size_t *pending, npending; /* the newest published key of each algorithm */
	size_t *retired, nretired;
	time_t *retired_at; /* parallel to 'retired' */
};

static void plan_release(struct plan *p)
{
	domain_row_release(&p->d);
	dkim_list_release(&p->keys);
	free(p->active);
	free(p->pending);
	free(p->retired);
	free(p->retired_at);
	memset(p, 0, sizeof(*p));
}

/* The index in 'v' of a key of the algorithm of key 'k', or n. */
static size_t of_alg(const struct plan *p, const size_t *v, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p->keys.v[v[i]].algorithm, p->keys.v[k].algorithm))
			return i;
	return n;
}

static int sort_key(struct plan *p, size_t i, struct mc_error *err)
{
	const struct dkim_row *k = &p->keys.v[i];
	size_t j;
	if (!strcmp(k->state, "active"))
		p->active[p->nactive++] = i;
	else if (!strcmp(k->state, "published")) {
		/* keys come oldest first: a later one of the same algorithm wins */
		if ((j = of_alg(p, p->pending, p->npending, i)) == p->npending)
			p->npending++;
		p->pending[j] = i;
	} else if (!strcmp(k->state, "retired")) {
		if (dkim_time_parse(k->retired, &p->retired_at[p->nretired]) < 0)
			return mc_fail(err, MC_EINTERNAL,
			               "retired DKIM key '%s' of '%s' has no valid retirement time "
			               "('%s')",
			               k->selector, k->domain, k->retired);
		p->retired[p->nretired++] = i;
	}
	return 0;
}

/* Read the domain and its keys. */
static int plan_load(struct mc_ctx *ctx, const char *domain, struct plan *p, struct mc_error *err)
{
	memset(p, 0, sizeof(*p));
	if (domain_require(ctx, domain, &p->d, err) < 0)
		return -1;
	if (store_dkim_list(ctx->st, p->d.name, &p->keys, err) < 0) {
		plan_release(p);
		return -1;
	}
	size_t n = p->keys.n + 1;
	p->active = xcalloc(n, sizeof(size_t));
	p->pending = xcalloc(n, sizeof(size_t));
	p->retired = xcalloc(n, sizeof(size_t));
	p->retired_at = xcalloc(n, sizeof(time_t));
	for (size_t i = 0; i < p->keys.n; i++) {
		if (sort_key(p, i, err) < 0) {
			plan_release(p);
			return -1;
		}
	}
	return 0;
}

static struct dkim_rotate_key *add_retired(struct dkim_rotate_report *r, const struct plan *p,
                                           size_t i, enum dkim_rotate_change change)
{
	struct dkim_rotate_key *k =
	    report_add(r, &p->keys.v[p->retired[i]], DKIM_ROLE_RETIRED, change);
	k->retired = p->retired_at[i];
	k->remove_after = p->retired_at[i] + (time_t)r->grace_days * DAY;
	return k;
}

/* Each pending key, then the active key of its algorithm it replaces. */
static void add_pending(struct dkim_rotate_report *r, const struct plan *p)
{
	for (size_t i = 0; i < p->npending; i++) {
		report_add(r, &p->keys.v[p->pending[i]], DKIM_ROLE_NEW, DKIM_CHANGE_NONE);
		size_t a = of_alg(p, p->active, p->nactive, p->pending[i]);
		if (a < p->nactive)
			report_add(r, &p->keys.v[p->active[a]], DKIM_ROLE_OLD, DKIM_CHANGE_NONE);
	}
}

/* Delete the files of the report's removed keys (their rows are gone). */
static int remove_files(const struct dkim_rotate_report *r, struct mc_error *err)
{
	struct dkim_list gone = {0};
	gone.v = xcalloc(r->n + 1, sizeof(*gone.v));
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].change == DKIM_CHANGE_REMOVED)
			gone.v[gone.n++] = r->v[i].row; /* a shallow view */
	int rc = dkim_remove_files(&gone, err);
	free(gone.v);
	return rc;
}

/* Inside a transaction: the report's keys are still in the states it
 * read them in, before DNS was asked or files were made. */
static int keys_unchanged(struct mc_ctx *ctx, const struct dkim_rotate_report *r,
                          struct mc_error *err)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct dkim_row *k = &r->v[i].row;
		struct dkim_row now;
		int found = store_dkim_get(ctx->st, k->domain, k->selector, &now, err);
		int same = found > 0 && now.id == k->id && !strcmp(now.state, k->state);
		dkim_row_release(&now);
		if (found < 0)
			return -1;
		if (!same)
			return mc_fail(
			    err, MC_ETEMP,
			    "the DKIM keys of '%s' changed meanwhile: run the rotation again",
			    k->domain);
	}
	return 0;
}

/* The report's removed keys: delete their rows. */
static int delete_rows(struct mc_ctx *ctx, void *arg, struct mc_error *err)
{
	const struct dkim_rotate_report *r = arg;
	if (keys_unchanged(ctx, r, err) < 0)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].change == DKIM_CHANGE_REMOVED &&
		    store_dkim_delete(ctx->st, r->v[i].row.id, err) < 0)
			return -1;
	return 0;
}

/* "verb s1, s2" over the report's keys with 'change'. */
static void list_changed(struct strbuf *sb, const struct dkim_rotate_report *r,
                         enum dkim_rotate_change change, const char *verb)
{
	const char *sep = sb->len ? "; " : "";
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].change != change)
			continue;
		strbuf_addf(sb, "%s%s%s%s (%s)", sep, verb, *verb ? " " : "", r->v[i].row.selector,
		            r->v[i].row.algorithm);
		sep = ", ";
		verb = "";
	}
}

/* ---- REMOVED, GRACE ---- */

static int step_remove(struct mc_ctx *ctx, const struct plan *p, time_t now,
                       struct dkim_rotate_report *r, struct mc_error *err)
{
	struct strbuf detail = STRBUF_INIT;
	r->action = DKIM_ROTATE_REMOVED;
	for (size_t i = 0; i < p->nretired; i++) {
		int over = p->retired_at[i] + (time_t)r->grace_days * DAY <= now;
		add_retired(r, p, i, over ? DKIM_CHANGE_REMOVED : DKIM_CHANGE_NONE);
	}
	list_changed(&detail, r, DKIM_CHANGE_REMOVED, "removed retired key(s)");
	strbuf_addf(&detail, " after the grace period of %lld day(s)", r->grace_days);
	int rc = account_tx(ctx, delete_rows, r, "dkim.rotate", p->d.name, detail.buf, err);
	strbuf_release(&detail);
	return rc < 0 ? -1 : remove_files(r, err);
}

static int any_expired(const struct plan *p, time_t now, long long grace_days)
{
	for (size_t i = 0; i < p->nretired; i++)
		if (p->retired_at[i] + (time_t)grace_days * DAY <= now)
			return 1;
	return 0;
}

static void step_grace(const struct plan *p, struct dkim_rotate_report *r)
{
	r->action = DKIM_ROTATE_GRACE;
	for (size_t i = 0; i < p->nretired; i++)
		add_retired(r, p, i, DKIM_CHANGE_NONE);
}

/* ---- DNS: is the pending key's record published? ---- */

/* A DKIM key record: "v=DKIM1" first, or a record verifiers can use
 * without it (v= is optional, RFC 6376 3.6.1), unlike the other TXT
 * records a name may hold. */
static int is_dkim(const char *t)
{
	struct dkim_keyrec kr;
	char why[128];
	t += strspn(t, " \t");
	if (strncmp(t, "v=DKIM1", 7) == 0 && (!t[7] || strchr(" \t;", t[7])))
		return 1;
	int ok = dkim_keyrec_parse(t, &kr, why, sizeof(why)) == 0;
	dkim_keyrec_release(&kr);
	return ok;
}

static char *base64(const unsigned char *in, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* Judge the one DKIM record 'txt' as a verifier reads it (dkim_msg.h)
 * against key 'row': our p= is canonical base64, so comparing it with
 * the record's key encoded the same way compares the keys. */
static enum dkim_rotate_dns judge(const char *txt, const struct dkim_row *row, char **detail)
{
	struct dkim_keyrec kr;
	char why[128];
	if (dkim_keyrec_parse(txt, &kr, why, sizeof(why)) < 0) {
		*detail = xasprintf("different: verifiers cannot use the record: %s", why);
		return DKIM_DNS_DIFFERENT;
	}
	char *p = kr.key ? base64(kr.key, kr.key_len) : xstrdup("");
	enum dkim_rotate_dns d = DKIM_DNS_DIFFERENT;
	if (kr.revoked)
		*detail = xstrdup("different: the record's p= is empty (a revoked key)");
	else if (strcmp(kr.key_type, row->algorithm) != 0)
		*detail = xasprintf("different: the record says k=%s, the new key is %s",
		                    kr.key_type, row->algorithm);
	else if (strcmp(p, row->public_key) != 0)
		*detail = xstrdup("different: the record's p= is not the new key");
	else if (!kr.sha256_allowed)
		*detail =
		    xstrdup("different: the record's h= does not allow sha256, which we sign with");
	else if (!kr.email_service)
		*detail = xstrdup("different: the record's s= does not allow email");
	else {
		d = DKIM_DNS_PUBLISHED;
		*detail = xstrdup("published: the record holds the new key");
	}
	free(p);
	dkim_keyrec_release(&kr);
	return d;
}

/* What the TXT records at the name say about key 'k'. */
static void judge_answer(struct dkim_rotate_key *k, const ldns_rr_list *rrs)
{
	size_t n = rrs ? ldns_rr_list_rr_count(rrs) : 0, ndkim = 0, which = 0;
	k->found = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		k->found[k->nfound] = dnscheck_txt(ldns_rr_list_rr(rrs, i));
		if (is_dkim(k->found[k->nfound])) {
			which = k->nfound;
			ndkim++;
		}
		k->nfound++;
	}
	if (ndkim == 0) {
		k->dns = DKIM_DNS_MISSING;
		k->dns_detail = xasprintf(
		    "missing: no DKIM record among the %zu TXT record(s) there", k->nfound);
	} else if (ndkim > 1) {
		k->dns = DKIM_DNS_SEVERAL;
		k->dns_detail =
		    xasprintf("several: %zu DKIM records under one selector, verifiers may "
		              "pick the wrong one: keep only the new key's",
		              ndkim);
	} else
		k->dns = judge(k->found[which], &k->row, &k->dns_detail);
}

static void ask_dns(struct dkim_rotate_key *k, dnsq_lookup_fn lookup, void *lookup_ctx)
{
	struct dnsq_answer a = {0};
	char *name = xasprintf("%s._domainkey.%s.", k->row.selector, k->row.domain);
	lookup(lookup_ctx, name, LDNS_RR_TYPE_TXT, &a);
	free(name);
	k->found = NULL;
	k->nfound = 0;
	switch (a.status) {
	case DNSQ_ANSWER:
		judge_answer(k, a.rrs);
		return;
	case DNSQ_NXDOMAIN:
		k->dns = DKIM_DNS_MISSING;
		k->dns_detail = xstrdup("missing: the name does not exist (NXDOMAIN)");
		return;
	case DNSQ_NODATA:
		k->dns = DKIM_DNS_MISSING;
		k->dns_detail = xstrdup("missing: the name exists but has no TXT record");
		return;
	case DNSQ_PENDING:
		k->dns = DKIM_DNS_PENDING;
		k->dns_detail = xstrdup("pending: no answer yet");
		return;
	default:
		k->dns = DKIM_DNS_FAILED;
		k->dns_detail =
		    xasprintf("failed: no answer from DNS (%s)", dnsq_status_name(a.status));
	}
}

/* ---- SWITCHED, WAITING ---- */

struct switch_arg {
	struct dkim_rotate_report *r;
	const char *at; /* the retirement time */
};

static int switch_rows(struct mc_ctx *ctx, void *arg, struct mc_error *err)
{
	struct switch_arg *a = arg;
	if (keys_unchanged(ctx, a->r, err) < 0)
		return -1;
	for (size_t i = 0; i < a->r->n; i++) {
		const struct dkim_row *k = &a->r->v[i].row;
		if (a->r->v[i].role == DKIM_ROLE_NEW
		        ? store_dkim_set_state(ctx->st, k->id, "active", err) < 0
		        : store_dkim_retire(ctx->st, k->id, a->at, err) < 0)
			return -1;
	}
	return 0;
}

/* Every pending record is published: switch, all keys in one go. */
static int do_switch(struct mc_ctx *ctx, const char *domain, time_t now,
                     struct dkim_rotate_report *r, struct mc_error *err)
{
	char at[DKIM_TIME_LEN];
	struct strbuf detail = STRBUF_INIT;
	struct switch_arg a = {r, at};
	dkim_time_format(now, at);
	for (size_t i = 0; i < r->n; i++)
		r->v[i].change =
		    r->v[i].role == DKIM_ROLE_NEW ? DKIM_CHANGE_ACTIVATED : DKIM_CHANGE_RETIRED;
	list_changed(&detail, r, DKIM_CHANGE_ACTIVATED, "switched signing to");
	list_changed(&detail, r, DKIM_CHANGE_RETIRED, "retired");
	int rc = account_tx(ctx, switch_rows, &a, "dkim.rotate", domain, detail.buf, err);
	strbuf_release(&detail);
	if (rc < 0)
		return -1;
	r->action = DKIM_ROTATE_SWITCHED;
	for (size_t i = 0; i < r->n; i++) {
		struct dkim_rotate_key *k = &r->v[i];
		set_str(&k->row.state, k->role == DKIM_ROLE_NEW ? "active" : "retired");
		if (k->role == DKIM_ROLE_OLD) {
			set_str(&k->row.retired, at);
			k->retired = now;
			k->remove_after = now + (time_t)r->grace_days * DAY;
		}
	}
	return 0;
}

static int step_pending(struct mc_ctx *ctx, const struct plan *p, time_t now, dnsq_lookup_fn lookup,
                        void *lookup_ctx, struct dkim_rotate_report *r, struct mc_error *err)
{
	int all = 1;
	add_pending(r, p);
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].role != DKIM_ROLE_NEW)
			continue;
		ask_dns(&r->v[i], lookup, lookup_ctx);
		all &= r->v[i].dns == DKIM_DNS_PUBLISHED;
	}
	r->action = DKIM_ROTATE_WAITING;
	return all ? do_switch(ctx, p->d.name, now, r, err) : 0;
}

/* ---- STARTED ---- */

struct start {
	struct dkim_new *k; /* one new key per active algorithm */
	char **sel;
	size_t n;
};

static void start_release(struct start *s)
{
	for (size_t i = 0; i < s->n; i++) {
		dkim_new_release(&s->k[i]);
		free(s->sel[i]);
	}
	free(s->k);
	free(s->sel);
}

/* Inside the transaction: the keys are as the plan saw them (no other
 * run started a rotation while the new keys were being made). */
static int still_idle(struct mc_ctx *ctx, const struct plan *p, struct mc_error *err)
{
	struct dkim_list now;
	if (store_dkim_list(ctx->st, p->d.name, &now, err) < 0)
		return -1;
	int same = now.n == p->keys.n;
	for (size_t i = 0; same && i < now.n; i++)
		same =
		    now.v[i].id == p->keys.v[i].id && !strcmp(now.v[i].state, p->keys.v[i].state);
	dkim_list_release(&now);
	if (same)
		return 0;
	return mc_fail(err, MC_ETEMP,
	               "the DKIM keys of '%s' changed while new ones were made: run the rotation "
	               "again",
	               p->d.name);
}

/* Inside the transaction: store each new key under the next free
 * default selector, with the audit row. */
static int start_rows(struct mc_ctx *ctx, const struct plan *p, struct start *s, time_t now,
                      struct mc_error *err)
{
	struct strbuf detail = STRBUF_INIT;
	int rc = still_idle(ctx, p, err);
	strbuf_addstr(&detail, "started:");
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct dkim_row *old = &p->keys.v[p->active[i]];
		rc = dkim_selector_default(ctx, p->d.name, now, &s->sel[i], err);
		if (rc == 0)
			rc = dkim_new_store(ctx, &s->k[i], p->d.id, p->d.name, s->sel[i], err);
		strbuf_addf(&detail, "%s new %s-%d key %s to replace %s", i ? "," : "",
		            s->k[i].algorithm, s->k[i].bits, s->sel[i] ? s->sel[i] : "?",
		            old->selector);
	}
	if (rc == 0)
		rc = store_audit(ctx->st, ctx->actor, "dkim.rotate", p->d.name, detail.buf, err);
	strbuf_release(&detail);
	return rc;
}

/* The new keys, as stored, each before the key it replaces. */
static int start_report(struct mc_ctx *ctx, const struct plan *p, const struct start *s,
                        struct dkim_rotate_report *r, struct mc_error *err)
{
	r->action = DKIM_ROTATE_STARTED;
	for (size_t i = 0; i < s->n; i++) {
		struct dkim_row row;
		int found = store_dkim_get(ctx->st, p->d.name, s->sel[i], &row, err);
		if (found == 0)
			mc_fail(err, MC_EINTERNAL,
			        "the new DKIM key '%s' of '%s' is not in the database", s->sel[i],
			        p->d.name);
		if (found > 0) {
			report_add(r, &row, DKIM_ROLE_NEW, DKIM_CHANGE_MADE);
			report_add(r, &p->keys.v[p->active[i]], DKIM_ROLE_OLD, DKIM_CHANGE_NONE);
		}
		dkim_row_release(&row);
		if (found <= 0)
			return -1;
	}
	return 0;
}

/* The active key of each algorithm, once (there is one unless the
 * database was edited by hand). */
static void one_per_algorithm(struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nactive; i++)
		if (of_alg(p, p->active, n, p->active[i]) == n)
			p->active[n++] = p->active[i];
	p->nactive = n;
}

static int step_start(struct mc_ctx *ctx, struct plan *p, time_t now, struct dkim_rotate_report *r,
                      struct mc_error *err)
{
	struct start s = {0};
	one_per_algorithm(p);
	if (p->nactive == 0)
		return mc_fail(err, MC_EDATA,
		               "domain '%s' has no active DKIM key to rotate: create one with "
		               "'mailctl dkim keygen %s'",
		               p->d.name, p->d.name);
	s.k = xcalloc(p->nactive, sizeof(*s.k));
	s.sel = xcalloc(p->nactive, sizeof(char *));
	int rc = 0;
	for (; rc == 0 && s.n < p->nactive; s.n++) {
		const struct dkim_row *old = &p->keys.v[p->active[s.n]];
		rc = dkim_new_generate(&s.k[s.n], old->algorithm, (int)old->bits, err);
	}
	if (rc == 0 && (rc = store_begin(ctx->st, err)) == 0) {
		if (start_rows(ctx, p, &s, now, err) < 0 || store_commit(ctx->st, err) < 0) {
			store_rollback(ctx->st);
			for (size_t i = s.n; i-- > 0;) /* the last first: the first made the dir */
				dkim_new_unstore(ctx, &s.k[i]);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = start_report(ctx, p, &s, r, err);
	start_release(&s);
	return rc;
}

/* ---- the step ---- */

static void report_init(struct mc_ctx *ctx, const struct plan *p, struct dkim_rotate_report *r)
{
	memset(r, 0, sizeof(*r));
	r->domain = xstrdup(p->d.name);
	r->grace_days = ctx->cfg->dkim_rotation_grace_days;
	r->action = DKIM_ROTATE_IDLE;
}

int dkim_rotate_step(struct mc_ctx *ctx, const char *domain, time_t now, dnsq_lookup_fn lookup,
                     void *lookup_ctx, int may_start, struct dkim_rotate_report *out,
                     struct mc_error *err)
{
	struct plan p;
	memset(out, 0, sizeof(*out));
	if (plan_load(ctx, domain, &p, err) < 0)
		return -1;
	report_init(ctx, &p, out);
	int rc = 0;
	if (any_expired(&p, now, out->grace_days))
		rc = step_remove(ctx, &p, now, out, err);
	else if (p.npending)
		rc = step_pending(ctx, &p, now, lookup, lookup_ctx, out, err);
	else if (p.nretired)
		step_grace(&p, out);
	else if (may_start)
		rc = step_start(ctx, &p, now, out, err);
	plan_release(&p);
	if (rc < 0)
		dkim_rotate_report_release(out);
	return rc;
}

int dkim_rotate_abort(struct mc_ctx *ctx, const char *domain, struct dkim_rotate_report *out,
                      struct mc_error *err)
{
	struct plan p;
	struct strbuf detail = STRBUF_INIT;
	memset(out, 0, sizeof(*out));
	if (plan_load(ctx, domain, &p, err) < 0)
		return -1;
	report_init(ctx, &p, out);
	out->action = DKIM_ROTATE_ABORTED;
	int rc = 0;
	if (p.npending == 0)
		rc = mc_fail(err, MC_EDATA, "domain '%s' has no DKIM key rotation pending",
		             p.d.name);
	/* every published key goes, not only the newest of each algorithm */
	for (size_t i = 0; rc == 0 && i < p.keys.n; i++) {
		const struct dkim_row *k = &p.keys.v[i];
		if (!strcmp(k->state, "published"))
			report_add(out, k, DKIM_ROLE_NEW, DKIM_CHANGE_REMOVED);
		else if (!strcmp(k->state, "active"))
			report_add(out, k, DKIM_ROLE_OLD, DKIM_CHANGE_NONE);
	}
	if (rc == 0) {
		list_changed(&detail, out, DKIM_CHANGE_REMOVED, "aborted: removed pending key(s)");
		rc = account_tx(ctx, delete_rows, out, "dkim.rotate", p.d.name, detail.buf, err);
	}
	if (rc == 0)
		rc = remove_files(out, err);
	strbuf_release(&detail);
	plan_release(&p);
	if (rc < 0)
		dkim_rotate_report_release(out);
	return rc < 0 ? -1 : 0;
}
