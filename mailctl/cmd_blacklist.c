/* mailctl blacklist check, mailctl blacklist zones */
#include "cli.h"
#include "dnsbl.h"
#include "dnsbl_monitor.h"
#include "domain.h"
#include "netaddr.h"
#include "strbuf.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

/* The exit codes issue 7 asks for, not sysexits: scripts and monitoring
 * read "listed" and "could not check" apart. */
enum { BL_CLEAN = 0, BL_LISTED = 1, BL_UNCHECKED = 2 };

struct opts {
	struct dnsq_server server;
	int health;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	struct mc_error err;
	if (opt == 'H') {
		o->health = 1;
		return EX_OK;
	}
	if (dnsq_server_parse(arg, &o->server, &err) < 0)
		return cli_error(
		    EX_USAGE, "invalid --resolver '%s': use ADDR, ADDR:PORT or [IPV6]:PORT", arg);
	return EX_OK;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void print_results(struct printer *p, const struct dnsbl_report *rep, int json)
{
	print_col(p, "subject", "SUBJECT", CELL_STR);
	print_col(p, "list", "LIST", CELL_STR);
	if (json)
		print_col(p, "weight", "WEIGHT", CELL_STR);
	print_col(p, "result", "RESULT", CELL_STR);
	print_col(p, "detail", "DETAIL", CELL_STR);
	if (json) {
		print_col(p, "txt", "TXT", CELL_STR);
		print_col(p, "fix", "FIX", CELL_STR);
	}
	print_col(p, "delist", "DELIST", CELL_STR);
	for (size_t i = 0; i < rep->n; i++) {
		const struct dnsbl_result *r = &rep->v[i];
		print_str(p, r->subject);
		print_str(p, r->zone->zone);
		if (json)
			print_str(p, r->zone->weight == DNSBL_MAJOR ? "major" : "minor");
		print_str(p, dnsbl_status_name(r->status));
		char *d = json ? NULL : dnsbl_result_detail(r);
		print_str(p, json ? (r->detail ? r->detail : "") : d);
		free(d);
		if (json) {
			print_str(p, r->txt ? r->txt : "");
			print_str(p, r->status == DNSBL_REFUSED ? DNSBL_REFUSED_FIX : "");
		}
		print_str(p, r->status == DNSBL_LISTED ? r->zone->delist : "");
	}
}

static void print_check_summary(const struct dnsbl_report *rep, const struct dnsq_server *s,
                                long ms)
{
	size_t n[DNSBL_SKIPPED + 1] = {0};
	for (size_t i = 0; i < rep->n; i++)
		n[rep->v[i].status]++;
	printf("\n%zu clean, %zu listed, %zu refused, %zu timed out, %zu errors, %zu skipped; "
	       "%zu queries to %s in %ld ms\n",
	       n[DNSBL_CLEAN], n[DNSBL_LISTED], n[DNSBL_REFUSED], n[DNSBL_TIMEOUT], n[DNSBL_ERROR],
	       n[DNSBL_SKIPPED], rep->queries, s->text, ms);
}

static int load_table(struct cli *cli, struct dnsbl_table *t, struct mc_error *err)
{
	return dnsbl_table_load(t, cli->cfg.dnsbl_file, err);
}

static int bl_cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"resolver", required_argument, NULL, 'r'}, {0}};
	struct opts o = {0};
	struct dnsbl_table t = {0};
	struct dnsbl_report rep = {0};
	struct netaddr_list subjects = {0};
	struct mc_error err;
	struct timespec t0;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &o, &code);
	if (i < 0)
		return code;
	for (int a = i; a < argc; a++)
		if (dnsbl_subject_kind(argv[a]) == DNSBL_SUBJECT_BAD)
			return cli_usage(cli, "'%s' is neither an IP address nor a domain",
			                 argv[a]);
	if ((code = cli_args_done(cli, argc - i, 0, -1)) != EX_OK)
		return code;
	for (int a = i; a < argc; a++)
		netaddr_list_add(&subjects, argv[a]);
	int rc = load_table(cli, &t, &err);
	if (rc == 0)
		rc = cli_pick_resolver(&cli->cfg, &o.server, &err);
	if (rc == 0 && !subjects.n)
		rc = dnsbl_subjects_default(&cli->ctx, &subjects, &err);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == 0)
		rc = dnsbl_check(&t, (const char *const *)subjects.v, subjects.n, &o.server, 0,
		                 &rep, &err);
	if (rc == 0) {
		long ms = elapsed_ms(&t0);
		print_begin(&cli->out, cli->json, 0);
		print_results(&cli->out, &rep, cli->json);
		if (print_end(&cli->out) < 0)
			code = EX_IOERR;
		else {
			if (!cli->json)
				print_check_summary(&rep, &o.server, ms);
			code = dnsbl_verdict(&rep);
		}
	}
	dnsbl_report_release(&rep);
	dnsbl_table_release(&t);
	netaddr_list_release(&subjects);
	return rc < 0 ? cli_fail(&err) : code;
}

static const char *health_name(const struct dnsbl_result *h)
{
	return h->dead ? "dead" : h->status == DNSBL_CLEAN ? "ok" : dnsbl_status_name(h->status);
}

