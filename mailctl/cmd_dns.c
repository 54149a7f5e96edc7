/* mailctl dns records, mailctl dns check */
#include "cli.h"
#include "dkim.h"
#include "dnscheck.h"
#include "dnsrec.h"
#include "domain.h"
#include "netaddr.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
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
	if (netaddr_server(cfg->ipv4, cfg->ipv6, v4, v6, err) < 0)
		return -1;
	if (!v4->n && !v6->n)
		return mc_fail(err, MC_ECONFIG,
		               "no public address found on this machine: set network.ipv4 or "
		               "network.ipv6 in the configuration");
	return 0;
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

/* What both verbs start from: the mail host, its addresses, the domains. */
struct gathered {
	char host[256];
	struct netaddr_list v4, v6;
	struct domain_list doms;
	char tlsa[65]; /* "" until the TLS key exists (mailctl setup makes it) */
};

static int gather(struct cli *cli, const char *domain, struct gathered *g, struct mc_error *err)
{
	struct mc_error no_key;
	if (mail_host(&cli->cfg, g->host, sizeof(g->host), err) < 0 ||
	    addresses(&cli->cfg, &g->v4, &g->v6, err) < 0)
		return -1;
	/* The key survives certificate renewals, so its TLSA does too. */
	if (dnsrec_tlsa_from_key(cli->cfg.tls_key_file, g->tlsa, &no_key) < 0)
		g->tlsa[0] = '\0';
	return which_domains(cli, domain, &g->doms, err);
}

static void gathered_release(struct gathered *g)
{
	domain_list_release(&g->doms);
	netaddr_list_release(&g->v4);
	netaddr_list_release(&g->v6);
}

/* Build the records of one domain into 'out'; '*keys' gets its DKIM keys
 * (release with dkim_list_release()). */
