/* The findings of one expected record: compared with what DNS holds,
 * by kind (SPF, DKIM and DMARC evaluations are dnscheck_auth.c's); see
 * dnscheck_int.h. */
#include "dnscheck_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the records we publish, by kind ---- */

const struct kind_info dnscheck_kinds[] = {
    [K_MX] = {NULL, 1, NULL},
    [K_ADDR] = {NULL, 1, NULL},
    [K_SPF] = {"v=spf1", 1,
               "receivers treat several SPF records as a permanent error (RFC 7208 3.2): "
               "SPF fails for every message"},
    [K_HELO_SPF] = {"v=spf1", 0,
                    "receivers treat several SPF records as a permanent error (RFC 7208 3.2)"},
    [K_NULL_MX] = {NULL, 0, NULL},
    [K_DKIM] = {"v=DKIM1", 1,
                "several key records under one selector: verifiers may pick the wrong one"},
    [K_DMARC] = {"v=DMARC1", 1,
                 "receivers ignore DMARC when there are several records (RFC 7489 6.6.3)"},
    [K_STS] = {"v=STSv1", 0,
               "senders ignore MTA-STS when there are several records (RFC 8461 3.1)"},
    [K_TLSRPT] = {"v=TLSRPTv1", 0, "senders send no TLS reports when there are several records"},
    [K_CNAME] = {NULL, 0, NULL},
    [K_SRV] = {NULL, 0, NULL},
    [K_CAA] = {NULL, 0, NULL},
    [K_TLSA] = {NULL, 0, NULL},
    [K_PTR] = {NULL, 0, NULL},
    [K_OTHER] = {NULL, 0, NULL},
};

enum kind dnscheck_classify(const struct dnsrec *r, const char *domain)
{
	static const struct {
		const char *type;
		enum kind kind;
	} by_type[] = {{"PTR", K_PTR},     {"TLSA", K_TLSA}, {"CAA", K_CAA},  {"SRV", K_SRV},
	               {"CNAME", K_CNAME}, {"A", K_ADDR},    {"AAAA", K_ADDR}};
	static const enum kind txt_kinds[] = {K_DKIM, K_DMARC, K_STS, K_TLSRPT};
	for (size_t i = 0; i < sizeof(by_type) / sizeof(by_type[0]); i++)
		if (!strcmp(r->type, by_type[i].type))
			return by_type[i].kind;
	if (!strcmp(r->type, "MX"))
		return dnscheck_same_name(r->name, domain) ? K_MX : K_NULL_MX;
	if (strcmp(r->type, "TXT"))
		return K_OTHER;
	if (dnscheck_of_family(r->value, "v=spf1"))
		return dnscheck_same_name(r->name, domain) ? K_SPF : K_HELO_SPF;
	for (size_t i = 0; i < sizeof(txt_kinds) / sizeof(txt_kinds[0]); i++)
		if (dnscheck_of_family(r->value, dnscheck_kinds[txt_kinds[i]].family))
			return txt_kinds[i];
	return K_OTHER;
}

/* ---- values and fixes ---- */

/* The presentation form of a found record's data: TXT joined. */
static char *rr_value(const ldns_rr *rr)
{
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT)
		return dnscheck_txt(rr);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, i));
		strbuf_addf(&sb, "%s%s", i ? " " : "", s ? s : "?");
		free(s);
	}
	return strbuf_detach(&sb);
}

static void values_add(struct values *vs, char *s)
{
	vs->v = xgrow(vs->v, &vs->alloc, vs->n + 1, sizeof(char *));
	vs->v[vs->n++] = s;
}

