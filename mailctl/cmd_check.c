/* mailctl check FILE: a saved message through the milter's own checks
 * (lib/msgauth.h), with the Authentication-Results it would get and why. */
#include "cli.h"
#include "msgauth.h"
#include "strbuf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* Exit codes, like 'blacklist check': 0 the message would be accepted,
 * 1 rejected or quarantined, 2 deferred (a DNS failure mattered). */
enum { CHECK_ACCEPT = 0, CHECK_REFUSED = 1, CHECK_TEMPFAIL = 2 };

#define MAX_MESSAGE (64u << 20)

struct opts {
	const char *ip, *helo, *mail_from;
	struct dnsq_server server;
};

static int is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	struct mc_error err;
	switch (opt) {
	case 'i':
		if (!is_ip(arg))
			return cli_error(EX_USAGE, "invalid --ip '%s': not an IPv4 or IPv6 address",
			                 arg);
		o->ip = arg;
		break;
	case 'H':
		o->helo = arg;
		break;
	case 'm':
		o->mail_from = arg;
		break;
	default:
		if (dnsq_server_parse(arg, &o->server, &err) < 0)
			return cli_error(
			    EX_USAGE, "invalid --resolver '%s': use ADDR, ADDR:PORT or [IPV6]:PORT",
			    arg);
	}
	return EX_OK;
}

static int read_file(const char *path, struct strbuf *out, struct mc_error *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char buf[65536];
	size_t n;
	if (!f)
		return mc_fail(err, MC_EIO, "cannot open '%s': %s", path, mc_strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && out->len <= MAX_MESSAGE)
		strbuf_add(out, buf, n);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad)
		return mc_fail(err, MC_EIO, "cannot read '%s'", path);
	if (out->len > MAX_MESSAGE)
		return mc_fail(err, MC_EDATA, "'%s' is over %u MiB: not a message", path,
		               MAX_MESSAGE >> 20);
	return 0;
}

/* Length of the line at 'p' with its line end. */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* Feed the header fields (unfolded as the milter gets them: value after
 * the colon, folds kept, no final line end); return where the body starts. */
static const char *feed_header(struct msgauth *m, const char *p, const char *end,
                               struct strbuf *return_path)
{
	while (p < end && *p != '\r' && *p != '\n') {
		size_t n = line_len(p, end);
		while (p + n < end && (p[n] == ' ' || p[n] == '\t'))
			n += line_len(p + n, end);
		const char *colon = memchr(p, ':', n);
		size_t vlen = n;
		while (vlen && (p[vlen - 1] == '\n' || p[vlen - 1] == '\r'))
			vlen--;
		if (colon && colon < p + vlen) {
			char *name = xasprintf("%.*s", (int)(colon - p), p);
			char *value = xasprintf("%.*s", (int)(p + vlen - colon - 1), colon + 1);
			if (!strcasecmp(name, "Return-Path") && !return_path->len)
				strbuf_addstr(return_path, value);
			msgauth_header(m, name, value);
			free(name);
			free(value);
		}
		p += n;
	}
	if (p < end)
		p += line_len(p, end); /* the empty line */
	return p;
}

/* "<a@b>" as found in Return-Path, trimmed to "a@b". */
static void bare_address(struct strbuf *sb)
{
	char *s = sb->buf, *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *v = lt && gt ? xasprintf("%.*s", (int)(gt - lt - 1), lt + 1) : xstrdup(s);
	char *t = v + strspn(v, " \t");
	t[strcspn(t, " \t\r\n")] = 0;
	strbuf_reset(sb);
	strbuf_addstr(sb, t);
	free(v);
}

/* 's' with its CRLFs as LFs (caller frees). */
static char *lf_only(const char *s)
{
	char *out = xstrdup(s), *w = out;
	for (const char *p = s; *p; p++)
		if (!(*p == '\r' && p[1] == '\n'))
			*w++ = *p;
	*w = 0;
	return out;
}

