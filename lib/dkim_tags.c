/* DKIM tag-lists (RFC 6376 3.2): the splitter, base64 values, and the
 * DKIM-Signature (3.5) and key record (3.6.1) parsers; see dkim_msg.h.
 * Everything here reads untrusted bytes and is bounded: at most
 * DKIM_MAX_TAGS tags, DKIM_MAX_B64 base64 characters, 18-digit numbers. */
#include "dkim_int.h"
#include "xalloc.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The longest number we read: below 2^63. */
#define DKIM_MAX_DIGITS 18

void dkim_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* VALCHAR: printable ASCII but ';' */
static int is_valchar(int c)
{
	return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e);
}

static int is_b64(int c)
{
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

static int span_ieq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* ---- tag-lists ---- */

/* One tag-spec at '*pp': name, '=', value up to ';' or the end. */
static int read_tag(const char **pp, struct dkim_tag *t, char *why, size_t whylen)
{
	const char *p = *pp, *last;
	if (!is_alpha((unsigned char)*p)) {
		dkim_why(why, whylen, "bad tag name in tag-list");
		return -1;
	}
	t->name = p;
	while (is_alpha((unsigned char)*p) || is_digit((unsigned char)*p) || *p == '_')
		p++;
	t->name_len = (size_t)(p - t->name);
	while (is_fws((unsigned char)*p))
		p++;
	if (*p != '=') {
		dkim_why(why, whylen, "tag '%.*s' has no '='",
		         (int)(t->name_len > 32 ? 32 : t->name_len), t->name);
		return -1;
	}
	t->raw = ++p;
	while (is_fws((unsigned char)*p))
		p++;
	t->value = last = p;
	for (; *p && *p != ';'; p++) {
		if (is_valchar((unsigned char)*p))
			last = p + 1;
		else if (!is_fws((unsigned char)*p)) {
			dkim_why(why, whylen, "bad character in tag '%.*s'",
			         (int)(t->name_len > 32 ? 32 : t->name_len), t->name);
			return -1;
		}
	}
	t->value_len = (size_t)(last - t->value);
	t->end = p;
	*pp = *p == ';' ? p + 1 : p;
	return 0;
}

static const struct dkim_tag *find_span(const struct dkim_tag *tags, size_t n, const char *name,
                                        size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (tags[i].name_len == len && memcmp(tags[i].name, name, len) == 0)
			return &tags[i];
	return NULL;
}

const struct dkim_tag *dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name)
{
	return find_span(tags, n, name, strlen(name));
}

/* Empty tag-specs (";;") are skipped: harmless, and seen in key records. */
int dkim_tags_split(const char *s, struct dkim_tag *tags, size_t *n, char *why, size_t whylen)
{
	const char *p = s;
	*n = 0;
	for (;;) {
		while (is_fws((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		if (*p == ';') {
			p++;
			continue;
		}
		if (*n == DKIM_MAX_TAGS) {
			dkim_why(why, whylen, "more than %d tags", DKIM_MAX_TAGS);
			return -1;
		}
		struct dkim_tag *t = &tags[*n];
		if (read_tag(&p, t, why, whylen) < 0)
			return -1;
		if (find_span(tags, *n, t->name, t->name_len)) {
			dkim_why(why, whylen, "duplicate tag '%.*s'",
			         (int)(t->name_len > 32 ? 32 : t->name_len), t->name);
			return -1;
		}
		(*n)++;
	}
}

/* 1 when the ':'-separated list in 't' holds 'word' (any case). */
static int list_has(const struct dkim_tag *t, const char *word)
{
	const char *p = t->value, *end = t->value + t->value_len;
	while (p <= end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *e = colon ? colon : end;
		while (p < e && is_fws((unsigned char)*p))
			p++;
		while (e > p && is_fws((unsigned char)e[-1]))
			e--;
		if (span_ieq(p, (size_t)(e - p), word))
			return 1;
		if (!colon)
			break;
		p = colon + 1;
	}
	return 0;
}

void dkim_strip_b(const char *value, struct strbuf *out)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *b;
	size_t n;
	if (dkim_tags_split(value, tags, &n, NULL, 0) < 0 || !(b = dkim_tag_find(tags, n, "b"))) {
		strbuf_addstr(out, value);
		return;
	}
	strbuf_add(out, value, (size_t)(b->raw - value));
	strbuf_addstr(out, b->end);
}

/* ---- values ---- */

int dkim_b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen, char **text)
{
	struct strbuf sb = STRBUF_INIT;
	size_t pad = 0;
	*out = NULL;
	*outlen = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_fws(c))
			continue;
		if (c == '=')
			pad++;
		else if (pad || !is_b64(c))
			goto bad;
		if (sb.len == DKIM_MAX_B64)
			goto bad;
		strbuf_addch(&sb, c);
	}
	if (pad > 2 || sb.len % 4)
		goto bad;
	unsigned char *buf = xmalloc(sb.len / 4 * 3 + 1);
	int r = sb.len ? EVP_DecodeBlock(buf, (const unsigned char *)sb.buf, (int)sb.len) : 0;
	if (r < 0 || (size_t)r < pad) {
		free(buf);
		goto bad;
	}
	*out = buf;
	*outlen = (size_t)r - pad;
	if (text)
		*text = strbuf_detach(&sb);
	else
		strbuf_release(&sb);
	return 0;
