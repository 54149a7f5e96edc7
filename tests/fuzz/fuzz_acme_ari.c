/*
 * fuzz_acme_ari - libFuzzer harness for ACME Renewal Information
 * (lib/acme_ari.c): what a CA answers at renewalInfo, and the chain whose
 * certID names it.
 *
 * The input goes to acme_ari_parse(). A parsed window has end after
 * start, both within the years 0000-9999 give or take a day of offset,
 * retry_after 0, an explanation that is NULL or printable ASCII without
 * spaces of at most 2048 bytes; written back as RFC 3339 UTC times, the
 * window parses to the same seconds; acme_ari_pick() stays inside it for
 * any seed and gives 'now' once it has passed. A refusal is MC_EUNAVAIL
 * with "the CA's renewal information is invalid: " and an empty struct.
 * The input, NUL-terminated, also goes to acme_ari_cert_id() as a PEM
 * chain: a certID is two non-empty base64url halves joined by one '.',
 * each decoding back to bytes; a refusal is MC_EDATA with no certID.
 */
#include "acme.h"
#include "xalloc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:60Z, a day each way for the
 * offset. */
#define YEAR0    (-62167219200LL - 86400)
#define YEAR9999 (253402300800LL + 86400)

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* 't' as "YYYY-MM-DDTHH:MM:SSZ" when its year has four digits. */
static int format(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

static void roundtrip(const struct acme_ari *a)
{
	char start[64], end[64];
	struct acme_ari again;
	if (format(a->start, start, sizeof(start)) < 0 || format(a->end, end, sizeof(end)) < 0)
		return;
	char *doc =
	    xasprintf("{\"suggestedWindow\":{\"start\":\"%s\",\"end\":\"%s\"}}", start, end);
	check(acme_ari_parse(doc, strlen(doc), &again, NULL) == 0);
	check(again.start == a->start && again.end == a->end && !again.explanation);
	acme_ari_release(&again);
	free(doc);
}

static void picks(const struct acme_ari *a, const uint8_t *data, size_t size)
{
	unsigned long seed = 0;
	memcpy(&seed, data, size < sizeof(seed) ? size : sizeof(seed));
	for (int i = 0; i < 4; i++, seed = seed * 31 + 7) {
		time_t t = acme_ari_pick(a, a->start - 1, seed);
		check(t >= a->start && t < a->end);
		check(acme_ari_pick(a, a->start - 1, seed) == t);
		check(acme_ari_pick(a, a->end, seed) == a->end);
		time_t mid = a->start + (a->end - a->start) / 2;
		time_t u = acme_ari_pick(a, mid, seed);
		check(u == (t < mid ? mid : t));
	}
}

static void window(const uint8_t *data, size_t size)
{
	struct acme_ari a;
	struct mc_error err;
	static const char prefix[] = "the CA's renewal information is invalid: ";
	if (acme_ari_parse((const char *)data, size, &a, &err) < 0) {
		check(err.kind == MC_EUNAVAIL && !strncmp(err.msg, prefix, strlen(prefix)));
		check(a.start == 0 && a.end == 0 && a.retry_after == 0 && !a.explanation);
		return;
	}
	check(a.start < a.end && a.start >= YEAR0 && a.end <= YEAR9999 && a.retry_after == 0);
	if (a.explanation) {
		size_t n = strlen(a.explanation);
		check(n > 0 && n <= 2048);
		for (const char *p = a.explanation; *p; p++)
			check(*p > ' ' && *p <= '~');
	}
	roundtrip(&a);
	picks(&a, data, size);
	acme_ari_release(&a);
}

static void half(const char *s, size_t n)
{
	check(n > 0 && strspn(s, B64URL) >= n);
	char *part = xstrndup(s, n);
	unsigned char *raw;
	size_t len;
	check(acme_b64url_decode(part, &raw, &len) == 0 && len > 0);
	free(raw);
	free(part);
}

static void cert_id(const char *s)
{
	struct mc_error err;
	char *id;
	if (acme_ari_cert_id(s, &id, &err) < 0) {
		check(err.kind == MC_EDATA && !id);
		return;
	}
	const char *dot = strchr(id, '.');
	check(dot && !strchr(dot + 1, '.'));
	half(id, (size_t)(dot - id));
	half(dot + 1, strlen(dot + 1));
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	window(data, size);
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	cert_id(s);
	free(s);
	return 0;
}
