/* Unit tests for DKIM key rotation (lib/dkim_rotate.c): the whole state
 * machine against a fake DNS - start, every way a record can fail to be
 * published, the switch, the grace period, removal, abort, dual-signing
 * domains, keys changed while DNS was asked - and that every refusal or
 * wait leaves the database and the key directory byte for byte as they
 * were. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dkim.h"
#include "dkim_rotate.h"
#include "strbuf.h"
#include "xalloc.h"

#include "fake_dns.h"
#include "instance.h"

#define DAY 86400

/* ---- a fake DNS: TXT answers by selector of example.org ---- */

static struct fake_dns dns = {.only = LDNS_RR_TYPE_TXT};
static void (*dns_hook)(void); /* runs inside a lookup */

static void dns_reset(void)
{
	fake_dns_release(&dns);
	dns_hook = NULL;
}

/* What DNS answers for SELECTOR._domainkey.example.org: 'status', or
 * TXT records (NULL-terminated) when it is DNSQ_ANSWER. */
static void dns_set(const char *selector, enum dnsq_status status, ...)
{
	va_list ap;
	char *name = xasprintf("%s._domainkey.example.org.", selector);
	fake_dns_set(&dns, name, LDNS_RR_TYPE_TXT, status);
	va_start(ap, status);
	for (const char *t; status == DNSQ_ANSWER && (t = va_arg(ap, const char *));)
		fake_dns_txt(&dns, name, t);
	va_end(ap);
	free(name);
}

static void fake_lookup(void *unused, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	(void)unused;
	if (dns_hook)
		dns_hook();
	fake_dns_lookup(&dns, name, type, out);
}

/* ---- the instance ---- */

static int setup(void **state)
{
	dns_reset();
	return instance_setup(state);
}

static int teardown(void **state)
{
	dns_reset();
	return instance_teardown(state);
}

/* A domain with an active key per algorithm given (NULL-terminated). */
static void domain_with_keys(const char *domain, ...)
{
	struct mc_error err;
	struct dkim_row k;
	long long id;
	va_list ap;
	assert_int_equal(store_begin(ctx.st, &err), 0);
	assert_int_equal(store_domain_insert(ctx.st, domain, &id, &err), 0);
	assert_int_equal(store_commit(ctx.st, &err), 0);
	va_start(ap, domain);
	for (const char *alg; (alg = va_arg(ap, const char *));) {
		assert_int_equal(dkim_keygen(&ctx, domain, alg, 0, NULL, &k, &err), 0);
		assert_string_equal(k.state, "active");
		dkim_row_release(&k);
	}
	va_end(ap);
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb);
}

/* The database file and the key directory (names and contents). */
static char *snapshot(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct dirent **names;
	struct stat st;
	assert_int_equal(stat(cfg.database, &st), 0);
	char *db = slurp(cfg.database);
	strbuf_addf(&sb, "db %lld:", (long long)st.st_size);
	strbuf_add(&sb, db, (size_t)st.st_size);
	free(db);
	int n = scandir(cfg.key_dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *path = xasprintf("%s/%s", cfg.key_dir, names[i]->d_name);
			char *pem = slurp(path);
			strbuf_addf(&sb, "\n%s\n%s", names[i]->d_name, pem);
			free(pem);
			free(path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return strbuf_detach(&sb);
}

static void assert_unchanged(char *before)
{
	char *after = snapshot();
	assert_true(strcmp(before, after) == 0);
	free(after);
	free(before);
}

/* The state of a key, "" when it has no row. */
static char *state_of(const char *selector)
{
	struct mc_error err;
	struct dkim_row k;
	int rc = store_dkim_get(ctx.st, "example.org", selector, &k, &err);
	assert_true(rc >= 0);
	char *s = xstrdup(rc ? k.state : "");
	dkim_row_release(&k);
	return s;
}

static void assert_state(const char *selector, const char *want)
{
	char *s = state_of(selector);
	assert_string_equal(s, want);
	free(s);
}

static long long rotate_audits(void)
{
	struct mc_error err;
	struct audit_list l;
	long long n = 0;
	assert_int_equal(store_audit_list(ctx.st, 1000, &l, &err), 0);
	for (size_t i = 0; i < l.n; i++)
		n += !strcmp(l.v[i].action, "dkim.rotate");
	audit_list_release(&l);
	return n;
}

static int step(time_t now, int may_start, struct dkim_rotate_report *r)
{
	struct mc_error err;
	int rc = dkim_rotate_step(&ctx, "example.org", now, fake_lookup, NULL, may_start, r, &err);
	if (rc < 0)
		print_message("step: %s\n", err.msg);
	return rc;
}

/* The report's key with 'role' (the first). */
static const struct dkim_rotate_key *key_in(const struct dkim_rotate_report *r,
                                            enum dkim_rotate_role role, const char *algorithm)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].role == role && !strcmp(r->v[i].row.algorithm, algorithm))
			return &r->v[i];
	fail_msg("no %s %s key in the report", dkim_rotate_role_name(role), algorithm);
	return NULL;
}

