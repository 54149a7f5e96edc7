/* mailctl user add|del|list|show|passwd|disable|enable|quota */
#include "cli.h"
#include "address.h"
#include "password.h"
#include "size.h"
#include "user.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

struct user_opts {
	const char *name;
	const char *quota;
	enum pw_source pw;
	int pw_flags; /* how many of --password-stdin / --generate were given */
	int admin;
	int purge;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct user_opts *o = ctx;
	switch (opt) {
	case 'n':
		o->name = arg;
		break;
	case 'q':
		o->quota = arg;
		break;
	case 's':
	case 'g':
		o->pw = opt == 's' ? PW_STDIN : PW_GENERATE;
		o->pw_flags++;
		break;
	case 'a':
		o->admin = 1;
		break;
	case 'p':
		o->purge = 1;
		break;
	}
	return EX_OK;
}

static const struct option user_options[] = {
    {"name", required_argument, NULL, 'n'},
    {"quota", required_argument, NULL, 'q'},
    {"password-stdin", no_argument, NULL, 's'},
    {"generate", no_argument, NULL, 'g'},
    {"admin", no_argument, NULL, 'a'},
    {"purge", no_argument, NULL, 'p'},
    {0},
};

/* Parse options, check that only options this verb documents were used
 * ('allowed' lists their short letters), and take min..max operands. */
static int parse(struct cli *cli, int argc, char **argv, struct user_opts *o, const char *allowed,
                 int min, int max, int *first)
{
	struct option opts[8];
	size_t n = 0;
	int code;
	for (const struct option *u = user_options; u->name; u++)
		if (strchr(allowed, u->val))
			opts[n++] = *u;
	opts[n] = (struct option){0};
	int i = cli_getopt(cli, argc, argv, "", opts, on_opt, o, &code);
	if (i < 0)
		return code;
	if (o->pw_flags > 1)
		return cli_usage(cli, "--password-stdin and --generate exclude each other");
	*first = i;
	return cli_args_done(cli, argc - i, min, max);
}

/* Reject a bad address before asking for a password. */
static int check_address(const char *address, struct mc_error *err)
{
	char *canon;
	if (addr_normalize(address, &canon, NULL, NULL, err) < 0)
		return -1;
	free(canon);
	return 0;
}

static int show_result(struct cli *cli, const char *message, const char *address,
                       const char *password)
{
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "%s", message);
	print_col(&cli->out, "address", "", CELL_STR);
	print_str(&cli->out, address);
	if (password) {
		print_col(&cli->out, "password", "", CELL_STR);
		print_str(&cli->out, password);
	}
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int user_cmd_add(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct user_spec spec = {0};
	struct mc_error err;
	char *pw = NULL, *address = NULL, *msg;
	int i, generated, code = parse(cli, argc, argv, &o, "nqsga", 1, 1, &i);
	if (code != EX_OK)
		return code;
	spec.address = argv[i];
	spec.display_name = o.name;
	spec.admin = o.admin;
	spec.quota_bytes = -1;
	if (o.quota && size_parse(o.quota, &spec.quota_bytes, &err) < 0)
		return cli_fail(&err);
	if (check_address(argv[i], &err) < 0)
		return cli_fail(&err);
	if ((code = cli_password(cli, o.pw, argv[i], &pw, &generated)) != EX_OK)
		return code;
	spec.password = pw;
	if (user_add(&cli->ctx, &spec, &address, &err) < 0) {
		password_free(pw);
		return cli_fail(&err);
	}
	msg = generated ? xasprintf("added user '%s' with password: %s", address, pw)
	                : xasprintf("added user '%s'", address);
	code = show_result(cli, msg, address, generated ? pw : NULL);
	password_free(pw);
	free(address);
	free(msg);
	return code;
}

static int user_cmd_passwd(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct mc_error err;
	char *pw = NULL, *msg;
	int i, generated, code = parse(cli, argc, argv, &o, "sg", 1, 1, &i);
	if (code != EX_OK)
		return code;
	if (check_address(argv[i], &err) < 0)
		return cli_fail(&err);
	if ((code = cli_password(cli, o.pw, argv[i], &pw, &generated)) != EX_OK)
		return code;
	if (user_passwd(&cli->ctx, argv[i], pw, &err) < 0) {
		password_free(pw);
		return cli_fail(&err);
	}
	msg = generated ? xasprintf("changed the password of '%s' to: %s", argv[i], pw)
	                : xasprintf("changed the password of '%s'", argv[i]);
	code = show_result(cli, msg, argv[i], generated ? pw : NULL);
	password_free(pw);
	free(msg);
	return code;
}

static int user_cmd_del(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct mc_error err;
	char *archived, *msg;
	int i, code = parse(cli, argc, argv, &o, "p", 1, 1, &i);
	if (code != EX_OK)
		return code;
	if (user_del(&cli->ctx, argv[i], o.purge, &archived, &err) < 0)
		return cli_fail(&err);
	if (o.purge)
		msg = xasprintf("deleted user '%s' and purged its mailbox", argv[i]);
	else if (archived)
		msg = xasprintf("deleted user '%s'; its mailbox is archived in '%s'", argv[i],
		                archived);
	else
		msg = xasprintf("deleted user '%s' (it had no mailbox yet)", argv[i]);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "%s", msg);
	print_col(&cli->out, "address", "", CELL_STR);
	print_col(&cli->out, "archived", "", CELL_STR);
	print_str(&cli->out, argv[i]);
	print_str(&cli->out, archived ? archived : "");
	free(archived);
	free(msg);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static void user_columns(struct printer *p)
{
	print_col(p, "address", "ADDRESS", CELL_STR);
	print_col(p, "name", "NAME", CELL_STR);
	print_col(p, "quota", "QUOTA", CELL_STR);
	print_col(p, "quota_bytes", "BYTES", CELL_INT);
	print_col(p, "enabled", "ENABLED", CELL_BOOL);
	print_col(p, "admin", "ADMIN", CELL_BOOL);
	print_col(p, "created", "CREATED", CELL_STR);
}

