/* mailctl cert request|renew|list|show */
#include "cert.h"
#include "cli.h"
#include "dnsq.h"
#include "dnsrec.h"
#include "strbuf.h"
#include "xalloc.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

struct cert_cli_opts {
	struct cert_options o;
	char **names;
	size_t nnames;
	int staging;
	char ca_file[PATH_MAX];
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct cert_cli_opts *c = ctx;
	struct mc_error err;
	switch (opt) {
	case 'n':
		cert_names_free(c->names, c->nnames);
		if (cert_names_parse(arg, &c->names, &c->nnames, &err) < 0)
			return cli_error(EX_USAGE, "invalid --names: %s", err.msg);
		c->o.names = (const char *const *)c->names;
		c->o.nnames = c->nnames;
		break;
	case 'd':
		c->o.directory = arg;
		break;
	case 's':
		c->staging = 1;
		break;
	case 'c': /* kept for renewals: absolute, and it must be there now */
		if (!realpath(arg, c->ca_file) || access(c->ca_file, R_OK) < 0)
			return cli_error(EX_USAGE, "invalid --ca-file '%s': cannot read it", arg);
		c->o.ca_file = c->ca_file;
		break;
	case 'k':
		c->o.eab_kid = arg;
		break;
	case 'm':
		c->o.eab_hmac = arg;
		break;
	case 'f':
		c->o.force = 1;
		break;
	}
	return EX_OK;
}

static void opts_release(struct cert_cli_opts *c)
{
	cert_names_free(c->names, c->nnames);
}

