/* The MTA-STS policy row of the DNS check: the addresses of mta-sts.DOMAIN
 * and the MX hosts looked up in the rounds, every policy fetched at once
 * (mtasts.h) when they are known, and judged against the policy we serve
 * (dnsrec_mta_sts_policy()); see dnscheck.h and dnscheck_int.h. */
#include "dnscheck_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK "mta-sts-policy"

/* ---- judging a fetched policy (pure) ---- */

static const struct {
	enum dnscheck_status status;
	const char *what, *fix; /* NULL: it names mta-sts.DOMAIN (fix_for()) */
} fetch_errors[] = {
    [MTASTS_FETCH_NOADDR] = {DNSCHECK_MISSING, "senders cannot fetch the policy", NULL},
    [MTASTS_FETCH_CONNECT] = {DNSCHECK_ERROR, "the policy is unreachable",
                              "start nginx ('mailctl service start') and open port 443 to "
                              "the world"},
    [MTASTS_FETCH_TIMEOUT] = {DNSCHECK_TIMEOUT, "the policy is unreachable",
                              "start nginx ('mailctl service start') and open port 443 to "
                              "the world"},
    [MTASTS_FETCH_TLS] = {DNSCHECK_ERROR,
                          "certificate or TLS problem, so senders ignore the "
                          "policy",
                          NULL},
    [MTASTS_FETCH_REDIRECT] = {DNSCHECK_ERROR, "senders ignore the policy",
                               "serve the policy at that address itself with status 200 "
                               "('mailctl apply' writes nginx's site)"},
    [MTASTS_FETCH_HTTP] = {DNSCHECK_ERROR, "senders ignore the policy",
                           "serve the policy there with status 200 ('mailctl apply' writes "
                           "nginx's site)"},
    [MTASTS_FETCH_TYPE] = {DNSCHECK_ERROR, "senders ignore the policy",
                           "serve the policy as text/plain ('mailctl apply' writes nginx's "
                           "site)"},
    [MTASTS_FETCH_SIZE] = {DNSCHECK_ERROR, "senders ignore the policy",
                           "serve the policy 'mailctl apply' writes"},
    [MTASTS_FETCH_SYNTAX] = {DNSCHECK_ERROR, "senders ignore the policy",
                             "serve the policy 'mailctl apply' writes"},
};

/* The fix for fetch error 'e' of 'domain' (caller frees). */
static char *fix_for(enum mtasts_fetch_error e, const char *domain)
{
	if (e == MTASTS_FETCH_NOADDR)
		return xasprintf(
		    "publish an address for mta-sts.%s (the CNAME 'mailctl dns records' "
		    "prints)",
		    domain);
	if (e == MTASTS_FETCH_TLS)
		return xasprintf("install a certificate from a public CA that names mta-sts.%s "
		                 "('mailctl cert request')",
		                 domain);
	return xstrdup(fetch_errors[e].fix);
}

static void verdict(struct dnscheck_sts_verdict *out, enum dnscheck_status st, char *detail,
                    char *fix)
{
	out->status = st;
	out->detail = detail;
	out->fix = fix;
}

static void judge_error(const struct mtasts_fetch *f, struct dnscheck_sts_verdict *out)
{
	size_t e = (size_t)f->error < sizeof(fetch_errors) / sizeof(fetch_errors[0]) &&
	                   fetch_errors[f->error].what
	               ? (size_t)f->error
	               : (size_t)MTASTS_FETCH_HTTP;
	verdict(out, fetch_errors[e].status,
	        xasprintf("MTA-STS: %s: %s", f->err.msg[0] ? f->err.msg : "not fetched",
	                  fetch_errors[e].what),
	        fix_for((enum mtasts_fetch_error)e, f->domain));
}

/* The MX hosts no pattern of 'p' covers, "a, b", or "" (caller frees). */
static char *uncovered(const struct mtasts_policy *p, char *const *mx, size_t nmx)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < nmx; i++)
		if (mtasts_policy_match(p, mx[i]) < 0) {
			size_t n = strlen(mx[i]);
			n -= n > 1 && mx[i][n - 1] == '.';
			strbuf_addf(&sb, "%s%.*s", sb.len ? ", " : "", (int)n, mx[i]);
		}
	return strbuf_detach(&sb);
}

