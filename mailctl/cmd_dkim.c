/* mailctl dkim keygen|list|show|rotate */
#include "cli.h"
#include "dkim.h"
#include "dkim_rotate.h"
#include "dnsrec.h"
#include "strbuf.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

struct dkim_opts {
	const char *algorithm;
	const char *selector;
	int bits;
};

static int on_opt(int opt, const char *arg, void *ctx)
{
	struct dkim_opts *o = ctx;
	char *end;
	if (opt == 'a')
		o->algorithm = arg;
	else if (opt == 's')
		o->selector = arg;
	else { /* the size itself is checked by dkim_keygen() */
		long long v = strtoll(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v < 1 || v > 65536)
			return cli_error(EX_USAGE, "invalid --bits '%s': a number of bits", arg);
		o->bits = (int)v;
	}
	return EX_OK;
}

static const struct option keygen_options[] = {
    {"algorithm", required_argument, NULL, 'a'},
    {"bits", required_argument, NULL, 'b'},
    {"selector", required_argument, NULL, 's'},
    {0},
};
static const struct option show_options[] = {
    {"selector", required_argument, NULL, 's'},
    {0},
};

/* Parse options and take 'min'..'max' DOMAIN operands. */
static int parse(struct cli *cli, int argc, char **argv, const struct option *opts,
                 struct dkim_opts *o, int min, int max, const char **domain)
{
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_opt, o, &code);
	if (i < 0)
		return code;
	if ((code = cli_args_done(cli, argc - i, min, max)) != EX_OK)
		return code;
	*domain = i < argc ? argv[i] : NULL;
	return EX_OK;
}

static void key_columns(struct printer *p)
{
	print_col(p, "domain", "DOMAIN", CELL_STR);
	print_col(p, "selector", "SELECTOR", CELL_STR);
	print_col(p, "algorithm", "ALGORITHM", CELL_STR);
	print_col(p, "bits", "BITS", CELL_INT);
	print_col(p, "state", "STATE", CELL_STR);
	print_col(p, "created", "CREATED", CELL_STR);
}

static void key_cells(struct printer *p, const struct dkim_row *k)
{
	print_str(p, k->domain);
	print_str(p, k->selector);
	print_str(p, k->algorithm);
	print_int(p, k->bits);
	print_str(p, k->state);
	print_str(p, k->created);
}

/* The record of 'k', built by ldns: split into strings of at most 255
 * bytes for a zone file, whole for web DNS panels. */
static int build_record(const struct dkim_row *k, uint32_t ttl, struct dnsrec_list *rec,
                        struct mc_error *err)
{
	char *name = dkim_record_name(k->selector, k->domain);
	char *value = dkim_record_value(k->algorithm, k->public_key);
	int rc = dnsrec_txt(rec, name, ttl, value, "DKIM public key", err);
	free(name);
	free(value);
	return rc;
}

static void record_cells(struct printer *p, const struct dnsrec_list *rec)
{
	char *name = xstrndup(rec->v[0].name, strlen(rec->v[0].name) - 1); /* no final dot */
	print_col(p, "name", "", CELL_STR);
	print_col(p, "value", "", CELL_STR);
	print_col(p, "zone", "", CELL_STR);
	print_str(p, name);
	print_str(p, rec->v[0].value);
	print_str(p, rec->v[0].zone);
	free(name);
}

