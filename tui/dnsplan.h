/*
 * dnsplan - the DNS records of one domain, gathered as 'mailctl dns
 * records DOMAIN' gathers them (mail host name, server addresses, TLSA of
 * the TLS key, DKIM keys), and the input 'dns check' gives dnscheck_run()
 * for them.
 *
 * Built on the main thread from the store; a built plan holds no store
 * pointer, so a copy can be handed to a background check. Release with
 * dnsplan_release().
 */
#ifndef MAILTUI_DNSPLAN_H
#define MAILTUI_DNSPLAN_H

#include "account.h"
#include "dkim.h"
#include "dnscheck.h"
#include "dnsrec.h"
#include "netaddr.h"

struct dnsplan {
	char host[256];
	char tlsa[65];
	char *domain; /* A-label */
	struct netaddr_list v4, v6;
	struct dkim_list keys;
	struct dnsrec_list recs;
	struct dnscheck_key *ck;
	struct dnscheck_domain dom;
	struct dnscheck_input in;
};

/* Build the plan for 'domain' (must exist: MC_ENODOMAIN). */
int dnsplan_build(struct mc_ctx *ctx, const char *domain, struct dnsplan *p, struct mc_error *err);
void dnsplan_release(struct dnsplan *p);

#endif
