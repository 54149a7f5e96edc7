/* mailctl dkim keygen|list|show */
#include "cli.h"
#include "dkim.h"
#include "dnsrec.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

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

const struct verb dkim_verbs[] = {
    {"keygen", dkim_cmd_keygen, CMD_STORE_RW,
     "DOMAIN [--algorithm rsa|ed25519] [--bits N] [--selector S]",
     "Make a DKIM key: active if the domain has no active key of its algorithm, else published.",
     keygen_opts},
    {"list", dkim_cmd_list, CMD_STORE_RO, "[DOMAIN]", "List DKIM keys, of one domain or all.",
     NULL},
    {"show", dkim_cmd_show, CMD_STORE_RO, "DOMAIN [--selector S]",
     "Show a key's DNS TXT record: its name, its value, and the zone-file line.", show_opts},
    {0},
};