static void fmt_time(time_t t, char buf[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "25 smtp: new" per port, for the report. */
static char **port_lines(const struct cert_report *r)
{
	char **v = xcalloc(r->nports + 1, sizeof(*v));
	for (size_t i = 0; i < r->nports; i++)
		v[i] = xasprintf("%d %s: %s%s%s", r->ports[i].port, r->ports[i].service,
		                 cert_port_state_name(r->ports[i].state),
		                 r->ports[i].detail ? " - " : "",
		                 r->ports[i].detail ? r->ports[i].detail : "");
	return v;
}

/* The text of an install: what came, what was kept, what serves it. */
static void report_text(struct strbuf *sb, const struct cert_report *r, char **ports)
{
	char until[32];
	fmt_time(r->not_after, until);
	strbuf_addf(sb, "%s a certificate for ",
	            r->action == CERT_ISSUED ? "installed"
	                                     : "installed (not yet served everywhere)");
	for (size_t i = 0; i < r->nnames; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", r->names[i]);
	strbuf_addf(sb, "\n  from:      %s%s\n  issuer:    %s\n  serial:    %s\n  expires:   %s\n",
	            r->directory, r->account_new ? " (new account)" : "", r->issuer, r->serial,
	            until);
	strbuf_addf(sb, "  key:       %s; TLSA 3 1 1 %s\n",
	            r->key_new ? "made a new one" : "kept (DNS TLSA records stay right)", r->tlsa);
	strbuf_addf(sb, "  reloaded:  %s\n", *r->reloaded ? r->reloaded : "nothing was running");
	for (size_t i = 0; i < r->nports; i++)
		strbuf_addf(sb, "  port %s\n", ports[i]);
	strbuf_addf(sb,
	            "  took:      %.1f s (CA %.1f s, install and reload %.1f s, ports %.1f s); "
	            "%u requests to the CA, %u nonce(s) rejected and retried",
	            (double)r->total_ms / 1000, (double)r->acme_ms / 1000,
	            (double)r->install_ms / 1000, (double)r->verify_ms / 1000, r->requests,
	            r->bad_nonces);
}

static int print_report(struct cli *cli, const struct cert_report *r)
{
	char **ports = port_lines(r);
	char until[32] = "";
	struct strbuf text = STRBUF_INIT;
	struct printer *p = &cli->out;
	if (r->not_after)
		fmt_time(r->not_after, until);
	report_text(&text, r, ports);
	print_begin(p, cli->json, 1);
	print_summary(p, "%s", text.buf);
	static const char *const keys[] = {"action",  "names",     "directory", "account",
	                                   "serial",  "issuer",    "not_after", "tlsa",
	                                   "key_new", "reloaded",  "ports",     "total_ms",
	                                   "acme_ms", "verify_ms", "requests",  "bad_nonces"};
	for (size_t i = 0; i < 16; i++)
		print_col(p, keys[i], "",
		          i == 1 || i == 10 ? CELL_LIST
		          : i == 8          ? CELL_BOOL
		          : i >= 11         ? CELL_INT
		                            : CELL_STR);
	print_str(p, cert_action_name(r->action));
	print_list(p, r->names, r->nnames);
	print_str(p, r->directory);
	print_str(p, r->account ? r->account : "");
	print_str(p, r->serial ? r->serial : "");
	print_str(p, r->issuer ? r->issuer : "");
	print_str(p, until);
	print_str(p, r->tlsa);
	print_bool(p, r->key_new);
	print_str(p, r->reloaded ? r->reloaded : "");
	print_list(p, ports, r->nports);
	print_int(p, r->total_ms);
	print_int(p, r->acme_ms);
	print_int(p, r->verify_ms);
	print_int(p, r->requests);
	print_int(p, r->bad_nonces);
	strbuf_release(&text);
	for (size_t i = 0; i < r->nports; i++)
		free(ports[i]);
	free(ports);
	return print_end(p) < 0 ? EX_IOERR : EX_OK;
}

/* After cert_request() or a renewal that reached the CA. */
static int finish(struct cli *cli, int rc, struct cert_report *r, struct mc_error *err)
{
	int code = EX_OK;
	if (r->action == CERT_ISSUED || r->action == CERT_UNVERIFIED)
		code = print_report(cli, r);
	if (rc < 0)
		code = cli_fail(err);
	cert_report_release(r);
	return code;
}

static const struct option request_options[] = {
    {"names", required_argument, NULL, 'n'},
    {"directory", required_argument, NULL, 'd'},
    {"staging", no_argument, NULL, 's'},
    {"ca-file", required_argument, NULL, 'c'},
    {"eab-kid", required_argument, NULL, 'k'},
    {"eab-hmac-key", required_argument, NULL, 'm'},
    {0},
};

static int cert_cmd_request(struct cli *cli, int argc, char **argv)
{
	struct cert_cli_opts c = {0};
	struct cert_report r;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", request_options, on_opt, &c, &code);
	if (i >= 0 && c.staging && c.o.directory)
		code = cli_usage(cli, "--staging and --directory exclude each other");
	else if (i >= 0 && !c.o.eab_kid != !c.o.eab_hmac)
		code = cli_usage(cli, "--eab-kid and --eab-hmac-key go together");
	else if (i >= 0)
		code = cli_args_done(cli, argc - i, 0, 0);
	if (i < 0 || code != EX_OK) {
		opts_release(&c);
		return code;
	}
	if (c.staging)
		c.o.directory = CERT_LE_STAGING;
	int rc = cert_request(&cli->ctx, &c.o, &r, &err);
	code = finish(cli, rc, &r, &err);
	opts_release(&c);
	return code;
}

/* Nothing renewed: say why, and when it will be. */
static int renew_idle(struct cli *cli, struct cert_report *r)
{
	char next[32] = "";
	if (r->next)
		fmt_time(r->next, next);
	print_begin(&cli->out, cli->json, 1);
	if (r->action == CERT_NOT_DUE)
		print_summary(&cli->out, "not renewed: %s (from %s)", r->reason, next);
	else
		print_summary(&cli->out,
		              "not renewed: due (%s), but the last attempt failed; the next "
		              "one is after %s (or use --force)",
		              r->reason, next);
	print_col(&cli->out, "action", "", CELL_STR);
	print_col(&cli->out, "reason", "", CELL_STR);
	print_col(&cli->out, "next", "", CELL_STR);
	print_str(&cli->out, cert_action_name(r->action));
	print_str(&cli->out, r->reason);
	print_str(&cli->out, next);
	cert_report_release(r);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int cert_cmd_renew(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	struct cert_cli_opts c = {0};
	struct cert_report r;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &c, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	int rc = cert_renew_due(&cli->ctx, time(NULL), &c.o, &r, &err);
	if (rc == 0 && r.action == CERT_NO_CA) {
		code = cli_error(EX_DATAERR, "nothing to renew: %s", r.reason);
		cert_report_release(&r);
		return code;
	}
	if (rc == 0 && (r.action == CERT_NOT_DUE || r.action == CERT_WAITING))
		return renew_idle(cli, &r);
	return finish(cli, rc, &r, &err);
}

/* ---- rollover ---- */

struct rollover_opts {
	struct cert_cli_opts c;
	struct dnsq_server server;
	int has_resolver, abort, has_at;
	time_t at;
};

static int on_rollover_opt(int opt, const char *arg, void *ctx)
{
	struct rollover_opts *o = ctx;
	struct mc_error err;
	if (opt == 'r') {
		if (dnsq_server_parse(arg, &o->server, &err) < 0)
			return cli_error(EX_USAGE, "invalid --resolver: %s", err.msg);
		o->has_resolver = 1;
	} else if (opt == 'A') {
		o->abort = 1;
	} else if (opt == 't') {
		if (cli_opt_at(arg, &o->at) != EX_OK)
			return EX_USAGE;
		o->has_at = 1;
	} else {
		return on_opt(opt, arg, &o->c);
	}
	return EX_OK;
}

static void rollover_text(struct strbuf *sb, const struct cert_rollover_report *r,
                          const char *resolver)
{
	const char *name = r->tlsa_name ? r->tlsa_name : "";
	switch (r->action) {
	case CERT_ROLL_STARTED:
		strbuf_addf(sb,
		            "rollover started: a new TLS key is made (not served yet)\n"
		            "  publish beside the current record:\n"
		            "    %s TLSA 3 1 1 %s\n  keep:\n    %s TLSA 3 1 1 %s\n",
		            name, r->tlsa_next, name, r->tlsa_current);
		break;
	case CERT_ROLL_WAITING:
		strbuf_addf(sb, "rollover waiting (resolver %s): %s\n", resolver, r->detail);
		break;
	case CERT_ROLL_SWITCHED:
		strbuf_addf(sb,
		            "rollover done: the new key serves now; %s TLSA 3 1 1 %s can be "
		            "removed from DNS\n  serial:    %s\n",
		            name, r->tlsa_current, r->cert.serial ? r->cert.serial : "");
		for (size_t i = 0; i < r->cert.nports; i++)
			strbuf_addf(sb, "  port %d %s: %s\n", r->cert.ports[i].port,
			            r->cert.ports[i].service,
			            cert_port_state_name(r->cert.ports[i].state));
		break;
	case CERT_ROLL_FAILED:
		strbuf_addf(sb, "rollover failed: the current key and certificate stay\n");
		break;
	case CERT_ROLL_ABORTED:
		strbuf_addf(sb, "rollover aborted: %s\n", r->detail);
		break;
	case CERT_ROLL_IDLE: /* only without may_start */
		break;
	}
	if (r->action == CERT_ROLL_STARTED || r->action == CERT_ROLL_WAITING)
		strbuf_addf(sb,
		            "  then run 'mailctl cert rollover' again: it switches once DNS has "
		            "shown the new record for dns.ttl");
}

static int rollover_print(struct cli *cli, const struct cert_rollover_report *r,
                          const char *resolver)
{
	struct strbuf text = STRBUF_INIT;
	char seen[32] = "", after[32] = "";
	if (r->seen) {
		fmt_time(r->seen, seen);
		fmt_time(r->switch_after, after);
	}
	rollover_text(&text, r, resolver);
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out, "%s", text.buf);
	static const char *const keys[] = {"action", "tlsa_name", "tlsa_current", "tlsa_next",
	                                   "detail", "seen",      "switch_after", "serial"};
	for (size_t i = 0; i < 8; i++)
		print_col(&cli->out, keys[i], "", CELL_STR);
	print_str(&cli->out, cert_rollover_action_name(r->action));
	print_str(&cli->out, r->tlsa_name ? r->tlsa_name : "");
	print_str(&cli->out, r->tlsa_current);
	print_str(&cli->out, r->tlsa_next);
	print_str(&cli->out, r->detail ? r->detail : "");
	print_str(&cli->out, seen);
	print_str(&cli->out, after);
	print_str(&cli->out, r->cert.serial ? r->cert.serial : "");
	strbuf_release(&text);
	if (print_end(&cli->out) < 0)
		return EX_IOERR;
	return r->action == CERT_ROLL_WAITING ? EX_TEMPFAIL : EX_OK;
}

static int cert_cmd_rollover(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resolver", required_argument, NULL, 'r'}, {"force", no_argument, NULL, 'f'},
	    {"ca-file", required_argument, NULL, 'c'},  {"abort", no_argument, NULL, 'A'},
	    {"at", required_argument, NULL, 't'},       {0}};
	struct rollover_opts o = {0};
	struct cert_rollover_report r;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_rollover_opt, &o, &code);
	if (i < 0)
		return code;
	if (o.abort && (o.has_resolver || o.c.o.force || o.c.o.ca_file || o.has_at))
		return cli_usage(cli, "--abort takes no other option");
	if ((code = cli_args_done(cli, argc - i, 0, 0)) != EX_OK)
		return code;
	int rc;
	if (o.abort) {
		rc = cert_rollover_abort(&cli->ctx, &r, &err);
	} else {
		struct dnsq dq;
		if (!o.has_resolver && cli_pick_resolver(&cli->cfg, &o.server, &err) < 0)
			return cli_fail(&err);
		dnsq_init(&dq, &o.server);
		rc = cert_rollover_step(&cli->ctx, o.has_at ? o.at : time(NULL), &o.c.o, 1,
		                        dnsq_lookup_now, &dq, &r, &err);
		dnsq_release(&dq);
	}
	/* switched but a port still serves the old pair: both are said */
	code = rc == 0 || r.action == CERT_ROLL_SWITCHED ? rollover_print(cli, &r, o.server.text)
	                                                 : EX_OK;
	if (rc < 0)
		code = cli_fail(&err);
	cert_rollover_report_release(&r);
	return code;
}

static int read_info(struct cli *cli, struct cert_info *in)
{
	struct mc_error err;
	if (cert_info_read(cli->cfg.tls_cert_file, cli->cfg.tls_key_file, in, &err) < 0)
		return cli_fail(&err);
	return EX_OK;
}

static int cert_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct cert_info in;
	char until[32];
	int code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0 || (code = read_info(cli, &in)) != EX_OK)
		return code;
	time_t now = time(NULL);
	char *status = cert_status_text(&in, now, "'mailctl cert request' gets one");
	struct printer *p = &cli->out;
	fmt_time(in.not_after, until);
	print_begin(p, cli->json, 0);
	print_col(p, "file", "FILE", CELL_STR);
	print_col(p, "names", "NAMES", CELL_LIST);
	print_col(p, "issuer", "ISSUER", CELL_STR);
	print_col(p, "not_after", "EXPIRES", CELL_STR);
	print_col(p, "days_left", "DAYS", CELL_INT);
	print_col(p, "self_signed", "SELF-SIGNED", CELL_BOOL);
	print_col(p, "status", "STATUS", CELL_STR);
	print_str(p, cli->cfg.tls_cert_file);
	print_list(p, in.names, in.nnames);
	print_str(p, in.issuer);
	print_str(p, until);
	print_int(p, (long long)(in.not_after - now) / 86400);
	print_bool(p, in.self_signed);
	print_str(p, status);
	free(status);
	cert_info_release(&in);
	return print_end(p) < 0 ? EX_IOERR : EX_OK;
}

