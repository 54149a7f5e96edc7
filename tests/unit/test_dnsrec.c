/* Unit tests for the DNS record set: golden zone output, and the zone
 * checked by two independent parsers (ldns-read-zone and kzonecheck). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsrec.h"
#include "xalloc.h"

static const char *const ipv4[] = {"192.0.2.10", NULL};
static const char *const ipv6[] = {"2001:db8::10", NULL};
static const char *const none[] = {NULL};

/* A 2048-bit RSA DKIM record: longer than 255 bytes, so it must split. */
#define DKIM_RSA                                                                                   \
	"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwMlYk3mX0Ccqsl9eKhZ1P"      \
	"CLJm7pxp4FyA5nq3bD9I5q1bFhL0ggC6V3rCkzqVY9W4i5nSyfqvcOHzsCGQwIDAQABrUJ8E4qT7Q1EC1b"       \
	"3T8bmwV4z8u8Ufh2a7aXKhYJgq4JxlGkC2P5Qp7hE3l5Q9pM6pXqLJxE1QpQ7L0iNfzPz0y9m3HT0xYy3N"       \
	"Kf9d2k3s4hM3T2aD6H5i2c4y0B3iQ0Vb8gk6YdQ6ZbJj8wQh2Gx8zJQ4t5nK3xqFzwV8m3iL2J3aS2xZc9"       \
	"l4p2r7T8yQ3uB6cE1mN9vK0wIDAQAB"
#define DKIM_ED25519 "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static const struct dnsrec_dkim dkim[] = {{"s202611", DKIM_RSA}, {"s202611e", DKIM_ED25519}};

static struct dnsrec_input input(void)
{
	return (struct dnsrec_input){
	    .domain = "example.org",
	    .mailhost = "mail.example.org",
	    .ipv4 = ipv4,
	    .ipv6 = ipv6,
	    .ttl = 3600,
	    .dmarc_policy = "quarantine",
	    .report_address = "postmaster@example.org",
	    .mta_sts_mode = "enforce",
	    .dkim = dkim,
	    .ndkim = 2,
	    .caa_issuer = "letsencrypt.org",
	    .caa_accounturi = "https://acme-v02.api.letsencrypt.org/acme/acct/123",
	    .tlsa_spki_sha256 = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1",
	    .host_records = 1,
	};
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb);
}

static void zone_text(const struct dnsrec_list *l, struct strbuf *out)
{
	for (size_t i = 0; i < l->n; i++)
		strbuf_addf(out, "%s%s\n", l->v[i].provider ? "; at your provider: " : "",
		            l->v[i].zone);
}

/* The record set matches the golden file byte for byte. Regenerate with
 * MAILCTL_UPDATE_GOLDEN=1 after an intended change, and review the diff. */
static void test_golden(void **state)
{
	struct dnsrec_input in = input();
	struct dnsrec_list l = {0};
	struct strbuf out = STRBUF_INIT;
	struct mc_error err;
	(void)state;
	assert_int_equal(dnsrec_build(&in, &l, &err), 0);
	zone_text(&l, &out);
	const char *ref = MAILCTL_SRC "/tests/unit/golden/dnsrec.zone.ref";
	if (getenv("MAILCTL_UPDATE_GOLDEN")) {
		FILE *f = fopen(ref, "w");
		fputs(out.buf, f);
		fclose(f);
	}
	char *want = read_all(ref);
	assert_non_null(want);
	assert_string_equal(out.buf, want);
	free(want);
	strbuf_release(&out);
	dnsrec_list_release(&l);
}

static void test_txt_split_at_255(void **state)
{
	struct dnsrec_input in = input();
	struct dnsrec_list l = {0};
	struct mc_error err;
	(void)state;
	assert_int_equal(dnsrec_build(&in, &l, &err), 0);
	int found = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].name, "s202611._domainkey.example.org.") != 0)
			continue;
		found = 1;
		assert_string_equal(l.v[i].value, DKIM_RSA); /* unsplit for web panels */
		/* first string is exactly 255 bytes: '"' + 255 + '"' */
		const char *q = strchr(l.v[i].zone, '"');
		assert_non_null(q);
		assert_int_equal(strchr(q + 1, '"') - q - 1, 255);
	}
	assert_true(found);
	dnsrec_list_release(&l);
}

/* Both ldns-read-zone and Knot's kzonecheck accept the records as a zone
 * (with an SOA and NS added, as a real zone has). */
