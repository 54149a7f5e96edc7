/*
 * cli - what every mailctl command shares: the per-run state, the command
 * tables that drive dispatch and help, error-to-exit-code mapping, option
 * helpers and password input.
 *
 * main.c owns commands[]; each cmd_*.c file exports its group's verb table.
 * A verb's flags say what main() prepares before calling it: privilege
 * check, store opened read-only or read-write. Verbs return a sysexits.h
 * code and print only through print.h (stdout) or cli_error() (stderr).
 */
#ifndef MAILCTL_CLI_H
#define MAILCTL_CLI_H

#include "account.h"
#include "config.h"
#include "error.h"
#include "print.h"
#include "store.h"

#include <time.h>

enum verb_flags {
	CMD_PRIV = 1 << 0,     /* needs root or the 'mailctl' group */
	CMD_STORE_RO = 1 << 1, /* open the database read-only */
	CMD_STORE_RW = 1 << 2, /* open the database read-write (implies CMD_PRIV) */
	CMD_NOCONFIG = 1 << 3, /* the verb loads the config itself */
};

struct cli;

struct verb {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	unsigned flags;
	const char *args;           /* synopsis after the verb */
	const char *help;           /* one line */
	const char *const *options; /* "--opt ARG\tdescription" lines, NULL-terminated */
};

struct command {
	const char *name;
	const struct verb *verbs; /* terminated by a zeroed entry */
	const char *help;
};

struct cli {
	const char *config_path; /* as given, or the default */
	int config_explicit;     /* --config or MAILCTL_CONFIG */
	int json;
	struct config cfg;
	struct store *st;
	struct mc_ctx ctx;
	char *actor;
	const struct command *cmd;
	const struct verb *verb;
	struct printer out;
};

extern const struct command commands[];
extern const struct verb config_verbs[], db_verbs[], domain_verbs[], user_verbs[], alias_verbs[],
    dkim_verbs[], audit_verbs[], dns_verbs[], apply_verbs[];
extern const struct verb setup_verbs[], service_verbs[];
extern const struct verb blacklist_verbs[], check_verbs[];
extern const struct verb tui_verbs[];
extern const struct verb status_verbs[];
extern const struct verb cert_verbs[];

/* Print "mailctl: MSG" to stderr and return the exit code for 'err'. */
int cli_fail(const struct mc_error *err);
/* Print "mailctl: MSG" to stderr and return 'code'. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error for the current verb: message plus a hint; returns EX_USAGE. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print help for a whole command group or one verb to 'fp'. */
void cli_help_group(FILE *fp, const struct command *cmd);
void cli_help_verb(FILE *fp, const struct command *cmd, const struct verb *verb);

/* Parse this verb's options with getopt_long. 'opts' ends with a zero
 * entry; 'h' (-h/--help) is handled here. Calls 'on' for each option.
 * Returns the index of the first operand, or -1 with the exit code in
 * '*code'. */
struct option;
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *opts, int (*on)(int opt, const char *arg, void *ctx), void *ctx,
               int *code);

/* The resolver to ask: as already set (--resolver), else dns.resolver,
 * else resolv.conf's first; warns on stderr when it is a public resolver
 * (blocklists refuse those). */
struct dnsq_server;
int cli_pick_resolver(const struct config *cfg, struct dnsq_server *s, struct mc_error *err);

/* --at TIME (YYYY-MM-DDTHH:MM:SSZ or @SECONDS, not in the past) into
 * '*at': EX_OK, or EX_USAGE with the error printed. */
int cli_opt_at(const char *arg, time_t *at);

/* A cli_getopt callback for --limit N (1..1000000) into the long long at
 * 'ctx'. */
int cli_limit_opt(int opt, const char *arg, void *ctx);

/* Require 'min'..'max' operands ('max' -1: any), then cli_ready(): every
 * verb calls this once its arguments are parsed, so usage errors come
 * before privilege and database errors. */
int cli_args_done(struct cli *cli, int n, int min, int max);

/* For verbs with no options but -h: parse, require 'min'..'max' operands
 * and cli_ready(). Returns the index of the first operand, or -1 with the
 * exit code in '*code'. */
int cli_plain(struct cli *cli, int argc, char **argv, int min, int max, int *code);

/* Check privileges and open the database as the verb's flags ask. */
int cli_ready(struct cli *cli);
/* How the password is obtained for user add / passwd. */
enum pw_source { PW_PROMPT, PW_STDIN, PW_GENERATE };
/* Read or generate a password; '*generated' is set when it was made here
 * and must be shown. Free with password_free(). */
int cli_password(struct cli *cli, enum pw_source src, const char *address, char **pw,
                 int *generated);

#endif
