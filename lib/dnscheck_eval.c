/* The pure parts of the DNS check: record comparison and the static count
 * of an SPF include tree (check_host() itself is spf.c's); DMARC records
 * are parsed by dmarc.c. See dnscheck.h. */
#include "dnscheck.h"
#include "strbuf.h"
#include "xalloc.h"

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

/* ---- SPF: the lookups of a whole include tree ---- */

/* The state of one count. */
struct count {
	dnsq_lookup_fn fn;
	void *ctx;
	int depth;
	char stack[24][256]; /* the include chain, to find loops */
	struct dnscheck_spf *out;
};

enum look { L_FOUND, L_NONE, L_PENDING, L_FAIL };

static enum look ask(struct count *c, const char *name, ldns_rr_type type, const ldns_rr_list **rrs)
{
	struct dnsq_answer a = {0};
	size_t len = strlen(name);
	char *abs = len && name[len - 1] == '.' ? xstrdup(name) : xasprintf("%s.", name);
	c->fn(c->ctx, abs, type, &a);
	free(abs);
	*rrs = a.rrs;
	switch (a.status) {
	case DNSQ_ANSWER:
		return L_FOUND;
	case DNSQ_NODATA:
	case DNSQ_NXDOMAIN:
		return L_NONE;
	case DNSQ_PENDING:
		c->out->pending++;
		return L_PENDING;
	default:
		c->out->tempfail++;
		return L_FAIL;
	}
}

__attribute__((format(printf, 2, 3))) static void problem(struct count *c, const char *fmt, ...)
{
	va_list ap;
	if (c->out->problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->out->problem, sizeof(c->out->problem), fmt, ap);
	va_end(ap);
}

static int has_macro(const char *s)
{
	return strchr(s, '%') != NULL;
}

static void count_record(struct count *c, const char *domain, const char *text, size_t len,
                         int top);

/* The SPF record at 'target' ('via' is "include:" or "redirect="), counted
 * in turn. */
static void count_follow(struct count *c, const char *via, const char *target)
{
	const ldns_rr_list *rrs;
	char *rec = NULL;
	size_t len;
	if (has_macro(target) || c->out->lookups > 2 * SPF_MAX_LOOKUPS)
		return; /* macros need a sender; past twice the limit the point is made */
	if (c->depth >= (int)(sizeof(c->stack) / sizeof(c->stack[0])))
		return; /* only reached past the limit too */
	for (int i = 0; i < c->depth; i++)
		if (!strcasecmp(c->stack[i], target)) {
			problem(c, "'%s%s' loops back to a record already included", via, target);
			return;
		}
	enum look l = ask(c, target, LDNS_RR_TYPE_TXT, &rrs);
	if (l == L_PENDING || l == L_FAIL)
		return;
	size_t n = l == L_FOUND ? spf_select(rrs, &rec, &len) : 0;
	c->out->voids += l == L_NONE;
	if (n == 0)
		problem(c, "'%s%s' has no SPF record", via, target);
	else if (n > 1)
		problem(c, "'%s%s' has %zu SPF records", via, target, n);
	else {
		snprintf(c->stack[c->depth++], sizeof(c->stack[0]), "%s", target);
		count_record(c, target, rec, len, 0);
		c->depth--;
	}
	free(rec);
}

/* A lookup whose emptiness counts as void: asked for every type in
 * 'types', void when none has records. */
static void count_void(struct count *c, const char *target, const ldns_rr_type *types,
                       size_t ntypes)
{
	const ldns_rr_list *rrs;
	size_t none = 0;
	if (has_macro(target))
		return;
	for (size_t i = 0; i < ntypes; i++)
		none += ask(c, target, types[i], &rrs) == L_NONE;
	c->out->voids += none == ntypes;
}

static void count_term(struct count *c, const char *domain, const struct spf_term *t, int top)
{
	static const ldns_rr_type addr[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
	static const ldns_rr_type mx[] = {LDNS_RR_TYPE_MX};
	const char *target = t->spec ? t->spec : domain;
	c->out->lookups += spf_mech_queries(t->mech);
	switch (t->mech) {
	case SPF_M_ALL:
		if (top)
			c->out->all = t->qual;
		break;
	case SPF_M_INCLUDE:
		count_follow(c, "include:", target);
		break;
	case SPF_M_A:
		count_void(c, target, addr, 2);
		break;
	case SPF_M_MX:
		count_void(c, target, mx, 1);
		break;
	case SPF_M_EXISTS:
		count_void(c, target, addr, 1);
		break;
	default: /* ptr asks about the client, ip4/ip6 nothing */
		break;
	}
}

static void count_record(struct count *c, const char *domain, const char *text, size_t len, int top)
{
	struct spf_record rec;
	char why[200];
	if (spf_record_parse(text, len, &rec, why, sizeof(why)) < 0)
		problem(c, "%s, in the record of '%s'", why, domain);
	else {
		for (size_t i = 0; i < rec.n; i++)
			count_term(c, domain, &rec.terms[i], top);
		if (rec.redirect) {
			c->out->lookups++;
			c->out->has_redirect |= top;
			count_follow(c, "redirect=", rec.redirect);
		}
	}
	spf_record_release(&rec);
}

void dnscheck_spf_count(const char *domain, const char *record, dnsq_lookup_fn fn, void *ctx,
                        struct dnscheck_spf *out)
{
	struct count c = {.fn = fn, .ctx = ctx, .out = out};
	memset(out, 0, sizeof(*out));
	snprintf(c.stack[c.depth++], sizeof(c.stack[0]), "%s", domain);
	count_record(&c, domain, record, strlen(record), 1);
}
