/* DMARC evaluation (RFC 7489 sections 3, 4, 6, 6.6) as a table: each row
 * is a message (From values, the SPF identity and verdict, DKIM verdicts,
 * the pct sample) and the DNS records a fake resolver serves, with the
 * result, disposition, policy, where it was found, the alignment flags
 * and a piece of the explanation expected. A second pass checks which
 * names were asked, so a lookup that should not happen is caught. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "xalloc.h"

#include "../unit/fake_dns.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a fake zone ---- */

/* TXT records at a name; '|' splits a record into character-strings.
 * With 'status' set (and no records) the lookup ends in that status. */
struct zone_rr {
	const char *name; /* without the final dot */
	enum dnsq_status status;
	const char *txt[3];
};

struct fake {
	struct fake_dns zone;
	char asked[256]; /* the names asked, " a b " */
};

/* Add a TXT record of 'text' at 'name', its character-strings split at '|'. */
static void add_txt(struct fake_dns *zone, const char *name, const char *text)
{
	char *strs[4] = {NULL};
	size_t k = 0;
	for (const char *p = text;; p++) {
		size_t n = strcspn(p, "|");
		assert_true(n < 256 && k < N(strs) - 1);
		strs[k++] = xstrndup(p, n);
		if (!*(p += n))
			break;
	}
	fake_dns_txtv(zone, name, (const char *const *)strs);
	while (k)
		free(strs[--k]);
}

/* 'f' serving the rows of 'zone', until name NULL. */
static void fake_load(struct fake *f, const struct zone_rr *zone)
{
	*f = (struct fake){.zone = {.only = LDNS_RR_TYPE_TXT}};
	for (const struct zone_rr *z = zone; z && z->name; z++) {
		if (!z->txt[0])
			fake_dns_set(&f->zone, z->name, LDNS_RR_TYPE_TXT, z->status);
		for (size_t i = 0; i < N(z->txt) && z->txt[i]; i++)
			add_txt(&f->zone, z->name, z->txt[i]);
	}
}

static void fake_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct fake *f = ctx;
	size_t len = strlen(name);
	assert_true(len > 1 && name[len - 1] == '.'); /* names are absolute */
	snprintf(f->asked + strlen(f->asked), sizeof(f->asked) - strlen(f->asked), "%.*s ",
	         (int)len - 1, name);
	fake_dns_lookup(&f->zone, name, type, out);
}

/* ---- the table ---- */

struct want {
	enum dmarc_result result;
	const char *disposition, *policy, *policy_domain;
	int spf_aligned, dkim_aligned;
};

struct row {
	const char *what;
	const char *from[3]; /* From values, NULL-terminated */
	const char *spf_domain;
	int spf_pass;
	struct dmarc_dkim_input dkim[3]; /* until domain NULL */
	struct zone_rr zone[4];          /* until name NULL */
	unsigned sample;
	struct want want;
	const char *why;   /* a part of out.why */
	const char *asked; /* the names looked up, in order; NULL: not checked */
};

/* clang-format off */
#define FROM(a)       {a, NULL}
#define PASS(d)       {d, 1}
#define FAILED(d)     {d, 0}
#define NO_DKIM       {{NULL, 0}}
#define NO_ZONE       {{NULL, 0, {NULL}}}
#define TXT(n, t)     {"_dmarc." n, 0, {t}}
#define REJECT(n)     TXT(n, "v=DMARC1; p=reject")
#define WANT(r, ...)  {DMARC_##r, __VA_ARGS__}
#define NOT_EVALUATED {DMARC_PERMERROR, "none", "", "", 0, 0}

