/* mailctl.yaml parsed with libyaml's event API into struct config; see config.h. */
#include "config.h"
#include "utf8.h"
#include "size.h"
#include "strbuf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#ifndef MAILCTL_DEFAULT_CONFIG
#define MAILCTL_DEFAULT_CONFIG "/etc/mailctl/mailctl.yaml"
#endif
#ifndef MAILCTL_TEMPLATEDIR
#define MAILCTL_TEMPLATEDIR "/usr/local/share/mailctl/templates"
#endif
#ifndef MAILCTL_DNSBL_FILE
#define MAILCTL_DNSBL_FILE "/usr/local/share/mailctl/dnsbl.yaml"
#endif

/* A configuration file is a few KiB; anything this big is a mistake. */
#define CONFIG_MAX_BYTES (1024 * 1024)

struct config_key {
	const char *name; /* dotted: "paths.database" */
	enum config_type type;
	const char *def; /* default, as it would be written in the file */
	const char *doc;
	size_t offset;       /* of the field in struct config */
	long long min, max;  /* CONFIG_INT only */
	const char *choices; /* CONFIG_ENUM only: "a|b|c" */
};

#define KEY(name, type, def, field, doc)                                                           \
	{                                                                                          \
		name, type, def, doc, offsetof(struct config, field), 0, 0, NULL                   \
	}
#define INTKEY(name, def, field, min, max, doc)                                                    \
	{                                                                                          \
		name, CONFIG_INT, def, doc, offsetof(struct config, field), min, max, NULL         \
	}
#define ENUMKEY(name, def, field, choices, doc)                                                    \
	{                                                                                          \
		name, CONFIG_ENUM, def, doc, offsetof(struct config, field), 0, 0, choices         \
	}

