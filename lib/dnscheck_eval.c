/* The pure parts of the DNS check: record comparison, SPF evaluation
 * (RFC 7208) and DMARC parsing (RFC 7489); see dnscheck.h. */
#include "dnscheck.h"
#include "strbuf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- records ---- */

char *dnscheck_txt(const ldns_rr *rr)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rd);
		if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_STR && ldns_rdf_size(rd) > 0)
			strbuf_add(&sb, d + 1,
			           d[0] < ldns_rdf_size(rd) ? d[0] : ldns_rdf_size(rd) - 1);
	}
	return strbuf_detach(&sb);
}

/* 's' trimmed, with every run of blanks as one space (caller frees). */
static char *squeeze(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (s += strspn(s, " \t"); *s;) {
		size_t n = strcspn(s, " \t");
		strbuf_addf(&sb, "%s%.*s", sb.len ? " " : "", (int)n, s);
		s += n;
		s += strspn(s, " \t");
	}
	return strbuf_detach(&sb);
}

static int txt_equal(const char *a, const char *b)
{
	char *x = squeeze(a), *y = squeeze(b);
	int eq = strcmp(x, y) == 0;
	free(x);
	free(y);
	return eq;
}

int dnscheck_rr_equal(const struct dnsrec *expected, const ldns_rr *found)
{
	ldns_rr *want = NULL;
	if (ldns_rr_new_frm_str(&want, expected->zone, 0, NULL, NULL) != LDNS_STATUS_OK)
		return 0;
	int eq = ldns_rr_get_type(want) == ldns_rr_get_type(found);
	if (eq && ldns_rr_get_type(want) == LDNS_RR_TYPE_TXT) {
		char *got = dnscheck_txt(found);
		eq = txt_equal(expected->value, got);
		free(got);
	} else if (eq) {
		ldns_rr *have = ldns_rr_clone(found);
		ldns_rr2canonical(want);
		ldns_rr2canonical(have);
		eq = ldns_rr_rd_count(want) == ldns_rr_rd_count(have);
		for (size_t i = 0; eq && i < ldns_rr_rd_count(want); i++)
			eq = ldns_rdf_compare(ldns_rr_rdf(want, i), ldns_rr_rdf(have, i)) == 0;
		ldns_rr_free(have);
	}
	ldns_rr_free(want);
	return eq;
}

enum dnscheck_status dnscheck_compare(const struct dnsrec *expected, const ldns_rr_list *found)
{
	size_t n = found ? ldns_rr_list_rr_count(found) : 0;
	if (n == 0)
		return DNSCHECK_MISSING;
	for (size_t i = 0; i < n; i++)
		if (dnscheck_rr_equal(expected, ldns_rr_list_rr(found, i)))
			return DNSCHECK_OK;
	return DNSCHECK_DIFFERENT;
}

/* ---- SPF ---- */