static void test_zone_accepted_by_peers(void **state)
{
	struct dnsrec_input in = input();
	struct dnsrec_list l = {0};
	struct strbuf zone = STRBUF_INIT;
	struct mc_error err;
	char path[] = "/tmp/mailctl-zone.XXXXXX";
	(void)state;
	in.ipv6 = none; /* also exercise an IPv4-only server */
	assert_int_equal(dnsrec_build(&in, &l, &err), 0);
	strbuf_addstr(&zone, "$ORIGIN example.org.\n$TTL 3600\n"
	                     "@ IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 "
	                     "1209600 3600\n@ IN NS ns1.example.org.\nns1 IN A 192.0.2.53\n");
	for (size_t i = 0; i < l.n; i++)
		if (!l.v[i].provider) /* PTRs live in the provider's reverse zone */
			strbuf_addf(&zone, "%s\n", l.v[i].zone);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zone.buf, zone.len), (ssize_t)zone.len);
	close(fd);
	char *ldns = xasprintf("ldns-read-zone '%s' >/dev/null", path);
	char *knot = xasprintf("kzonecheck -o example.org '%s'", path);
	assert_int_equal(system(ldns), 0);
	assert_int_equal(system(knot), 0);
	unlink(path);
	free(ldns);
	free(knot);
	strbuf_release(&zone);
	dnsrec_list_release(&l);
}

static void test_bad_input(void **state)
{
	struct dnsrec_input in = input();
	struct dnsrec_list l = {0};
	struct mc_error err;
	static const char *const bad4[] = {"192.0.2.300", NULL};
	(void)state;
	in.ipv4 = bad4;
	assert_int_equal(dnsrec_build(&in, &l, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_non_null(strstr(err.msg, "192.0.2.300"));
	dnsrec_list_release(&l);
	in = input();
	in.tlsa_spki_sha256 = "zz";
	assert_int_equal(dnsrec_build(&in, &l, &err), -1);
	dnsrec_list_release(&l);
}

static void test_mta_sts_id_follows_policy(void **state)
{
	struct dnsrec_input in = input();
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char ida[21], idb[21];
	(void)state;
	dnsrec_mta_sts_policy(&in, &a);
	in.mta_sts_mode = "testing";
	dnsrec_mta_sts_policy(&in, &b);
	assert_non_null(strstr(a.buf, "mode: enforce\r\n"));
	dnsrec_mta_sts_id(a.buf, ida);
	dnsrec_mta_sts_id(b.buf, idb);
	assert_int_equal(strlen(ida), 20);
	assert_string_not_equal(ida, idb);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* Strings in a zone line, given content without quotes. */
static size_t strings_in(const char *zone)
{
	size_t quotes = 0;
	for (const char *p = zone; *p; p++)
		quotes += *p == '"';
	return quotes / 2;
}

/* dnsrec_txt splits at 255 bytes exactly and keeps the value whole. */
static void test_txt_boundaries(void **state)
{
	static const struct {
		size_t len, strings;
	} cases[] = {{0, 1},   {1, 1},   {254, 1}, {255, 1}, {256, 2},
	             {509, 2}, {510, 2}, {511, 3}, {765, 3}, {766, 4}};
	struct mc_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dnsrec_list l = {0};
		char *v = xmalloc(cases[i].len + 1);
		for (size_t j = 0; j < cases[i].len; j++)
			v[j] = (char)('A' + j % 26);
		v[cases[i].len] = '\0';
		assert_int_equal(dnsrec_txt(&l, "x.example.org.", 300, v, "test", &err), 0);
		assert_int_equal(strings_in(l.v[0].zone), cases[i].strings);
		assert_string_equal(l.v[0].value, v);
		free(v);
		dnsrec_list_release(&l);
	}
}

/* Quotes and backslashes in TXT data are escaped by ldns. */
static void test_txt_escaping(void **state)
{
	struct dnsrec_list l = {0};
	struct mc_error err;
	(void)state;
	assert_int_equal(dnsrec_txt(&l, "x.example.org", 300, "a\"b\\c", "test", &err), 0);
	assert_string_equal(l.v[0].zone, "x.example.org.\t300\tIN\tTXT\t\"a\\\"b\\\\c\"");
	dnsrec_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_txt_split_at_255),
	    cmocka_unit_test(test_zone_accepted_by_peers),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_mta_sts_id_follows_policy),
	    cmocka_unit_test(test_txt_boundaries),
	    cmocka_unit_test(test_txt_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