static const struct config_key keys[] = {
    KEY("hostname", CONFIG_HOST, "", hostname,
        "fully qualified name of this mail host; empty means the machine's own name"),
    KEY("admin_address", CONFIG_ADDR, "", admin_address,
        "address that receives postmaster and abuse mail for new domains; empty means none"),
    KEY("paths.database", CONFIG_PATH, "/var/lib/mailctl/mailctl.db", database,
        "SQLite database holding domains, users and aliases"),
    KEY("paths.key_dir", CONFIG_PATH, "/var/lib/mailctl/keys", key_dir,
        "directory of DKIM private keys, readable only by the signer"),
    KEY("paths.mail_root", CONFIG_PATH, "/var/mail/vhosts", mail_root,
        "root of the virtual mailboxes, one directory per domain"),
    KEY("paths.archive_root", CONFIG_PATH, "/var/mail/archive", archive_root,
        "where mailboxes of deleted users and domains are archived"),
    KEY("paths.template_dir", CONFIG_PATH, MAILCTL_TEMPLATEDIR, template_dir,
        "templates for the generated Postfix, Dovecot and nginx files"),
    KEY("paths.postfix_dir", CONFIG_PATH, "/etc/postfix", postfix_dir,
        "Postfix configuration directory that generated maps are written to"),
    KEY("paths.dovecot_dir", CONFIG_PATH, "/etc/dovecot", dovecot_dir,
        "Dovecot configuration directory that generated files are written to"),
    KEY("paths.nginx_dir", CONFIG_PATH, "/etc/nginx", nginx_dir,
        "nginx configuration directory for autoconfig and MTA-STS sites"),
    KEY("paths.control_socket", CONFIG_PATH, "/run/mailctl/mailctld.sock", control_socket,
        "UNIX socket on which mailctld accepts control requests"),
    KEY("paths.log_file", CONFIG_PATH, "/var/log/mailctl/mailctl.log", log_file,
        "log file of mailctl and mailctld"),
    INTKEY("mail.vmail_uid", "5000", vmail_uid, 1, 4294967294LL,
           "numeric user id that owns the virtual mailboxes"),
    INTKEY("mail.vmail_gid", "5000", vmail_gid, 1, 4294967294LL,
           "numeric group id that owns the virtual mailboxes"),
    KEY("accounts.default_quota", CONFIG_SIZE, "2G", default_quota,
        "mailbox quota for new users (K, M, G, T suffixes; 0 for none)"),
    INTKEY("passwords.min_length", "12", password_min_length, 8, 128,
           "minimum length of a new password, in characters"),
    INTKEY("passwords.argon2_time_cost", "3", argon2_time_cost, 1, 100,
           "Argon2id passes over memory when hashing a password"),
    INTKEY("passwords.argon2_memory_kib", "65536", argon2_memory_kib, 8, 4194304,
           "Argon2id memory cost per hash, in KiB"),
    INTKEY("passwords.argon2_parallelism", "1", argon2_parallelism, 1, 64,
           "Argon2id lanes (threads) per hash"),
    KEY("passwords.dictionary_check", CONFIG_BOOL, "true", password_dictionary_check,
        "reject new passwords found in the cracklib dictionary"),
    KEY("network.ipv4", CONFIG_IPLIST, "", ipv4,
        "public IPv4 addresses of this server; empty means those of its interfaces"),
    KEY("network.ipv6", CONFIG_IPLIST, "", ipv6,
        "public IPv6 addresses of this server; empty means those of its interfaces"),
    INTKEY("dns.ttl", "3600", dns_ttl, 60, 86400, "TTL of the records 'dns records' prints"),
    ENUMKEY("dns.dmarc_policy", "quarantine", dmarc_policy, "none|quarantine|reject",
            "DMARC policy published for hosted domains"),
    ENUMKEY("dns.mta_sts_mode", "enforce", mta_sts_mode, "testing|enforce",
            "MTA-STS mode published for hosted domains"),
    KEY("dns.caa_issuer", CONFIG_HOST, "letsencrypt.org", caa_issuer,
        "certificate authority named in the CAA record"),
    /* Mail service (templates/ for Postfix and Dovecot). */
    KEY("tls.cert_file", CONFIG_PATH, "/var/lib/mailctl/tls/cert.pem", tls_cert_file,
        "certificate chain (PEM, leaf first) that Postfix and Dovecot present"),
    KEY("tls.key_file", CONFIG_PATH, "/var/lib/mailctl/tls/key.pem", tls_key_file,
        "private key of tls.cert_file (PEM), readable by root only"),
    KEY("mail.plaintext_ports", CONFIG_BOOL, "false", plaintext_ports,
        "also open IMAP 143 and POP3 110, where STARTTLS is required before login"),
    KEY("mail.message_size_limit", CONFIG_SIZE, "50M", message_size_limit,
        "largest message accepted or sent (Postfix message_size_limit); 50M is a little above "
        "what the big providers take"),
    /* DNS check (lib/dnscheck.c). */
    KEY("dns.resolver", CONFIG_STRING, "", dns_resolver,
        "resolver 'dns check' asks: ADDR, ADDR:PORT or [IPV6]:PORT; empty means the first "
        "nameserver in /etc/resolv.conf"),
    /* DNS blocklists (lib/dnsbl.c). */
    KEY("blacklist.zones_file", CONFIG_PATH, MAILCTL_DNSBL_FILE, dnsbl_file,
        "table of the DNS blocklists 'blacklist check' asks (zone, codes, delisting URL)"),
    INTKEY("blacklist.interval_hours", "6", blacklist_interval_hours, 1, 168,
           "hours between mailctld's blocklist checks (sooner after a refusal naming a list)"),
    KEY("paths.mail_log", CONFIG_PATH, "/var/log/mail.log", mail_log,
        "Postfix's log (maillog_file); mailctld watches it for refusals naming a blocklist"),
    /* Certificates (lib/acme*.c). */
    KEY("paths.acme_webroot", CONFIG_PATH, "/var/lib/mailctl/acme", acme_webroot,
        "directory nginx serves /.well-known/acme-challenge/ from (HTTP-01 token files)"),
    KEY("acme.directory", CONFIG_STRING, "https://acme-v02.api.letsencrypt.org/directory",
        acme_directory, "ACME directory URL of the certificate authority"),
    /* The milter, mailctld (daemon/). */
    KEY("milter.socket", CONFIG_PATH, "/var/spool/postfix/mailctl/milter.sock", milter_socket,
        "UNIX socket mailctld listens on for Postfix; inside Postfix's queue directory, "
        "where its chrooted smtpd and cleanup reach it"),
    INTKEY("milter.dns_budget_ms", "8000", milter_dns_budget_ms, 200, 60000,
           "time all DNS lookups of one message may take before it is tempfailed (451)"),
    KEY("milter.dmarc_reject", CONFIG_BOOL, "true", milter_dmarc_reject,
        "reject (550 5.7.1) mail failing DMARC of a domain publishing p=reject"),
    KEY("milter.dmarc_quarantine", CONFIG_BOOL, "true", milter_dmarc_quarantine,
        "file mail failing DMARC of a domain publishing p=quarantine into Junk"),
    INTKEY("dkim.rotation_grace_days", "7", dkim_rotation_grace_days, 1, 365,
           "days a replaced DKIM selector stays published before it is retired"),
    /* The health report (lib/status*.c). */
    KEY("status.port25_probe", CONFIG_STRING, "portquiz.net:25", status_port25_probe,
        "HOST[:PORT] 'status' connects to, to see that outbound SMTP is not blocked; empty "
        "skips that check"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#define FIELD(cfg, k, type)  ((type *)(void *)((char *)(cfg) + (k)->offset))
#define CFIELD(cfg, k, type) ((const type *)(const void *)((const char *)(cfg) + (k)->offset))

static int is_string_type(enum config_type t)
{
	return t == CONFIG_STRING || t == CONFIG_PATH || t == CONFIG_HOST || t == CONFIG_ADDR ||
	       t == CONFIG_IPLIST || t == CONFIG_ENUM;
}

/* Why 's' is not acceptable text, or NULL when it is. */
static const char *text_problem(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	unsigned long c;

	while (i < n) {
		len = utf8_decode(p + i, n - i, &c);
		if (!len)
			return "is not valid UTF-8";
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return "contains a control character";
		i += len;
	}
	return NULL;
}

/* A DNS name: dot-separated labels of letters, digits and inner hyphens. */
static int valid_host(const char *s)
{
	size_t total = strlen(s), len;

	if (total == 0 || total > 253)
		return 0;
	while (*s) {
		len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
			return 0;
		s += len;
		if (*s == '\0')
			break;
		if (*s != '.' || s[1] == '\0')
			return 0;
		s++;
	}
	return 1;
}

/* local@host: deliberately loose on the local part, strict on the host. */
static int valid_addr(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i;

	if (!at || strchr(at + 1, '@') || at == s || at - s > 64)
		return 0;
	for (i = 0; s + i < at; i++) {
		if (isspace((unsigned char)s[i]))
			return 0;
	}
	return valid_host(at + 1);
}

static int parse_int(const struct config_key *k, const char *s, long long *out, struct strbuf *why)
{
	const char *p = s + (*s == '-' || *s == '+');
	char *end;
	long long v;

	if (*p == '\0' || strspn(p, "0123456789") != strlen(p)) {
		strbuf_addf(why, "expected an integer, got '%s'", s);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v < k->min || v > k->max) {
		strbuf_addf(why, "must be between %lld and %lld", k->min, k->max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out, struct strbuf *why)
{
	static const struct {
		const char *word;
		int value;
	} words[] = {{"true", 1}, {"yes", 1}, {"on", 1}, {"false", 0}, {"no", 0}, {"off", 0}};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcasecmp(s, words[i].word)) {
			*out = words[i].value;
			return 0;
		}
	}
	strbuf_addf(why, "expected true/false, yes/no or on/off, got '%s'", s);
	return -1;
}

static int parse_size(const char *s, long long *out, struct strbuf *why)
{
	struct mc_error err;

	if (size_parse(s, out, &err) < 0) {
		strbuf_addstr(why, err.msg);
		return -1;
	}
	return 0;
}

/* Characters a path may not hold: paths are rendered into SQL string
 * literals (Postfix maps, Dovecot queries) and Dovecot %-expansions. */
#define PATH_UNSAFE "'\"%\\ \t"

/* 1 when 's' is one of the '|'-separated words of 'choices'. */
static int in_choices(const char *choices, const char *s)
{
	size_t len = strlen(s);
	for (const char *c = choices; *c;) {
		size_t n = strcspn(c, "|");
		if (n == len && strncmp(c, s, n) == 0)
			return 1;
		c += n + (c[n] == '|');
	}
	return 0;
}

/* Every word of an address list must be an address of the key's family. */
static int check_iplist(const struct config_key *k, const char *s, struct strbuf *why)
{
	int family = strstr(k->name, "ipv6") ? AF_INET6 : AF_INET;
	unsigned char buf[16];
	char word[64];
	for (const char *p = s + strspn(s, ", "); *p; p += strspn(p, ", ")) {
		size_t n = strcspn(p, ", ");
		snprintf(word, sizeof(word), "%.*s", (int)(n < 63 ? n : 63), p);
		if (n > 63 || inet_pton(family, word, buf) != 1) {
			strbuf_addf(why, "invalid %s address '%s'",
			            family == AF_INET6 ? "IPv6" : "IPv4", word);
			return -1;
		}
		p += n;
	}
	return 0;
}

/* Check a value of a string type; empty means "not set" for hosts and
 * addresses. */
static int check_string(const struct config_key *k, const char *s, struct strbuf *why)
{
	if (k->type == CONFIG_PATH && s[0] != '/')
		strbuf_addstr(why, "must be an absolute path");
	else if (k->type == CONFIG_PATH && s[strcspn(s, PATH_UNSAFE)])
		strbuf_addf(why,
		            "path contains '%c', which generated SQL and Dovecot "
		            "configuration cannot quote safely",
		            s[strcspn(s, PATH_UNSAFE)]);
	else if (k->type == CONFIG_HOST && *s && !valid_host(s))
		strbuf_addf(why, "invalid host name '%s'", s);
	else if (k->type == CONFIG_ADDR && *s && !valid_addr(s))
		strbuf_addf(why, "invalid email address '%s'", s);
	else if (k->type == CONFIG_IPLIST)
		return check_iplist(k, s, why);
	else if (k->type == CONFIG_ENUM && !in_choices(k->choices, s))
		strbuf_addf(why, "expected one of %s, got '%s'", k->choices, s);
	else
		return 0;
	return -1;
}

/* Validate 'len' bytes at 's' as the value of 'k' and store it in 'cfg'. On
 * failure 'why' says what is wrong and 'cfg' is unchanged. */
static int key_set(const struct config_key *k, struct config *cfg, const char *s, size_t len,
                   struct strbuf *why)
{
	const char *problem = text_problem(s, len);

	if (problem) {
		strbuf_addstr(why, problem);
		return -1;
	}
	switch (k->type) {
	case CONFIG_INT:
		return parse_int(k, s, FIELD(cfg, k, long long), why);
	case CONFIG_SIZE:
		return parse_size(s, FIELD(cfg, k, long long), why);
	case CONFIG_BOOL:
		return parse_bool(s, FIELD(cfg, k, int), why);
	default:
		if (check_string(k, s, why) < 0)
			return -1;
		free(*FIELD(cfg, k, char *));
		*FIELD(cfg, k, char *) = xstrndup(s, len);
		return 0;
	}
}

const char *config_default_path(void)
{
	const char *env = getenv("MAILCTL_CONFIG");

	return env && *env ? env : MAILCTL_DEFAULT_CONFIG;
}

void config_init(struct config *cfg)
{
	struct strbuf why = STRBUF_INIT;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++) {
		/* A default that does not parse is a bug in the table above. */
		if (key_set(&keys[i], cfg, keys[i].def, strlen(keys[i].def), &why) < 0)
			abort();
	}
	strbuf_release(&why);
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (is_string_type(keys[i].type)) {
			free(*FIELD(cfg, &keys[i], char *));
			*FIELD(cfg, &keys[i], char *) = NULL;
		}
	}
	free(cfg->file);
	cfg->file = NULL;
}

