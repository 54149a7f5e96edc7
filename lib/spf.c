/* check_host() of RFC 7208: the identities, the evaluation of records and
 * their terms, the limits, and the explanation; see spf.h. Parsing is in
 * spf_record.c, macros in spf_macro.c, DNS, names and PTR names in
 * spf_lookup.c. */
#include "spf.h"
#include "spf_eval.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *spf_result_name(enum spf_result r)
{
	static const char *const names[] = {"none",     "neutral",   "pass",      "fail",
	                                    "softfail", "temperror", "permerror", "pending"};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

int spf_stop(struct spf_eval *ev, enum spf_result r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->why, sizeof(ev->why), fmt, ap);
	va_end(ap);
	return -(int)r;
}

/* RFC 7208 4.3: a multi-label name of 1..63-octet labels, 253 at most,
 * visible ASCII (an address literal is not a domain). */
static int domain_valid(const char *d)
{
	size_t n = strlen(d), labels = 0;
	if (n && d[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || d[0] == '[')
		return 0;
	for (size_t i = 0; i < n; labels++) {
		size_t l = 0;
		while (i + l < n && d[i + l] != '.') {
			if ((unsigned char)d[i + l] <= 0x20 || (unsigned char)d[i + l] > 0x7e)
				return 0;
			l++;
		}
		if (l == 0 || l > 63)
			return 0;
		i += l + 1;
		if (i == n) /* a dot before the end, after which nothing */
			return 0;
	}
	return labels >= 2;
}

/* ---- terms ---- */

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return !rest || (a[bytes] & mask) == (b[bytes] & mask);
}

/* The client's prefix length for a/mx terms. */
static int bits_of(const struct spf_eval *ev, const struct spf_term *t)
{
	if (ev->family == AF_INET)
		return t->cidr4 >= 0 ? t->cidr4 : 32;
	return t->cidr6 >= 0 ? t->cidr6 : 128;
}

/* Whether an address record of 'rrs' is in the client's network. */
static int rrs_match(const struct spf_eval *ev, const ldns_rr_list *rrs, int bits)
{
	size_t size = ev->family == AF_INET ? 4 : 16;
	for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
		if (rd && ldns_rdf_size(rd) == size &&
		    prefix_match(ev->ip, ldns_rdf_data(rd), bits))
			return 1;
	}
	return 0;
}

static int void_lookup(struct spf_eval *ev, const char *name)
{
	if (++ev->voids > SPF_MAX_VOID)
		return spf_stop(ev, SPF_PERMERROR,
		                "%d void lookups, the limit is %d ('%s' has none)", ev->voids,
		                SPF_MAX_VOID, name);
	return 0;
}

/* a: 1 match, 0 none, or -(result). */
static int a_match(struct spf_eval *ev, const char *name, int bits)
{
	const ldns_rr_list *rrs;
	int r = spf_ask(ev, name, spf_addr_type(ev), &rrs);
	if (r <= 0)
		return r < 0 ? r : void_lookup(ev, name);
	return rrs_match(ev, rrs, bits);
}

static int mx_match(struct spf_eval *ev, const char *name, int bits)
{
	const ldns_rr_list *rrs, *addrs;
	int r = spf_ask(ev, name, LDNS_RR_TYPE_MX, &rrs);
	if (r <= 0)
		return r < 0 ? r : void_lookup(ev, name);
	size_t n = ldns_rr_list_rr_count(rrs);
	if (n > SPF_MAX_NAMES)
		return spf_stop(ev, SPF_PERMERROR, "%zu MX records at '%s', the limit is %d", n,
		                name, SPF_MAX_NAMES);
	for (size_t i = 0; i < n; i++) {
		char *host = spf_dname(ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 1));
		r = host[0] ? spf_ask(ev, host, spf_addr_type(ev), &addrs) : 0;
		free(host);
		if (r < 0 || (r > 0 && rrs_match(ev, addrs, bits)))
			return r < 0 ? r : 1;
	}
	return 0;
}

