/* Unit tests for lib/config.c: defaults, loading, every class of error. */
/* nftw() */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "xalloc.h"

static char tmpdir[256];
static char pathbuf[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write 'len' bytes to 'name' in the temporary directory; return its path. */
static const char *write_bytes(const char *name, const char *data, size_t len)
{
	FILE *f;

	snprintf(pathbuf, sizeof(pathbuf), "%s/%s", tmpdir, name);
	f = fopen(pathbuf, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return pathbuf;
}

static const char *write_yaml(const char *name, const char *text)
{
	return write_bytes(name, text, strlen(text));
}

/* Load 'text' and expect success. */
static void load_ok(struct config *cfg, const char *text)
{
	struct mc_error err = {0};
	const char *path = write_yaml("ok.yaml", text);

	if (config_load(cfg, path, 1, &err) != 0)
		fail_msg("config_load failed: %s", err.msg);
	assert_string_equal(cfg->file, path);
}

/* Check the defaults that every failed load must leave behind. */
static void assert_defaults(const struct config *cfg)
{
	assert_string_equal(cfg->hostname, "");
	assert_string_equal(cfg->admin_address, "");
	assert_string_equal(cfg->database, "/var/lib/mailctl/mailctl.db");
	assert_string_equal(cfg->key_dir, "/var/lib/mailctl/keys");
	assert_string_equal(cfg->mail_root, "/var/mail/vhosts");
	assert_string_equal(cfg->archive_root, "/var/mail/archive");
	assert_true(cfg->template_dir[0] == '/');
	assert_string_equal(cfg->postfix_dir, "/etc/postfix");
	assert_string_equal(cfg->dovecot_dir, "/etc/dovecot");
	assert_string_equal(cfg->nginx_dir, "/etc/nginx");
	assert_string_equal(cfg->control_socket, "/run/mailctl/mailctld.sock");
	assert_string_equal(cfg->log_file, "/var/log/mailctl/mailctl.log");
	assert_int_equal(cfg->vmail_uid, 5000);
	assert_int_equal(cfg->vmail_gid, 5000);
	assert_int_equal(cfg->default_quota, 2LL << 30);
	assert_int_equal(cfg->password_min_length, 12);
	assert_int_equal(cfg->argon2_time_cost, 3);
	assert_int_equal(cfg->argon2_memory_kib, 65536);
	assert_int_equal(cfg->argon2_parallelism, 1);
	assert_true(cfg->password_dictionary_check);
}

/*
 * Load 'text', expect MC_ECONFIG with "'FILE':LINE: key 'KEY': " (no key part
 * when 'key' is NULL) followed somewhere by 'what', and defaults left in cfg.
 */
static void load_fail(const char *text, int line, const char *key, const char *what)
{
	struct config cfg;
	struct mc_error err = {0};
	const char *path = write_yaml("bad.yaml", text);
	char want[1024];

	assert_int_equal(config_load(&cfg, path, 1, &err), -1);
	assert_int_equal(err.kind, MC_ECONFIG);
	if (key)
		snprintf(want, sizeof(want), "'%s':%d: key '%s': ", path, line, key);
	else
		snprintf(want, sizeof(want), "'%s':%d: ", path, line);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("message '%s' does not start with '%s'", err.msg, want);
	if (!strstr(err.msg + strlen(want), what))
		fail_msg("message '%s' does not contain '%s'", err.msg, what);
	assert_null(cfg.file);
	assert_defaults(&cfg);
	config_release(&cfg);
}

static void test_init_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_null(cfg.file);
	assert_defaults(&cfg);
	config_release(&cfg);
}

static void test_missing_file_optional(void **state)
{
	struct config cfg;
	struct mc_error err = {0};
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir);
	assert_int_equal(config_load(&cfg, path, 0, &err), 0);
	assert_null(cfg.file);
	assert_defaults(&cfg);
	config_release(&cfg);
}

static void test_missing_file_required(void **state)
{
	struct config cfg;
	struct mc_error err = {0};
	char path[512], want[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir);
	assert_int_equal(config_load(&cfg, path, 1, &err), -1);
	assert_int_equal(err.kind, MC_ECONFIG);
	snprintf(want, sizeof(want), "cannot open '%s': no such file or directory", path);
	assert_string_equal(err.msg, want);
	assert_null(cfg.file);
	assert_defaults(&cfg);
	config_release(&cfg);
}

