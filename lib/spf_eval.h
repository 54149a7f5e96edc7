/*
 * spf_eval - the state of one check_host() evaluation, shared by spf.c
 * (records and terms) and spf_lookup.c (DNS, names, macros, PTR names).
 * Internal to the SPF module: front-ends use spf.h.
 *
 * Functions returning int follow one convention: a value >= 0 is a normal
 * answer, a negative one is -(enum spf_result) to stop the evaluation with,
 * 'why' then says why (spf_stop() sets it). Strings handed back are the
 * caller's to free; spf_eval_release() frees the state's own.
 */
#ifndef MAILCTL_SPF_EVAL_H
#define MAILCTL_SPF_EVAL_H

#include "spf.h"

#include <netinet/in.h>

struct spf_eval {
	const struct spf_request *req;
	dnsq_lookup_fn fn;
	void *ctx;
	struct spf_outcome *out;

	int family; /* AF_INET (also for IPv4-mapped IPv6) or AF_INET6; 0: no address */
	unsigned char ip[16];
	char i[72], c[INET6_ADDRSTRLEN];
	const char *v;
	char *sender, *local, *odomain; /* <sender> with "postmaster" filled in */

	int lookups, voids;
	int depth;     /* include nesting: 0 is the top record or a redirect of it */
	int redirects; /* redirects being followed */
	char why[512];

	/* the client's PTR names (the first SPF_MAX_NAMES), asked once */
	int ptr_asked;
	char **ptr;
	size_t nptr;
	signed char *valid; /* per name: -1 not checked yet, 0 no, 1 validated */
};

void spf_eval_init(struct spf_eval *ev, const struct spf_request *req, const char *domain,
                   const char *sender, dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out);
void spf_eval_release(struct spf_eval *ev);

/* Set 'why' and return -r. */
int spf_stop(struct spf_eval *ev, enum spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A or AAAA, by the client's family. */
ldns_rr_type spf_addr_type(const struct spf_eval *ev);

/* Ask for 'name'/'type': 1 with '*rrs' when records came, 0 when none
 * (NXDOMAIN, NODATA, or a name no query can be made of), -(temperror) on a
 * DNS error, -(pending). Void lookups are the caller's to count. */
int spf_ask(struct spf_eval *ev, const char *name, ldns_rr_type type, const ldns_rr_list **rrs);

/* A domain name rdata as text without the final dot ("" for the root). */
char *spf_dname(const ldns_rdf *rd);

/* The target name of a term or modifier: 'spec' expanded with <domain>
 * 'domain' (or 'domain' itself when 'spec' is NULL), without a final dot,
 * cut to 253 octets. 0 with '*out' set, or -(result). */
int spf_target(struct spf_eval *ev, const char *domain, const char *spec, char **out);

/* 'text' macro-expanded onto 'out' (finding %{p} first when it is used):
 * 0, -(permerror) on a syntax error, -(pending). */
int spf_expand_text(struct spf_eval *ev, const char *domain, const char *text, int explanation,
                    struct strbuf *out);

/* ptr:'target' (RFC 7208 5.5): 1, 0, or -(pending). */
int spf_ptr_match(struct spf_eval *ev, const char *target);

#endif
