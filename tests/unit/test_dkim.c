/* Unit tests for DKIM keys: generation, key files, states, selectors,
 * records, and that a refused or failed request leaves nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dkim.h"
#include "domain.h"
#include "strbuf.h"
#include "xalloc.h"

#include "instance.h"

/* A domain without the key domain_add() would make. */
static void bare_domain(const char *name)
{
	struct mc_error err;
	long long id;
	assert_int_equal(store_begin(ctx.st, &err), 0);
	assert_int_equal(store_domain_insert(ctx.st, name, &id, &err), 0);
	assert_int_equal(store_commit(ctx.st, &err), 0);
}

static size_t count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t count_rows(const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *sql = xasprintf("SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open_v2(cfg.database, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	size_t n = (size_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(sql);
	return n;
}

static void run_sql(const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(cfg.database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static char *this_month(void)
{
	char buf[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "s%Y%m", &tm);
	return xstrdup(buf);
}

/* The key file is private, loads back with OpenSSL, and its public half
 * is exactly the record's p=. */
static void check_key_file(const struct dkim_row *k, int rsa_bits)
{
	struct stat sb;
	unsigned char raw[64], *der = NULL;
	size_t len = sizeof(raw);
	char b64[2048];
	assert_int_equal(lstat(k->key_file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	FILE *f = fopen(k->key_file, "r");
	assert_non_null(f);
	char first[64];
	assert_non_null(fgets(first, sizeof(first), f));
	assert_string_equal(first, "-----BEGIN PRIVATE KEY-----\n"); /* PKCS#8 */
	rewind(f);
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pkey);
	if (rsa_bits) {
		assert_true(EVP_PKEY_is_a(pkey, "RSA"));
		assert_int_equal(EVP_PKEY_get_bits(pkey), rsa_bits);
		int n = i2d_PUBKEY(pkey, &der);
		assert_true(n > 0);
		EVP_EncodeBlock((unsigned char *)b64, der, n);
		OPENSSL_free(der);
	} else {
		assert_true(EVP_PKEY_is_a(pkey, "ED25519"));
		assert_int_equal(EVP_PKEY_get_raw_public_key(pkey, raw, &len), 1);
		assert_int_equal(len, 32);
		EVP_EncodeBlock((unsigned char *)b64, raw, (int)len);
	}
	assert_string_equal(b64, k->public_key);
	EVP_PKEY_free(pkey);
}

static void test_keygen_rsa(void **state)
{
	struct dkim_row k;
	struct mc_error err;
	struct stat sb;
	(void)state;
	bare_domain("example.org");
	char *sel = this_month();
	assert_int_equal(dkim_keygen(&ctx, "Example.ORG", NULL, 0, NULL, &k, &err), 0);
	assert_string_equal(k.selector, sel);
	assert_string_equal(k.algorithm, "rsa");
	assert_int_equal(k.bits, 2048);
	assert_string_equal(k.state, "active");
	char *path = xasprintf("%s/%s._domainkey.example.org.pem", cfg.key_dir, sel);
	assert_string_equal(k.key_file, path);
	assert_int_equal(stat(cfg.key_dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	check_key_file(&k, 2048);
	char *value = dkim_record_value(k.algorithm, k.public_key);
	assert_int_equal(strncmp(value, "v=DKIM1; k=rsa; p=MII", 21), 0);
	dkim_row_release(&k);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "rsa", 3072, "Big.Key-1", &k, &err), 0);
	assert_string_equal(k.selector, "big.key-1");
	assert_string_equal(k.state, "published"); /* the first rsa key is still active */
	check_key_file(&k, 3072);
	dkim_row_release(&k);
	free(value);
	free(path);
	free(sel);
}

static void test_keygen_ed25519(void **state)
{
	struct dkim_row k;
	struct mc_error err;
	(void)state;
	bare_domain("example.org");
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, "ed", &k, &err), 0);
	assert_string_equal(k.algorithm, "ed25519");
	assert_int_equal(k.bits, 256);
	assert_string_equal(k.state, "active");
	assert_int_equal(strlen(k.public_key), 44); /* 32 raw bytes, RFC 8463 */
	check_key_file(&k, 0);
	char *value = dkim_record_value(k.algorithm, k.public_key);
	char *want = xasprintf("v=DKIM1; k=ed25519; p=%s", k.public_key);
	assert_string_equal(value, want);
	dkim_row_release(&k);
	/* an active key of the other algorithm does not count */
	assert_int_equal(dkim_keygen(&ctx, "example.org", "rsa", 0, NULL, &k, &err), 0);
	assert_string_equal(k.state, "active");
	dkim_row_release(&k);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 256, "ed2", &k, &err), 0);
	assert_string_equal(k.state, "published");
	dkim_row_release(&k);
	free(value);
	free(want);
}

