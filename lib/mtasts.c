/* The MTA-STS policy file: its parser and MX matching (RFC 8461 3.2,
 * 4.1); the fetch is in mtasts_fetch.c. See mtasts.h. */
#include "mtasts.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {
    [MTASTS_ENFORCE] = "enforce",
    [MTASTS_TESTING] = "testing",
    [MTASTS_NONE] = "none",
};

const char *mtasts_mode_name(enum mtasts_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "none";
}

/* ---- the text, line by line ---- */

struct parse {
	struct mtasts_policy *p;
	int line;
	int seen_mode, seen_max_age;
	struct mc_error *err;
};

/* Up to 40 bytes of untrusted 's' for a message, unprintable bytes as '?'. */
static const char *shown(char buf[48], const char *s, size_t n)
{
	size_t i, max = n > 40 ? 37 : n;
	for (i = 0; i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n > max)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* sts-policy-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !is_alnum(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* A Domain of RFC 5321: labels of letters, digits and inner hyphens. */
static int valid_domain(const char *s, size_t n)
{
	size_t label = 0;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

__attribute__((format(printf, 2, 3))) static int bad(struct parse *ps, const char *fmt, ...)
{
	char msg[sizeof(ps->err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mc_fail(ps->err, MC_EDATA, "line %d: %s", ps->line, msg);
}

static int set_version(struct parse *ps, const char *v, size_t n)
{
	char b[48];
	if (ps->line != 1)
		return bad(ps, "'version' must be the first field");
	if (n != 5 || memcmp(v, "STSv1", 5))
		return bad(ps, "unknown version '%s' (only STSv1 is defined)", shown(b, v, n));
	return 0;
}

static int set_mode(struct parse *ps, const char *v, size_t n)
{
	char b[48];
	if (ps->seen_mode++)
		return bad(ps, "a second 'mode' field");
	for (size_t m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
		if (strlen(mode_names[m]) == n && !memcmp(v, mode_names[m], n)) {
			ps->p->mode = (enum mtasts_mode)m;
			return 0;
		}
	return bad(ps, "unknown mode '%s' (enforce, testing or none)", shown(b, v, n));
}

static int set_max_age(struct parse *ps, const char *v, size_t n)
{
	char b[48];
	unsigned long long age = 0;
	if (ps->seen_max_age++)
		return bad(ps, "a second 'max_age' field");
	for (size_t i = 0; i < n; i++) {
		if (n > 10 || v[i] < '0' || v[i] > '9')
			return bad(ps, "max_age '%s' is not a number of seconds", shown(b, v, n));
		age = age * 10 + (unsigned)(v[i] - '0');
	}
	if (age > MTASTS_MAX_AGE)
		return bad(ps, "max_age %llu is over %d seconds", age, MTASTS_MAX_AGE);
	ps->p->max_age = (unsigned long)age;
	return 0;
}

static int set_mx(struct parse *ps, const char *v, size_t n)
{
	char b[48];
	int wild = n > 2 && v[0] == '*' && v[1] == '.';
	if (!valid_domain(v + 2 * wild, n - 2 * (size_t)wild))
		return bad(ps, "invalid mx pattern '%s' (a host name, or '*.' and one)",
		           shown(b, v, n));
	ps->p->mx = xrealloc(ps->p->mx, (ps->p->nmx + 2) * sizeof(char *));
	ps->p->mx[ps->p->nmx++] = xstrndup(v, n);
	ps->p->mx[ps->p->nmx] = NULL;
	return 0;
}

static const struct {
	const char *name;
	int (*set)(struct parse *ps, const char *v, size_t n);
} fields[] = {
    {"version", set_version},
    {"mode", set_mode},
    {"max_age", set_max_age},
    {"mx", set_mx},
};

/* One "key: value" line (without its line end). */
static int parse_line(struct parse *ps, const char *s, size_t n)
{
	char b[48];
	const char *colon = memchr(s, ':', n);
	if (n == 0)
		return bad(ps, "empty line");
	if (!colon)
		return bad(ps, "'%s' is not 'key: value'", shown(b, s, n));
	size_t klen = (size_t)(colon - s);
	const char *v = colon + 1, *end = s + n;
	if (!valid_name(s, klen))
		return bad(ps, "invalid field name '%s'", shown(b, s, klen));
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (v == end)
		return bad(ps, "'%s' has no value", shown(b, s, klen));
	for (const char *c = v; c < end; c++)
		if ((unsigned char)*c < 0x20 ? *c != '\t' : *c == 0x7f)
			return bad(ps, "a control character in the value of '%s'",
			           shown(b, s, klen));
	if (ps->line == 1 && (klen != 7 || memcmp(s, "version", 7)))
		return bad(ps, "the policy must begin with 'version: STSv1'");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == klen && !memcmp(s, fields[i].name, klen))
			return fields[i].set(ps, v, (size_t)(end - v));
	return 0; /* an extension: ignored */
}

static int parse_lines(struct parse *ps, const char *text, size_t len)
{
	const char *s = text, *end = text + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - s);
		if (nl && n && s[n - 1] == '\r')
			n--;
		ps->line++;
		if (parse_line(ps, s, n) < 0)
			return -1;
		s = nl ? nl + 1 : end;
	}
	return 0;
}

int mtasts_parse(const char *text, size_t len, struct mtasts_policy *out, struct mc_error *err)
{
	struct parse ps = {.p = out, .err = err};
	memset(out, 0, sizeof(*out));
	if (len > MTASTS_MAX_SIZE)
		return mc_fail(err, MC_EDATA, "the policy is %zu bytes, over the limit of %d", len,
		               MTASTS_MAX_SIZE);
	if (len == 0)
		return mc_fail(err, MC_EDATA, "the policy is empty");
	if (memchr(text, '\0', len))
		return mc_fail(err, MC_EDATA, "the policy contains a NUL byte");
	int rc = parse_lines(&ps, text, len);
	if (rc == 0 && !ps.seen_mode)
		rc = mc_fail(err, MC_EDATA, "the policy has no 'mode' field");
	else if (rc == 0 && !ps.seen_max_age)
		rc = mc_fail(err, MC_EDATA, "the policy has no 'max_age' field");
	else if (rc == 0 && out->nmx == 0)
		rc = mc_fail(err, MC_EDATA, "the policy has no 'mx' field");
	if (rc < 0)
		mtasts_policy_release(out);
	return rc;
}

void mtasts_policy_release(struct mtasts_policy *p)
{
	for (size_t i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
}

/* ---- matching (RFC 8461 4.1) ---- */

/* The length of 'name' without one final dot. */
static size_t bare_len(const char *name)
{
	size_t n = strlen(name);
	return n > 1 && name[n - 1] == '.' ? n - 1 : n;
}

int mtasts_mx_match(const char *pattern, const char *host)
{
	size_t pl = bare_len(pattern), hl = bare_len(host);
	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = memchr(host, '.', hl);
		if (!dot || dot == host)
			return 0;
		size_t rest = hl - (size_t)(dot + 1 - host);
		return rest == pl - 2 && !strncasecmp(dot + 1, pattern + 2, rest);
	}
	return pl == hl && pl > 0 && !strncasecmp(pattern, host, pl);
}

long mtasts_policy_match(const struct mtasts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(p->mx[i], host))
			return (long)i;
	return -1;
}