const char *dnscheck_spf_result_name(enum dnscheck_spf_result r)
{
	static const char *const names[] = {"none",     "neutral",   "pass",      "fail",
	                                    "softfail", "temperror", "permerror", "pending"};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

/* 1 when 's' starts an SPF record: "v=spf1", then a blank or the end. */
static int is_spf(const char *s)
{
	return strncasecmp(s, "v=spf1", 6) == 0 && (s[6] == '\0' || s[6] == ' ');
}

size_t dnscheck_spf_select(const ldns_rr_list *txt, char **first)
{
	size_t n = 0;
	*first = NULL;
	for (size_t i = 0; txt && i < ldns_rr_list_rr_count(txt); i++) {
		char *s = dnscheck_txt(ldns_rr_list_rr(txt, i));
		if (is_spf(s) && n++ == 0)
			*first = s;
		else
			free(s);
	}
	return n;
}

/* One term of a record: "[qualifier]name[:arg][/cidr4][//cidr6]" or
 * "name=arg". */
struct term {
	char qual;
	char name[16];
	int modifier;
	char arg[256];
	int cidr4, cidr6; /* -1: not given */
};

static int parse_cidr(const char *s, int *c4, int *c6)
{
	char *end;
	*c4 = *c6 = -1;
	if (*s == '/' && s[1] != '/') {
		long v = strtol(s + 1, &end, 10);
		if (end == s + 1 || v < 0 || v > 32)
			return -1;
		*c4 = (int)v;
		s = end;
	}
	if (s[0] == '/' && s[1] == '/') {
		long v = strtol(s + 2, &end, 10);
		if (end == s + 2 || v < 0 || v > 128)
			return -1;
		*c6 = (int)v;
		s = end;
	}
	return *s ? -1 : 0;
}

static int parse_term(const char *s, size_t len, struct term *t)
{
	char buf[512];
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *p = buf;
	memset(t, 0, sizeof(*t));
	int qualified = *p && strchr("+-~?", *p);
	t->qual = qualified ? *p++ : '+';
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
	if (n == 0 || n >= sizeof(t->name))
		return -1;
	for (size_t i = 0; i < n; i++)
		t->name[i] = (char)tolower((unsigned char)p[i]);
	p += n;
	if (*p == '=') {
		t->modifier = 1;
		snprintf(t->arg, sizeof(t->arg), "%s", p + 1);
		return qualified ? -1 : 0;
	}
	char *slash = strchr(p, '/');
	if (*p == ':') {
		size_t alen = slash ? (size_t)(slash - p - 1) : strlen(p + 1);
		if (alen == 0 || alen >= sizeof(t->arg))
			return -1;
		memcpy(t->arg, p + 1, alen);
		p += 1 + alen;
	}
	if (*p && *p != '/')
		return -1;
	if (!strcmp(t->name, "ip4") || !strcmp(t->name, "ip6")) {
		/* one prefix length, written '/n' for either family */
		int six = t->name[2] == '6';
		char *end;
		t->cidr4 = t->cidr6 = -1;
		if (!*p)
			return 0;
		long v = strtol(p + 1, &end, 10);
		if (end == p + 1 || *end || v < 0 || v > (six ? 128 : 32))
			return -1;
		*(six ? &t->cidr6 : &t->cidr4) = (int)v;
		return 0;
	}
	return parse_cidr(p, &t->cidr4, &t->cidr6);
}

struct ipaddr {
	int family;
	unsigned char b[16];
};

static int parse_ip(const char *s, struct ipaddr *ip)
{
	if (inet_pton(AF_INET, s, ip->b) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->b) == 1)
		ip->family = AF_INET6;
	else
		return -1;
	return 0;
}

static int in_prefix(const struct ipaddr *ip, const unsigned char *net, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(ip->b, net, (size_t)bytes) != 0)
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (ip->b[bytes] & mask) == (net[bytes] & mask);
}

/* An address record's data against 'ip' with the term's prefix lengths. */
static int rr_matches(const ldns_rr *rr, const struct ipaddr *ip, const struct term *t)
{
	const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
	size_t size = ip->family == AF_INET ? 4 : 16;
	if (!rd || ldns_rdf_size(rd) != size)
		return 0;
	int bits = ip->family == AF_INET ? (t->cidr4 >= 0 ? t->cidr4 : 32)
	                                 : (t->cidr6 >= 0 ? t->cidr6 : 128);
	return in_prefix(ip, ldns_rdf_data(rd), bits);
}

/* The state of one evaluation. */
struct spf {
	dnsq_lookup_fn fn;
	void *ctx;
	int lookups, voids, depth;
	char stack[24][256]; /* the include chain, to find loops */
	struct dnscheck_spf *out;
};

enum look { L_FOUND, L_NONE, L_PENDING, L_FAIL };

static enum look ask(struct spf *s, const char *name, ldns_rr_type type, const ldns_rr_list **rrs)
{
	struct dnsq_answer a = {0};
	size_t len = strlen(name);
	char *abs = len && name[len - 1] == '.' ? xstrdup(name) : xasprintf("%s.", name);
	s->fn(s->ctx, abs, type, &a);
	free(abs);
	*rrs = a.rrs;
	switch (a.status) {
	case DNSQ_ANSWER:
		return L_FOUND;
	case DNSQ_NODATA:
	case DNSQ_NXDOMAIN:
		return L_NONE;
	case DNSQ_PENDING:
		return L_PENDING;
	default:
		return L_FAIL;
	}
}

