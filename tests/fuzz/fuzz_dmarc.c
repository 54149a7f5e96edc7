/*
 * fuzz_dmarc - libFuzzer harness for lib/dmarc.c and lib/dmarc_from.c.
 *
 * The input is cut at NUL bytes into pieces. The first piece is a DMARC
 * record: it is parsed, and served as the TXT record of every name the
 * evaluation asks for. Every piece is also a From header value. Checks
 * what dmarc.h promises: a valid record has a known policy, alignment
 * modes r/s and pct 0..100, and is recognised as a DMARC record; an
 * invalid one says why. From domains are lowercase, fit their buffer and
 * read back the same from "x@<domain>"; the count over several values is
 * the sum of the counts of each. Organizational domains are a suffix of
 * the domain and their own organizational domain. An evaluation ends in
 * a known result whose disposition is no stronger than the policy and is
 * "none" unless the message failed.
 */
#include "dmarc.h"

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIECES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int fits(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int no_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	return 1;
}

/* One line of printable ASCII: what messages for humans are. */
static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

static void check_record(const char *txt)
{
	struct dmarc_record d;
	int rc = dmarc_record_parse(txt, &d);
	check(fits(d.p, sizeof(d.p)) && fits(d.sp, sizeof(d.sp)) && fits(d.rua, sizeof(d.rua)) &&
	      fits(d.ruf, sizeof(d.ruf)) && fits(d.problem, sizeof(d.problem)) &&
	      fits(d.unknown, sizeof(d.unknown)));
	check((d.adkim == 'r' || d.adkim == 's') && (d.aspf == 'r' || d.aspf == 's'));
	check(d.pct >= 0 && d.pct <= 100);
	if (rc == 0) {
		check(!d.problem[0] && !d.none_fallback);
		check(dmarc_policy_strength(d.p) >= 0 && no_upper(d.p));
		check(!d.sp[0] || dmarc_policy_strength(d.sp) >= 0);
		check(dmarc_record_is_dmarc(txt));
	} else {
		check(rc == -1 && d.problem[0] && printable(d.problem));
		check(!d.none_fallback || d.rua[0]);
	}
}

static void check_org(const char *domain)
{
	char org[256], again[256], lower[256];
	size_t n = strlen(domain);
	if (dmarc_org_domain(domain, org, sizeof(org)) < 0)
		return;
	memcpy(lower, domain, n + 1);
	if (n && lower[n - 1] == '.')
		lower[--n] = '\0';
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	size_t o = strlen(org);
	check(o && o <= n && !strcmp(lower + n - o, org) && (o == n || lower[n - o - 1] == '.'));
	check(dmarc_org_domain(org, again, sizeof(again)) == 0 && !strcmp(org, again));
}

static void check_from(const char *const *values, size_t n)
{
	char d[4][256], back[1][256], addr[300];
	size_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += dmarc_from_domains(values + i, 1, NULL, 0);
	size_t count = dmarc_from_domains(values, n, d, 4);
	check(count == sum);
	for (size_t i = 0; i < count && i < 4; i++) {
		check(strlen(d[i]) < 256 && no_upper(d[i]));
		if (!d[i][0])
			continue;
		strcpy(addr, "x@");
		strcat(addr, d[i]);
		const char *v = addr;
		check(dmarc_from_domains(&v, 1, back, 1) == 1 && !strcmp(back[0], d[i]));
		check_org(d[i]);
	}
}

/* ---- evaluation, with the record served everywhere ---- */

struct served {
	const char *txt;
	enum dnsq_status status;
	ldns_rr_list *lists[4];
	size_t n;
};

static void serve(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct served *s = ctx;
	ldns_rdf *owner = NULL;
	memset(out, 0, sizeof(*out));
	out->status = s->status;
	if (s->status != DNSQ_ANSWER || s->n == 4 || type != LDNS_RR_TYPE_TXT ||
	    ldns_str2rdf_dname(&owner, name) != LDNS_STATUS_OK)
		return;
	ldns_rr *rr = ldns_rr_new();
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	size_t len = strlen(s->txt), off = 0;
	do {
		uint8_t buf[256];
		size_t n = len - off > 255 ? 255 : len - off;
		buf[0] = (uint8_t)n;
		memcpy(buf + 1, s->txt + off, n);
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, buf));
		off += n;
	} while (off < len);
	ldns_rr_list *l = ldns_rr_list_new();
	ldns_rr_list_push_rr(l, rr);
	s->lists[s->n++] = l;
	out->rrs = l;
}

static void check_evaluate(const char *const *pieces, size_t n, uint8_t knobs)
{
	static const enum dnsq_status statuses[] = {DNSQ_ANSWER, DNSQ_ANSWER, DNSQ_NXDOMAIN,
	                                            DNSQ_SERVFAIL};
	struct served s = {.txt = pieces[0], .status = statuses[knobs & 3]};
	char d[2][256];
	size_t nd = dmarc_from_domains(pieces + (n > 1), 1, d, 2);
	struct dmarc_dkim_input dkim[1] = {{nd ? d[0] : "example.com", knobs & 4}};
	struct dmarc_input in = {
	    .from_values = pieces + (n > 1),
	    .nfrom = n > 2 && (knobs & 8) ? 2 : 1,
	    .spf_domain = nd > 1 ? d[1] : NULL,
	    .spf_pass = knobs & 16,
	    .dkim = dkim,
	    .ndkim = 1,
	    .sample = knobs,
	};
	struct dmarc_outcome out;
	dmarc_evaluate(&in, serve, &s, &out);
	for (size_t i = 0; i < s.n; i++)
		ldns_rr_list_deep_free(s.lists[i]);
	check(fits(out.why, sizeof(out.why)) && out.why[0] && printable(out.why));
	check(fits(out.header_from, 256) && fits(out.policy_domain, 256));
	check(out.result <= DMARC_PERMERROR);
	int disp = dmarc_policy_strength(out.disposition);
	check(disp >= 0);
	check(out.result == DMARC_FAIL || disp == 0);
	check(out.result != DMARC_PASS || out.spf_aligned || out.dkim_aligned);
	if (out.result == DMARC_PASS || out.result == DMARC_FAIL)
		check(dmarc_policy_strength(out.policy) >= disp && out.policy_domain[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *pieces[MAX_PIECES];
	size_t n = 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (char *p = s; n < MAX_PIECES && p <= s + size; p += strlen(p) + 1)
		pieces[n++] = p;

	check_record(pieces[0]);
	check_from(pieces, n);
	check_evaluate(pieces, n, size ? data[size - 1] : 0);
	free(s);
	return 0;
}
