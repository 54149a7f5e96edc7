/* mailctl db init|status, and mailctl audit list */
#include "cli.h"
#include "store.h"

#include <getopt.h>
#include <stdlib.h>
#include <sysexits.h>

static int db_cmd_init(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	int from, to, code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	if (store_init(cli->cfg.database, &from, &to, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	if (from == to)
		print_summary(&cli->out, "database '%s' is up to date (schema %d)",
		              cli->cfg.database, to);
	else
		print_summary(&cli->out, "database '%s' %s (schema %d -> %d)", cli->cfg.database,
		              from ? "migrated" : "created", from, to);
	print_col(&cli->out, "database", "", CELL_STR);
	print_col(&cli->out, "from", "", CELL_INT);
	print_col(&cli->out, "to", "", CELL_INT);
	print_str(&cli->out, cli->cfg.database);
	print_int(&cli->out, from);
	print_int(&cli->out, to);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int db_cmd_status(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	struct domain_list d;
	int version, code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	if (store_version(cli->cfg.database, &version, &err) < 0)
		return cli_fail(&err);
	if (store_open(&cli->st, cli->cfg.database, STORE_READ, &err) < 0)
		return cli_fail(&err);
	if (store_domain_list(cli->st, &d, &err) < 0)
		return cli_fail(&err);
	long long users = 0, aliases = 0;
	for (size_t i = 0; i < d.n; i++)
		users += d.v[i].users, aliases += d.v[i].aliases;
	print_begin(&cli->out, cli->json, 1);
	print_col(&cli->out, "database", "", CELL_STR);
	print_col(&cli->out, "schema", "", CELL_INT);
	print_col(&cli->out, "domains", "", CELL_INT);
	print_col(&cli->out, "users", "", CELL_INT);
	print_col(&cli->out, "aliases", "", CELL_INT);
	print_str(&cli->out, cli->cfg.database);
	print_int(&cli->out, version);
	print_int(&cli->out, (long long)d.n);
	print_int(&cli->out, users);
	print_int(&cli->out, aliases);
	domain_list_release(&d);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int audit_cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"limit", required_argument, NULL, 'n'}, {0}};
	struct mc_error err;
	struct audit_list l;
	long long limit = 50;
	int code, i = cli_getopt(cli, argc, argv, "", opts, cli_limit_opt, &limit, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	if (store_audit_list(cli->st, limit, &l, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	print_col(&cli->out, "at", "WHEN", CELL_STR);
	print_col(&cli->out, "actor", "WHO", CELL_STR);
	print_col(&cli->out, "action", "ACTION", CELL_STR);
	print_col(&cli->out, "subject", "SUBJECT", CELL_STR);
	print_col(&cli->out, "detail", "DETAIL", CELL_STR);
	for (size_t k = 0; k < l.n; k++) {
		print_str(&cli->out, l.v[k].at);
		print_str(&cli->out, l.v[k].actor);
		print_str(&cli->out, l.v[k].action);
		print_str(&cli->out, l.v[k].subject);
		print_str(&cli->out, l.v[k].detail);
	}
	audit_list_release(&l);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static const char *const audit_opts[] = {"--limit N\thow many entries, newest first (50)", NULL};

const struct verb db_verbs[] = {
    {"init", db_cmd_init, CMD_PRIV, "",
     "Create the database, or migrate it to this version's schema.", NULL},
    {"status", db_cmd_status, 0, "", "Show the database path, schema version and counts.", NULL},
    {0},
};

const struct verb audit_verbs[] = {
    {"list", audit_cmd_list, CMD_STORE_RO, "[--limit N]",
     "Show who changed what, and when, newest first.", audit_opts},
    {0},
};