bad:
	strbuf_release(&sb);
	return -1;
}

int dkim_name_ok(const char *s, size_t len)
{
	size_t label = 0;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static char *tag_dup(const struct dkim_tag *t)
{
	return xstrndup(t->value, t->value_len);
}

static char *lower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* A decimal number of 1 to DKIM_MAX_DIGITS digits. */
static int parse_num(const struct dkim_tag *t, long long *out)
{
	long long v = 0;
	if (t->value_len == 0 || t->value_len > DKIM_MAX_DIGITS)
		return -1;
	for (size_t i = 0; i < t->value_len; i++) {
		if (!is_digit((unsigned char)t->value[i]))
			return -1;
		v = v * 10 + (t->value[i] - '0');
	}
	*out = v;
	return 0;
}

/* ---- DKIM-Signature ---- */

static void sig_empty(struct dkim_sig *s)
{
	memset(s, 0, sizeof(*s));
	s->length = s->timestamp = s->expires = -1;
}

void dkim_sig_release(struct dkim_sig *s)
{
	if (!s)
		return;
	free(s->algorithm);
	free(s->domain);
	free(s->selector);
	free(s->identity);
	free(s->headers);
	free(s->b);
	free(s->bh);
	free(s->b_text);
	sig_empty(s);
}

static int sig_required(const struct dkim_tag *tags, size_t n, char *why, size_t whylen)
{
	static const char *const required[] = {"v", "a", "b", "bh", "d", "h", "s"};
	const struct dkim_tag *v;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!dkim_tag_find(tags, n, required[i])) {
			dkim_why(why, whylen, "missing %s= tag", required[i]);
			return -1;
		}
	}
	v = dkim_tag_find(tags, n, "v");
	if (!span_ieq(v->value, v->value_len, "1")) {
		dkim_why(why, whylen, "unsupported version (v= is not 1)");
		return -1;
	}
	return 0;
}

static int sig_algorithm(const struct dkim_tag *a, struct dkim_sig *s, char *why, size_t whylen)
{
	static const char *const known[] = {"rsa-sha256", "ed25519-sha256", "rsa-sha1"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (span_ieq(a->value, a->value_len, known[i])) {
			s->algorithm = xstrdup(known[i]);
			return 0;
		}
	}
	dkim_why(why, whylen, "unsupported algorithm (a=)");
	return -1;
}

/* The domain after the last '@' of i= is d= or below it. */
static int identity_within(const char *identity, const char *domain)
{
	const char *at = strrchr(identity, '@');
	size_t il, dl = strlen(domain);
	if (!at)
		return 0;
	il = strlen(++at);
	if (il == dl)
		return strcasecmp(at, domain) == 0;
	return il > dl && at[il - dl - 1] == '.' && strcasecmp(at + il - dl, domain) == 0;
}

