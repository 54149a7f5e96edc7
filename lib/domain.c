/* Hosted domains; see domain.h. */
#include "domain.h"
#include "address.h"
#include "alias.h"
#include "dkim.h"
#include "mailbox.h"
#include "user.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void domain_added_release(struct domain_added *d)
{
	free(d->name);
	free(d->postmaster_target);
	free(d->dkim_selector);
	memset(d, 0, sizeof(*d));
}

void domain_deleted_release(struct domain_deleted *d)
{
	free(d->archived);
	memset(d, 0, sizeof(*d));
}

int domain_require(struct mc_ctx *ctx, const char *name, struct domain_row *out,
                   struct mc_error *err)
{
	char *canon;
	if (addr_domain_normalize(name, &canon, err) < 0)
		return -1;
	int rc = store_domain_get(ctx->st, canon, out, err);
	if (rc == 0)
		rc = mc_fail(err, MC_ENODOMAIN, "domain '%s' does not exist", canon);
	free(canon);
	return rc < 0 ? -1 : 0;
}

/* Choose where postmaster@ and abuse@ of a new domain point. */
static int postmaster_target(struct mc_ctx *ctx, const char *admin, char **out,
                             struct mc_error *err)
{
	struct user_row u;
	int rc;
	if (admin && *admin)
		return addr_normalize(admin, out, NULL, NULL, err);
	rc = store_user_first_admin(ctx->st, &u, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		*out = xstrdup(u.address);
		user_row_release(&u);
		return 0;
	}
	if (ctx->cfg->admin_address && *ctx->cfg->admin_address)
		return addr_normalize(ctx->cfg->admin_address, out, NULL, NULL, err);
	return mc_fail(err, MC_EDATA,
	               "no admin address for postmaster@ and abuse@: pass --admin ADDR, set "
	               "'admin_address' in the config, or create an admin user first");
}

struct add_arg {
	const char *name;
	const char *target;
	int check_target;
	const char *selector;
	struct dkim_new *key;
};

static int add_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct add_arg *a = varg;
	struct domain_row d;
	long long id, alias_id;
	int rc = store_domain_get(ctx->st, a->name, &d, err);
	if (rc != 0) {
		domain_row_release(&d);
		return rc < 0 ? -1 : mc_fail(err, MC_EDATA, "domain '%s' already exists", a->name);
	}
	/* An --admin typed now must exist if it is ours (checked before the
	 * insert, so an admin in the new domain itself may follow). The
	 * configured admin_address is the operator's standing choice. */
	if ((a->check_target && alias_target_check(ctx, a->target, err) < 0) ||
	    store_domain_insert(ctx->st, a->name, &id, err) < 0)
		return -1;
	static const char *const required[] = {"postmaster", "abuse"};
	for (size_t i = 0; i < 2; i++) {
		char *src = xasprintf("%s@%s", required[i], a->name);
		rc = strcmp(src, a->target) == 0
		         ? mc_fail(err, MC_EDATA, "'%s' cannot point at itself", src)
		         : store_alias_insert(ctx->st, id, src, 1, &alias_id, err);
		if (rc == 0)
			rc = store_alias_add_target(ctx->st, alias_id, a->target, err);
		free(src);
		if (rc < 0)
			return -1;
	}
	return dkim_new_store(ctx, a->key, id, a->name, a->selector, err);
}

/* The key is made before the transaction, which then holds the write
 * lock only for the inserts and the key file. */
int domain_add(struct mc_ctx *ctx, const char *name, const char *admin, struct domain_added *out,
               struct mc_error *err)
{
	struct add_arg a;
	struct dkim_new key = {0};
	char *canon = NULL, *target = NULL, *selector = NULL, *detail;
	memset(out, 0, sizeof(*out));
	if (addr_domain_normalize(name, &canon, err) < 0 ||
	    postmaster_target(ctx, admin, &target, err) < 0 ||
	    dkim_selector_default(ctx, canon, time(NULL), &selector, err) < 0 ||
	    dkim_new_generate(&key, "rsa", 0, err) < 0)
		goto fail;
	a = (struct add_arg){canon, target, admin && *admin, selector, &key};
	detail = xasprintf("postmaster, abuse -> %s", target);
	int rc = account_tx(ctx, add_tx, &a, "domain.add", canon, detail, err);
	free(detail);
	if (rc < 0) {
		dkim_new_unstore(ctx, &key);
		goto fail;
	}
	dkim_new_release(&key);
	*out = (struct domain_added){canon, target, selector};
	return 0;
fail:
	dkim_new_release(&key);
	free(canon);
	free(target);
	free(selector);
	return -1;
}

