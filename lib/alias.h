/*
 * alias - forwarding addresses.
 *
 * An alias maps a source address in a hosted domain, or a whole domain
 * ("@example.org", the catch-all), to one or more target addresses, which
 * may be off-site. A target in a hosted domain must exist (a user, an
 * alias, or covered by that domain's catch-all). A source cannot also be a
 * user. Changes that would make mail loop are refused, as are changes that
 * would leave postmaster@ or abuse@ of a domain with no target.
 */
#ifndef MAILCTL_ALIAS_H
#define MAILCTL_ALIAS_H

#include <stddef.h>

#include "account.h"

/* Longest chain of aliases followed when looking for loops; Postfix's own
 * virtual_alias_recursion_limit is 100. */
#define ALIAS_MAX_DEPTH 100

/* Create 'source' or add targets to it. '*canon' gets the stored source.
 * Returns 1, changing nothing, when it already has every target. */
int alias_add(struct mc_ctx *ctx, const char *source, const char *const *targets, size_t n,
              char **canon, struct mc_error *err);

/* Delete one target ('target' not NULL) or the whole alias. Refused when
 * another alias forwards to it (or, for a catch-all, to an address only it
 * covered) and would then lead nowhere. */
int alias_del(struct mc_ctx *ctx, const char *source, const char *target, struct mc_error *err);

/* 0 when 'target' (normalised) may receive mail: off-site, or in a hosted
 * domain as a user, an alias or under a catch-all; else MC_ENOUSER.
 * Call inside a transaction. */
int alias_target_check(struct mc_ctx *ctx, const char *target, struct mc_error *err);

/* 'domain' NULL lists all; an unknown domain is MC_ENODOMAIN. */
int alias_list(struct mc_ctx *ctx, const char *domain, struct alias_list *out,
               struct mc_error *err);

#endif