__attribute__((format(printf, 2, 3))) static void problem(struct spf *s, const char *fmt, ...)
{
	va_list ap;
	if (!s->out || s->out->problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->out->problem, sizeof(s->out->problem), fmt, ap);
	va_end(ap);
}

static int has_macro(const char *s)
{
	return strchr(s, '%') != NULL;
}

/* Call 'fn' for each term after "v=spf1"; stops when it returns non-zero. */
static int each_term(const char *record, int (*fn)(const char *t, size_t n, void *ctx), void *ctx)
{
	const char *p = record + 6;
	for (p += strspn(p, " "); *p; p += strspn(p, " ")) {
		size_t n = strcspn(p, " ");
		int rc = fn(p, n, ctx);
		if (rc)
			return rc;
		p += n;
	}
	return 0;
}

/* ---- counting: every term of every record, all branches ---- */

static void count_record(struct spf *s, const char *domain, const char *record, int top);

/* The SPF record at 'target', counted in turn. */
static void count_follow(struct spf *s, const char *via, const char *target)
{
	const ldns_rr_list *rrs;
	char *rec = NULL;
	if (has_macro(target) || s->lookups > 2 * SPF_MAX_LOOKUPS)
		return; /* macros need a sender; past twice the limit the point is made */
	if (s->depth >= (int)(sizeof(s->stack) / sizeof(s->stack[0])))
		return; /* only reached past the limit too */
	for (int i = 0; i < s->depth; i++)
		if (!strcasecmp(s->stack[i], target)) {
			problem(s, "'%s:%s' loops back to a record already included", via, target);
			return;
		}
	switch (ask(s, target, LDNS_RR_TYPE_TXT, &rrs)) {
	case L_PENDING:
		s->out->pending++;
		return;
	case L_FAIL:
		s->out->tempfail++;
		return;
	case L_NONE:
		s->voids++;
		problem(s, "'%s:%s' has no SPF record", via, target);
		return;
	case L_FOUND:
		break;
	}
	size_t n = dnscheck_spf_select(rrs, &rec);
	if (n == 0)
		problem(s, "'%s:%s' has no SPF record", via, target);
	else if (n > 1)
		problem(s, "'%s:%s' has %zu SPF records", via, target, n);
	else {
		snprintf(s->stack[s->depth++], sizeof(s->stack[0]), "%s", target);
		count_record(s, target, rec, 0);
		s->depth--;
	}
	free(rec);
}

/* A lookup whose emptiness counts as void. */
static void count_void(struct spf *s, const char *target, const ldns_rr_type *types, size_t ntypes)
{
	const ldns_rr_list *rrs;
	int none = 0;
	if (has_macro(target))
		return;
	for (size_t i = 0; i < ntypes; i++) {
		enum look l = ask(s, target, types[i], &rrs);
		if (l == L_PENDING)
			s->out->pending++;
		else if (l == L_FAIL)
			s->out->tempfail++;
		none += l == L_NONE;
	}
	if (none == (int)ntypes)
		s->voids++;
}

struct count_ctx {
	struct spf *s;
	const char *domain;
	int top;
};

/* The mechanisms of RFC 7208 5: which cost a DNS lookup, what their
 * void-lookup test asks, and whether they take an argument. */
enum arg { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED };
static const struct mechanism {
	const char *name;
	int lookup;
	ldns_rr_type asks[2]; /* 0-terminated */
	enum arg arg;
} mechanisms[] = {
    {"all", 0, {0}, ARG_NONE},
    {"include", 1, {0}, ARG_REQUIRED}, /* followed, not just asked */
    {"a", 1, {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}, ARG_OPTIONAL},
    {"mx", 1, {LDNS_RR_TYPE_MX}, ARG_OPTIONAL},
    {"ptr", 1, {0}, ARG_OPTIONAL},
    {"ip4", 0, {0}, ARG_REQUIRED},
    {"ip6", 0, {0}, ARG_REQUIRED},
    {"exists", 1, {LDNS_RR_TYPE_A}, ARG_REQUIRED},
};

