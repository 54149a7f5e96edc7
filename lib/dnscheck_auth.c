/* The evaluations of a found SPF, DKIM or DMARC record: SPF's lookups
 * and whether it passes for this server, the DKIM key against its key
 * file, DMARC's policy and syntax; see dnscheck_int.h. */
#include "dnscheck_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
			spf_check_record(&req, dom, NULL, spf, dnscheck_lookup, c->r, &o);
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
		dnscheck_add(
		    c->r, n, "TXT", "spf-all", DNSCHECK_HARMFUL, c->required,
		    "end the record with -all (or ~all while testing)",
		    s->all == '+'
		        ? "SPF: '+all' lets every host on the Internet send as %s"
		        : "SPF: '?all' leaves unlisted senders neutral: forged mail from %s is "
		          "not rejected",
		    dom);
	if (s->problem[0])
		dnscheck_add(c->r, n, "TXT", "spf-syntax", DNSCHECK_HARMFUL, c->required,
		             "correct the record: receivers treat it as a permanent error",
		             "SPF: %s", s->problem);
	if (s->tempfail)
		dnscheck_add(
		    c->r, n, "TXT", "spf-lookups", DNSCHECK_TIMEOUT, c->required,
		    "check again later",
		    "SPF: %d DNS lookups counted so far; some includes could not be fetched",
		    s->lookups);
	else
		dnscheck_add(
		    c->r, n, "TXT", "spf-lookups", over ? DNSCHECK_HARMFUL : DNSCHECK_OK,
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
		dnscheck_add(c->r, n, "TXT", "spf-authorises", DNSCHECK_TIMEOUT, c->required,
		             "check again later",
		             "SPF: could not evaluate the record for this server: %s", bad.buf);
	else if (bad.len) {
		char *fix = xasprintf("add%s to the record", terms.buf);
		dnscheck_add(c->r, n, "TXT", "spf-authorises", DNSCHECK_DIFFERENT, c->required, fix,
		             "SPF does not authorise this server: %s", bad.buf);
		free(fix);
	} else
		dnscheck_add(c->r, n, "TXT", "spf-authorises", DNSCHECK_OK, c->required, "",
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
	char *dom = dnscheck_bare(c->rec->name);
	int temp;
	dnscheck_spf_count(dom, spf, dnscheck_lookup, c->r, &s);
	int harmful = spf_count_rows(c, dom, &s);
	harmful |= spf_authorise_row(c, dom, spf, &temp);
	/* Different from ours but sound (an extra include for a newsletter
	 * service, say): worth knowing, not a failure. */
	if (!equal && !harmful && !temp)
		c->r->rep->v[row].level = DNSCHECK_LWARN;
	free(dom);
}

void dnscheck_check_spf(struct ctx *c, struct values *found)
{
	const char *spf = found->v[0];
	int equal = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(c->a->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(c->a->rrs, i);
		char *t = dnscheck_txt(rr);
		equal |= dnscheck_of_family(t, "v=spf1") && dnscheck_rr_equal(c->rec, rr);
		free(t);
	}
	if (equal)
		dnscheck_rec_add(c, DNSCHECK_OK, "", spf, found);
	else
		dnscheck_rec_different(c, found, NULL);
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
		dnscheck_add(c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		             "key file: '%s' is missing: nothing can sign with this key",
		             k->key_file);
	} else if (!kf->public_key) {
		dnscheck_add(
		    c->r, n, "TXT", "dkim-key", DNSCHECK_INFO, 0,
		    "run the check as root (or the mailctl user) to compare with the private key",
		    "key file: %s: the published key was compared with the database only",
		    kf->problem);
		return;
	} else if (published && !strcmp(published, kf->public_key)) {
		dnscheck_add(c->r, n, "TXT", "dkim-key", DNSCHECK_OK, c->required, "",
		             "key file: the published key is the public half of '%s'", k->key_file);
		return;
	} else if (strcmp(k->public_key, kf->public_key) == 0) {
		fix = dnscheck_fix_publish(c->rec, c->d->name, K_DKIM, "publish");
		dnscheck_add(
		    c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		    "key file: the published key is not the public half of '%s': signatures fail",
		    k->key_file);
	} else {
		fix = xasprintf("restore the key file, or make a new key with 'mailctl dkim keygen "
		                "%s' and publish it",
		                c->d->name);
		dnscheck_add(
		    c->r, n, "TXT", "dkim-key", DNSCHECK_DIFFERENT, c->required, fix,
		    "key file: the private key in '%s' does not belong to the key in the database "
		    "and in DNS: signatures fail",
		    k->key_file);
	}
	free(fix);
}