static void values_release(struct values *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

/* "a, b, c" */
static char *joined(char *const *v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s'%s'", i ? ", " : "", v[i]);
	return strbuf_detach(&sb);
}

/* The name without its final dot. */
char *dnscheck_bare(const char *name)
{
	size_t n = strlen(name);
	return xstrndup(name, n && name[n - 1] == '.' ? n - 1 : n);
}

char *dnscheck_fix_publish(const struct dnsrec *rec, const char *domain, enum kind k,
                           const char *verb)
{
	if (k == K_PTR)
		return xasprintf("ask your hosting provider to set: %s", rec->zone);
	if (k == K_DKIM) {
		char *sel = xstrndup(rec->name, strcspn(rec->name, "."));
		char *fix = xasprintf("%s the record 'mailctl dkim show %s --selector %s' prints",
		                      verb, domain, sel);
		free(sel);
		return fix;
	}
	if (strlen(rec->zone) <= 160)
		return xasprintf("%s: %s", verb, rec->zone);
	return xasprintf("%s the %s %s record 'mailctl dns records %s' prints", verb, rec->name,
	                 rec->type, domain);
}

/* ---- one record ---- */

struct dnscheck_finding *dnscheck_rec_add(struct ctx *c, enum dnscheck_status st, const char *fix,
                                          const char *detail, struct values *found)
{
	struct dnscheck_finding *f = dnscheck_add(c->r, c->rec->name, c->rec->type, "record", st,
	                                          c->required, fix, "%s", detail);
	dnscheck_set_values(f, c->rec->value, found ? found->v : NULL, found ? found->n : 0);
	f->ad = c->a->ad;
	return f;
}

/* Missing: the record's purpose says what is lost. */
static void rec_missing(struct ctx *c, struct values *found)
{
	char *fix = dnscheck_fix_publish(c->rec, c->d->name, c->kind, "publish");
	char *detail = xasprintf("%s%s", c->required ? "" : "recommended: ", c->rec->purpose);
	dnscheck_rec_add(c, DNSCHECK_MISSING, fix, detail, found);
	free(detail);
	free(fix);
}

struct dnscheck_finding *dnscheck_rec_different(struct ctx *c, struct values *found,
                                                const char *why)
{
	char *fix = dnscheck_fix_publish(c->rec, c->d->name, c->kind, "replace it with");
	char *got = joined(found->v, found->n);
	char *detail =
	    why ? xstrdup(why) : xasprintf("expected '%s', found %s", c->rec->value, got);
	struct dnscheck_finding *f = dnscheck_rec_add(c, DNSCHECK_DIFFERENT, fix, detail, found);
	free(detail);
	free(got);
	free(fix);
	return f;
}

/* ---- TXT records: one of a family per name ---- */

static void check_txt(struct ctx *c)
{
	struct values found = {0};
	const char *family = dnscheck_kinds[c->kind].family;
	for (size_t i = 0; c->a->rrs && i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		char *t = dnscheck_txt(ldns_rr_list_rr(c->a->rrs, i));
		/* DKIM records may leave v= out (RFC 6376 3.6.1) */
		int mine = family
		               ? dnscheck_of_family(t, family) ||
		                     (c->kind == K_DKIM && strncasecmp(t + strspn(t, " "), "v=", 2))
		               : 1;
		if (mine)
			values_add(&found, t);
		else
			free(t);
	}
	if (found.n == 0)
		rec_missing(c, &found);
	else if (found.n > 1 && dnscheck_kinds[c->kind].several) {
		char *fix = dnscheck_fix_publish(c->rec, c->d->name, c->kind, "keep one record");
		char *detail =
		    xasprintf("%zu records: %s", found.n, dnscheck_kinds[c->kind].several);
		dnscheck_rec_add(c, DNSCHECK_HARMFUL, fix, detail, &found);
		free(detail);
		free(fix);
	} else if (c->kind == K_SPF || c->kind == K_HELO_SPF)
		dnscheck_check_spf(c, &found);
	else if (c->kind == K_DKIM)
		dnscheck_check_dkim(c, &found);
	else if (c->kind == K_DMARC)
		dnscheck_check_dmarc(c, &found);
	else if (dnscheck_compare(c->rec, c->a->rrs) == DNSCHECK_OK)
		dnscheck_rec_add(c, DNSCHECK_OK, "", found.v[0], &found);
	else
		dnscheck_rec_different(c, &found, NULL);
	values_release(&found);
}

/* ---- MX, addresses, aliases ---- */

static void all_values(const ldns_rr_list *rrs, struct values *out)
{
	for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++)
		values_add(out, rr_value(ldns_rr_list_rr(rrs, i)));
}

/* The exchange of an MX record, lowercase, absolute. */
static char *mx_host(const ldns_rr *rr)
{
	char *s = ldns_rdf2str(ldns_rr_rdf(rr, 1));
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s ? s : xstrdup("?");
}

