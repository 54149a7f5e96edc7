/* mailctl alias add|del|list */
#include "alias.h"
#include "cli.h"

#include <stdlib.h>
#include <sysexits.h>

static int alias_cmd_add(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	char *source;
	int code, i = cli_plain(cli, argc, argv, 2, -1, &code);
	if (i < 0)
		return code;
	int rc = alias_add(&cli->ctx, argv[i], (const char *const *)argv + i + 1,
	                   (size_t)(argc - i - 1), &source, &err);
	if (rc < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	if (rc > 0)
		print_summary(&cli->out, "alias '%s' already forwards to these; nothing changed",
		              source);
	else
		print_summary(&cli->out, "alias '%s' now forwards to the given address(es)",
		              source);
	print_col(&cli->out, "source", "", CELL_STR);
	print_str(&cli->out, source);
	free(source);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int alias_cmd_del(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	int code, i = cli_plain(cli, argc, argv, 1, 2, &code);
	if (i < 0)
		return code;
	const char *target = i + 1 < argc ? argv[i + 1] : NULL;
	if (alias_del(&cli->ctx, argv[i], target, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	if (target)
		print_summary(&cli->out, "removed '%s' from alias '%s'", target, argv[i]);
	else
		print_summary(&cli->out, "deleted alias '%s'", argv[i]);
	print_col(&cli->out, "source", "", CELL_STR);
	print_str(&cli->out, argv[i]);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int alias_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct mc_error err;
	struct alias_list l;
	int code, i = cli_plain(cli, argc, argv, 0, 1, &code);
	if (i < 0)
		return code;
	if (alias_list(&cli->ctx, i < argc ? argv[i] : NULL, &l, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	print_col(&cli->out, "source", "SOURCE", CELL_STR);
	print_col(&cli->out, "targets", "TARGETS", CELL_LIST);
	print_col(&cli->out, "required", "REQUIRED", CELL_BOOL);
	print_col(&cli->out, "created", "CREATED", CELL_STR);
	for (size_t k = 0; k < l.n; k++) {
		print_str(&cli->out, l.v[k].source);
		print_list(&cli->out, l.v[k].targets, l.v[k].ntargets);
		print_bool(&cli->out, l.v[k].required);
		print_str(&cli->out, l.v[k].created);
	}
	alias_list_release(&l);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

const struct verb alias_verbs[] = {
    {"add", alias_cmd_add, CMD_STORE_RW, "SOURCE TARGET...",
     "Forward SOURCE (an address, or @DOMAIN for a catch-all) to one or more targets.", NULL},
    {"del", alias_cmd_del, CMD_STORE_RW, "SOURCE [TARGET]",
     "Remove one target, or the whole alias.", NULL},
    {"list", alias_cmd_list, CMD_STORE_RO, "[DOMAIN]", "List aliases, of one domain or all.", NULL},
    {0},
};