static int dkim_cmd_keygen(struct cli *cli, int argc, char **argv)
{
	struct dkim_opts o = {0};
	struct dkim_row k;
	struct mc_error err;
	const char *domain;
	int code = parse(cli, argc, argv, keygen_options, &o, 1, 1, &domain);
	if (code != EX_OK)
		return code;
	struct dnsrec_list rec = {0};
	if (dkim_keygen(&cli->ctx, domain, o.algorithm, o.bits, o.selector, &k, &err) < 0)
		return cli_fail(&err);
	if (build_record(&k, (uint32_t)cli->cfg.dns_ttl, &rec, &err) < 0) {
		dkim_row_release(&k);
		return cli_fail(&err);
	}
	print_begin(&cli->out, cli->json, 1);
	print_summary(&cli->out,
	              "made %s-%lld DKIM key '%s' of '%s', %s; publish it in DNS: see 'mailctl "
	              "dkim show %s --selector %s'",
	              k.algorithm, k.bits, k.selector, k.domain, k.state, k.domain, k.selector);
	key_columns(&cli->out);
	print_col(&cli->out, "key_file", "", CELL_STR);
	key_cells(&cli->out, &k);
	print_str(&cli->out, k.key_file);
	record_cells(&cli->out, &rec);
	dnsrec_list_release(&rec);
	dkim_row_release(&k);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int dkim_cmd_list(struct cli *cli, int argc, char **argv)
{
	struct dkim_opts o = {0};
	struct dkim_list l;
	struct mc_error err;
	const char *domain;
	int code = parse(cli, argc, argv, NULL, &o, 0, 1, &domain);
	if (code != EX_OK)
		return code;
	if (dkim_list(&cli->ctx, domain, &l, &err) < 0)
		return cli_fail(&err);
	print_begin(&cli->out, cli->json, 0);
	key_columns(&cli->out);
	for (size_t i = 0; i < l.n; i++)
		key_cells(&cli->out, &l.v[i]);
	dkim_list_release(&l);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

static int dkim_cmd_show(struct cli *cli, int argc, char **argv)
{
	struct dkim_opts o = {0};
	struct dkim_row k;
	struct mc_error err;
	const char *domain;
	int code = parse(cli, argc, argv, show_options, &o, 1, 1, &domain);
	if (code != EX_OK)
		return code;
	struct dnsrec_list rec = {0};
	if (dkim_show(&cli->ctx, domain, o.selector, &k, &err) < 0)
		return cli_fail(&err);
	if (build_record(&k, (uint32_t)cli->cfg.dns_ttl, &rec, &err) < 0) {
		dkim_row_release(&k);
		return cli_fail(&err);
	}
	print_begin(&cli->out, cli->json, 1);
	key_columns(&cli->out);
	key_cells(&cli->out, &k);
	record_cells(&cli->out, &rec);
	dnsrec_list_release(&rec);
	dkim_row_release(&k);
	return print_end(&cli->out) < 0 ? EX_IOERR : EX_OK;
}

/* ---- dkim rotate ---- */

struct rotate_opts {
	struct dnsq_server server;
	time_t at;
	int has_at, has_resolver, abort;
};

static int on_rotate_opt(int opt, const char *arg, void *ctx)
{
	struct rotate_opts *o = ctx;
	struct mc_error err;
	if (opt == 'A')
		o->abort = 1;
	else if (opt == 't') {
		if (cli_opt_at(arg, &o->at) != EX_OK)
			return EX_USAGE;
		o->has_at = 1;
	} else if (dnsq_server_parse(arg, &o->server, &err) < 0)
		return cli_error(
		    EX_USAGE, "invalid --resolver '%s': use ADDR, ADDR:PORT or [IPV6]:PORT", arg);
	else
		o->has_resolver = 1;
	return EX_OK;
}

/* The records of the report's keys, rec.v[i] for key i. */
static int rotate_records(struct cli *cli, const struct dkim_rotate_report *r,
                          struct dnsrec_list *rec, struct mc_error *err)
{
	for (size_t i = 0; i < r->n; i++)
		if (build_record(&r->v[i].row, (uint32_t)cli->cfg.dns_ttl, rec, err) < 0)
			return -1;
	return 0;
}

/* "'s1' (rsa), 's2' (ed25519)" of the keys with 'role' and 'change'
 * (change -1: any). */
static void key_names(struct strbuf *sb, const struct dkim_rotate_report *r,
                      enum dkim_rotate_role role, int change)
{
	const char *sep = "";
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].role != role || (change >= 0 && (int)r->v[i].change != change))
			continue;
		strbuf_addf(sb, "%s'%s' (%s-%lld)", sep, r->v[i].row.selector,
		            r->v[i].row.algorithm, r->v[i].row.bits);
		sep = ", ";
	}
}

