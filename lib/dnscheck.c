/* The live DNS check: every expected record queried in parallel, then
 * compared and evaluated; see dnscheck.h. */
#include "dnscheck.h"
#include "dkim.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Each round asks what the answers of the one before point at; SPF
 * include chains are the deepest (10 levels are already too many). */
#define MAX_ROUNDS 32

const char *dnscheck_status_name(enum dnscheck_status s)
{
	static const char *const names[] = {
	    [DNSCHECK_OK] = "ok",
	    [DNSCHECK_MISSING] = "missing",
	    [DNSCHECK_DIFFERENT] = "different",
	    [DNSCHECK_HARMFUL] = "harmful",
	    [DNSCHECK_TIMEOUT] = "timeout",
	    [DNSCHECK_SERVFAIL] = "servfail",
	    [DNSCHECK_REFUSED] = "refused",
	    [DNSCHECK_ERROR] = "error",
	    [DNSCHECK_INFO] = "info",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

const char *dnscheck_level_name(enum dnscheck_level l)
{
	static const char *const names[] = {"ok", "info", "warn", "tempfail", "fail"};
	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "fail";
}

/* ---- the records we publish, by kind ---- */

enum kind {
	K_MX,
	K_ADDR,
	K_SPF,
	K_HELO_SPF,
	K_NULL_MX,
	K_DKIM,
	K_DMARC,
	K_STS,
	K_TLSRPT,
	K_CNAME,
	K_SRV,
	K_CAA,
	K_TLSA,
	K_PTR,
	K_OTHER
};

static const struct kind_info {
	const char *family;  /* TXT: the tag that tells the record from other TXT at the name */
	int required;        /* DKIM: when its key is active */
	const char *several; /* why more than one is harmful */
} kinds[] = {
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

/* Names compare without case and without regard to the final dot. */
static int same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* 's' begins with the tag 'family', followed by a blank, ';' or the end. */
static int of_family(const char *s, const char *family)
{
	size_t n = strlen(family);
	s += strspn(s, " \t");
	return strncasecmp(s, family, n) == 0 && (!s[n] || strchr(" \t;", s[n]));
}

static enum kind classify(const struct dnsrec *r, const char *domain)
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
		return same_name(r->name, domain) ? K_MX : K_NULL_MX;
	if (strcmp(r->type, "TXT"))
		return K_OTHER;
	if (of_family(r->value, "v=spf1"))
		return same_name(r->name, domain) ? K_SPF : K_HELO_SPF;
	for (size_t i = 0; i < sizeof(txt_kinds) / sizeof(txt_kinds[0]); i++)
		if (of_family(r->value, kinds[txt_kinds[i]].family))
			return txt_kinds[i];
	return K_OTHER;
}

static enum dnscheck_status failed_status(enum dnsq_status s);

/* ---- a run: the queries, and the keys read once ---- */

struct keyfile {
	char *public_key; /* p= derived from the key file, or NULL */
	char *problem;    /* why not */
	int missing;      /* the file does not exist */
};

struct run {
	const struct dnscheck_input *in;
	struct dnsq q;
	int added; /* queries queued by this pass */
	struct dnscheck_report *rep;
	struct keyfile **keyfiles; /* [domain][key] */
};

static void answer_of(const struct dnsq_query *q, struct dnsq_answer *out)
{
	*out = (struct dnsq_answer){q->status, q->rrs, q->ad};
}

/* The lookup callback: a finished query's answer, or queue it. */
static void lookup_cd(struct run *r, const char *name, ldns_rr_type type, int cd,
                      struct dnsq_answer *out)
{
	long i = dnsq_find(&r->q, name, type, cd);
	if (i < 0) {
		dnsq_add(&r->q, name, type, cd);
		r->added++;
		*out = (struct dnsq_answer){DNSQ_PENDING, NULL, 0};
		return;
	}
	answer_of(&r->q.v[i], out);
}

static void lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	lookup_cd(ctx, name, type, 0, out);
}

/* 'why' of the query behind a failed answer. */
static const char *why_of(const struct run *r, const char *name, ldns_rr_type type)
{
	long i = dnsq_find(&r->q, name, type, 0);
	return i >= 0 && r->q.v[i].why[0] ? r->q.v[i].why : "no usable answer";
}

/* ---- findings ---- */

static enum dnscheck_level level_of(enum dnscheck_status st, int required)
{
	switch (st) {
	case DNSCHECK_OK:
		return DNSCHECK_LOK;
	case DNSCHECK_INFO:
		return DNSCHECK_LINFO;
	case DNSCHECK_TIMEOUT:
	case DNSCHECK_SERVFAIL:
	case DNSCHECK_REFUSED:
	case DNSCHECK_ERROR:
		return required ? DNSCHECK_LTEMP : DNSCHECK_LWARN;
	default:
		return required ? DNSCHECK_LFAIL : DNSCHECK_LWARN;
	}
}

/* Tabs (zone-file separators) read badly on one line. */
static char *one_line(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	return s;
}

__attribute__((format(printf, 8, 9))) static struct dnscheck_finding *
add(struct run *r, const char *name, const char *type, const char *check, enum dnscheck_status st,
    int required, const char *fix, const char *fmt, ...)
{
	struct dnscheck_report *rep = r->rep;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	rep->v = xgrow(rep->v, &rep->alloc, rep->n + 1, sizeof(*rep->v));
	struct dnscheck_finding *f = &rep->v[rep->n++];
	memset(f, 0, sizeof(*f));
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	f->name = xstrdup(name);
	f->type = xstrdup(type);
	f->check = check;
	f->status = st;
	f->required = required;
	f->level = level_of(st, required);
	f->detail = one_line(strbuf_detach(&sb));
	f->fix = one_line(xstrdup(fix ? fix : ""));
	return f;
}

/* Attach the expected value and what was found to a record finding. */
static void set_values(struct dnscheck_finding *f, const char *expected, char **found, size_t n)
{
	f->expected = xstrdup(expected);
	f->found = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		f->found[i] = xstrdup(found[i]);
	f->nfound = n;
}

void dnscheck_report_release(struct dnscheck_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct dnscheck_finding *f = &r->v[i];
		free(f->name);
		free(f->type);
		free(f->detail);
		free(f->fix);
		free(f->expected);
		for (size_t j = 0; j < f->nfound; j++)
			free(f->found[j]);
		free(f->found);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

enum dnscheck_level dnscheck_worst(const struct dnscheck_report *r)
{
	enum dnscheck_level worst = DNSCHECK_LOK;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].level > worst)
			worst = r->v[i].level;
	return worst;
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

struct values {
	char **v;
	size_t n, alloc;
};

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
static char *bare(const char *name)
{
	size_t n = strlen(name);
	return xstrndup(name, n && name[n - 1] == '.' ? n - 1 : n);
}

static char *fix_publish(const struct dnsrec *rec, const char *domain, enum kind k,
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

struct ctx {
	struct run *r;
	const struct dnscheck_domain *d;
	const struct dnsrec *rec;
	enum kind kind;
	int required;
	const struct dnsq_answer *a;
	const struct dnscheck_key *key; /* DKIM */
	const struct keyfile *kf;       /* DKIM */
};

static struct dnscheck_finding *rec_add(struct ctx *c, enum dnscheck_status st, const char *fix,
                                        const char *detail, struct values *found)
{
	struct dnscheck_finding *f =
	    add(c->r, c->rec->name, c->rec->type, "record", st, c->required, fix, "%s", detail);
	set_values(f, c->rec->value, found ? found->v : NULL, found ? found->n : 0);
	f->ad = c->a->ad;
	return f;
}

/* Missing: the record's purpose says what is lost. */
static void rec_missing(struct ctx *c, struct values *found)
{
	char *fix = fix_publish(c->rec, c->d->name, c->kind, "publish");
	char *detail = xasprintf("%s%s", c->required ? "" : "recommended: ", c->rec->purpose);
	rec_add(c, DNSCHECK_MISSING, fix, detail, found);
	free(detail);
	free(fix);
}

static struct dnscheck_finding *rec_different(struct ctx *c, struct values *found, const char *why)
{
	char *fix = fix_publish(c->rec, c->d->name, c->kind, "replace it with");
	char *got = joined(found->v, found->n);
	char *detail =
	    why ? xstrdup(why) : xasprintf("expected '%s', found %s", c->rec->value, got);
	struct dnscheck_finding *f = rec_add(c, DNSCHECK_DIFFERENT, fix, detail, found);
	free(detail);
	free(got);
	free(fix);
	return f;
}

/* ---- SPF ---- */

/* check_host() for each of our addresses, on the record found (sender
 * postmaster@domain, HELO the mail host): 'good' gets those that pass,
 * 'bad' the others with their result and why, 'terms' what would
 * authorise them. 1 when some result could not be obtained. */
static int spf_addresses(struct ctx *c, const char *dom, const char *spf, struct strbuf *good,
                         struct strbuf *bad, struct strbuf *terms)
{
	const char *const *lists[] = {c->r->in->ipv4, c->r->in->ipv6};
	struct spf_outcome o;
	int temp = 0;
	for (int l = 0; l < 2; l++)
		for (const char *const *ip = lists[l]; ip && *ip; ip++) {
			struct spf_request req = {
			    .ip = *ip, .helo = c->r->in->mailhost, .receiver = c->r->in->mailhost};
			spf_check_record(&req, dom, NULL, spf, lookup, c->r, &o);
			temp |= o.result == SPF_TEMPERROR || o.result == SPF_PENDING;
			if (o.result == SPF_PASS) {
				strbuf_addf(good, "%s%s", good->len ? ", " : "", *ip);
				continue;
			}
			strbuf_addf(bad, "%s%s gets '%s' (%s)", bad->len ? ", " : "", *ip,
			            spf_result_name(o.result), o.why);
			strbuf_addf(terms, " ip%d:%s", l ? 6 : 4, *ip);
		}
	return temp;
}

/* The 'all', syntax and lookup-count rows; 1 when one is harmful. */
static int spf_count_rows(struct ctx *c, const char *dom, const struct dnscheck_spf *s)
{
	const char *n = c->rec->name;
	int over = s->lookups > SPF_MAX_LOOKUPS || s->voids > SPF_MAX_VOID;
	if (s->all == '+' || s->all == '?')
		add(c->r, n, "TXT", "spf-all", DNSCHECK_HARMFUL, c->required,
		    "end the record with -all (or ~all while testing)",
		    s->all == '+'
		        ? "SPF: '+all' lets every host on the Internet send as %s"
		        : "SPF: '?all' leaves unlisted senders neutral: forged mail from %s is "
		          "not rejected",
		    dom);
	if (s->problem[0])
		add(c->r, n, "TXT", "spf-syntax", DNSCHECK_HARMFUL, c->required,
		    "correct the record: receivers treat it as a permanent error", "SPF: %s",
		    s->problem);
	if (s->tempfail)
		add(c->r, n, "TXT", "spf-lookups", DNSCHECK_TIMEOUT, c->required,
		    "check again later",
		    "SPF: %d DNS lookups counted so far; some includes could not be fetched",
		    s->lookups);
	else
		add(c->r, n, "TXT", "spf-lookups", over ? DNSCHECK_HARMFUL : DNSCHECK_OK,
		    c->required,
		    over
		        ? "replace include:, a and mx terms by ip4:/ip6: addresses, or flatten the "
		          "include chain"
		        : "",
		    "SPF: %d DNS lookup%s (limit %d), %d void (limit %d)%s", s->lookups,
		    s->lookups == 1 ? "" : "s", SPF_MAX_LOOKUPS, s->voids, SPF_MAX_VOID,
		    over ? ": receivers stop there and treat the record as a permanent error" : "");
	return over || s->problem[0] || s->all == '+' || s->all == '?';
}

/* Whether the record passes for this server; 1 when it does not. */
static int spf_authorise_row(struct ctx *c, const char *dom, const char *spf, int *temp)
{
	struct strbuf bad = STRBUF_INIT, terms = STRBUF_INIT, good = STRBUF_INIT;
	const char *n = c->rec->name;
	*temp = spf_addresses(c, dom, spf, &good, &bad, &terms);
	if (*temp)
		add(c->r, n, "TXT", "spf-authorises", DNSCHECK_TIMEOUT, c->required,
		    "check again later", "SPF: could not evaluate the record for this server: %s",
		    bad.buf);
	else if (bad.len) {
		char *fix = xasprintf("add%s to the record", terms.buf);
		add(c->r, n, "TXT", "spf-authorises", DNSCHECK_DIFFERENT, c->required, fix,
		    "SPF does not authorise this server: %s", bad.buf);
		free(fix);
	} else
		add(c->r, n, "TXT", "spf-authorises", DNSCHECK_OK, c->required, "",
		    "SPF passes for %s", good.buf);
	int failing = !*temp && bad.len;
	strbuf_release(&bad);
	strbuf_release(&good);
	strbuf_release(&terms);
	return failing;
}

/* The evaluations of a found SPF record, after its record row 'row'. */
static void spf_rows(struct ctx *c, const char *spf, size_t row, int equal)
{
	struct dnscheck_spf s;
	char *dom = bare(c->rec->name);
	int temp;
	dnscheck_spf_count(dom, spf, lookup, c->r, &s);
	int harmful = spf_count_rows(c, dom, &s);
	harmful |= spf_authorise_row(c, dom, spf, &temp);
	/* Different from ours but sound (an extra include for a newsletter
	 * service, say): worth knowing, not a failure. */
	if (!equal && !harmful && !temp)
		c->r->rep->v[row].level = DNSCHECK_LWARN;
	free(dom);
}

static void check_spf(struct ctx *c, struct values *found)
{
	const char *spf = found->v[0];
	int equal = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(c->a->rrs, i);
		char *t = dnscheck_txt(rr);
		equal |= of_family(t, "v=spf1") && dnscheck_rr_equal(c->rec, rr);
		free(t);
	}
	if (equal)
		rec_add(c, DNSCHECK_OK, "", spf, found);
	else
		rec_different(c, found, NULL);
	spf_rows(c, spf, c->r->rep->n - 1, equal);
}

/* ---- DKIM ---- */

/* The value of tag 'tag' in a tag list ("k=rsa; p=..."), blanks removed. */
static char *tag_value(const char *s, const char *tag)
{
	size_t tl = strlen(tag);
	for (const char *p = s; *p; p += *p == ';') {
		size_t n = strcspn(p, ";");
		const char *t = p + strspn(p, " \t");
		if (strncmp(t, tag, tl) == 0 && t[tl + strspn(t + tl, " \t")] == '=') {
			struct strbuf sb = STRBUF_INIT;
			for (const char *v = strchr(t, '=') + 1; v < p + n; v++)
				if (!strchr(" \t\r\n", *v))
					strbuf_addch(&sb, *v);
			return strbuf_detach(&sb);
		}
		p += n;
	}
	return NULL;
}

static void dkim_key_row(struct ctx *c, const char *published)
{
	const struct dnscheck_key *k = c->key;
	const struct keyfile *kf = c->kf;
	char *fix;
	if (!k || !kf)
		return;
	const char *n = c->rec->name;
	if (!kf->public_key && kf->missing) {
		fix = xasprintf("make a new key with 'mailctl dkim keygen %s' and publish it",
		                c->d->name);
		add(c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		    "key file: '%s' is missing: nothing can sign with this key", k->key_file);
	} else if (!kf->public_key) {
		add(c->r, n, "TXT", "dkim-key", DNSCHECK_INFO, 0,
		    "run the check as root (or the mailctl user) to compare with the private key",
		    "key file: %s: the published key was compared with the database only",
		    kf->problem);
		return;
	} else if (published && !strcmp(published, kf->public_key)) {
		add(c->r, n, "TXT", "dkim-key", DNSCHECK_OK, c->required, "",
		    "key file: the published key is the public half of '%s'", k->key_file);
		return;
	} else if (strcmp(k->public_key, kf->public_key) == 0) {
		fix = fix_publish(c->rec, c->d->name, K_DKIM, "publish");
		add(c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		    "key file: the published key is not the public half of '%s': signatures fail",
		    k->key_file);
	} else {
		fix = xasprintf("restore the key file, or make a new key with 'mailctl dkim keygen "
		                "%s' and publish it",
		                c->d->name);
		add(c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		    "key file: the private key in '%s' does not belong to the key in the database "
		    "and in DNS: signatures fail",
		    k->key_file);
	}
	free(fix);
}

static void check_dkim(struct ctx *c, struct values *found)
{
	char *want_p = tag_value(c->rec->value, "p"), *want_k = tag_value(c->rec->value, "k");
	char *p = tag_value(found->v[0], "p"), *k = tag_value(found->v[0], "k");
	const char *kk = k ? k : "rsa"; /* RFC 6376 3.6.1: rsa by default */
	if (!p || !*p)
		rec_different(c, found,
		              p ? "the key is revoked (empty p=): nothing signed with it verifies"
		                : "the record has no p= public key");
	else if (strcmp(p, want_p ? want_p : "") != 0)
		rec_different(c, found, "the published p= is not the key in the database");
	else if (strcasecmp(kk, want_k ? want_k : "rsa") != 0)
		rec_different(c, found, "the published k= is not the key's algorithm");
	else {
		char *detail = xasprintf("k=%s, the key in the database", kk);
		rec_add(c, DNSCHECK_OK, "", detail, found);
		free(detail);
	}
	dkim_key_row(c, p);
	free(want_p);
	free(want_k);
	free(p);
	free(k);
}

/* ---- DMARC ---- */

static void check_dmarc(struct ctx *c, struct values *found)
{
	struct dmarc_record got, want;
	const char *n = c->rec->name, *conf = c->r->in->dmarc_policy;
	int bad = dmarc_record_parse(found->v[0], &got) < 0;
	dmarc_record_parse(c->rec->value, &want);
	int have = bad ? -1 : dmarc_policy_strength(got.p);
	int intended = dmarc_policy_strength(conf);
	char *fix = fix_publish(c->rec, c->d->name, K_DMARC, "replace it with");
	if (bad)
		rec_different(c, found, NULL);
	else if (have == 0 && intended > 0) {
		char *detail = xasprintf("p=none: receivers take no action on mail that fails "
		                         "DMARC, but dns.dmarc_policy is '%s'",
		                         conf);
		rec_add(c, DNSCHECK_HARMFUL, fix, detail, found);
		free(detail);
	} else if (have < intended) {
		char *detail = xasprintf("p=%s is weaker than dns.dmarc_policy '%s'", got.p, conf);
		rec_add(c, DNSCHECK_DIFFERENT, fix, detail, found);
		free(detail);
	} else if (have == intended && !strcasecmp(got.rua, want.rua))
		rec_add(c, DNSCHECK_OK, "", found->v[0], found);
	else
		rec_different(c, found, NULL)->level = DNSCHECK_LWARN;
	if (bad)
		add(c->r, n, "TXT", "dmarc-syntax", DNSCHECK_DIFFERENT, c->required, fix,
		    "DMARC syntax invalid: %s", got.problem);
	else if (got.unknown[0])
		add(c->r, n, "TXT", "dmarc-syntax", DNSCHECK_DIFFERENT, 0, fix,
		    "DMARC syntax: unknown tags, which receivers ignore: %s", got.unknown);
	else
		add(c->r, n, "TXT", "dmarc-syntax", DNSCHECK_OK, c->required, "",
		    "DMARC syntax valid; alignment adkim=%c aspf=%c (%s), pct=%d%s", got.adkim,
		    got.aspf, got.adkim == 's' || got.aspf == 's' ? "strict" : "relaxed", got.pct,
		    got.pct < 100 ? ": the policy applies to part of the failing mail only" : "");
	free(fix);
}

/* ---- TXT records: one of a family per name ---- */

static void check_txt(struct ctx *c)
{
	struct values found = {0};
	const char *family = kinds[c->kind].family;
	for (size_t i = 0; c->a->rrs && i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		char *t = dnscheck_txt(ldns_rr_list_rr(c->a->rrs, i));
		/* DKIM records may leave v= out (RFC 6376 3.6.1) */
		int mine = family
		               ? of_family(t, family) ||
		                     (c->kind == K_DKIM && strncasecmp(t + strspn(t, " "), "v=", 2))
		               : 1;
		if (mine)
			values_add(&found, t);
		else
			free(t);
	}
	if (found.n == 0)
		rec_missing(c, &found);
	else if (found.n > 1 && kinds[c->kind].several) {
		char *fix = fix_publish(c->rec, c->d->name, c->kind, "keep one record");
		char *detail = xasprintf("%zu records: %s", found.n, kinds[c->kind].several);
		rec_add(c, DNSCHECK_HARMFUL, fix, detail, &found);
		free(detail);
		free(fix);
	} else if (c->kind == K_SPF || c->kind == K_HELO_SPF)
		check_spf(c, &found);
	else if (c->kind == K_DKIM)
		check_dkim(c, &found);
	else if (c->kind == K_DMARC)
		check_dmarc(c, &found);
	else if (dnscheck_compare(c->rec, c->a->rrs) == DNSCHECK_OK)
		rec_add(c, DNSCHECK_OK, "", found.v[0], &found);
	else
		rec_different(c, &found, NULL);
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
		else if (same_name(h, host))
			ours = 1;
		else
			strbuf_addf(&others, "%s%s", others.len ? ", " : "", h);
		free(h);
	}
	if (null) {
		char *fix = fix_publish(c->rec, c->d->name, K_MX, "replace it with");
		rec_add(c, DNSCHECK_HARMFUL, fix,
		        "a null MX (0 .) says the domain receives no mail at all", found);
		free(fix);
	} else if (ours) {
		char *detail = others.len ? xasprintf("points at %s; also at %s", host, others.buf)
		                          : xasprintf("points at %s", host);
		rec_add(c, DNSCHECK_OK, "", detail, found);
		free(detail);
	} else {
		char *why = xasprintf("mail goes to %s, not to this server (%s)", others.buf, host);
		rec_different(c, found, why);
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
		if (&l->v[i] != c->rec && same_name(l->v[i].name, c->rec->name) &&
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
		add(c->r, c->rec->name, c->rec->type, "record", DNSCHECK_DIFFERENT, 0, fix,
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
	lookup(c->r, c->rec->name, LDNS_RR_TYPE_A, &a);
	for (size_t i = 0; a.status == DNSQ_ANSWER && i < ldns_rr_list_rr_count(a.rrs); i++) {
		char *v = rr_value(ldns_rr_list_rr(a.rrs, i));
		for (const char *const *o = c->r->in->ipv4; o && *o; o++)
			if (!strcmp(v, *o)) {
				char *detail = xasprintf("an A record (%s) points at this server "
				                         "instead of the CNAME",
				                         v);
				rec_add(c, DNSCHECK_OK, "", detail, found);
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
			int match = name && same_name(name, owner);
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
	lookup(r, name, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &a);
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
			ours |= same_name(names->v[i], host);
			strbuf_addf(&confirmed, "%s%s", confirmed.len ? ", " : "", names->v[i]);
		}
	}
	char *fix = xasprintf("ask your hosting provider to set the PTR of %s to %s., and publish "
	                      "%s %s %s",
	                      addr, host, host, strchr(addr, ':') ? "AAAA" : "A", addr);
	if (ours)
		add(c->r, n, "PTR", "fcrdns", DNSCHECK_OK, 0, "",
		    "forward-confirmed reverse DNS: %s -> %s. -> %s", addr, host, addr);
	else if (unknown)
		add(c->r, n, "PTR", "fcrdns", failed_status(failed), 0, "check again later",
		    "forward-confirmed reverse DNS: could not look up the addresses of the PTR "
		    "names of %s (%s)",
		    addr, dnsq_status_name(failed));
	else if (confirmed.len)
		add(c->r, n, "PTR", "fcrdns", DNSCHECK_DIFFERENT, 0, fix,
		    "forward-confirmed reverse DNS: %s -> %s -> %s confirms, but that is not the "
		    "name Postfix says in HELO (%s)",
		    addr, confirmed.buf, addr, host);
	else
		add(c->r, n, "PTR", "fcrdns", DNSCHECK_DIFFERENT, 0, fix,
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
		ours |= same_name(found->v[i], host);
	if (ours)
		rec_add(c, DNSCHECK_OK, "", c->rec->value, found);
	else {
		char *got = joined(found->v, found->n);
		char *why = xasprintf("%s points back at %s, not at %s",
		                      addr ? addr : "the address", got, host);
		rec_different(c, found, why);
		free(why);
		free(got);
	}
	if (addr)
		fcrdns_row(c, addr, found);
}

/* ---- dispatch ---- */

static enum dnscheck_status failed_status(enum dnsq_status s)
{
	switch (s) {
	case DNSQ_SERVFAIL:
		return DNSCHECK_SERVFAIL;
	case DNSQ_REFUSED:
		return DNSCHECK_REFUSED;
	case DNSQ_ERROR:
		return DNSCHECK_ERROR;
	default: /* timeout, and anything still pending after the last round */
		return DNSCHECK_TIMEOUT;
	}
}

static void check_failed(struct ctx *c, ldns_rr_type t)
{
	enum dnscheck_status st = failed_status(c->a->status);
	char *budget =
	    xasprintf("no answer from %s within %d ms", c->r->q.server.text, c->r->q.timeout_ms);
	const char *detail = st == DNSCHECK_TIMEOUT    ? budget
	                     : st == DNSCHECK_SERVFAIL ? "the resolver answered SERVFAIL: the "
	                                                 "domain's servers failed, or DNSSEC "
	                                                 "validation did"
	                     : st == DNSCHECK_REFUSED  ? "the resolver refused to answer"
	                                               : why_of(c->r, c->rec->name, t);
	const char *fix = st == DNSCHECK_REFUSED ? "use a resolver that serves this host "
	                                           "(--resolver or dns.resolver)"
	                                         : "check the resolver and the domain's name "
	                                           "servers, then try again";
	char *d = xasprintf("%s%s", c->required ? "" : "recommended: ", detail);
	rec_add(c, st, fix, d, NULL);
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

static void check_record(struct run *r, size_t di, const struct dnsrec *rec)
{
	const struct dnscheck_domain *d = &r->in->domains[di];
	struct dnsq_answer a;
	struct values found = {0};
	ldns_rr_type t = ldns_get_rr_type_by_name(rec->type);
	struct ctx c = {r, d, rec, classify(rec, d->name), 0, &a, NULL, NULL};
	size_t ki = 0;
	c.required = kinds[c.kind].required;
	if (c.kind == K_DKIM && (c.key = key_of(d, rec->name, &ki))) {
		c.required = c.key->active;
		c.kf = &r->keyfiles[di][ki];
	}
	lookup(r, rec->name, t, &a);
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
		rec_add(&c, DNSCHECK_OK, "", rec->value, &found);
	else
		rec_different(&c, &found, NULL);
	if (c.kind == K_ADDR && found.n)
		addr_extras(&c);
	values_release(&found);
}

/* DNSSEC: signed or not, validated or not (the AD bit), bogus or not. */
static void check_dnssec(struct run *r, const char *domain)
{
	struct dnsq_answer a, cd;
	char *name = xasprintf("%s.", domain);
	lookup(r, name, LDNS_RR_TYPE_DNSKEY, &a);
	if (a.status == DNSQ_SERVFAIL)
		lookup_cd(r, name, LDNS_RR_TYPE_DNSKEY, 1, &cd);
	if (a.status == DNSQ_PENDING || (a.status == DNSQ_SERVFAIL && cd.status == DNSQ_PENDING)) {
		free(name);
		return;
	}
	struct dnscheck_finding *f;
	if (a.status == DNSQ_ANSWER && a.ad)
		f = add(r, name, "DNSKEY", "dnssec", DNSCHECK_OK, 0, "",
		        "DNSSEC: signed, and the resolver validated the answers (AD bit set)");
	else if (a.status == DNSQ_ANSWER)
		f = add(r, name, "DNSKEY", "dnssec", DNSCHECK_INFO, 0,
		        "check the DS record at the registrar, or use a validating resolver",
		        "DNSSEC: signed, but the answers are not validated (no AD bit): the "
		        "resolver does not validate, or the parent zone has no DS record");
	else if (a.status == DNSQ_NODATA || a.status == DNSQ_NXDOMAIN)
		f = add(r, name, "DNSKEY", "dnssec", DNSCHECK_INFO, 0, "",
		        "DNSSEC: not signed, so answers cannot be validated (no AD bit)");
	else if (a.status == DNSQ_SERVFAIL && cd.status == DNSQ_ANSWER)
		f = add(r, name, "DNSKEY", "dnssec", DNSCHECK_HARMFUL, 1,
		        "check the DS record at the registrar and that the signatures have not "
		        "expired",
		        "DNSSEC: signed, but validation fails (bogus): validating resolvers "
		        "answer SERVFAIL for the whole domain");
	else
		f = add(r, name, "DNSKEY", "dnssec", failed_status(a.status), 0,
		        "check the resolver, then try again",
		        "DNSSEC: could not tell whether the zone is signed");
	f->ad = a.ad;
	free(name);
}

static void evaluate(struct run *r)
{
	for (size_t di = 0; di < r->in->ndomains; di++) {
		const struct dnscheck_domain *d = &r->in->domains[di];
		for (size_t i = 0; i < d->expected->n; i++)
			check_record(r, di, &d->expected->v[i]);
		check_dnssec(r, d->name);
		char *sts = xasprintf("mta-sts.%s.", d->name);
		add(r, sts, "HTTPS", "mta-sts-policy", DNSCHECK_INFO, 0, "",
		    "the policy file https://mta-sts.%s/.well-known/mta-sts.txt is not fetched "
		    "yet: "
		    "only the _mta-sts TXT record is checked",
		    d->name);
		free(sts);
	}
}

/* Derive every key file's public key once, before the rounds. */
static void read_keys(struct run *r)
{
	r->keyfiles = xcalloc(r->in->ndomains + 1, sizeof(*r->keyfiles));
	for (size_t di = 0; di < r->in->ndomains; di++) {
		const struct dnscheck_domain *d = &r->in->domains[di];
		r->keyfiles[di] = xcalloc(d->nkeys + 1, sizeof(struct keyfile));
		for (size_t k = 0; k < d->nkeys; k++) {
			struct keyfile *kf = &r->keyfiles[di][k];
			struct mc_error e;
			if (dkim_public_from_file(d->keys[k].key_file, &kf->public_key, &e) < 0) {
				kf->problem = xstrdup(e.msg);
				kf->missing = access(d->keys[k].key_file, F_OK) < 0;
			}
		}
	}
}

static void free_keys(struct run *r)
{
	for (size_t di = 0; di < r->in->ndomains; di++) {
		for (size_t k = 0; k < r->in->domains[di].nkeys; k++) {
			free(r->keyfiles[di][k].public_key);
			free(r->keyfiles[di][k].problem);
		}
		free(r->keyfiles[di]);
	}
	free(r->keyfiles);
}

int dnscheck_run(const struct dnscheck_input *in, const struct dnsq_server *server, int timeout_ms,
                 struct dnscheck_report *out, struct mc_error *err)
{
	struct run r = {.in = in, .rep = out};
	int rc = 0;
	memset(out, 0, sizeof(*out));
	dnsq_init(&r.q, server);
	if (timeout_ms > 0)
		r.q.timeout_ms = timeout_ms;
	read_keys(&r);
	for (int round = 0; round < MAX_ROUNDS; round++) {
		dnscheck_report_release(out);
		r.added = 0;
		evaluate(&r);
		if (!r.added)
			break;
		if ((rc = dnsq_run(&r.q, err)) < 0)
			break;
	}
	out->queries = r.q.n;
	free_keys(&r);
	dnsq_release(&r.q);
	return rc;
}
