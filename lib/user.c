/* Mailbox users; see user.h. */
#include "user.h"
#include "address.h"
#include "domain.h"
#include "mailbox.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Check a password against the configured policy and hash it. */
static int hash_password(struct mc_ctx *ctx, const char *address, const char *password, char **hash,
                         struct mc_error *err)
{
	struct password_policy pol;
	account_password_policy(ctx->cfg, &pol);
	if (password_check(&pol, password, address, err) < 0)
		return -1;
	return password_hash(&pol, password, hash, err);
}

static int check_name(const char *name, struct mc_error *err)
{
	char buf[80];
	if (!addr_is_clean_utf8(name))
		return mc_fail(err, MC_EDATA,
		               "invalid display name '%s': not UTF-8 or has control characters",
		               addr_printable(name, buf, sizeof(buf)));
	if (strlen(name) > USER_NAME_MAX)
		return mc_fail(err, MC_EDATA, "display name is longer than %d bytes",
		               USER_NAME_MAX);
	return 0;
}

/* Normalise 'address' and load the user; MC_ENOUSER when missing. */
static int user_require(struct mc_ctx *ctx, const char *address, struct user_row *out,
                        struct mc_error *err)
{
	char *canon;
	if (addr_normalize(address, &canon, NULL, NULL, err) < 0)
		return -1;
	int rc = store_user_get(ctx->st, canon, out, err);
	if (rc == 0)
		rc = mc_fail(err, MC_ENOUSER, "user '%s' does not exist", canon);
	free(canon);
	return rc < 0 ? -1 : 0;
}

struct add_arg {
	struct user_row *u;
};

static int add_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct user_row *u = ((struct add_arg *)varg)->u, old;
	struct domain_row d;
	struct alias_row a;
	long long id;
	int rc = store_domain_get(ctx->st, u->domain, &d, err);
	if (rc <= 0)
		return rc < 0 ? -1
		              : mc_fail(err, MC_ENODOMAIN,
		                        "domain '%s' does not exist: add it with 'mailctl domain "
		                        "add %s'",
		                        u->domain, u->domain);
	u->domain_id = d.id;
	domain_row_release(&d);
	if ((rc = store_user_get(ctx->st, u->address, &old, err)) != 0) {
		user_row_release(&old);
		return rc < 0 ? -1 : mc_fail(err, MC_EDATA, "user '%s' already exists", u->address);
	}
	if ((rc = store_alias_get(ctx->st, u->address, &a, err)) < 0)
		return -1;
	if (rc == 1) {
		/* A mailbox may take over a required alias, never a chosen one. */
		rc = a.required ? store_alias_delete(ctx->st, a.id, err)
		                : mc_fail(err, MC_EDATA,
		                          "'%s' is already an alias: delete it first with 'mailctl "
		                          "alias del %s'",
		                          u->address, u->address);
		alias_row_release(&a);
		if (rc < 0)
			return -1;
	}
	return store_user_insert(ctx->st, u, &id, err);
}

int user_add(struct mc_ctx *ctx, const struct user_spec *spec, char **address, struct mc_error *err)
{
	struct user_row u = {0};
	struct add_arg a = {&u};
	int rc = -1;
	*address = NULL;
	if (addr_normalize(spec->address, &u.address, &u.local_part, &u.domain, err) < 0)
		goto out;
	if (spec->display_name && check_name(spec->display_name, err) < 0)
		goto out;
	u.display_name = xstrdup(spec->display_name ? spec->display_name : "");
	u.quota_bytes = spec->quota_bytes < 0 ? ctx->cfg->default_quota : spec->quota_bytes;
	u.enabled = 1;
	u.admin = spec->admin;
	if (hash_password(ctx, u.address, spec->password, &u.password_hash, err) < 0)
		goto out;
	rc = account_tx(ctx, add_tx, &a, "user.add", u.address, spec->admin ? "admin" : "", err);
	if (rc == 0)
		*address = xstrdup(u.address);
out:
	user_row_release(&u);
	return rc;
}