static const struct row rows[] = {
    /* alignment: SPF */
    {"spf relaxed aligned", FROM("a@example.com"), "bounce.example.com", 1, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(PASS, "none", "reject", "example.com", 1, 0),
     "pass: SPF bounce.example.com aligned", "_dmarc.example.com"},
    {"spf strict, subdomain: not aligned", FROM("a@example.com"), "bounce.example.com", 1, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; aspf=s")}, 0,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), "SPF passed for bounce", NULL},
    {"spf strict, same domain", FROM("a@example.com"), "EXAMPLE.com.", 1, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; aspf=s")}, 0,
     WANT(PASS, "none", "reject", "example.com", 1, 0), "aspf=s", NULL},
    {"spf aligned but failed", FROM("a@example.com"), "example.com", 0, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(FAIL, "reject", "reject", "example.com", 0, 0),
     "SPF did not pass", NULL},
    {"spf passed, other organization", FROM("a@example.com"), "example.net", 1, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(FAIL, "reject", "reject", "example.com", 0, 0), NULL, NULL},
    {"helo identity (null path), aligned", FROM("a@example.com"), "mx1.example.com", 1, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(PASS, "none", "reject", "example.com", 1, 0), NULL, NULL},
    {"no spf identity at all", FROM("a@example.com"), NULL, 1, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(FAIL, "reject", "reject", "example.com", 0, 0), NULL, NULL},
    /* alignment: DKIM */
    {"dkim relaxed aligned", FROM("a@example.com"), "esp.example.net", 1,
     {PASS("esp.example.net"), PASS("news.example.com")}, {REJECT("example.com")}, 0,
     WANT(PASS, "none", "reject", "example.com", 0, 1), "pass: DKIM d=news.example.com aligned",
     NULL},
    {"dkim strict, subdomain: not aligned", FROM("a@example.com"), NULL, 0,
     {PASS("news.example.com")}, {TXT("example.com", "v=DMARC1; p=quarantine; adkim=s")}, 0,
     WANT(FAIL, "quarantine", "quarantine", "example.com", 0, 0), "1 of 1 DKIM signatures passed",
     NULL},
    {"dkim strict, same domain", FROM("a@Example.COM"), NULL, 0, {PASS("example.com")},
     {TXT("example.com", "v=DMARC1; p=reject; adkim=s")}, 0,
     WANT(PASS, "none", "reject", "example.com", 0, 1), NULL, NULL},
    {"dkim aligned but failed", FROM("a@example.com"), NULL, 0,
     {FAILED("example.com"), PASS("example.org")}, {REJECT("example.com")}, 0,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), "1 of 2 DKIM", NULL},
    /* where the policy is found */
    {"sp= for a subdomain, record at the org domain", FROM("a@mail.example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; sp=quarantine")}, 0,
     WANT(FAIL, "quarantine", "quarantine", "example.com", 0, 0),
     "sp=quarantine at _dmarc.example.com", "_dmarc.mail.example.com _dmarc.example.com"},
    {"no sp=: p= applies to a subdomain", FROM("a@x.y.example.com"), NULL, 0, NO_DKIM,
     {REJECT("example.com")}, 0, WANT(FAIL, "reject", "reject", "example.com", 0, 0),
     "p=reject at _dmarc.example.com", "_dmarc.x.y.example.com _dmarc.example.com"},
    {"the subdomain's own record wins, org not asked", FROM("a@mail.example.com"), NULL, 0, NO_DKIM,
     {TXT("mail.example.com", "v=DMARC1; p=none"),
      TXT("example.com", "v=DMARC1; p=reject; sp=reject")}, 0,
     WANT(FAIL, "none", "none", "mail.example.com", 0, 0), NULL, "_dmarc.mail.example.com"},
    {"sp= ignored for the org domain itself", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; sp=none")}, 0,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), NULL, NULL},
    {"org fallback past TXT that is not DMARC", FROM("a@mail.example.com"), NULL, 0, NO_DKIM,
     {{"_dmarc.mail.example.com", 0, {"v=spf1 -all", "v=dmarc1; p=none"}}, REJECT("example.com")},
     0, WANT(FAIL, "reject", "reject", "example.com", 0, 0), NULL,
     "_dmarc.mail.example.com _dmarc.example.com"},
    {"no record anywhere", FROM("a@mail.example.com"), "mail.example.com", 1, NO_DKIM, NO_ZONE, 0,
     WANT(NONE, "none", "", "", 0, 0),
     "no DMARC record at _dmarc.mail.example.com or _dmarc.example.com", NULL},
    {"p=none, failing", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=none; rua=mailto:d@example.com")}, 0,
     WANT(FAIL, "none", "none", "example.com", 0, 0), NULL, NULL},
    /* pct sampling */
    {"pct=0, sample 0: next weaker", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=0")}, 0,
     WANT(FAIL, "quarantine", "reject", "example.com", 0, 0), "next weaker policy", NULL},
    {"pct=50, sample 49: applied", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=50")}, 49,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), "sample 49: policy applied", NULL},
    {"pct=50, sample 50: next weaker", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=50")}, 50,
     WANT(FAIL, "quarantine", "reject", "example.com", 0, 0), NULL, NULL},
    {"pct=50 quarantine, sample 70: none", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=quarantine; pct=50")}, 70,
     WANT(FAIL, "none", "quarantine", "example.com", 0, 0), NULL, NULL},
    {"pct=100, sample 99: applied", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=100")}, 99,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), NULL, NULL},
    {"sample taken mod 100", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=10")}, 205,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), "sample 5", NULL},
    {"pct does not touch a pass", FROM("a@example.com"), "example.com", 1, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=reject; pct=0")}, 99,
     WANT(PASS, "none", "reject", "example.com", 1, 0), NULL, NULL},
    /* public suffix boundaries */
    {"co.uk: relaxed within example.co.uk", FROM("a@foo.bar.example.co.uk"), "example.co.uk", 1,
     NO_DKIM, {REJECT("example.co.uk")}, 0, WANT(PASS, "none", "reject", "example.co.uk", 1, 0),
     NULL, "_dmarc.foo.bar.example.co.uk _dmarc.example.co.uk"},
    {"co.uk: a sibling is another organization", FROM("a@example.co.uk"), "other.co.uk", 1,
     {PASS("other.co.uk"), PASS("co.uk")}, {REJECT("example.co.uk"), REJECT("co.uk")}, 0,
     WANT(FAIL, "reject", "reject", "example.co.uk", 0, 0), NULL, "_dmarc.example.co.uk"},
    {"bare public suffix: no org lookup above it", FROM("a@co.uk"), NULL, 0,
     {PASS("example.co.uk")}, NO_ZONE, 0, WANT(NONE, "none", "", "", 0, 0),
     "no DMARC record at _dmarc.co.uk", "_dmarc.co.uk"},
    {"bare public suffix aligns with itself only", FROM("a@co.uk"), NULL, 0,
     {PASS("example.co.uk"), PASS("co.uk")}, {REJECT("co.uk")}, 0,
     WANT(PASS, "none", "reject", "co.uk", 0, 1), NULL, NULL},
    {"a.b.example.com: org domain example.com", FROM("a@a.b.example.com"), NULL, 0,
     {PASS("example.com")}, {REJECT("example.com")}, 0,
     WANT(PASS, "none", "reject", "example.com", 0, 1), NULL,
     "_dmarc.a.b.example.com _dmarc.example.com"},
    {"IDN A-label, relaxed", FROM("J\xc3\xb6rg <j@mail.xn--mnchen-3ya.de>"), NULL, 0,
     {PASS("xn--mnchen-3ya.de")}, {REJECT("xn--mnchen-3ya.de")}, 0,
     WANT(PASS, "none", "reject", "xn--mnchen-3ya.de", 0, 1), NULL, NULL},
    {"IDN U-label in From is looked up as A-label", FROM("j@m\xc3\xbcnchen.de"), NULL, 0, NO_DKIM,
     {REJECT("xn--mnchen-3ya.de")}, 0, WANT(FAIL, "reject", "reject", "xn--mnchen-3ya.de", 0, 0),
     NULL, "_dmarc.xn--mnchen-3ya.de"},
    /* From fields (RFC 7489 6.6.1) */
    {"two From fields", {"a@example.com", "b@example.com", NULL}, "example.com", 1, NO_DKIM,
     {REJECT("example.com")}, 0, NOT_EVALUATED, "2 From fields", ""},
    {"no From field", {NULL}, "example.com", 1, NO_DKIM, {REJECT("example.com")}, 0,
     NOT_EVALUATED, "no From field", ""},
    {"one From, two addresses, one domain", FROM("\"Doe, J\" <j@example.com>, k@EXAMPLE.com"),
     "example.com", 1, NO_DKIM, {REJECT("example.com")}, 0,
     WANT(PASS, "none", "reject", "example.com", 1, 0), NULL, NULL},
    {"one From, two domains", FROM("a@example.com, b@example.org"), "example.com", 1, NO_DKIM,
     {REJECT("example.com")}, 0, NOT_EVALUATED, "several domains (example.com, example.org)", ""},
    {"From group holding nobody", FROM("Undisclosed recipients:;"), NULL, 0, NO_DKIM, NO_ZONE, 0,
     NOT_EVALUATED, "no address", ""},
    {"From without @", FROM("postmaster"), NULL, 0, NO_DKIM, NO_ZONE, 0, NOT_EVALUATED,
     "no usable domain", ""},
    {"From with an empty domain", FROM("Name <a@>"), NULL, 0, NO_DKIM, NO_ZONE, 0, NOT_EVALUATED,
     "no usable domain", ""},
    {"From with an address literal", FROM("a@[192.0.2.1]"), NULL, 0, NO_DKIM, NO_ZONE, 0,
     NOT_EVALUATED, "not a domain name", ""},
    /* records: invalid, several, DNS trouble, spelling */
    {"invalid record: no policy, org not asked", FROM("a@mail.example.com"), NULL, 0, NO_DKIM,
     {TXT("mail.example.com", "v=DMARC1; p=bogus"), REJECT("example.com")}, 0,
     WANT(NONE, "none", "", "", 0, 0),
     "invalid DMARC record at _dmarc.mail.example.com, treated as absent: p=bogus",
     "_dmarc.mail.example.com"},
    {"bad p= with rua=: read as p=none", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {TXT("example.com", "v=DMARC1; p=bogus; rua=mailto:d@example.com")}, 0,
     WANT(FAIL, "none", "none", "example.com", 0, 0), "read as p=none", NULL},
    {"two records: no policy", FROM("a@example.com"), NULL, 0, NO_DKIM,
     {{"_dmarc.example.com", 0, {"v=DMARC1; p=reject", "v=DMARC1; p=none"}}}, 0,
     WANT(NONE, "none", "", "", 0, 0), "2 DMARC records at _dmarc.example.com",
     "_dmarc.example.com"},
    {"servfail at the From domain", FROM("a@example.com"), "example.com", 1, NO_DKIM,
     {{"_dmarc.example.com", DNSQ_SERVFAIL, {NULL}}}, 0, WANT(TEMPERROR, "none", "", "", 0, 0),
     "DNS lookup of _dmarc.example.com TXT failed: servfail", NULL},
    {"timeout at the org domain", FROM("a@mail.example.com"), NULL, 0, NO_DKIM,
     {{"_dmarc.mail.example.com", DNSQ_NODATA, {NULL}},
      {"_dmarc.example.com", DNSQ_TIMEOUT, {NULL}}}, 0,
     WANT(TEMPERROR, "none", "", "", 0, 0), "timeout", NULL},
    {"uppercase tags and values", FROM("A@EXAMPLE.COM"), "news.example.com", 1, NO_DKIM,
     {TXT("example.com", "V=DMARC1; P=REJECT; ASPF=S; PCT=100")}, 0,
     WANT(FAIL, "reject", "reject", "example.com", 0, 0), "aspf=s", NULL},
    {"whitespace and split strings", FROM(" a@example.com "), NULL, 0, {PASS("sub.example.com")},
     {TXT("example.com", "  v = DMARC1 ;\tp = quarantine ;| adkim =  r ; pct= 100 ;")}, 0,
     WANT(PASS, "none", "quarantine", "example.com", 0, 1), NULL, NULL},
};
/* clang-format on */

static void check_row(const struct row *r)
{
	struct fake f;
	const struct want *w = &r->want;
	struct dmarc_input in = {.spf_domain = r->spf_domain,
	                         .spf_pass = r->spf_pass,
	                         .dkim = r->dkim,
	                         .sample = r->sample};
	struct dmarc_outcome out;
	while (in.nfrom < N(r->from) && r->from[in.nfrom])
		in.nfrom++;
	in.from_values = r->from;
	while (in.ndkim < N(r->dkim) && r->dkim[in.ndkim].domain)
		in.ndkim++;
	fake_load(&f, r->zone);
	dmarc_evaluate(&in, fake_lookup, &f, &out);
	fake_dns_release(&f.zone);
	print_message("%-48s %-9s %-10s %s\n", r->what, dmarc_result_name(out.result),
	              out.disposition, out.why);
	if (out.result != w->result)
		fail_msg("%s: result %s, want %s (%s)", r->what, dmarc_result_name(out.result),
		         dmarc_result_name(w->result), out.why);
	assert_string_equal(out.disposition, w->disposition);
	assert_string_equal(out.policy, w->policy);
	assert_string_equal(out.policy_domain, w->policy_domain);
	assert_int_equal(out.spf_aligned, w->spf_aligned);
	assert_int_equal(out.dkim_aligned, w->dkim_aligned);
	assert_true(out.why[0]);
	if (r->why && !strstr(out.why, r->why))
		fail_msg("%s: why '%s' lacks '%s'", r->what, out.why, r->why);
	if (r->asked) {
		char want[256];
		snprintf(want, sizeof(want), "%s%s", r->asked, r->asked[0] ? " " : "");
		if (strcmp(f.asked, want))
			fail_msg("%s: asked '%s', want '%s'", r->what, f.asked, want);
	}
}

static void test_table(void **state)
{
	(void)state;
	assert_true(N(rows) >= 25);
	for (size_t i = 0; i < N(rows); i++)
		check_row(&rows[i]);
}

/* A header_from is filled whenever a From domain was found. */
static void test_header_from(void **state)
{
	const char *from[] = {"Someone <someone@Mail.Example.com>"};
	struct dmarc_input in = {.from_values = from, .nfrom = 1};
	struct dmarc_outcome out;
	struct fake f;
	(void)state;
	fake_load(&f, NULL);
	dmarc_evaluate(&in, fake_lookup, &f, &out);
	assert_int_equal(out.result, DMARC_NONE);
	assert_string_equal(out.header_from, "mail.example.com");
	fake_dns_release(&f.zone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_header_from),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