static void check_mx(struct ctx *c, struct values *found)
{
	const char *host = c->r->in->mailhost;
	int ours = 0, null = 0;
	struct strbuf others = STRBUF_INIT;
	for (size_t i = 0; i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		char *h = mx_host(ldns_rr_list_rr(c->a->rrs, i));
		if (!strcmp(h, "."))
			null = 1;
		else if (dnscheck_same_name(h, host))
			ours = 1;
		else
			strbuf_addf(&others, "%s%s", others.len ? ", " : "", h);
		free(h);
	}
	if (null) {
		char *fix = dnscheck_fix_publish(c->rec, c->d->name, K_MX, "replace it with");
		dnscheck_rec_add(c, DNSCHECK_HARMFUL, fix,
		                 "a null MX (0 .) says the domain receives no mail at all", found);
		free(fix);
	} else if (ours) {
		char *detail = others.len ? xasprintf("points at %s; also at %s", host, others.buf)
		                          : xasprintf("points at %s", host);
		dnscheck_rec_add(c, DNSCHECK_OK, "", detail, found);
		free(detail);
	} else {
		char *why = xasprintf("mail goes to %s, not to this server (%s)", others.buf, host);
		dnscheck_rec_different(c, found, why);
		free(why);
	}
	strbuf_release(&others);
}

/* Addresses of the mail host that are not ours: reported once per type. */
static void addr_extras(struct ctx *c)
{
	const char *const *ours = !strcmp(c->rec->type, "A") ? c->r->in->ipv4 : c->r->in->ipv6;
	struct strbuf extra = STRBUF_INIT;
	const struct dnsrec_list *l = c->d->expected;
	for (size_t i = 0; i < l->n; i++) /* only on the first record of its name and type */
		if (&l->v[i] != c->rec && dnscheck_same_name(l->v[i].name, c->rec->name) &&
		    !strcmp(l->v[i].type, c->rec->type))
			if (&l->v[i] < c->rec)
				return;
	for (size_t i = 0; i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		char *v = rr_value(ldns_rr_list_rr(c->a->rrs, i));
		int mine = 0;
		for (const char *const *o = ours; o && *o; o++) {
			ldns_rr *rr = NULL;
			char *line = xasprintf("x. IN %s %s", c->rec->type, *o);
			if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) == LDNS_STATUS_OK)
				mine |= ldns_rdf_compare(
				            ldns_rr_rdf(rr, 0),
				            ldns_rr_rdf(ldns_rr_list_rr(c->a->rrs, i), 0)) == 0;
			ldns_rr_free(rr);
			free(line);
		}
		if (!mine)
			strbuf_addf(&extra, "%s%s", extra.len ? ", " : "", v);
		free(v);
	}
	if (extra.len) {
		char *fix = xasprintf("remove %s from %s, or add them to network.%s", extra.buf,
		                      c->rec->name, !strcmp(c->rec->type, "A") ? "ipv4" : "ipv6");
		dnscheck_add(c->r, c->rec->name, c->rec->type, "record", DNSCHECK_DIFFERENT, 0, fix,
		             "also points at %s, which is not this server: some mail may go there",
		             extra.buf);
		free(fix);
	}
	strbuf_release(&extra);
}

/* A name we publish as a CNAME may be an A record pointing at us instead. */
static void check_cname(struct ctx *c, struct values *found)
{
	struct dnsq_answer a;
	dnscheck_lookup(c->r, c->rec->name, LDNS_RR_TYPE_A, &a);
	for (size_t i = 0; a.status == DNSQ_ANSWER && i < ldns_rr_list_rr_count(a.rrs); i++) {
		char *v = rr_value(ldns_rr_list_rr(a.rrs, i));
		for (const char *const *o = c->r->in->ipv4; o && *o; o++)
			if (!strcmp(v, *o)) {
				char *detail = xasprintf("an A record (%s) points at this server "
				                         "instead of the CNAME",
				                         v);
				dnscheck_rec_add(c, DNSCHECK_OK, "", detail, found);
				free(detail);
				free(v);
				return;
			}
		free(v);
	}
	rec_missing(c, found);
}

/* ---- reverse DNS ---- */