static void test_selector_defaults_and_collisions(void **state)
{
	struct mc_error err;
	struct dkim_row k;
	char *sel;
	time_t may = 1936569600; /* 2031-05-15T00:00:00Z: no key made today collides */
	(void)state;
	bare_domain("example.org");
	bare_domain("example.net");
	assert_int_equal(dkim_selector_default(&ctx, "example.org", may, &sel, &err), 0);
	assert_string_equal(sel, "s203105");
	free(sel);
	char *month = this_month();
	const char *want[] = {"", "b", "c"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, NULL, &k, &err), 0);
		char *exp = xasprintf("%s%s", month, want[i]);
		assert_string_equal(k.selector, exp);
		free(exp);
		dkim_row_release(&k);
	}
	/* selectors are per domain */
	assert_int_equal(dkim_keygen(&ctx, "example.net", "ed25519", 0, NULL, &k, &err), 0);
	assert_string_equal(k.selector, month);
	dkim_row_release(&k);
	/* a to z all taken: the default gives up and says what to do */
	run_sql("INSERT INTO dkim_keys (domain_id, selector, algorithm, bits, public_key,"
	        " key_file, state)"
	        " SELECT 1, 's203105' || char(unicode('a') + n), 'rsa', 2048, 'x', 'f', 'retired'"
	        " FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c"
	        " WHERE n < 25) SELECT n FROM c);"
	        " UPDATE dkim_keys SET selector = 's203105' WHERE selector = 's203105a';");
	assert_int_equal(dkim_selector_default(&ctx, "example.org", may, &sel, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "--selector"));
	assert_null(sel);
	free(month);
}

static void test_selector_syntax(void **state)
{
	static const char *const bad[] = {
	    "",     ".",
	    "a..b", ".a",
	    "a.",   "-a",
	    "a-",   "a.-b",
	    "a_b",  "a b",
	    "a/b",  "s\n",
	    "sé",   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */,
	};
	static const char *const good[][2] = {
	    {"s1", "s1"},
	    {"S202611B", "s202611b"},
	    {"a.b-c.9", "a.b-c.9"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 63 */,
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};
	struct mc_error err;
	char *out;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dkim_selector_normalize(bad[i], &out, &err), -1);
		assert_int_equal(err.kind, MC_EDATA);
		assert_non_null(strstr(err.msg, "invalid selector '"));
		assert_null(out);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(dkim_selector_normalize(good[i][0], &out, &err), 0);
		assert_string_equal(out, good[i][1]);
		free(out);
	}
}

