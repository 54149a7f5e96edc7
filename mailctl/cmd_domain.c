/* mailctl domain add|del|list|show */
#include "cli.h"
#include "domain.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <sysexits.h>

struct domain_opts {
	const char *admin;
	int force;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct domain_opts *o = ctx;
	if (opt == 'a' && !*arg)
		return cli_error(EX_USAGE, "--admin needs an address");
	if (opt == 'a')
		o->admin = arg;
	else if (opt == 'f')
		o->force = 1;
	return EX_OK;
}

static const struct option domain_options[] = {
    {"admin", required_argument, NULL, 'a'},
    {"force", no_argument, NULL, 'f'},
    {0},
};

/* Parse options and require exactly one DOMAIN operand. */
static int parse(struct cli *cli, int argc, char **argv, struct domain_opts *o, int n,
                 const char **domain)
{
	int code, i = cli_getopt(cli, argc, argv, "", domain_options, on_opt, o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, n, n)) != EX_OK)
		return code;
	*domain = n ? argv[i] : NULL;
	return EX_OK;
}

static void domain_columns(struct printer *p)
{
	print_col(p, "name", "DOMAIN", CELL_STR);
	print_col(p, "users", "USERS", CELL_INT);
	print_col(p, "aliases", "ALIASES", CELL_INT);
	print_col(p, "created", "CREATED", CELL_STR);
}

static void domain_cells(struct printer *p, const struct domain_row *d)
{
	print_str(p, d->name);
	print_int(p, d->users);
	print_int(p, d->aliases);
	print_str(p, d->created);
}

static int domain_cmd_add(struct cli *cli, int argc, char **argv)
{
	struct domain_opts o = {0};
	struct domain_added added;
	struct mc_error err;
	const char *name;
	int code = parse(cli, argc, argv, &o, 1, &name);
	if (code != EX_OK)
		return code;
	if (domain_add(&cli->ctx, name, o.admin, &added, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out,
	              "added domain '%s'; postmaster@ and abuse@ go to '%s'; publish its DKIM "
	              "key '%s' in DNS: see 'mailctl dkim show %s'",
	              added.name, added.postmaster_target, added.dkim_selector, added.name);
	print_col(&cli->out, "name", "", CELL_STR);
	print_col(&cli->out, "postmaster", "", CELL_STR);
	print_col(&cli->out, "dkim_selector", "", CELL_STR);
	print_str(&cli->out, added.name);
	print_str(&cli->out, added.postmaster_target);
	print_str(&cli->out, added.dkim_selector);
	domain_added_release(&added);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int domain_cmd_del(struct cli *cli, int argc, char **argv)
{
	struct domain_opts o = {0};
	struct domain_deleted del;
	struct mc_error err;
	const char *name;
	int code = parse(cli, argc, argv, &o, 1, &name);
	if (code != EX_OK)
		return code;
	if (domain_del(&cli->ctx, name, o.force, &del, &err) < 0)
		return cli_fail(&err);
	char *mail =
	    del.archived ? xasprintf("; its mail is archived in '%s'", del.archived) : xstrdup("");
	char *keys = del.dkim_keys ? xasprintf("; its %zu DKIM key(s) were deleted", del.dkim_keys)
	                           : xstrdup("");
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "deleted domain '%s'%s%s", name, mail, keys);
	print_col(&cli->out, "archived", "", CELL_STR);
	print_col(&cli->out, "dkim_keys_deleted", "", CELL_INT);
	print_str(&cli->out, del.archived ? del.archived : "");
	print_int(&cli->out, (long long)del.dkim_keys);
	free(mail);
	free(keys);
	domain_deleted_release(&del);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int domain_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct domain_opts o = {0};
	struct domain_list l;
	struct mc_error err;
	const char *none;
	int code = parse(cli, argc, argv, &o, 0, &none);
	if (code != EX_OK)
		return code;
	if (domain_list(&cli->ctx, &l, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	domain_columns(&cli->out);
	for (size_t i = 0; i < l.n; i++)
		domain_cells(&cli->out, &l.v[i]);
	domain_list_release(&l);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int domain_cmd_show(struct cli *cli, int argc, char **argv)
{
	struct domain_opts o = {0};
	struct domain_row d;
	struct mc_error err;
	const char *name;
	int code = parse(cli, argc, argv, &o, 1, &name);
	if (code != EX_OK)
		return code;
	if (domain_show(&cli->ctx, name, &d, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	domain_columns(&cli->out);
	domain_cells(&cli->out, &d);
	domain_row_release(&d);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static const char *const add_opts[] = {
    "--admin ADDR\twhere postmaster@ and abuse@ go (default: first admin user, "
    "then admin_address)",
    NULL,
};
static const char *const del_opts[] = {
    "--force\talso delete its users and aliases (mailboxes are archived)",
    NULL,
};

const struct verb domain_verbs[] = {
    {"add", domain_cmd_add, CMD_STORE_RW, "DOMAIN [--admin ADDR]",
     "Add a domain (Unicode names are stored as A-labels) with postmaster@, abuse@ and an "
     "RSA-2048 DKIM key.",
     add_opts},
    {"del", domain_cmd_del, CMD_STORE_RW, "DOMAIN [--force]",
     "Delete a domain and its DKIM keys; refuses while it has users or aliases unless --force.",
     del_opts},
    {"list", domain_cmd_list, CMD_STORE_RO, "", "List domains with user and alias counts.", NULL},
    {"show", domain_cmd_show, CMD_STORE_RO, "DOMAIN", "Show one domain.", NULL},
    {0},
};
