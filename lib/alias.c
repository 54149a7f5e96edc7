/* Forwarding addresses and loop detection; see alias.h. */
#include "alias.h"
#include "address.h"
#include "domain.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The alias being added, as the loop check must see it before it exists. */
struct pending {
	const char *source;
	char **targets;
	size_t n;
};

struct add_arg {
	char *source, *domain;
	char **targets;
	size_t n;
};

/* The alias key an address resolves through: itself when it is an alias
 * source, its domain's catch-all when it is neither user nor alias and one
 * exists, else NULL (delivered or sent off-site). '*key' is malloc'd. */
static int alias_key(struct mc_ctx *ctx, const struct pending *p, const char *addr, char **key,
                     struct mc_error *err)
{
	struct alias_row a;
	struct user_row u;
	const char *at = strchr(addr, '@');
	int rc;
	*key = NULL;
	if (strcmp(addr, p->source) == 0 || addr[0] == '@') {
		*key = xstrdup(addr);
		return 0;
	}
	if ((rc = store_alias_get(ctx->st, addr, &a, err)) != 0) {
		alias_row_release(&a);
		*key = rc > 0 ? xstrdup(addr) : NULL;
		return rc < 0 ? -1 : 0;
	}
	if ((rc = store_user_get(ctx->st, addr, &u, err)) != 0) {
		user_row_release(&u);
		return rc < 0 ? -1 : 0;
	}
	if (strcmp(at, p->source) == 0)
		*key = xstrdup(at);
	else if ((rc = store_alias_get(ctx->st, at, &a, err)) > 0)
		*key = xstrdup(at);
	alias_row_release(&a);
	return rc < 0 ? -1 : 0;
}

/* The targets of alias 'key', with the pending change applied. */
static int key_targets(struct mc_ctx *ctx, const struct pending *p, const char *key,
                       struct alias_row *out, struct mc_error *err)
{
	int rc = store_alias_get(ctx->st, key, out, err);
	if (rc < 0)
		return -1;
	if (strcmp(key, p->source) == 0)
		for (size_t i = 0; i < p->n; i++) {
			out->targets = xrealloc(out->targets, (out->ntargets + 1) * sizeof(char *));
			out->targets[out->ntargets++] = xstrdup(p->targets[i]);
		}
	return 0;
}

/* Keys already walked: in a loop-free graph a shared tail need not be
 * walked twice, which keeps wide alias trees linear. */
struct seen {
	char **v;
	size_t n, alloc;
};

static int seen_add(struct seen *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], key) == 0)
			return 0;
	s->v = xgrow(s->v, &s->alloc, s->n + 1, sizeof(char *));
	s->v[s->n++] = xstrdup(key);
	return 1;
}

/* Depth-first walk from 'key'; a return to the pending source is a loop. */
static int walk(struct mc_ctx *ctx, const struct pending *p, struct seen *seen, const char *key,
                int depth, struct mc_error *err)
{
	struct alias_row a;
	int rc = 0;
	if (depth > ALIAS_MAX_DEPTH)
		return mc_fail(err, MC_EDATA, "alias '%s' would start a chain deeper than %d",
		               p->source, ALIAS_MAX_DEPTH);
	if (key_targets(ctx, p, key, &a, err) < 0)
		return -1;
	for (size_t i = 0; i < a.ntargets && rc == 0; i++) {
		char *next;
		if ((rc = alias_key(ctx, p, a.targets[i], &next, err)) < 0)
			break;
		if (next && strcmp(next, p->source) == 0)
			rc = mc_fail(err, MC_EDATA, "alias '%s' would make mail loop (via '%s')",
			             p->source, key);
		else if (next && seen_add(seen, next))
			rc = walk(ctx, p, seen, next, depth + 1, err);
		free(next);
	}
	alias_row_release(&a);
	return rc;
}

static int check_loops(struct mc_ctx *ctx, const struct pending *p, struct mc_error *err)
{
	struct seen seen = {0};
	int rc = walk(ctx, p, &seen, p->source, 0, err);
	for (size_t i = 0; i < seen.n; i++)
		free(seen.v[i]);
	free(seen.v);
	return rc;
}

