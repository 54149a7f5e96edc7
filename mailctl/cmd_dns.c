/* mailctl dns records */
#include "cli.h"
#include "dkim.h"
#include "dnsrec.h"
#include "domain.h"
#include "netaddr.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

enum format { FMT_ZONE, FMT_TABLE, FMT_JSON };

static int on_opt(int opt, const char *arg, void *ctx)
{
	enum format *f = ctx;
	(void)opt;
	if (!strcmp(arg, "zone"))
		*f = FMT_ZONE;
	else if (!strcmp(arg, "table"))
		*f = FMT_TABLE;
	else if (!strcmp(arg, "json"))
		*f = FMT_JSON;
	else
		return cli_error(EX_USAGE, "invalid --format '%s': zone, table or json", arg);
	return EX_OK;
}

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

/* Addresses from the configuration ("a, b c"), else from the interfaces. */
static int addresses(const struct config *cfg, struct netaddr_list *v4, struct netaddr_list *v6,
                     struct mc_error *err)
{
	const char *conf[] = {cfg->ipv4, cfg->ipv6};
	struct netaddr_list *lists[] = {v4, v6};
	char word[64];
	for (int i = 0; i < 2; i++)
		for (const char *p = conf[i] + strspn(conf[i], ", "); *p; p += strspn(p, ", ")) {
			size_t n = strcspn(p, ", ");
			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			netaddr_list_add(lists[i], word);
			p += n;
		}
	if (v4->n || v6->n)
		return 0;
	if (netaddr_detect(v4, v6, err) < 0)
		return -1;
	if (!v4->n && !v6->n)
		return mc_fail(err, MC_ECONFIG,
		               "no public address found on this machine: set network.ipv4 or "
		               "network.ipv6 in the configuration");
	return 0;
}

struct gathered {
	char host[256];
	struct netaddr_list v4, v6;
};

/* Build the records of one domain into 'out'. */
static int domain_records(struct cli *cli, struct gathered *g, const char *domain, int host_records,
                          struct dnsrec_list *out, struct mc_error *err)
{
	struct dkim_list keys;
	static const char *const empty[] = {NULL};
	if (dkim_list(&cli->ctx, domain, &keys, err) < 0)
		return -1;
	struct dnsrec_dkim *dk = xcalloc(keys.n + 1, sizeof(*dk));
	char **values = xcalloc(keys.n + 1, sizeof(char *));
	for (size_t i = 0; i < keys.n; i++) {
		values[i] = dkim_record_value(keys.v[i].algorithm, keys.v[i].public_key);
		dk[i] = (struct dnsrec_dkim){keys.v[i].selector, values[i]};
	}
	char *report = xasprintf("postmaster@%s", domain);
	struct dnsrec_input in = {
	    .domain = domain,
	    .mailhost = g->host,
	    .ipv4 = g->v4.v ? (const char *const *)g->v4.v : empty,
	    .ipv6 = g->v6.v ? (const char *const *)g->v6.v : empty,
	    .ttl = (uint32_t)cli->cfg.dns_ttl,
	    .dmarc_policy = cli->cfg.dmarc_policy,
	    .report_address = report,
	    .mta_sts_mode = cli->cfg.mta_sts_mode,
	    .dkim = dk,
	    .ndkim = keys.n,
	    .caa_issuer = cli->cfg.caa_issuer,
	    .host_records = host_records,
	};
	int rc = dnsrec_build(&in, out, err);
	for (size_t i = 0; i < keys.n; i++)
		free(values[i]);
	free(values);
	free(dk);
	free(report);
	dkim_list_release(&keys);
	return rc;
}

static void print_zone(const struct dnsrec_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		printf("; %s\n", l->v[i].purpose);
		printf("%s%s\n", l->v[i].provider ? "; at your provider: " : "", l->v[i].zone);
	}
}

static void print_rows(struct printer *p, const struct dnsrec_list *l)
{
	print_col(p, "name", "NAME", CELL_STR);
	print_col(p, "type", "TYPE", CELL_STR);
	print_col(p, "ttl", "TTL", CELL_INT);
	print_col(p, "value", "VALUE", CELL_STR);
	print_col(p, "purpose", "PURPOSE", CELL_STR);
	print_col(p, "provider", "AT PROVIDER", CELL_BOOL);
	for (size_t i = 0; i < l->n; i++) {
		print_str(p, l->v[i].name);
		print_str(p, l->v[i].type);
		print_int(p, l->v[i].ttl);
		print_str(p, l->v[i].value);
		print_str(p, l->v[i].purpose);
		print_bool(p, l->v[i].provider);
	}
}

/* The domains asked for: one (normalised, must exist) or all. */
static int which_domains(struct cli *cli, const char *arg, struct domain_list *out,
                         struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!arg)
		return domain_list(&cli->ctx, out, err);
	out->v = xcalloc(1, sizeof(*out->v));
	out->alloc = 1;
	if (domain_show(&cli->ctx, arg, &out->v[0], err) < 0)
		return -1;
	out->n = 1;
	return 0;
}

static int dns_cmd_records(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
	enum format fmt = cli->json ? FMT_JSON : FMT_ZONE;
	struct gathered g = {0};
	struct domain_list doms = {0};
	struct dnsrec_list recs = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &fmt, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	int rc = mail_host(&cli->cfg, g.host, sizeof(g.host), &err);
	if (rc == 0)
		rc = addresses(&cli->cfg, &g.v4, &g.v6, &err);
	if (rc == 0)
		rc = which_domains(cli, i < argc ? argv[i] : NULL, &doms, &err);
	for (size_t d = 0; rc == 0 && d < doms.n; d++)
		rc = domain_records(cli, &g, doms.v[d].name, d == 0, &recs, &err);
	if (rc == 0 && fmt == FMT_ZONE)
		print_zone(&recs);
	else if (rc == 0) {
		print_begin(&cli->out, fmt == FMT_JSON, 0);
		print_rows(&cli->out, &recs);
		code = print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
	}
	dnsrec_list_release(&recs);
	domain_list_release(&doms);
	netaddr_list_release(&g.v4);
	netaddr_list_release(&g.v6);
	return rc < 0 ? cli_fail(&err) : code;
}

static const char *const records_opts[] = {
    "--format FORMAT\tzone (default), table or json (also --json)",
    NULL,
};

const struct verb dns_verbs[] = {
    {"records", dns_cmd_records, CMD_STORE_RO, "[DOMAIN] [--format zone|table|json]",
     "Print every DNS record the domains need, with why each one is there.", records_opts},
    {0},
};
