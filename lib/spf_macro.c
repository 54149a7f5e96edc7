/* SPF macros (RFC 7208 7): the macro-string grammar, expansion with
 * transformers and delimiters, URL escaping for upper-case letters, and
 * the domain-spec rule (a macro or "." toplabel at the end); see spf.h. */
#include "spf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One piece of a macro-string: literal text, or a macro. */
struct token {
	size_t len;       /* bytes of the text it covers */
	int macro;        /* %{...}, %%, %_ or %- */
	char letter;      /* %{...}: the letter as written; else 0 */
	int digits;       /* right-hand parts to keep, 0 for all */
	int reverse;      /* 'r' */
	char delims[8];   /* given delimiters, "" for the default '.' */
	const char *fill; /* %%, %_, %-: what it stands for */
};

static const char delimiter_set[] = ".-+,/_=";

/* The transformers and delimiters of "%{" letter ... "}" at 'p' (just
 * after the letter): the length up to and with '}', or 0 when invalid. */
static size_t parse_braces(const char *p, struct token *t)
{
	const char *q = p;
	long n = 0;
	int has_digits = isdigit((unsigned char)*q);
	while (isdigit((unsigned char)*q)) {
		n = n * 10 + (*q++ - '0');
		if (n > 1000)
			n = 1000; /* more parts than any name has */
	}
	if (has_digits && n == 0)
		return 0; /* the number of parts must not be zero */
	t->digits = (int)n;
	if (*q == 'r' || *q == 'R') {
		t->reverse = 1;
		q++;
	}
	size_t nd = 0;
	for (; *q && strchr(delimiter_set, *q); q++)
		if (!memchr(t->delims, *q, nd) && nd < sizeof(t->delims) - 1)
			t->delims[nd++] = *q;
	t->delims[nd] = '\0';
	return *q == '}' ? (size_t)(q - p) + 1 : 0;
}

/* The token at 'p' (not at the end): 0 with 't' set, or -1 when the text
 * is not a macro-string there. Letters c, r and t only with 'exp'. */
static int next_token(const char *p, int exp, struct token *t)
{
	memset(t, 0, sizeof(*t));
	if (*p != '%') {
		unsigned char c = (unsigned char)*p;
		if (c > 0x7e || c < (exp ? 0x20 : 0x21))
			return -1;
		t->len = 1;
		return 0;
	}
	t->macro = 1;
	t->len = 2;
	switch (p[1]) {
	case '%':
		t->fill = "%";
		return 0;
	case '_':
		t->fill = " ";
		return 0;
	case '-':
		t->fill = "%20";
		return 0;
	case '{':
		break;
	default:
		return -1;
	}
	char lower = (char)tolower((unsigned char)p[2]);
	if (!p[2] || !strchr(exp ? "slodiphcrtv" : "slodiphv", lower))
		return -1;
	t->letter = p[2];
	size_t n = parse_braces(p + 3, t);
	if (n == 0)
		return -1;
	t->len = 3 + n;
	return 0;
}

int spf_macro_check(const char *text, int explanation)
{
	struct token t;
	for (const char *p = text; *p; p += t.len)
		if (next_token(p, explanation, &t) < 0)
			return -1;
	return 0;
}

int spf_macro_uses(const char *text, char letter)
{
	struct token t;
	for (const char *p = text; *p; p += t.len) {
		if (next_token(p, 1, &t) < 0)
			t.len = 1;
		else if (t.letter &&
		         tolower((unsigned char)t.letter) == tolower((unsigned char)letter))
			return 1;
	}
	return 0;
}

static const char *value_of(const struct spf_macro_vars *v, char letter, char *buf, size_t size)
{
	const char *s = NULL;
	switch (tolower((unsigned char)letter)) {
	case 's':
		s = v->s;
		break;
	case 'l':
		s = v->l;
		break;
	case 'o':
		s = v->o;
		break;
	case 'd':
		s = v->d;
		break;
	case 'i':
		s = v->i;
		break;
	case 'p':
		s = v->p ? v->p : "unknown";
		break;
	case 'v':
		s = v->v;
		break;
	case 'h':
		s = v->h;
		break;
	case 'c':
		s = v->c;
		break;
	case 'r':
		s = v->r;
		break;
	case 't':
		snprintf(buf, size, "%lld", (long long)v->t);
		return buf;
	}
	return s ? s : "";
}

/* Split 'val' on the delimiters, reverse, keep the right-hand parts, and
 * join them with '.' (RFC 7208 7.3). */
static void transform(const char *val, const struct token *t, struct strbuf *out)
{
	const char *delims = t->delims[0] ? t->delims : ".";
	size_t nparts = 1;
	for (const char *p = val; *p; p++)
		nparts += strchr(delims, *p) != NULL;
	const char **start = xcalloc(nparts, sizeof(*start));
	size_t *len = xcalloc(nparts, sizeof(*len));
	size_t i = 0;
	for (const char *p = val;; p++) {
		const char *e = p + strcspn(p, delims);
		start[i] = p;
		len[i++] = (size_t)(e - p);
		if (!*e)
			break;
		p = e;
	}
	size_t keep = t->digits && (size_t)t->digits < nparts ? (size_t)t->digits : nparts;
	/* the right-hand 'keep' parts of the (reversed) list, in its order */
	for (size_t k = 0; k < keep; k++) {
		size_t j = t->reverse ? keep - 1 - k : nparts - keep + k;
		if (k)
			strbuf_addch(out, '.');
		strbuf_add(out, start[j], len[j]);
	}
	free(start);
	free(len);
}

/* Upper-case macro letters: everything but unreserved characters
 * (RFC 3986) as %XX. */
static void url_escape(const char *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || strchr("-._~", c))
			strbuf_addch(out, c);
		else
			strbuf_addf(out, "%%%02X", c);
	}
}

int spf_macro_expand(const struct spf_macro_vars *v, const char *text, int explanation,
                     struct strbuf *out)
{
	struct token t;
	char buf[32];
	for (const char *p = text; *p; p += t.len) {
		if (next_token(p, explanation, &t) < 0)
			return -1;
		if (!t.macro) {
			strbuf_addch(out, *p);
			continue;
		}
		if (t.fill) {
			strbuf_addstr(out, t.fill);
			continue;
		}
		struct strbuf one = STRBUF_INIT;
		transform(value_of(v, t.letter, buf, sizeof(buf)), &t, &one);
		if (isupper((unsigned char)t.letter))
			url_escape(one.buf, one.len, out);
		else
			strbuf_add(out, one.buf, one.len);
		strbuf_release(&one);
	}
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int toplabel_valid(const char *s, size_t n)
{
	int alpha = 0, dash = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '-')
			dash = 1;
		else if (isalpha(c))
			alpha = 1;
		else if (!isdigit(c))
			return 0;
	}
	if (dash)
		return s[0] != '-' && s[n - 1] != '-';
	return alpha;
}

int spf_domain_spec_valid(const char *spec)
{
	struct token t;
	const char *tail = spec; /* the literal text after the last macro */
	int last_macro = 0;
	if (!*spec)
		return 0;
	for (const char *p = spec; *p; p += t.len) {
		if (next_token(p, 0, &t) < 0)
			return 0;
		last_macro = t.macro;
		if (t.macro)
			tail = p + t.len;
	}
	if (last_macro)
		return 1;
	size_t n = strlen(tail);
	if (n && tail[n - 1] == '.')
		n--;
	const char *dot = memrchr(tail, '.', n);
	return dot && toplabel_valid(dot + 1, n - (size_t)(dot + 1 - tail));
}
