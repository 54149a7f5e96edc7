/*
 * dkim - DKIM signing keys: generation, storage, and their DNS records.
 *
 * Keys are made with OpenSSL: RSA of 2048, 3072 or 4096 bits (default
 * 2048), or Ed25519 (RFC 8463). The private key is written as PKCS#8 PEM
 * to paths.key_dir/<selector>._domainkey.<domain>.pem - the record's own
 * name, which no other domain and selector can share - with mode 0600,
 * owned by the 'mailctl' user when that user exists and we run as root.
 * The database (store.h: struct dkim_row) holds the public key, the file
 * name and a state: a new key is 'active' (the one to sign with) when its
 * domain has no active key of the same algorithm, else 'published' (in
 * DNS beside the old one, ready for a rotation); 'retired' keys stay
 * published until their signatures have aged out.
 *
 * The file is written inside the transaction that inserts the row, and
 * removed again when that transaction does not commit; an existing key
 * file is never replaced. Default selectors are "s" + the UTC year and
 * month ("s202611"), then "s202611b", "s202611c"... when taken.
 *
 * Records (RFC 6376 3.6.1, RFC 8463 4.2) live at
 * <selector>._domainkey.<domain>: "v=DKIM1; k=rsa; p=<base64 of the DER
 * SubjectPublicKeyInfo>" or "v=DKIM1; k=ed25519; p=<base64 of the raw
 * 32-byte key>". dnsrec.h builds the record itself, split for zone files.
 *
 * Strings returned are owned by the caller (free()); rows are released
 * with dkim_row_release() / dkim_list_release(). Errors: a bad algorithm,
 * size or selector, or a selector in use, MC_EDATA; no such domain
 * MC_ENODOMAIN; file trouble MC_EIO; an OpenSSL failure MC_EINTERNAL.
 */
#ifndef MAILCTL_DKIM_H
#define MAILCTL_DKIM_H

#include <stddef.h>
#include <time.h>

#include "account.h"
#include "store.h"

/* A key generated in memory and not yet (or just) stored. */
struct dkim_new {
	const char *algorithm; /* "rsa" or "ed25519" */
	int bits;
	char *public_key; /* the p= value */
	char *pem;        /* the private key; wiped by dkim_new_release() */
	char *key_file;   /* set by dkim_new_store() once the file exists */
	int made_dir;     /* key_dir was created for this key */
};

/* Generate a key. 'algorithm' NULL means rsa; 'bits' 0 the default
 * (2048 for rsa; ed25519 takes no size but 256). */
int dkim_new_generate(struct dkim_new *k, const char *algorithm, int bits, struct mc_error *err);

/* Inside a transaction: record 'k' for the domain under 'selector' (valid,
 * normalised) with a "dkim.keygen" audit entry, then write its key file. */
int dkim_new_store(struct mc_ctx *ctx, struct dkim_new *k, long long domain_id, const char *domain,
                   const char *selector, struct mc_error *err);

/* After the transaction failed: remove what dkim_new_store() wrote. */
void dkim_new_unstore(const struct mc_ctx *ctx, struct dkim_new *k);

void dkim_new_release(struct dkim_new *k);

/* The p= value of the private key in the PEM file 'path', derived as
 * dkim_new_generate() does it, to check a published record against the
 * key that signs. Errors: the file unreadable MC_EIO; no key in it, or
 * one of another algorithm, MC_EDATA. */
int dkim_public_from_file(const char *path, char **public_key, struct mc_error *err);

/* Check a selector (dot-separated labels of letters, digits and inner
 * hyphens, each 1-63 bytes); '*out' gets it in lowercase. */
int dkim_selector_normalize(const char *in, char **out, struct mc_error *err);

/* The first free default selector of 'domain' (an A-label) at 'now'. */
int dkim_selector_default(struct mc_ctx *ctx, const char *domain, time_t now, char **out,
                          struct mc_error *err);

/* Generate and store a key for 'domain'; 'selector' NULL takes the
 * default. '*out' gets the stored row. */
int dkim_keygen(struct mc_ctx *ctx, const char *domain, const char *algorithm, int bits,
                const char *selector, struct dkim_row *out, struct mc_error *err);

/* Keys of one domain, or of all ('domain' NULL). */
int dkim_list(struct mc_ctx *ctx, const char *domain, struct dkim_list *out, struct mc_error *err);

/* One key: by selector, or ('selector' NULL) the active rsa key, else
 * the first active key of another algorithm. */
int dkim_show(struct mc_ctx *ctx, const char *domain, const char *selector, struct dkim_row *out,
              struct mc_error *err);

/* Delete the key files of 'keys' (whose rows are gone); a missing file is
 * not an error. */
int dkim_remove_files(const struct dkim_list *keys, struct mc_error *err);

/* "<selector>._domainkey.<domain>" */
char *dkim_record_name(const char *selector, const char *domain);
/* "v=DKIM1; k=<algorithm>; p=<public_key>" */
char *dkim_record_value(const char *algorithm, const char *public_key);

#endif
