/* Shared command-line machinery; see cli.h. */
#include "cli.h"
#include "dnsbl.h"
#include "dkim_rotate.h"
#include "address.h"
#include "password.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <grp.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const int exit_codes[] = {
    [MC_OK] = EX_OK,
    [MC_EUSAGE] = EX_USAGE,
    [MC_EDATA] = EX_DATAERR,
    [MC_ENOUSER] = EX_NOUSER,
    [MC_ENODOMAIN] = EX_NOHOST,
    [MC_ENOPERM] = EX_NOPERM,
    [MC_EUNAVAIL] = EX_UNAVAILABLE,
    [MC_ETEMP] = EX_TEMPFAIL,
    [MC_EIO] = EX_IOERR,
    [MC_ECONFIG] = EX_CONFIG,
    [MC_EINTERNAL] = EX_SOFTWARE,
};

int cli_fail(const struct mc_error *err)
{
	fprintf(stderr, "mailctl: %s\n", err->msg[0] ? err->msg : "unknown error");
	if ((unsigned)err->kind < sizeof(exit_codes) / sizeof(exit_codes[0]) && err->kind)
		return exit_codes[err->kind];
	return EX_SOFTWARE;
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("mailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	fputs("mailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: mailctl %s%s%s%s%s\n", cli->cmd->name,
	        *cli->verb->name ? " " : "", cli->verb->name, *cli->verb->args ? " " : "",
	        cli->verb->args);
	return EX_USAGE;
}

void cli_help_group(FILE *fp, const struct command *cmd)
{
	fprintf(fp, "usage: mailctl [--config FILE] [--json] %s VERB [ARGS]\n\n%s\n\nverbs:\n",
	        cmd->name, cmd->help);
	for (const struct verb *v = cmd->verbs; v->name; v++)
		fprintf(fp, "  %-8s %s\n", v->name, v->help);
	fprintf(fp, "\nRun 'mailctl %s VERB -h' for a verb's options.\n", cmd->name);
}

void cli_help_verb(FILE *fp, const struct command *cmd, const struct verb *verb)
{
	fprintf(fp, "usage: mailctl [--config FILE] [--json] %s%s%s%s%s\n\n%s\n", cmd->name,
	        *verb->name ? " " : "", verb->name, *verb->args ? " " : "", verb->args, verb->help);
	if (verb->options && verb->options[0]) {
		fputs("\noptions:\n", fp);
		for (const char *const *o = verb->options; *o; o++) {
			const char *tab = strchr(*o, '\t');
			fprintf(fp, "  %-22.*s %s\n", (int)(tab - *o), *o, tab + 1);
		}
	}
	fputs("  -h, --help             show this help\n", fp);
	if (verb->flags & (CMD_PRIV | CMD_STORE_RW))
		fputs("\nNeeds root or membership of the 'mailctl' group.\n", fp);
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *opts, int (*on)(int opt, const char *arg, void *ctx), void *ctx,
               int *code)
{
	struct option all[16];
	char spec[32];
	size_t n = 0;
	for (; opts && opts[n].name; n++)
		all[n] = opts[n];
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){0};
	snprintf(spec, sizeof(spec), ":h%s", shortopts);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, spec, all, NULL)) != -1) {
		if (c == 'h') {
			cli_help_verb(stdout, cli->cmd, cli->verb);
			*code = EX_OK;
			return -1;
		}
		if (c == '?' || c == ':') {
			*code = cli_usage(
			    cli, c == '?' ? "unknown option '%s'" : "option '%s' needs a value",
			    argv[optind - 1]);
			return -1;
		}
		if ((*code = on(c, optarg, ctx)) != EX_OK)
			return -1;
	}
	return optind;
}