/* State of one parse: the libyaml parser, where we are, what we have seen. */
struct loader {
	yaml_parser_t parser;
	const char *file;
	const char *text;
	size_t len;
	struct config *cfg;
	struct mc_error *err;
	unsigned char seen[NKEYS];
	unsigned char seen_section[NKEYS]; /* indexed by the section's first key */
};

/* Fail with "'FILE':LINE: key 'NAME': WHAT" ('name' may be NULL). */
__attribute__((format(printf, 4, 5))) static int fail_at(struct loader *ld, size_t line,
                                                         const char *name, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "'%s':%zu: ", ld->file, line);
	if (name)
		strbuf_addf(&sb, "key '%s': ", name);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	mc_fail(ld->err, MC_ECONFIG, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

static size_t event_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* Report a libyaml failure with the line it happened on. */
static int fail_syntax(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	size_t line = p->problem_mark.line + 1, i;

	if (p->error == YAML_MEMORY_ERROR)
		return mc_fail(ld->err, MC_EINTERNAL, "'%s': out of memory parsing YAML", ld->file);
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a mark. */
		for (line = 1, i = 0; i < p->problem_offset && i < ld->len; i++)
			line += ld->text[i] == '\n';
	}
	return fail_at(ld, line, NULL, "YAML syntax error: %s",
	               p->problem ? p->problem : "unknown problem");
}

