/*
 * config - /etc/mailctl/mailctl.yaml, parsed with libyaml into a typed struct.
 *
 * Every key is one row of a single table (config.c: name, type, default,
 * doc, field), which drives parsing, defaults, validation and 'config show'.
 * Keys are nested one level in YAML ("paths:" then "database: ...") and are
 * named with dots ("paths.database") in messages and in 'config show'.
 *
 * Every path the programs use comes from here, so a test or a second
 * instance runs entirely under a temporary directory.
 *
 * Strings in struct config are owned by it and freed by config_release().
 * Errors (unknown key, wrong type, bad value, YAML syntax) name the file,
 * line and key:  '/etc/mailctl/mailctl.yaml':7: key 'paths.database': ...
 */
#ifndef MAILCTL_CONFIG_H
#define MAILCTL_CONFIG_H

#include "error.h"

enum config_type {
	CONFIG_STRING, /* any UTF-8 string without control characters */
	CONFIG_PATH,   /* an absolute path */
	CONFIG_HOST,   /* a domain name or empty (= derive from the machine) */
	CONFIG_ADDR,   /* an email address or empty */
	CONFIG_INT,    /* a decimal integer within [min, max] */
	CONFIG_SIZE,   /* bytes, with optional K/M/G/T suffix (powers of 1024) */
	CONFIG_BOOL,   /* true/false, yes/no, on/off */
	CONFIG_IPLIST, /* IP addresses separated by commas or spaces, or empty */
	CONFIG_ENUM,   /* one of the words listed in the key's row */
};

struct config {
	char *file; /* the file loaded, or NULL when only defaults apply */

	char *hostname;      /* mail host name; empty = from the machine */
	char *admin_address; /* postmaster/abuse target for new domains */

	char *database;       /* paths.database */
	char *key_dir;        /* paths.key_dir */
	char *mail_root;      /* paths.mail_root */
	char *archive_root;   /* paths.archive_root */
	char *template_dir;   /* paths.template_dir */
	char *postfix_dir;    /* paths.postfix_dir */
	char *dovecot_dir;    /* paths.dovecot_dir */
	char *nginx_dir;      /* paths.nginx_dir */
	char *control_socket; /* paths.control_socket */
	char *log_file;       /* paths.log_file */

	long long vmail_uid; /* mail.vmail_uid */
	long long vmail_gid; /* mail.vmail_gid */

	long long default_quota; /* accounts.default_quota, bytes, 0 = none */

	long long password_min_length; /* passwords.min_length */
	long long argon2_time_cost;    /* passwords.argon2_time_cost */
	long long argon2_memory_kib;   /* passwords.argon2_memory_kib */
	long long argon2_parallelism;  /* passwords.argon2_parallelism */
	int password_dictionary_check; /* passwords.dictionary_check */

	char *ipv4; /* network.ipv4: public IPv4 addresses; empty = detect */
	char *ipv6; /* network.ipv6 */

	long long dns_ttl;  /* dns.ttl */
	char *dmarc_policy; /* dns.dmarc_policy: none | quarantine | reject */
	char *mta_sts_mode; /* dns.mta_sts_mode: testing | enforce */
	char *caa_issuer;   /* dns.caa_issuer */

	char *tls_cert_file;          /* tls.cert_file */
	char *tls_key_file;           /* tls.key_file */
	int plaintext_ports;          /* mail.plaintext_ports: IMAP 143 and POP3 110 too */
	long long message_size_limit; /* mail.message_size_limit, bytes */

	char *dns_resolver; /* dns.resolver: "" = the first nameserver in /etc/resolv.conf */

	char *dnsbl_file; /* blacklist.zones_file: the DNSBL table (data/dnsbl.yaml) */
	long long blacklist_interval_hours; /* blacklist.interval_hours */
	char *mail_log;                     /* paths.mail_log */

	char *acme_webroot;   /* paths.acme_webroot */
	char *acme_directory; /* acme.directory */

	char *milter_socket;                /* milter.socket */
	long long milter_dns_budget_ms;     /* milter.dns_budget_ms */
	int milter_dmarc_reject;            /* milter.dmarc_reject */
	int milter_dmarc_quarantine;        /* milter.dmarc_quarantine */
	long long dkim_rotation_grace_days; /* dkim.rotation_grace_days */
	char *status_port25_probe;          /* status.port25_probe: HOST[:PORT] */
};

/* The path to use when none is given: $MAILCTL_CONFIG or the built-in one. */
const char *config_default_path(void);

/* Fill 'cfg' with every default. Never fails. */
void config_init(struct config *cfg);

/*
 * config_init() then overlay the file at 'path'. 'cfg' is taken as
 * uninitialised storage: release an earlier configuration first. When 'must_exist' is 0 and
 * the file does not exist, the defaults stand and 0 is returned with
 * cfg->file NULL. Returns -1 with MC_ECONFIG (or MC_EIO) on any error, in
 * which case 'cfg' still holds valid defaults and must be released.
 */
int config_load(struct config *cfg, const char *path, int must_exist, struct mc_error *err);

void config_release(struct config *cfg);

/* One row of the key table, as 'config show' and the docs see it. */
struct config_item {
	const char *name; /* "paths.database" */
	enum config_type type;
	const char *doc; /* one line */
	char *value;     /* the effective value, rendered; owned by caller */
	int is_default;  /* value equals the built-in default */
};

/* Call 'fn' for every key in table order. 'item->value' is freed after the
 * call returns. */
void config_foreach(const struct config *cfg, void (*fn)(const struct config_item *item, void *ctx),
                    void *ctx);

#endif