static int exists_match(struct spf_eval *ev, const char *name)
{
	const ldns_rr_list *rrs;
	int r = spf_ask(ev, name, LDNS_RR_TYPE_A, &rrs);
	return r == 0 ? void_lookup(ev, name) : r;
}

static int check_domain(struct spf_eval *ev, const char *domain, int top);

static int include_match(struct spf_eval *ev, const char *target)
{
	char inner[sizeof(ev->why)];
	ev->depth++;
	int r = check_domain(ev, target, 0);
	ev->depth--;
	if (ev->depth && (r == SPF_TEMPERROR || r == SPF_PERMERROR))
		return -r; /* the include at the top says where it went wrong */
	switch (r) {
	case SPF_PASS:
		return 1;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return 0;
	case SPF_PENDING:
		return -SPF_PENDING;
	case SPF_NONE:
		return spf_stop(ev, SPF_PERMERROR, "include:%s has no SPF record", target);
	default:
		snprintf(inner, sizeof(inner), "%s", ev->why);
		return spf_stop(ev, (enum spf_result)r, "include:%s gave %s: %s", target,
		                spf_result_name((enum spf_result)r), inner);
	}
}

/* Whether term 't' of 'domain's record matches: 1, 0, or -(result). */
static int term_match(struct spf_eval *ev, const char *domain, const struct spf_term *t)
{
	char *target = NULL;
	int r;
	if (t->mech == SPF_M_ALL)
		return 1;
	if (t->mech == SPF_M_IP4 || t->mech == SPF_M_IP6)
		return ev->family == (t->mech == SPF_M_IP4 ? AF_INET : AF_INET6) &&
		       prefix_match(ev->ip, t->net,
		                    t->mech == SPF_M_IP4 ? (t->cidr4 >= 0 ? t->cidr4 : 32)
		                                         : (t->cidr6 >= 0 ? t->cidr6 : 128));
	if (++ev->lookups > SPF_MAX_LOOKUPS)
		return spf_stop(ev, SPF_PERMERROR, "%d DNS lookups, the limit is %d", ev->lookups,
		                SPF_MAX_LOOKUPS);
	if ((r = spf_target(ev, domain, t->spec, &target)) < 0)
		return r;
	switch (t->mech) {
	case SPF_M_A:
		r = a_match(ev, target, bits_of(ev, t));
		break;
	case SPF_M_MX:
		r = mx_match(ev, target, bits_of(ev, t));
		break;
	case SPF_M_PTR:
		r = spf_ptr_match(ev, target);
		break;
	case SPF_M_EXISTS:
		r = exists_match(ev, target);
		break;
	default:
		r = include_match(ev, target);
		break;
	}
	free(target);
	return r;
}

/* ---- records ---- */

