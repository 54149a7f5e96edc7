/* Shared account policy and the transaction wrapper; see account.h. */
#include "account.h"

#include <string.h>

void account_password_policy(const struct config *cfg, struct password_policy *pol)
{
	pol->min_length = cfg->password_min_length;
	pol->dictionary_check = cfg->password_dictionary_check;
	pol->time_cost = cfg->argon2_time_cost;
	pol->memory_kib = cfg->argon2_memory_kib;
	pol->parallelism = cfg->argon2_parallelism;
}

int account_is_required_local(const char *local)
{
	return strcmp(local, "postmaster") == 0 || strcmp(local, "abuse") == 0;
}

int account_tx(struct mc_ctx *ctx, int (*fn)(struct mc_ctx *, void *, struct mc_error *), void *arg,
               const char *action, const char *subject, const char *detail, struct mc_error *err)
{
	if (store_begin(ctx->st, err) < 0)
		return -1;
	int rc = fn(ctx, arg, err);
	if (rc > 0) { /* nothing to change: leave the file untouched */
		store_rollback(ctx->st);
		return 1;
	}
	if (rc < 0 || store_audit(ctx->st, ctx->actor, action, subject, detail, err) < 0) {
		store_rollback(ctx->st);
		return -1;
	}
	return store_commit(ctx->st, err);
}
