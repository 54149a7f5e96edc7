/*
 * user - mailbox users.
 *
 * A user is an address with a password (ARGON2ID), a display name, a quota
 * in bytes (0 = unlimited) and an enabled flag. A disabled user cannot log
 * in (IMAP, POP3, SMTP AUTH) but still receives mail, so nothing is lost
 * while an account is suspended. Deleting a user archives the mailbox
 * directory; only 'purge' deletes it. Passwords given to these functions
 * are checked against the configured policy before anything is written.
 */
#ifndef MAILCTL_USER_H
#define MAILCTL_USER_H

#include "account.h"

struct user_spec {
	const char *address;
	const char *display_name; /* NULL = "" */
	long long quota_bytes;    /* < 0 = the configured default */
	const char *password;
	int admin; /* receives postmaster@/abuse@ of domains added later */
};

/* Longest display name accepted, in bytes. */
#define USER_NAME_MAX 256

/* '*address' gets the stored (normalised) address. */
int user_add(struct mc_ctx *ctx, const struct user_spec *spec, char **address,
             struct mc_error *err);

/* '*archived' gets the archive path, or NULL (purged, or no directory). */
int user_del(struct mc_ctx *ctx, const char *address, int purge, char **archived,
             struct mc_error *err);

/* 'domain' NULL lists all; an unknown domain is MC_ENODOMAIN. */
int user_list(struct mc_ctx *ctx, const char *domain, struct user_list *out, struct mc_error *err);

/* MC_ENOUSER when it does not exist. The hash is cleared from 'out'. */
int user_show(struct mc_ctx *ctx, const char *address, struct user_row *out, struct mc_error *err);

int user_passwd(struct mc_ctx *ctx, const char *address, const char *password,
                struct mc_error *err);
int user_set_enabled(struct mc_ctx *ctx, const char *address, int enabled, struct mc_error *err);
int user_set_quota(struct mc_ctx *ctx, const char *address, long long bytes, struct mc_error *err);

/*
 * Inside a transaction: take 'u' out of every alias target list before it
 * is deleted. Aliases left with no target are deleted, except the required
 * postmaster@/abuse@ ones (refused, MC_EDATA) unless they belong to
 * domain 'dying_domain' (being deleted in the same transaction; 0 = none).
 */
int user_detach(struct mc_ctx *ctx, const struct user_row *u, long long dying_domain,
                struct mc_error *err);

#endif
