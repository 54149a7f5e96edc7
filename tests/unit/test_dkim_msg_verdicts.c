/* Unit tests for DKIM verification (dkim_msg.h), part two: what altered
 * messages, bad signatures, bad keys and DNS trouble yield, the limits,
 * and how long signing and verifying a 2 KB message takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dkim_fixture.h"

#define TAGS "v=1; a=rsa-sha256; d=example.com; s=rsa"

/* 'text' with 'field' added just before the empty line. */
static char *add_last(const char *text, const char *field)
{
	const char *end = strstr(text, "\r\n\r\n");
	assert_non_null(end);
	return xasprintf("%.*s\r\n%s%s", (int)(end - text), text, field, end + 2);
}

static void expect_change(const char *text, const char *from, const char *to, enum dkim_result r,
                          const char *why)
{
	char *t = replace(text, from, to);
	expect_one(t, NULL, r, why);
	free(t);
}

static void tamper(const struct dkim_key *k)
{
	char *s = sign_text(plain, k), *t;
	expect_one(s, NULL, DKIM_PASS, "");
	expect_change(s, "hello there", "hello There", DKIM_FAIL, "signature did not verify");
	expect_change(s, "Date: Mon", "Date: Tue", DKIM_FAIL, "signature did not verify");
	expect_change(s, "lunch?", "lunch!", DKIM_FAIL, "body hash did not verify");
	expect_change(s, "Hi Bob", "Hi Rob", DKIM_FAIL, "body hash did not verify");
	/* what relaxed canonicalization forgives */
	expect_change(s, "Subject: hello there", "subject:  hello \t there  ", DKIM_PASS, "");
	expect_change(s, "lunch?  \r\n", "lunch?\r\n\r\n\r\n", DKIM_PASS, "");
	/* unsigned fields may change or be added */
	expect_change(s, "X-Mailer: test", "X-Mailer: other", DKIM_PASS, "");
	t = add_last(s, "Received: from relay.example.net\r\n");
	expect_one(t, NULL, DKIM_PASS, "");
	free(t);
	/* over-signing: a From, a second To or an absent Cc cannot be added */
	t = add_last(s, "From: Mallory <m@evil.example>\r\n");
	expect_one(t, NULL, DKIM_FAIL, "signature did not verify");
	free(t);
	expect_change(s, "From: Alice", "From: Mallory <m@evil.example>\r\nFrom: Alice", DKIM_FAIL,
	              "signature did not verify");
	t = add_last(s, "To: eve@evil.example\r\n");
	expect_one(t, NULL, DKIM_FAIL, "signature did not verify");
	free(t);
	t = add_last(s, "Cc: eve@evil.example\r\n");
	expect_one(t, NULL, DKIM_FAIL, "signature did not verify");
	free(t);
	free(s);
}

static void test_tamper(void **state)
{
	(void)state;
	tamper(rsa_key);
	tamper(ed_key);
}

/* Verdicts come in header order; one bad signature spoils no other. */
static void test_multiple_signatures(void **state)
{
	char *good = sign_value(plain, rsa_key, 0), *bad = sign_value(plain, ed_key, 0);
	struct dkim_verdict *v;
	(void)state;
	char *b = strstr(strrchr(bad, ';'), "b=") + 2; /* its tenth base64 character */
	for (int i = 0; i < 10 || strchr(" \r\n\t", *b); b++)
		i += !strchr(" \r\n\t", *b);
	*b = *b == 'A' ? 'B' : 'A';
	char *t = xasprintf("DKIM-Signature:%s\r\nDKIM-Signature:%s\r\n%s", bad, good, plain);
	assert_int_equal(verify(t, NULL, 1, NOW, &v), 2);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].why, "signature did not verify");
	assert_string_equal(v[0].algorithm, "ed25519-sha256");
	assert_string_equal(v[0].selector, "ed");
	assert_int_equal(v[1].result, DKIM_PASS);
	assert_string_equal(v[1].algorithm, "rsa-sha256");
	free(v);
	free(t), free(good), free(bad);
}

