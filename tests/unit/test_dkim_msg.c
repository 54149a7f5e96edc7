/* Unit tests for DKIM signing and verification (dkim_msg.h), part one:
 * the RFC 8463 example, RFC 6376 canonicalization, the parsers, and sign
 * then verify round trips. Verdicts on bad or altered messages are in
 * test_dkim_msg_verdicts.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dkim_fixture.h"

/* RFC 8463 appendix A.2 and A.1 */
static const char rfc_ed_record[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc_rsa_record[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB";
static const char rfc_ed_seed[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

static void rfc_zone(struct fake_dns *z)
{
	*z = (struct fake_dns)KEY_ZONE;
	fake_dns_txt(z, "brisbane._domainkey.football.example.com", rfc_ed_record);
	fake_dns_txt(z, "test._domainkey.football.example.com", rfc_rsa_record);
}

/* 'text' has 'n' signatures, all of which verify with the RFC's keys. */
static void expect_rfc_pass(const char *text, size_t chunk, size_t n)
{
	struct fake_dns z;
	struct dkim_verdict *v;
	rfc_zone(&z);
	assert_int_equal(verify(text, &z, chunk, NOW, &v), n);
	fake_dns_release(&z);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].why, "");
		assert_string_equal(dkim_result_name(v[i].result), "pass");
	}
	free(v);
}

static void expect_rfc_fail(const char *text, const char *why)
{
	struct fake_dns z;
	struct dkim_verdict *v;
	rfc_zone(&z);
	assert_int_equal(verify(text, &z, 0, NOW, &v), 2);
	fake_dns_release(&z);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(dkim_result_name(v[i].result), "fail");
		assert_string_equal(v[i].why, why);
	}
	free(v);
}

static void test_rfc8463_verify(void **state)
{
	char *eml = read_golden("rfc8463.eml"), *crlf = to_crlf(eml), *t;
	struct fake_dns z;
	struct dkim_verdict *v;
	(void)state;
	rfc_zone(&z);
	assert_int_equal(verify(eml, &z, 0, NOW, &v), 2);
	fake_dns_release(&z);
	assert_int_equal(v[0].result, DKIM_PASS);
	assert_string_equal(v[0].domain, "football.example.com");
	assert_string_equal(v[0].selector, "brisbane");
	assert_string_equal(v[0].identity, "@football.example.com");
	assert_string_equal(v[0].algorithm, "ed25519-sha256");
	assert_string_equal(v[0].b_prefix, "/gCrinpc");
	assert_int_equal(v[0].key_bits, 256);
	assert_int_equal(v[1].result, DKIM_PASS);
	assert_string_equal(v[1].selector, "test");
	assert_string_equal(v[1].algorithm, "rsa-sha256");
	assert_string_equal(v[1].b_prefix, "F45dVWDf");
	assert_int_equal(v[1].key_bits, 1024);
	assert_int_equal(v[1].testing, 0);
	free(v);
	expect_rfc_pass(crlf, 0, 2);
	expect_rfc_pass(eml, 1, 2);
	expect_rfc_pass(crlf, 7, 2);
	t = replace(crlf, "hungry", "Hungry");
	expect_rfc_fail(t, "body hash did not verify");
	free(t);
	t = replace(crlf, "dinner ready", "dinner Ready");
	expect_rfc_fail(t, "signature did not verify");
	free(t);
	free(eml);
	free(crlf);
}

/* The RFC's Ed25519 seed as a PKCS#8 PEM file, as lib/dkim.c writes keys. */
static char *rfc_ed_file(void)
{
	unsigned char seed[48];
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	assert_int_equal(EVP_DecodeBlock(seed, (const unsigned char *)rfc_ed_seed, 44), 33);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	assert_non_null(k);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(BIO_write(bio, "", 1), 1);
	BIO_get_mem_data(bio, &pem);
	char *path = write_pem("rfc-ed.pem", pem);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return path;
}

/* The RFC's private keys are the ones of its records, and sign the
 * RFC's message (twice from one struct dkim_msg) as the records verify. */
