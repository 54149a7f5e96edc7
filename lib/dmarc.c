/* DMARC (RFC 7489): record parsing, organizational domains and the
 * evaluation of one message; the From field parser is in dmarc_from.c.
 * See dmarc.h. */
#include "dmarc.h"
#include "address.h"
#include "dnscheck.h"
#include "strbuf.h"

#include <libpsl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VALUE_MAX  2048 /* longest tag value read */
#define DOMAIN_MAX 253

const char *dmarc_result_name(enum dmarc_result r)
{
	static const char *const names[] = {
	    [DMARC_NONE] = "none",           [DMARC_PASS] = "pass",           [DMARC_FAIL] = "fail",
	    [DMARC_TEMPERROR] = "temperror", [DMARC_PERMERROR] = "permerror",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

int dmarc_policy_strength(const char *policy)
{
	static const char *const order[] = {"none", "quarantine", "reject"};
	for (int i = 0; i < 3; i++)
		if (!strcasecmp(policy, order[i]))
			return i;
	return -1;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ---- records ---- */

/* A list of URIs, each with a scheme (RFC 7489 6.2). */
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

/* Digits only (1*DIGIT), at most 'max'. */
static int valid_int(const char *v, long max)
{
	size_t n = strspn(v, "0123456789");
	return n && !v[n] && n <= 10 && strtol(v, NULL, 10) <= max;
}

static int one_of(const char *v, const char *a, const char *b, const char *c)
{
	return !strcmp(v, a) || !strcmp(v, b) || (c && !strcmp(v, c));
}

/* 'src' into 'dst', cut to fit. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Check and store one tag (name and value as in the record, the name
 * lowercased); returns NULL, "unknown" or what is wrong. */
static const char *record_tag(struct dmarc_record *d, const char *tag, char *v)
{
	int ci = !strcmp(tag, "p") || !strcmp(tag, "sp") || !strcmp(tag, "np") ||
	         !strcmp(tag, "adkim") || !strcmp(tag, "aspf") || !strcmp(tag, "fo") ||
	         !strcmp(tag, "rf") || !strcmp(tag, "psd") || !strcmp(tag, "t");
	if (ci)
		lower(v);
	if (!strcmp(tag, "p") || !strcmp(tag, "sp") || !strcmp(tag, "np")) {
		if (dmarc_policy_strength(v) < 0)
			return "must be none, quarantine or reject";
		/* v is now one of the three policy words, which all fit */
		if (tag[0] != 'n')
			memcpy(tag[0] == 'p' ? d->p : d->sp, v, strlen(v) + 1);
	} else if (!strcmp(tag, "adkim") || !strcmp(tag, "aspf")) {
		if (!one_of(v, "r", "s", NULL))
			return "must be r (relaxed) or s (strict)";
		*(tag[1] == 'd' ? &d->adkim : &d->aspf) = v[0];
	} else if (!strcmp(tag, "rua") || !strcmp(tag, "ruf")) {
		if (!valid_uris(v))
			return "must be a comma-separated list of URIs such as "
			       "mailto:dmarc@example.org";
		copy_cut(tag[2] == 'a' ? d->rua : d->ruf, sizeof(d->rua), v);
	} else if (!strcmp(tag, "pct")) {
		if (!valid_int(v, 100))
			return "must be a whole number from 0 to 100";
		d->pct = atoi(v);
	} else if (!strcmp(tag, "ri")) {
		if (!valid_int(v, 2147483647))
			return "must be a number of seconds";
	} else if (!strcmp(tag, "fo")) {
		if (!valid_fo(v))
			return "must be 0, 1, d or s, separated by ':'";
	} else if (!strcmp(tag, "rf")) {
		if (strcmp(v, "afrf"))
			return "must be afrf";
	} else if (!strcmp(tag, "psd")) {
		if (!one_of(v, "y", "n", "u"))
			return "must be y, n or u";
	} else if (!strcmp(tag, "t")) {
		if (!one_of(v, "y", "n", NULL))
			return "must be y or n";
	} else
		return "unknown"; /* not an error: receivers ignore it */
	return NULL;
}

/* A tag name: ALPHA *(ALPHA / DIGIT / "_") (RFC 6376 3.2). */
static int valid_tag_name(const char *s, size_t n)
{
	if (!n || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
		            s[i]))
			return 0;
	return 1;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Split "tag=value" out of 's' (trimmed) into 'tag' (lowercased) and
 * 'val'. -1: not tag=value; -2: the value is too long. */
static int split_tag(const char *s, size_t n, char *tag, size_t tsize, char *val, size_t vsize)
{
	while (n && blank(*s))
		s++, n--;
	while (n && blank(s[n - 1]))
		n--;
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return -1;
	size_t tl = (size_t)(eq - s);
	while (tl && blank(s[tl - 1]))
		tl--;
	const char *v = eq + 1;
	size_t vl = n - (size_t)(v - s);
	while (vl && blank(*v))
		v++, vl--;
	if (tl >= tsize || !valid_tag_name(s, tl))
		return -1;
	if (vl >= vsize)
		return -2;
	memcpy(tag, s, tl);
	tag[tl] = '\0';
	lower(tag);
	memcpy(val, v, vl);
	val[vl] = '\0';
	return 0;
}

__attribute__((format(printf, 2, 3))) static int record_fail(struct dmarc_record *d,
                                                             const char *fmt, ...)
{
	char raw[sizeof(d->problem)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* it quotes the record: no control bytes into terminals or logs */
	addr_printable(raw, d->problem, sizeof(d->problem));
	return -1;
}

/* Note 'tag' in 'seen' (" v p rua "); 0 when it was there already. */
static int first_time(char *seen, size_t size, const char *tag)
{
	char key[40];
	snprintf(key, sizeof(key), " %s ", tag);
	if (strstr(seen, key))
		return 0;
	if (strlen(seen) + strlen(key) < size)
		strcat(seen, key + 1);
	return 1;
}

static void note_unknown(struct dmarc_record *d, const char *tag)
{
	size_t u = strlen(d->unknown);
	snprintf(d->unknown + u, sizeof(d->unknown) - u, "%s%s", u ? ", " : "", tag);
}

int dmarc_record_parse(const char *txt, struct dmarc_record *out)
{
	char tag[32], val[VALUE_MAX], seen[512] = " ", policy_problem[256] = "";
	memset(out, 0, sizeof(*out));
	out->adkim = out->aspf = 'r';
	out->pct = 100;
	for (const char *p = txt; *p; p += p[strcspn(p, ";")] ? strcspn(p, ";") + 1 : strlen(p)) {
		size_t n = strcspn(p, ";");
		int first = p == txt;
		if (strspn(p, " \t\r\n") >= n && !first) /* an empty part: a final ';' */
			continue;
		int rc = split_tag(p, n, tag, sizeof(tag), val, sizeof(val));
		if (rc == -1 && first)
			break; /* the check for v= below says what is wrong */
		if (rc < 0)
			return rc == -2
			           ? record_fail(out, "a value longer than %d octets", VALUE_MAX)
			           : record_fail(out, "'%.*s' is not tag=value",
			                         (int)(n > 60 ? 60 : n), p);
		if (first && (strcmp(tag, "v") || strcmp(val, "DMARC1")))
			return record_fail(
			    out, "the record must start with v=DMARC1, not '%s=%.40s'", tag, val);
		if (!first_time(seen, sizeof(seen), tag))
			return record_fail(out, "tag '%s' appears twice", tag);
		const char *why = first ? NULL : record_tag(out, tag, val);
		if (why && !strcmp(why, "unknown"))
			note_unknown(out, tag);
		else if (why && (!strcmp(tag, "p") || !strcmp(tag, "sp")) && !policy_problem[0])
			snprintf(policy_problem, sizeof(policy_problem), "%s=%.60s: %s", tag, val,
			         why);
		else if (why && strcmp(tag, "p") && strcmp(tag, "sp"))
			return record_fail(out, "%s=%.60s: %s", tag, val, why);
	}
	if (!strstr(seen, " v "))
		return record_fail(out, "the record must start with v=DMARC1");
	if (policy_problem[0] || !out->p[0]) {
		out->none_fallback = out->rua[0] != '\0';
		return record_fail(out, "%s",
		                   policy_problem[0] ? policy_problem
		                                     : "the record has no p= policy tag");
	}
	return 0;
}

int dmarc_record_is_dmarc(const char *txt)
{
	static const char blanks[] = " \t\r\n"; /* as split_tag() trims */
	const char *p = txt + strspn(txt, blanks);
	if (*p != 'v' && *p != 'V')
		return 0;
	p += 1 + strspn(p + 1, blanks);
	if (*p != '=')
		return 0;
	p += 1 + strspn(p + 1, blanks);
	if (strncmp(p, "DMARC1", 6))
		return 0;
	p += 6 + strspn(p + 6, blanks);
	return *p == ';' || *p == '\0';
}

/* ---- organizational domains ---- */

static const psl_ctx_t *psl;
static int psl_is_builtin;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* Loaded once and kept for the life of the process. */
static void psl_setup(void)
{
	psl_ctx_t *p = psl_load_file(DMARC_PSL_FILE);
	if (p) {
		psl = p;
		return;
	}
	psl = psl_builtin();
	psl_is_builtin = 1;
}

const char *dmarc_psl_source(void)
{
	pthread_once(&psl_once, psl_setup);
	return psl_is_builtin ? "built-in" : DMARC_PSL_FILE;
}

/* 'in' lowercased into 'out' (DOMAIN_MAX + 1 bytes) without a final dot;
 * -1 when it is not an A-label domain name. */
static int domain_norm(const char *in, char *out)
{
	size_t n = strlen(in), label = 0;
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return label ? 0 : -1;
}

int dmarc_org_domain(const char *domain, char *out, size_t outlen)
{
	char d[DOMAIN_MAX + 1];
	if (domain_norm(domain, d) < 0)
		return -1;
	pthread_once(&psl_once, psl_setup);
	/* NULL for a public suffix itself: its own organizational domain */
	const char *reg = psl ? psl_registrable_domain(psl, d) : NULL;
	if (!reg)
		reg = d;
	size_t n = strlen(reg);
	if (n >= outlen)
		return -1;
	memcpy(out, reg, n + 1);
	return 0;
}

/* ---- evaluation ---- */

/* Everything one evaluation needs besides its input and outcome. */
struct eval {
	const struct dmarc_input *in;
	struct dmarc_outcome *out;
	dnsq_lookup_fn fn;
	void *ctx;
	char org[DOMAIN_MAX + 1]; /* of the From domain */
	struct dmarc_record rec;
	const char *dkim_domain; /* the first aligned passing d= */
};

__attribute__((format(printf, 3, 4))) static int settle(struct dmarc_outcome *out,
                                                        enum dmarc_result r, const char *fmt, ...)
{
	va_list ap;
	out->result = r;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The one From domain of the message into out->header_from, or -1 with
 * the outcome settled (permerror). */
static int author_domain(struct eval *e)
{
	char v[DMARC_MAX_AUTHORS][256], d[DMARC_MAX_AUTHORS][DOMAIN_MAX + 1], q[80];
	struct dmarc_outcome *out = e->out;
	if (e->in->nfrom == 0)
		return settle(out, DMARC_PERMERROR, "no From field: not evaluated");
	if (e->in->nfrom > 1)
		return settle(out, DMARC_PERMERROR,
		              "%zu From fields (RFC 5322 allows one): not evaluated", e->in->nfrom);
	size_t n = dmarc_from_domains(e->in->from_values, 1, v, DMARC_MAX_AUTHORS);
	if (n == 0)
		return settle(out, DMARC_PERMERROR, "the From field holds no address");
	if (n > DMARC_MAX_AUTHORS)
		return settle(out, DMARC_PERMERROR,
		              "the From field holds %zu addresses, more than %d", n,
		              DMARC_MAX_AUTHORS);
	for (size_t i = 0; i < n; i++) {
		if (!v[i][0])
			return settle(out, DMARC_PERMERROR,
			              "From address %zu of %zu has no usable domain", i + 1, n);
		if (domain_norm(v[i], d[i]) < 0)
			return settle(out, DMARC_PERMERROR, "From domain '%s' is not a domain name",
			              addr_printable(v[i], q, sizeof(q)));
		if (i && strcmp(d[i], d[0]))
			return settle(
			    out, DMARC_PERMERROR,
			    "the From field names several domains (%s, %s): not evaluated", d[0],
			    d[i]);
	}
	memcpy(out->header_from, d[0], strlen(d[0]) + 1);
	if (dmarc_org_domain(d[0], e->org, sizeof(e->org)) < 0)
		return settle(out, DMARC_PERMERROR, "From domain '%s' is not a domain name", d[0]);
	return 0;
}

/* The DMARC record at _dmarc.<domain>: 1 found (in e->rec), 0 none there,
 * -1 the outcome is settled (a DNS failure, several records, invalid). */
static int fetch(struct eval *e, const char *domain)
{
	char name[DOMAIN_MAX + 16];
	struct dnsq_answer a = {0};
	snprintf(name, sizeof(name), "_dmarc.%s.", domain);
	e->fn(e->ctx, name, LDNS_RR_TYPE_TXT, &a);
	name[strlen(name) - 1] = '\0'; /* messages name it without the dot */
	if (a.status == DNSQ_NODATA || a.status == DNSQ_NXDOMAIN)
		return 0;
	if (a.status != DNSQ_ANSWER)
		return settle(e->out, DMARC_TEMPERROR, "DNS lookup of %s TXT failed: %s", name,
		              a.status == DNSQ_PENDING ? "no answer yet"
		                                       : dnsq_status_name(a.status));
	char *txt = NULL;
	size_t count = 0;
	for (size_t i = 0; a.rrs && i < ldns_rr_list_rr_count(a.rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(a.rrs, i);
		char *t = ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT ? dnscheck_txt(rr) : NULL;
		if (t && dmarc_record_is_dmarc(t) && count++ == 0)
			txt = t;
		else
			free(t);
	}
	if (count > 1) {
		free(txt);
		return settle(e->out, DMARC_NONE, "%zu DMARC records at %s: no policy applies",
		              count, name);
	}
	if (count == 0)
		return 0;
	int rc = dmarc_record_parse(txt, &e->rec);
	free(txt);
	if (rc < 0 && !e->rec.none_fallback)
		return settle(e->out, DMARC_NONE,
		              "invalid DMARC record at %s, treated as absent: %s", name,
		              e->rec.problem);
	if (rc < 0) { /* RFC 7489 6.6.3 step 6 */
		memcpy(e->rec.p, "none", 5);
		e->rec.sp[0] = '\0';
	}
	memcpy(e->out->policy_domain, domain, strlen(domain) + 1);
	return 1;
}

/* RFC 7489 6.6.3: the From domain's record, else the organizational
 * domain's; then the policy that applies. -1 when the outcome is settled. */
static int discover(struct eval *e)
{
	struct dmarc_outcome *out = e->out;
	int below = strcmp(e->org, out->header_from) != 0;
	int rc = fetch(e, out->header_from);
	if (rc == 0 && below)
		rc = fetch(e, e->org);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return settle(out, DMARC_NONE, "no DMARC record at _dmarc.%s%s%s", out->header_from,
		              below ? " or _dmarc." : "", below ? e->org : "");
	const char *policy = e->rec.p;
	if (strcmp(out->policy_domain, out->header_from) && e->rec.sp[0])
		policy = e->rec.sp;
	memcpy(out->policy, policy, strlen(policy) + 1);
	return 0;
}

/* 'id' is aligned with the From domain: the same name, or for relaxed
 * mode (anything but 's') the same organizational domain. */
static int aligned(const struct eval *e, const char *id, char mode)
{
	char d[DOMAIN_MAX + 1], o[DOMAIN_MAX + 1];
	if (!id || domain_norm(id, d) < 0)
		return 0;
	if (!strcmp(d, e->out->header_from))
		return 1;
	return mode != 's' && dmarc_org_domain(d, o, sizeof(o)) == 0 && !strcmp(o, e->org);
}

static void align(struct eval *e)
{
	const struct dmarc_input *in = e->in;
	e->out->spf_aligned = in->spf_pass && aligned(e, in->spf_domain, e->rec.aspf);
	for (size_t i = 0; i < in->ndkim && !e->out->dkim_aligned; i++)
		if (in->dkim[i].pass && aligned(e, in->dkim[i].domain, e->rec.adkim)) {
			e->out->dkim_aligned = 1;
			e->dkim_domain = in->dkim[i].domain;
		}
}

/* What failed, for 'why': the SPF verdict and the DKIM passes. */
static void describe_failure(const struct eval *e, struct strbuf *sb)
{
	const struct dmarc_input *in = e->in;
	char q[80];
	size_t passes = 0;
	for (size_t i = 0; i < in->ndkim; i++)
		passes += in->dkim[i].pass != 0;
	strbuf_addf(sb, "fail: nothing aligned with %s passed (", e->out->header_from);
	if (in->spf_pass && in->spf_domain)
		strbuf_addf(sb, "SPF passed for %s, ",
		            addr_printable(in->spf_domain, q, sizeof(q)));
	else
		strbuf_addstr(sb, "SPF did not pass, ");
	if (in->ndkim)
		strbuf_addf(sb, "%zu of %zu DKIM signatures passed)", passes, in->ndkim);
	else
		strbuf_addstr(sb, "no DKIM signature)");
}

static void decide(struct eval *e)
{
	static const char *const names[] = {"none", "quarantine", "reject"};
	struct dmarc_outcome *out = e->out;
	const struct dmarc_record *r = &e->rec;
	struct strbuf sb = STRBUF_INIT;
	char q[80];
	unsigned sample = e->in->sample % 100;
	int strength = dmarc_policy_strength(out->policy);
	if (out->spf_aligned || out->dkim_aligned) {
		out->result = DMARC_PASS;
		if (out->dkim_aligned)
			strbuf_addf(&sb, "pass: DKIM d=%s",
			            addr_printable(e->dkim_domain, q, sizeof(q)));
		else
			strbuf_addf(&sb, "pass: SPF %s",
			            addr_printable(e->in->spf_domain, q, sizeof(q)));
		strbuf_addf(&sb, " aligned with %s", out->header_from);
	} else {
		out->result = DMARC_FAIL;
		if ((int)sample >= r->pct && strength > 0)
			strength--; /* not sampled: the next weaker policy */
		memcpy(out->disposition, names[strength], strlen(names[strength]) + 1);
		describe_failure(e, &sb);
	}
	strbuf_addf(&sb, "; %s=%s at _dmarc.%s, aspf=%c adkim=%c",
	            strcmp(out->policy_domain, out->header_from) && r->sp[0] ? "sp" : "p",
	            out->policy, out->policy_domain, r->aspf, r->adkim);
	if (r->pct < 100)
		strbuf_addf(&sb, ", pct=%d", r->pct);
	if (r->pct < 100 && out->result == DMARC_FAIL)
		strbuf_addf(&sb, " (sample %u: %s)", sample,
		            (int)sample < r->pct ? "policy applied" : "next weaker policy");
	if (out->result == DMARC_FAIL)
		strbuf_addf(&sb, ": %s", out->disposition);
	if (r->problem[0])
		strbuf_addf(&sb, "; record invalid (%s) but has rua=: read as p=none", r->problem);
	snprintf(out->why, sizeof(out->why), "%s", sb.buf);
	strbuf_release(&sb);
}

void dmarc_evaluate(const struct dmarc_input *in, dnsq_lookup_fn fn, void *ctx,
                    struct dmarc_outcome *out)
{
	struct eval e = {.in = in, .out = out, .fn = fn, .ctx = ctx};
	memset(out, 0, sizeof(*out));
	out->result = DMARC_NONE;
	memcpy(out->disposition, "none", 5);
	if (author_domain(&e) < 0 || discover(&e) < 0)
		return;
	align(&e);
	decide(&e);
}