static void text_started(struct strbuf *sb, const struct dkim_rotate_report *r,
                         const struct dnsrec_list *rec)
{
	strbuf_addf(sb, "started a DKIM key rotation for '%s': made ", r->domain);
	key_names(sb, r, DKIM_ROLE_NEW, -1);
	strbuf_addstr(sb, " to replace ");
	key_names(sb, r, DKIM_ROLE_OLD, -1);
	strbuf_addstr(sb, ", which signs until the switch\npublish in DNS:\n");
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].role == DKIM_ROLE_NEW)
			strbuf_addf(sb, "  name:  %.*s\n  type:  TXT\n  value: %s\n  zone:  %s\n",
			            (int)strlen(rec->v[i].name) - 1, rec->v[i].name,
			            rec->v[i].value, rec->v[i].zone);
	strbuf_addf(sb,
	            "then run 'mailctl dkim rotate %s' again: it switches signing to the new "
	            "key once DNS shows the record",
	            r->domain);
}

static void text_waiting(struct strbuf *sb, const struct dkim_rotate_report *r,
                         const struct dnsrec_list *rec, const char *resolver)
{
	strbuf_addf(sb, "the DKIM key rotation of '%s' waits for DNS; nothing changed\n",
	            r->domain);
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].role != DKIM_ROLE_NEW)
			continue;
		const struct dkim_rotate_key *k = &r->v[i];
		strbuf_addf(sb, "  %.*s: %s\n", (int)strlen(rec->v[i].name) - 1, rec->v[i].name,
		            k->dns_detail);
		for (size_t j = 0; j < k->nfound; j++)
			strbuf_addf(sb, "    DNS has: \"%s\"\n", k->found[j]);
		if (k->dns == DKIM_DNS_FAILED || k->dns == DKIM_DNS_PENDING)
			strbuf_addf(sb,
			            "    check the resolver %s, or ask another with --resolver\n",
			            resolver);
		else if (k->dns != DKIM_DNS_PUBLISHED)
			strbuf_addf(
			    sb, "    publish what 'mailctl dkim show %s --selector %s' prints%s\n",
			    r->domain, k->row.selector,
			    k->dns == DKIM_DNS_MISSING ? "" : " instead of what is there");
	}
	strbuf_addf(sb,
	            "once %s shows the new record(s), run 'mailctl dkim rotate %s' again (or "
	            "cancel the rotation with 'mailctl dkim rotate %s --abort')",
	            resolver, r->domain, r->domain);
}

static void text_switched(struct strbuf *sb, const struct dkim_rotate_report *r)
{
	char until[DKIM_TIME_LEN] = "";
	strbuf_addf(sb, "switched DKIM signing of '%s' to ", r->domain);
	key_names(sb, r, DKIM_ROLE_NEW, -1);
	strbuf_addstr(sb, ": DNS shows the new record");
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].role == DKIM_ROLE_OLD)
			dkim_time_format(r->v[i].remove_after, until);
	if (!*until)
		return;
	strbuf_addstr(sb, "\nretired ");
	key_names(sb, r, DKIM_ROLE_OLD, -1);
	strbuf_addf(sb,
	            ": keep the old record(s) in DNS until %s (dkim.rotation_grace_days: %lld), "
	            "so mail signed before the switch still verifies; then run 'mailctl dkim "
	            "rotate %s' to remove the old key(s)",
	            until, r->grace_days, r->domain);
}

/* Retired keys still within their grace period: one line each; how many. */
static int text_kept(struct strbuf *sb, const struct dkim_rotate_report *r)
{
	char until[DKIM_TIME_LEN];
	int n = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].role != DKIM_ROLE_RETIRED || r->v[i].change != DKIM_CHANGE_NONE)
			continue;
		dkim_time_format(r->v[i].remove_after, until);
		strbuf_addf(sb, "retired key '%s' (%s) stays in DNS until %s\n",
		            r->v[i].row.selector, r->v[i].row.algorithm, until);
		n++;
	}
	return n;
}

/* ": name1, name2" of the records of the removed keys. */
static void removed_names(struct strbuf *sb, const struct dkim_rotate_report *r,
                          const struct dnsrec_list *rec)
{
	const char *sep = ": ";
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].change != DKIM_CHANGE_REMOVED)
			continue;
		strbuf_addf(sb, "%s%.*s", sep, (int)strlen(rec->v[i].name) - 1, rec->v[i].name);
		sep = ", ";
	}
}