static const char *event_anchor(const yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT)
		return (const char *)ev->data.scalar.anchor;
	if (ev->type == YAML_MAPPING_START_EVENT)
		return (const char *)ev->data.mapping_start.anchor;
	if (ev->type == YAML_SEQUENCE_START_EVENT)
		return (const char *)ev->data.sequence_start.anchor;
	return NULL;
}

/* The next event, refusing anchors and aliases: a flat file of settings has
 * no use for them, and rejecting them keeps "billion laughs" out. */
static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return fail_syntax(ld);
	if (ev->type == YAML_ALIAS_EVENT || event_anchor(ev)) {
		fail_at(ld, event_line(ev), NULL, "YAML %s are not supported",
		        ev->type == YAML_ALIAS_EVENT ? "aliases" : "anchors");
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* An empty plain scalar, "~" or "null": a section or document left empty. */
static int is_null(const yaml_event_t *ev)
{
	const char *s;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)ev->data.scalar.value;
	return *s == '\0' || !strcmp(s, "~") || !strcasecmp(s, "null");
}

static int find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!strcmp(keys[i].name, name))
			return (int)i;
	}
	return -1;
}

/* The index of the first key in section 'name', or -1 if no such section. */
static int find_section(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < NKEYS; i++) {
		if (!strncmp(keys[i].name, name, n) && keys[i].name[n] == '.')
			return (int)i;
	}
	return -1;
}