static enum spf_result qual_result(char q)
{
	return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

/* exp= (RFC 7208 6.2): any trouble means no explanation. 0 or -(pending). */
static int explain(struct spf_eval *ev, const char *domain, const char *spec)
{
	char *target = NULL, *txt = NULL;
	const ldns_rr_list *rrs;
	struct strbuf sb = STRBUF_INIT;
	size_t len;
	int r = spf_target(ev, domain, spec, &target);
	if (r == 0)
		r = spf_ask(ev, target, LDNS_RR_TYPE_TXT, &rrs);
	if (r == 1 && ldns_rr_list_rr_count(rrs) == 1) {
		txt = spf_txt_join(ldns_rr_list_rr(rrs, 0), &len);
		r = strlen(txt) == len ? spf_expand_text(ev, domain, txt, 1, &sb) : -SPF_PERMERROR;
		if (r == 0)
			snprintf(ev->out->explanation, sizeof(ev->out->explanation), "%s", sb.buf);
	}
	free(txt);
	free(target);
	strbuf_release(&sb);
	return r == -SPF_PENDING ? r : 0;
}

static int follow_redirect(struct spf_eval *ev, const char *domain, const char *spec)
{
	char *target = NULL, inner[sizeof(ev->why)];
	int r;
	if (++ev->lookups > SPF_MAX_LOOKUPS)
		return spf_stop(ev, SPF_PERMERROR, "%d DNS lookups, the limit is %d", ev->lookups,
		                SPF_MAX_LOOKUPS);
	if ((r = spf_target(ev, domain, spec, &target)) < 0)
		return r;
	ev->redirects++;
	r = check_domain(ev, target, 0);
	ev->redirects--;
	if (ev->redirects && (r == SPF_TEMPERROR || r == SPF_PERMERROR))
		r = -r; /* the first redirect says where it went wrong */
	else if (r == SPF_NONE) {
		snprintf(inner, sizeof(inner), "%s", ev->why);
		r = spf_stop(ev, SPF_PERMERROR, "redirect=%s: %s", target, inner);
	} else if (r == SPF_TEMPERROR || r == SPF_PERMERROR) {
		snprintf(inner, sizeof(inner), "%s", ev->why);
		r = spf_stop(ev, (enum spf_result)r, "redirect=%s gave %s: %s", target,
		             spf_result_name((enum spf_result)r), inner);
	} else
		r = -r;
	free(target);
	return r;
}

/* The result of 'rec', the record of 'domain', once a term has matched. */
static int matched(struct spf_eval *ev, const char *domain, const struct spf_record *rec,
                   const struct spf_term *t)
{
	enum spf_result res = qual_result(t->qual);
	if (ev->depth)
		return -(int)res;
	snprintf(ev->out->mechanism, sizeof(ev->out->mechanism), "%s", t->text);
	if (res == SPF_FAIL && rec->exp && explain(ev, domain, rec->exp) < 0)
		return spf_stop(ev, SPF_PENDING, "waiting for the explanation of %s", domain);
	return spf_stop(ev, res, "matched %s in the SPF record of %s", t->text, domain);
}

static int eval_record(struct spf_eval *ev, const char *domain, const struct spf_record *rec)
{
	for (size_t i = 0; i < rec->n; i++) {
		const struct spf_term *t = &rec->terms[i];
		int m = term_match(ev, domain, t);
		if (m > 0)
			return matched(ev, domain, rec, t);
		if (m < 0) {
			if (!ev->depth)
				snprintf(ev->out->mechanism, sizeof(ev->out->mechanism), "%s",
				         t->text);
			return m;
		}
	}
	if (rec->redirect) {
		int r = follow_redirect(ev, domain, rec->redirect);
		if (!ev->depth && (r == -SPF_TEMPERROR || r == -SPF_PERMERROR || r == -SPF_PENDING))
			snprintf(ev->out->mechanism, sizeof(ev->out->mechanism), "redirect=%s",
			         rec->redirect);
		return r;
	}
	if (!ev->depth)
		spf_stop(ev, SPF_NEUTRAL, "no term matched %s in the SPF record of %s (neutral)",
		         ev->c, domain);
	return -SPF_NEUTRAL;
}

/* check_host() on a record in hand: the result. */
static int check_record(struct spf_eval *ev, const char *domain, const char *text, size_t len)
{
	struct spf_record rec;
	char why[400];
	int r;
	if (spf_record_parse(text, len, &rec, why, sizeof(why)) < 0)
		r = spf_stop(ev, SPF_PERMERROR, "%s, in the SPF record of %s", why, domain);
	else
		r = eval_record(ev, domain, &rec);
	spf_record_release(&rec);
	return -r;
}

/* check_host() on a domain: its record looked up first. */
static int check_domain(struct spf_eval *ev, const char *domain, int top)
{
	const ldns_rr_list *rrs;
	char *rec;
	size_t len;
	if (!domain_valid(domain)) {
		spf_stop(ev, SPF_NONE, "'%s' is not a valid domain name", domain);
		return SPF_NONE;
	}
	int r = spf_ask(ev, domain, LDNS_RR_TYPE_TXT, &rrs);
	if (r < 0)
		return -r;
	if (r == 0 && !top && void_lookup(ev, domain) < 0)
		return SPF_PERMERROR;
	size_t n = r ? spf_select(rrs, &rec, &len) : 0;
	if (n == 0) {
		spf_stop(ev, SPF_NONE, "no SPF record at %s", domain);
		return SPF_NONE;
	}
	if (n > 1)
		r = -spf_stop(ev, SPF_PERMERROR, "%zu SPF records at %s, there must be one", n,
		              domain);
	else
		r = check_record(ev, domain, rec, len);
	free(rec);
	return r;
}

/* ---- the identities ---- */

static void finish(struct spf_eval *ev, enum spf_result r)
{
	struct spf_outcome *out = ev->out;
	out->result = r;
	snprintf(out->why, sizeof(out->why), "%s", ev->why);
	out->lookups = ev->lookups;
	out->voids = ev->voids;
	if (r != SPF_FAIL)
		out->explanation[0] = '\0';
	spf_eval_release(ev);
}

/* Set up 'ev' and 'out'; -1 (with the outcome set) when the request
 * cannot be evaluated. */
static int start(struct spf_eval *ev, const struct spf_request *req, const char *domain,
                 const char *sender, dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	spf_eval_init(ev, req, domain, sender, fn, ctx, out);
	snprintf(out->domain, sizeof(out->domain), "%s", domain);
	snprintf(out->sender, sizeof(out->sender), "%s", ev->sender);
	if (ev->family)
		return 0;
	spf_stop(ev, SPF_PERMERROR, "'%s' is not an IP address", req->ip ? req->ip : "");
	finish(ev, SPF_PERMERROR);
	return -1;
}

void spf_check_host(const struct spf_request *req, const char *domain, const char *sender,
                    dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out)
{
	struct spf_eval ev;
	if (start(&ev, req, domain, sender, fn, ctx, out) == 0)
		finish(&ev, (enum spf_result)check_domain(&ev, domain, 1));
}

void spf_check_record(const struct spf_request *req, const char *domain, const char *sender,
                      const char *record, dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out)
{
	struct spf_eval ev;
	if (start(&ev, req, domain, sender, fn, ctx, out) == 0)
		finish(&ev, (enum spf_result)check_record(&ev, domain, record, strlen(record)));
}

void spf_check_helo(const struct spf_request *req, dnsq_lookup_fn fn, void *ctx,
                    struct spf_outcome *out)
{
	const char *helo = req->helo ? req->helo : "";
	char *sender = xasprintf("postmaster@%s", helo);
	if (*helo)
		spf_check_host(req, helo, sender, fn, ctx, out);
	else {
		memset(out, 0, sizeof(*out));
		out->result = SPF_NONE;
		snprintf(out->why, sizeof(out->why), "no HELO name to check");
	}
	free(sender);
}

void spf_check_mailfrom(const struct spf_request *req, dnsq_lookup_fn fn, void *ctx,
                        struct spf_outcome *out)
{
	const char *s = req->sender ? req->sender : "";
	if (!*s) {
		spf_check_helo(req, fn, ctx, out);
		return;
	}
	const char *at = strrchr(s, '@');
	spf_check_host(req, at ? at + 1 : s, s, fn, ctx, out);
}

int spf_expand(const struct spf_request *req, const char *domain, const char *sender,
               const char *text, int explanation, dnsq_lookup_fn fn, void *ctx, struct strbuf *out)
{
	struct spf_eval ev;
	struct spf_outcome o;
	char *target = NULL;
	int r;
	spf_eval_init(&ev, req, domain, sender, fn, ctx, &o);
	if (explanation)
		r = spf_expand_text(&ev, domain, text, 1, out);
	else if (spf_macro_check(text, 0) < 0)
		r = -SPF_PERMERROR;
	else if ((r = spf_target(&ev, domain, text, &target)) == 0)
		strbuf_addstr(out, target);
	free(target);
	spf_eval_release(&ev);
	return r == 0 ? 0 : r == -SPF_PENDING ? 1 : -1;
}