static void print_result(struct cli *cli, const struct msgauth_result *r)
{
	char *ar = lf_only(r->authres);
	if (!cli->json) {
		printf("Authentication-Results:%s\n\n%s", ar, r->report.buf);
		free(ar);
		return;
	}
	print_begin(&cli->out, 1, 0);
	print_col(&cli->out, "authentication_results", "", CELL_STR);
	print_col(&cli->out, "action", "", CELL_STR);
	print_col(&cli->out, "reply", "", CELL_STR);
	print_col(&cli->out, "report", "", CELL_STR);
	print_str(&cli->out, ar);
	print_str(&cli->out, msgauth_action_name(r->action));
	char *reply = r->smtp_code[0]
	                  ? xasprintf("%s %s %s", r->smtp_code, r->smtp_xcode, r->smtp_text)
	                  : xstrdup("");
	print_str(&cli->out, reply);
	print_str(&cli->out, r->report.buf);
	free(reply);
	free(ar);
	print_end(&cli->out);
}

static int run_check(struct cli *cli, const struct opts *o, const struct strbuf *msg)
{
	char host[256];
	struct strbuf mail_from = STRBUF_INIT;
	snprintf(host, sizeof(host), "%s", cli->cfg.hostname);
	if (!*host && gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	struct msgauth_policy pol = {host, cli->cfg.milter_dmarc_reject,
	                             cli->cfg.milter_dmarc_quarantine};
	struct msgauth_env env = {.ip = o->ip ? o->ip : "", .helo = o->helo, .receiver = host};
	struct msgauth *m = msgauth_new(&env, &pol, NULL);
	const char *end = msg->buf + msg->len;
	const char *body = feed_header(m, msg->buf, end, &mail_from);
	bare_address(&mail_from);
	env.mail_from = o->mail_from ? o->mail_from : mail_from.buf;
	msgauth_eoh(m);
	msgauth_body(m, body, (size_t)(end - body));
	struct dnsq d;
	struct msgauth_result r;
	dnsq_init(&d, &o->server);
	d.timeout_ms = (int)cli->cfg.milter_dns_budget_ms;
	msgauth_finish(m, dnsq_lookup_now, &d, time(NULL), 0, &r);
	print_result(cli, &r);
	int code = r.action == MSGAUTH_ACCEPT     ? CHECK_ACCEPT
	           : r.action == MSGAUTH_TEMPFAIL ? CHECK_TEMPFAIL
	                                          : CHECK_REFUSED;
	msgauth_result_release(&r);
	dnsq_release(&d);
	msgauth_free(m);
	strbuf_release(&mail_from);
	return code;
}

static int check_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"ip", required_argument, NULL, 'i'},
	                                     {"helo", required_argument, NULL, 'H'},
	                                     {"mail-from", required_argument, NULL, 'm'},
	                                     {"resolver", required_argument, NULL, 'r'},
	                                     {0}};
	struct opts o = {0};
	struct strbuf msg = STRBUF_INIT;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, &o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, 1, 1)) != EX_OK)
		return code;
	if (read_file(argv[i], &msg, &err) < 0 ||
	    dnsq_server_choose(cli->cfg.dns_resolver, &o.server, &err) < 0) {
		strbuf_release(&msg);
		return cli_fail(&err);
	}
	code = run_check(cli, &o, &msg);
	strbuf_release(&msg);
	return code;
}

static const char *const check_opts[] = {
    "--ip IP\tthe client address the message came from (SPF; without it SPF is none)",
    "--helo NAME\tthe HELO/EHLO name the client gave",
    "--mail-from ADDR\tthe envelope sender (default: the Return-Path field; '' for <>)",
    "--resolver ADDR[:PORT]\tthe DNS resolver to ask (default: dns.resolver, then "
    "/etc/resolv.conf)",
    NULL,
};

const struct verb check_verbs[] = {
    {"", check_cmd, 0, "FILE [--ip IP] [--helo NAME] [--mail-from ADDR] [--resolver ADDR[:PORT]]",
     "Check a saved message as mailctld checks inbound mail: SPF, DKIM, DMARC, the "
     "Authentication-Results and the verdict (exit 0 accept, 1 reject or quarantine, 2 "
     "deferred).",
     check_opts},
    {0},
};
