/*
 * tls - the server certificate until a CA-issued one exists.
 *
 * tls_ensure() makes a self-signed certificate for the mail host name: an
 * EC P-256 key, the host name as CN and subjectAltName, a random serial,
 * one year of validity, signed with SHA-256. It never replaces a key: an
 * existing key is kept and only a missing certificate is made for it, and a
 * new key is written 0600 under a temporary name and linked into place, so
 * a reader never sees half a key. The certificate is written 0644 through
 * a rename. Reading a certificate is cert.h's cert_info_read().
 *
 * Errors: MC_EIO for files, MC_EDATA for a certificate without its key or
 * a file that is not PEM, MC_EINTERNAL for OpenSSL failures. Strings
 * returned are owned by the caller.
 */
#ifndef MAILCTL_TLS_H
#define MAILCTL_TLS_H

#include <time.h>

#include "error.h"

/* Days a self-signed certificate is valid. */
#define TLS_SELF_SIGNED_DAYS 365

/* Make whatever of key and certificate is missing. '*made_key' and
 * '*made_cert' say what was written (both 0: nothing to do). */
int tls_ensure(const char *key_file, const char *cert_file, const char *host, int *made_key,
               int *made_cert, struct mc_error *err);

#endif