/* An open error other than ENOENT is an I/O error even when optional. */
static void test_unreadable_is_io_error(void **state)
{
	struct config cfg;
	struct mc_error err = {0};
	char path[600];

	(void)state;
	/* ENOTDIR: a path through a regular file (EACCES cannot be provoked as root). */
	snprintf(path, sizeof(path), "%s/x", write_yaml("plain", "a"));
	assert_int_equal(config_load(&cfg, path, 0, &err), -1);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_non_null(strstr(err.msg, path));
	assert_defaults(&cfg);
	config_release(&cfg);

	/* A directory opens but cannot be read. */
	assert_int_equal(config_load(&cfg, tmpdir, 0, &err), -1);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, tmpdir));
	config_release(&cfg);
}

static void test_empty_and_comment_files(void **state)
{
	static const char *const texts[] = {"", "# nothing here\n\n   # at all\n", "---\n",
	                                    "--- ~\n", "paths:\n# all commented\n"};
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		load_ok(&cfg, texts[i]);
		assert_defaults(&cfg);
		config_release(&cfg);
	}
}

static const char full_yaml[] = "# mailctl configuration\n"
                                "hostname: mx1.example.org\n"
                                "admin_address: postmaster@example.org\n"
                                "paths:\n"
                                "  database: /srv/mc/db.sqlite\n"
                                "  key_dir: /srv/mc/keys\n"
                                "  mail_root: /srv/mail\n"
                                "  archive_root: /srv/archive\n"
                                "  template_dir: /srv/mc/templates\n"
                                "  postfix_dir: /srv/etc/postfix\n"
                                "  dovecot_dir: /srv/etc/dovecot\n"
                                "  nginx_dir: /srv/etc/nginx\n"
                                "  control_socket: /srv/run/mailctld.sock\n"
                                "  log_file: \"/srv/log/mailctl.log\"\n"
                                "mail:\n"
                                "  vmail_uid: 2000\n"
                                "  vmail_gid: 2001\n"
                                "  plaintext_ports: yes\n"
                                "accounts:\n"
                                "  default_quota: 500M\n"
                                "passwords:\n"
                                "  min_length: 16\n"
                                "  argon2_time_cost: 4\n"
                                "  argon2_memory_kib: 131072\n"
                                "  argon2_parallelism: 2\n"
                                "  dictionary_check: no\n"
                                "tls:\n"
                                "  cert_file: /srv/tls/chain.pem\n"
                                "  key_file: /srv/tls/key.pem\n";

static void test_full_file(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(&cfg, full_yaml);
	assert_string_equal(cfg.hostname, "mx1.example.org");
	assert_string_equal(cfg.admin_address, "postmaster@example.org");
	assert_string_equal(cfg.database, "/srv/mc/db.sqlite");
	assert_string_equal(cfg.key_dir, "/srv/mc/keys");
	assert_string_equal(cfg.mail_root, "/srv/mail");
	assert_string_equal(cfg.archive_root, "/srv/archive");
	assert_string_equal(cfg.template_dir, "/srv/mc/templates");
	assert_string_equal(cfg.postfix_dir, "/srv/etc/postfix");
	assert_string_equal(cfg.dovecot_dir, "/srv/etc/dovecot");
	assert_string_equal(cfg.nginx_dir, "/srv/etc/nginx");
	assert_string_equal(cfg.control_socket, "/srv/run/mailctld.sock");
	assert_string_equal(cfg.log_file, "/srv/log/mailctl.log");
	assert_int_equal(cfg.vmail_uid, 2000);
	assert_int_equal(cfg.vmail_gid, 2001);
	assert_int_equal(cfg.default_quota, 500LL << 20);
	assert_int_equal(cfg.password_min_length, 16);
	assert_int_equal(cfg.argon2_time_cost, 4);
	assert_int_equal(cfg.argon2_memory_kib, 131072);
	assert_int_equal(cfg.argon2_parallelism, 2);
	assert_false(cfg.password_dictionary_check);
	assert_true(cfg.plaintext_ports);
	assert_string_equal(cfg.tls_cert_file, "/srv/tls/chain.pem");
	assert_string_equal(cfg.tls_key_file, "/srv/tls/key.pem");
	config_release(&cfg);
}

