/*
 * fuzz_mtasts - libFuzzer harness for lib/mtasts.c (the MTA-STS policy
 * parser and MX matching).
 *
 * mtasts_parse() on the exact bytes. A valid policy has a known mode, a
 * max_age within the limit, at least one mx pattern (the list
 * NULL-terminated), came from at most MTASTS_MAX_SIZE bytes that begin
 * with "version:", and parses again to the same fields when written out
 * as CRLF lines. Every pattern matches a host made from it (itself, or
 * one label in place of the "*"), in upper case and with a final dot too,
 * and a wildcard matches neither its parent nor a host one label deeper.
 * A refused policy is MC_EDATA with a one-line printable message and an
 * empty struct. The input is also cut at its first NUL into a pattern and
 * a host: matching is the same whatever the case of either.
 */
#include "mtasts.h"
#include "strbuf.h"

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

static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

static char *upper(const char *s)
{
	char *u = strdup(s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

static void check_pattern(const char *pat)
{
	struct strbuf host = STRBUF_INIT;
	int wild = pat[0] == '*';
	strbuf_addstr(&host, wild ? "x7-q" : "");
	strbuf_addstr(&host, pat + wild);
	char *up = upper(host.buf);
	check(mtasts_mx_match(pat, host.buf) && mtasts_mx_match(pat, up));
	strbuf_addch(&host, '.');
	check(mtasts_mx_match(pat, host.buf));
	if (wild) {
		check(!mtasts_mx_match(pat, pat + 2));
		strbuf_reset(&host);
		strbuf_addf(&host, "a.b%s", pat + 1);
		check(!mtasts_mx_match(pat, host.buf));
	}
	free(up);
	strbuf_release(&host);
}

/* Written out as CRLF lines, the policy parses to the same fields. */
static void check_again(const struct mtasts_policy *p)
{
	struct strbuf sb = STRBUF_INIT;
	struct mtasts_policy q;
	struct mc_error err;
	strbuf_addf(&sb, "version: STSv1\r\nmode: %s\r\n", mtasts_mode_name(p->mode));
	for (size_t i = 0; i < p->nmx; i++)
		strbuf_addf(&sb, "mx: %s\r\n", p->mx[i]);
	strbuf_addf(&sb, "max_age: %lu\r\n", p->max_age);
	check(mtasts_parse(sb.buf, sb.len, &q, &err) == 0);
	check(q.mode == p->mode && q.max_age == p->max_age && q.nmx == p->nmx);
	for (size_t i = 0; i < p->nmx; i++)
		check(!strcmp(q.mx[i], p->mx[i]));
	mtasts_policy_release(&q);
	strbuf_release(&sb);
}

static void check_parse(const uint8_t *data, size_t size)
{
	struct mtasts_policy p;
	struct mc_error err;
	if (mtasts_parse((const char *)data, size, &p, &err) < 0) {
		check(err.kind == MC_EDATA && err.msg[0] && printable(err.msg));
		check(p.mx == NULL && p.nmx == 0);
		return;
	}
	check(size <= MTASTS_MAX_SIZE && size >= 8 && !memcmp(data, "version:", 8));
	check(p.mode <= MTASTS_NONE && p.max_age <= MTASTS_MAX_AGE);
	check(p.nmx >= 1 && p.mx[p.nmx] == NULL);
	for (size_t i = 0; i < p.nmx; i++) {
		check(strlen(p.mx[i]) <= 255 && printable(p.mx[i]));
		check_pattern(p.mx[i]);
		check(mtasts_policy_match(&p, p.mx[i]) >= 0 || p.mx[i][0] == '*');
	}
	check_again(&p);
	mtasts_policy_release(&p);
}

static void check_match(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 2);
	memcpy(s, data, size);
	s[size] = s[size + 1] = '\0';
	const char *pat = s, *host = s + strlen(s) + 1;
	char *up = upper(pat), *uh = upper(host);
	int m = mtasts_mx_match(pat, host);
	check(m == 0 || m == 1);
	check(mtasts_mx_match(up, uh) == m && mtasts_mx_match(pat, uh) == m);
	free(up);
	free(uh);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_match(data, size);
	return 0;
}
