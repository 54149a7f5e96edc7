/*
 * utf8 - the one UTF-8 decoder libmailctl uses to vet input.
 */
#ifndef MAILCTL_UTF8_H
#define MAILCTL_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 sequence at 's' (at most 'n' bytes) with its code
 * point in '*cp', or 0 when it is malformed, overlong, a surrogate, out of
 * range or truncated. */
size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);

#endif
