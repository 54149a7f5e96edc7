/* The records of the hosted domains and their check input; see dnsplan.h. */
#include "dnsplan.h"
#include "cert.h"
#include "domain.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const empty[] = {NULL};

/* The mail host name: the configured one, else the machine's own, which
 * must then be fully qualified. */
static int mail_host(const struct config *cfg, struct dnsplan *p, struct mc_error *err)
{
	char buf[256];
	if (cfg->hostname && *cfg->hostname) {
		p->host = xstrdup(cfg->hostname);
		return 0;
	}
	if (gethostname(buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	buf[sizeof(buf) - 1] = '\0';
	if (!strchr(buf, '.'))
		return mc_fail(err, MC_ECONFIG,
		               "this machine's name '%s' is not fully qualified: set 'hostname' in "
		               "the configuration",
		               buf);
	p->host = xstrdup(buf);
	return 0;
}

/* Addresses from the configuration ("a, b c"), else from the interfaces. */
static int addresses(const struct config *cfg, struct dnsplan *p, struct mc_error *err)
{
	if (netaddr_server(cfg->ipv4, cfg->ipv6, &p->v4, &p->v6, err) < 0)
		return -1;
	if (!p->v4.n && !p->v6.n)
		return mc_fail(err, MC_ECONFIG,
		               "no public address found on this machine: set network.ipv4 or "
		               "network.ipv6 in the configuration");
	return 0;
}

/* The domains asked for: one (normalised, must exist) or all. */
static int which_domains(struct mc_ctx *ctx, const char *domain, struct dnsplan *p,
                         struct mc_error *err)
{
	struct domain_list doms = {0};
	struct domain_row one = {0};
	if (domain) {
		if (domain_show(ctx, domain, &one, err) < 0)
			return -1;
		p->v = xcalloc(1, sizeof(*p->v));
		p->v[0].name = xstrdup(one.name);
		p->n = 1;
		domain_row_release(&one);
		return 0;
	}
	if (domain_list(ctx, &doms, err) < 0)
		return -1;
	p->v = xcalloc(doms.n + 1, sizeof(*p->v));
	for (p->n = 0; p->n < doms.n; p->n++)
		p->v[p->n].name = xstrdup(doms.v[p->n].name);
	domain_list_release(&doms);
	return 0;
}

/* dnsrec_build() for one domain whose keys are loaded. */
static int build_records(const struct config *cfg, const struct dnsplan *p,
                         struct dnsplan_domain *d, int host_records, struct mc_error *err)
{
	struct dnsrec_dkim *dk = xcalloc(d->keys.n + 1, sizeof(*dk));
	char **values = xcalloc(d->keys.n + 1, sizeof(char *));
	for (size_t i = 0; i < d->keys.n; i++) {
		values[i] = dkim_record_value(d->keys.v[i].algorithm, d->keys.v[i].public_key);
		dk[i] = (struct dnsrec_dkim){d->keys.v[i].selector, values[i]};
	}
	char *report = xasprintf("postmaster@%s", d->name);
	struct dnsrec_input in = {
	    .domain = d->name,
	    .mailhost = p->host,
	    .ipv4 = p->v4.v ? (const char *const *)p->v4.v : empty,
	    .ipv6 = p->v6.v ? (const char *const *)p->v6.v : empty,
	    .ttl = (uint32_t)cfg->dns_ttl,
	    .dmarc_policy = cfg->dmarc_policy,
	    .report_address = report,
	    .mta_sts_mode = cfg->mta_sts_mode,
	    .dkim = dk,
	    .ndkim = d->keys.n,
	    .caa_issuer = cfg->caa_issuer,
	    .caa_accounturi = p->accounturi,
	    .tlsa_spki_sha256 = p->tlsa,
	    .tlsa_next_spki_sha256 = p->tlsa_next,
	    .host_records = host_records,
	};
	int rc = dnsrec_build(&in, &d->recs, err);
	for (size_t i = 0; i < d->keys.n; i++)
		free(values[i]);
	free(values);
	free(dk);
	free(report);
	return rc;
}

/* One domain's keys and records, and its part of the check input. */
static int build_domain(struct mc_ctx *ctx, struct dnsplan *p, size_t i, struct mc_error *err)
{
	struct dnsplan_domain *d = &p->v[i];
	if (dkim_list(ctx, d->name, &d->keys, err) < 0 ||
	    build_records(ctx->cfg, p, d, i == 0, err) < 0)
		return -1;
	d->ck = xcalloc(d->keys.n + 1, sizeof(*d->ck));
	for (size_t k = 0; k < d->keys.n; k++) {
		const struct dkim_row *r = &d->keys.v[k];
		d->ck[k] = (struct dnscheck_key){r->selector, r->algorithm, r->public_key,
		                                 r->key_file, !strcmp(r->state, "active")};
	}
	p->dom[i] = (struct dnscheck_domain){d->name, &d->recs, d->ck, d->keys.n};
	return 0;
}

int dnsplan_build(struct mc_ctx *ctx, const char *domain, struct dnsplan *p, struct mc_error *err)
{
	const struct config *cfg = ctx->cfg;
	char hex[65];
	struct mc_error no_key;
	memset(p, 0, sizeof(*p));
	if (mail_host(cfg, p, err) < 0 || addresses(cfg, p, err) < 0)
		goto fail;
	/* Once we have an account with the CA, CAA names it (RFC 8657), so no
	 * other account at that CA can get a certificate for our names. */
	struct acme_account_row acct = {0};
	struct mc_error no_account;
	if (store_acme_account_get(ctx->st, cfg->acme_directory, &acct, &no_account) == 1 &&
	    acct.url && acct.url[0])
		p->accounturi = xstrdup(acct.url);
	acme_account_row_release(&acct);
	/* The key survives certificate renewals, so its TLSA does too. */
	if (dnsrec_tlsa_from_key(cfg->tls_key_file, hex, &no_key) == 0)
		p->tlsa = xstrdup(hex);
	/* A key rollover under way: the next key's TLSA goes beside it. */
	char *next = cert_next_key_file(cfg);
	if (p->tlsa && dnsrec_tlsa_from_key(next, hex, &no_key) == 0)
		p->tlsa_next = xstrdup(hex);
	free(next);
	if (which_domains(ctx, domain, p, err) < 0)
		goto fail;
	p->dom = xcalloc(p->n + 1, sizeof(*p->dom));
	for (size_t i = 0; i < p->n; i++)
		if (build_domain(ctx, p, i, err) < 0)
			goto fail;
	p->in = (struct dnscheck_input){
	    .mailhost = p->host,
	    .ipv4 = p->v4.v ? (const char *const *)p->v4.v : empty,
	    .ipv6 = p->v6.v ? (const char *const *)p->v6.v : empty,
	    .dmarc_policy = cfg->dmarc_policy,
	    .mta_sts_mode = cfg->mta_sts_mode,
	    .domains = p->dom,
	    .ndomains = p->n,
	};
	return 0;
fail:
	dnsplan_release(p);
	return -1;
}

void dnsplan_release(struct dnsplan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		dkim_list_release(&p->v[i].keys);
		dnsrec_list_release(&p->v[i].recs);
		free(p->v[i].ck);
	}
	free(p->v);
	free(p->dom);
	free(p->host);
	free(p->tlsa);
	free(p->tlsa_next);
	free(p->accounturi);
	netaddr_list_release(&p->v4);
	netaddr_list_release(&p->v6);
	memset(p, 0, sizeof(*p));
}