/* "mx a, mx b" of a policy, for details. */
static char *summary(const struct mtasts_policy *p)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "mode %s, max_age %lu, mx ", mtasts_mode_name(p->mode), p->max_age);
	for (size_t i = 0; i < p->nmx; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", p->mx[i]);
	return strbuf_detach(&sb);
}

/* A valid policy: every MX covered, then our mode, then our very text. */
static void judge_policy(const struct mtasts_fetch *f, const char *ours, char *const *mx,
                         size_t nmx, int mx_known, struct dnscheck_sts_verdict *out)
{
	struct mtasts_policy mine = {0};
	struct mc_error e;
	int have_mine = ours && mtasts_parse(ours, strlen(ours), &mine, &e) == 0;
	char *missed = uncovered(&f->policy, mx, nmx), *got = summary(&f->policy);
	if (*missed)
		verdict(
		    out, DNSCHECK_DIFFERENT,
		    xasprintf("MTA-STS: the MX host %s is not covered by the policy (%s): "
		              "senders enforcing MTA-STS will not deliver there",
		              missed, got),
		    xasprintf("cover %s with an mx line of the policy ('mailctl apply' writes one "
		              "for the mail host), or correct the MX record",
		              missed));
	else if (have_mine && mine.mode != f->policy.mode)
		verdict(out, DNSCHECK_DIFFERENT,
		        xasprintf("MTA-STS: the policy's mode is '%s', but mailctl publishes '%s'",
		                  mtasts_mode_name(f->policy.mode), mtasts_mode_name(mine.mode)),
		        xstrdup("run 'mailctl apply': nginx then serves the policy it writes"));
	else if (have_mine && (f->len != strlen(ours) || memcmp(f->text, ours, f->len)))
		verdict(
		    out, DNSCHECK_DIFFERENT,
		    xasprintf("MTA-STS: the policy served is not the one mailctl writes (%s)", got),
		    xstrdup("run 'mailctl apply'"));
	else
		verdict(out, DNSCHECK_OK,
		        xasprintf("MTA-STS: %s (%s)%s",
		                  have_mine ? "the policy mailctl writes" : "valid", got,
		                  mx_known ? "" : "; the MX hosts could not be looked up"),
		        xstrdup(""));
	free(missed);
	free(got);
	mtasts_policy_release(&mine);
}

void dnscheck_sts_judge(const struct mtasts_fetch *fetch, const char *ours, char *const *mx,
                        size_t nmx, int mx_known, struct dnscheck_sts_verdict *out)
{
	if (fetch->error != MTASTS_FETCH_OK)
		judge_error(fetch, out);
	else
		judge_policy(fetch, ours, mx, nmx, mx_known, out);
}

/* ---- in the rounds ---- */

static const struct dnsrec *expected_sts(const struct dnscheck_domain *d)
{
	for (size_t i = 0; i < d->expected->n; i++)
		if (dnscheck_classify(&d->expected->v[i], d->name) == K_STS)
			return &d->expected->v[i];
	return NULL;
}

/* The mode whose policy has the id of our _mta-sts TXT record, or NULL. */
static const char *mode_of_id(const struct dnscheck_input *in, const struct dnscheck_domain *d)
{
	const struct dnsrec *sts = expected_sts(d);
	const char *id = sts ? strstr(sts->value, "id=") : NULL;
	const char *found = NULL;
	if (!id)
		return NULL;
	id += 3;
	for (enum mtasts_mode m = MTASTS_ENFORCE; !found && m <= MTASTS_NONE; m++) {
		struct dnsrec_input pin = {.mailhost = in->mailhost,
		                           .mta_sts_mode = mtasts_mode_name(m)};
		struct strbuf policy = STRBUF_INIT;
		char want[21];
		dnsrec_mta_sts_policy(&pin, &policy);
		dnsrec_mta_sts_id(policy.buf, want);
		if (!strncmp(id, want, 20) && !isalnum((unsigned char)id[20]))
			found = mtasts_mode_name(m);
		strbuf_release(&policy);
	}
	return found;
}

