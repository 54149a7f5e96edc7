/*
 * fuzz_dkim_keyrec - libFuzzer harness for dkim_keyrec_parse()
 * (lib/dkim_tags.c).
 *
 * The input is the text of a DKIM key record (TXT). Checks what
 * dkim_msg.h promises: a parsed record is of type "rsa" or "ed25519"; a
 * revoked one (empty p=) has no key, any other has one, and an ed25519
 * key is 32 bytes; the flags are 0 or 1. A refusal says why, inside the
 * buffer it was given (sizes down to 1 byte), and leaves the struct
 * empty; dkim_keyrec_release() is called either way.
 */
#include "dkim_msg.h"

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

static int flag(int v)
{
	return v == 0 || v == 1;
}

static void check_parsed(const struct dkim_keyrec *k)
{
	check(memchr(k->key_type, '\0', sizeof(k->key_type)) != NULL);
	check(!strcmp(k->key_type, "rsa") || !strcmp(k->key_type, "ed25519"));
	check(flag(k->revoked) && flag(k->testing) && flag(k->strict_identity));
	check(flag(k->sha256_allowed) && flag(k->email_service));
	if (k->revoked) {
		check(k->key_len == 0);
		return;
	}
	check(k->key != NULL && k->key_len > 0);
	if (!strcmp(k->key_type, "ed25519"))
		check(k->key_len == 32);
}

static void check_empty(const struct dkim_keyrec *k)
{
	check(!k->key && !k->key_len && !k->revoked && !k->testing && !k->strict_identity);
	check(!k->sha256_allowed && !k->email_service && !k->key_type[0]);
}

/* One parse with a 'why' buffer of exactly 'whylen' bytes on the heap,
 * so that ASan sees a write past it. Returns the parse's result. */
static int parse_once(const char *txt, size_t whylen)
{
	char *why = malloc(whylen);
	struct dkim_keyrec k;

	memset(why, 'x', whylen);
	memset(&k, 0xa5, sizeof(k));
	int rc = dkim_keyrec_parse(txt, &k, why, whylen);
	check(rc == 0 || rc == -1);
	if (rc == 0) {
		check_parsed(&k);
	} else {
		check_empty(&k);
		check(memchr(why, '\0', whylen) != NULL);
		check(whylen == 1 || why[0] != '\0');
	}
	dkim_keyrec_release(&k);
	free(why);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *txt = malloc(size + 1);

	memcpy(txt, data, size);
	txt[size] = '\0';
	int rc = parse_once(txt, 256);
	check(parse_once(txt, 1) == rc);
	check(parse_once(txt, 9) == rc);
	free(txt);
	return 0;
}
