/* mailctl service start|stop|status */
#include "cli.h"
#include "service.h"

#include <getopt.h>
#include <stdlib.h>
#include <sysexits.h>

/* One row per service: name, running, and what this command did. */
static int print_state(struct cli *cli, const int changed[SERVICE_COUNT])
{
	int all = 1;
	print_begin(&cli->out, cli->json, 0);
	print_col(&cli->out, "service", "SERVICE", CELL_STR);
	print_col(&cli->out, "state", "STATE", CELL_STR);
	print_col(&cli->out, "changed", "CHANGED", CELL_BOOL);
	for (int i = 0; i < SERVICE_COUNT; i++) {
		int up = service_running(&cli->cfg, i);
		all &= up;
		print_str(&cli->out, service_names[i]);
		print_str(&cli->out, up ? "running" : "stopped");
		print_bool(&cli->out, changed ? changed[i] : 0);
	}
	if (print_end(&cli->out) < 0)
		return EX_IOERR;
	return all ? EX_OK : EX_UNAVAILABLE;
}

static int service_cmd_start(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	int changed[SERVICE_COUNT], code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	if (service_start(&cli->cfg, changed, &err) < 0)
		return cli_fail(&err);
	return print_state(cli, changed);
}

static int service_cmd_stop(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	int changed[SERVICE_COUNT], code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	if (service_stop(&cli->cfg, changed, &err) < 0)
		return cli_fail(&err);
	/* stopped is the wanted state here: only a write error counts */
	return print_state(cli, changed) == EX_IOERR ? EX_IOERR : EX_OK;
}

static int service_cmd_status(struct cli *cli, int argc, char **argv)
{
	int code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	return print_state(cli, NULL);
}

const struct verb service_verbs[] = {
    {"start", service_cmd_start, CMD_PRIV, "",
     "Start Dovecot, mailctld, Postfix, nginx, then the firewall (systemd units where "
     "systemd runs, else directly).",
     NULL},
    {"stop", service_cmd_stop, CMD_PRIV, "",
     "Stop nginx, Postfix, mailctld and Dovecot; the firewall stays up.", NULL},
    {"status", service_cmd_status, 0, "",
     "Show whether each service runs; exit 0 only when all do.", NULL},
    {0},
};