static int load_mapping(struct loader *ld, const char *section);

/* The value of a scalar key. */
static int load_scalar(struct loader *ld, int idx, size_t line)
{
	const struct config_key *k = &keys[idx];
	struct strbuf why = STRBUF_INIT;
	yaml_event_t ev;
	int rc = -1;

	if (ld->seen[idx])
		return fail_at(ld, line, k->name, "duplicate key");
	ld->seen[idx] = 1;
	if (next_event(ld, &ev) < 0)
		return -1;
	if (ev.type != YAML_SCALAR_EVENT)
		fail_at(ld, event_line(&ev), k->name, "expected a scalar value");
	else if (key_set(k, ld->cfg, (const char *)ev.data.scalar.value, ev.data.scalar.length,
	                 &why) < 0)
		fail_at(ld, event_line(&ev), k->name, "%s", why.buf);
	else
		rc = 0;
	strbuf_release(&why);
	yaml_event_delete(&ev);
	return rc;
}

/* The value of a section key: a nested mapping, or nothing at all. */
static int load_section(struct loader *ld, int idx, const char *name, size_t line)
{
	yaml_event_t ev;
	int rc = 0;

	if (ld->seen_section[idx])
		return fail_at(ld, line, name, "duplicate key");
	ld->seen_section[idx] = 1;
	if (next_event(ld, &ev) < 0)
		return -1;
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = load_mapping(ld, name);
	else if (!is_null(&ev))
		rc = fail_at(ld, event_line(&ev), name, "expected a mapping");
	yaml_event_delete(&ev);
	return rc;
}

