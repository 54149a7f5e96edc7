/* The RFC5322.From domains of a message, for DMARC (RFC 7489 6.6.1): the
 * mailbox-list and group syntax of RFC 5322 3.4 and RFC 6854, with the
 * obsolete forms of RFC 5322 4.4 (routes, CFWS around dots, empty list
 * elements). See dmarc.h.
 *
 * Anything that leaves doubt about which domain a mail reader would show
 * makes that address malformed (domain ""), never skipped: a second '@'
 * or a second '<' without a comma, text after '>', an unclosed quote,
 * comment, literal or '<', two atoms without a dot in a domain. */
#include "dmarc.h"
#include "address.h"

#include <stdlib.h>
#include <string.h>

enum tok_kind { TK_END, TK_WORD, TK_QUOTED, TK_LITERAL, TK_SPECIAL };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t len;
	int bad; /* an unclosed quoted string, literal or comment */
};

/* One mailbox being read. */
struct mbox {
	int used;  /* something of it was seen */
	int angle; /* 0 before '<', 1 inside, 2 after '>' */
	int inner; /* tokens seen inside '<' */
	int route; /* inside an obsolete route "<@a,@b:" */
	int at;    /* '@' seen in the address being read */
	int bad;
	size_t dlen;
	char dom[256];
};

struct fromp {
	char (*domains)[256];
	size_t max, count;
	int group; /* inside "name: ... ;" */
	struct mbox m;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip white space, line ends (folding) and nested comments; an unclosed
 * comment sets '*bad' and runs to the end. */
static const char *skip_cfws(const char *p, int *bad)
{
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		for (; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				break;
		}
		if (*p)
			p++;
		else
			*bad = 1;
	}
}

/* From 'p' (the opening quote or bracket) to after the matching 'close',
 * honouring quoted pairs; '*bad' when it is not closed. */
static const char *skip_delimited(const char *p, char close, int *bad)
{
	for (p++; *p && *p != close; p++)
		if (*p == '\\' && p[1])
			p++;
	if (*p)
		return p + 1;
	*bad = 1;
	return p;
}

static const char *next_token(const char *p, struct tok *t)
{
	t->bad = 0;
	p = skip_cfws(p, &t->bad);
	t->s = p;
	if (!*p)
		t->kind = TK_END;
	else if (*p == '"')
		t->kind = TK_QUOTED, p = skip_delimited(p, '"', &t->bad);
	else if (*p == '[')
		t->kind = TK_LITERAL, p = skip_delimited(p, ']', &t->bad);
	else if (strchr("<>@,:;)]\\", *p))
		t->kind = TK_SPECIAL, p++;
	else {
		t->kind = TK_WORD;
		while (*p && !is_blank(*p) && !strchr("()<>[]:;@\\,\"", *p))
			p++;
	}
	t->len = (size_t)(p - t->s);
	return p;
}

/* Add a word or literal to the domain being read: atoms need a dot
 * between them (obs-domain allows CFWS around the dot only). */
static void domain_add(struct mbox *m, const char *s, size_t n)
{
	if (m->dlen && m->dom[m->dlen - 1] != '.' && s[0] != '.') {
		m->bad = 1;
		return;
	}
	if (m->dlen + n >= sizeof(m->dom)) {
		m->bad = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		m->dom[m->dlen++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	m->dom[m->dlen] = '\0';
}

/* Store the domain of the mailbox read (U-labels as A-labels) and start
 * the next one. */
static void finish(struct fromp *f)
{
	struct mbox *m = &f->m;
	if (m->used || m->bad) {
		char *d = f->count < f->max ? f->domains[f->count] : NULL, *alabel = NULL;
		int ok = !m->bad && m->at && m->dlen && m->angle != 1;
		int eight_bit = 0;
		for (size_t i = 0; ok && i < m->dlen; i++)
			eight_bit |= (unsigned char)m->dom[i] >= 0x80;
		if (d && ok && eight_bit && addr_domain_normalize(m->dom, &alabel, NULL) == 0 &&
		    strlen(alabel) < 256)
			memcpy(d, alabel, strlen(alabel) + 1);
		else if (d)
			memcpy(d, ok ? m->dom : "", ok ? m->dlen + 1 : 1);
		free(alabel);
		f->count++;
	}
	memset(m, 0, sizeof(*m));
}

static void on_word(struct mbox *m, const struct tok *t)
{
	if (m->angle == 2 || (t->kind == TK_QUOTED && m->at) ||
	    (t->kind == TK_LITERAL && (!m->at || m->dlen)))
		m->bad = 1;
	else if (m->at)
		domain_add(m, t->s, t->len);
}

/* '<', '>', '@' and ':' and ',' inside '<'. */
static void on_angle(struct mbox *m, char c)
{
	if (c == '<') {
		m->bad |= m->angle != 0 || m->at;
		m->angle = 1, m->at = 0, m->dlen = 0, m->inner = -1;
	} else if (c == '>') {
		m->bad |= m->angle != 1 || m->route;
		m->angle = 2;
	} else if (c == '@') {
		m->bad |= m->angle == 2 || (m->at && !m->route);
		m->route |= m->angle == 1 && m->inner == 0;
		m->at = 1, m->dlen = 0;
	} else if (c == ',' && m->route) { /* "<@a,@b:" */
		m->at = 0, m->dlen = 0;
	} else if (c == ':' && m->route) {
		m->route = 0, m->at = 0, m->dlen = 0;
	} else
		m->bad = 1;
}

static void on_special(struct fromp *f, char c)
{
	struct mbox *m = &f->m;
	if (m->angle == 1 || c == '<' || c == '>' || c == '@')
		on_angle(m, c);
	else if (c == ',')
		finish(f);
	else if (c == ';') {
		finish(f);
		f->group = 0;
	} else if (c == ':' && !f->group && !m->at && m->angle == 0 && !m->bad) {
		memset(m, 0, sizeof(*m)); /* the group's display name */
		f->group = 1;
	} else
		m->bad = 1;
}

/* Read one From value. */
static void parse_value(struct fromp *f, const char *p)
{
	struct mbox *m = &f->m;
	struct tok t;
	memset(m, 0, sizeof(*m));
	f->group = 0;
	for (;;) {
		p = next_token(p, &t);
		m->bad |= t.bad;
		if (t.kind == TK_END)
			break;
		/* list separators are not part of a mailbox */
		if (t.kind != TK_SPECIAL || m->angle == 1 || !strchr(",;:", *t.s))
			m->used = 1;
		if (t.kind == TK_SPECIAL)
			on_special(f, *t.s);
		else
			on_word(m, &t);
		m->inner++;
	}
	if (m->angle == 1)
		m->bad = 1;
	finish(f);
}

size_t dmarc_from_domains(const char *const *from_values, size_t nvalues, char (*domains)[256],
                          size_t max)
{
	struct fromp f = {.domains = domains, .max = domains ? max : 0};
	for (size_t i = 0; i < nvalues; i++)
		if (from_values[i])
			parse_value(&f, from_values[i]);
	return f.count;
}
