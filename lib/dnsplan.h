/*
 * dnsplan - the DNS records of the hosted domains and the input of a
 * live check of them: what 'mailctl dns records' prints, what 'mailctl
 * dns check' and mailtui's DNS screen give dnscheck_run().
 *
 * dnsplan_build() gathers, in this order: the mail host name (configured,
 * else the machine's own, which must then be fully qualified:
 * MC_ECONFIG), the server's public addresses (network.ipv4/ipv6, else the
 * interfaces; none: MC_ECONFIG), the TLSA 3 1 1 digest of tls.key_file
 * (left out while the key does not exist) and, during a key rollover,
 * of the next key (cert.h), the domains (one, which must
 * exist: MC_ENODOMAIN, or every hosted one), and per domain its DKIM
 * keys and dnsrec_build()'s records. The mail host's own records (A,
 * AAAA, HELO SPF, TLSA, PTR) go with the first domain only, so printing
 * every domain's records in order gives each record once.
 *
 * A plan owns everything it points at and holds no store pointer, so it
 * can be handed to another thread for the check; 'in' points into the
 * plan's own heap memory, so the struct itself may be copied (not both
 * copies released). Release with dnsplan_release().
 */
#ifndef MAILCTL_DNSPLAN_H
#define MAILCTL_DNSPLAN_H

#include <stddef.h>

#include "account.h"
#include "dkim.h"
#include "dnscheck.h"
#include "dnsrec.h"
#include "netaddr.h"

struct dnsplan_domain {
	char *name; /* A-label */
	struct dkim_list keys;
	struct dnsrec_list recs;
	struct dnscheck_key *ck; /* 'keys' as dnscheck_run() takes them */
};

struct dnsplan {
	char *host;       /* the mail host name */
	char *tlsa;       /* hex SPKI SHA-256 of tls.key_file, or NULL */
	char *tlsa_next;  /* of the next key while 'cert rollover' is under way, or NULL */
	char *accounturi; /* the ACME account at acme.directory (CAA, RFC 8657), or NULL */
	struct netaddr_list v4, v6;
	struct dnsplan_domain *v;
	size_t n;
	struct dnscheck_domain *dom; /* n of them, for 'in' */
	struct dnscheck_input in;    /* the check of every domain of the plan */
};

/* Build the plan of 'domain' (normalised; must exist), or of every hosted
 * domain when 'domain' is NULL (none: n is 0, not an error). On failure
 * '*p' is released. */
int dnsplan_build(struct mc_ctx *ctx, const char *domain, struct dnsplan *p, struct mc_error *err);
void dnsplan_release(struct dnsplan *p);

#endif
