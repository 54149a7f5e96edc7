/*
 * fuzz_dkim_sig - libFuzzer harness for dkim_sig_parse() (lib/dkim_tags.c).
 *
 * The input is a DKIM-Signature field value. Checks what dkim_msg.h
 * promises: a parsed signature has every required tag (a=, b=, bh=, d=,
 * h= naming From, s=), an identity within d=, b_text that decodes to
 * b_len bytes, numbers in range; a refusal says why, inside the buffer
 * it was given (sizes down to 1 byte), and leaves the struct empty.
 * dkim_sig_release() is called either way (on an empty struct it must
 * do nothing).
 */
#include "dkim_msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Does the ':'-separated list 'h' (FWS around names) name 'want'? */
static int h_names(const char *h, const char *want)
{
	size_t len = strlen(want);
	for (const char *p = h; p; p = strchr(p, ':')) {
		p += *p == ':';
		p += strspn(p, " \t\r\n");
		size_t w = strcspn(p, ":");
		while (w && strchr(" \t\r\n", p[w - 1]))
			w--;
		if (w == len && !strncasecmp(p, want, len))
			return 1;
	}
	return 0;
}

/* 'identity' is "local@domain" with 'domain' equal to d= or below it. */
static int within(const char *identity, const char *domain)
{
	const char *at = strrchr(identity, '@');
	if (!at)
		return 0;
	size_t il = strlen(at + 1), dl = strlen(domain);
	if (il == dl)
		return !strcasecmp(at + 1, domain);
	return il > dl && at[il - dl] == '.' && !strcasecmp(at + 1 + il - dl, domain);
}

/* Bytes that padded base64 text of 'len' characters decodes to. */
static size_t b64_len(const char *text)
{
	size_t n = strlen(text), pad = 0;
	while (pad < n && pad < 2 && text[n - 1 - pad] == '=')
		pad++;
	return n / 4 * 3 - pad;
}

static void check_parsed(const struct dkim_sig *s)
{
	check(s->algorithm && *s->algorithm && s->domain && *s->domain);
	check(s->selector && *s->selector && s->identity && s->headers);
	check(s->b && s->b_len && s->bh && s->bh_len && s->b_text);
	check(h_names(s->headers, "from"));
	check(within(s->identity, s->domain));
	check(!strpbrk(s->b_text, " \t\r\n"));
	check(strlen(s->b_text) % 4 == 0 && b64_len(s->b_text) == s->b_len);
	check(s->header_relaxed == 0 || s->header_relaxed == 1);
	check(s->body_relaxed == 0 || s->body_relaxed == 1);
	check(s->length >= -1 && s->timestamp >= -1 && s->expires >= -1);
}

static void check_empty(const struct dkim_sig *s)
{
	check(!s->algorithm && !s->domain && !s->selector && !s->identity && !s->headers);
	check(!s->b && !s->bh && !s->b_text && !s->b_len && !s->bh_len);
}

/* One parse with a 'why' buffer of exactly 'whylen' bytes on the heap,
 * so that ASan sees a write past it. Returns the parse's result. */
static int parse_once(const char *value, size_t whylen)
{
	char *why = malloc(whylen);
	struct dkim_sig s;

	memset(why, 'x', whylen);
	memset(&s, 0xa5, sizeof(s));
	int rc = dkim_sig_parse(value, &s, why, whylen);
	check(rc == 0 || rc == -1);
	if (rc == 0) {
		check_parsed(&s);
	} else {
		check_empty(&s);
		check(memchr(why, '\0', whylen) != NULL);
		check(whylen == 1 || why[0] != '\0');
	}
	dkim_sig_release(&s); /* after a refusal: on the empty struct */
	free(why);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = malloc(size + 1);

	memcpy(value, data, size);
	value[size] = '\0';
	int rc = parse_once(value, 256);
	/* the verdict does not depend on how much room 'why' has */
	check(parse_once(value, 1) == rc);
	check(parse_once(value, 9) == rc);
	free(value);
	return 0;
}
