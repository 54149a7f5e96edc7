/* The live DNS check: the rounds of queries, the findings and the public
 * API; see dnscheck.h and, for how the files share the work,
 * dnscheck_int.h. */
#include "dnscheck_int.h"
#include "dkim.h"
#include "strbuf.h"
#include "xalloc.h"

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

/* Names compare without case and without regard to the final dot. */
int dnscheck_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* 's' begins with the tag 'family', followed by a blank, ';' or the end. */
int dnscheck_of_family(const char *s, const char *family)
{
	size_t n = strlen(family);
	s += strspn(s, " \t");
	return strncasecmp(s, family, n) == 0 && (!s[n] || strchr(" \t;", s[n]));
}

/* ---- a run: the queries, and the keys read once ---- */

static void answer_of(const struct dnsq_query *q, struct dnsq_answer *out)
{
	*out = (struct dnsq_answer){q->status, q->rrs, q->ad};
}

/* The lookup callback: a finished query's answer, or queue it. */
void dnscheck_lookup_cd(struct run *r, const char *name, ldns_rr_type type, int cd,
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

void dnscheck_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	dnscheck_lookup_cd(ctx, name, type, 0, out);
}

/* 'why' of the query behind a failed answer. */
const char *dnscheck_why_of(const struct run *r, const char *name, ldns_rr_type type)
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

struct dnscheck_finding *dnscheck_add(struct run *r, const char *name, const char *type,
                                      const char *check, enum dnscheck_status st, int required,
                                      const char *fix, const char *fmt, ...)
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
void dnscheck_set_values(struct dnscheck_finding *f, const char *expected, char **found, size_t n)
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

/* ---- dispatch ---- */

enum dnscheck_status dnscheck_failed_status(enum dnsq_status s)
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

char *dnscheck_no_answer(const struct run *r)
{
	return xasprintf("no answer from %s within %d ms", r->q.server.text,
	                 r->q.timeout_ms > 0 ? r->q.timeout_ms : DNSQ_TIMEOUT_MS);
}

/* DNSSEC: signed or not, validated or not (the AD bit), bogus or not. */
static void check_dnssec(struct run *r, const char *domain)
{
	struct dnsq_answer a, cd;
	char *name = xasprintf("%s.", domain);
	dnscheck_lookup(r, name, LDNS_RR_TYPE_DNSKEY, &a);
	if (a.status == DNSQ_SERVFAIL)
		dnscheck_lookup_cd(r, name, LDNS_RR_TYPE_DNSKEY, 1, &cd);
	if (a.status == DNSQ_PENDING || (a.status == DNSQ_SERVFAIL && cd.status == DNSQ_PENDING)) {
		free(name);
		return;
	}
	struct dnscheck_finding *f;
	if (a.status == DNSQ_ANSWER && a.ad)
		f = dnscheck_add(
		    r, name, "DNSKEY", "dnssec", DNSCHECK_OK, 0, "",
		    "DNSSEC: signed, and the resolver validated the answers (AD bit set)");
	else if (a.status == DNSQ_ANSWER)
		f = dnscheck_add(
		    r, name, "DNSKEY", "dnssec", DNSCHECK_INFO, 0,
		    "check the DS record at the registrar, or use a validating resolver",
		    "DNSSEC: signed, but the answers are not validated (no AD bit): the "
		    "resolver does not validate, or the parent zone has no DS record");
	else if (a.status == DNSQ_NODATA || a.status == DNSQ_NXDOMAIN)
		f = dnscheck_add(r, name, "DNSKEY", "dnssec", DNSCHECK_INFO, 0, "",
		                 "DNSSEC: not signed, so answers cannot be validated (no AD bit)");
	else if (a.status == DNSQ_SERVFAIL && cd.status == DNSQ_ANSWER)
		f = dnscheck_add(
		    r, name, "DNSKEY", "dnssec", DNSCHECK_HARMFUL, 1,
		    "check the DS record at the registrar and that the signatures have not "
		    "expired",
		    "DNSSEC: signed, but validation fails (bogus): validating resolvers "
		    "answer SERVFAIL for the whole domain");
	else
		f = dnscheck_add(r, name, "DNSKEY", "dnssec", dnscheck_failed_status(a.status), 0,
		                 "check the resolver, then try again",
		                 "DNSSEC: could not tell whether the zone is signed");
	f->ad = a.ad;
	free(name);
}

/* One pass over everything: the findings of what is answered, the
 * queries of what is not. */
static void evaluate(struct run *r)
{
	dnscheck_sts_prepare(r);
	for (size_t di = 0; di < r->in->ndomains; di++) {
		const struct dnscheck_domain *d = &r->in->domains[di];
		for (size_t i = 0; i < d->expected->n; i++)
			dnscheck_check_record(r, di, &d->expected->v[i]);
		check_dnssec(r, d->name);
		dnscheck_sts_row(r, di);
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
	dnscheck_sts_release(&r);
	free_keys(&r);
	dnsq_release(&r.q);
	return rc;
}