static const struct mechanism *find_mechanism(const char *name)
{
	for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
		if (!strcmp(mechanisms[i].name, name))
			return &mechanisms[i];
	return NULL;
}

/* A modifier: only redirect= costs a lookup; unknown ones are ignored. */
static void count_modifier(struct count_ctx *c, const struct term *t)
{
	if (strcmp(t->name, "redirect"))
		return;
	c->s->lookups++;
	c->s->out->has_redirect |= c->top;
	count_follow(c->s, "redirect=", t->arg);
}

static int count_term(const char *text, size_t len, void *ctx)
{
	struct count_ctx *c = ctx;
	struct spf *s = c->s;
	struct term t;
	struct ipaddr ip;
	const struct mechanism *m = NULL;
	if (parse_term(text, len, &t) < 0)
		problem(s, "invalid term '%.*s' in the record of '%s'", (int)len, text, c->domain);
	else if (t.modifier)
		count_modifier(c, &t);
	else if (!(m = find_mechanism(t.name)))
		problem(s, "unknown mechanism '%s' in the record of '%s'", t.name, c->domain);
	else if ((m->arg == ARG_REQUIRED && !t.arg[0]) || (m->arg == ARG_NONE && t.arg[0]))
		problem(s, "'%.*s' %s in the record of '%s'", (int)len, text,
		        t.arg[0] ? "takes no argument" : "needs an argument", c->domain);
	else {
		s->lookups += m->lookup;
		if (!strncmp(m->name, "ip", 2) &&
		    (parse_ip(t.arg, &ip) < 0 ||
		     ip.family != (m->name[2] == '4' ? AF_INET : AF_INET6)))
			problem(s, "invalid address in '%.*s'", (int)len, text);
		else if (!strcmp(m->name, "all") && c->top)
			s->out->all = t.qual;
		else if (!strcmp(m->name, "include"))
			count_follow(s, "include", t.arg);
		else if (m->asks[0])
			count_void(s, t.arg[0] ? t.arg : c->domain, m->asks, m->asks[1] ? 2 : 1);
	}
	return 0;
}

static void count_record(struct spf *s, const char *domain, const char *record, int top)
{
	struct count_ctx c = {s, domain, top};
	each_term(record, count_term, &c);
}

void dnscheck_spf_count(const char *domain, const char *record, dnsq_lookup_fn fn, void *ctx,
                        struct dnscheck_spf *out)
{
	struct spf s = {.fn = fn, .ctx = ctx, .out = out};
	memset(out, 0, sizeof(*out));
	if (!is_spf(record)) {
		snprintf(out->problem, sizeof(out->problem),
		         "the record does not start with v=spf1");
		return;
	}
	snprintf(s.stack[s.depth++], sizeof(s.stack[0]), "%s", domain);
	count_record(&s, domain, record, 1);
	out->lookups = s.lookups;
	out->voids = s.voids;
}

/* ---- check_host(): one address, in order, stopping at the first match ---- */

static enum dnscheck_spf_result host_domain(struct spf *s, const char *domain,
                                            const struct ipaddr *ip);