static int sig_names(const struct dkim_tag *tags, size_t n, struct dkim_sig *s, char *why,
                     size_t whylen)
{
	const struct dkim_tag *d = dkim_tag_find(tags, n, "d"), *sel = dkim_tag_find(tags, n, "s");
	const struct dkim_tag *i = dkim_tag_find(tags, n, "i");
	if (!dkim_name_ok(d->value, d->value_len)) {
		dkim_why(why, whylen, "invalid domain (d=)");
		return -1;
	}
	if (!dkim_name_ok(sel->value, sel->value_len) ||
	    sel->value_len + d->value_len + sizeof("._domainkey.") - 1 > 253) {
		dkim_why(why, whylen, "invalid selector (s=)");
		return -1;
	}
	s->domain = lower(tag_dup(d));
	s->selector = tag_dup(sel);
	s->identity = i ? tag_dup(i) : xasprintf("@%s", s->domain);
	if (!identity_within(s->identity, s->domain)) {
		dkim_why(why, whylen, "i= is not within d=");
		return -1;
	}
	return 0;
}

/* h=: names joined by ':', lowercase, white space removed; From needed. */
static int sig_headers(const struct dkim_tag *h, struct dkim_sig *s, char *why, size_t whylen)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = h->value, *end = h->value + h->value_len;
	size_t count = 0;
	int from = 0;
	for (;;) {
		const char *colon = memchr(p, ':', (size_t)(end - p)), *e = colon ? colon : end;
		while (p < e && is_fws((unsigned char)*p))
			p++;
		while (e > p && is_fws((unsigned char)e[-1]))
			e--;
		int bad = e == p; /* empty, or white space inside a name */
		for (const char *q = p; q < e; q++)
			bad |= !is_valchar((unsigned char)*q);
		if (bad || ++count > DKIM_MAX_SIGNED_FIELDS) {
			dkim_why(why, whylen,
			         bad ? "empty or bad field name in h="
			             : "h= lists too many fields");
			strbuf_release(&sb);
			return -1;
		}
		from |= span_ieq(p, (size_t)(e - p), "from");
		if (sb.len)
			strbuf_addch(&sb, ':');
		strbuf_add(&sb, p, (size_t)(e - p));
		if (!colon)
			break;
		p = colon + 1;
	}
	s->headers = lower(strbuf_detach(&sb));
	if (!from) {
		dkim_why(why, whylen, "h= does not include from");
		return -1;
	}
	return 0;
}

static int sig_hashes(const struct dkim_tag *tags, size_t n, struct dkim_sig *s, char *why,
                      size_t whylen)
{
	const struct dkim_tag *b = dkim_tag_find(tags, n, "b"), *bh = dkim_tag_find(tags, n, "bh");
	if (dkim_b64_decode(b->value, b->value_len, &s->b, &s->b_len, &s->b_text) < 0 ||
	    s->b_len == 0) {
		dkim_why(why, whylen, "b= is empty or not base64");
		return -1;
	}
	if (dkim_b64_decode(bh->value, bh->value_len, &s->bh, &s->bh_len, NULL) < 0 ||
	    s->bh_len == 0) {
		dkim_why(why, whylen, "bh= is empty or not base64");
		return -1;
	}
	return 0;
}

static int canon_word(const char *p, size_t len, int *relaxed)
{
	if (span_ieq(p, len, "simple"))
		*relaxed = 0;
	else if (span_ieq(p, len, "relaxed"))
		*relaxed = 1;
	else
		return -1;
	return 0;
}

/* c=: "header" or "header/body", simple by default. */
static int sig_canon(const struct dkim_tag *c, struct dkim_sig *s, char *why, size_t whylen)
{
	const char *slash;
	size_t hl;
	if (!c)
		return 0;
	slash = memchr(c->value, '/', c->value_len);
	hl = slash ? (size_t)(slash - c->value) : c->value_len;
	if (canon_word(c->value, hl, &s->header_relaxed) < 0 ||
	    (slash && canon_word(slash + 1, c->value_len - hl - 1, &s->body_relaxed) < 0)) {
		dkim_why(why, whylen, "unknown canonicalization (c=)");
		return -1;
	}
	return 0;
}

static int sig_numbers(const struct dkim_tag *tags, size_t n, struct dkim_sig *s, char *why,
                       size_t whylen)
{
	static const char *const names[] = {"l", "t", "x"};
	long long *fields[] = {&s->length, &s->timestamp, &s->expires};
	for (size_t i = 0; i < 3; i++) {
		const struct dkim_tag *t = dkim_tag_find(tags, n, names[i]);
		if (t && parse_num(t, fields[i]) < 0) {
			dkim_why(why, whylen, "%s= is not a number", names[i]);
			return -1;
		}
	}
	if (s->timestamp >= 0 && s->expires >= 0 && s->expires < s->timestamp) {
		dkim_why(why, whylen, "x= is before t=");
		return -1;
	}
	return 0;
}