void dnscheck_check_dkim(struct ctx *c, struct values *found)
{
	char *want_p = tag_value(c->rec->value, "p"), *want_k = tag_value(c->rec->value, "k");
	char *p = tag_value(found->v[0], "p"), *k = tag_value(found->v[0], "k");
	const char *kk = k ? k : "rsa"; /* RFC 6376 3.6.1: rsa by default */
	if (!p || !*p)
		dnscheck_rec_different(
		    c, found,
		    p ? "the key is revoked (empty p=): nothing signed with it verifies"
		      : "the record has no p= public key");
	else if (strcmp(p, want_p ? want_p : "") != 0)
		dnscheck_rec_different(c, found, "the published p= is not the key in the database");
	else if (strcasecmp(kk, want_k ? want_k : "rsa") != 0)
		dnscheck_rec_different(c, found, "the published k= is not the key's algorithm");
	else {
		char *detail = xasprintf("k=%s, the key in the database", kk);
		dnscheck_rec_add(c, DNSCHECK_OK, "", detail, found);
		free(detail);
	}
	dkim_key_row(c, p);
	free(want_p);
	free(want_k);
	free(p);
	free(k);
}

/* ---- DMARC ---- */

void dnscheck_check_dmarc(struct ctx *c, struct values *found)
{
	struct dmarc_record got, want;
	const char *n = c->rec->name, *conf = c->r->in->dmarc_policy;
	int bad = dmarc_record_parse(found->v[0], &got) < 0;
	dmarc_record_parse(c->rec->value, &want);
	int have = bad ? -1 : dmarc_policy_strength(got.p);
	int intended = dmarc_policy_strength(conf);
	char *fix = dnscheck_fix_publish(c->rec, c->d->name, K_DMARC, "replace it with");
	if (bad)
		dnscheck_rec_different(c, found, NULL);
	else if (have == 0 && intended > 0) {
		char *detail = xasprintf("p=none: receivers take no action on mail that fails "
		                         "DMARC, but dns.dmarc_policy is '%s'",
		                         conf);
		dnscheck_rec_add(c, DNSCHECK_HARMFUL, fix, detail, found);
		free(detail);
	} else if (have < intended) {
		char *detail = xasprintf("p=%s is weaker than dns.dmarc_policy '%s'", got.p, conf);
		dnscheck_rec_add(c, DNSCHECK_DIFFERENT, fix, detail, found);
		free(detail);
	} else if (have == intended && !strcasecmp(got.rua, want.rua))
		dnscheck_rec_add(c, DNSCHECK_OK, "", found->v[0], found);
	else
		dnscheck_rec_different(c, found, NULL)->level = DNSCHECK_LWARN;
	if (bad)
		dnscheck_add(c->r, n, "TXT", "dmarc-syntax", DNSCHECK_DIFFERENT, c->required, fix,
		             "DMARC syntax invalid: %s", got.problem);
	else if (got.unknown[0])
		dnscheck_add(c->r, n, "TXT", "dmarc-syntax", DNSCHECK_DIFFERENT, 0, fix,
		             "DMARC syntax: unknown tags, which receivers ignore: %s", got.unknown);
	else
		dnscheck_add(
		    c->r, n, "TXT", "dmarc-syntax", DNSCHECK_OK, c->required, "",
		    "DMARC syntax valid; alignment adkim=%c aspf=%c (%s), pct=%d%s", got.adkim,
		    got.aspf, got.adkim == 's' || got.aspf == 's' ? "strict" : "relaxed", got.pct,
		    got.pct < 100 ? ": the policy applies to part of the failing mail only" : "");
	free(fix);
}