/* Simple canonicalization and l=, in signatures made by the tests. */
static void test_simple_and_length(void **state)
{
	char *t = crafted(plain, TAGS, "simple/simple", -1, rsa_pkey), *u;
	(void)state;
	expect_one(t, NULL, DKIM_PASS, "");
	expect_change(t, "Subject: hello", "Subject:  hello", DKIM_FAIL,
	              "signature did not verify");
	expect_change(t, "lunch?  \r\n", "lunch?\r\n", DKIM_FAIL, "body hash did not verify");
	expect_change(t, "lunch?  \r\n", "lunch?  \r\n\r\n\r\n", DKIM_PASS, "");
	/* b= is emptied with the white space around its value (RFC 6376 3.5) */
	u = replace(t, "; b=", "; b= \r\n\t");
	expect_one(u, NULL, DKIM_PASS, "");
	free(u);
	u = to_lf(t);
	expect_one(u, NULL, DKIM_PASS, "");
	free(u);
	free(t);
	t = crafted(plain, "v=1; a=ed25519-sha256; d=example.com; s=ed", "relaxed/simple", -1,
	            ed_pkey);
	expect_one(t, NULL, DKIM_PASS, "");
	free(t);
	/* l=9 signs "Hi Bob,\r\n": anything may follow */
	t = crafted(plain, TAGS, "simple/simple", 9, rsa_pkey);
	expect_one(t, NULL, DKIM_PASS, "");
	expect_change(t, "lunch?", "buy now!\r\nlunch?", DKIM_PASS, "");
	expect_change(t, "Hi Bob", "Hi Rob", DKIM_FAIL, "body hash did not verify");
	free(t);
	t = crafted(plain, TAGS, "relaxed/relaxed", 1000, rsa_pkey);
	expect_one(t, NULL, DKIM_FAIL, "l= is longer than the body");
	free(t);
}

/* h= picks fields bottom-up, and a name with no instance left adds
 * nothing (RFC 6376 5.4.2): checked against the tests' own signer. */
static void test_selection(void **state)
{
	char *text = add_last(plain, "X-Dup: one\r\nX-Dup: two\r\n"), *value, *t;
	(void)state;
	value = craft(text, TAGS, "from:x-dup:cc:from", "relaxed/relaxed", -1, rsa_pkey);
	t = with_sig(value, text);
	expect_one(t, NULL, DKIM_PASS, "");
	expect_change(t, "X-Dup: one", "X-Dup: 1", DKIM_PASS, "");
	expect_change(t, "X-Dup: two", "X-Dup: 2", DKIM_FAIL, "signature did not verify");
	free(t), free(value);
	value = craft(text, TAGS, "from:x-dup:x-dup:x-dup", "simple/simple", -1, rsa_pkey);
	t = with_sig(value, text);
	expect_one(t, NULL, DKIM_PASS, "");
	expect_change(t, "X-Dup: one", "X-Dup: 1", DKIM_FAIL, "signature did not verify");
	free(t), free(value), free(text);
}

static void test_signature_verdicts(void **state)
{
	char *t, *tags;
	(void)state;
	t = crafted(plain, "v=1; a=rsa-sha1; d=example.com; s=rsa", "relaxed/relaxed", -1,
	            rsa_pkey);
	expect_one(t, NULL, DKIM_FAIL, "rsa-sha1 is not accepted (RFC 8301)");
	free(t);
	tags = xasprintf(TAGS "; t=%d; x=%d", NOW - 100, NOW - 1);
	t = crafted(plain, tags, "relaxed/relaxed", -1, rsa_pkey);
	expect_one(t, NULL, DKIM_FAIL, "signature expired");
	free(t), free(tags);
	tags = xasprintf(TAGS "; t=%d; x=%d", NOW - 100, NOW + 100);
	t = crafted(plain, tags, "relaxed/relaxed", -1, rsa_pkey);
	expect_one(t, NULL, DKIM_PASS, "");
	free(t), free(tags);
	tags = xasprintf(TAGS "; t=%d", NOW + 365 * 86400); /* from the future: accepted */
	t = crafted(plain, tags, "relaxed/relaxed", -1, rsa_pkey);
	expect_one(t, NULL, DKIM_PASS, "");
	free(t), free(tags);
	t = crafted(plain, TAGS "; i=@example.org", "relaxed/relaxed", -1, rsa_pkey);
	expect_one(t, NULL, DKIM_PERMERROR, "i= is not within d=");
	free(t);
	t = crafted(plain, TAGS "; i=joe@mail.example.com", "relaxed/relaxed", -1, rsa_pkey);
	expect_one(t, NULL, DKIM_PASS, "");
	free(t);
	t = sign_text(plain, rsa_key);
	expect_change(t, "bh=", "xh=", DKIM_PERMERROR, "missing bh= tag");
	free(t);
}

/* A zone serving 'record' at rsa, the rsa key appended when 'key'. */
static void one_key(struct fake_dns *z, char *buf, size_t size, const char *record, int key)
{
	snprintf(buf, size, "%s%s", record, key ? strstr(rsa_record, "p=") + 2 : "");
	fake_dns_release(z);
	fake_dns_txt(z, "rsa._domainkey.example.com", buf);
}