int dkim_sig_parse(const char *value, struct dkim_sig *out, char *why, size_t whylen)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *q;
	size_t n;
	sig_empty(out);
	dkim_why(why, whylen, "%s", "");
	if (!value) {
		dkim_why(why, whylen, "no signature");
		return -1;
	}
	if (dkim_tags_split(value, tags, &n, why, whylen) < 0 ||
	    sig_required(tags, n, why, whylen) < 0 ||
	    sig_algorithm(dkim_tag_find(tags, n, "a"), out, why, whylen) < 0 ||
	    sig_names(tags, n, out, why, whylen) < 0 ||
	    sig_headers(dkim_tag_find(tags, n, "h"), out, why, whylen) < 0 ||
	    sig_hashes(tags, n, out, why, whylen) < 0 ||
	    sig_canon(dkim_tag_find(tags, n, "c"), out, why, whylen) < 0 ||
	    sig_numbers(tags, n, out, why, whylen) < 0)
		goto fail;
	q = dkim_tag_find(tags, n, "q");
	if (q && !list_has(q, "dns/txt")) {
		dkim_why(why, whylen, "unsupported query method (q=)");
		goto fail;
	}
	return 0;
fail:
	dkim_sig_release(out);
	return -1;
}

/* ---- key records ---- */

void dkim_keyrec_release(struct dkim_keyrec *k)
{
	if (!k)
		return;
	free(k->key);
	memset(k, 0, sizeof(*k));
}

static int key_type(const struct dkim_tag *k, struct dkim_keyrec *out, char *why, size_t whylen)
{
	static const char *const known[] = {"rsa", "ed25519"};
	if (!k) {
		snprintf(out->key_type, sizeof(out->key_type), "rsa");
		return 0;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (span_ieq(k->value, k->value_len, known[i])) {
			snprintf(out->key_type, sizeof(out->key_type), "%s", known[i]);
			return 0;
		}
	}
	dkim_why(why, whylen, "unknown key type (k=)");
	return -1;
}

static int key_data(const struct dkim_tag *p, struct dkim_keyrec *out, char *why, size_t whylen)
{
	if (!p) {
		dkim_why(why, whylen, "no p= tag");
		return -1;
	}
	if (dkim_b64_decode(p->value, p->value_len, &out->key, &out->key_len, NULL) < 0) {
		dkim_why(why, whylen, "p= is not base64");
		return -1;
	}
	if (out->key_len == 0) {
		free(out->key);
		out->key = NULL;
		out->revoked = 1;
	} else if (strcmp(out->key_type, "ed25519") == 0 && out->key_len != 32) {
		dkim_why(why, whylen, "ed25519 key is not 32 bytes");
		return -1;
	}
	return 0;
}

int dkim_keyrec_parse(const char *txt, struct dkim_keyrec *out, char *why, size_t whylen)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *v, *h, *s, *t;
	size_t n;
	memset(out, 0, sizeof(*out));
	dkim_why(why, whylen, "%s", "");
	if (!txt || dkim_tags_split(txt, tags, &n, why, whylen) < 0) {
		if (!txt)
			dkim_why(why, whylen, "no record");
		return -1;
	}
	v = dkim_tag_find(tags, n, "v");
	if (v && (v != &tags[0] || !span_ieq(v->value, v->value_len, "DKIM1"))) {
		dkim_why(why, whylen, "v= is not DKIM1, or not first");
		return -1;
	}
	h = dkim_tag_find(tags, n, "h");
	s = dkim_tag_find(tags, n, "s");
	t = dkim_tag_find(tags, n, "t");
	out->sha256_allowed = !h || list_has(h, "sha256");
	out->email_service = !s || list_has(s, "*") || list_has(s, "email");
	out->testing = t && list_has(t, "y");
	out->strict_identity = t && list_has(t, "s");
	if (key_type(dkim_tag_find(tags, n, "k"), out, why, whylen) < 0 ||
	    key_data(dkim_tag_find(tags, n, "p"), out, why, whylen) < 0) {
		dkim_keyrec_release(out);
		return -1;
	}
	return 0;
}
