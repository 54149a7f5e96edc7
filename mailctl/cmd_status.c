/* mailctl status: the health report of lib/status.h as a table or JSON */
#include "cli.h"
#include "status.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

struct status_opts {
	unsigned flags;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct status_opts *o = ctx;
	(void)arg;
	if (opt == 'l')
		o->flags |= STATUS_LOCAL;
	return EX_OK;
}

static void print_rows(struct printer *p, const struct status_report *rep, int json)
{
	print_col(p, "check", "CHECK", CELL_STR);
	print_col(p, "subject", "SUBJECT", CELL_STR);
	print_col(p, "status", "STATUS", CELL_STR);
	if (json)
		print_col(p, "network", "NETWORK", CELL_BOOL);
	print_col(p, "finding", "FINDING", CELL_STR);
	print_col(p, "fix", "FIX", CELL_STR);
	for (size_t i = 0; i < rep->n; i++) {
		const struct status_row *r = &rep->v[i];
		print_str(p, r->check);
		print_str(p, r->subject);
		print_str(p, status_level_name(r->level));
		if (json)
			print_bool(p, r->network);
		print_str(p, r->finding);
		print_str(p, r->fix);
	}
}

static void print_summary_line(const struct status_report *rep)
{
	size_t n[STATUS_ERROR + 1] = {0};
	for (size_t i = 0; i < rep->n; i++)
		n[rep->v[i].level]++;
	printf("\n%zu ok, %zu warning%s, %zu error%s, %zu skipped in %ld ms\n", n[STATUS_OK],
	       n[STATUS_WARNING], n[STATUS_WARNING] == 1 ? "" : "s", n[STATUS_ERROR],
	       n[STATUS_ERROR] == 1 ? "" : "s", n[STATUS_SKIPPED], rep->elapsed_ms);
}

/* The database is one source among many: without it the checks that
 * need it say so in their rows, and the rest still run. */
static void open_store(struct cli *cli)
{
	struct mc_error err;
	if (store_open(&cli->st, cli->cfg.database, STORE_READ, &err) < 0)
		cli->st = NULL;
	cli->ctx.st = cli->st;
}

static int status_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"local", no_argument, NULL, 'l'}, {0}};
	struct status_opts o = {0};
	struct status_report rep;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	open_store(cli);
	if (status_run(&cli->ctx, o.flags, 0, &rep, NULL, NULL, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	print_rows(&cli->out, &rep, cli->json);
	if (print_end(&cli->out) < 0)
		code = EX_IOERR;
	else {
		if (!cli->json)
			print_summary_line(&rep);
		code = status_worst(&rep) == STATUS_ERROR ? EX_UNAVAILABLE : EX_OK;
	}
	status_report_release(&rep);
	return code;
}

static const char *const status_opts_help[] = {
    "--local\tonly the checks that stay on this machine (no DNS, blocklists, port 25)",
    NULL,
};

const struct verb status_verbs[] = {
    {"", status_cmd, CMD_PRIV, "[--local]",
     "Check the whole server: services, queue, disk, memory, certificate, aliases, DNS, "
     "blocklists, outbound port 25, reverse DNS (exit 69 when something is in error).",
     status_opts_help},
    {0},
};