static void test_key_verdicts(void **state)
{
	char *ours = sign_text(plain, rsa_key), *sub, buf[1024];
	struct fake_dns z = KEY_ZONE;
	struct dkim_verdict *v;
	(void)state;
	sub = crafted(plain, TAGS "; i=@mail.example.com", "relaxed/relaxed", -1, rsa_pkey);
	one_key(&z, buf, sizeof(buf), "v=DKIM1; k=rsa; h=sha1; p=", 1);
	expect_one(ours, &z, DKIM_FAIL, "key does not allow sha256 (h=)");
	one_key(&z, buf, sizeof(buf), "v=DKIM1; k=rsa; h=sha1:sha256; s=tlsrpt; p=", 1);
	expect_one(ours, &z, DKIM_FAIL, "key is not for email (s=)");
	one_key(&z, buf, sizeof(buf), "v=DKIM1; k=rsa; s=email; t=s; p=", 1);
	expect_one(sub, &z, DKIM_FAIL, "key forbids a subdomain in i= (t=s)");
	expect_one(ours, &z, DKIM_PASS, "");
	one_key(&z, buf, sizeof(buf), "v=DKIM1; k=rsa; p=", 0);
	expect_one(ours, &z, DKIM_PERMERROR, "key revoked");
	one_key(&z, buf, sizeof(buf),
	        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", 0);
	expect_one(ours, &z, DKIM_PERMERROR, "key type ed25519 does not match a=");
	one_key(&z, buf, sizeof(buf), "v=DKIM1; k=rsa; p=AAAA", 0);
	expect_one(ours, &z, DKIM_PERMERROR, "key record holds no usable rsa key");
	one_key(&z, buf, sizeof(buf), "v=DKIM1; t=y; p=", 1);
	assert_int_equal(verify(ours, &z, 0, NOW, &v), 1);
	assert_true(v[0].result == DKIM_PASS && v[0].testing == 1);
	free(v);
	fake_dns_release(&z);
	free(sub);
	free(ours);
}

static void test_weak_key(void **state)
{
	EVP_PKEY *weak = EVP_RSA_gen(512);
	unsigned char *der = NULL;
	int len;
	struct fake_dns z = KEY_ZONE;
	struct dkim_verdict *v;
	(void)state;
	assert_non_null(weak);
	assert_true((len = i2d_PUBKEY(weak, &der)) > 0);
	char *p = b64(der, (size_t)len), *record = xasprintf("v=DKIM1; p=%s", p);
	fake_dns_txt(&z, "rsa._domainkey.example.com", record);
	char *t = crafted(plain, TAGS, "relaxed/relaxed", -1, weak);
	assert_int_equal(verify(t, &z, 0, NOW, &v), 1);
	fake_dns_release(&z);
	assert_int_equal(v[0].result, DKIM_FAIL);
	assert_string_equal(v[0].why, "rsa key of 512 bits is too short (RFC 8301)");
	assert_int_equal(v[0].key_bits, 512);
	free(v);
	OPENSSL_free(der);
	EVP_PKEY_free(weak);
	free(t), free(p), free(record);
}

static void test_dns_verdicts(void **state)
{
	static const struct {
		enum dnsq_status status;
		enum dkim_result result;
		const char *why;
	} c[] = {
	    {DNSQ_NXDOMAIN, DKIM_PERMERROR, "no key for signature"},
	    {DNSQ_NODATA, DKIM_PERMERROR, "no key for signature"},
	    {DNSQ_SERVFAIL, DKIM_TEMPERROR, "key lookup failed (servfail)"},
	    {DNSQ_TIMEOUT, DKIM_TEMPERROR, "key lookup failed (timeout)"},
	    {DNSQ_REFUSED, DKIM_TEMPERROR, "key lookup failed (refused)"},
	    {DNSQ_PENDING, DKIM_TEMPERROR, "key lookup did not finish"},
	};
	char *t = sign_text(plain, rsa_key);
	struct fake_dns z = KEY_ZONE;
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		fake_dns_set(&z, "rsa._domainkey.example.com", LDNS_RR_TYPE_TXT, c[i].status);
		expect_one(t, &z, c[i].result, c[i].why);
		fake_dns_release(&z);
	}
	expect_one(t, &z, DKIM_PERMERROR, "no key for signature"); /* no such name at all */
	/* several records: the first that parses */
	fake_dns_txt(&z, "rsa._domainkey.example.com", "v=spf1 -all");
	fake_dns_txt(&z, "rsa._domainkey.example.com", rsa_record);
	expect_one(t, &z, DKIM_PASS, "");
	fake_dns_release(&z);
	fake_dns_txt(&z, "rsa._domainkey.example.com", "v=spf1 -all");
	fake_dns_txt(&z, "rsa._domainkey.example.com", "k=dsa; p=AAAA");
	expect_one(t, &z, DKIM_PERMERROR, "bad key record: v= is not DKIM1, or not first");
	fake_dns_release(&z);
	free(t);
}