int user_detach(struct mc_ctx *ctx, const struct user_row *u, long long dying_domain,
                struct mc_error *err)
{
	struct alias_list l;
	int rc = 0;
	if (store_alias_list_by_target(ctx->st, u->address, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct alias_row *a = &l.v[i];
		if (a->ntargets > 1)
			rc = store_alias_del_target(ctx->st, a->id, u->address, err);
		else if (a->domain_id == dying_domain)
			continue;
		else if (a->required)
			rc = mc_fail(err, MC_EDATA,
			             "'%s' is the only target of '%s', which must always reach "
			             "someone: first run 'mailctl alias add %s NEW-TARGET'",
			             u->address, a->source, a->source);
		else
			rc = store_alias_delete(ctx->st, a->id, err);
	}
	alias_list_release(&l);
	return rc;
}

/* Delete the rows, then move or remove the mailbox; undo the move if the
 * commit fails. Purging happens only after a successful commit. */
int user_del(struct mc_ctx *ctx, const char *address, int purge, char **archived,
             struct mc_error *err)
{
	struct user_row u;
	struct mc_error ignored;
	*archived = NULL;
	if (user_require(ctx, address, &u, err) < 0)
		return -1;
	int rc = store_begin(ctx->st, err);
	if (rc == 0 &&
	    (user_detach(ctx, &u, 0, err) < 0 || store_user_delete(ctx->st, u.id, err) < 0 ||
	     store_audit(ctx->st, ctx->actor, "user.del", u.address, purge ? "purge" : "archive",
	                 err) < 0 ||
	     (!purge && mailbox_archive(ctx->cfg, u.domain, u.local_part, archived, err) < 0))) {
		store_rollback(ctx->st);
		rc = -1;
	}
	if (rc == 0 && store_commit(ctx->st, err) < 0) {
		if (*archived)
			mailbox_unarchive(ctx->cfg, u.domain, u.local_part, *archived, &ignored);
		free(*archived);
		*archived = NULL;
		rc = -1;
	}
	if (rc == 0 && purge)
		rc = mailbox_purge(ctx->cfg, u.domain, u.local_part, err);
	user_row_release(&u);
	return rc;
}

int user_list(struct mc_ctx *ctx, const char *domain, struct user_list *out, struct mc_error *err)
{
	struct domain_row d;
	memset(out, 0, sizeof(*out));
	if (!domain)
		return store_user_list(ctx->st, NULL, out, err);
	if (domain_require(ctx, domain, &d, err) < 0)
		return -1;
	int rc = store_user_list(ctx->st, d.name, out, err);
	domain_row_release(&d);
	return rc;
}

int user_show(struct mc_ctx *ctx, const char *address, struct user_row *out, struct mc_error *err)
{
	if (user_require(ctx, address, out, err) < 0)
		return -1;
	password_free(out->password_hash);
	out->password_hash = NULL;
	return 0;
}

/* An update of one user: load it, apply 'fn', audit, all in one transaction. */
struct update_arg {
	const char *address;
	int (*fn)(struct store *, long long, const void *, struct mc_error *);
	const void *value;
};

static int update_tx(struct mc_ctx *ctx, void *varg, struct mc_error *err)
{
	struct update_arg *a = varg;
	struct user_row u;
	int rc = store_user_get(ctx->st, a->address, &u, err);
	if (rc == 0)
		rc = mc_fail(err, MC_ENOUSER, "user '%s' does not exist", a->address);
	if (rc > 0)
		rc = a->fn(ctx->st, u.id, a->value, err);
	user_row_release(&u);
	return rc < 0 ? -1 : 0;
}

static int update(struct mc_ctx *ctx, const char *address,
                  int (*fn)(struct store *, long long, const void *, struct mc_error *),
                  const void *value, const char *action, const char *detail, struct mc_error *err)
{
	char *canon;
	if (addr_normalize(address, &canon, NULL, NULL, err) < 0)
		return -1;
	struct update_arg a = {canon, fn, value};
	int rc = account_tx(ctx, update_tx, &a, action, canon, detail, err);
	free(canon);
	return rc;
}

static int set_hash(struct store *st, long long id, const void *v, struct mc_error *err)
{
	return store_user_set_password(st, id, v, err);
}

static int set_enabled(struct store *st, long long id, const void *v, struct mc_error *err)
{
	return store_user_set_enabled(st, id, *(const int *)v, err);
}

static int set_quota(struct store *st, long long id, const void *v, struct mc_error *err)
{
	return store_user_set_quota(st, id, *(const long long *)v, err);
}

int user_passwd(struct mc_ctx *ctx, const char *address, const char *password, struct mc_error *err)
{
	char *canon, *hash;
	if (addr_normalize(address, &canon, NULL, NULL, err) < 0)
		return -1;
	int rc = hash_password(ctx, canon, password, &hash, err);
	if (rc == 0) {
		rc = update(ctx, canon, set_hash, hash, "user.passwd", "", err);
		password_free(hash);
	}
	free(canon);
	return rc;
}

int user_set_enabled(struct mc_ctx *ctx, const char *address, int enabled, struct mc_error *err)
{
	return update(ctx, address, set_enabled, &enabled, enabled ? "user.enable" : "user.disable",
	              "", err);
}

int user_set_quota(struct mc_ctx *ctx, const char *address, long long bytes, struct mc_error *err)
{
	char detail[32];
	if (bytes < 0)
		return mc_fail(err, MC_EDATA, "quota cannot be negative");
	snprintf(detail, sizeof(detail), "%lld", bytes);
	return update(ctx, address, set_quota, &bytes, "user.quota", detail, err);
}