/* The newest attempts as "<started> <kind> <result>: <detail>". */
static char **attempt_lines(struct cli *cli, size_t *n, char **ca)
{
	struct cert_attempt_list l;
	struct mc_error err;
	char **v = NULL;
	*n = 0;
	*ca = NULL;
	if (store_cert_attempt_list(cli->st, 5, &l, &err) < 0)
		return NULL;
	v = xcalloc(l.n + 1, sizeof(*v));
	for (size_t i = 0; i < l.n; i++) {
		const struct cert_attempt_row *a = &l.v[i];
		v[(*n)++] = xasprintf("%s %s %s%s%s", a->started, a->kind, a->result,
		                      *a->detail ? ": " : "", a->detail);
	}
	cert_attempt_list_release(&l);
	struct cert_attempt_row last;
	if (store_cert_attempt_last_installed(cli->st, &last, &err) > 0) {
		*ca = xstrdup(last.directory);
		cert_attempt_row_release(&last);
	}
	return v;
}

static void show_cells(struct printer *p, const struct cli *cli, const struct cert_info *in)
{
	char t[3][32];
	fmt_time(in->not_before, t[0]);
	fmt_time(in->not_after, t[1]);
	fmt_time(in->renew_after, t[2]);
	print_str(p, cli->cfg.tls_cert_file);
	print_list(p, in->names, in->nnames);
	print_str(p, in->subject);
	print_str(p, in->issuer);
	print_str(p, in->serial);
	print_str(p, t[0]);
	print_str(p, t[1]);
	print_str(p, in->self_signed ? "" : t[2]);
	print_bool(p, in->self_signed);
	print_int(p, in->chain);
	print_str(p, cli->cfg.tls_key_file);
	print_str(p, in->key_matches < 0 ? "unknown (the key is not readable)"
	             : in->key_matches   ? "yes"
	                                 : "no");
	print_str(p, in->tlsa);
	print_str(p, in->sha256);
}

