/*
 * fuzz_address - libFuzzer harness for lib/address.c.
 *
 * Runs every entry point on the input as a C string and checks what the
 * header promises: a normalised address or domain normalises to itself,
 * is lowercase printable ASCII, and is no longer than the RFC limits;
 * addr_printable() writes printable ASCII, NUL-terminated inside the
 * buffer it was given, for every buffer size.
 */
#include "address.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ADDRESS_MAX 254
#define DOMAIN_MAX  253
#define LOCAL_MAX   64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Lowercase printable ASCII without spaces: what every normalised form is. */
static int is_normal_text(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || (*s >= 'A' && *s <= 'Z'))
			return 0;
	return 1;
}

static void check_domain(const char *in)
{
	struct mc_error err;
	char *out = NULL, *again = NULL;

	if (addr_domain_normalize(in, &out, &err) < 0) {
		check(err.kind == MC_EDATA && err.msg[0]);
		return;
	}
	check(addr_is_clean_utf8(in));
	check(strlen(out) <= DOMAIN_MAX && is_normal_text(out) && strchr(out, '.'));
	check(addr_domain_normalize(out, &again, &err) == 0);
	check(!strcmp(out, again));
	free(again);
	free(out);
}

/* 'catchall' selects addr_normalize_source(). */
static void check_address(const char *in, int catchall)
{
	int (*norm)(const char *, char **, char **, char **, struct mc_error *) =
	    catchall ? addr_normalize_source : addr_normalize;
	struct mc_error err;
	char *out = NULL, *local = NULL, *domain = NULL, *again = NULL, *dom2 = NULL;
	size_t llen;

	if (norm(in, &out, &local, &domain, &err) < 0) {
		check(err.kind == MC_EDATA && err.msg[0]);
		return;
	}
	check(addr_is_clean_utf8(in));
	llen = strlen(local);
	check(strlen(out) <= ADDRESS_MAX && is_normal_text(out));
	check(llen <= LOCAL_MAX && (llen || catchall));
	check(!strncmp(out, local, llen) && out[llen] == '@' && !strcmp(out + llen + 1, domain));
	/* idempotent, through both entry points where they apply */
	check(norm(out, &again, NULL, NULL, &err) == 0 && !strcmp(out, again));
	check(addr_domain_normalize(domain, &dom2, &err) == 0 && !strcmp(domain, dom2));
	free(again);
	free(dom2);
	if (!catchall) {
		check(addr_normalize_source(in, &again, NULL, NULL, &err) == 0);
		check(!strcmp(out, again));
		free(again);
	}
	free(out);
	free(local);
	free(domain);
}

/* The whole of 's' escaped as addr_printable() describes it: bytes
 * outside 0x20..0x7e as \xNN. Caller frees. */
static char *escape_all(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *out = malloc(4 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f) {
			*o++ = '\\', *o++ = 'x', *o++ = hex[c >> 4], *o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

/* addr_printable() into a heap buffer of exactly 'bufsize' bytes, so that
 * ASan catches a write past it. The result is the escaped input when it
 * fits, else a prefix of it (cut between escapes) ending in "..." when
 * there is room for that. */
static void check_printable(const char *in, size_t bufsize)
{
	char *buf = malloc(bufsize ? bufsize : 1), *full = escape_all(in);
	size_t len, flen = strlen(full);

	check(addr_printable(in, buf, bufsize) == buf);
	if (bufsize) {
		len = strnlen(buf, bufsize);
		check(len < bufsize);
		for (size_t i = 0; i < len; i++)
			check(buf[i] >= 0x20 && buf[i] < 0x7f);
		if (flen < bufsize) {
			check(!strcmp(buf, full));
		} else if (bufsize > 3) {
			check(len >= 3 && !strcmp(buf + len - 3, "..."));
			check(!strncmp(buf, full, len - 3));
		} else {
			check(!strncmp(buf, full, len));
		}
	}
	free(full);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 8, 64, 80, 1024};
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';

	addr_is_clean_utf8(s);
	check_domain(s);
	check_address(s, 0);
	check_address(s, 1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_printable(s, sizes[i]);
	/* a size taken from the input reaches every truncation point */
	if (size)
		check_printable(s + 1, data[0]);

	free(s);
	return 0;
}
