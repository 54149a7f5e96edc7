/*
 * account - the context every account operation (domain.h, user.h,
 * alias.h) runs in, and the policy those operations share.
 *
 * Each operation validates all of its input before it opens a transaction,
 * makes its change and writes one audit-log row inside a single
 * transaction, and leaves the database untouched on any error. The caller
 * owns the context's members; operations never close the store.
 */
#ifndef MAILCTL_ACCOUNT_H
#define MAILCTL_ACCOUNT_H

#include "config.h"
#include "error.h"
#include "password.h"
#include "store.h"

struct mc_ctx {
	const struct config *cfg;
	struct store *st;
	const char *actor; /* who makes the change, for the audit log */
};

/* The password policy the configuration asks for. */
void account_password_policy(const struct config *cfg, struct password_policy *pol);

/* Local parts every domain must accept (RFC 5321 section 4.5.1, RFC 2142). */
int account_is_required_local(const char *local);

/* Run 'fn' inside a transaction: begin, fn, audit row, commit; roll back
 * on any failure. 'action'/'subject'/'detail' go to the audit log. When
 * 'fn' returns 1 (nothing to change) the transaction is rolled back, no
 * audit row is written, and 1 is returned. */
int account_tx(struct mc_ctx *ctx, int (*fn)(struct mc_ctx *, void *, struct mc_error *), void *arg,
               const char *action, const char *subject, const char *detail, struct mc_error *err);

#endif
