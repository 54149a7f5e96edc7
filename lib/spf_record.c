/* SPF records (RFC 7208 3, 4.5, 4.6, 5, 6): joining TXT strings, picking
 * the SPF record, and parsing a whole record into its terms, with every
 * syntax rule checked before anything is evaluated; see spf.h. */
#include "spf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *spf_txt_join(const ldns_rr *rr, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rd);
		size_t size = ldns_rdf_size(rd);
		if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_STR && size > 0)
			strbuf_add(&sb, d + 1, d[0] < size ? d[0] : size - 1);
	}
	*len = sb.len;
	return strbuf_detach(&sb);
}

int spf_is_record(const char *s, size_t len)
{
	return len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 && (len == 6 || s[6] == ' ');
}

size_t spf_select(const ldns_rr_list *txt, char **first, size_t *first_len)
{
	size_t n = 0, len;
	*first = NULL;
	if (first_len)
		*first_len = 0;
	for (size_t i = 0; txt && i < ldns_rr_list_rr_count(txt); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(txt, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		char *s = spf_txt_join(rr, &len);
		if (spf_is_record(s, len) && n++ == 0) {
			*first = s;
			if (first_len)
				*first_len = len;
		} else
			free(s);
	}
	return n;
}

static const struct mech_info {
	const char *name;
	int queries;
	enum { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED } arg;
	int cidr; /* 0 none, 1 dual (a, mx), 4 or 6 (ip4, ip6) */
} mechs[] = {
    [SPF_M_ALL] = {"all", 0, ARG_NONE, 0},     [SPF_M_INCLUDE] = {"include", 1, ARG_REQUIRED, 0},
    [SPF_M_A] = {"a", 1, ARG_OPTIONAL, 1},     [SPF_M_MX] = {"mx", 1, ARG_OPTIONAL, 1},
    [SPF_M_PTR] = {"ptr", 1, ARG_OPTIONAL, 0}, [SPF_M_IP4] = {"ip4", 0, ARG_REQUIRED, 4},
    [SPF_M_IP6] = {"ip6", 0, ARG_REQUIRED, 6}, [SPF_M_EXISTS] = {"exists", 1, ARG_REQUIRED, 0},
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

const char *spf_mech_name(enum spf_mech m)
{
	return (unsigned)m < NMECHS ? mechs[m].name : "?";
}

int spf_mech_queries(enum spf_mech m)
{
	return (unsigned)m < NMECHS && mechs[m].queries;
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* A prefix length "/" ( "0" / %x31-39 0*2DIGIT ) ending at 'end': its value
 * (or 999 when over three digits) and where it starts, else -1. */
static int cidr_before(const char *s, const char *end, const char **at)
{
	const char *p = end;
	while (p > s && isdigit((unsigned char)p[-1]))
		p--;
	if (p == end || p == s || p[-1] != '/' || (*p == '0' && end - p > 1))
		return -1;
	*at = p - 1;
	int v = 0;
	for (const char *q = p; q < end; q++)
		v = v < 1000 ? v * 10 + (*q - '0') : v;
	return v > 999 ? 999 : v;
}

/* Take the CIDR lengths off the end of 't's argument ('arg' .. 'end'):
 * "//n" for IPv6 then "/n" for IPv4, each optional. */
static const char *split_cidr(struct spf_term *t, const char *arg, const char *end)
{
	const char *at;
	int v = cidr_before(arg, end, &at);
	if (v >= 0 && at > arg && at[-1] == '/') {
		t->cidr6 = v;
		end = at - 1;
		v = cidr_before(arg, end, &at);
	}
	if (v >= 0) {
		t->cidr4 = v;
		end = at;
	}
	return end;
}

/* The lengths and address of ip4:/ip6: terms, and the bounds of a/mx. */
static int check_cidr(struct spf_term *t, const struct mech_info *m, char *why, size_t size)
{
	int given = t->cidr4 >= 0 || t->cidr6 >= 0;
	if (m->cidr == 0 && given)
		return bad(why, size, "'%s' takes no prefix length", t->text);
	if (m->cidr == 6) { /* ip6 writes its one length with a single slash */
		if (t->cidr6 >= 0)
			return bad(why, size, "'%s': ip6 takes one prefix length, as /n", t->text);
		t->cidr6 = t->cidr4;
		t->cidr4 = -1;
	} else if (m->cidr == 4 && t->cidr6 >= 0)
		return bad(why, size, "'%s' has an IPv6 prefix length", t->text);
	if (t->cidr4 > 32 || t->cidr6 > 128)
		return bad(why, size, "invalid prefix length in '%s'", t->text);
	if (m->cidr == 4 || m->cidr == 6) {
		if (inet_pton(m->cidr == 4 ? AF_INET : AF_INET6, t->spec, t->net) != 1)
			return bad(why, size, "invalid address in '%s'", t->text);
	} else if (t->spec && !spf_domain_spec_valid(t->spec))
		return bad(why, size, "invalid domain in '%s'", t->text);
	return 0;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "=": the length
 * of the name, or 0 when 's' is not a modifier. */
static size_t modifier_name(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	size_t n = 1 + strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "0123456789-_.");
	return s[n] == '=' ? n : 0;
}

/* A directive: [qualifier] name [":" argument] [cidr lengths]. */
static int parse_directive(char *s, struct spf_term *t, char *why, size_t size)
{
	t->text = s;
	t->cidr4 = t->cidr6 = -1;
	t->qual = strchr("+-~?", *s) ? *s++ : '+';
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	const struct mech_info *m = NULL;
	for (size_t i = 0; n && i < NMECHS; i++)
		if (strlen(mechs[i].name) == n && !strncasecmp(mechs[i].name, s, n))
			m = &mechs[i];
	if (modifier_name(s))
		return bad(why, size, "invalid term '%s': a modifier takes no qualifier", t->text);
	if (!m)
		return n ? bad(why, size, "unknown mechanism '%.*s'", (int)n, s)
		         : bad(why, size, "invalid term '%s'", t->text);
	t->mech = (enum spf_mech)(m - mechs);
	const char *rest = s + n, *end = rest + strlen(rest);
	if (*rest && *rest != ':' && *rest != '/')
		return bad(why, size, "invalid term '%s'", t->text);
	if (*rest == ':') {
		if (m->arg == ARG_NONE)
			return bad(why, size, "'%s' takes no argument", t->text);
		end = split_cidr(t, rest + 1, end);
		if (end == rest + 1)
			return bad(why, size, "'%s' needs an argument after ':'", t->text);
		t->spec = xstrndup(rest + 1, (size_t)(end - rest - 1));
	} else if (*rest) {
		if (split_cidr(t, rest, end) != rest)
			return bad(why, size, "invalid prefix length in '%s'", t->text);
	}
	if (!t->spec && m->arg == ARG_REQUIRED)
		return bad(why, size, "'%s' needs an argument", t->text);
	return check_cidr(t, m, why, size);
}

static int parse_modifier(char *s, size_t n, struct spf_record *r, char *why, size_t size)
{
	const char *value = s + n + 1;
	const char **slot = NULL;
	if (n == 8 && !strncasecmp(s, "redirect", 8))
		slot = &r->redirect;
	else if (n == 3 && !strncasecmp(s, "exp", 3))
		slot = &r->exp;
	if (!slot) /* unknown modifiers are ignored, but must be macro-strings */
		return spf_macro_check(value, 0) < 0
		           ? bad(why, size, "invalid macro in modifier '%s'", s)
		           : 0;
	if (*slot)
		return bad(why, size, "'%.*s=' appears twice", (int)n, s);
	if (!spf_domain_spec_valid(value))
		return bad(why, size, "invalid domain in '%s'", s);
	*slot = value;
	return 0;
}

/* Every byte printable ASCII: RFC 7208 3.1 (7-bit), 4.6.1 (SP only). */
static int printable(const char *s, size_t len, char *why, size_t size)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return bad(why, size,
			           "the record has a byte 0x%02x at offset %zu (only "
			           "printable ASCII is allowed)",
			           (unsigned char)s[i], i);
	return 0;
}

int spf_record_parse(const char *text, size_t len, struct spf_record *out, char *why,
                     size_t whysize)
{
	size_t alloc = 0;
	memset(out, 0, sizeof(*out));
	if (!spf_is_record(text, len))
		return bad(why, whysize, "the record does not start with v=spf1");
	if (printable(text, len, why, whysize) < 0)
		return -1;
	out->buf = xstrndup(text, len);
	for (char *p = out->buf + 6; *p;) {
		p += strspn(p, " ");
		if (!*p)
			break;
		char *term = p;
		p += strcspn(p, " ");
		if (*p)
			*p++ = '\0';
		size_t n = modifier_name(term);
		if (n) {
			if (parse_modifier(term, n, out, why, whysize) < 0)
				return -1;
			continue;
		}
		out->terms = xgrow(out->terms, &alloc, out->n + 1, sizeof(*out->terms));
		struct spf_term *t = &out->terms[out->n++];
		memset(t, 0, sizeof(*t));
		if (parse_directive(term, t, why, whysize) < 0)
			return -1;
	}
	return 0;
}

void spf_record_release(struct spf_record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->terms[i].spec);
	free(r->terms);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
