/* mailctl setup [--hostname FQDN] [--domain DOMAIN] [--admin ADDR] */
#include "cli.h"
#include "setup.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct setup_request *req = ctx;
	if (opt == 'H')
		req->hostname = arg;
	else if (opt == 'd')
		req->domain = arg;
	else
		req->admin = arg;
	return EX_OK;
}

/* What setup did, as text lines or JSON fields. */
static int report(struct cli *cli, const struct setup_plan *p, const struct setup_report *r,
                  int had_config)
{
	struct strbuf text = STRBUF_INIT;
	if (had_config)
		strbuf_addf(&text, "using the existing configuration '%s'\n", cli->config_path);
	strbuf_addstr(&text, r->log.buf);
	if (p->demo)
		strbuf_addf(&text,
		            "this machine has no public name: this is a local demo for '%s' "
		            "on %s\n",
		            p->domain, p->hostname);
	if (r->password)
		strbuf_addf(&text, "password for %s (shown only this once): %s\n", p->admin,
		            r->password);
	if (r->changes)
		strbuf_addf(&text, "%s is set up for %s (%zu change(s))", p->hostname, p->domain,
		            r->changes);
	else
		strbuf_addf(&text, "nothing changed: %s is already set up for %s", p->hostname,
		            p->domain);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "%s", text.buf);
	strbuf_release(&text);
	print_col(&cli->out, "hostname", "", CELL_STR);
	print_col(&cli->out, "domain", "", CELL_STR);
	print_col(&cli->out, "admin", "", CELL_STR);
	print_col(&cli->out, "demo", "", CELL_BOOL);
	print_col(&cli->out, "changes", "", CELL_INT);
	print_col(&cli->out, "password", "", CELL_STR);
	print_str(&cli->out, p->hostname);
	print_str(&cli->out, p->domain);
	print_str(&cli->out, p->admin);
	print_bool(&cli->out, p->demo);
	print_int(&cli->out, (long long)r->changes);
	print_str(&cli->out, r->password ? r->password : "");
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

/* Configuration file first (it says where everything else goes), then
 * the rest. */
static int run_setup(struct cli *cli, struct setup_plan *p, struct setup_report *r,
                     struct mc_error *err)
{
	if (setup_config(cli->config_path, &cli->cfg, p, r, err) < 0)
		return -1;
	config_release(&cli->cfg);
	if (config_load(&cli->cfg, cli->config_path, 1, err) < 0)
		return -1;
	cli->ctx = (struct mc_ctx){&cli->cfg, NULL, cli->actor};
	int rc = setup_run(&cli->ctx, p, r, err);
	cli->st = cli->ctx.st;
	return rc;
}

static int setup_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"hostname", required_argument, NULL, 'H'},
	                                     {"domain", required_argument, NULL, 'd'},
	                                     {"admin", required_argument, NULL, 'a'},
	                                     {0}};
	struct setup_request req = {0};
	struct setup_plan plan;
	struct setup_report rep;
	struct mc_error err = {0};
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &req, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	if (config_load(&cli->cfg, cli->config_path, 0, &err) < 0)
		return cli_fail(&err);
	if (setup_resolve(&cli->cfg, &req, &plan, &err) < 0)
		return err.kind == MC_EUSAGE ? cli_usage(cli, "%s", err.msg) : cli_fail(&err);
	int had_config = cli->cfg.file != NULL;
	setup_report_init(&rep);
	code = run_setup(cli, &plan, &rep, &err) < 0 ? cli_fail(&err)
	                                             : report(cli, &plan, &rep, had_config);
	setup_report_release(&rep);
	setup_plan_release(&plan);
	return code;
}

static const char *const setup_options[] = {
    "--hostname FQDN\tthe mail host name (default: the configured one, else this machine's)",
    "--domain DOMAIN\tthe first mail domain (default: the host name without its first label)",
    "--admin ADDR\treceives postmaster@ and abuse@; gets a mailbox if in DOMAIN "
    "(default: admin@DOMAIN)",
    NULL,
};

const struct verb setup_verbs[] = {
    {"", setup_cmd, CMD_PRIV | CMD_NOCONFIG, "[--hostname FQDN] [--domain DOMAIN] [--admin ADDR]",
     "Configure this machine as a mail server: config, database, certificate, first domain and "
     "admin, apply.",
     setup_options},
    {0},
};
