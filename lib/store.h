/*
 * store - the account database (domains, users, aliases, DKIM keys, audit
 * log).
 *
 * This header is the interface every front-end and module uses; it says
 * nothing about SQL. The SQLite backend (store_sqlite.c, schema and
 * migrations in store_schema.c) implements it; a PostgreSQL backend can
 * implement the same functions without touching callers.
 *
 * Writes happen only inside store_begin()/store_commit(): a caller
 * validates everything first, then begins, checks and writes, and commits
 * or calls store_rollback(). Rows returned are owned by the caller and
 * released with the matching *_release() / *_list_release().
 *
 * Lookups return 1 (found), 0 (not found) or -1 (error). Errors: a missing
 * database is MC_EUNAVAIL, a file that is not a database or has a schema
 * this build does not know is MC_EUNAVAIL, a read-only database MC_EIO,
 * a busy one MC_ETEMP.
 */
#ifndef MAILCTL_STORE_H
#define MAILCTL_STORE_H

#include <stddef.h>

#include "error.h"

struct store;

enum store_mode {
	STORE_READ,  /* query only */
	STORE_WRITE, /* may modify; fails early on a read-only file */
};

/* The schema version this build writes (PRAGMA user_version). */
int store_schema_latest(void);

/* Open an existing database whose schema is current. */
int store_open(struct store **out, const char *path, enum store_mode mode, struct mc_error *err);

/*
 * Create the database if it does not exist (mode 0640) and migrate it
 * forward to the latest schema, each step in one transaction. '*from' and
 * '*to' get the versions before and after.
 */
int store_init(const char *path, int *from, int *to, struct mc_error *err);

/* Current schema version of an existing database, without migrating. */
int store_version(const char *path, int *version, struct mc_error *err);

void store_close(struct store *st);

int store_begin(struct store *st, struct mc_error *err);
int store_commit(struct store *st, struct mc_error *err);
void store_rollback(struct store *st);

/* --- domains --- */
struct domain_row {
	long long id;
	char *name; /* A-label */
	char *created;
	long long users;
	long long aliases;
};
struct domain_list {
	struct domain_row *v;
	size_t n, alloc;
};

int store_domain_get(struct store *st, const char *name, struct domain_row *out,
                     struct mc_error *err);
int store_domain_list(struct store *st, struct domain_list *out, struct mc_error *err);
int store_domain_insert(struct store *st, const char *name, long long *id, struct mc_error *err);
int store_domain_delete(struct store *st, long long id, struct mc_error *err);
void domain_row_release(struct domain_row *r);
void domain_list_release(struct domain_list *l);

/* --- users --- */
struct user_row {
	long long id;
	long long domain_id;
	char *address;
	char *local_part;
	char *domain;
	char *display_name;
	char *password_hash;   /* only filled by store_user_get() */
	long long quota_bytes; /* 0 = unlimited */
	int enabled;
	int admin;
	char *created;
};
struct user_list {
	struct user_row *v;
	size_t n, alloc;
};

int store_user_get(struct store *st, const char *address, struct user_row *out,
                   struct mc_error *err);
/* 'domain' NULL lists every user. Ordered by domain, then local part. */
int store_user_list(struct store *st, const char *domain, struct user_list *out,
                    struct mc_error *err);
/* Oldest admin user, if any. */
int store_user_first_admin(struct store *st, struct user_row *out, struct mc_error *err);
int store_user_insert(struct store *st, const struct user_row *u, long long *id,
                      struct mc_error *err);
int store_user_delete(struct store *st, long long id, struct mc_error *err);
int store_user_set_password(struct store *st, long long id, const char *hash, struct mc_error *err);
int store_user_set_enabled(struct store *st, long long id, int enabled, struct mc_error *err);
int store_user_set_quota(struct store *st, long long id, long long bytes, struct mc_error *err);
void user_row_release(struct user_row *r);
void user_list_release(struct user_list *l);

/* --- aliases --- */
struct alias_row {
	long long id;
	long long domain_id;
	char *source; /* "local@domain" or catch-all "@domain" */
	int required; /* postmaster@ / abuse@ made by domain add */
	char **targets;
	size_t ntargets;
	char *created;
};
struct alias_list {
	struct alias_row *v;
	size_t n, alloc;
};

int store_alias_get(struct store *st, const char *source, struct alias_row *out,
                    struct mc_error *err);
int store_alias_list(struct store *st, const char *domain, struct alias_list *out,
                     struct mc_error *err);
/* Every alias whose target list contains 'target'. */
int store_alias_list_by_target(struct store *st, const char *target, struct alias_list *out,
                               struct mc_error *err);
/* Every alias with a target in 'domain' ("x@domain"). */
int store_alias_list_by_target_domain(struct store *st, const char *domain, struct alias_list *out,
                                      struct mc_error *err);
int store_alias_insert(struct store *st, long long domain_id, const char *source, int required,
                       long long *id, struct mc_error *err);
/* Adding a target already present is not an error (no change). */
int store_alias_add_target(struct store *st, long long alias_id, const char *target,
                           struct mc_error *err);
int store_alias_del_target(struct store *st, long long alias_id, const char *target,
                           struct mc_error *err);
int store_alias_delete(struct store *st, long long alias_id, struct mc_error *err);
void alias_row_release(struct alias_row *r);
void alias_list_release(struct alias_list *l);

