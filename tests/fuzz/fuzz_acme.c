/*
 * fuzz_acme - libFuzzer harness for what an ACME CA sends (lib/acme_http.c,
 * lib/acme_jws.c, lib/cert_info.c).
 *
 * The input, as it is, goes to acme_problem_parse() (a parsed problem has
 * a type and a detail, a name that ends its type, at most as many
 * subproblems as it had, and acme_problem_fail() turns it into a
 * non-empty message that starts with what was asked), to
 * acme_directory_parse() (a parsed directory has the three required https
 * URLs; a refusal leaves it empty with MC_EUNAVAIL and a message naming
 * the URL), to cert_info_parse() as a PEM chain (a parsed chain has hex
 * digests of 64 digits and names without NULs), and, NUL-terminated, to
 * acme_retry_after() (-1 or more; short digit strings are their value)
 * and acme_b64url_decode() (what decodes encodes and decodes back the
 * same).
 */
#include "acme.h"
#include "cert_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	return 1;
}

static void problem(const char *s, size_t size)
{
	struct acme_problem p;
	struct mc_error err;
	if (acme_problem_parse(s, size, &p) < 0)
		return;
	check(p.type && p.detail);
	const char *name = acme_problem_name(&p);
	check(strlen(name) <= strlen(p.type) &&
	      !strcmp(p.type + strlen(p.type) - strlen(name), name));
	check(acme_problem_fail(&p, "asked", 7, &err) == -1);
	check(err.kind != MC_OK && !strncmp(err.msg, "asked: ", 7));
	for (size_t i = 0; i < p.nsub; i++)
		check(p.sub[i] != NULL);
	acme_problem_release(&p);
}

static void directory(const char *s, size_t size)
{
	struct acme_directory d;
	struct mc_error err;
	if (acme_directory_parse("U", s, size, &d, &err) == 0) {
		check(acme_url_check(d.new_nonce, NULL) == 0);
		check(acme_url_check(d.new_account, NULL) == 0);
		check(acme_url_check(d.new_order, NULL) == 0);
		check(d.eab_required == 0 || d.eab_required == 1);
		acme_directory_release(&d);
	} else {
		check(err.kind == MC_EUNAVAIL);
		check(!strncmp(err.msg, "'U' is not an ACME directory: ", 30));
		check(!d.new_nonce && !d.new_account && !d.new_order);
	}
}

static void chain(const char *s, size_t size)
{
	struct cert_info info;
	struct mc_error err;
	if (cert_info_parse(s, size, NULL, &info, &err) < 0) {
		check(err.kind == MC_EDATA);
		return;
	}
	check(info.chain >= 1 && info.key_matches == -1);
	check(is_hex64(info.sha256));
	check(!*info.tlsa || is_hex64(info.tlsa));
	check(info.subject && info.issuer && info.serial);
	for (size_t i = 0; i < info.nnames; i++)
		check(info.names[i] != NULL);
	cert_info_release(&info);
}

static void text(const char *s)
{
	long ra = acme_retry_after(s, 1700000000);
	check(ra >= -1);
	size_t digits = strspn(s, "0123456789");
	if (digits && digits == strlen(s) && digits < 10)
		check(ra == strtol(s, NULL, 10));
	unsigned char *raw, *again;
	size_t len, len2;
	if (acme_b64url_decode(s, &raw, &len) == 0) {
		char *enc = acme_b64url(raw, len);
		check(strspn(enc,
		             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		      strlen(enc));
		check(acme_b64url_decode(enc, &again, &len2) == 0);
		check(len2 == len && !memcmp(raw, again, len));
		free(again);
		free(enc);
		free(raw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	problem(s, size);
	directory(s, size);
	chain(s, size);
	text(s);
	free(s);
	return 0;
}
