/*
 * address - email address and domain validation and normalisation.
 *
 * Input comes from admins and may be in Unicode: domains are converted to
 * A-labels (punycode) with libidn2 (IDNA 2008, UTS#46 non-transitional
 * mapping), and everything is lowercased. Local parts are limited to the
 * RFC 5321 dot-atom form (no quoted strings: Postfix maps and Dovecot see
 * the bare address), ASCII only, at most 64 octets; domains at most 255
 * octets with labels of 1-63 octets of letters, digits and hyphens, at
 * least two labels; a whole address at most 254 octets (RFC 5321 path
 * limit minus the angle brackets).
 *
 * Returned strings are owned by the caller (free()). On error the function
 * returns -1 with MC_EDATA and a message that quotes the offending input
 * (made printable) and says what is wrong.
 */
#ifndef MAILCTL_ADDRESS_H
#define MAILCTL_ADDRESS_H

#include "error.h"

/* Validate and normalise a domain name; '*out' gets the lowercase A-label
 * form ("bücher.example" -> "xn--bcher-kva.example"). */
int addr_domain_normalize(const char *in, char **out, struct mc_error *err);

/* Validate and normalise "local@domain". '*out' gets "local@a-label".
 * When 'local' / 'domain' are not NULL they get the two parts (caller
 * frees). */
int addr_normalize(const char *in, char **out, char **local, char **domain, struct mc_error *err);

/* Like addr_normalize() but also accepts a catch-all "@domain" (then
 * '*local' is ""). */
int addr_normalize_source(const char *in, char **out, char **local, char **domain,
                          struct mc_error *err);

/* Return 1 when 's' is valid UTF-8 with no control characters. */
int addr_is_clean_utf8(const char *s);

/* Copy 's' into 'buf' with non-printable bytes as \xNN, truncated with
 * "..." to fit; for quoting bad input in messages. Returns buf. */
const char *addr_printable(const char *s, char *buf, unsigned long bufsize);

#endif