/* Flow style is YAML too; keys not given keep their defaults. */
static void test_partial_flow_style(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(&cfg, "paths: {database: /tmp/x.db}\nmail: {vmail_uid: 1}\n");
	assert_string_equal(cfg.database, "/tmp/x.db");
	assert_int_equal(cfg.vmail_uid, 1);
	assert_int_equal(cfg.vmail_gid, 5000);
	assert_string_equal(cfg.key_dir, "/var/lib/mailctl/keys");
	config_release(&cfg);
}

static void test_unknown_key(void **state)
{
	(void)state;
	load_fail("hostname: a.example\nfrobnicate: 1\n", 2, "frobnicate", "unknown key");
	load_fail("paths:\n  database: /x\n  databse: /y\n", 3, "paths.databse", "unknown key");
	load_fail("# c\nsmtp:\n  port: 25\n", 2, "smtp", "unknown key");
	/* Sections are one level deep and their keys do not exist at the top. */
	load_fail("database: /x\n", 1, "database", "unknown key");
}

static void test_section_not_mapping(void **state)
{
	(void)state;
	load_fail("paths: /var/lib\n", 1, "paths", "expected a mapping");
	load_fail("\nmail:\n  - 1\n  - 2\n", 3, "mail", "expected a mapping");
	load_fail("passwords: \"\"\n", 1, "passwords", "expected a mapping");
}

static void test_scalar_given_collection(void **state)
{
	(void)state;
	load_fail("hostname:\n  name: x\n", 2, "hostname", "expected a scalar value");
	load_fail("paths:\n  database: [a, b]\n", 2, "paths.database", "expected a scalar value");
	load_fail("mail:\n  vmail_uid:\n    - 1\n", 3, "mail.vmail_uid", "expected a scalar value");
}

static void test_wrong_type(void **state)
{
	(void)state;
	load_fail("mail:\n  vmail_uid: abc\n", 2, "mail.vmail_uid",
	          "expected an integer, got 'abc'");
	load_fail("passwords:\n  min_length: 12.5\n", 2, "passwords.min_length",
	          "expected an integer, got '12.5'");
	load_fail("passwords:\n  min_length: ' 12'\n", 2, "passwords.min_length",
	          "expected an integer, got ' 12'");
	load_fail("passwords:\n  min_length:\n", 2, "passwords.min_length",
	          "expected an integer, got ''");
	load_fail("passwords:\n  dictionary_check: maybe\n", 2, "passwords.dictionary_check",
	          "got 'maybe'");
	load_fail("accounts:\n  default_quota: lots\n", 2, "accounts.default_quota", "lots");
	load_fail("accounts:\n  default_quota: -1G\n", 2, "accounts.default_quota", "-1G");
}

static void test_out_of_range(void **state)
{
	(void)state;
	load_fail("passwords:\n  min_length: 7\n", 2, "passwords.min_length",
	          "must be between 8 and 128");
	load_fail("passwords:\n  min_length: 129\n", 2, "passwords.min_length",
	          "must be between 8 and 128");
	load_fail("mail:\n  vmail_uid: 0\n", 2, "mail.vmail_uid",
	          "must be between 1 and 4294967294");
	load_fail("mail:\n  vmail_gid: 4294967295\n", 2, "mail.vmail_gid",
	          "must be between 1 and 4294967294");
	load_fail("mail:\n  vmail_gid: -5\n", 2, "mail.vmail_gid", "must be between");
	load_fail("passwords:\n  argon2_parallelism: 99999999999999999999999\n", 2,
	          "passwords.argon2_parallelism", "must be between 1 and 64");
	load_fail("passwords:\n  argon2_memory_kib: 4\n", 2, "passwords.argon2_memory_kib",
	          "must be between 8 and 4194304");
}

static void test_int_bounds_accepted(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(&cfg, "mail:\n  vmail_uid: 4294967294\n  vmail_gid: +1\n"
	              "passwords:\n  min_length: '008'\n  argon2_time_cost: 100\n");
	assert_int_equal(cfg.vmail_uid, 4294967294LL);
	assert_int_equal(cfg.vmail_gid, 1);
	assert_int_equal(cfg.password_min_length, 8);
	assert_int_equal(cfg.argon2_time_cost, 100);
	config_release(&cfg);
}