/* Every refusal happens before a file or a row exists. */
static void test_refusals_leave_nothing(void **state)
{
	static const struct {
		const char *domain, *alg;
		int bits;
		const char *sel;
		enum mc_errkind kind;
		const char *msg;
	} cases[] = {
	    {"example.org", "dsa", 0, NULL, MC_EDATA, "unknown DKIM algorithm 'dsa'"},
	    {"example.org", "ecdsa", 0, NULL, MC_EDATA, "unknown DKIM algorithm"},
	    {"example.org", "rsa", 1000, NULL, MC_EDATA, "unsupported rsa key size 1000"},
	    {"example.org", "rsa", 1024, NULL, MC_EDATA, "use 2048, 3072 or 4096"},
	    {"example.org", NULL, 8192, NULL, MC_EDATA, "unsupported rsa key size 8192"},
	    {"example.org", "ed25519", 2048, NULL, MC_EDATA, "always 256 bits"},
	    {"example.org", NULL, 0, "bad_sel", MC_EDATA, "invalid selector 'bad_sel'"},
	    {"example.org", NULL, 0, "taken", MC_EDATA, "already has a DKIM key with selector"},
	    {"example.org", NULL, 0, "TAKEN", MC_EDATA, "selector 'taken'"},
	    {"nowhere.example", NULL, 0, NULL, MC_ENODOMAIN, "domain 'nowhere.example' does"},
	    {"bad_domain", NULL, 0, NULL, MC_EDATA, "bad_domain"},
	};
	struct dkim_row k;
	struct mc_error err;
	(void)state;
	bare_domain("example.org");
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, "taken", &k, &err), 0);
	dkim_row_release(&k);
	size_t files = count_files(cfg.key_dir), rows = count_rows("dkim_keys");
	size_t audit = count_rows("audit_log");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dkim_keygen(&ctx, cases[i].domain, cases[i].alg, cases[i].bits,
		                             cases[i].sel, &k, &err),
		                 -1);
		assert_int_equal(err.kind, cases[i].kind);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].msg, err.msg);
		assert_int_equal(count_files(cfg.key_dir), files);
		assert_int_equal(count_rows("dkim_keys"), rows);
		assert_int_equal(count_rows("audit_log"), audit);
	}
	/* a selector that makes the record name too long for DNS */
	char *label = xasprintf(
	    "%.63s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	char *sel = xasprintf("%s.%s.%s.%s", label, label, label, label);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, sel, &k, &err), -1);
	assert_non_null(strstr(err.msg, "longer than 253 bytes"));
	assert_int_equal(count_files(cfg.key_dir), files);
	free(sel);
	free(label);
}

/* The file goes when the database does not take the row, and a file step
 * that fails leaves no row. */
static void test_failures_undo(void **state)
{
	struct dkim_row k;
	struct mc_error err;
	struct domain_added added;
	(void)state;
	bare_domain("example.org");
	/* the commit fails (a deferred foreign key): no file, no key_dir */
	run_sql("CREATE TABLE poison (x INTEGER REFERENCES domains(id)"
	        " DEFERRABLE INITIALLY DEFERRED);"
	        "CREATE TRIGGER poison_dkim AFTER INSERT ON audit_log"
	        " WHEN NEW.action = 'dkim.keygen'"
	        " BEGIN INSERT INTO poison VALUES (4242); END;");
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, NULL, &k, &err), -1);
	assert_non_null(strstr(err.msg, "FOREIGN KEY"));
	assert_int_equal(access(cfg.key_dir, F_OK), -1);
	assert_int_equal(count_rows("dkim_keys"), 0);
	/* domain add: the key file goes with the refused domain */
	assert_int_equal(domain_add(&ctx, "example.net", NULL, &added, &err), -1);
	assert_int_equal(access(cfg.key_dir, F_OK), -1);
	assert_int_equal(count_rows("domains"), 1);
	run_sql("DROP TRIGGER poison_dkim;");
	/* the file cannot be written: no row */
	FILE *f = fopen(cfg.key_dir, "w"); /* a file where the directory should be */
	assert_non_null(f);
	fclose(f);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, NULL, &k, &err), -1);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, "cannot create key file"));
	assert_int_equal(count_rows("dkim_keys"), 0);
	assert_int_equal(count_rows("audit_log"), 0);
	unlink(cfg.key_dir);
	/* a key file already there is never replaced */
	char *sel = this_month();
	char *path = xasprintf("%s/%s._domainkey.example.org.pem", cfg.key_dir, sel);
	assert_int_equal(mkdir(cfg.key_dir, 0700), 0);
	f = fopen(path, "w");
	fputs("someone's key\n", f);
	fclose(f);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, NULL, &k, &err), -1);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(count_files(cfg.key_dir), 1);
	assert_int_equal(count_rows("dkim_keys"), 0);
	free(path);
	free(sel);
}

