/* The records of one domain and their check input; see dnsplan.h. The
 * gathering follows mailctl/cmd_dns.c so both show the same records. */
#include "dnsplan.h"
#include "domain.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const empty[] = {NULL};

/* The mail host name: the configured one, else the machine's own, which
 * must then be fully qualified. */
static int mail_host(const struct config *cfg, char *buf, size_t size, struct mc_error *err)
{
	if (cfg->hostname && *cfg->hostname) {
		snprintf(buf, size, "%s", cfg->hostname);
		return 0;
	}
	if (gethostname(buf, size) < 0 || !strchr(buf, '.'))
		return mc_fail(err, MC_ECONFIG,
		               "this machine's name '%s' is not fully qualified: set 'hostname' in "
		               "the configuration",
		               buf);
	return 0;
}

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

static int records(const struct config *cfg, struct dnsplan *p, struct mc_error *err)
{
	struct dnsrec_dkim *dk = xcalloc(p->keys.n + 1, sizeof(*dk));
	char **values = xcalloc(p->keys.n + 1, sizeof(char *));
	for (size_t i = 0; i < p->keys.n; i++) {
		values[i] = dkim_record_value(p->keys.v[i].algorithm, p->keys.v[i].public_key);
		dk[i] = (struct dnsrec_dkim){p->keys.v[i].selector, values[i]};
	}
	char *report = xasprintf("postmaster@%s", p->domain);
	struct dnsrec_input in = {
	    .domain = p->domain,
	    .mailhost = p->host,
	    .ipv4 = p->v4.v ? (const char *const *)p->v4.v : empty,
	    .ipv6 = p->v6.v ? (const char *const *)p->v6.v : empty,
	    .ttl = (uint32_t)cfg->dns_ttl,
	    .dmarc_policy = cfg->dmarc_policy,
	    .report_address = report,
	    .mta_sts_mode = cfg->mta_sts_mode,
	    .dkim = dk,
	    .ndkim = p->keys.n,
	    .caa_issuer = cfg->caa_issuer,
	    .tlsa_spki_sha256 = p->tlsa[0] ? p->tlsa : NULL,
	    .host_records = 1,
	};
	int rc = dnsrec_build(&in, &p->recs, err);
	for (size_t i = 0; i < p->keys.n; i++)
		free(values[i]);
	free(values);
	free(dk);
	free(report);
	return rc;
}

/* What dnscheck_run() takes, pointing into the plan itself. */
static void check_input(const struct config *cfg, struct dnsplan *p)
{
	p->ck = xcalloc(p->keys.n + 1, sizeof(*p->ck));
	for (size_t k = 0; k < p->keys.n; k++) {
		const struct dkim_row *r = &p->keys.v[k];
		p->ck[k] = (struct dnscheck_key){r->selector, r->algorithm, r->public_key,
		                                 r->key_file, !strcmp(r->state, "active")};
	}
	p->dom = (struct dnscheck_domain){p->domain, &p->recs, p->ck, p->keys.n};
	p->in = (struct dnscheck_input){
	    .mailhost = p->host,
	    .ipv4 = p->v4.v ? (const char *const *)p->v4.v : empty,
	    .ipv6 = p->v6.v ? (const char *const *)p->v6.v : empty,
	    .dmarc_policy = cfg->dmarc_policy,
	    .domains = &p->dom,
	    .ndomains = 1,
	};
}

int dnsplan_build(struct mc_ctx *ctx, const char *domain, struct dnsplan *p, struct mc_error *err)
{
	struct domain_row d = {0};
	struct mc_error no_key;
	memset(p, 0, sizeof(*p));
	if (domain_show(ctx, domain, &d, err) < 0)
		return -1;
	p->domain = xstrdup(d.name);
	domain_row_release(&d);
	if (mail_host(ctx->cfg, p->host, sizeof(p->host), err) < 0 ||
	    addresses(ctx->cfg, p, err) < 0)
		return -1;
	/* The key survives certificate renewals, so its TLSA does too. */
	if (dnsrec_tlsa_from_key(ctx->cfg->tls_key_file, p->tlsa, &no_key) < 0)
		p->tlsa[0] = '\0';
	if (dkim_list(ctx, p->domain, &p->keys, err) < 0 || records(ctx->cfg, p, err) < 0)
		return -1;
	check_input(ctx->cfg, p);
	return 0;
}

void dnsplan_release(struct dnsplan *p)
{
	free(p->domain);
	netaddr_list_release(&p->v4);
	netaddr_list_release(&p->v6);
	dkim_list_release(&p->keys);
	dnsrec_list_release(&p->recs);
	free(p->ck);
	memset(p, 0, sizeof(*p));
}