static int domain_records(struct cli *cli, const struct gathered *g, const char *domain,
                          int host_records, struct dkim_list *keys, struct dnsrec_list *out,
                          struct mc_error *err)
{
	static const char *const empty[] = {NULL};
	if (dkim_list(&cli->ctx, domain, keys, err) < 0)
		return -1;
	struct dnsrec_dkim *dk = xcalloc(keys->n + 1, sizeof(*dk));
	char **values = xcalloc(keys->n + 1, sizeof(char *));
	for (size_t i = 0; i < keys->n; i++) {
		values[i] = dkim_record_value(keys->v[i].algorithm, keys->v[i].public_key);
		dk[i] = (struct dnsrec_dkim){keys->v[i].selector, values[i]};
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
	    .ndkim = keys->n,
	    .caa_issuer = cli->cfg.caa_issuer,
	    .tlsa_spki_sha256 = g->tlsa[0] ? g->tlsa : NULL,
	    .host_records = host_records,
	};
	int rc = dnsrec_build(&in, out, err);
	for (size_t i = 0; i < keys->n; i++)
		free(values[i]);
	free(values);
	free(dk);
	free(report);
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

static int dns_cmd_records(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
	enum format fmt = cli->json ? FMT_JSON : FMT_ZONE;
	struct gathered g = {0};
	struct dnsrec_list recs = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &fmt, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	int rc = gather(cli, i < argc ? argv[i] : NULL, &g, &err);
	for (size_t d = 0; rc == 0 && d < g.doms.n; d++) {
		struct dkim_list keys;
		rc = domain_records(cli, &g, g.doms.v[d].name, d == 0, &keys, &recs, &err);
		dkim_list_release(&keys);
	}
	if (rc == 0 && fmt == FMT_ZONE)
		print_zone(&recs);
	else if (rc == 0) {
		print_begin(&cli->out, fmt == FMT_JSON, 0);
		print_rows(&cli->out, &recs);
		code = print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
	}
	dnsrec_list_release(&recs);
	gathered_release(&g);
	return rc < 0 ? cli_fail(&err) : code;
}

/* ---- dns check ---- */

/* One domain's expected records and keys, as dnscheck_run() takes them. */
struct checked {
	struct dkim_list keys;
	struct dnsrec_list recs;
	struct dnscheck_key *ck;
};

static int on_check_opt(int opt, const char *arg, void *ctx)
{
	struct mc_error err;
	(void)opt;
	if (dnsq_server_parse(arg, ctx, &err) < 0)
		return cli_error(EX_USAGE,
		                 "invalid --resolver '%s': use ADDR, ADDR:PORT or "
		                 "[IPV6]:PORT",
		                 arg);
	return EX_OK;
}

/* The resolver: --resolver, else dns.resolver, else resolv.conf's first. */
static int check_domain(struct cli *cli, const struct gathered *g, size_t d, struct checked *c,
                        struct dnscheck_domain *out, struct mc_error *err)
{
	const char *name = g->doms.v[d].name;
	if (domain_records(cli, g, name, d == 0, &c->keys, &c->recs, err) < 0)
		return -1;
	c->ck = xcalloc(c->keys.n + 1, sizeof(*c->ck));
	for (size_t k = 0; k < c->keys.n; k++) {
		const struct dkim_row *r = &c->keys.v[k];
		c->ck[k] = (struct dnscheck_key){r->selector, r->algorithm, r->public_key,
		                                 r->key_file, !strcmp(r->state, "active")};
	}
	*out = (struct dnscheck_domain){name, &c->recs, c->ck, c->keys.n};
	return 0;
}

static void print_findings(struct printer *p, const struct dnscheck_report *r, int json)
{
	print_col(p, "name", "RECORD", CELL_STR);
	print_col(p, "type", "TYPE", CELL_STR);
	if (json)
		print_col(p, "check", "CHECK", CELL_STR);
	print_col(p, "status", "STATUS", CELL_STR);
	if (json) {
		print_col(p, "level", "LEVEL", CELL_STR);
		print_col(p, "required", "REQUIRED", CELL_BOOL);
		print_col(p, "validated", "AD", CELL_BOOL);
	}
	print_col(p, "detail", "DETAIL", CELL_STR);
	print_col(p, "fix", "FIX", CELL_STR);
	if (json) {
		print_col(p, "expected", "EXPECTED", CELL_STR);
		print_col(p, "found", "FOUND", CELL_LIST);
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct dnscheck_finding *f = &r->v[i];
		print_str(p, f->name);
		print_str(p, f->type);
		if (json)
			print_str(p, f->check);
		print_str(p, dnscheck_status_name(f->status));
		if (json) {
			print_str(p, dnscheck_level_name(f->level));
			print_bool(p, f->required);
			print_bool(p, f->ad);
		}
		print_str(p, f->detail);
		print_str(p, f->fix);
		if (json) {
			print_str(p, f->expected);
			print_list(p, f->found, f->nfound);
		}
	}
}

/* One line after the table: counts by level, the resolver, the time. */
static void print_summary_line(const struct dnscheck_report *r, const struct dnsq_server *s,
                               long ms)
{
	size_t n[DNSCHECK_LFAIL + 1] = {0};
	for (size_t i = 0; i < r->n; i++)
		n[r->v[i].level]++;
	printf("\n%zu ok, %zu info, %zu warnings, %zu not answered, %zu failed; %zu queries to %s "
	       "in %ld ms\n",
	       n[DNSCHECK_LOK], n[DNSCHECK_LINFO], n[DNSCHECK_LWARN], n[DNSCHECK_LTEMP],
	       n[DNSCHECK_LFAIL], r->queries, s->text, ms);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int run_check(struct cli *cli, struct gathered *g, const struct dnsq_server *server,
                     struct mc_error *err)
{
	static const char *const empty[] = {NULL};
	struct checked *c = xcalloc(g->doms.n + 1, sizeof(*c));
	struct dnscheck_domain *doms = xcalloc(g->doms.n + 1, sizeof(*doms));
	struct dnscheck_report rep = {0};
	struct timespec t0;
	int rc = g->doms.n ? 0 : mc_fail(err, MC_EDATA, "no hosted domains to check");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t d = 0; rc == 0 && d < g->doms.n; d++)
		rc = check_domain(cli, g, d, &c[d], &doms[d], err);
	struct dnscheck_input in = {
	    .mailhost = g->host,
	    .ipv4 = g->v4.v ? (const char *const *)g->v4.v : empty,
	    .ipv6 = g->v6.v ? (const char *const *)g->v6.v : empty,
	    .dmarc_policy = cli->cfg.dmarc_policy,
	    .domains = doms,
	    .ndomains = g->doms.n,
	};
	if (rc == 0)
		rc = dnscheck_run(&in, server, 0, &rep, err);
	int code = EX_OK;
	if (rc == 0) {
		print_begin(&cli->out, cli->json, 0);
		print_findings(&cli->out, &rep, cli->json);
		if (print_end(&cli->out) < 0)
			code = EX_IOERR;
		else if (!cli->json)
			print_summary_line(&rep, server, elapsed_ms(&t0));
		enum dnscheck_level worst = dnscheck_worst(&rep);
		if (code == EX_OK)
			code = worst == DNSCHECK_LFAIL   ? EX_DATAERR
			       : worst == DNSCHECK_LTEMP ? EX_TEMPFAIL
			                                 : EX_OK;
	}
	for (size_t d = 0; d < g->doms.n; d++) {
		dkim_list_release(&c[d].keys);
		dnsrec_list_release(&c[d].recs);
		free(c[d].ck);
	}
	free(c);
	free(doms);
	dnscheck_report_release(&rep);
	return rc < 0 ? -1 : code;
}

static int dns_cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"resolver", required_argument, NULL, 'r'}, {0}};
	struct dnsq_server server = {0};
	struct gathered g = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_check_opt, &server, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	int rc = cli_pick_resolver(&cli->cfg, &server, &err);
	if (rc == 0)
		rc = gather(cli, i < argc ? argv[i] : NULL, &g, &err);
	if (rc == 0)
		rc = run_check(cli, &g, &server, &err);
	gathered_release(&g);
	return rc < 0 ? cli_fail(&err) : rc;
}

static const char *const records_opts[] = {
    "--format FORMAT\tzone (default), table or json (also --json)",
    NULL,
};

static const char *const check_opts[] = {
    "--resolver ADDR[:PORT]\tresolver to ask (default: dns.resolver, else /etc/resolv.conf)",
    NULL,
};

const struct verb dns_verbs[] = {
    {"records", dns_cmd_records, CMD_STORE_RO, "[DOMAIN] [--format zone|table|json]",
     "Print every DNS record the domains need, with why each one is there.", records_opts},
    {"check", dns_cmd_check, CMD_STORE_RO, "[DOMAIN] [--resolver ADDR[:PORT]]",
     "Check what DNS really holds against the records, with a fix for each problem.", check_opts},
    {0},
};