/* At most DKIM_MAX_SIGNATURES are checked; an oversized header makes
 * every signature permerror and signing refuse. */
static void test_limits(void **state)
{
	char *value = sign_value(plain, rsa_key, 0), *t;
	struct strbuf sb = STRBUF_INIT;
	struct dkim_verdict *v;
	struct mc_error err;
	(void)state;
	for (int i = 0; i <= DKIM_MAX_SIGNATURES; i++)
		strbuf_addf(&sb, "DKIM-Signature:%s\r\n", value);
	strbuf_addstr(&sb, plain);
	assert_int_equal(verify(sb.buf, NULL, 0, NOW, &v), DKIM_MAX_SIGNATURES + 1);
	for (int i = 0; i < DKIM_MAX_SIGNATURES; i++)
		assert_int_equal(v[i].result, DKIM_PASS);
	assert_int_equal(v[DKIM_MAX_SIGNATURES].result, DKIM_PERMERROR);
	assert_string_equal(v[DKIM_MAX_SIGNATURES].why, "too many signatures");
	assert_string_equal(v[DKIM_MAX_SIGNATURES].domain, DOMAIN);
	free(v);
	/* the signature, the 6 fields of 'plain', fillers: exactly at the limit */
	strbuf_reset(&sb);
	strbuf_addf(&sb, "DKIM-Signature:%s\r\n", value);
	for (int i = 0; i < DKIM_MAX_HEADERS - 7; i++)
		strbuf_addf(&sb, "X-Filler: %d\r\n", i);
	strbuf_addstr(&sb, plain);
	expect_one(sb.buf, NULL, DKIM_PASS, "");
	t = replace(sb.buf, "X-Filler: 0\r\n", "X-Filler: 0\r\nX-Filler: one too many\r\n");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, t);
	free(t);
	expect_one(sb.buf, NULL, DKIM_PERMERROR, "message header too large");
	struct dkim_msg *m = feed(sb.buf, 0, 1);
	assert_int_equal(dkim_msg_sign(m, DOMAIN, "rsa", rsa_key, NOW, &t, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	dkim_msg_free(m);
	char *big = xmalloc(DKIM_MAX_HEADER_BYTES + 2);
	memset(big, 'x', DKIM_MAX_HEADER_BYTES + 1);
	big[DKIM_MAX_HEADER_BYTES + 1] = '\0';
	strbuf_reset(&sb);
	strbuf_addf(&sb, "DKIM-Signature:%s\r\nX-Big: %s\r\n%s", value, big, plain);
	expect_one(sb.buf, NULL, DKIM_PERMERROR, "message header too large");
	free(big);
	strbuf_release(&sb);
	free(value);
}

static double elapsed_us(const struct timespec *a, const struct timespec *b, int n)
{
	return ((double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3) /
	       n;
}

/* A quick look at the cost per message; the benchmark is elsewhere. */
static void test_timing(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct timespec t0, t1, t2;
	struct dkim_verdict *v;
	struct mc_error err;
	char *value = NULL;
	const int n = 50;
	(void)state;
	strbuf_addstr(&sb, plain);
	while (sb.len < 2048)
		strbuf_addstr(&sb,
		              "The quick brown fox jumps over the lazy dog, again and again.\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct dkim_msg *m = feed(sb.buf, 512, 1);
		free(value);
		assert_int_equal(dkim_msg_sign(m, DOMAIN, "rsa", rsa_key, NOW, &value, &err), 0);
		dkim_msg_free(m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	char *t = with_sig(value, sb.buf);
	for (int i = 0; i < n; i++) {
		assert_int_equal(verify(t, NULL, 512, NOW, &v), 1);
		assert_int_equal(v[0].result, DKIM_PASS);
		free(v);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	print_message("rsa-2048, %zu-byte message: sign %.0f us, verify %.0f us (mean of %d)\n",
	              sb.len, elapsed_us(&t0, &t1, n), elapsed_us(&t1, &t2, n), n);
	strbuf_release(&sb);
	free(value), free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_multiple_signatures),
	    cmocka_unit_test(test_simple_and_length),
	    cmocka_unit_test(test_selection),
	    cmocka_unit_test(test_signature_verdicts),
	    cmocka_unit_test(test_key_verdicts),
	    cmocka_unit_test(test_weak_key),
	    cmocka_unit_test(test_dns_verdicts),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_timing),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