static void test_relative_path(void **state)
{
	(void)state;
	load_fail("paths:\n  mail_root: var/mail\n", 2, "paths.mail_root",
	          "must be an absolute path");
	load_fail("paths:\n  key_dir: ''\n", 2, "paths.key_dir", "must be an absolute path");
	load_fail("paths:\n  log_file: ~/log\n", 2, "paths.log_file", "must be an absolute path");
	load_fail("paths:\n  database: \"/x/o'brien.db\"\n", 2, "paths.database", "contains '''");
	load_fail("paths:\n  mail_root: /var/mail/%u\n", 2, "paths.mail_root", "contains '%'");
	load_fail("paths:\n  mail_root: \"/var/my mail\"\n", 2, "paths.mail_root", "contains ' '");
	load_fail("dns:\n  dmarc_policy: strict\n", 2, "dns.dmarc_policy",
	          "expected one of none|quarantine|reject, got 'strict'");
	load_fail("network:\n  ipv4: 192.0.2.1, 2001:db8::1\n", 2, "network.ipv4",
	          "invalid IPv4 address '2001:db8::1'");
	load_fail("network:\n  ipv6: 192.0.2.1\n", 2, "network.ipv6",
	          "invalid IPv6 address '192.0.2.1'");
	load_fail("dns:\n  ttl: 30\n", 2, "dns.ttl", "must be between 60 and 86400");
}

static void test_bad_hostname(void **state)
{
	static const char *const bad[] = {
	    "-mx.example.org", "mx-.example.org", "mx..example.org", "mx_1.example.org",
	    ".example.org",    "mx.example.org.", "mx example.org",  "mx.ex@mple.org",
	};
	char text[512], label[70];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "\nhostname: '%s'\n", bad[i]);
		load_fail(text, 2, "hostname", "invalid host name");
	}
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(text, sizeof(text), "hostname: %s.org\n", label);
	load_fail(text, 1, "hostname", "invalid host name");
	/* 4 * 64 labels of 63 = 255 characters, over the 253 limit. */
	memset(label, 'b', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), "hostname: %s.%s.%s.%s\n", label, label, label, label);
	load_fail(text, 1, "hostname", "invalid host name");
}

static void test_good_hostname_and_address(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(&cfg, "hostname: Mail-1.Example.ORG\nadmin_address: \"hostmaster+x@a.b\"\n");
	assert_string_equal(cfg.hostname, "Mail-1.Example.ORG");
	assert_string_equal(cfg.admin_address, "hostmaster+x@a.b");
	config_release(&cfg);
	load_ok(&cfg, "hostname: localhost\nadmin_address: ''\n");
	assert_string_equal(cfg.hostname, "localhost");
	assert_string_equal(cfg.admin_address, "");
	config_release(&cfg);
}

static void test_bad_address(void **state)
{
	static const char *const bad[] = {
	    "postmaster", "@example.org",    "a@b@example.org", "postmaster@",
	    "a@-bad.org", "a b@example.org", "a@example..org",
	};
	char text[512], local[70];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "hostname: mx.example.org\nadmin_address: '%s'\n",
		         bad[i]);
		load_fail(text, 2, "admin_address", "invalid email address");
	}
	memset(local, 'l', 65);
	local[65] = '\0';
	snprintf(text, sizeof(text), "admin_address: %s@example.org\n", local);
	load_fail(text, 1, "admin_address", "invalid email address");
}

static void test_control_characters(void **state)
{
	(void)state;
	load_fail("paths:\n  database: \"/var/db\\x01\"\n", 2, "paths.database",
	          "control character");
	load_fail("paths:\n  database: \"/var/db\\0x\"\n", 2, "paths.database",
	          "control character");
	load_fail("paths:\n  database: \"/var/\\tdb\"\n", 2, "paths.database", "control character");
	load_fail("paths:\n  database: \"/var/\\x85db\"\n", 2, "paths.database",
	          "control character");
	load_fail("paths:\n  database: |\n    /var/db\n", 2, "paths.database", "control character");
	load_fail("hostname: \"\\x7f\"\n", 1, "hostname", "control character");
	load_fail("\"host\\x01name\": x\n", 1, NULL, "key name contains a control character");
}

