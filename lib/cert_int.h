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

/* A chain from the CA fits: the leaf is for 'key', holds every name and
 * is valid at 'now'. MC_EDATA otherwise. */
int cert_chain_check(const struct cert_info *info, const char *const *names, size_t n, time_t now,
                     struct mc_error *err);

/* "YYYY-MM-DDTHH:MM:SSZ" of 't' into 'buf' (21 bytes). */
void cert_time_format(time_t t, char buf[21]);

#endif