static void user_cells(struct printer *p, const struct user_row *u)
{
	char quota[32];
	size_format(u->quota_bytes, quota, sizeof(quota));
	print_str(p, u->address);
	print_str(p, u->display_name);
	print_str(p, quota);
	print_int(p, u->quota_bytes);
	print_bool(p, u->enabled);
	print_bool(p, u->admin);
	print_str(p, u->created);
}

static int user_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct user_list l;
	struct mc_error err;
	int i, code = parse(cli, argc, argv, &o, "", 0, 1, &i);
	if (code != EX_OK)
		return code;
	if (user_list(&cli->ctx, i < argc ? argv[i] : NULL, &l, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	user_columns(&cli->out);
	for (size_t k = 0; k < l.n; k++)
		user_cells(&cli->out, &l.v[k]);
	user_list_release(&l);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int user_cmd_show(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct user_row u;
	struct mc_error err;
	int i, code = parse(cli, argc, argv, &o, "", 1, 1, &i);
	if (code != EX_OK)
		return code;
	if (user_show(&cli->ctx, argv[i], &u, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 1);
	user_columns(&cli->out);
	user_cells(&cli->out, &u);
	user_row_release(&u);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int set_enabled(struct cli *cli, int argc, char **argv, int enabled)
{
	struct user_opts o = {0};
	struct mc_error err;
	int i, code = parse(cli, argc, argv, &o, "", 1, 1, &i);
	if (code != EX_OK)
		return code;
	if (user_set_enabled(&cli->ctx, argv[i], enabled, &err) < 0)
		return cli_fail(&err);
	char *msg = xasprintf("%s user '%s'", enabled ? "enabled" : "disabled", argv[i]);
	code = show_result(cli, msg, argv[i], NULL);
	free(msg);
	return code;
}

static int user_cmd_disable(struct cli *cli, int argc, char **argv)
{
	return set_enabled(cli, argc, argv, 0);
}

static int user_cmd_enable(struct cli *cli, int argc, char **argv)
{
	return set_enabled(cli, argc, argv, 1);
}

static int user_cmd_quota(struct cli *cli, int argc, char **argv)
{
	struct user_opts o = {0};
	struct mc_error err;
	long long bytes;
	char shown[32];
	int i, code = parse(cli, argc, argv, &o, "", 2, 2, &i);
	if (code != EX_OK)
		return code;
	if (size_parse(argv[i + 1], &bytes, &err) < 0 ||
	    user_set_quota(&cli->ctx, argv[i], bytes, &err) < 0)
		return cli_fail(&err);
	size_format(bytes, shown, sizeof(shown));
	char *msg = xasprintf("set the quota of '%s' to %s", argv[i], shown);
	code = show_result(cli, msg, argv[i], NULL);
	free(msg);
	return code;
}

static const char *const add_opts[] = {
    "--name NAME\tdisplay name",
    "--quota SIZE\tmailbox quota, e.g. 500M, 2G, unlimited (default: accounts.default_quota)",
    "--password-stdin\tread the password from the first line of standard input",
    "--generate\tgenerate a strong password and print it once",
    "--admin\tmake the user an admin: postmaster@ and abuse@ of new domains go here",
    NULL,
};
static const char *const passwd_opts[] = {
    "--password-stdin\tread the password from the first line of standard input",
    "--generate\tgenerate a strong password and print it once",
    NULL,
};
static const char *const del_opts[] = {
    "--purge\tdelete the mailbox instead of archiving it (cannot be undone)",
    NULL,
};

const struct verb user_verbs[] = {
    {"add", user_cmd_add, CMD_STORE_RW,
     "ADDRESS [--name NAME] [--quota SIZE] [--password-stdin | --generate] [--admin]",
     "Add a mailbox user. Without a password option, prompts on the terminal.", add_opts},
    {"del", user_cmd_del, CMD_STORE_RW, "ADDRESS [--purge]",
     "Delete a user; the mailbox is archived unless --purge.", del_opts},
    {"list", user_cmd_list, CMD_STORE_RO, "[DOMAIN]", "List users, of one domain or all.", NULL},
    {"show", user_cmd_show, CMD_STORE_RO, "ADDRESS", "Show one user.", NULL},
    {"passwd", user_cmd_passwd, CMD_STORE_RW, "ADDRESS [--password-stdin | --generate]",
     "Set a user's password.", passwd_opts},
    {"disable", user_cmd_disable, CMD_STORE_RW, "ADDRESS",
     "Stop a user logging in (mail is still delivered).", NULL},
    {"enable", user_cmd_enable, CMD_STORE_RW, "ADDRESS", "Allow a user to log in again.", NULL},
    {"quota", user_cmd_quota, CMD_STORE_RW, "ADDRESS SIZE",
     "Set a user's quota (e.g. 500M, 2G, unlimited).", NULL},
    {0},
};