/* libyaml itself rejects invalid UTF-8; the line must still be right. */
static void test_invalid_utf8(void **state)
{
	static const char text[] = "hostname: mx.example.org\n# fine\npaths:\n  database: /v\xff\n";
	struct config cfg;
	struct mc_error err = {0};
	const char *path = write_bytes("utf8.yaml", text, sizeof(text) - 1);
	char want[600];

	(void)state;
	assert_int_equal(config_load(&cfg, path, 1, &err), -1);
	assert_int_equal(err.kind, MC_ECONFIG);
	snprintf(want, sizeof(want), "'%s':4: YAML syntax error: ", path);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_defaults(&cfg);
	config_release(&cfg);

	/* Non-ASCII UTF-8 is fine in a path. */
	load_ok(&cfg, "paths:\n  mail_root: /srv/m\xc3\xa4il\n");
	assert_string_equal(cfg.mail_root, "/srv/m\xc3\xa4il");
	config_release(&cfg);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	load_fail("hostname: a.example\nhostname: b.example\n", 2, "hostname", "duplicate key");
	load_fail("paths:\n  database: /a\n  database: /b\n", 3, "paths.database", "duplicate key");
	load_fail("paths:\n  database: /a\nmail:\n  vmail_uid: 1\npaths:\n  key_dir: /k\n", 5,
	          "paths", "duplicate key");
}

static void test_syntax_error(void **state)
{
	(void)state;
	load_fail("hostname: a.example\npaths:\n  database: /a\n key_dir: /b\n", 4, NULL,
	          "YAML syntax error: ");
	load_fail("hostname: \"unterminated\n", 2, NULL, "YAML syntax error: ");
	load_fail("paths:\n\tdatabase: /a\n", 2, NULL, "YAML syntax error: ");
}

static void test_top_level_not_mapping(void **state)
{
	(void)state;
	load_fail("- hostname\n- paths\n", 1, NULL, "mapping");
	load_fail("# just a word\nhello\n", 2, NULL, "mapping");
	load_fail("hostname: a.example\n---\nhostname: b.example\n", 2, NULL,
	          "only one YAML document");
	load_fail("[1]: x\n", 1, NULL, "expected a scalar key");
}

static void test_anchors_and_aliases(void **state)
{
	(void)state;
	load_fail("paths:\n  database: &db /a\n  key_dir: /b\n", 2, NULL, "anchors");
	load_fail("paths: &p\n  database: /a\n", 1, NULL, "anchors");
	load_fail("hostname: a.example\nadmin_address: *x\n", 2, NULL, "aliases");
	load_fail("hostname: &a\n", 1, NULL, "anchors");
}

static void test_file_too_large(void **state)
{
	size_t size = 1024 * 1024 + 2, i;
	char *text = xmalloc(size);
	struct config cfg;
	struct mc_error err = {0};
	const char *path;

	(void)state;
	for (i = 0; i < size; i++)
		text[i] = (i % 64 == 63) ? '\n' : '#';
	path = write_bytes("big.yaml", text, size);
	assert_int_equal(config_load(&cfg, path, 1, &err), -1);
	assert_int_equal(err.kind, MC_ECONFIG);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "larger than 1 MiB"));
	assert_defaults(&cfg);
	config_release(&cfg);

	/* Exactly 1 MiB of comments is still accepted. */
	text[1024 * 1024] = '\0';
	load_ok(&cfg, text);
	assert_defaults(&cfg);
	config_release(&cfg);
	free(text);
}

/* An error on a late line must not leave earlier values behind. */
static void test_failure_leaves_defaults(void **state)
{
	(void)state;
	load_fail("hostname: a.example\npaths:\n  database: /custom\nmail:\n  vmail_uid: x\n", 5,
	          "mail.vmail_uid", "expected an integer");
}

static void test_size_values(void **state)
{
	static const struct {
		const char *text;
		long long bytes;
	} cases[] = {
	    {"500M", 500LL << 20}, {"2G", 2LL << 30}, {"1T", 1LL << 40}, {"0", 0},
	    {"1024", 1024},        {"10K", 10240},
	};
	struct config cfg;
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "accounts:\n  default_quota: %s\n", cases[i].text);
		load_ok(&cfg, text);
		assert_int_equal(cfg.default_quota, cases[i].bytes);
		config_release(&cfg);
	}
}

static void test_bool_spellings(void **state)
{
	static const struct {
		const char *text;
		int value;
	} cases[] = {
	    {"true", 1}, {"True", 1}, {"TRUE", 1},  {"yes", 1},     {"Yes", 1},
	    {"on", 1},   {"ON", 1},   {"false", 0}, {"False", 0},   {"no", 0},
	    {"NO", 0},   {"off", 0},  {"'off'", 0}, {"\"yes\"", 1},
	};
	struct config cfg;
	char text[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "passwords:\n  dictionary_check: %s\n", cases[i].text);
		load_ok(&cfg, text);
		assert_int_equal(cfg.password_dictionary_check, cases[i].value);
		config_release(&cfg);
	}
	load_fail("passwords:\n  dictionary_check: 1\n", 2, "passwords.dictionary_check",
	          "expected true/false");
}