static int cert_cmd_show(struct cli *cli, int argc, char **argv)
{
	static const char *const keys[] = {"file",
	                                   "names",
	                                   "subject",
	                                   "issuer",
	                                   "serial",
	                                   "not_before",
	                                   "not_after",
	                                   "renew_after",
	                                   "self_signed",
	                                   "chain",
	                                   "key_file",
	                                   "key_matches",
	                                   "tlsa_3_1_1",
	                                   "sha256",
	                                   "ca",
	                                   "attempts",
	                                   "rollover_next_tlsa",
	                                   "ari_cert_id"};
	struct cert_info in;
	struct mc_error unreadable;
	char next_tlsa[65] = "";
	int code;
	size_t n;
	char *ca;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0 || (code = read_info(cli, &in)) != EX_OK)
		return code;
	char **attempts = attempt_lines(cli, &n, &ca);
	char *next = cert_next_key_file(&cli->cfg);
	if (dnsrec_tlsa_from_key(next, next_tlsa, &unreadable) < 0 && access(next, F_OK) == 0)
		snprintf(next_tlsa, sizeof(next_tlsa), "(under way; key unreadable)");
	free(next);
	struct printer *p = &cli->out;
	print_begin(p, cli->json, 1);
	char *cert_id = cert_served_id(&cli->cfg);
	for (size_t i = 0; i < 18; i++)
		print_col(p, keys[i], "",
		          i == 1 || i == 15 ? CELL_LIST
		          : i == 8          ? CELL_BOOL
		          : i == 9          ? CELL_INT
		                            : CELL_STR);
	show_cells(p, cli, &in);
	print_str(p, ca ? ca : in.self_signed ? "none (self-signed)" : "");
	print_list(p, attempts, n);
	print_str(p, next_tlsa);
	print_str(p, cert_id ? cert_id : "");
	free(cert_id);
	for (size_t i = 0; i < n; i++)
		free(attempts[i]);
	free(attempts);
	free(ca);
	cert_info_release(&in);
	return print_end(p) < 0 ? EX_IOERR : EX_OK;
}

