/* mailctl config check|show */
#include "cli.h"

#include <stdlib.h>
#include <sysexits.h>

static int config_cmd_check(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	int code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	if (config_load(&cli->cfg, cli->config_path, 1, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "'%s' is valid", cli->config_path);
	print_col(&cli->out, "file", "", CELL_STR);
	print_col(&cli->out, "valid", "", CELL_BOOL);
	print_str(&cli->out, cli->config_path);
	print_bool(&cli->out, 1);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static void show_item(const struct config_item *item, void *ctx)
{
	struct printer *p = ctx;
	print_str(p, item->name);
	print_str(p, item->value);
	print_bool(p, item->is_default);
	print_str(p, item->doc);
}

static int config_cmd_show(struct cli *cli, int argc, char **argv)
{
	int code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	print_begin(&cli->out, cli->json, 0);
	print_col(&cli->out, "key", "KEY", CELL_STR);
	print_col(&cli->out, "value", "VALUE", CELL_STR);
	print_col(&cli->out, "default", "DEFAULT", CELL_BOOL);
	print_col(&cli->out, "doc", "MEANING", CELL_STR);
	config_foreach(&cli->cfg, show_item, &cli->out);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

const struct verb config_verbs[] = {
    {"check", config_cmd_check, CMD_NOCONFIG, "",
     "Validate the configuration file; errors name the line and key.", NULL},
    {"show", config_cmd_show, 0, "",
     "Show every setting's effective value, and whether it is the default.", NULL},
    {0},
};