static void print_zones(struct printer *p, const struct dnsbl_table *t,
                        const struct dnsbl_report *rep)
{
	print_col(p, "zone", "ZONE", CELL_STR);
	print_col(p, "kind", "KIND", CELL_STR);
	print_col(p, "ipv6", "IPV6", CELL_BOOL);
	print_col(p, "weight", "WEIGHT", CELL_STR);
	if (rep) {
		print_col(p, "health", "HEALTH", CELL_STR);
		print_col(p, "health_detail", "HEALTH DETAIL", CELL_STR);
	}
	print_col(p, "delist", "DELIST", CELL_STR);
	print_col(p, "why", "WHY", CELL_STR);
	for (size_t i = 0; i < t->n; i++) {
		const struct dnsbl_zone *z = &t->v[i];
		print_str(p, z->zone);
		print_str(p, z->kind == DNSBL_IP ? "ip" : "domain");
		print_bool(p, z->ipv6);
		print_str(p, z->weight == DNSBL_MAJOR ? "major" : "minor");
		if (rep) {
			print_str(p, health_name(&rep->health[i]));
			print_str(p, rep->health[i].detail);
		}
		print_str(p, z->delist);
		print_str(p, z->why ? z->why : "");
	}
}

static int bl_cmd_zones(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"health", no_argument, NULL, 'H'}, {"resolver", required_argument, NULL, 'r'}, {0}};
	struct opts o = {0};
	struct dnsbl_table t = {0};
	struct dnsbl_report rep = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	int rc = load_table(cli, &t, &err);
	if (rc == 0 && o.health)
		rc = cli_pick_resolver(&cli->cfg, &o.server, &err);
	if (rc == 0 && o.health)
		rc = dnsbl_check(&t, NULL, 0, &o.server, 0, &rep, &err);
	if (rc == 0) {
		print_begin(&cli->out, cli->json, 0);
		print_zones(&cli->out, &t, o.health ? &rep : NULL);
		code = print_end(&cli->out) < 0 ? EX_IOERR : BL_CLEAN;
		for (size_t z = 0; o.health && code == BL_CLEAN && z < t.n; z++)
			if (rep.health[z].dead || rep.health[z].status != DNSBL_CLEAN)
				code = BL_UNCHECKED;
	}
	dnsbl_report_release(&rep);
	dnsbl_table_release(&t);
	return rc < 0 ? cli_fail(&err) : code;
}

struct history_opts {
	long long limit;
	int all;
};

static int on_history_opt(int opt, const char *arg, void *ctx)
{
	struct history_opts *o = ctx;
	if (opt == 'a') {
		o->all = 1;
		return EX_OK;
	}
	return cli_limit_opt(opt, arg, &o->limit);
}

static int bl_cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, {"limit", required_argument, NULL, 'n'}, {0}};
	struct history_opts o = {.limit = 50};
	struct blacklist_list l = {0};
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_history_opt, &o, &code);
	if (i < 0)
		return code;
	if (i < argc && dnsbl_subject_kind(argv[i]) == DNSBL_SUBJECT_BAD)
		return cli_usage(cli, "'%s' is neither an IP address nor a domain", argv[i]);
	if ((code = cli_args_done(cli, argc - i, 0, 1)) != EX_OK)
		return code;
	if (store_blacklist_history(cli->st, i < argc ? argv[i] : NULL, !o.all, o.limit, &l, &err) <
	    0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	print_col(&cli->out, "checked", "CHECKED", CELL_STR);
	print_col(&cli->out, "subject", "SUBJECT", CELL_STR);
	print_col(&cli->out, "list", "LIST", CELL_STR);
	print_col(&cli->out, "result", "RESULT", CELL_STR);
	print_col(&cli->out, "detail", "DETAIL", CELL_STR);
	for (size_t r = 0; r < l.n; r++) {
		print_str(&cli->out, l.v[r].checked);
		print_str(&cli->out, l.v[r].subject);
		print_str(&cli->out, l.v[r].zone);
		print_str(&cli->out, l.v[r].status);
		print_str(&cli->out, l.v[r].detail);
	}
	code = print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
	blacklist_list_release(&l);
	return code;
}

static const char *const history_opts[] = {
    "--all	every stored result, not only the changes",
    "--limit N	how many rows, newest first (50)",
    NULL,
};

static const char *const check_opts[] = {
    "--resolver ADDR[:PORT]\tresolver to ask (default: dns.resolver, else /etc/resolv.conf)",
    NULL,
};

static const char *const zones_opts[] = {
    "--health\ttest each list: 127.0.0.2 must be listed, 127.0.0.1 must not",
    "--resolver ADDR[:PORT]\tresolver to ask (default: dns.resolver, else /etc/resolv.conf)",
    NULL,
};

const struct verb blacklist_verbs[] = {
    {"check", bl_cmd_check, CMD_STORE_RO, "[IP|DOMAIN...] [--resolver ADDR[:PORT]]",
     "Ask every DNS blocklist about the server's addresses and domains (exit 0 clean, 1 "
     "listed on a major list, 2 could not check).",
     check_opts},
    {"zones", bl_cmd_zones, 0, "[--health] [--resolver ADDR[:PORT]]",
     "Show the blocklist table; with --health, test that each list still works.", zones_opts},
    {"history", bl_cmd_history, CMD_STORE_RO, "[IP|DOMAIN] [--all] [--limit N]",
     "What mailctld's checks found: each change of a result (listed, delisted, ...), newest "
     "first.",
     history_opts},
    {0},
};
