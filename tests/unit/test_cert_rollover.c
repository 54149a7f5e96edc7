/* Unit tests for the TLS key rollover (lib/cert_rollover.c) against a fake
 * DNS: refused without a CA certificate, the start (a 0600 next key whose
 * TLSA 'dns records' would add), every way DNS can fail to show the new
 * record (none, only the old one, another usage, a timeout), the wait of
 * dns.ttl from the first sighting, the switch reaching for the CA, and
 * abort. The switch itself (ACME, install, ports) is
 * tests/integration/acme.sh against pebble. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "dnsrec.h"
#include "xalloc.h"

#include "fake_dns.h"
#include "instance.h"

#define NOW       ((time_t)1795000000)
#define TLSA_NAME "_25._tcp.mail.example.org."

static struct fake_dns dns = {.only = LDNS_RR_TYPE_TLSA};
static char current[65];

static void sh(const char *cmd)
{
	assert_int_equal(system(cmd), 0);
}

/* A P-256 key and a certificate for it from a test CA ('self': no CA). */
static void make_pair(int self)
{
	char *cmd = self ? xasprintf("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	                             "ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=mail "
	                             "-keyout '%s' -out '%s' 2>/dev/null",
	                             dir, cfg.tls_key_file, cfg.tls_cert_file)
	                 : xasprintf("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	                             "ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=ca "
	                             "-keyout ca.key -out ca.pem 2>/dev/null && "
	                             "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	                             "-nodes -subj /CN=mail.example.org -keyout '%s' -out leaf.csr "
	                             "2>/dev/null && openssl x509 -req -in leaf.csr -CA ca.pem "
	                             "-CAkey ca.key -days 30 -out '%s' 2>/dev/null",
	                             dir, cfg.tls_key_file, cfg.tls_cert_file);
	sh(cmd);
	free(cmd);
	chmod(cfg.tls_key_file, 0600);
}

static int setup(void **state)
{
	static int n;
	if (instance_setup(state) < 0)
		return -1;
	free(cfg.hostname);
	cfg.hostname = xstrdup("mail.example.org");
	instance_path(&cfg.tls_key_file, "tls.key", n);
	instance_path(&cfg.tls_cert_file, "tls.pem", n++);
	cfg.dns_ttl = 3600;
	make_pair(0);
	struct mc_error err;
	assert_int_equal(dnsrec_tlsa_from_key(cfg.tls_key_file, current, &err), 0);
	fake_dns_release(&dns);
	return 0;
}

static int teardown(void **state)
{
	fake_dns_release(&dns);
	return instance_teardown(state);
}

static int step_as(int may_start, time_t now, int force, struct cert_rollover_report *r,
                   struct mc_error *err)
{
	struct cert_options o = {0};
	o.force = force;
	return cert_rollover_step(&ctx, now, &o, may_start, fake_dns_lookup, &dns, r, err);
}

static int step(time_t now, int force, struct cert_rollover_report *r, struct mc_error *err)
{
	return step_as(1, now, force, r, err);
}

static int exists(const char *suffix)
{
	char *p = xasprintf("%s%s", cfg.tls_key_file, suffix);
	int yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}

