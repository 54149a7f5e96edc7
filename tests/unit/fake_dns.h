/*
 * fake_dns.h - a fake DNS for the evaluators' tests (included once, by a
 * test program, after cmocka.h): a zone of (name, type) -> records or a
 * status, served through a dnsq_lookup_fn (lib/dnsq.h) so SPF, DKIM,
 * DMARC, the DNS check and the status checks run without a resolver.
 *
 * A zone starts as 'struct fake_dns f = {0}' and is filled with
 * fake_dns_add() (a record as a zone-file line), fake_dns_txt() (a TXT
 * record of any length), fake_dns_set() (a status for a name and type)
 * or fake_dns_load() (a table of those). fake_dns_lookup(), with the zone
 * as its ctx, answers like a validating stub would see it:
 *   - the records of (name, type): DNSQ_ANSWER, the records in the order
 *     they were added; a status set for (name, type): that status;
 *   - a CNAME at the name (asked for another type) is followed, a chain
 *     of more than 8 is a loop: DNSQ_SERVFAIL;
 *   - a status set for (name, LDNS_RR_TYPE_ANY): that status for every
 *     type the name has nothing else for;
 *   - a name that has something of another type: DNSQ_NODATA;
 *   - any other name: DNSQ_NXDOMAIN, or DNSQ_PENDING with
 *     'unknown_pending' (an answer still to come).
 * Names are compared without case and with or without the final dot.
 *
 * Every answer is a fresh record list owned by the zone, valid until
 * fake_dns_release(), so the zone may change while answers are held.
 * A malformed record, or a lookup of a type other than 'only' when that
 * is set, fails the test.
 */
#ifndef MAILCTL_TEST_FAKE_DNS_H
#define MAILCTL_TEST_FAKE_DNS_H

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsq.h"
#include "xalloc.h"

#define FAKE_DNS_FN static __attribute__((unused))

struct fake_dns_entry {
	char *name;
	ldns_rr_type type;       /* LDNS_RR_TYPE_ANY: every type the name has no entry for */
	enum dnsq_status status; /* DNSQ_ANSWER: 'rrs' (none yet: the name has no such data) */
	ldns_rr_list *rrs;
};

struct fake_dns {
	struct fake_dns_entry *v;
	size_t n, alloc;
	ldns_rr_list **answers; /* given out by lookups, freed by fake_dns_release() */
	size_t nanswers, aanswers;
	int asked;           /* lookups made */
	int unknown_pending; /* a name not in the zone: DNSQ_PENDING rather than NXDOMAIN */
	ldns_rr_type only;   /* when set, a lookup of another type fails the test */
};

/* A row of a zone table: records of one name and type as zone-file rdata
 * ("10 mail.example.org.", "\"v=spf1 -all\""), or 'status' without
 * records. */
struct fake_dns_row {
	const char *name;
	const char *type; /* "A", "TXT", ... */
	enum dnsq_status status;
	const char *rr[12];
};

/* Whether 'a' and 'b' are the same name: case aside, final dot or not. */
static inline int fake_dns_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la > 1 && a[la - 1] == '.';
	lb -= lb > 1 && b[lb - 1] == '.';
	return la == lb && !strncasecmp(a, b, la);
}

FAKE_DNS_FN struct fake_dns_entry *fake_dns_find(const struct fake_dns *f, const char *name,
                                                 ldns_rr_type type)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].type == type && fake_dns_same_name(f->v[i].name, name))
			return &f->v[i];
	return NULL;
}

/* The entry of (name, type), made empty (no records, answering) when new. */
FAKE_DNS_FN struct fake_dns_entry *fake_dns_entry(struct fake_dns *f, const char *name,
                                                  ldns_rr_type type)
{
	struct fake_dns_entry *e = fake_dns_find(f, name, type);
	if (e)
		return e;
	f->v = xgrow(f->v, &f->alloc, f->n + 1, sizeof(*f->v));
	e = &f->v[f->n++];
	*e = (struct fake_dns_entry){xstrdup(name), type, DNSQ_ANSWER, NULL};
	return e;
}

/* (name, type) answers 'status' from now on; what it held is dropped.
 * DNSQ_ANSWER empties it for records added next. */
FAKE_DNS_FN void fake_dns_set(struct fake_dns *f, const char *name, ldns_rr_type type,
                              enum dnsq_status status)
{
	struct fake_dns_entry *e = fake_dns_entry(f, name, type);
	ldns_rr_list_deep_free(e->rrs);
	e->rrs = NULL;
	e->status = status;
}

/* Add the record 'rr' (taken) at 'name', its type's entry now answering. */
FAKE_DNS_FN void fake_dns_add_rr(struct fake_dns *f, const char *name, ldns_rr *rr)
{
	struct fake_dns_entry *e = fake_dns_entry(f, name, ldns_rr_get_type(rr));
	if (e->status != DNSQ_ANSWER)
		fake_dns_set(f, name, e->type, DNSQ_ANSWER);
	if (!e->rrs)
		e->rrs = ldns_rr_list_new();
	ldns_rr_list_push_rr(e->rrs, rr);
}

/* Add a record written as a zone-file line: "mail.example.org. A
 * 192.0.2.10" (TTL 300 and class IN unless given). */
FAKE_DNS_FN void fake_dns_add(struct fake_dns *f, const char *line)
{
	ldns_rr *rr = NULL;
	ldns_status s = ldns_rr_new_frm_str(&rr, line, 300, NULL, NULL);
	if (s != LDNS_STATUS_OK)
		fail_msg("fake_dns: '%s': %s", line, ldns_get_errorstr_by_id(s));
	char *owner = ldns_rdf2str(ldns_rr_owner(rr));
	fake_dns_add_rr(f, owner, rr);
	free(owner);
}

