/*
 * domain - hosted mail domains.
 *
 * Names are accepted in Unicode or A-label form and stored as lowercase
 * A-labels. Adding a domain also creates postmaster@ and abuse@ as
 * aliases (RFC 5321 4.5.1, RFC 2142), so every domain can always be
 * reached about problems, and an RSA-2048 DKIM key with the default
 * selector (dkim.h), so it can sign from the start. Deleting a domain
 * never deletes mail: with 'force' its users and aliases go and its mail
 * directory is archived (mailbox.h). Its DKIM keys are deleted, rows and
 * files: they are secrets, not mail. Strings returned are owned by the
 * caller.
 */
#ifndef MAILCTL_DOMAIN_H
#define MAILCTL_DOMAIN_H

#include "account.h"

struct domain_added {
	char *name;              /* the stored A-label */
	char *postmaster_target; /* where postmaster@/abuse@ point */
	char *dkim_selector;     /* of the DKIM key made with it */
};

/*
 * Add 'name'. postmaster@ and abuse@ point at 'admin' when given, else at
 * the oldest admin user, else at config admin_address; with none of
 * these the domain is refused (MC_EDATA) and nothing is written. An 'admin'
 * in another hosted domain must exist (MC_ENOUSER), as any alias target.
 */
int domain_add(struct mc_ctx *ctx, const char *name, const char *admin, struct domain_added *out,
               struct mc_error *err);
void domain_added_release(struct domain_added *d);

struct domain_deleted {
	char *archived;   /* archive path of its mail directory, or NULL: none */
	size_t dkim_keys; /* DKIM keys deleted with it */
};

/* Delete 'name'. Without 'force' it must hold no users and no aliases
 * beyond the required ones. The key files go after the commit; if one
 * cannot be deleted the domain is gone all the same, and -1 says which
 * file is left. '*out' is filled on success only. */
int domain_del(struct mc_ctx *ctx, const char *name, int force, struct domain_deleted *out,
               struct mc_error *err);
void domain_deleted_release(struct domain_deleted *d);

int domain_list(struct mc_ctx *ctx, struct domain_list *out, struct mc_error *err);

/* MC_ENODOMAIN when it does not exist. */
int domain_show(struct mc_ctx *ctx, const char *name, struct domain_row *out, struct mc_error *err);

/* Normalise 'name' and load it; MC_ENODOMAIN when it does not exist. */
int domain_require(struct mc_ctx *ctx, const char *name, struct domain_row *out,
                   struct mc_error *err);

#endif