/* Start a rotation of the rsa key; '*old' and '*new' get the selectors,
 * '*value' the new record. */
static void start(time_t now, char **old, char **new, char **value)
{
	struct dkim_rotate_report r;
	int asked = dns.asked;
	assert_int_equal(step(now, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_STARTED);
	assert_int_equal(dns.asked, asked);
	const struct dkim_rotate_key *n = key_in(&r, DKIM_ROLE_NEW, "rsa");
	const struct dkim_rotate_key *o = key_in(&r, DKIM_ROLE_OLD, "rsa");
	assert_int_equal(n->change, DKIM_CHANGE_MADE);
	assert_string_equal(n->row.state, "published");
	assert_int_equal(n->row.bits, o->row.bits);
	assert_int_equal(o->change, DKIM_CHANGE_NONE);
	assert_int_equal(access(n->row.key_file, R_OK), 0);
	*old = xstrdup(o->row.selector);
	*new = xstrdup(n->row.selector);
	*value = dkim_record_value("rsa", n->row.public_key);
	dkim_rotate_report_release(&r);
}

/* A step that must wait, with the new key's DNS verdict 'want' and a
 * detail containing 'says'; nothing may change. */
static void waits(time_t now, enum dkim_rotate_dns want, const char *says)
{
	struct dkim_rotate_report r;
	char *before = snapshot();
	int asked = dns.asked;
	assert_int_equal(step(now, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_WAITING);
	assert_int_equal(dns.asked, asked + 1);
	const struct dkim_rotate_key *n = key_in(&r, DKIM_ROLE_NEW, "rsa");
	assert_int_equal(n->dns, want);
	assert_non_null(n->dns_detail);
	if (!strstr(n->dns_detail, says))
		fail_msg("detail '%s' does not say '%s'", n->dns_detail, says);
	assert_int_equal(n->change, DKIM_CHANGE_NONE);
	dkim_rotate_report_release(&r);
	assert_unchanged(before);
}

/* ---- tests ---- */

static void test_time(void **state)
{
	time_t t;
	char buf[DKIM_TIME_LEN];
	(void)state;
	assert_int_equal(dkim_time_parse("2026-11-23T10:20:30Z", &t), 0);
	assert_int_equal((long long)t, 1795429230LL);
	dkim_time_format(t, buf);
	assert_string_equal(buf, "2026-11-23T10:20:30Z");
	assert_int_equal(dkim_time_parse("@0", &t), 0);
	assert_int_equal((long long)t, 0);
	assert_int_equal(dkim_time_parse("@1795429230", &t), 0);
	assert_int_equal((long long)t, 1795429230LL);
	static const char *const bad[] = {
	    "",
	    "@",
	    "@-1",
	    "@1x",
	    "@ 1",
	    "@99999999999999999999",
	    "2026-02-30T00:00:00Z",
	    "2026-11-23 10:20:30Z",
	    "2026-11-23T10:20:30",
	    " 2026-11-23T10:20:30Z",
	    "2026-11-23T10:20:30Z ",
	    "2026-1-23T10:20:30Z",
	    "yesterday",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dkim_time_parse(bad[i], &t) == 0)
			fail_msg("'%s' parsed", bad[i]);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dkim_rotate_action_name(DKIM_ROTATE_STARTED), "started");
	assert_string_equal(dkim_rotate_action_name(DKIM_ROTATE_ABORTED), "aborted");
	assert_string_equal(dkim_rotate_change_name(DKIM_CHANGE_REMOVED), "removed");
	assert_string_equal(dkim_rotate_dns_name(DKIM_DNS_PUBLISHED), "published");
	assert_string_equal(dkim_rotate_dns_name(DKIM_DNS_UNASKED), "");
	assert_string_equal(dkim_rotate_role_name(DKIM_ROLE_RETIRED), "retired");
}

/* The whole cycle, and every way of not being published on the way. */
static void test_cycle(void **state)
{
	struct dkim_rotate_report r;
	char *old, *new, *value, *keyfile;
	time_t t0 = time(NULL);
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	start(t0, &old, &new, &value);
	assert_int_equal(rotate_audits(), 1);
	assert_state(old, "active");
	assert_state(new, "published");

	/* not published, in every way: nothing changes */
	waits(t0, DKIM_DNS_MISSING, "does not exist");
	dns_set(new, DNSQ_NODATA);
	waits(t0, DKIM_DNS_MISSING, "no TXT record");
	dns_set(new, DNSQ_ANSWER, "v=spf1 -all", NULL);
	waits(t0, DKIM_DNS_MISSING, "no DKIM record among the 1 TXT");
	dns_set(new, DNSQ_SERVFAIL);
	waits(t0, DKIM_DNS_FAILED, "servfail");
	dns_set(new, DNSQ_TIMEOUT);
	waits(t0, DKIM_DNS_FAILED, "timeout");
	dns_set(new, DNSQ_PENDING);
	waits(t0, DKIM_DNS_PENDING, "no answer yet");
	/* the old key's record copied to the new selector */
	struct dkim_row ok;
	struct mc_error e;
	assert_int_equal(store_dkim_get(ctx.st, "example.org", old, &ok, &e), 1);
	char *old_value = dkim_record_value("rsa", ok.public_key);
	dkim_row_release(&ok);
	dns_set(new, DNSQ_ANSWER, old_value, NULL);
	free(old_value);
	waits(t0, DKIM_DNS_DIFFERENT, "p= is not the new key");
	waits(t0, DKIM_DNS_DIFFERENT, "p= is not the new key");
	dns_set(new, DNSQ_ANSWER, "v=DKIM1; k=rsa; p=", NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "revoked");
	dns_set(new, DNSQ_ANSWER, "v=DKIM1; k=rsa", NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "verifiers cannot use the record: no p=");
	char *edited = xstrdup(value);
	memcpy(strstr(edited, "k=rsa"), "k=ed", 4); /* "k=eda": unknown */
	dns_set(new, DNSQ_ANSWER, edited, NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "unknown key type");
	free(edited);
	edited = xasprintf("v=DKIM1; h=sha1; %s", value + strlen("v=DKIM1; "));
	dns_set(new, DNSQ_ANSWER, edited, NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "h= does not allow sha256");
	free(edited);
	edited = xasprintf("v=DKIM1; s=other; %s", value + strlen("v=DKIM1; "));
	dns_set(new, DNSQ_ANSWER, edited, NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "s= does not allow email");
	free(edited);
	edited = xasprintf("%.*s!%s", (int)(strstr(value, "p=") - value + 10), value,
	                   strstr(value, "p=") + 11);
	dns_set(new, DNSQ_ANSWER, edited, NULL);
	waits(t0, DKIM_DNS_DIFFERENT, "not base64");
	free(edited);
	dns_set(new, DNSQ_ANSWER, value, value, NULL);
	waits(t0, DKIM_DNS_SEVERAL, "2 DKIM records");

	/* published, written another way (no v=, k= left to its default,
	 * blanks inside p=, beside an unrelated TXT record): the switch */
	char *p = strstr(value, "p=");
	struct strbuf other = STRBUF_INIT;
	strbuf_addf(&other, "h=sha256; %.30s %s", p, p + 30);
	dns_set(new, DNSQ_ANSWER, "some-verification=abc", other.buf, NULL);
	strbuf_release(&other);
	time_t t1 = t0 + 3600;
	assert_int_equal(step(t1, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_SWITCHED);
	const struct dkim_rotate_key *n = key_in(&r, DKIM_ROLE_NEW, "rsa");
	const struct dkim_rotate_key *o = key_in(&r, DKIM_ROLE_OLD, "rsa");
	assert_int_equal(n->dns, DKIM_DNS_PUBLISHED);
	assert_int_equal(n->nfound, 2);
	assert_int_equal(n->change, DKIM_CHANGE_ACTIVATED);
	assert_string_equal(n->row.state, "active");
	assert_int_equal(o->change, DKIM_CHANGE_RETIRED);
	assert_string_equal(o->row.state, "retired");
	assert_int_equal(o->retired, t1);
	assert_int_equal(o->remove_after, t1 + 7 * DAY);
	keyfile = xstrdup(o->row.key_file);
	dkim_rotate_report_release(&r);
	assert_state(new, "active");
	assert_state(old, "retired");
	assert_int_equal(rotate_audits(), 2);
	struct dkim_row k;
	struct mc_error err;
	char at[DKIM_TIME_LEN];
	dkim_time_format(t1, at);
	assert_int_equal(store_dkim_get(ctx.st, "example.org", old, &k, &err), 1);
	assert_string_equal(k.retired, at);
	dkim_row_release(&k);

	/* within the grace period: nothing to do, DNS not asked */
	int asked = dns.asked;
	for (time_t t = t1 + 1; t < t1 + 7 * DAY; t += 3 * DAY - 1) {
		char *before = snapshot();
		assert_int_equal(step(t, 1, &r), 0);
		assert_int_equal(r.action, DKIM_ROTATE_GRACE);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.v[0].role, DKIM_ROLE_RETIRED);
		assert_int_equal(r.v[0].remove_after, t1 + 7 * DAY);
		dkim_rotate_report_release(&r);
		assert_unchanged(before);
	}
	assert_int_equal(step(t1 + 7 * DAY - 1, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_GRACE);
	dkim_rotate_report_release(&r);
	assert_int_equal(dns.asked, asked);

	/* the grace period is over: row and file go */
	assert_int_equal(access(keyfile, F_OK), 0);
	assert_int_equal(step(t1 + 7 * DAY, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_REMOVED);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].change, DKIM_CHANGE_REMOVED);
	assert_string_equal(r.v[0].row.selector, old);
	dkim_rotate_report_release(&r);
	assert_state(old, "");
	assert_state(new, "active");
	assert_int_equal(access(keyfile, F_OK), -1);
	assert_int_equal(rotate_audits(), 3);

	/* done: the daemon's step changes nothing, the next start begins anew */
	char *before = snapshot();
	assert_int_equal(step(t1 + 8 * DAY, 0, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_IDLE);
	assert_int_equal(r.n, 0);
	dkim_rotate_report_release(&r);
	assert_unchanged(before);
	char *old2, *new2, *value2;
	start(t1 + 8 * DAY, &old2, &new2, &value2);
	assert_string_equal(old2, new);
	assert_string_not_equal(new2, new);
	free(old2);
	free(new2);
	free(value2);
	free(keyfile);
	free(old);
	free(new);
	free(value);
}

/* A domain that signs with rsa and ed25519 rotates both, and switches
 * only when both records are published. */
static void test_dual(void **state)
{
	struct dkim_rotate_report r;
	time_t t0 = time(NULL);
	(void)state;
	domain_with_keys("example.org", "rsa", "ed25519", NULL);
	assert_int_equal(step(t0, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_STARTED);
	assert_int_equal(r.n, 4);
	char *rsa = xstrdup(key_in(&r, DKIM_ROLE_NEW, "rsa")->row.selector);
	char *ed = xstrdup(key_in(&r, DKIM_ROLE_NEW, "ed25519")->row.selector);
	char *rsa_v = dkim_record_value("rsa", key_in(&r, DKIM_ROLE_NEW, "rsa")->row.public_key);
	char *ed_v =
	    dkim_record_value("ed25519", key_in(&r, DKIM_ROLE_NEW, "ed25519")->row.public_key);
	char *ed_old = xstrdup(key_in(&r, DKIM_ROLE_OLD, "ed25519")->row.selector);
	assert_int_equal(key_in(&r, DKIM_ROLE_NEW, "ed25519")->row.bits, 256);
	assert_string_not_equal(rsa, ed);
	dkim_rotate_report_release(&r);

	dns_set(rsa, DNSQ_ANSWER, rsa_v, NULL);
	char *before = snapshot();
	assert_int_equal(step(t0, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_WAITING);
	assert_int_equal(key_in(&r, DKIM_ROLE_NEW, "rsa")->dns, DKIM_DNS_PUBLISHED);
	assert_int_equal(key_in(&r, DKIM_ROLE_NEW, "ed25519")->dns, DKIM_DNS_MISSING);
	dkim_rotate_report_release(&r);
	assert_unchanged(before);

	/* the rsa record where the ed25519 one belongs: k= and p= differ */
	dns_set(ed, DNSQ_ANSWER, rsa_v, NULL);
	assert_int_equal(step(t0, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_WAITING);
	assert_int_equal(key_in(&r, DKIM_ROLE_NEW, "ed25519")->dns, DKIM_DNS_DIFFERENT);
	assert_non_null(strstr(key_in(&r, DKIM_ROLE_NEW, "ed25519")->dns_detail,
	                       "the record says k=rsa, the new key is ed25519"));
	dkim_rotate_report_release(&r);

	dns_set(ed, DNSQ_ANSWER, ed_v, NULL);
	assert_int_equal(step(t0, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_SWITCHED);
	assert_int_equal(r.n, 4);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(r.v[i].change, r.v[i].role == DKIM_ROLE_NEW ? DKIM_CHANGE_ACTIVATED
		                                                             : DKIM_CHANGE_RETIRED);
	dkim_rotate_report_release(&r);
	assert_state(rsa, "active");
	assert_state(ed, "active");
	assert_state(ed_old, "retired");

	assert_int_equal(step(t0 + 7 * DAY, 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_REMOVED);
	assert_int_equal(r.n, 2);
	dkim_rotate_report_release(&r);
	assert_state(ed_old, "");
	free(rsa);
	free(ed);
	free(rsa_v);
	free(ed_v);
	free(ed_old);
}

static void test_abort(void **state)
{
	struct dkim_rotate_report r;
	struct mc_error err;
	char *old, *new, *value;
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	char *before = snapshot();
	assert_int_equal(dkim_rotate_abort(&ctx, "example.org", &r, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "no DKIM key rotation pending"));
	assert_unchanged(before);

	start(time(NULL), &old, &new, &value);
	struct dkim_row k;
	assert_int_equal(store_dkim_get(ctx.st, "example.org", new, &k, &err), 1);
	assert_int_equal(dkim_rotate_abort(&ctx, "EXAMPLE.org", &r, &err), 0);
	assert_int_equal(r.action, DKIM_ROTATE_ABORTED);
	assert_int_equal(key_in(&r, DKIM_ROLE_NEW, "rsa")->change, DKIM_CHANGE_REMOVED);
	assert_int_equal(key_in(&r, DKIM_ROLE_OLD, "rsa")->change, DKIM_CHANGE_NONE);
	dkim_rotate_report_release(&r);
	assert_int_equal(access(k.key_file, F_OK), -1);
	dkim_row_release(&k);
	assert_state(new, "");
	assert_state(old, "active");
	assert_int_equal(rotate_audits(), 2);
	/* and a rotation can start again */
	free(old);
	free(new);
	free(value);
	start(time(NULL), &old, &new, &value);
	free(old);
	free(new);
	free(value);
}

/* A key made with 'dkim keygen' beside the active one is a pending
 * rotation: the newest published key of the algorithm is the one asked. */
static void test_keygen_key_is_pending(void **state)
{
	struct dkim_rotate_report r;
	struct dkim_row k;
	struct mc_error err;
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "rsa", 0, "first", &k, &err), 0);
	dkim_row_release(&k);
	assert_int_equal(dkim_keygen(&ctx, "example.org", "rsa", 0, "second", &k, &err), 0);
	char *v = dkim_record_value("rsa", k.public_key);
	dkim_row_release(&k);
	dns_set("second", DNSQ_ANSWER, v, NULL);
	free(v);
	assert_int_equal(step(time(NULL), 1, &r), 0);
	assert_int_equal(r.action, DKIM_ROTATE_SWITCHED);
	assert_string_equal(key_in(&r, DKIM_ROLE_NEW, "rsa")->row.selector, "second");
	dkim_rotate_report_release(&r);
	assert_int_equal(dns.asked, 1);
	assert_state("second", "active");
	assert_state("first", "published");
	/* 'first' is still published, so still a pending rotation: abort ends it */
	assert_int_equal(dkim_rotate_abort(&ctx, "example.org", &r, &err), 0);
	assert_int_equal(r.n, 2);
	dkim_rotate_report_release(&r);
	assert_state("first", "");
}

/* The keys change between the DNS answer and the switch: nothing is
 * switched, and the caller is told to run again. */
static void retire_behind_our_back(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(cfg.database, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "UPDATE dkim_keys SET state = 'retired', retired = "
	                              "'2026-01-01T00:00:00Z' WHERE state = 'published'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
}

static void test_changed_meanwhile(void **state)
{
	struct dkim_rotate_report r;
	struct mc_error err;
	char *old, *new, *value;
	time_t t0 = time(NULL);
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	start(t0, &old, &new, &value);
	dns_set(new, DNSQ_ANSWER, value, NULL);
	dns_hook = retire_behind_our_back;
	long long audits = rotate_audits();
	assert_int_equal(dkim_rotate_step(&ctx, "example.org", t0, fake_lookup, NULL, 1, &r, &err),
	                 -1);
	assert_int_equal(err.kind, MC_ETEMP);
	assert_non_null(strstr(err.msg, "changed meanwhile: run the rotation again"));
	assert_int_equal(r.n, 0);
	assert_state(old, "active");
	assert_int_equal(rotate_audits(), audits);
	free(old);
	free(new);
	free(value);
}

static void test_refusals(void **state)
{
	struct dkim_rotate_report r;
	struct mc_error err;
	long long id;
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	char *before = snapshot();
	assert_int_equal(
	    dkim_rotate_step(&ctx, "nowhere.example", time(NULL), fake_lookup, NULL, 1, &r, &err),
	    -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
	assert_int_equal(dkim_rotate_abort(&ctx, "nowhere.example", &r, &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
	assert_int_equal(
	    dkim_rotate_step(&ctx, "bad..name", time(NULL), fake_lookup, NULL, 1, &r, &err), -1);
	assert_unchanged(before);

	/* a domain without keys: nothing to rotate */
	assert_int_equal(store_begin(ctx.st, &err), 0);
	assert_int_equal(store_domain_insert(ctx.st, "keyless.example", &id, &err), 0);
	assert_int_equal(store_commit(ctx.st, &err), 0);
	before = snapshot();
	assert_int_equal(
	    dkim_rotate_step(&ctx, "keyless.example", time(NULL), fake_lookup, NULL, 1, &r, &err),
	    -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "no active DKIM key"));
	/* ... which the daemon's step just leaves alone */
	assert_int_equal(
	    dkim_rotate_step(&ctx, "keyless.example", time(NULL), fake_lookup, NULL, 0, &r, &err),
	    0);
	assert_int_equal(r.action, DKIM_ROTATE_IDLE);
	dkim_rotate_report_release(&r);
	assert_unchanged(before);
	assert_int_equal(dns.asked, 0);
}

/* Key generation that cannot write its file (one is in the way) leaves
 * no row behind. */
static void test_start_fails_cleanly(void **state)
{
	struct dkim_rotate_report r;
	struct mc_error err;
	char *sel = NULL;
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	assert_int_equal(dkim_selector_default(&ctx, "example.org", time(NULL), &sel, &err), 0);
	char *path = xasprintf("%s/%s._domainkey.example.org.pem", cfg.key_dir, sel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("in the way\n", f);
	fclose(f);
	char *before = snapshot();
	assert_int_equal(
	    dkim_rotate_step(&ctx, "example.org", time(NULL), fake_lookup, NULL, 1, &r, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_unchanged(before);
	assert_int_equal(rotate_audits(), 0);
	free(path);
	free(sel);
}

/* A database of schema 2 (before rotation) moves to 3: retired keys get
 * a retirement time, the others none. */
/* sqlite3_exec callback: add "DROP TABLE <the row's name>;" to '*arg'. */
static int drop_table(void *arg, int n, char **v, char **names)
{
	char **sql = arg;
	(void)n;
	(void)names;
	char *more = sqlite3_mprintf("%sDROP TABLE \"%w\";", *sql ? *sql : "", v[0]);
	sqlite3_free(*sql);
	*sql = more;
	return 0;
}

static void test_migration(void **state)
{
	struct mc_error err;
	struct dkim_list l;
	int from, to;
	(void)state;
	domain_with_keys("example.org", "rsa", NULL);
	struct dkim_row k;
	assert_int_equal(dkim_keygen(&ctx, "example.org", "rsa", 0, "old", &k, &err), 0);
	dkim_row_release(&k);
	store_close(ctx.st);
	ctx.st = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(cfg.database, &db), SQLITE_OK);
	/* Back to schema 2: the tables later migrations add go too. */
	char *drops = NULL;
	assert_int_equal(sqlite3_exec(db,
	                              "SELECT name FROM sqlite_master WHERE type = 'table' AND name"
	                              " NOT IN ('domains', 'users', 'aliases', 'alias_targets',"
	                              " 'audit_log', 'dkim_keys')",
	                              drop_table, &drops, NULL),
	                 SQLITE_OK);
	if (drops)
		assert_int_equal(sqlite3_exec(db, drops, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(drops);
	assert_int_equal(
	    sqlite3_exec(db,
	                 "ALTER TABLE dkim_keys DROP COLUMN retired;"
	                 "UPDATE dkim_keys SET state = 'retired' WHERE selector = 'old';"
	                 "PRAGMA user_version = 2",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_init(cfg.database, &from, &to, &err), 0);
	assert_int_equal(from, 2);
	assert_int_equal(to, store_schema_latest());
	assert_int_equal(store_open(&ctx.st, cfg.database, STORE_WRITE, &err), 0);
	assert_int_equal(store_dkim_list(ctx.st, "example.org", &l, &err), 0);
	assert_int_equal(l.n, 2);
	time_t t;
	for (size_t i = 0; i < l.n; i++) {
		if (!strcmp(l.v[i].state, "retired")) {
			assert_int_equal(dkim_time_parse(l.v[i].retired, &t), 0);
			assert_true(t <= time(NULL) && t > time(NULL) - 60);
		} else
			assert_string_equal(l.v[i].retired, "");
	}
	dkim_list_release(&l);
	/* store_dkim_set_state keeps the column in step with the state */
	assert_int_equal(store_dkim_list(ctx.st, "example.org", &l, &err), 0);
	assert_int_equal(store_begin(ctx.st, &err), 0);
	assert_int_equal(store_dkim_set_state(ctx.st, l.v[1].id, "published", &err), 0);
	assert_int_equal(store_dkim_set_state(ctx.st, l.v[0].id, "retired", &err), 0);
	assert_int_equal(store_commit(ctx.st, &err), 0);
	dkim_list_release(&l);
	assert_int_equal(store_dkim_list(ctx.st, "example.org", &l, &err), 0);
	assert_string_not_equal(l.v[0].retired, "");
	assert_string_equal(l.v[1].retired, "");
	dkim_list_release(&l);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_names),
	    T(test_cycle),
	    T(test_dual),
	    T(test_abort),
	    T(test_keygen_key_is_pending),
	    T(test_changed_meanwhile),
	    T(test_refusals),
	    T(test_start_fails_cleanly),
	    T(test_migration),
	};
	return run_in_tmpdir(tests);
}