char *dnscheck_sts_policy(const struct dnscheck_input *in, const struct dnscheck_domain *d)
{
	const char *mode = in->mta_sts_mode ? in->mta_sts_mode : mode_of_id(in, d);
	if (!mode || !in->mailhost)
		return NULL;
	struct dnsrec_input pin = {.mailhost = in->mailhost, .mta_sts_mode = mode};
	struct strbuf policy = STRBUF_INIT;
	dnsrec_mta_sts_policy(&pin, &policy);
	return strbuf_detach(&policy);
}

struct sts_dns {
	struct dnsq_answer a4, a6, mx;
};

/* Ask for the addresses of mta-sts.DOMAIN and the domain's MX; 0 while an
 * answer is still to come. */
static int sts_lookups(struct run *r, const char *domain, struct sts_dns *out)
{
	char *web = xasprintf("mta-sts.%s.", domain), *dom = xasprintf("%s.", domain);
	dnscheck_lookup(r, web, LDNS_RR_TYPE_A, &out->a4);
	dnscheck_lookup(r, web, LDNS_RR_TYPE_AAAA, &out->a6);
	dnscheck_lookup(r, dom, LDNS_RR_TYPE_MX, &out->mx);
	free(web);
	free(dom);
	return out->a4.status != DNSQ_PENDING && out->a6.status != DNSQ_PENDING &&
	       out->mx.status != DNSQ_PENDING;
}

/* The addresses answered, NULL-terminated, or NULL when none. */
static char **addresses(const struct sts_dns *dns)
{
	const struct dnsq_answer *as[] = {&dns->a4, &dns->a6};
	char **v = NULL;
	size_t n = 0;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0;
		     as[k]->status == DNSQ_ANSWER && i < ldns_rr_list_rr_count(as[k]->rrs); i++) {
			char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(as[k]->rrs, i), 0));
			if (!s)
				continue;
			v = xrealloc(v, (n + 2) * sizeof(char *));
			v[n++] = s;
			v[n] = NULL;
		}
	return v;
}

static void sts_init(struct run *r)
{
	r->sts = xcalloc(r->in->ndomains + 1, sizeof(*r->sts));
	for (size_t di = 0; di < r->in->ndomains; di++)
		r->sts[di].published = expected_sts(&r->in->domains[di]) != NULL;
}

void dnscheck_sts_prepare(struct run *r)
{
	if (!r->sts)
		sts_init(r);
	if (!r->in->mta_sts_fetch)
		return;
	struct mtasts_fetch *batch = xcalloc(r->in->ndomains + 1, sizeof(*batch));
	size_t *which = xcalloc(r->in->ndomains + 1, sizeof(*which)), n = 0;
	for (size_t di = 0; di < r->in->ndomains; di++) {
		struct sts_state *st = &r->sts[di];
		struct sts_dns dns;
		if (!st->published || st->fetched || !sts_lookups(r, r->in->domains[di].name, &dns))
			continue;
		if (!(st->addrs = addresses(&dns))) {
			st->fetched = -1; /* nothing to fetch from: the row says why */
			continue;
		}
		batch[n] = (struct mtasts_fetch){.domain = r->in->domains[di].name,
		                                 .addrs = (const char *const *)st->addrs};
		which[n++] = di;
	}
	struct mtasts_fetch_options o = {r->in->mta_sts_ca_file,
	                                 r->q.timeout_ms > 0 ? r->q.timeout_ms : DNSQ_TIMEOUT_MS};
	struct mc_error err;
	if (n && mtasts_fetch_all(batch, n, &o, &err) < 0)
		for (size_t k = 0; k < n; k++) /* libcurl would not start: say so in each row */
			batch[k].error = MTASTS_FETCH_CONNECT, batch[k].err = err;
	for (size_t k = 0; k < n; k++) {
		r->sts[which[k]].fetch = batch[k];
		r->sts[which[k]].fetched = 1;
	}
	free(batch);
	free(which);
}

/* The hosts of an MX answer, lowercase, without a null MX. */
static char **mx_hosts(const struct dnsq_answer *a, size_t *n)
{
	char **v = xcalloc(1, sizeof(char *));
	*n = 0;
	for (size_t i = 0; a->status == DNSQ_ANSWER && i < ldns_rr_list_rr_count(a->rrs); i++) {
		char *h = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(a->rrs, i), 1));
		if (!h || !strcmp(h, ".")) {
			free(h);
			continue;
		}
		for (char *p = h; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		v = xrealloc(v, (*n + 2) * sizeof(char *));
		v[(*n)++] = h;
		v[*n] = NULL;
	}
	return v;
}