static void text_removed(struct strbuf *sb, const struct dkim_rotate_report *r,
                         const struct dnsrec_list *rec)
{
	strbuf_addf(sb, "removed the retired DKIM key(s) ");
	key_names(sb, r, DKIM_ROLE_RETIRED, DKIM_CHANGE_REMOVED);
	strbuf_addf(sb, " of '%s': their grace period of %lld day(s) is over\n", r->domain,
	            r->grace_days);
	strbuf_addstr(sb, "delete these TXT records from DNS");
	removed_names(sb, r, rec);
	strbuf_addch(sb, '\n');
	if (!text_kept(sb, r))
		strbuf_addf(
		    sb, "the rotation is complete; 'mailctl dkim rotate %s' starts the next one",
		    r->domain);
}

static void text_aborted(struct strbuf *sb, const struct dkim_rotate_report *r,
                         const struct dnsrec_list *rec)
{
	strbuf_addf(sb, "cancelled the DKIM key rotation of '%s': removed the pending key(s) ",
	            r->domain);
	key_names(sb, r, DKIM_ROLE_NEW, DKIM_CHANGE_REMOVED);
	strbuf_addstr(sb, "; ");
	key_names(sb, r, DKIM_ROLE_OLD, -1);
	strbuf_addstr(sb, " sign(s) as before\nif you published them, delete these TXT records "
	                  "from DNS");
	removed_names(sb, r, rec);
}

/* What the step did, in words; 'resolver' is the one asked. */
static void rotate_text(struct strbuf *sb, const struct dkim_rotate_report *r,
                        const struct dnsrec_list *rec, const char *resolver)
{
	switch (r->action) {
	case DKIM_ROTATE_STARTED:
		text_started(sb, r, rec);
		break;
	case DKIM_ROTATE_WAITING:
		text_waiting(sb, r, rec, resolver);
		break;
	case DKIM_ROTATE_SWITCHED:
		text_switched(sb, r);
		break;
	case DKIM_ROTATE_GRACE:
		strbuf_addf(sb, "nothing to do yet for '%s'\n", r->domain);
		text_kept(sb, r);
		strbuf_addf(sb, "then run 'mailctl dkim rotate %s' to remove the retired key(s)",
		            r->domain);
		break;
	case DKIM_ROTATE_REMOVED:
		text_removed(sb, r, rec);
		break;
	case DKIM_ROTATE_ABORTED:
		text_aborted(sb, r, rec);
		break;
	case DKIM_ROTATE_IDLE:
		strbuf_addf(sb, "no DKIM key rotation under way for '%s'", r->domain);
		break;
	}
	strbuf_rtrim(sb);
}

static void rotate_rows(struct printer *p, const struct dkim_rotate_report *r,
                        const struct dnsrec_list *rec)
{
	char t[DKIM_TIME_LEN];
	const char *keys[] = {"domain", "action", "selector", "algorithm",   "bits", "state",
	                      "role",   "change", "name",     "value",       "zone", "dns",
	                      "detail", "found",  "retired",  "remove_after"};
	for (size_t c = 0; c < sizeof(keys) / sizeof(keys[0]); c++)
		print_col(p, keys[c], "", c == 4 ? CELL_INT : c == 13 ? CELL_LIST : CELL_STR);
	for (size_t i = 0; i < r->n; i++) {
		const struct dkim_rotate_key *k = &r->v[i];
		print_str(p, r->domain);
		print_str(p, dkim_rotate_action_name(r->action));
		print_str(p, k->row.selector);
		print_str(p, k->row.algorithm);
		print_int(p, k->row.bits);
		print_str(p, k->change == DKIM_CHANGE_REMOVED ? "removed" : k->row.state);
		print_str(p, dkim_rotate_role_name(k->role));
		print_str(p, dkim_rotate_change_name(k->change));
		char *name =
		    xstrndup(rec->v[i].name, strlen(rec->v[i].name) - 1); /* no final dot */
		print_str(p, name);
		free(name);
		print_str(p, rec->v[i].value);
		print_str(p, rec->v[i].zone);
		print_str(p, dkim_rotate_dns_name(k->dns));
		print_str(p, k->dns_detail ? k->dns_detail : "");
		print_list(p, k->found, k->nfound);
		dkim_time_format(k->retired, t);
		print_str(p, k->retired ? t : "");
		dkim_time_format(k->remove_after, t);
		print_str(p, k->retired ? t : "");
	}
}