FAKE_DNS_FN __attribute__((format(printf, 2, 3))) void fake_dns_addf(struct fake_dns *f,
                                                                     const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	va_start(ap, fmt);
	assert_true(vasprintf(&line, fmt, ap) >= 0);
	va_end(ap);
	fake_dns_add(f, line);
	free(line);
}

/* Add a TXT record of the character-strings 'strs' (NULL-terminated), each
 * cut into strings of 255 bytes as a zone file must; "" is one empty
 * string. */
FAKE_DNS_FN void fake_dns_txtv(struct fake_dns *f, const char *name, const char *const *strs)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner = NULL;
	size_t nlen = strlen(name);
	char *abs = nlen && name[nlen - 1] == '.' ? xstrdup(name) : xasprintf("%s.", name);
	assert_int_equal(ldns_str2rdf_dname(&owner, abs), LDNS_STATUS_OK);
	free(abs);
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_ttl(rr, 300);
	for (; *strs; strs++) {
		size_t len = strlen(*strs), off = 0;
		do {
			uint8_t buf[256];
			size_t n = len - off > 255 ? 255 : len - off;
			buf[0] = (uint8_t)n;
			memcpy(buf + 1, *strs + off, n);
			ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, n + 1, buf));
			off += n;
		} while (off < len);
	}
	fake_dns_add_rr(f, name, rr);
}

/* Add a TXT record of 'text', in 255-byte strings. */
FAKE_DNS_FN void fake_dns_txt(struct fake_dns *f, const char *name, const char *text)
{
	const char *strs[] = {text, NULL};
	fake_dns_txtv(f, name, strs);
}

/* Add the rows of a zone table. */
FAKE_DNS_FN void fake_dns_load(struct fake_dns *f, const struct fake_dns_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct fake_dns_row *r = &rows[i];
		if (!r->rr[0])
			fake_dns_set(f, r->name, ldns_get_rr_type_by_name(r->type), r->status);
		for (size_t j = 0; j < sizeof(r->rr) / sizeof(r->rr[0]) && r->rr[j]; j++)
			fake_dns_addf(f, "%s 300 IN %s %s", r->name, r->type, r->rr[j]);
	}
}

/* A zone of the table 'rows': struct fake_dns f = FAKE_DNS_TABLE(rows). */
#define FAKE_DNS_TABLE(rows) fake_dns_table(rows, sizeof(rows) / sizeof((rows)[0]))

FAKE_DNS_FN struct fake_dns fake_dns_table(const struct fake_dns_row *rows, size_t n)
{
	struct fake_dns f = {0};
	fake_dns_load(&f, rows, n);
	return f;
}

FAKE_DNS_FN int fake_dns_has_name(const struct fake_dns *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (fake_dns_same_name(f->v[i].name, name))
			return 1;
	return 0;
}

FAKE_DNS_FN void fake_dns_answer(struct fake_dns *f, const char *name, ldns_rr_type type,
                                 struct dnsq_answer *out, int depth)
{
	const struct fake_dns_entry *e = fake_dns_find(f, name, type), *cname = NULL;
	if (!e && type != LDNS_RR_TYPE_CNAME)
		cname = fake_dns_find(f, name, LDNS_RR_TYPE_CNAME);
	if (cname && cname->rrs) {
		if (depth >= 8) { /* a loop, as a resolver reports it */
			out->status = DNSQ_SERVFAIL;
			return;
		}
		char *target = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(cname->rrs, 0), 0));
		fake_dns_answer(f, target, type, out, depth + 1);
		free(target);
		return;
	}
	if (!e)
		e = fake_dns_find(f, name, LDNS_RR_TYPE_ANY);
	if (!e || (e->status == DNSQ_ANSWER && !e->rrs)) {
		out->status = fake_dns_has_name(f, name) ? DNSQ_NODATA
		              : f->unknown_pending       ? DNSQ_PENDING
		                                         : DNSQ_NXDOMAIN;
		return;
	}
	out->status = e->status;
	if (e->status != DNSQ_ANSWER)
		return;
	f->answers = xgrow(f->answers, &f->aanswers, f->nanswers + 1, sizeof(*f->answers));
	f->answers[f->nanswers] = ldns_rr_list_clone(e->rrs);
	out->rrs = f->answers[f->nanswers++];
}

/* A dnsq_lookup_fn; 'ctx' is the struct fake_dns. */
FAKE_DNS_FN void fake_dns_lookup(void *ctx, const char *name, ldns_rr_type type,
                                 struct dnsq_answer *out)
{
	struct fake_dns *f = ctx;
	f->asked++;
	memset(out, 0, sizeof(*out));
	if (f->only)
		assert_int_equal(type, f->only);
	fake_dns_answer(f, name, type, out, 0);
}

/* Free the zone and every answer given: 'f' is an empty zone again, with
 * 'asked' 0 and its settings ('unknown_pending', 'only') kept. */
FAKE_DNS_FN void fake_dns_release(struct fake_dns *f)
{
	struct fake_dns settings = {.unknown_pending = f->unknown_pending, .only = f->only};
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		ldns_rr_list_deep_free(f->v[i].rrs);
	}
	for (size_t i = 0; i < f->nanswers; i++)
		ldns_rr_list_deep_free(f->answers[i]);
	free(f->v);
	free(f->answers);
	*f = settings;
}

#endif