static enum dnscheck_spf_result qual_result(char q)
{
	return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

/* The lookup budget: past it the evaluation is a permanent error. */
static int spend(struct spf *s)
{
	return ++s->lookups > SPF_MAX_LOOKUPS ? -1 : 0;
}

/* Ask for 'name'/'type' while evaluating: 1 with '*rrs' set when records
 * exist, 0 for a (counted) void lookup, or a negative -(result) to stop
 * with (pending, temperror, or permerror past the void limit). */
static int lookup(struct spf *s, const char *name, ldns_rr_type type, const ldns_rr_list **rrs)
{
	switch (ask(s, name, type, rrs)) {
	case L_PENDING:
		return -SPF_PENDING;
	case L_FAIL:
		return -SPF_TEMPERROR;
	case L_NONE:
		return ++s->voids > SPF_MAX_VOID ? -SPF_PERMERROR : 0;
	default:
		return 1;
	}
}

/* 1 match, 0 no match, or a negative -(result) to stop with. */
static int addr_match(struct spf *s, const char *name, const struct ipaddr *ip,
                      const struct term *t)
{
	const ldns_rr_list *rrs;
	ldns_rr_type type = ip->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
	int found = lookup(s, name, type, &rrs);
	if (found <= 0)
		return found;
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
		if (rr_matches(ldns_rr_list_rr(rrs, i), ip, t))
			return 1;
	return 0;
}

static int mx_match(struct spf *s, const char *name, const struct ipaddr *ip, const struct term *t)
{
	const ldns_rr_list *rrs;
	int rc = lookup(s, name, LDNS_RR_TYPE_MX, &rrs);
	if (rc <= 0)
		return rc;
	rc = 0; /* records found: now look for a match among their hosts */
	for (size_t i = 0; rc == 0 && i < ldns_rr_list_rr_count(rrs) && i < 10; i++) {
		const ldns_rdf *ex = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 1);
		char *host = ex ? ldns_rdf2str(ex) : NULL;
		if (host && strcmp(host, ".") != 0)
			rc = addr_match(s, host, ip, t);
		free(host);
	}
	return rc;
}

static int include_match(struct spf *s, const char *target, const struct ipaddr *ip)
{
	if (has_macro(target))
		return 0;
	switch (host_domain(s, target, ip)) {
	case SPF_PASS:
		return 1;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return 0;
	case SPF_TEMPERROR:
		return -SPF_TEMPERROR;
	case SPF_PENDING:
		return -SPF_PENDING;
	default:
		return -SPF_PERMERROR;
	}
}

/* Whether term 't' of 'domain' matches: 1, 0, or -(result). */
static int term_match(struct spf *s, const char *domain, const struct term *t,
                      const struct ipaddr *ip)
{
	const char *target = t->arg[0] ? t->arg : domain;
	struct ipaddr net;
	const ldns_rr_list *rrs;
	const struct mechanism *m = find_mechanism(t->name);
	if (!m || (m->arg == ARG_REQUIRED && !t->arg[0]) || (m->arg == ARG_NONE && t->arg[0]))
		return -SPF_PERMERROR;
	if (!strcmp(t->name, "all"))
		return 1;
	if (!strcmp(t->name, "ip4") || !strcmp(t->name, "ip6")) {
		if (parse_ip(t->arg, &net) < 0 ||
		    net.family != (t->name[2] == '4' ? AF_INET : AF_INET6))
			return -SPF_PERMERROR;
		int bits = net.family == AF_INET ? (t->cidr4 >= 0 ? t->cidr4 : 32)
		                                 : (t->cidr6 >= 0 ? t->cidr6 : 128);
		return net.family == ip->family && in_prefix(ip, net.b, bits);
	}
	if (spend(s) < 0)
		return -SPF_PERMERROR;
	if (has_macro(target) || !strcmp(t->name, "ptr"))
		return 0; /* needs the sender, or the deprecated ptr: not evaluated */
	if (!strcmp(t->name, "a"))
		return addr_match(s, target, ip, t);
	if (!strcmp(t->name, "mx"))
		return mx_match(s, target, ip, t);
	if (!strcmp(t->name, "include"))
		return include_match(s, target, ip);
	return lookup(s, target, LDNS_RR_TYPE_A, &rrs); /* exists */
}

struct host_ctx {
	struct spf *s;
	const char *domain;
	const struct ipaddr *ip;
	char redirect[256];
	enum dnscheck_spf_result result;
};

static int host_term(const char *text, size_t len, void *ctx)
{
	struct host_ctx *h = ctx;
	struct term t;
	if (parse_term(text, len, &t) < 0) {
		h->result = SPF_PERMERROR;
		return 1;
	}
	if (t.modifier) {
		if (!strcmp(t.name, "redirect"))
			snprintf(h->redirect, sizeof(h->redirect), "%s", t.arg);
		return 0;
	}
	int m = term_match(h->s, h->domain, &t, h->ip);
	if (m < 0)
		h->result = (enum dnscheck_spf_result)(-m);
	else if (m > 0)
		h->result = qual_result(t.qual);
	return m != 0;
}