/* One "key: value" pair of the mapping of 'section' (NULL: the top level). */
static int load_entry(struct loader *ld, const char *section, const yaml_event_t *key)
{
	const char *s = (const char *)key->data.scalar.value;
	const char *problem = text_problem(s, key->data.scalar.length);
	size_t line = event_line(key);
	char *name;
	int idx, rc;

	if (problem)
		return fail_at(ld, line, NULL, "key name %s", problem);
	name = section ? xasprintf("%s.%s", section, s) : xstrdup(s);
	if ((idx = find_key(name)) >= 0)
		rc = load_scalar(ld, idx, line);
	else if (!section && (idx = find_section(name)) >= 0)
		rc = load_section(ld, idx, name, line);
	else
		rc = fail_at(ld, line, name, "unknown key");
	free(name);
	return rc;
}

/* Entries up to the end of the current mapping. */
static int load_mapping(struct loader *ld, const char *section)
{
	yaml_event_t key;
	int rc;

	for (;;) {
		if (next_event(ld, &key) < 0)
			return -1;
		if (key.type == YAML_MAPPING_END_EVENT)
			rc = 1;
		else if (key.type != YAML_SCALAR_EVENT)
			rc = fail_at(ld, event_line(&key), NULL, "expected a scalar key");
		else
			rc = load_entry(ld, section, &key);
		yaml_event_delete(&key);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
}

/* The document's root node: a mapping, or nothing for a file of comments. */
static int load_root(struct loader *ld)
{
	yaml_event_t ev;
	int rc = 0;

	if (next_event(ld, &ev) < 0)
		return -1;
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = load_mapping(ld, NULL);
	else if (!is_null(&ev))
		rc = fail_at(ld, event_line(&ev), NULL,
		             "expected a mapping of keys at the top level");
	yaml_event_delete(&ev);
	return rc;
}

/* Skip an event of the expected kind (stream and document markers). */
static int skip_event(struct loader *ld, yaml_event_type_t *type)
{
	yaml_event_t ev;

	if (next_event(ld, &ev) < 0)
		return -1;
	*type = ev.type;
	yaml_event_delete(&ev);
	return 0;
}

/* Stream start, then either nothing or exactly one document. */
static int load_stream(struct loader *ld)
{
	yaml_event_t ev;
	yaml_event_type_t type;

	if (skip_event(ld, &type) < 0 || skip_event(ld, &type) < 0)
		return -1;
	if (type == YAML_STREAM_END_EVENT)
		return 0;
	if (load_root(ld) < 0 || skip_event(ld, &type) < 0)
		return -1;
	if (next_event(ld, &ev) < 0)
		return -1;
	type = ev.type;
	if (type != YAML_STREAM_END_EVENT)
		fail_at(ld, event_line(&ev), NULL, "only one YAML document is allowed");
	yaml_event_delete(&ev);
	return type == YAML_STREAM_END_EVENT ? 0 : -1;
}

static int parse_text(struct config *cfg, const char *file, const struct strbuf *text,
                      struct mc_error *err)
{
	struct loader ld;
	int rc;

	memset(&ld, 0, sizeof(ld));
	ld.file = file;
	ld.text = text->buf;
	ld.len = text->len;
	ld.cfg = cfg;
	ld.err = err;
	if (!yaml_parser_initialize(&ld.parser))
		return mc_fail(err, MC_EINTERNAL, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text->buf, text->len);
	rc = load_stream(&ld);
	yaml_parser_delete(&ld.parser);
	return rc;
}

/* Read 'path' into 'sb': 1 when read, 0 when absent and that is fine. */
static int read_file(const char *path, int must_exist, struct strbuf *sb, struct mc_error *err)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), e;

	if (fd < 0) {
		e = errno;
		if (e == ENOENT && !must_exist)
			return 0;
		return mc_fail(err, e == ENOENT ? MC_ECONFIG : MC_EIO, "cannot open '%s': %s", path,
		               mc_strerror(e));
	}
	for (;;) {
		strbuf_grow(sb, 8192);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		if (sb->len > CONFIG_MAX_BYTES)
			break;
	}
	e = errno;
	close(fd);
	if (n < 0)
		return mc_fail(err, MC_EIO, "cannot read '%s': %s", path, mc_strerror(e));
	if (sb->len > CONFIG_MAX_BYTES)
		return mc_fail(err, MC_ECONFIG, "'%s': file is larger than 1 MiB", path);
	return 1;
}