static int in_mailctl_group(void)
{
	struct group *gr = getgrnam("mailctl");
	gid_t groups[256];
	if (!gr)
		return 0;
	if (getegid() == gr->gr_gid)
		return 1;
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

int cli_ready(struct cli *cli)
{
	struct mc_error err;
	unsigned f = cli->verb->flags;
	if ((f & (CMD_PRIV | CMD_STORE_RW)) && geteuid() != 0 && !in_mailctl_group())
		return cli_error(EX_NOPERM,
		                 "permission denied: 'mailctl %s %s' needs root or membership of "
		                 "the 'mailctl' group",
		                 cli->cmd->name, cli->verb->name);
	if ((f & (CMD_STORE_RO | CMD_STORE_RW)) && !cli->st) {
		enum store_mode m = f & CMD_STORE_RW ? STORE_WRITE : STORE_READ;
		if (store_open(&cli->st, cli->cfg.database, m, &err) < 0)
			return cli_fail(&err);
		cli->ctx.st = cli->st;
	}
	return EX_OK;
}

int cli_args_done(struct cli *cli, int n, int min, int max)
{
	if (n < min)
		return cli_usage(cli, "missing argument");
	if (max >= 0 && n > max)
		return cli_usage(cli, "too many arguments");
	return cli_ready(cli);
}

/* Read one line from stdin: the password, without its line ending. */
static int read_stdin_password(char **pw)
{
	char buf[PASSWORD_MAX_LEN + 3];
	size_t len = fread(buf, 1, sizeof(buf) - 1, stdin);
	if (ferror(stdin))
		return cli_error(EX_IOERR, "cannot read password from standard input: %s",
		                 mc_strerror(errno));
	char *nl = memchr(buf, '\n', len);
	if (nl)
		len = (size_t)(nl - buf);
	if (len && buf[len - 1] == '\r')
		len--;
	if (len > PASSWORD_MAX_LEN)
		return cli_error(EX_DATAERR, "password is longer than %d bytes", PASSWORD_MAX_LEN);
	if (memchr(buf, '\0', len))
		return cli_error(EX_DATAERR, "password contains a NUL byte");
	*pw = xstrndup(buf, len);
	memset(buf, 0, sizeof(buf));
	return EX_OK;
}

/* Prompt on the terminal with echo off. */
static int prompt_once(const char *prompt, char **pw)
{
	struct termios old, noecho;
	char buf[PASSWORD_MAX_LEN + 3];
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return cli_error(EX_IOERR, "cannot read the terminal: %s", mc_strerror(errno));
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	fputs(prompt, stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	char *got = fgets(buf, sizeof(buf), stdin);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &old);
	fputc('\n', stderr);
	if (!got)
		return cli_error(EX_DATAERR, "no password entered");
	buf[strcspn(buf, "\r\n")] = '\0';
	*pw = xstrdup(buf);
	memset(buf, 0, sizeof(buf));
	return EX_OK;
}

static int prompt_password(const char *address, char **pw)
{
	char *again = NULL, *prompt = xasprintf("New password for %s: ", address);
	int rc = prompt_once(prompt, pw);
	if (rc == EX_OK)
		rc = prompt_once("Repeat it: ", &again);
	if (rc == EX_OK && strcmp(*pw, again) != 0)
		rc = cli_error(EX_DATAERR, "the two passwords differ");
	if (rc != EX_OK) {
		password_free(*pw);
		*pw = NULL;
	}
	password_free(again);
	free(prompt);
	return rc;
}

int cli_password(struct cli *cli, enum pw_source src, const char *address, char **pw,
                 int *generated)
{
	struct mc_error err;
	(void)cli;
	*pw = NULL;
	*generated = 0;
	switch (src) {
	case PW_STDIN:
		return read_stdin_password(pw);
	case PW_GENERATE:
		if (password_generate(pw, &err) < 0)
			return cli_fail(&err);
		*generated = 1;
		return EX_OK;
	default:
		if (!isatty(STDIN_FILENO))
			return cli_error(EX_USAGE, "no password given: use --password-stdin or "
			                           "--generate (standard input is not a terminal)");
		return prompt_password(address, pw);
	}
}

static int no_options(int opt, const char *arg, void *ctx)
{
	(void)opt;
	(void)arg;
	(void)ctx;
	return EX_OK;
}

int cli_plain(struct cli *cli, int argc, char **argv, int min, int max, int *code)
{
	int i = cli_getopt(cli, argc, argv, "", NULL, no_options, NULL, code);
	if (i < 0)
		return -1;
	if ((*code = cli_args_done(cli, argc - i, min, max)) != EX_OK)
		return -1;
	return i;
}

int cli_limit_opt(int opt, const char *arg, void *ctx)
{
	char *end;
	(void)opt;
	long long v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 1 || v > 1000000)
		return cli_error(EX_USAGE, "invalid --limit '%s': a number from 1 to 1000000", arg);
	*(long long *)ctx = v;
	return EX_OK;
}

int cli_opt_at(const char *arg, time_t *at)
{
	if (dkim_time_parse(arg, at) < 0)
		return cli_error(
		    EX_USAGE, "invalid --at '%s': use YYYY-MM-DDTHH:MM:SSZ (UTC) or @SECONDS", arg);
	/* it may only move time forward, never undo a wait */
	if (*at < time(NULL))
		return cli_error(EX_USAGE, "invalid --at '%s': it is in the past", arg);
	return EX_OK;
}

int cli_pick_resolver(const struct config *cfg, struct dnsq_server *s, struct mc_error *err)
{
	if (dnsq_server_choose(cfg->dns_resolver, s, err) < 0)
		return -1;
	const char *who = dnsbl_public_resolver(s);
	if (who)
		fprintf(
		    stderr,
		    "mailctl: warning: resolver %s is %s's public resolver, which DNS blocklists "
		    "refuse: use a local recursive resolver (the unbound install.sh sets up, "
		    "dns.resolver: 127.0.0.1)\n",
		    s->text, who);
	return 0;
}