struct seen {
	int count;
	int defaults;
	char names[64][64];
	char values[64][128];
	int is_default[64];
};

static void collect(const struct config_item *item, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->count < 64);
	assert_non_null(item->doc);
	assert_true(strlen(item->doc) > 10);
	assert_null(strchr(item->doc, '\n'));
	snprintf(s->names[s->count], sizeof(s->names[0]), "%s", item->name);
	snprintf(s->values[s->count], sizeof(s->values[0]), "%s", item->value);
	s->is_default[s->count] = item->is_default;
	s->defaults += item->is_default;
	s->count++;
}

static int find_item(const struct seen *s, const char *name)
{
	int i;

	for (i = 0; i < s->count; i++) {
		if (!strcmp(s->names[i], name))
			return i;
	}
	fail_msg("config_foreach did not list '%s'", name);
	return -1;
}

static void test_foreach_defaults(void **state)
{
	static const char *const names[] = {
	    "hostname",
	    "admin_address",
	    "paths.database",
	    "paths.key_dir",
	    "paths.mail_root",
	    "paths.archive_root",
	    "paths.template_dir",
	    "paths.postfix_dir",
	    "paths.dovecot_dir",
	    "paths.nginx_dir",
	    "paths.control_socket",
	    "paths.log_file",
	    "mail.vmail_uid",
	    "mail.vmail_gid",
	    "accounts.default_quota",
	    "passwords.min_length",
	    "passwords.argon2_time_cost",
	    "passwords.argon2_memory_kib",
	    "passwords.argon2_parallelism",
	    "passwords.dictionary_check",
	    "network.ipv4",
	    "network.ipv6",
	    "dns.ttl",
	    "dns.dmarc_policy",
	    "dns.mta_sts_mode",
	    "dns.caa_issuer",
	    "tls.cert_file",
	    "tls.key_file",
	    "mail.plaintext_ports",
	    "mail.message_size_limit",
	    "dns.resolver",
	    "blacklist.zones_file",
	    "blacklist.interval_hours",
	    "paths.mail_log",
	    "paths.acme_webroot",
	    "acme.directory",
	    "milter.socket",
	    "milter.dns_budget_ms",
	    "milter.dmarc_reject",
	    "milter.dmarc_quarantine",
	    "dkim.rotation_grace_days",
	    "status.port25_probe",
	};
	struct seen s = {0};
	struct config cfg;
	size_t i;

	(void)state;
	config_init(&cfg);
	config_foreach(&cfg, collect, &s);
	assert_int_equal(s.count, sizeof(names) / sizeof(names[0]));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(s.names[i], names[i]);
	assert_int_equal(s.defaults, s.count);
	assert_string_equal(s.values[find_item(&s, "paths.database")],
	                    "/var/lib/mailctl/mailctl.db");
	assert_string_equal(s.values[find_item(&s, "mail.vmail_uid")], "5000");
	assert_string_equal(s.values[find_item(&s, "accounts.default_quota")], "2G");
	assert_string_equal(s.values[find_item(&s, "passwords.dictionary_check")], "true");
	assert_string_equal(s.values[find_item(&s, "hostname")], "");
	assert_string_equal(s.values[find_item(&s, "tls.key_file")],
	                    "/var/lib/mailctl/tls/key.pem");
	assert_string_equal(s.values[find_item(&s, "mail.plaintext_ports")], "false");
	config_release(&cfg);
}