int config_load(struct config *cfg, const char *path, int must_exist, struct mc_error *err)
{
	struct strbuf text = STRBUF_INIT;
	struct config tmp;
	int rc;

	config_init(cfg);
	rc = read_file(path, must_exist, &text, err);
	if (rc <= 0) {
		strbuf_release(&text);
		return rc;
	}
	/* Parse into a copy so that a failure leaves 'cfg' at the defaults. */
	config_init(&tmp);
	rc = parse_text(&tmp, path, &text, err);
	strbuf_release(&text);
	if (rc < 0) {
		config_release(&tmp);
		return -1;
	}
	tmp.file = xstrdup(path);
	config_release(cfg);
	*cfg = tmp;
	return 0;
}

/* The value of 'k' in 'cfg', as it would be written in the file. */
static char *key_render(const struct config_key *k, const struct config *cfg)
{
	char buf[64];

	switch (k->type) {
	case CONFIG_INT:
		return xasprintf("%lld", *CFIELD(cfg, k, long long));
	case CONFIG_SIZE:
		size_format(*CFIELD(cfg, k, long long), buf, sizeof(buf));
		return xstrdup(buf);
	case CONFIG_BOOL:
		return xstrdup(*CFIELD(cfg, k, int) ? "true" : "false");
	default:
		return xstrdup(*CFIELD(cfg, k, char *));
	}
}

static int key_equal(const struct config_key *k, const struct config *a, const struct config *b)
{
	if (is_string_type(k->type))
		return !strcmp(*CFIELD(a, k, char *), *CFIELD(b, k, char *));
	if (k->type == CONFIG_BOOL)
		return !*CFIELD(a, k, int) == !*CFIELD(b, k, int);
	return *CFIELD(a, k, long long) == *CFIELD(b, k, long long);
}

void config_foreach(const struct config *cfg, void (*fn)(const struct config_item *item, void *ctx),
                    void *ctx)
{
	struct config def;
	struct config_item item;
	size_t i;

	config_init(&def);
	for (i = 0; i < NKEYS; i++) {
		item.name = keys[i].name;
		item.type = keys[i].type;
		item.doc = keys[i].doc;
		item.value = key_render(&keys[i], cfg);
		item.is_default = key_equal(&keys[i], cfg, &def);
		fn(&item, ctx);
		free(item.value);
	}
	config_release(&def);
}
