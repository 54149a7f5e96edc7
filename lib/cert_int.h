/*
 * cert_int - what cert.c and cert_info.c share: reading a PEM chain into
 * a struct cert_info and checking that a chain from the CA is the one
 * asked for. Not for use outside lib/cert*.c.
 */
#ifndef MAILCTL_CERT_INT_H
#define MAILCTL_CERT_INT_H

#include <openssl/types.h>

#include "cert.h"

/* Fill 'out' from the PEM chain 'pem' (leaf first). 'key' (or NULL) is
 * compared with the leaf's key. MC_EDATA when it holds no certificate. */
int cert_info_parse(const char *pem, size_t len, EVP_PKEY *key, struct cert_info *out,
                    struct mc_error *err);

/* A chain from the CA fits: the leaf is for 'key', each certificate is
 * issued and signed by the next, the leaf is not self-signed, holds every
 * name and is valid at 'now'. MC_EDATA otherwise. */
int cert_chain_check(const struct cert_info *info, const char *const *names, size_t n, time_t now,
                     struct mc_error *err);

/* "YYYY-MM-DDTHH:MM:SSZ" of 't' into 'buf' (21 bytes). */
void cert_time_format(time_t t, char buf[21]);

/* Issue a certificate for the key in 'next_key' with the names and CA of
 * the last one installed, and move the key to tls.key_file with the chain
 * (cert_rollover.c). MC_EUSAGE when no CA certificate was ever installed. */
int cert_reissue_with(struct mc_ctx *ctx, const struct cert_options *o, const char *next_key,
                      struct cert_report *r, struct mc_error *err);

/* ---- cert_ari.c ---- */

/* Ask the CA at 'directory' (with the CA file kept for its account) for
 * the served certificate's renewal window; a window read before is used
 * again until the CA's Retry-After. 1: '*when' is the time picked in it
 * (the same for the same certificate; 'now' once it has passed) and
 * '*ask_again' when to ask the CA again. 0: the CA offers no renewal
 * information, or it could not be read (then '*why' says so and
 * '*ask_again' is when to try again; else '*why' is NULL).
 * '*why' is the caller's to free. */
int cert_ari_when(struct mc_ctx *ctx, const char *directory, time_t now, time_t *when,
                  time_t *ask_again, char **why);

#endif