static enum dnscheck_spf_result host_record(struct spf *s, const char *domain, const char *record,
                                            const struct ipaddr *ip)
{
	struct host_ctx h = {.s = s, .domain = domain, .ip = ip, .result = SPF_NEUTRAL};
	if (each_term(record, host_term, &h))
		return h.result;
	if (!h.redirect[0] || has_macro(h.redirect))
		return SPF_NEUTRAL;
	if (spend(s) < 0)
		return SPF_PERMERROR;
	enum dnscheck_spf_result r = host_domain(s, h.redirect, ip);
	return r == SPF_NONE ? SPF_PERMERROR : r;
}

static enum dnscheck_spf_result host_domain(struct spf *s, const char *domain,
                                            const struct ipaddr *ip)
{
	const ldns_rr_list *rrs;
	char *rec = NULL;
	if (s->depth >= (int)(sizeof(s->stack) / sizeof(s->stack[0])))
		return SPF_PERMERROR;
	switch (ask(s, domain, LDNS_RR_TYPE_TXT, &rrs)) {
	case L_PENDING:
		return SPF_PENDING;
	case L_FAIL:
		return SPF_TEMPERROR;
	case L_NONE:
		return ++s->voids > SPF_MAX_VOID ? SPF_PERMERROR : SPF_NONE;
	case L_FOUND:
		break;
	}
	size_t n = dnscheck_spf_select(rrs, &rec);
	enum dnscheck_spf_result r = n == 0 ? SPF_NONE : SPF_PERMERROR;
	if (n == 1) {
		s->depth++;
		r = host_record(s, domain, rec, ip);
		s->depth--;
	}
	free(rec);
	return r;
}

enum dnscheck_spf_result dnscheck_spf_host(const char *domain, const char *record, const char *ip,
                                           dnsq_lookup_fn fn, void *ctx)
{
	struct spf s = {.fn = fn, .ctx = ctx};
	struct ipaddr addr;
	if (parse_ip(ip, &addr) < 0 || !is_spf(record))
		return SPF_PERMERROR;
	return host_record(&s, domain, record, &addr);
}

/* ---- DMARC ---- */

int dnscheck_dmarc_strength(const char *policy)
{
	static const char *const order[] = {"none", "quarantine", "reject"};
	for (int i = 0; i < 3; i++)
		if (!strcasecmp(policy, order[i]))
			return i;
	return -1;
}

/* Value checks of the known tags (RFC 7489 6.3, and np/psd/t of DMARCbis). */
static int valid_uris(const char *v)
{
	for (const char *p = v; *p; p += *p == ',') {
		size_t n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		p += strspn(p, " ");
		const char *colon = memchr(p, ':', n);
		if (!colon || colon == p)
			return 0;
		p += strcspn(p, ",");
	}
	return *v != '\0';
}

static int valid_fo(const char *v)
{
	for (const char *p = v; *p; p += *p == ':') {
		size_t n = strcspn(p, ":");
		if (n != 1 || !strchr("01ds", *p))
			return 0;
		p += n;
	}
	return *v != '\0';
}

static int valid_int(const char *v, long min, long max)
{
	char *end;
	long n = strtol(v, &end, 10);
	return *v && !*end && n >= min && n <= max;
}