/* --- DKIM keys (the private key is in key_file, never here) --- */
struct dkim_row {
	long long id;
	long long domain_id;
	char *domain;     /* A-label */
	char *selector;   /* lowercase */
	char *algorithm;  /* "rsa" or "ed25519" */
	long long bits;   /* RSA modulus size; 256 for ed25519 */
	char *public_key; /* the record's p= value (base64) */
	char *key_file;   /* PKCS#8 PEM of the private key */
	char *state;      /* "active", "published" or "retired" */
	char *created;
	char *retired; /* when it was retired, "YYYY-MM-DDTHH:MM:SSZ"; "" unless retired */
};
struct dkim_list {
	struct dkim_row *v;
	size_t n, alloc;
};

int store_dkim_get(struct store *st, const char *domain, const char *selector, struct dkim_row *out,
                   struct mc_error *err);
/* 'domain' NULL lists every key. Ordered by domain, then age. */
int store_dkim_list(struct store *st, const char *domain, struct dkim_list *out,
                    struct mc_error *err);
/* Uses every field but id, domain and created. */
int store_dkim_insert(struct store *st, const struct dkim_row *k, long long *id,
                      struct mc_error *err);
/* A state other than "retired" clears the retirement time; "retired"
 * keeps it, or sets it to the current time. */
int store_dkim_set_state(struct store *st, long long id, const char *state, struct mc_error *err);
/* Retire a key at 'at' ("YYYY-MM-DDTHH:MM:SSZ"). */
int store_dkim_retire(struct store *st, long long id, const char *at, struct mc_error *err);
/* Delete one key's row (its file is the caller's). */
int store_dkim_delete(struct store *st, long long id, struct mc_error *err);
int store_dkim_delete_domain(struct store *st, long long domain_id, struct mc_error *err);
void dkim_row_release(struct dkim_row *r);
void dkim_list_release(struct dkim_list *l);

/* --- audit log --- */
struct audit_row {
	long long id;
	char *at;
	char *actor;
	char *action;
	char *subject;
	char *detail;
};
struct audit_list {
	struct audit_row *v;
	size_t n, alloc;
};

/* ---- blocklist results ---- */
struct blacklist_row {
	long long id;
	char *checked; /* "YYYY-MM-DDTHH:MM:SSZ" */
	char *subject;
	char *zone;
	char *status; /* clean, listed, refused, timeout, error, skipped */
	char *detail;
};
struct blacklist_list {
	struct blacklist_row *v;
	size_t n, alloc;
};
/* Add one result of the check made at 'checked'. */
int store_blacklist_add(struct store *st, const struct blacklist_row *r, struct mc_error *err);
/* The newest result per subject and list (the state the last check left). */
int store_blacklist_latest(struct store *st, struct blacklist_list *out, struct mc_error *err);
/* Results, newest first: every one ('changes' 0) or only those whose status
 * differs from the same subject and list's result before ('changes' 1);
 * 'subject' NULL for all; at most 'limit'. */
int store_blacklist_history(struct store *st, const char *subject, int changes, long long limit,
                            struct blacklist_list *out, struct mc_error *err);
/* Delete results checked before 'before' (the same time format). */
int store_blacklist_prune(struct store *st, const char *before, struct mc_error *err);
void blacklist_list_release(struct blacklist_list *l);

/* Record a change; call inside the transaction that makes it. */
int store_audit(struct store *st, const char *actor, const char *action, const char *subject,
                const char *detail, struct mc_error *err);
/* The newest 'limit' entries, newest first. */
int store_audit_list(struct store *st, long long limit, struct audit_list *out,
                     struct mc_error *err);
void audit_list_release(struct audit_list *l);

/* --- ACME accounts and certificate attempts (the keys are files) --- */
struct acme_account_row {
	char *directory; /* the CA's directory URL: one account per CA */
	char *url;       /* the account URL (JWS "kid") */
	char *key_file;  /* PEM of the account key */
	char *contact;   /* email address, or "" */
	char *ca_file;   /* CA bundle for the CA's HTTPS, or "" (system) */
	char *created;
};

int store_acme_account_get(struct store *st, const char *directory, struct acme_account_row *out,
                           struct mc_error *err);
/* Insert, or replace the row of the same directory. */
int store_acme_account_put(struct store *st, const struct acme_account_row *a,
                           struct mc_error *err);
void acme_account_row_release(struct acme_account_row *r);

struct cert_attempt_row {
	long long id;
	char *started;   /* "YYYY-MM-DDTHH:MM:SSZ" */
	char *finished;  /* set by the store on insert */
	char *kind;      /* "request" or "renew" */
	char *actor;     /* who asked: a user, or "mailctld" */
	char *directory; /* the CA's directory URL */
	char *names;     /* comma-separated, as ordered */
	int names_given; /* names were chosen, not the defaults */
	char *result;    /* "issued", "unverified" (installed, a port serves
	                    another certificate) or "failed" */
	char *detail;    /* the error, or what was installed */
	char *serial;    /* hex serial of the certificate, or "" */
	char *not_after; /* its expiry "YYYY-MM-DDTHH:MM:SSZ", or "" */
	long long duration_ms;
};
struct cert_attempt_list {
	struct cert_attempt_row *v;
	size_t n, alloc;
};

/* Uses every field but id and finished. */
int store_cert_attempt_insert(struct store *st, const struct cert_attempt_row *r, long long *id,
                              struct mc_error *err);
/* The newest 'limit' attempts, newest first. */
int store_cert_attempt_list(struct store *st, long long limit, struct cert_attempt_list *out,
                            struct mc_error *err);
/* The newest attempt that installed a certificate ("issued" or
 * "unverified"): 1 found, 0 none, -1 error. */
int store_cert_attempt_last_installed(struct store *st, struct cert_attempt_row *out,
                                      struct mc_error *err);
void cert_attempt_row_release(struct cert_attempt_row *r);
void cert_attempt_list_release(struct cert_attempt_list *l);

#endif