/* Start a rollover; the next key's TLSA into 'next'. */
static void start(char next[65])
{
	struct cert_rollover_report r;
	struct mc_error err;
	assert_int_equal(step(NOW, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_STARTED);
	assert_string_equal(r.tlsa_name, TLSA_NAME);
	assert_string_equal(r.tlsa_current, current);
	assert_int_equal(strlen(r.tlsa_next), 64);
	assert_string_not_equal(r.tlsa_next, current);
	memcpy(next, r.tlsa_next, 65);
	cert_rollover_report_release(&r);
}

static void publish(const char *hex, const char *usage)
{
	char *line = xasprintf(TLSA_NAME " 3600 IN TLSA %s %s", usage, hex);
	fake_dns_add(&dns, line);
	free(line);
}

static void test_refused_without_a_ca_certificate(void **state)
{
	(void)state;
	make_pair(1);
	struct cert_rollover_report r;
	struct mc_error err;
	assert_int_equal(step(NOW, 0, &r, &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_non_null(strstr(err.msg, "the served certificate is not from a CA"));
	assert_false(exists(".next"));
	cert_rollover_report_release(&r);
}

static void test_start_makes_a_private_next_key(void **state)
{
	(void)state;
	char next[65];
	struct stat st;
	start(next);
	char *p = cert_next_key_file(&cfg);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char hex[65];
	struct mc_error err;
	assert_int_equal(dnsrec_tlsa_from_key(p, hex, &err), 0);
	assert_string_equal(hex, next);
	free(p);
	/* the served key is untouched */
	assert_int_equal(dnsrec_tlsa_from_key(cfg.tls_key_file, hex, &err), 0);
	assert_string_equal(hex, current);
}

/* 'usage' "" for no record at all; else the record published. */
static void waits(const char *usage, const char *hex, enum dnsq_status status, const char *want)
{
	char next[65];
	struct cert_rollover_report r;
	struct mc_error err;
	start(next);
	if (status != DNSQ_ANSWER)
		fake_dns_set(&dns, TLSA_NAME, LDNS_RR_TYPE_TLSA, status);
	else if (*usage)
		publish(hex ? hex : next, usage);
	assert_int_equal(step(NOW + 10 * 86400, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_WAITING);
	assert_non_null(r.detail);
	if (!strstr(r.detail, want))
		fail_msg("detail '%s' lacks '%s'", r.detail, want);
	assert_true(exists(".next"));
	assert_false(exists(".next-seen"));
	cert_rollover_report_release(&r);
}

static void test_waits_without_a_record(void **state)
{
	(void)state;
	waits("", NULL, DNSQ_ANSWER, TLSA_NAME " has no TLSA record yet");
}

static void test_waits_with_only_the_old_record(void **state)
{
	(void)state;
	char *want = xasprintf("TLSA holds 3 1 1 %s, not the next key's", current);
	waits("3 1 1", current, DNSQ_ANSWER, want);
	free(want);
}

static void test_waits_with_another_usage(void **state)
{
	(void)state;
	waits("2 1 1", NULL, DNSQ_ANSWER, "not the next key's 3 1 1");
}

static void test_waits_when_dns_times_out(void **state)
{
	(void)state;
	waits("", NULL, DNSQ_TIMEOUT, "DNS did not answer for " TLSA_NAME " TLSA (timeout)");
}

static void test_waits_dns_ttl_then_reaches_for_the_ca(void **state)
{
	(void)state;
	char next[65];
	struct cert_rollover_report r;
	struct mc_error err;
	start(next);
	publish(current, "3 1 1");
	publish(next, "3 1 1");
	assert_int_equal(step(NOW + 100, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_WAITING);
	assert_int_equal(r.seen, NOW + 100);
	assert_int_equal(r.switch_after, NOW + 100 + 3600);
	assert_non_null(strstr(r.detail, "shows the next key; resolvers may cache the old set"));
	cert_rollover_report_release(&r);
	/* the first sighting is kept: later runs count from it */
	assert_int_equal(step(NOW + 3000, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_WAITING);
	assert_int_equal(r.seen, NOW + 100);
	cert_rollover_report_release(&r);
	/* time is up: a certificate for the next key is asked for - here no CA
	 * ever issued one, so it fails and the rollover stays under way */
	assert_int_equal(step(NOW + 3700, 0, &r, &err), -1);
	assert_int_equal(r.action, CERT_ROLL_FAILED);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_non_null(strstr(err.msg, "no certificate from a CA was installed yet"));
	assert_true(exists(".next"));
	char hex[65];
	assert_int_equal(dnsrec_tlsa_from_key(cfg.tls_key_file, hex, &err), 0);
	assert_string_equal(hex, current);
	cert_rollover_report_release(&r);
}

/* mailctld (may_start 0) advances a rollover, but never starts one. */
static void test_daemon_only_advances(void **state)
{
	(void)state;
	char next[65];
	struct cert_rollover_report r;
	struct mc_error err;
	assert_int_equal(step_as(0, NOW, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_IDLE);
	assert_false(exists(".next"));
	cert_rollover_report_release(&r);
	start(next);
	publish(next, "3 1 1");
	assert_int_equal(step_as(0, NOW + 60, 0, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_WAITING);
	assert_int_equal(r.seen, NOW + 60);
	assert_true(exists(".next-seen"));
	cert_rollover_report_release(&r);
}

static void test_abort(void **state)
{
	(void)state;
	char next[65];
	struct cert_rollover_report r;
	struct mc_error err;
	start(next);
	publish(next, "3 1 1");
	assert_int_equal(step(NOW, 0, &r, &err), 0); /* seen */
	cert_rollover_report_release(&r);
	assert_true(exists(".next-seen"));
	assert_int_equal(cert_rollover_abort(&ctx, &r, &err), 0);
	assert_int_equal(r.action, CERT_ROLL_ABORTED);
	assert_string_equal(r.tlsa_next, next);
	cert_rollover_report_release(&r);
	assert_false(exists(".next"));
	assert_false(exists(".next-seen"));
	assert_int_equal(cert_rollover_abort(&ctx, &r, &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_string_equal(err.msg, "no key rollover is under way");
	cert_rollover_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused_without_a_ca_certificate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_makes_a_private_next_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_without_a_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_with_only_the_old_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_with_another_usage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_when_dns_times_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waits_dns_ttl_then_reaches_for_the_ca, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_only_advances, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	};
	return run_in_tmpdir(tests);
}
