/* DKIM canonicalization (RFC 6376 3.4): header fields, the body as a
 * stream, and the bottom-up selection of signed header fields (5.4.2);
 * see dkim_msg.h. Bare LF and CRLF are both line ends; a CR not before
 * an LF is an ordinary byte. */
#include "dkim_int.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CANON_BUF 4096

struct dkim_body_canon {
	int relaxed;
	int ended;
	int cr;                   /* the last byte was a CR: a line end if an LF follows */
	int wsp;                  /* relaxed: white space since the last content, not written */
	int any;                  /* content was written */
	unsigned long long crlfs; /* line ends held back: empty lines at the end are dropped */
	unsigned long long total; /* canonical bytes handed to 'out' */
	dkim_sink_fn out;
	void *ctx;
	size_t n;
	unsigned char buf[CANON_BUF];
};

static int is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* ---- header fields ---- */

static void canon_simple(const char *name, const char *value, struct strbuf *out)
{
	strbuf_addstr(out, name);
	strbuf_addch(out, ':');
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			strbuf_addch(out, '\r');
		strbuf_addch(out, *p);
	}
	strbuf_add(out, "\r\n", 2);
}

/* Lowercase name without white space; value unfolded, runs of white
 * space as one space, none at either end. */
static void canon_relaxed(const char *name, const char *value, struct strbuf *out)
{
	const char *end = name + strlen(name);
	int space = 0, started = 0;
	while (is_wsp(*name))
		name++;
	while (end > name && is_wsp(end[-1]))
		end--;
	for (const char *p = name; p < end; p++)
		strbuf_addch(out, *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	strbuf_addch(out, ':');
	for (const char *p = value; *p; p++) {
		if (*p == '\n' || (*p == '\r' && p[1] == '\n'))
			continue;
		if (is_wsp(*p)) {
			space = started;
			continue;
		}
		if (space)
			strbuf_addch(out, ' ');
		space = 0;
		started = 1;
		strbuf_addch(out, *p);
	}
	strbuf_add(out, "\r\n", 2);
}

void dkim_canon_header_add(int relaxed, const char *name, const char *value, struct strbuf *out)
{
	if (relaxed)
		canon_relaxed(name, value, out);
	else
		canon_simple(name, value, out);
}

void dkim_canon_header(int relaxed, const char *name, const char *value, char **out, size_t *outlen)
{
	struct strbuf sb = STRBUF_INIT;
	dkim_canon_header_add(relaxed, name ? name : "", value ? value : "", &sb);
	*outlen = sb.len;
	*out = strbuf_detach(&sb);
}

int dkim_hdr_is(const char *name, const char *want, size_t wantlen)
{
	size_t n = strlen(name);
	while (n && is_wsp(name[n - 1]))
		n--;
	return n == wantlen && strncasecmp(name, want, n) == 0;
}

void dkim_select_headers(const struct dkim_msg *m, const char *hlist, int relaxed,
                         struct strbuf *out)
{
	unsigned char *used = xcalloc(m->nhdrs + 1, 1);
	for (const char *p = hlist; *p;) {
		size_t len = strcspn(p, ":");
		for (size_t i = m->nhdrs; i-- > 0;) {
			if (!used[i] && dkim_hdr_is(m->hdrs[i].name, p, len)) {
				used[i] = 1;
				dkim_canon_header_add(relaxed, m->hdrs[i].name, m->hdrs[i].value,
				                      out);
				break;
			}
		}
		p += len;
		if (*p == ':')
			p++;
	}
	free(used);
}

/* ---- the body ---- */

struct dkim_body_canon *dkim_body_canon_new(int relaxed, dkim_sink_fn out, void *ctx)
{
	struct dkim_body_canon *c = xcalloc(1, sizeof(*c));
	c->relaxed = relaxed != 0;
	c->out = out;
	c->ctx = ctx;
	return c;
}

void dkim_body_canon_free(struct dkim_body_canon *c)
{
	free(c);
}

static void flush(struct dkim_body_canon *c)
{
	if (c->n && c->out)
		c->out(c->ctx, c->buf, c->n);
	c->total += c->n;
	c->n = 0;
}

static void put(struct dkim_body_canon *c, unsigned char ch)
{
	if (c->n == CANON_BUF)
		flush(c);
	c->buf[c->n++] = ch;
}

/* A byte that is not part of a line end: held-back line ends and white
 * space go out first, now that the body goes on. */
static void content(struct dkim_body_canon *c, unsigned char ch)
{
	if (c->relaxed && is_wsp(ch)) {
		c->wsp = 1;
		return;
	}
	for (; c->crlfs; c->crlfs--) {
		put(c, '\r');
		put(c, '\n');
	}
	if (c->wsp)
		put(c, ' ');
	c->wsp = 0;
	put(c, ch);
	c->any = 1;
}

static void line_end(struct dkim_body_canon *c)
{
	c->wsp = 0; /* relaxed: white space at the end of a line goes */
	c->crlfs++;
}

/* Byte classes of the fast path: 0 copied as is; 1 white space, which
 * relaxed canonicalization may change; 2 never (CR, LF). */
static const unsigned char byte_class[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 2, ['\n'] = 2};

/* 1 for the bytes that are copied as they are: anything but CR and LF,
 * and for relaxed but white space too. */
static int plain(const struct dkim_body_canon *c, unsigned char ch)
{
	return byte_class[ch] < (c->relaxed ? 1 : 2);
}

/* A run of plain bytes with nothing held back: copied straight to the
 * buffer, the common case of a body. A single space between two plain
 * bytes stays in the run too (relaxed leaves it as it is); other white
 * space and line ends end it, for the byte-wise path. Returns how many
 * bytes it took (at least one: 'p[0]' is plain). */
static size_t copy_run(struct dkim_body_canon *c, const unsigned char *p, size_t len)
{
	/* The count and buffer in locals: a byte stored through c->buf could
	 * alias c->n for the compiler, which would reload it every byte. */
	unsigned char *buf = c->buf;
	unsigned char stop = c->relaxed ? 1 : 2; /* the classes from it on end a word */
	size_t i = 0, n = c->n;
	for (;;) {
		if (n == CANON_BUF) {
			c->n = n;
			flush(c);
			n = 0;
		}
		size_t end = i + (len - i < CANON_BUF - n ? len - i : CANON_BUF - n);
		while (i < end && byte_class[p[i]] < stop)
			buf[n++] = p[i++];
		if (i < end && c->relaxed && p[i] == ' ' && i + 1 < len &&
		    byte_class[p[i + 1]] == 0) {
			buf[n++] = p[i++];
			continue;
		}
		if (i == end && i < len)
			continue; /* the buffer is full: flush and go on */
		break;
	}
	c->n = n;
	c->any |= i > 0;
	return i;
}

/* One byte the slow way: line ends, held-back white space, a bare CR. */
static void feed_byte(struct dkim_body_canon *c, unsigned char ch)
{
	if (c->cr) {
		c->cr = 0;
		if (ch == '\n') {
			line_end(c);
			return;
		}
		content(c, '\r');
	}
	if (ch == '\r')
		c->cr = 1;
	else if (ch == '\n')
		line_end(c);
	else
		content(c, ch);
}

void dkim_body_canon_feed(struct dkim_body_canon *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!c || c->ended || !data)
		return;
	for (size_t i = 0; i < len;) {
		if (!c->cr && !c->crlfs && !c->wsp && plain(c, p[i]))
			i += copy_run(c, p + i, len - i);
		else
			feed_byte(c, p[i++]);
	}
	flush(c);
}

/* The last content line ends with one CRLF, whether or not it had one;
 * an empty body is CRLF for simple and stays empty for relaxed. */
unsigned long long dkim_body_canon_end(struct dkim_body_canon *c)
{
	if (!c)
		return 0;
	if (!c->ended) {
		if (c->cr)
			content(c, '\r');
		if (c->any || !c->relaxed) {
			put(c, '\r');
			put(c, '\n');
		}
		c->cr = c->wsp = 0;
		c->crlfs = 0;
		flush(c);
		c->ended = 1;
	}
	return c->total;
}
