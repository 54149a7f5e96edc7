/*
 * fuzz_spf - libFuzzer harness for lib/spf*.c.
 *
 * The input is an SPF record (given "v=spf1 " in front when it has none)
 * evaluated by check_host() for an IPv4 or an IPv6 client against a fixed
 * fake zone (includes, a loop, MX and PTR names, a SERVFAIL, a pending
 * answer, explanations with macros); it is also parsed as a record with its
 * exact length (NULs and all) and expanded as a macro string, both as a
 * domain-spec and as an explanation. Beyond "no crash, leak or UB" it
 * checks what spf.h promises: a known result, a non-empty reason, at most
 * one lookup past each limit, an explanation only with fail, printable
 * texts, expanded names cut to 253 octets, and parsed terms within their
 * bounds.
 */
#include "spf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* ---- the fixed zone, built once ---- */

static const struct {
	const char *name, *type;
	enum dnsq_status status; /* without records */
	const char *rr[4];
} zone[] = {
    {"example.org.", "TXT", 0, {"\"v=spf1 mx a ip4:192.0.2.0/24 -all\""}},
    {"example.org.", "MX", 0, {"10 mail.example.org.", "20 mx2.example.org."}},
    {"example.org.", "A", 0, {"192.0.2.1"}},
    {"mail.example.org.", "A", 0, {"192.0.2.10", "198.51.100.10"}},
    {"mail.example.org.", "AAAA", 0, {"2001:db8::10"}},
    {"mx2.example.org.", "A", DNSQ_TIMEOUT, {NULL}},
    {"inc.example.org.", "TXT", 0, {"\"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all\""}},
    {"loop.example.org.", "TXT", 0, {"\"v=spf1 include:loop.example.org -all\""}},
    {"two.example.org.", "TXT", 0, {"\"v=spf1 -all\"", "\"v=spf1 +all\""}},
    {"macro.example.org.", "TXT", 0, {"\"v=spf1 exists:%{ir}.%{l1r-}.%{d2} -all exp=x.%{d}\""}},
    {"x.macro.example.org.", "TXT", 0, {"\"%{S} from %{c} (%{p}) at %{t} for %{r}\""}},
    {"why.example.org.", "TXT", 0, {"\"%{l} is not allowed, see %{H}\""}},
    {"broken.example.org.", "TXT", DNSQ_SERVFAIL, {NULL}},
    {"later.example.org.", "TXT", DNSQ_PENDING, {NULL}},
    {"3.2.0.192.in-addr.arpa.", "PTR", 0, {"mail.example.org.", "host.example.net."}},
    {"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
     "PTR",
     0,
     {"mail.example.org."}},
};
#define NZONE (sizeof(zone) / sizeof(zone[0]))

static ldns_rr_list *answers[NZONE];

static void build_zone(void)
{
	char line[512];
	for (size_t i = 0; i < NZONE; i++) {
		if (!zone[i].rr[0])
			continue;
		answers[i] = ldns_rr_list_new();
		for (size_t j = 0; j < 4 && zone[i].rr[j]; j++) {
			ldns_rr *rr = NULL;
			snprintf(line, sizeof(line), "%s 300 IN %s %s", zone[i].name, zone[i].type,
			         zone[i].rr[j]);
			check(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) == LDNS_STATUS_OK);
			ldns_rr_list_push_rr(answers[i], rr);
		}
	}
}

static void fake_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	int *asked = ctx, known = 0;
	(*asked)++;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NZONE; i++) {
		if (strcasecmp(zone[i].name, name))
			continue;
		known = 1;
		if (ldns_get_rr_type_by_name(zone[i].type) != type)
			continue;
		out->status = answers[i] ? DNSQ_ANSWER : zone[i].status;
		out->rrs = answers[i];
		return;
	}
	out->status = known ? DNSQ_NODATA : DNSQ_NXDOMAIN;
}

/* ---- checks ---- */

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static void check_outcome(const struct spf_outcome *o, int asked)
{
	check(o->result >= SPF_NONE && o->result <= SPF_PENDING);
	check(memchr(o->why, '\0', sizeof(o->why)) && o->why[0]);
	check(memchr(o->mechanism, '\0', sizeof(o->mechanism)) != NULL);
	check(memchr(o->explanation, '\0', sizeof(o->explanation)) != NULL);
	check(o->lookups <= SPF_MAX_LOOKUPS + 1 && o->voids <= SPF_MAX_VOID + 1);
	check(o->result == SPF_FAIL || !o->explanation[0]);
	check(printable(o->explanation));
	/* a term costs a query or a few (mx: the MX and its names, ptr: the PTR
	 * and its names); %{p} and exp= may add a dozen */
	check(asked <= 40 * (SPF_MAX_LOOKUPS + 2));
}

/* check_host() on 'record' for the client 'ip'. */
static void evaluate(const char *record, const char *ip)
{
	struct spf_request req = {.ip = ip,
	                          .helo = "mail.example.org",
	                          .sender = "strong-bad@example.org",
	                          .receiver = "mx.example.net",
	                          .now = 1700000000};
	struct spf_outcome o;
	int asked = 0;
	spf_check_record(&req, "example.org", req.sender, record, fake_lookup, &asked, &o);
	check_outcome(&o, asked);
}

static void parse(const uint8_t *data, size_t size)
{
	struct spf_record r;
	char why[256];
	if (spf_record_parse((const char *)data, size, &r, why, sizeof(why)) < 0) {
		check(memchr(why, '\0', sizeof(why)) && why[0]);
		spf_record_release(&r);
		return;
	}
	check(spf_is_record((const char *)data, size) && r.n <= size);
	for (size_t i = 0; i < r.n; i++) {
		const struct spf_term *t = &r.terms[i];
		check(t->mech <= SPF_M_EXISTS && strchr("+-~?", t->qual));
		check(t->cidr4 <= 32 && t->cidr6 <= 128);
		if (t->spec && t->mech != SPF_M_IP4 && t->mech != SPF_M_IP6)
			check(spf_domain_spec_valid(t->spec));
	}
	check(!r.redirect || spf_domain_spec_valid(r.redirect));
	check(!r.exp || spf_domain_spec_valid(r.exp));
	spf_record_release(&r);
}

static void expand(const char *text, int explanation)
{
	struct spf_request req = {.ip = "192.0.2.3", .helo = "mail.example.org", .now = 1};
	struct strbuf sb = STRBUF_INIT;
	int asked = 0;
	int rc = spf_expand(&req, "example.org", "a-b.c@example.org", text, explanation,
	                    fake_lookup, &asked, &sb);
	check(rc == 0 || rc == -1);
	check(rc != 0 || spf_macro_check(text, explanation) == 0);
	if (rc == 0 && !explanation)
		check(sb.len <= 253 || !strchr(sb.buf, '.'));
	strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int built;
	if (!built) {
		build_zone();
		built = 1;
	}
	char *s = malloc(size + 8);
	memcpy(s, data, size);
	s[size] = '\0';

	/* one client per input, IPv4 or IPv6 by the length, to keep runs short */
	const char *ip = size % 2 ? "2001:db8::10" : "192.0.2.3";
	parse(data, size);
	if (spf_is_record(s, strlen(s)))
		evaluate(s, ip);
	else {
		memmove(s + 7, s, size + 1);
		memcpy(s, "v=spf1 ", 7);
		evaluate(s, ip);
		memmove(s, s + 7, size + 1);
	}
	expand(s, 0);
	expand(s, 1);

	free(s);
	return 0;
}