static const char *const request_help[] = {
    "--names N,...\tthe names (default: hostname, then mta-sts.D and autoconfig.D of each "
    "domain)",
    "--directory URL\tthe CA's ACME directory (default: acme.directory, Let's Encrypt)",
    "--staging\tLet's Encrypt's staging CA, for trying things out",
    "--ca-file FILE\tCA certificates to trust for the CA's HTTPS (kept for renewals)",
    "--eab-kid KID\texternal account binding key id, for CAs that want one",
    "--eab-hmac-key KEY\tits base64url MAC key",
    NULL,
};
static const char *const renew_help[] = {
    "--force\trenew now, even when more than a third of the lifetime is left",
    NULL,
};

static const char *const rollover_help[] = {
    "--resolver ADDR[:PORT]\tresolver that must see the new TLSA record (default: dns.resolver, "
    "else /etc/resolv.conf)",
    "--force\tswitch now, without waiting for DNS (breaks DANE for senders that cache the "
    "old record)",
    "--ca-file FILE\tCA certificates to trust for the CA's HTTPS (default: as kept)",
    "--at TIME\tact as if it were TIME (YYYY-MM-DDTHH:MM:SSZ or @SECONDS, not in the past), "
    "e.g. to end the wait for caches in a test",
    "--abort\tcancel: delete the new key before it serves",
    NULL,
};

const struct verb cert_verbs[] = {
    {"request", cert_cmd_request, CMD_STORE_RW,
     "[--names N,...] [--directory URL | --staging] [--ca-file FILE] [--eab-kid KID "
     "--eab-hmac-key KEY]",
     "Get a certificate from an ACME CA (HTTP-01), install it with the kept key, reload, and "
     "check every TLS port serves it.",
     request_help},
    {"renew", cert_cmd_renew, CMD_STORE_RW, "[--force]",
     "Renew the CA's certificate when a third of its lifetime is left (or --force).", renew_help},
    {"rollover", cert_cmd_rollover, CMD_STORE_RW,
     "[--resolver ADDR[:PORT]] [--force] [--ca-file FILE] [--at TIME] [--abort]",
     "Change the TLS key without breaking DANE: make a new key, publish its TLSA beside the old "
     "one, switch once DNS shows it.",
     rollover_help},
    {"list", cert_cmd_list, 0, "",
     "The served certificate: names, issuer, expiry, and whether it is still setup's "
     "self-signed one.",
     NULL},
    {"show", cert_cmd_show, CMD_STORE_RO, "",
     "Everything about the served certificate, its key's TLSA value and the last attempts.", NULL},
    {0},
};