/* Our address whose reverse name is 'owner', or NULL. */
static const char *ptr_address(const struct run *r, const char *owner)
{
	const char *const *lists[] = {r->in->ipv4, r->in->ipv6};
	ldns_rdf_type types[] = {LDNS_RDF_TYPE_A, LDNS_RDF_TYPE_AAAA};
	for (int l = 0; l < 2; l++)
		for (const char *const *a = lists[l]; a && *a; a++) {
			ldns_rdf *addr = ldns_rdf_new_frm_str(types[l], *a), *rev = NULL;
			char *name = addr && (rev = ldns_rdf_address_reverse(addr))
			                 ? ldns_rdf2str(rev)
			                 : NULL;
			int match = name && dnscheck_same_name(name, owner);
			free(name);
			ldns_rdf_deep_free(rev);
			ldns_rdf_deep_free(addr);
			if (match)
				return *a;
		}
	return NULL;
}

/* 1 when 'name' has 'addr' among its A/AAAA records, 0 not, -1 unknown
 * ('*failed' gets the lookup's status). */
static int forward_has(struct run *r, const char *name, const char *addr, enum dnsq_status *failed)
{
	struct dnsq_answer a;
	int v6 = strchr(addr, ':') != NULL;
	dnscheck_lookup(r, name, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &a);
	if (a.status == DNSQ_NODATA || a.status == DNSQ_NXDOMAIN)
		return 0;
	if (a.status != DNSQ_ANSWER) {
		*failed = a.status;
		return -1;
	}
	ldns_rr *want = NULL;
	char *line = xasprintf("x. IN %s %s", v6 ? "AAAA" : "A", addr);
	int found = 0;
	if (ldns_rr_new_frm_str(&want, line, 0, NULL, NULL) == LDNS_STATUS_OK)
		for (size_t i = 0; i < ldns_rr_list_rr_count(a.rrs); i++)
			found |= ldns_rdf_compare(ldns_rr_rdf(want, 0),
			                          ldns_rr_rdf(ldns_rr_list_rr(a.rrs, i), 0)) == 0;
	ldns_rr_free(want);
	free(line);
	return found;
}

static void fcrdns_row(struct ctx *c, const char *addr, const struct values *names)
{
	const char *host = c->r->in->mailhost, *n = c->rec->name;
	struct strbuf confirmed = STRBUF_INIT;
	int ours = 0, unknown = 0;
	enum dnsq_status failed = DNSQ_TIMEOUT;
	for (size_t i = 0; i < names->n && i < 5; i++) {
		int has = forward_has(c->r, names->v[i], addr, &failed);
		unknown |= has < 0;
		if (has > 0) {
			ours |= dnscheck_same_name(names->v[i], host);
			strbuf_addf(&confirmed, "%s%s", confirmed.len ? ", " : "", names->v[i]);
		}
	}
	char *fix = xasprintf("ask your hosting provider to set the PTR of %s to %s., and publish "
	                      "%s %s %s",
	                      addr, host, host, strchr(addr, ':') ? "AAAA" : "A", addr);
	if (ours)
		dnscheck_add(c->r, n, "PTR", "fcrdns", DNSCHECK_OK, 0, "",
		             "forward-confirmed reverse DNS: %s -> %s. -> %s", addr, host, addr);
	else if (unknown)
		dnscheck_add(
		    c->r, n, "PTR", "fcrdns", dnscheck_failed_status(failed), 0,
		    "check again later",
		    "forward-confirmed reverse DNS: could not look up the addresses of the PTR "
		    "names of %s (%s)",
		    addr, dnsq_status_name(failed));
	else if (confirmed.len)
		dnscheck_add(
		    c->r, n, "PTR", "fcrdns", DNSCHECK_DIFFERENT, 0, fix,
		    "forward-confirmed reverse DNS: %s -> %s -> %s confirms, but that is not the "
		    "name Postfix says in HELO (%s)",
		    addr, confirmed.buf, addr, host);
	else
		dnscheck_add(
		    c->r, n, "PTR", "fcrdns", DNSCHECK_DIFFERENT, 0, fix,
		    "forward-confirmed reverse DNS: %s does not resolve back to %s: receivers "
		    "distrust the host",
		    names->v[0], addr);
	free(fix);
	strbuf_release(&confirmed);
}

