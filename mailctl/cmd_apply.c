/* mailctl apply [--dry-run] [--rollback] [--no-reload] */
#include "apply.h"
#include "cli.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

struct apply_opts {
	int dry_run, rollback, no_reload;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct apply_opts *o = ctx;
	(void)arg;
	if (opt == 'n')
		o->dry_run = 1;
	else if (opt == 'r')
		o->rollback = 1;
	else
		o->no_reload = 1;
	return EX_OK;
}

static int rollback(struct cli *cli)
{
	struct mc_error err;
	size_t n;
	if (apply_rollback(&cli->cfg, &n, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out,
	              "restored %zu file(s) from before the last apply; reload the "
	              "services or run 'mailctl apply' to go forward again",
	              n);
	print_col(&cli->out, "restored", "", CELL_INT);
	print_int(&cli->out, (long long)n);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

/* Show the diff; then, unless this is a dry run, validate, install and
 * reload. */
static int apply_run(struct cli *cli, struct apply_plan *plan, const struct apply_opts *o,
                     struct mc_error *err)
{
	struct strbuf diff = STRBUF_INIT;
	char *reloaded = NULL, *services = apply_changed_services(plan);
	int rc = apply_diff(plan, &diff, err);
	if (rc == 0 && !cli->json)
		fputs(diff.buf, stdout);
	if (rc == 0 && !o->dry_run)
		rc = apply_validate(plan, err) < 0 || apply_install(plan, err) < 0 ? -1 : 0;
	if (rc == 0 && !o->dry_run && !o->no_reload)
		rc = apply_reload(plan, &reloaded, err);
	if (rc == 0) {
		size_t changed = 0;
		for (size_t i = 0; i < plan->n; i++)
			changed += plan->v[i].changed;
		print_begin(&cli->out, cli->json, 1);
		print_summary(&cli->out, "%s%zu of %zu file(s) %s%s%s",
		              o->dry_run ? "dry run: " : "", changed, plan->n,
		              o->dry_run ? "would change" : "changed",
		              reloaded && *reloaded ? "; reloaded " : "", reloaded ? reloaded : "");
		print_col(&cli->out, "changed", "", CELL_INT);
		print_col(&cli->out, "services", "", CELL_STR);
		print_col(&cli->out, "diff", "", CELL_STR);
		print_int(&cli->out, (long long)changed);
		print_str(&cli->out, services);
		print_str(&cli->out, diff.buf);
		rc = print_end(&cli->out);
	}
	free(reloaded);
	free(services);
	strbuf_release(&diff);
	return rc;
}

static int apply_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                     {"rollback", no_argument, NULL, 'r'},
	                                     {"no-reload", no_argument, NULL, 'R'},
	                                     {0}};
	struct apply_opts o = {0};
	struct apply_plan plan;
	struct mc_error err = {0};
	char host[256];
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	if (o.rollback && o.dry_run)
		return cli_usage(cli, "--rollback and --dry-run exclude each other");
	if (o.rollback)
		return rollback(cli);
	snprintf(host, sizeof(host), "%s", cli->cfg.hostname);
	if (!*host && gethostname(host, sizeof(host)) < 0)
		return cli_error(EX_OSERR, "cannot read this machine's name");
	if (apply_plan(&cli->cfg, host, &plan, &err) < 0)
		return cli_fail(&err);
	int rc = apply_run(cli, &plan, &o, &err);
	apply_plan_release(&plan);
	return rc < 0 ? (err.msg[0] ? cli_fail(&err) : EX_IOERR) : EX_OK;
}

static const char *const apply_options[] = {
    "--dry-run\tshow what would change, change nothing",
    "--rollback\tput back the files the last apply replaced",
    "--no-reload\tinstall without reloading Postfix and Dovecot",
    NULL,
};

const struct verb apply_verbs[] = {
    {"", apply_cmd, CMD_PRIV, "[--dry-run | --rollback] [--no-reload]",
     "Render templates/ onto the system: show the diff, validate, install, reload.", apply_options},
    {0},
};