/* A target in one of our domains must lead somewhere. */
static int check_local_target(struct mc_ctx *ctx, const struct pending *p, const char *t,
                              struct mc_error *err)
{
	struct domain_row d;
	struct user_row u;
	char *key;
	int rc = store_domain_get(ctx->st, strchr(t, '@') + 1, &d, err);
	domain_row_release(&d);
	if (rc <= 0)
		return rc;
	if ((rc = store_user_get(ctx->st, t, &u, err)) != 0) {
		user_row_release(&u);
		return rc < 0 ? -1 : 0;
	}
	if (alias_key(ctx, p, t, &key, err) < 0)
		return -1;
	rc = key ? 0
	         : mc_fail(err, MC_ENOUSER,
	                   "target '%s' does not exist: its domain is hosted here, so it must "
	                   "be a user or an alias",
	                   t);
	free(key);
	return rc;
}

int alias_target_check(struct mc_ctx *ctx, const char *target, struct mc_error *err)
{
	struct pending none = {"", NULL, 0};
	return check_local_target(ctx, &none, target, err);
}

/* How many of the requested targets the alias does not have yet. */
static size_t count_new(const struct alias_row *old, const struct add_arg *a)
{
	size_t fresh = 0;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = 0;
		while (j < old->ntargets && strcmp(old->targets[j], a->targets[i]) != 0)
			j++;
		fresh += j == old->ntargets;
	}
	return fresh;
}

static int add_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct add_arg *a = varg;
	struct domain_row d;
	struct user_row u;
	struct alias_row old;
	struct pending p = {a->source, a->targets, a->n};
	long long id;
	int rc = store_domain_get(ctx->st, a->domain, &d, err);
	id = d.id;
	domain_row_release(&d);
	if (rc <= 0)
		return rc < 0 ? -1
		              : mc_fail(err, MC_ENODOMAIN, "domain '%s' does not exist", a->domain);
	if ((rc = store_user_get(ctx->st, a->source, &u, err)) != 0) {
		user_row_release(&u);
		return rc < 0 ? -1
		              : mc_fail(err, MC_EDATA,
		                        "'%s' is a user; an alias cannot share "
		                        "a user's address",
		                        a->source);
	}
	for (size_t i = 0; i < a->n; i++)
		if (check_local_target(ctx, &p, a->targets[i], err) < 0)
			return -1;
	if (check_loops(ctx, &p, err) < 0)
		return -1;
	if ((rc = store_alias_get(ctx->st, a->source, &old, err)) < 0)
		return -1;
	long long alias_id = old.id;
	size_t fresh = rc == 0 ? a->n : count_new(&old, a);
	alias_row_release(&old);
	if (fresh == 0)
		return 1;
	if (rc == 0 && store_alias_insert(ctx->st, id, a->source, 0, &alias_id, err) < 0)
		return -1;
	for (size_t i = 0; i < a->n; i++)
		if (store_alias_add_target(ctx->st, alias_id, a->targets[i], err) < 0)
			return -1;
	return 0;
}

static void add_arg_release(struct add_arg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->targets[i]);
	free(a->targets);
	free(a->source);
	free(a->domain);
}

/* Normalise the targets, dropping repeats; a target cannot be a catch-all
 * or the source itself. */
static int normalize_targets(struct add_arg *a, const char *const *targets, size_t n,
                             struct mc_error *err)
{
	a->targets = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char *t;
		if (addr_normalize(targets[i], &t, NULL, NULL, err) < 0)
			return -1;
		if (strcmp(t, a->source) == 0) {
			free(t);
			return mc_fail(err, MC_EDATA, "alias '%s' cannot point at itself",
			               a->source);
		}
		size_t j;
		for (j = 0; j < a->n && strcmp(a->targets[j], t) != 0; j++)
			;
		if (j < a->n)
			free(t);
		else
			a->targets[a->n++] = t;
	}
	return 0;
}

