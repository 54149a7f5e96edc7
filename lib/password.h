/*
 * password - hashing, verification, strength policy and generation.
 *
 * Hashes are ARGON2ID (libargon2) in the form Dovecot verifies:
 *   {ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$<salt b64>$<hash b64>
 * with a 16-byte random salt (OpenSSL RAND_bytes) and a 32-byte tag.
 * Strength is checked with libpwquality (length, character classes,
 * similarity to the address, cracklib dictionary).
 *
 * Returned strings are owned by the caller: free them with
 * password_free(), which wipes the memory first.
 */
#ifndef MAILCTL_PASSWORD_H
#define MAILCTL_PASSWORD_H

#include "error.h"

struct password_policy {
	long long min_length;  /* characters (bytes of UTF-8) */
	int dictionary_check;  /* run the cracklib dictionary check */
	long long time_cost;   /* argon2 t */
	long long memory_kib;  /* argon2 m */
	long long parallelism; /* argon2 p */
};

#define PASSWORD_MAX_LEN 1024

/* Check 'pw' against the policy; 'user' (may be NULL) is the address, so
 * the password cannot simply contain it. MC_EDATA with a clear message
 * ("password is too short: at least 12 characters") on refusal. */
int password_check(const struct password_policy *pol, const char *pw, const char *user,
                   struct mc_error *err);

/* Hash 'pw' into '*out' ("{ARGON2ID}$argon2id$..."). */
int password_hash(const struct password_policy *pol, const char *pw, char **out,
                  struct mc_error *err);

/* Return 1 if 'pw' matches 'hash', 0 if not, -1 on a malformed hash. */
int password_verify(const char *hash, const char *pw, struct mc_error *err);

/* A random password that passes password_check(): 24 characters from an
 * alphabet without look-alikes, in groups of six joined by '-' (about 139 bits). */
int password_generate(char **out, struct mc_error *err);

/* Wipe and free a password or hash string; NULL is a no-op. */
void password_free(char *s);

#endif
