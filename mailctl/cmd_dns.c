/* mailctl dns records, mailctl dns check */
#include "cli.h"
#include "dnscheck.h"
#include "dnsplan.h"
#include "dnsrec.h"

#include <getopt.h>
#include <limits.h>
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

static void print_zone(const struct dnsplan *plan)
{
	for (size_t d = 0; d < plan->n; d++) {
		const struct dnsrec_list *l = &plan->v[d].recs;
		for (size_t i = 0; i < l->n; i++) {
			printf("; %s\n", l->v[i].purpose);
			printf("%s%s\n", l->v[i].provider ? "; at your provider: " : "",
			       l->v[i].zone);
		}
	}
}

static void print_rows(struct printer *p, const struct dnsplan *plan)
{
	print_col(p, "name", "NAME", CELL_STR);
	print_col(p, "type", "TYPE", CELL_STR);
	print_col(p, "ttl", "TTL", CELL_INT);
	print_col(p, "value", "VALUE", CELL_STR);
	print_col(p, "purpose", "PURPOSE", CELL_STR);
	print_col(p, "provider", "AT PROVIDER", CELL_BOOL);
	for (size_t d = 0; d < plan->n; d++) {
		const struct dnsrec_list *l = &plan->v[d].recs;
		for (size_t i = 0; i < l->n; i++) {
			print_str(p, l->v[i].name);
			print_str(p, l->v[i].type);
			print_int(p, l->v[i].ttl);
			print_str(p, l->v[i].value);
			print_str(p, l->v[i].purpose);
			print_bool(p, l->v[i].provider);
		}
	}
}

static int dns_cmd_records(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
	enum format fmt = cli->json ? FMT_JSON : FMT_ZONE;
	struct dnsplan plan;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &fmt, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	if (dnsplan_build(&cli->ctx, i < argc ? argv[i] : NULL, &plan, &err) < 0)
		return cli_fail(&err);
	if (fmt == FMT_ZONE) {
		print_zone(&plan);
	} else {
		print_begin(&cli->out, fmt == FMT_JSON, 0);
		print_rows(&cli->out, &plan);
		code = print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
	}
	dnsplan_release(&plan);
	return code;
}

/* ---- dns check ---- */

struct check_opts {
	struct dnsq_server server;
	char ca_file[PATH_MAX];
};

static int on_check_opt(int opt, const char *arg, void *ctx)
{
	struct check_opts *o = ctx;
	struct mc_error err;
	if (opt == 'c') {
		if (!realpath(arg, o->ca_file) || access(o->ca_file, R_OK) < 0)
			return cli_error(EX_USAGE, "invalid --ca-file '%s': cannot read it", arg);
		return EX_OK;
	}
	if (dnsq_server_parse(arg, &o->server, &err) < 0)
		return cli_error(EX_USAGE,
		                 "invalid --resolver '%s': use ADDR, ADDR:PORT or "
		                 "[IPV6]:PORT",
		                 arg);
	return EX_OK;
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

/* Check every domain of 'plan' and print the findings; the exit code
 * follows the worst level. */
static int run_check(struct cli *cli, struct dnsplan *plan, const struct dnsq_server *server,
                     struct mc_error *err)
{
	struct dnscheck_report rep = {0};
	struct timespec t0;
	if (!plan->n)
		return mc_fail(err, MC_EDATA, "no hosted domains to check");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (dnscheck_run(&plan->in, server, 0, &rep, err) < 0)
		return -1;
	int code = EX_OK;
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
	dnscheck_report_release(&rep);
	return code;
}

/* The resolver: --resolver, else dns.resolver, else resolv.conf's first.
 * The MTA-STS policies are fetched too, verified with --ca-file if given. */
static int dns_cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"resolver", required_argument, NULL, 'r'},
	                                     {"ca-file", required_argument, NULL, 'c'},
	                                     {0}};
	struct check_opts o = {0};
	struct dnsplan plan = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_check_opt, &o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	int rc = cli_pick_resolver(&cli->cfg, &o.server, &err);
	if (rc == 0)
		rc = dnsplan_build(&cli->ctx, i < argc ? argv[i] : NULL, &plan, &err);
	if (rc == 0) {
		plan.in.mta_sts_fetch = 1;
		plan.in.mta_sts_ca_file = o.ca_file[0] ? o.ca_file : NULL;
		rc = run_check(cli, &plan, &o.server, &err);
	}
	dnsplan_release(&plan);
	return rc < 0 ? cli_fail(&err) : rc;
}

static const char *const records_opts[] = {
    "--format FORMAT\tzone (default), table or json (also --json)",
    NULL,
};

static const char *const check_opts[] = {
    "--resolver ADDR[:PORT]\tresolver to ask (default: dns.resolver, else /etc/resolv.conf)",
    "--ca-file FILE\tCA certificates to verify the MTA-STS policy's HTTPS with (default: the "
    "system's)",
    NULL,
};

const struct verb dns_verbs[] = {
    {"records", dns_cmd_records, CMD_STORE_RO, "[DOMAIN] [--format zone|table|json]",
     "Print every DNS record the domains need, with why each one is there.", records_opts},
    {"check", dns_cmd_check, CMD_STORE_RO, "[DOMAIN] [--resolver ADDR[:PORT]] [--ca-file FILE]",
     "Check what DNS really holds against the records, with a fix for each problem.", check_opts},
    {0},
};
