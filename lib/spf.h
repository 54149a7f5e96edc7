/*
 * spf - Sender Policy Framework (RFC 7208): check_host() and its parts.
 *
 * spf_check_mailfrom() and spf_check_helo() check the two identities of
 * RFC 7208 2.3/2.4 (the null reverse-path is checked as postmaster@HELO);
 * spf_check_host() is check_host() itself for any domain and sender, and
 * spf_check_record() the same with the top record given instead of looked
 * up (the DNS check evaluates the record it found). They see DNS only
 * through a dnsq_lookup_fn: SERVFAIL, TIMEOUT, REFUSED and ERROR answers
 * give temperror, NXDOMAIN and NODATA are void lookups, and a DNSQ_PENDING
 * answer stops the evaluation with SPF_PENDING so the caller can run its
 * queries and evaluate again.
 *
 * Everything of the RFC is there: record selection (several records are a
 * permerror, non-ASCII or control characters too), all eight mechanisms
 * with dual CIDR lengths, redirect= and exp= (twice is a permerror, other
 * modifiers are ignored), the whole record checked for syntax before any
 * term is evaluated, macros (section 7, with %{p} from validated PTR names
 * and c, r, t only in explanations), the limits of 4.6.4 (10 terms that
 * query DNS, counted as they are reached; more than 10 MX names is a
 * permerror, PTR names past 10 are ignored; 2 void lookups) and the
 * domain-spec grammar (toplabel rules). Expanded names longer than 253
 * octets lose labels on the left; a name with an empty or overlong label
 * is not asked for and counts as a void lookup. Void lookups are those of
 * the terms themselves (and of include/redirect targets); the address
 * lookups of MX and PTR names are not, nor is exp=.
 *
 * Two choices where the RFC leaves room: %{i} of an IPv6 client gives
 * upper-case nibbles (the test suite's form; DNS ignores case), and %{h}
 * without a HELO name expands to "unknown", like %{r} and %{p}.
 *
 * The outcome is a plain struct of fixed buffers: nothing to release.
 * The parsing and macro functions below are the pieces, for the DNS check,
 * tests and fuzzing; strings they return are the caller's to free.
 */
#ifndef MAILCTL_SPF_H
#define MAILCTL_SPF_H

#include <ldns/ldns.h>
#include <stddef.h>
#include <time.h>

#include "dnsq.h"
#include "strbuf.h"

/* RFC 7208 4.6.4 */
#define SPF_MAX_LOOKUPS 10 /* include, a, mx, ptr, exists, redirect */
#define SPF_MAX_VOID    2  /* lookups finding nothing */
#define SPF_MAX_NAMES   10 /* MX names per mx term, PTR names looked at */

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
	SPF_PENDING /* a lookup answered DNSQ_PENDING: ask again */
};

/* RFC 8601 words: "none", "neutral", "pass", "fail", "softfail",
 * "temperror", "permerror"; and "pending". */
const char *spf_result_name(enum spf_result r);

struct spf_request {
	const char *ip;       /* the client address, IPv4 or IPv6 text */
	const char *helo;     /* HELO/EHLO name; NULL or "" when none */
	const char *sender;   /* MAIL FROM address; "" for the null reverse-path */
	const char *receiver; /* our host name for %{r}; NULL means "unknown" */
	time_t now;           /* for %{t} */
};

struct spf_outcome {
	enum spf_result result;
	char domain[256]; /* the domain checked */
	char sender[512]; /* the sender checked (postmaster@HELO for the null reverse-path) */
	char
	    mechanism[256]; /* the term that decided, e.g. "-all", "ip4:192.0.2.0/24"; "" if none */
	char why[512];      /* one line for humans: why this result */
	char explanation[512]; /* fail: the expanded exp= text, else "" */
	int lookups, voids;
};

/* check_host(<ip>, 'domain', 'sender'); 'sender' NULL means
 * postmaster@domain. */
void spf_check_host(const struct spf_request *req, const char *domain, const char *sender,
                    dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out);

/* The same with 'record' taken as the SPF record of 'domain'. */
void spf_check_record(const struct spf_request *req, const char *domain, const char *sender,
                      const char *record, dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out);

/* The MAIL FROM identity: req->sender, or postmaster@HELO when it is "". */
void spf_check_mailfrom(const struct spf_request *req, dnsq_lookup_fn fn, void *ctx,
                        struct spf_outcome *out);

/* The HELO identity: postmaster@HELO. No HELO name gives none. */
void spf_check_helo(const struct spf_request *req, dnsq_lookup_fn fn, void *ctx,
                    struct spf_outcome *out);

/* ---- records ---- */

/* A TXT record's strings joined without separator (RFC 7208 3.3); the
 * length in '*len', since a string may hold a NUL. */
char *spf_txt_join(const ldns_rr *rr, size_t *len);

/* The SPF records of a TXT answer ("v=spf1", then a space or the end):
 * their count, and the first in '*first' (NULL when none). */
size_t spf_select(const ldns_rr_list *txt, char **first, size_t *first_len);

enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS
};

/* "all", "include", "a", ... */
const char *spf_mech_name(enum spf_mech m);

/* Whether the mechanism is one of the terms that query DNS. */
int spf_mech_queries(enum spf_mech m);

struct spf_term {
	enum spf_mech mech;
	char qual;        /* '+', '-', '~' or '?' */
	const char *text; /* the term as written */
	char *spec;       /* domain-spec (unexpanded) or address; NULL when absent */
	int cidr4, cidr6; /* -1: not given (ip6 keeps its length in cidr6) */
	unsigned char net[16];
};

struct spf_record {
	char *buf;              /* a copy of the record, cut into terms */
	struct spf_term *terms; /* the mechanisms, in order */
	size_t n;
	const char *redirect, *exp; /* domain-specs, NULL when absent */
};

/* Parse a whole record ("v=spf1 ..."): 0, or -1 with what is wrong in
 * 'why' (which names the term). Release 'out' either way. */
int spf_record_parse(const char *text, size_t len, struct spf_record *out, char *why,
                     size_t whysize);
void spf_record_release(struct spf_record *r);

/* 1 when 's' starts an SPF record. */
int spf_is_record(const char *s, size_t len);

/* ---- macros (RFC 7208 7) ---- */

/* What each macro letter expands to; 'p' must be found beforehand (see
 * spf_macro_uses) and may be NULL when no p macro appears. */
struct spf_macro_vars {
	const char *s, *l, *o, *d, *i, *p, *v, *h, *c, *r;
	time_t t;
};

/* 0 when 'text' is a valid macro-string, -1 when not; 'explanation'
 * allows the letters c, r and t. */
int spf_macro_check(const char *text, int explanation);

/* 1 when 'text' has a macro of 'letter' (either case). */
int spf_macro_uses(const char *text, char letter);

/* Expand 'text' onto 'out': 0, or -1 on a syntax error (out then holds
 * part of it). */
int spf_macro_expand(const struct spf_macro_vars *v, const char *text, int explanation,
                     struct strbuf *out);

/* 1 when 'spec' is a valid domain-spec: a macro-string without c, r, t
 * that ends in a macro or in "." toplabel ["."]. */
int spf_domain_spec_valid(const char *spec);

/* Expand 'text' for the request, as check_host() would with 'domain' and
 * 'sender', looking up %{p} through 'fn'. 0, -1 on a syntax error, or 1
 * when a lookup is pending. Domain-specs (not explanations) lose a final
 * dot and are cut to 253 octets. */
int spf_expand(const struct spf_request *req, const char *domain, const char *sender,
               const char *text, int explanation, dnsq_lookup_fn fn, void *ctx, struct strbuf *out);

#endif