static void check_ptr(struct ctx *c, struct values *found)
{
	const char *addr = ptr_address(c->r, c->rec->name), *host = c->r->in->mailhost;
	int ours = 0;
	for (size_t i = 0; i < found->n; i++)
		ours |= dnscheck_same_name(found->v[i], host);
	if (ours)
		dnscheck_rec_add(c, DNSCHECK_OK, "", c->rec->value, found);
	else {
		char *got = joined(found->v, found->n);
		char *why = xasprintf("%s points back at %s, not at %s",
		                      addr ? addr : "the address", got, host);
		dnscheck_rec_different(c, found, why);
		free(why);
		free(got);
	}
	if (addr)
		fcrdns_row(c, addr, found);
}

/* ---- dispatch ---- */

static void check_failed(struct ctx *c, ldns_rr_type t)
{
	enum dnscheck_status st = dnscheck_failed_status(c->a->status);
	char *budget = dnscheck_no_answer(c->r);
	const char *detail = st == DNSCHECK_TIMEOUT    ? budget
	                     : st == DNSCHECK_SERVFAIL ? "the resolver answered SERVFAIL: the "
	                                                 "domain's servers failed, or DNSSEC "
	                                                 "validation did"
	                     : st == DNSCHECK_REFUSED  ? "the resolver refused to answer"
	                                               : dnscheck_why_of(c->r, c->rec->name, t);
	const char *fix = st == DNSCHECK_REFUSED ? "use a resolver that serves this host "
	                                           "(--resolver or dns.resolver)"
	                                         : "check the resolver and the domain's name "
	                                           "servers, then try again";
	char *d = xasprintf("%s%s", c->required ? "" : "recommended: ", detail);
	dnscheck_rec_add(c, st, fix, d, NULL);
	free(d);
	free(budget);
}

static const struct dnscheck_key *key_of(const struct dnscheck_domain *d, const char *name,
                                         size_t *idx)
{
	for (size_t i = 0; i < d->nkeys; i++) {
		size_t n = strlen(d->keys[i].selector);
		if (!strncasecmp(name, d->keys[i].selector, n) &&
		    !strncmp(name + n, "._domainkey.", 12)) {
			*idx = i;
			return &d->keys[i];
		}
	}
	return NULL;
}

void dnscheck_check_record(struct run *r, size_t di, const struct dnsrec *rec)
{
	const struct dnscheck_domain *d = &r->in->domains[di];
	struct dnsq_answer a;
	struct values found = {0};
	ldns_rr_type t = ldns_get_rr_type_by_name(rec->type);
	struct ctx c = {r, d, rec, dnscheck_classify(rec, d->name), 0, &a, NULL, NULL};
	size_t ki = 0;
	c.required = dnscheck_kinds[c.kind].required;
	if (c.kind == K_DKIM && (c.key = key_of(d, rec->name, &ki))) {
		c.required = c.key->active;
		c.kf = &r->keyfiles[di][ki];
	}
	dnscheck_lookup(r, rec->name, t, &a);
	if (a.status == DNSQ_PENDING)
		return; /* the next round has it */
	if (a.status != DNSQ_ANSWER && a.status != DNSQ_NODATA && a.status != DNSQ_NXDOMAIN) {
		check_failed(&c, t);
		return;
	}
	if (t == LDNS_RR_TYPE_TXT) {
		if (a.status == DNSQ_ANSWER)
			check_txt(&c);
		else
			rec_missing(&c, &found);
		return;
	}
	all_values(a.rrs, &found);
	if (found.n == 0 && c.kind == K_CNAME)
		check_cname(&c, &found);
	else if (found.n == 0)
		rec_missing(&c, &found);
	else if (c.kind == K_MX)
		check_mx(&c, &found);
	else if (c.kind == K_PTR)
		check_ptr(&c, &found);
	else if (dnscheck_compare(rec, a.rrs) == DNSCHECK_OK)
		dnscheck_rec_add(&c, DNSCHECK_OK, "", rec->value, &found);
	else
		dnscheck_rec_different(&c, &found, NULL);
	if (c.kind == K_ADDR && found.n)
		addr_extras(&c);
	values_release(&found);
}