/* No address to fetch from: a lookup failed, or mta-sts.DOMAIN has none. */
static void row_no_address(struct run *r, const struct dnscheck_domain *d, const char *web,
                           const struct sts_dns *dns)
{
	const struct dnsq_answer *a = &dns->a4;
	if (a->status == DNSQ_NODATA || a->status == DNSQ_NXDOMAIN)
		a = &dns->a6;
	if (a->status == DNSQ_NODATA || a->status == DNSQ_NXDOMAIN) {
		const struct dnsrec *cname = NULL;
		for (size_t i = 0; i < d->expected->n && !cname; i++)
			if (dnscheck_same_name(d->expected->v[i].name, web))
				cname = &d->expected->v[i];
		char *fix = cname ? dnscheck_fix_publish(cname, d->name, K_CNAME, "publish")
		                  : fix_for(MTASTS_FETCH_NOADDR, d->name);
		dnscheck_add(r, web, "HTTPS", CHECK, DNSCHECK_MISSING, 0, fix,
		             "MTA-STS: %s has no address: %s", web,
		             fetch_errors[MTASTS_FETCH_NOADDR].what);
		free(fix);
		return;
	}
	enum dnscheck_status st = dnscheck_failed_status(a->status);
	char *why = st == DNSCHECK_TIMEOUT    ? dnscheck_no_answer(r)
	            : st == DNSCHECK_SERVFAIL ? xstrdup("the resolver answered SERVFAIL")
	            : st == DNSCHECK_REFUSED  ? xstrdup("the resolver refused to answer")
	                                      : xstrdup(dnscheck_why_of(r, web, LDNS_RR_TYPE_A));
	dnscheck_add(r, web, "HTTPS", CHECK, st, 0,
	             "check the resolver and the domain's name servers, then try again",
	             "MTA-STS: could not look up the address of %s to fetch the policy: %s", web,
	             why);
	free(why);
}

static void row_fetched(struct run *r, const struct dnscheck_domain *d, const char *web,
                        const struct sts_state *st, const struct sts_dns *dns)
{
	size_t nmx;
	char **mx = mx_hosts(&dns->mx, &nmx), *ours = dnscheck_sts_policy(r->in, d);
	int mx_known = dns->mx.status == DNSQ_ANSWER || dns->mx.status == DNSQ_NODATA ||
	               dns->mx.status == DNSQ_NXDOMAIN;
	struct dnscheck_sts_verdict v;
	dnscheck_sts_judge(&st->fetch, ours, mx, nmx, mx_known, &v);
	dnscheck_add(r, web, "HTTPS", CHECK, v.status, 0, v.fix, "%s", v.detail);
	free(v.detail);
	free(v.fix);
	free(ours);
	for (size_t i = 0; i < nmx; i++)
		free(mx[i]);
	free(mx);
}

void dnscheck_sts_row(struct run *r, size_t di)
{
	const struct dnscheck_domain *d = &r->in->domains[di];
	const struct sts_state *st = &r->sts[di];
	struct sts_dns dns;
	if (!st->published || (r->in->mta_sts_fetch && !st->fetched))
		return; /* nothing to say, or not yet */
	char *web = xasprintf("mta-sts.%s.", d->name), *url = mtasts_url(d->name);
	if (!r->in->mta_sts_fetch)
		dnscheck_add(r, web, "HTTPS", CHECK, DNSCHECK_INFO, 0, "",
		             "MTA-STS: the policy file %s is not fetched here; 'mailctl dns check' "
		             "fetches and checks it",
		             url);
	else {
		sts_lookups(r, d->name, &dns); /* all answered: the fetch waited for them */
		if (st->fetched < 0)
			row_no_address(r, d, web, &dns);
		else
			row_fetched(r, d, web, st, &dns);
	}
	free(web);
	free(url);
}

void dnscheck_sts_release(struct run *r)
{
	for (size_t di = 0; r->sts && di < r->in->ndomains; di++) {
		for (char **a = r->sts[di].addrs; a && *a; a++)
			free(*a);
		free(r->sts[di].addrs);
		mtasts_fetch_release(&r->sts[di].fetch);
	}
	free(r->sts);
	r->sts = NULL;
}