static int rotate_print(struct cli *cli, const struct dkim_rotate_report *r, const char *resolver)
{
	struct dnsrec_list rec = {0};
	struct strbuf text = STRBUF_INIT;
	struct mc_error err;
	if (rotate_records(cli, r, &rec, &err) < 0) {
		dnsrec_list_release(&rec);
		return cli_fail(&err);
	}
	rotate_text(&text, r, &rec, resolver);
	print_begin(&cli->out, cli->json, 0);
	print_summary(&cli->out, "%s", text.buf);
	rotate_rows(&cli->out, r, &rec);
	strbuf_release(&text);
	dnsrec_list_release(&rec);
	if (print_end(&cli->out) < 0)
		return EX_IOERR;
	/* a rotation waiting for DNS: try again later */
	return r->action == DKIM_ROTATE_WAITING ? EX_TEMPFAIL : EX_OK;
}

static int dkim_cmd_rotate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"resolver", required_argument, NULL, 'r'},
	                                     {"at", required_argument, NULL, 't'},
	                                     {"abort", no_argument, NULL, 'A'},
	                                     {0}};
	struct rotate_opts o = {0};
	struct dkim_rotate_report r;
	struct mc_error err;
	int code, i = cli_getopt(cli, argc, argv, "", opts, on_rotate_opt, &o, &code);
	if (i < 0)
		return code;
	if (o.abort && (o.has_at || o.has_resolver))
		return cli_usage(cli, "--abort takes no --at or --resolver");
	if ((code = cli_args_done(cli, argc - i, 1, 1)) != EX_OK)
		return code;
	if (o.abort) {
		if (dkim_rotate_abort(&cli->ctx, argv[i], &r, &err) < 0)
			return cli_fail(&err);
	} else {
		struct dnsq dq;
		if (dnsq_server_choose(cli->cfg.dns_resolver, &o.server, &err) < 0)
			return cli_fail(&err);
		dnsq_init(&dq, &o.server);
		int rc = dkim_rotate_step(&cli->ctx, argv[i], o.has_at ? o.at : time(NULL),
		                          dnsq_lookup_now, &dq, 1, &r, &err);
		dnsq_release(&dq);
		if (rc < 0)
			return cli_fail(&err);
	}
	code = rotate_print(cli, &r, o.server.text);
	dkim_rotate_report_release(&r);
	return code;
}

static const char *const keygen_opts[] = {
    "--algorithm ALG\trsa (default) or ed25519",
    "--bits N\tRSA key size: 2048 (default), 3072 or 4096",
    "--selector S\tDNS selector (default: s + year and month, e.g. s202611)",
    NULL,
};
static const char *const show_opts[] = {
    "--selector S\tthe key to show (default: the active rsa key, else any active key)",
    NULL,
};
static const char *const rotate_opts_help[] = {
    "--resolver ADDR[:PORT]\tresolver that must see the new record (default: dns.resolver, "
    "else /etc/resolv.conf)",
    "--at TIME\tact as if it were TIME (YYYY-MM-DDTHH:MM:SSZ or @SECONDS, not in the past), "
    "e.g. to end a grace period in a test",
    "--abort\tcancel the pending rotation: delete the new key(s) not yet signing",
    NULL,
};

const struct verb dkim_verbs[] = {
    {"keygen", dkim_cmd_keygen, CMD_STORE_RW,
     "DOMAIN [--algorithm rsa|ed25519] [--bits N] [--selector S]",
     "Make a DKIM key: active if the domain has no active key of its algorithm, else published.",
     keygen_opts},
    {"list", dkim_cmd_list, CMD_STORE_RO, "[DOMAIN]", "List DKIM keys, of one domain or all.",
     NULL},
    {"show", dkim_cmd_show, CMD_STORE_RO, "DOMAIN [--selector S]",
     "Show a key's DNS TXT record: its name, its value, and the zone-file line.", show_opts},
    {"rotate", dkim_cmd_rotate, CMD_STORE_RW,
     "DOMAIN [--resolver ADDR[:PORT]] [--at TIME] [--abort]",
     "Rotate the keys: make new ones, switch once DNS shows them, remove the old ones after "
     "dkim.rotation_grace_days.",
     rotate_opts_help},
    {0},
};