static void test_rfc8463_keys_sign(void **state)
{
	char *eml = read_golden("rfc8463.eml"), *crlf = to_crlf(eml), *pub, *v1, *v2;
	char *rsa_path = xasprintf("%s/tests/unit/golden/dkim/rfc8463-rsa.pem", MAILCTL_SRC);
	char *ed_path = rfc_ed_file();
	const char *unsigned_text = strstr(crlf, "From: Joe");
	struct mc_error err;
	(void)state;
	assert_int_equal(dkim_public_from_file(rsa_path, &pub, &err), 0);
	assert_string_equal(pub, strstr(rfc_rsa_record, "p=") + 2);
	free(pub);
	assert_int_equal(dkim_public_from_file(ed_path, &pub, &err), 0);
	assert_string_equal(pub, strstr(rfc_ed_record, "p=") + 2);
	free(pub);
	struct dkim_key *rk = dkim_key_load(rsa_path, &err), *ek = dkim_key_load(ed_path, &err);
	assert_non_null(rk);
	assert_non_null(ek);
	struct dkim_msg *m = feed(unsigned_text, 5, 1);
	assert_int_equal(dkim_msg_sign(m, "football.example.com", "test", rk, NOW, &v1, &err), 0);
	assert_int_equal(dkim_msg_sign(m, "football.example.com", "brisbane", ek, NOW, &v2, &err),
	                 0);
	assert_non_null(strstr(v1, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"));
	char *t = xasprintf("DKIM-Signature:%s\r\nDKIM-Signature:%s\r\n%s", v1, v2, unsigned_text);
	expect_rfc_pass(t, 0, 2);
	dkim_msg_free(m);
	dkim_key_free(rk);
	dkim_key_free(ek);
	unlink(ed_path);
	free(t), free(v1), free(v2), free(eml), free(crlf), free(rsa_path), free(ed_path);
}

/* ---- canonicalization ---- */

static void test_canon_rfc6376_example(void **state)
{
	static const struct {
		int relaxed;
		const char *name, *value, *want;
	} h[] = {
	    {1, "A", " X", "a:X\r\n"},
	    {1, "B ", " Y\t\r\n\tZ  ", "b:Y Z\r\n"},
	    {0, "A", " X", "A: X\r\n"},
	    {0, "B ", " Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  \r\n"},
	    {1, "B ", " Y\t\n\tZ  ", "b:Y Z\r\n"},
	    {0, "B ", " Y\t\n\tZ  ", "B : Y\t\r\n\tZ  \r\n"},
	};
	static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";
	char *out, *lf = to_lf(body);
	size_t len;
	(void)state;
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		dkim_canon_header(h[i].relaxed, h[i].name, h[i].value, &out, &len);
		assert_string_equal(out, h[i].want);
		assert_int_equal(len, strlen(h[i].want));
		free(out);
	}
	for (size_t chunk = 0; chunk < 6; chunk++) {
		for (int crlf = 0; crlf < 2; crlf++) {
			const char *in = crlf ? body : lf;
			out = canon_body(1, in, strlen(in), chunk);
			assert_string_equal(out, " C\r\nD E\r\n");
			free(out);
			out = canon_body(0, in, strlen(in), chunk);
			assert_string_equal(out, " C \r\nD \t E\r\n");
			free(out);
		}
	}
	free(lf);
}

/* Edge cases give the same output whatever the chunking. */
static void test_canon_body_edges(void **state)
{
	static const struct {
		const char *in, *simple, *relaxed;
	} c[] = {
	    {"", "\r\n", ""},
	    {"\r\n\r\n", "\r\n", ""},
	    {"\n\n\n", "\r\n", ""},
	    {"abc", "abc\r\n", "abc\r\n"},
	    {"a  b \t\r\n \r\n\t\r\n", "a  b \t\r\n \r\n\t\r\n", "a b\r\n"},
	    {"x\n\ny\n\n\n", "x\r\n\r\ny\r\n", "x\r\n\r\ny\r\n"},
	    {"a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},
	    {"end\r", "end\r\r\n", "end\r\r\n"},
	    {" \t lead\r\n  \r\n", " \t lead\r\n  \r\n", " lead\r\n"},
	    {"one \r\n\r\n two  \n\n", "one \r\n\r\n two  \r\n", "one\r\n\r\n two\r\n"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		for (size_t chunk = 0; chunk < 10; chunk++) {
			char *s = canon_body(0, c[i].in, strlen(c[i].in), chunk);
			char *r = canon_body(1, c[i].in, strlen(c[i].in), chunk);
			assert_string_equal(s, c[i].simple);
			assert_string_equal(r, c[i].relaxed);
			free(s);
			free(r);
		}
	}
}

/* A long random body: byte by byte, odd chunks and whole agree, and LF
 * input canonicalizes as its CRLF form. */
static void test_canon_body_random(void **state)
{
	static const char alphabet[] = "ab  \t\t\n\n\r.";
	char *body = xmalloc(20001), *crlf, *lf;
	unsigned seed = 12345;
	(void)state;
	for (size_t i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		body[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
	}
	body[20000] = '\0';
	lf = xstrdup(body); /* without CRs: LF line ends only */
	for (char *p = lf; *p; p++)
		*p = *p == '\r' ? '.' : *p;
	crlf = to_crlf(lf);
	for (int relaxed = 0; relaxed < 2; relaxed++) {
		char *whole = canon_body(relaxed, body, 20000, 0);
		size_t chunks[] = {1, 2, 3, 64, 4095, 4097};
		for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			char *part = canon_body(relaxed, body, 20000, chunks[i]);
			assert_string_equal(part, whole);
			free(part);
		}
		char *a = canon_body(relaxed, lf, strlen(lf), 3);
		char *b = canon_body(relaxed, crlf, strlen(crlf), 7);
		assert_string_equal(a, b);
		/* no empty line at the end, and a final CRLF when there is content */
		assert_false(strlen(a) >= 4 && strcmp(a + strlen(a) - 4, "\r\n\r\n") == 0);
		assert_true(strlen(a) >= 2 && strcmp(a + strlen(a) - 2, "\r\n") == 0);
		free(a), free(b), free(whole);
	}
	free(body), free(lf), free(crlf);
}

/* ---- parsers ---- */

static void test_parse_signature(void **state)
{
	static const char rfc[] =
	    " v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n d=Football.Example.com; "
	    "i=@football.example.com;\r\n q=dns/txt; s=test; t=1528637909; h=from : to : subject "
	    ":\r\n date : message-id : from : subject : date;\r\n "
	    "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n "
	    "b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n "
	    "DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n "
	    "dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";
	struct dkim_sig s;
	char why[256];
	(void)state;
	assert_int_equal(dkim_sig_parse(rfc, &s, why, sizeof(why)), 0);
	assert_string_equal(s.algorithm, "rsa-sha256");
	assert_string_equal(s.domain, "football.example.com");
	assert_string_equal(s.selector, "test");
	assert_string_equal(s.identity, "@football.example.com");
	assert_string_equal(s.headers, "from:to:subject:date:message-id:from:subject:date");
	assert_int_equal(s.b_len, 128);
	assert_int_equal(s.bh_len, 32);
	assert_int_equal(strlen(s.b_text), 172);
	assert_true(s.header_relaxed && s.body_relaxed);
	assert_true(s.length == -1 && s.expires == -1 && s.timestamp == 1528637909);
	dkim_sig_release(&s);
	dkim_sig_release(&s); /* twice is harmless */

	assert_int_equal(dkim_sig_parse("v=1; a=RSA-SHA1; d=example.com; s=s; h=To:From; "
	                                "bh=AAAA; b=AA==; c=relaxed; i=joe@mail.EXAMPLE.com; l=0;",
	                                &s, why, sizeof(why)),
	                 0);
	assert_string_equal(s.algorithm, "rsa-sha1");
	assert_string_equal(s.headers, "to:from");
	assert_int_equal(s.b_len, 1);
	assert_true(s.header_relaxed && !s.body_relaxed && s.length == 0);
	dkim_sig_release(&s);
}

#define BASE "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA"
static const struct {
	const char *value, *why;
} bad_sigs[] = {
    {"", "missing v= tag"},
    {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA", "missing b= tag"},
    {BASE "; d=example.org", "duplicate tag 'd'"},
    {"v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA",
     "unsupported version (v= is not 1)"},
    {"v=1; a=rsa-md5; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "unsupported algorithm (a=)"},
    {"v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=AAAA; b=AAAA",
     "h= does not include from"},
    {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; bh=AAAA; b=AAAA",
     "empty or bad field name in h="},
    {BASE "; i=@example.org", "i= is not within d="},
    {BASE "; i=joe@notexample.com", "i= is not within d="},
    {BASE "; i=joe", "i= is not within d="},
    {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAA",
     "b= is empty or not base64"},
    {"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AA=A; b=AAAA",
     "bh= is empty or not base64"},
    {BASE "; c=fancy", "unknown canonicalization (c=)"},
    {BASE "; c=simple/", "unknown canonicalization (c=)"},
    {BASE "; l=12a", "l= is not a number"},
    {BASE "; l=1234567890123456789", "l= is not a number"},
    {BASE "; t=200; x=100", "x= is before t="},
    {BASE "; q=http", "unsupported query method (q=)"},
    {"v=1; a=rsa-sha256; d=exa mple.com; s=sel; h=from; bh=AAAA; b=AAAA", "invalid domain (d=)"},
    {"v=1; a=rsa-sha256; d=example..com; s=sel; h=from; bh=AAAA; b=AAAA", "invalid domain (d=)"},
    {"v=1; a=rsa-sha256; d=example.com; s=a/b; h=from; bh=AAAA; b=AAAA", "invalid selector (s=)"},
    {"v=1; a=rsa-sha256; d=\x80x.com; s=sel; h=from; bh=AAAA; b=AAAA", "bad character in tag 'd'"},
    {"v=1; 9a=x", "bad tag name in tag-list"},
    {"v=1; a", "tag 'a' has no '='"},
};

static void test_parse_signature_errors(void **state)
{
	struct dkim_sig s;
	char why[256], *many;
	(void)state;
	for (size_t i = 0; i < sizeof(bad_sigs) / sizeof(bad_sigs[0]); i++) {
		assert_int_equal(dkim_sig_parse(bad_sigs[i].value, &s, why, sizeof(why)), -1);
		assert_string_equal(why, bad_sigs[i].why);
		assert_true(!s.algorithm && !s.domain && !s.headers && !s.b && !s.b_text);
		dkim_sig_release(&s);
	}
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 70; i++)
		strbuf_addf(&sb, "x%d=1; ", i);
	assert_int_equal(dkim_sig_parse(sb.buf, &s, why, sizeof(why)), -1);
	assert_string_equal(why, "more than 64 tags");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "v=1; a=rsa-sha256; d=example.com; s=sel; bh=AAAA; b=AAAA; h=from");
	for (int i = 0; i < DKIM_MAX_SIGNED_FIELDS; i++)
		strbuf_addstr(&sb, ":x");
	assert_int_equal(dkim_sig_parse(sb.buf, &s, why, sizeof(why)), -1);
	assert_string_equal(why, "h= lists too many fields");
	many = strbuf_detach(&sb);
	free(many);
	assert_int_equal(dkim_sig_parse(NULL, &s, why, sizeof(why)), -1);
}

static void test_parse_keyrec(void **state)
{
	static const struct {
		const char *txt, *why; /* why NULL: parses */
		int revoked, sha256, email, testing, strict;
	} c[] = {
	    {"v=DKIM1; k=rsa; p=", NULL, 1, 1, 1, 0, 0},
	    {"p=AAAA", NULL, 0, 1, 1, 0, 0},
	    {"v=DKIM1; h=sha1:sha256; s=email; t=y:s; p=AAAA", NULL, 0, 1, 1, 1, 1},
	    {"v=DKIM1;; h=sha1; s=tlsrpt; t=s; p=AA AA", NULL, 0, 0, 0, 0, 1},
	    {"s=* ; p=AAAA;", NULL, 0, 1, 1, 0, 0},
	    {"k=ed25519; p=AAAA", "ed25519 key is not 32 bytes", 0, 0, 0, 0, 0},
	    {"p=AAAA; v=DKIM1", "v= is not DKIM1, or not first", 0, 0, 0, 0, 0},
	    {"v=DKIM2; p=AAAA", "v= is not DKIM1, or not first", 0, 0, 0, 0, 0},
	    {"v=spf1 -all", "v= is not DKIM1, or not first", 0, 0, 0, 0, 0},
	    {"v=DKIM1; k=dsa; p=AAAA", "unknown key type (k=)", 0, 0, 0, 0, 0},
	    {"v=DKIM1; k=rsa", "no p= tag", 0, 0, 0, 0, 0},
	    {"v=DKIM1; p=A", "p= is not base64", 0, 0, 0, 0, 0},
	    {"v=DKIM1; p=AAAA; p=AAAA", "duplicate tag 'p'", 0, 0, 0, 0, 0},
	};
	struct dkim_keyrec k;
	char why[256];
	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = dkim_keyrec_parse(c[i].txt, &k, why, sizeof(why));
		if (c[i].why) {
			assert_int_equal(r, -1);
			assert_string_equal(why, c[i].why);
			assert_null(k.key);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(k.revoked, c[i].revoked);
			assert_int_equal(k.key_len, c[i].revoked ? 0 : 3);
			assert_int_equal(k.sha256_allowed, c[i].sha256);
			assert_int_equal(k.email_service, c[i].email);
			assert_int_equal(k.testing, c[i].testing);
			assert_int_equal(k.strict_identity, c[i].strict);
			assert_string_equal(k.key_type, "rsa");
		}
		dkim_keyrec_release(&k);
	}
	assert_int_equal(dkim_keyrec_parse(rfc_ed_record, &k, why, sizeof(why)), 0);
	assert_string_equal(k.key_type, "ed25519");
	assert_int_equal(k.key_len, 32);
	dkim_keyrec_release(&k);
}

/* ---- round trips ---- */

/* The field is folded at 78 columns with CRLF TAB, b= last, tags as
 * the header comment of dkim_msg.h says. */
static void check_format(const char *value, const char *hlist, const char *alg)
{
	struct dkim_sig s;
	char why[256];
	size_t col = strlen("DKIM-Signature:");
	assert_true(value[0] == ' ');
	for (const char *p = value; *p; p++) {
		if (*p == '\n') {
			assert_true(p[-1] == '\r' && p[1] == '\t');
			col = 0;
		} else if (*p != '\r') {
			assert_true(++col <= 78);
		}
	}
	const char *last = strrchr(value, ';') + 1;
	last += strspn(last, " \r\n\t");
	assert_true(strncmp(last, "b=", 2) == 0);
	assert_int_equal(dkim_sig_parse(value, &s, why, sizeof(why)), 0);
	assert_string_equal(s.headers, hlist);
	assert_string_equal(s.algorithm, alg);
	assert_true(s.header_relaxed && s.body_relaxed && s.length == -1 && s.expires == -1);
	assert_int_equal(s.timestamp, NOW);
	assert_null(strstr(value, "l="));
	dkim_sig_release(&s);
}

static void roundtrip(const char *text, const struct dkim_key *k, const char *hlist)
{
	const char *alg = k == ed_key ? "ed25519-sha256" : "rsa-sha256";
	char *value = sign_value(text, k, 0), *lf = to_lf(text), *crlf = to_crlf(text);
	char *v1 = sign_value(text, k, 1), *v2 = sign_value(lf, k, 3), *v3 = sign_value(crlf, k, 0);
	struct dkim_verdict *v;
	struct dkim_sig s;
	check_format(value, hlist, alg);
	assert_int_equal(dkim_sig_parse(value, &s, NULL, 0), 0);
	assert_string_equal(v1, value); /* both algorithms are deterministic */
	assert_string_equal(v2, value);
	assert_string_equal(v3, value);
	char *signed_text = with_sig(value, text), *signed_lf = to_lf(signed_text);
	const char *inputs[] = {signed_text, signed_lf};
	for (size_t i = 0; i < 2; i++) {
		for (size_t chunk = 0; chunk < 3; chunk++) {
			assert_int_equal(verify(inputs[i], NULL, chunk, NOW, &v), 1);
			assert_string_equal(v[0].why, "");
			assert_int_equal(v[0].result, DKIM_PASS);
			assert_string_equal(v[0].domain, DOMAIN);
			assert_string_equal(v[0].identity, "@" DOMAIN);
			assert_string_equal(v[0].algorithm, alg);
			assert_int_equal(v[0].key_bits, k == ed_key ? 256 : 2048);
			assert_int_equal(strlen(v[0].b_prefix), 8);
			assert_memory_equal(v[0].b_prefix, s.b_text, 8);
			free(v);
		}
	}
	dkim_sig_release(&s);
	free(value), free(lf), free(crlf), free(v1), free(v2), free(v3), free(signed_text),
	    free(signed_lf);
}

#define ONCE_EACH                                                                                  \
	"reply-to:in-reply-to:references:mime-version:content-type:content-transfer-encoding"

static void test_roundtrip_plain(void **state)
{
	static const char hlist[] = "from:from:to:to:cc:subject:subject:date:date:message-id:"
	                            "message-id:" ONCE_EACH;
	(void)state;
	roundtrip(plain, rsa_key, hlist);
	roundtrip(plain, ed_key, hlist);
}

static void test_roundtrip_folded(void **state)
{
	static const char text[] =
	    "From: \"A very long display name, with a comma\" <alice@example.com>\r\n"
	    "To: bob@example.net,\r\n carol@example.net,\r\n\tdave@example.net  \r\n"
	    "Subject: a subject that goes on and on and on and on and on and on and on and on\r\n"
	    " and on, folded\r\n"
	    "cc: x@example.org\r\n"
	    "TO: second@example.net\r\n"
	    "X-Trailing: space \t \r\n"
	    "\r\n"
	    "line with trailing space   \r\n\ttabbed line\t\r\n\r\n\r\n";
	static const char hlist[] = "from:from:to:to:to:cc:cc:subject:subject:date:message-id:"
	                            "" ONCE_EACH;
	(void)state;
	roundtrip(text, rsa_key, hlist);
	roundtrip(text, ed_key, hlist);
}

static void test_roundtrip_empty_body(void **state)
{
	static const char empty[] = "From: a@example.com\r\nSubject: nothing\r\n\r\n";
	static const char blank[] = "From: a@example.com\r\nSubject: nothing\r\n\r\n\r\n \r\n\r\n";
	static const char nobody[] = "From: a@example.com\r\nSubject: nothing\r\n";
	static const char hlist[] = "from:from:to:cc:subject:subject:date:message-id:" ONCE_EACH;
	struct dkim_sig a, b;
	(void)state;
	roundtrip(empty, rsa_key, hlist);
	roundtrip(blank, ed_key, hlist);
	roundtrip(nobody, rsa_key, hlist);
	char *v1 = sign_value(empty, ed_key, 0), *v2 = sign_value(blank, ed_key, 1);
	assert_int_equal(dkim_sig_parse(v1, &a, NULL, 0), 0);
	assert_int_equal(dkim_sig_parse(v2, &b, NULL, 0), 0);
	assert_memory_equal(a.bh, b.bh, 32); /* relaxed: trailing empty lines are nothing */
	/* SHA-256 of nothing: an empty body is empty under relaxed canonicalization */
	assert_non_null(strstr(v1, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
	dkim_sig_release(&a);
	dkim_sig_release(&b);
	free(v1), free(v2);
}

/* Signing never touches the message, and needs dkim_msg_eoh(m, 1). */
static void test_sign_contract(void **state)
{
	struct mc_error err;
	char *value = NULL;
	struct dkim_msg *m = feed(plain, 0, 0);
	(void)state;
	assert_int_equal(dkim_msg_sign(m, DOMAIN, "rsa", rsa_key, NOW, &value, &err), -1);
	assert_int_equal(err.kind, MC_EINTERNAL);
	assert_null(value);
	dkim_msg_free(m);
	m = feed(plain, 0, 1);
	assert_int_equal(dkim_msg_sign(m, "bad domain", "rsa", rsa_key, NOW, &value, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_string_equal(err.msg, "invalid DKIM domain 'bad domain'");
	assert_int_equal(dkim_msg_sign(m, DOMAIN, "a;b", rsa_key, NOW, &value, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	dkim_msg_free(m);
	assert_null(dkim_key_load("/nonexistent/key.pem", &err));
	assert_int_equal(err.kind, MC_EIO);
	char *path = write_pem("junk.pem", "not a key\n");
	assert_null(dkim_key_load(path, &err));
	assert_int_equal(err.kind, MC_EDATA);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc8463_verify),         cmocka_unit_test(test_rfc8463_keys_sign),
	    cmocka_unit_test(test_canon_rfc6376_example),  cmocka_unit_test(test_canon_body_edges),
	    cmocka_unit_test(test_canon_body_random),      cmocka_unit_test(test_parse_signature),
	    cmocka_unit_test(test_parse_signature_errors), cmocka_unit_test(test_parse_keyrec),
	    cmocka_unit_test(test_roundtrip_plain),        cmocka_unit_test(test_roundtrip_folded),
	    cmocka_unit_test(test_roundtrip_empty_body),   cmocka_unit_test(test_sign_contract),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