int alias_add(struct mc_ctx *ctx, const char *source, const char *const *targets, size_t n,
              char **canon, struct mc_error *err)
{
	struct add_arg a = {0};
	struct strbuf detail = STRBUF_INIT;
	int rc = -1;
	*canon = NULL;
	if (n == 0)
		return mc_fail(err, MC_EUSAGE, "alias needs at least one target");
	if (addr_normalize_source(source, &a.source, NULL, &a.domain, err) < 0 ||
	    normalize_targets(&a, targets, n, err) < 0)
		goto out;
	for (size_t i = 0; i < a.n; i++)
		strbuf_addf(&detail, "%s%s", i ? "," : "", a.targets[i]);
	rc = account_tx(ctx, add_tx, &a, "alias.add", a.source, detail.buf, err);
	strbuf_release(&detail);
	if (rc >= 0)
		*canon = xstrdup(a.source);
out:
	add_arg_release(&a);
	return rc;
}

/* After 'source' is gone (inside the transaction): every alias that
 * forwarded to it, or for a catch-all to any address it covered, must
 * still lead somewhere. */
static int refs_check(struct mc_ctx *ctx, const char *source, struct mc_error *err)
{
	struct alias_list l;
	int rc = 0;
	int catchall = source[0] == '@';
	if ((catchall ? store_alias_list_by_target_domain(ctx->st, source + 1, &l, err)
	              : store_alias_list_by_target(ctx->st, source, &l, err)) < 0)
		return -1;
	for (size_t i = 0; i < l.n && rc == 0; i++)
		for (size_t j = 0; j < l.v[i].ntargets && rc == 0; j++) {
			const char *t = l.v[i].targets[j];
			if (catchall ? strcmp(strchr(t, '@'), source) != 0 : strcmp(t, source) != 0)
				continue;
			if (alias_target_check(ctx, t, err) < 0)
				rc = mc_fail(err, MC_EDATA,
				             "alias '%s' forwards to '%s', which would then lead "
				             "nowhere: change '%s' first",
				             l.v[i].source, t, l.v[i].source);
		}
	alias_list_release(&l);
	return rc;
}

struct del_arg {
	const char *source;
	const char *target;
};

static int del_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct del_arg *d = varg;
	struct alias_row a;
	size_t i;
	int rc = store_alias_get(ctx->st, d->source, &a, err);
	if (rc <= 0)
		return rc < 0 ? -1
		              : mc_fail(err, MC_ENOUSER, "alias '%s' does not exist", d->source);
	for (i = 0; d->target && i < a.ntargets && strcmp(a.targets[i], d->target); i++)
		;
	if (d->target && i == a.ntargets)
		rc = mc_fail(err, MC_ENOUSER, "'%s' is not a target of alias '%s'", d->target,
		             d->source);
	else if (a.required && (!d->target || a.ntargets == 1))
		rc = mc_fail(err, MC_EDATA,
		             "'%s' must always reach someone (RFC 5321, RFC 2142): add another "
		             "target before removing this one",
		             d->source);
	else if (d->target && a.ntargets > 1)
		rc = store_alias_del_target(ctx->st, a.id, d->target, err);
	else if ((rc = store_alias_delete(ctx->st, a.id, err)) == 0)
		rc = refs_check(ctx, d->source, err);
	alias_row_release(&a);
	return rc;
}

int alias_del(struct mc_ctx *ctx, const char *source, const char *target, struct mc_error *err)
{
	char *src = NULL, *tgt = NULL;
	int rc = -1;
	if (addr_normalize_source(source, &src, NULL, NULL, err) < 0 ||
	    (target && addr_normalize(target, &tgt, NULL, NULL, err) < 0))
		goto out;
	struct del_arg d = {src, tgt};
	rc = account_tx(ctx, del_tx, &d, "alias.del", src, tgt ? tgt : "", err);
out:
	free(src);
	free(tgt);
	return rc;
}

int alias_list(struct mc_ctx *ctx, const char *domain, struct alias_list *out, struct mc_error *err)
{
	struct domain_row d;
	memset(out, 0, sizeof(*out));
	if (!domain)
		return store_alias_list(ctx->st, NULL, out, err);
	if (domain_require(ctx, domain, &d, err) < 0)
		return -1;
	int rc = store_alias_list(ctx->st, d.name, out, err);
	domain_row_release(&d);
	return rc;
}