/* Aliases of other domains must not forward into a domain being deleted:
 * its addresses would silently become off-site ones. */
static int no_refs_left(struct mc_ctx *ctx, const char *name, struct mc_error *err)
{
	struct alias_list l;
	if (store_alias_list_by_target_domain(ctx->st, name, &l, err) < 0)
		return -1;
	int rc = l.n == 0 ? 0
	                  : mc_fail(err, MC_EDATA,
	                            "alias '%s' forwards into domain '%s': change it first",
	                            l.v[0].source, name);
	alias_list_release(&l);
	return rc;
}

struct del_arg {
	struct domain_row *d;
	int force;
	struct dkim_list keys; /* deleted with it: their files go after the commit */
};

static int del_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct del_arg *a = varg;
	struct alias_list al;
	struct user_list ul;
	int rc = -1;
	if (store_alias_list(ctx->st, a->d->name, &al, err) < 0)
		return -1;
	if (store_user_list(ctx->st, a->d->name, &ul, err) < 0)
		goto out_aliases;
	size_t optional = 0;
	for (size_t i = 0; i < al.n; i++)
		optional += !al.v[i].required;
	if (!a->force && (ul.n || optional)) {
		mc_fail(err, MC_EDATA,
		        "domain '%s' still has %zu user(s) and %zu alias(es): delete them first "
		        "or use --force (mailboxes are archived, never deleted)",
		        a->d->name, ul.n, optional);
		goto out;
	}
	for (size_t i = 0; i < ul.n; i++)
		if (user_detach(ctx, &ul.v[i], a->d->id, err) < 0 ||
		    store_user_delete(ctx->st, ul.v[i].id, err) < 0)
			goto out;
	for (size_t i = 0; i < al.n; i++)
		if (store_alias_delete(ctx->st, al.v[i].id, err) < 0)
			goto out;
	if (store_dkim_list(ctx->st, a->d->name, &a->keys, err) == 0 &&
	    store_dkim_delete_domain(ctx->st, a->d->id, err) == 0 &&
	    store_domain_delete(ctx->st, a->d->id, err) == 0)
		rc = no_refs_left(ctx, a->d->name, err);
out:
	user_list_release(&ul);
out_aliases:
	alias_list_release(&al);
	return rc;
}

int domain_del(struct mc_ctx *ctx, const char *name, int force, struct domain_deleted *out,
               struct mc_error *err)
{
	struct domain_row d;
	struct del_arg a = {&d, force, {0}};
	struct mc_error ignored;
	memset(out, 0, sizeof(*out));
	if (domain_require(ctx, name, &d, err) < 0)
		return -1;
	int rc = store_begin(ctx->st, err);
	if (rc == 0 && (del_tx(ctx, &a, err) < 0 ||
	                store_audit(ctx->st, ctx->actor, "domain.del", d.name, force ? "force" : "",
	                            err) < 0 ||
	                mailbox_archive(ctx->cfg, d.name, NULL, &out->archived, err) < 0)) {
		store_rollback(ctx->st);
		rc = -1;
	}
	if (rc == 0 && store_commit(ctx->st, err) < 0) {
		if (out->archived)
			mailbox_unarchive(ctx->cfg, d.name, NULL, out->archived, &ignored);
		rc = -1;
	}
	out->dkim_keys = a.keys.n;
	if (rc == 0)
		rc = dkim_remove_files(&a.keys, err);
	if (rc < 0)
		domain_deleted_release(out);
	dkim_list_release(&a.keys);
	domain_row_release(&d);
	return rc;
}

int domain_list(struct mc_ctx *ctx, struct domain_list *out, struct mc_error *err)
{
	return store_domain_list(ctx->st, out, err);
}

int domain_show(struct mc_ctx *ctx, const char *name, struct domain_row *out, struct mc_error *err)
{
	return domain_require(ctx, name, out, err);
}