static void test_foreach_changed(void **state)
{
	struct seen s = {0};
	struct config cfg;

	(void)state;
	/* vmail_gid is given but equal to the default, so it still is one. */
	load_ok(&cfg, "hostname: mx.example.org\nmail:\n  vmail_gid: 5000\n"
	              "accounts:\n  default_quota: 500M\npasswords:\n  dictionary_check: off\n"
	              "  min_length: 12\n");
	config_foreach(&cfg, collect, &s);
	assert_int_equal(s.count, 42);
	assert_int_equal(s.defaults, 39);
	assert_false(s.is_default[find_item(&s, "hostname")]);
	assert_string_equal(s.values[find_item(&s, "hostname")], "mx.example.org");
	assert_false(s.is_default[find_item(&s, "accounts.default_quota")]);
	assert_string_equal(s.values[find_item(&s, "accounts.default_quota")], "500M");
	assert_false(s.is_default[find_item(&s, "passwords.dictionary_check")]);
	assert_string_equal(s.values[find_item(&s, "passwords.dictionary_check")], "false");
	assert_true(s.is_default[find_item(&s, "mail.vmail_gid")]);
	assert_true(s.is_default[find_item(&s, "passwords.min_length")]);
	config_release(&cfg);
}

static void test_default_path_env(void **state)
{
	const char *old = getenv("MAILCTL_CONFIG");
	char *saved = old ? xstrdup(old) : NULL;

	(void)state;
	assert_int_equal(setenv("MAILCTL_CONFIG", "/tmp/other/mailctl.yaml", 1), 0);
	assert_string_equal(config_default_path(), "/tmp/other/mailctl.yaml");
	assert_int_equal(setenv("MAILCTL_CONFIG", "", 1), 0);
	assert_true(config_default_path()[0] == '/');
	assert_string_not_equal(config_default_path(), "");
	assert_int_equal(unsetenv("MAILCTL_CONFIG"), 0);
	assert_true(config_default_path()[0] == '/');
	assert_non_null(strstr(config_default_path(), "mailctl.yaml"));
	if (saved)
		assert_int_equal(setenv("MAILCTL_CONFIG", saved, 1), 0);
	free(saved);
}

/* A test instance points MAILCTL_CONFIG at its own file and loads it. */
static void test_load_default_path(void **state)
{
	const char *old = getenv("MAILCTL_CONFIG");
	char *saved = old ? xstrdup(old) : NULL;
	struct config cfg;
	struct mc_error err = {0};
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s", write_yaml("env.yaml", "hostname: env.example\n"));
	assert_int_equal(setenv("MAILCTL_CONFIG", path, 1), 0);
	assert_int_equal(config_load(&cfg, config_default_path(), 1, &err), 0);
	assert_string_equal(cfg.hostname, "env.example");
	assert_string_equal(cfg.file, path);
	config_release(&cfg);
	if (saved)
		assert_int_equal(setenv("MAILCTL_CONFIG", saved, 1), 0);
	else
		unsetenv("MAILCTL_CONFIG");
	free(saved);
}

static void test_release_twice(void **state)
{
	struct config cfg;

	(void)state;
	load_ok(&cfg, "hostname: a.example\n");
	config_release(&cfg);
	assert_null(cfg.file);
	assert_null(cfg.hostname);
	config_release(&cfg);
}

/* A NULL error buffer is allowed: the failure is still reported. */
static void test_null_error_buffer(void **state)
{
	struct config cfg;
	const char *path = write_yaml("nullerr.yaml", "nope: 1\n");

	(void)state;
	assert_int_equal(config_load(&cfg, path, 1, NULL), -1);
	assert_defaults(&cfg);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_defaults),
	    cmocka_unit_test(test_missing_file_optional),
	    cmocka_unit_test(test_missing_file_required),
	    cmocka_unit_test(test_unreadable_is_io_error),
	    cmocka_unit_test(test_empty_and_comment_files),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_partial_flow_style),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_section_not_mapping),
	    cmocka_unit_test(test_scalar_given_collection),
	    cmocka_unit_test(test_wrong_type),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_int_bounds_accepted),
	    cmocka_unit_test(test_relative_path),
	    cmocka_unit_test(test_bad_hostname),
	    cmocka_unit_test(test_good_hostname_and_address),
	    cmocka_unit_test(test_bad_address),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_top_level_not_mapping),
	    cmocka_unit_test(test_anchors_and_aliases),
	    cmocka_unit_test(test_file_too_large),
	    cmocka_unit_test(test_failure_leaves_defaults),
	    cmocka_unit_test(test_size_values),
	    cmocka_unit_test(test_bool_spellings),
	    cmocka_unit_test(test_foreach_defaults),
	    cmocka_unit_test(test_foreach_changed),
	    cmocka_unit_test(test_default_path_env),
	    cmocka_unit_test(test_load_default_path),
	    cmocka_unit_test(test_release_twice),
	    cmocka_unit_test(test_null_error_buffer),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