static void test_domain_add_and_del(void **state)
{
	struct domain_added added;
	struct domain_deleted del;
	struct dkim_list l;
	struct mc_error err;
	(void)state;
	assert_int_equal(domain_add(&ctx, "example.org", NULL, &added, &err), 0);
	char *sel = this_month();
	assert_string_equal(added.dkim_selector, sel);
	domain_added_release(&added);
	assert_int_equal(dkim_list(&ctx, "example.org", &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].algorithm, "rsa");
	assert_int_equal(l.v[0].bits, 2048);
	assert_string_equal(l.v[0].state, "active");
	check_key_file(&l.v[0], 2048);
	char *file = xstrdup(l.v[0].key_file);
	dkim_list_release(&l);
	assert_int_equal(domain_del(&ctx, "example.org", 0, &del, &err), 0);
	assert_int_equal(del.dkim_keys, 1);
	domain_deleted_release(&del);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(count_rows("dkim_keys"), 0);
	assert_int_equal(dkim_list(&ctx, "example.org", &l, &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
	free(file);
	free(sel);
}

static void test_show(void **state)
{
	struct dkim_row k;
	struct mc_error err;
	(void)state;
	bare_domain("example.org");
	assert_int_equal(dkim_show(&ctx, "example.org", NULL, &k, &err), -1);
	assert_non_null(strstr(err.msg, "has no active DKIM key"));
	assert_int_equal(dkim_keygen(&ctx, "example.org", "ed25519", 0, "ed", &k, &err), 0);
	dkim_row_release(&k);
	assert_int_equal(dkim_show(&ctx, "example.org", NULL, &k, &err), 0);
	assert_string_equal(k.selector, "ed"); /* the only active key */
	dkim_row_release(&k);
	assert_int_equal(dkim_keygen(&ctx, "example.org", NULL, 0, "rsa1", &k, &err), 0);
	dkim_row_release(&k);
	assert_int_equal(dkim_show(&ctx, "example.org", NULL, &k, &err), 0);
	assert_string_equal(k.selector, "rsa1"); /* rsa first */
	dkim_row_release(&k);
	assert_int_equal(dkim_show(&ctx, "EXAMPLE.org", "ED", &k, &err), 0);
	assert_string_equal(k.algorithm, "ed25519");
	dkim_row_release(&k);
	assert_int_equal(dkim_show(&ctx, "example.org", "nope", &k, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "no DKIM key with selector 'nope'"));
	assert_int_equal(dkim_show(&ctx, "example.org", "no_pe", &k, &err), -1);
	assert_non_null(strstr(err.msg, "invalid selector"));
	assert_int_equal(dkim_show(&ctx, "nowhere.example", NULL, &k, &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
}

static void test_record_name_and_value(void **state)
{
	(void)state;
	char *name = dkim_record_name("s202611", "example.org");
	assert_string_equal(name, "s202611._domainkey.example.org");
	free(name);
	char *value = dkim_record_value("ed25519", "abc=");
	assert_string_equal(value, "v=DKIM1; k=ed25519; p=abc=");
	free(value);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, instance_setup, instance_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_keygen_rsa),
	    T(test_keygen_ed25519),
	    T(test_selector_defaults_and_collisions),
	    T(test_selector_syntax),
	    T(test_refusals_leave_nothing),
	    T(test_failures_undo),
	    T(test_domain_add_and_del),
	    T(test_show),
	    cmocka_unit_test(test_record_name_and_value),
	};
	return run_in_tmpdir(tests);
}