/* Check and store one tag; returns NULL or what is wrong. */
static const char *dmarc_tag(struct dnscheck_dmarc *d, const char *tag, const char *v)
{
	if (!strcmp(tag, "p") || !strcmp(tag, "sp") || !strcmp(tag, "np")) {
		if (dnscheck_dmarc_strength(v) < 0)
			return "must be none, quarantine or reject";
		/* v is now one of the three policy words, which all fit */
		if (tag[0] != 'n')
			memcpy(tag[0] == 'p' ? d->p : d->sp, v, strlen(v) + 1);
	} else if (!strcmp(tag, "adkim") || !strcmp(tag, "aspf")) {
		if (strcmp(v, "r") && strcmp(v, "s"))
			return "must be r (relaxed) or s (strict)";
		*(tag[1] == 'd' ? &d->adkim : &d->aspf) = v[0];
	} else if (!strcmp(tag, "rua") || !strcmp(tag, "ruf")) {
		if (!valid_uris(v))
			return "must be a comma-separated list of URIs such as "
			       "mailto:dmarc@example.org";
		if (tag[2] == 'a')
			snprintf(d->rua, sizeof(d->rua), "%s", v);
	} else if (!strcmp(tag, "pct")) {
		if (!valid_int(v, 0, 100))
			return "must be a whole number from 0 to 100";
		d->pct = atoi(v);
	} else if (!strcmp(tag, "ri")) {
		if (!valid_int(v, 0, 2147483647))
			return "must be a number of seconds";
	} else if (!strcmp(tag, "fo")) {
		if (!valid_fo(v))
			return "must be 0, 1, d or s, separated by ':'";
	} else if (!strcmp(tag, "rf")) {
		if (strcasecmp(v, "afrf"))
			return "must be afrf";
	} else if (!strcmp(tag, "psd")) {
		if (strcmp(v, "y") && strcmp(v, "n") && strcmp(v, "u"))
			return "must be y, n or u";
	} else if (!strcmp(tag, "t")) {
		if (strcmp(v, "y") && strcmp(v, "n"))
			return "must be y or n";
	} else
		return "unknown"; /* not an error: receivers ignore it */
	return NULL;
}

/* Split "tag=value" out of 's' (trimmed) into 'tag' and 'val'. */
static int split_tag(const char *s, size_t n, char *tag, size_t tsize, char *val, size_t vsize)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return -1;
	size_t tl = (size_t)(eq - s);
	while (tl && isspace((unsigned char)s[tl - 1]))
		tl--;
	const char *v = eq + 1;
	size_t vl = n - (size_t)(v - s);
	while (vl && isspace((unsigned char)*v))
		v++, vl--;
	if (tl == 0 || tl >= tsize || vl >= vsize)
		return -1;
	snprintf(tag, tsize, "%.*s", (int)tl, s);
	snprintf(val, vsize, "%.*s", (int)vl, v);
	return 0;
}

__attribute__((format(printf, 2, 3))) static int dmarc_fail(struct dnscheck_dmarc *d,
                                                            const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->problem, sizeof(d->problem), fmt, ap);
	va_end(ap);
	return -1;
}

int dnscheck_dmarc_parse(const char *txt, struct dnscheck_dmarc *out)
{
	char tag[32], val[256], seen[512] = " ";
	memset(out, 0, sizeof(*out));
	out->adkim = out->aspf = 'r';
	out->pct = 100;
	int first = 1;
	for (const char *p = txt; *p; first = 0) {
		size_t n = strcspn(p, ";");
		if (strspn(p, " \t") >= n) { /* an empty part: a final ';' */
			p += n + (p[n] == ';');
			continue;
		}
		if (split_tag(p, n, tag, sizeof(tag), val, sizeof(val)) < 0)
			return dmarc_fail(out, "'%.*s' is not tag=value", (int)(n > 60 ? 60 : n),
			                  p);
		if (first && (strcmp(tag, "v") || strcmp(val, "DMARC1")))
			return dmarc_fail(out, "the record must start with v=DMARC1, not '%s=%s'",
			                  tag, val);
		char key[40];
		snprintf(key, sizeof(key), " %s ", tag);
		if (strstr(seen, key))
			return dmarc_fail(out, "tag '%s' appears twice", tag);
		if (strlen(seen) + strlen(key) < sizeof(seen))
			strcat(seen, key + 1);
		const char *why = first ? NULL : dmarc_tag(out, tag, val);
		if (why && !strcmp(why, "unknown")) {
			size_t u = strlen(out->unknown);
			snprintf(out->unknown + u, sizeof(out->unknown) - u, "%s%s", u ? ", " : "",
			         tag);
		} else if (why)
			return dmarc_fail(out, "%s=%s: %s", tag, val, why);
		p += n + (p[n] == ';');
	}
	if (!strstr(seen, " v "))
		return dmarc_fail(out, "the record must start with v=DMARC1");
	if (!out->p[0])
		return dmarc_fail(out, "the record has no p= policy tag");
	return 0;
}
