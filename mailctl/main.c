/*
 * mailctl - the command-line front-end of libmailctl.
 *
 *   mailctl [--config FILE] [--json] GROUP VERB [ARGS]
 *
 * commands[] is the one place that lists what exists; help, dispatch and
 * each verb's needs (privilege, database) come from it and the verb tables.
 */
#include "cli.h"
#include "xalloc.h"

#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static void usage(FILE *fp)
{
	fputs("usage: mailctl [--config FILE] [--json] GROUP VERB [ARGS]\n"
	      "       mailctl GROUP -h | GROUP VERB -h | --version\n\n"
	      "Manage a mailctl mail server: domains, users, aliases and configuration.\n\n"
	      "groups:\n",
	      fp);
	for (const struct command *c = commands; c->name; c++)
		fprintf(fp, "  %-8s %s\n", c->name, c->help);
	fputs("\noptions:\n"
	      "  --config FILE  configuration file (default: $MAILCTL_CONFIG "
	      "or " MAILCTL_DEFAULT_CONFIG ")\n"
	      "  --json         print results as JSON\n"
	      "  -h, --help     show this help\n"
	      "  --version      show the version\n\n"
	      "Exit codes: 0 ok, 64 usage, 65 bad data, 67 no such user, 68 no such domain,\n"
	      "69 database unavailable, 74 I/O error, 75 try again, 77 permission denied,\n"
	      "78 configuration error. See mailctl(8).\n",
	      fp);
}

/* Global options come before the group; returns the index of the group. */
static int parse_global(struct cli *cli, int argc, char **argv, int *code)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hc:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->config_path = optarg;
			cli->config_explicit = 1;
			break;
		case 'j':
			cli->json = 1;
			break;
		case 'h':
			usage(stdout);
			*code = EX_OK;
			return -1;
		case 'V':
			printf("mailctl %s\n", MAILCTL_VERSION);
			*code = EX_OK;
			return -1;
		default:
			*code = cli_error(EX_USAGE, "%s '%s'; see 'mailctl -h'",
			                  c == ':' ? "missing value for option" : "unknown option",
			                  argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

/* "root", or "root (sudo: alice)", for the audit log. */
static char *actor_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char *name = pw ? xstrdup(pw->pw_name) : xasprintf("uid %u", (unsigned)getuid());
	if (getuid() == 0 && sudo && *sudo) {
		char *both = xasprintf("%s (sudo: %s)", name, sudo);
		free(name);
		return both;
	}
	return name;
}

/* Load the configuration unless the verb does it itself. Privileges and
 * the database come later, from cli_ready(), once arguments are parsed. */
static int prepare(struct cli *cli)
{
	struct mc_error err;
	if (!(cli->verb->flags & CMD_NOCONFIG) &&
	    config_load(&cli->cfg, cli->config_path, cli->config_explicit, &err) < 0)
		return cli_fail(&err);
	cli->actor = actor_name();
	cli->ctx = (struct mc_ctx){&cli->cfg, NULL, cli->actor};
	return EX_OK;
}

static const struct verb *find_verb(const struct command *cmd, const char *name)
{
	for (const struct verb *v = cmd->verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Help, then privileges and the database, then the verb itself. */
static int run_verb(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_help_verb(stdout, cli->cmd, cli->verb);
			return EX_OK;
		}
	int rc = prepare(cli);
	return rc != EX_OK ? rc : cli->verb->run(cli, argc, argv);
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
	const struct command *cmd;
	for (cmd = commands; cmd->name && strcmp(cmd->name, argv[0]); cmd++)
		;
	if (!cmd->name)
		return cli_error(EX_USAGE, "unknown command '%s'; see 'mailctl -h'", argv[0]);
	cli->cmd = cmd;
	/* A group whose only verb is nameless is a command by itself. */
	if (!cmd->verbs[0].name[0]) {
		cli->verb = &cmd->verbs[0];
		return run_verb(cli, argc, argv);
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli_help_group(argc < 2 ? stderr : stdout, cmd);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	cli->verb = find_verb(cmd, argv[1]);
	if (!cli->verb)
		return cli_error(EX_USAGE, "unknown verb '%s %s'; see 'mailctl %s -h'", cmd->name,
		                 argv[1], cmd->name);
	return run_verb(cli, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	struct cli cli;
	int code = EX_OK;
	setlocale(LC_CTYPE, "C.UTF-8");
	memset(&cli, 0, sizeof(cli));
	cli.config_path = config_default_path();
	cli.config_explicit = getenv("MAILCTL_CONFIG") && *getenv("MAILCTL_CONFIG");
	int first = parse_global(&cli, argc, argv, &code);
	if (first >= 0 && first >= argc) {
		usage(stderr);
		code = EX_USAGE;
	} else if (first >= 0) {
		code = dispatch(&cli, argc - first, argv + first);
	}
	store_close(cli.st);
	config_release(&cli.cfg);
	free(cli.actor);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailctl: cannot write to standard output\n");
		return EX_IOERR;
	}
	return code;
}
