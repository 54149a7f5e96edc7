/*
 * dkim_fixture.h - what the DKIM message tests share (included once, by
 * a test program, after cmocka.h): keys made at setup (RSA 2048 and
 * Ed25519, by lib/dkim.c) with their key records in a fake DNS zone
 * (fake_dns.h), messages fed to struct dkim_msg in chunks of
 * any size, and a signer written independently of lib/dkim_sign.c (it
 * shares only the canonicalization primitives) for signatures ours never
 * makes: simple canonicalization, l=, x=, rsa-sha1, weak keys.
 */
#ifndef MAILCTL_TEST_DKIM_FIXTURE_H
#define MAILCTL_TEST_DKIM_FIXTURE_H

#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dkim.h"
#include "dkim_msg.h"
#include "strbuf.h"
#include "xalloc.h"

#include "fake_dns.h"

#define FIXTURE static __attribute__((unused))

#define NOW    1700000000
#define DOMAIN "example.com"

static char dir[] = "/tmp/mailctl-dkim.XXXXXX";
static struct dkim_key *rsa_key, *ed_key;
static EVP_PKEY *rsa_pkey, *ed_pkey; /* the same keys, for signatures made by the tests */
static char *rsa_record, *ed_record;

static __attribute__((unused)) const char plain[] = "From: Alice <alice@example.com>\r\n"
                                                    "To: Bob <bob@example.net>\r\n"
                                                    "Subject: hello there\r\n"
                                                    "Date: Mon, 13 Nov 2023 22:13:20 +0000\r\n"
                                                    "Message-ID: <1@example.com>\r\n"
                                                    "X-Mailer: test\r\n"
                                                    "\r\n"
                                                    "Hi Bob,\r\n"
                                                    "\r\n"
                                                    "lunch?  \r\n";

/* ---- messages ---- */

struct tmsg {
	size_t n;
	char *name[1100], *value[1100];
	const char *body;
};

/* Split a message written with CRLF or LF line ends into fields, as a
 * milter is given them, and its body. */
FIXTURE void tmsg_parse(struct tmsg *t, const char *text)
{
	const char *p = text;
	t->n = 0;
	while (*p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *end = p, *vend;
		assert_non_null(colon);
		for (;;) { /* the field ends at a line end not followed by white space */
			end = strchr(end, '\n');
			assert_non_null(end);
			if (end[1] != ' ' && end[1] != '\t')
				break;
			end++;
		}
		vend = end[-1] == '\r' ? end - 1 : end;
		assert_true(t->n < 1100);
		t->name[t->n] = xstrndup(p, (size_t)(colon - p));
		t->value[t->n++] = xstrndup(colon + 1, (size_t)(vend - colon - 1));
		p = end + 1;
	}
	t->body = *p == '\r' ? p + 2 : *p ? p + 1 : p;
}

FIXTURE void tmsg_release(struct tmsg *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->name[i]);
		free(t->value[i]);
	}
}

/* The message fed in body chunks of 'chunk' bytes (0: all at once). */
FIXTURE struct dkim_msg *feed(const char *text, size_t chunk, int sign)
{
	static struct tmsg t;
	struct dkim_msg *m = dkim_msg_new();
	size_t len;
	tmsg_parse(&t, text);
	for (size_t i = 0; i < t.n; i++)
		dkim_msg_header(m, t.name[i], t.value[i]);
	dkim_msg_eoh(m, sign);
	len = strlen(t.body);
	chunk = chunk ? chunk : len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		dkim_msg_body(m, t.body + off, len - off < chunk ? len - off : chunk);
	tmsg_release(&t);
	return m;
}

/* 'text' with every CRLF as LF. */
FIXTURE char *to_lf(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = text; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			strbuf_addch(&sb, *p);
	return strbuf_detach(&sb);
}

FIXTURE char *to_crlf(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = text; *p; p++)
		strbuf_addstr(&sb, *p == '\n' && (p == text || p[-1] != '\r') ? "\r\n"
		                                                              : (char[]){*p, 0});
	return strbuf_detach(&sb);
}

/* 'text' with the first 'from' replaced by 'to'. */
FIXTURE char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	return xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

FIXTURE char *read_golden(const char *name)
{
	char *path = xasprintf("%s/tests/unit/golden/dkim/%s", MAILCTL_SRC, name);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	free(path);
	return strbuf_detach(&sb);
}

/* ---- a fake DNS ---- */

/* A zone for key records: DKIM asks for nothing but TXT. */
#define KEY_ZONE                                                                                   \
	{                                                                                          \
		.only = LDNS_RR_TYPE_TXT                                                           \
	}

FIXTURE void std_zone(struct fake_dns *z)
{
	*z = (struct fake_dns)KEY_ZONE;
	fake_dns_txt(z, "rsa._domainkey.example.com", rsa_record);
	fake_dns_txt(z, "ed._domainkey.example.com", ed_record);
}

/* Verify 'text' against 'z' (the standard zone when NULL). */
FIXTURE size_t verify(const char *text, struct fake_dns *z, size_t chunk, time_t now,
                      struct dkim_verdict **v)
{
	struct fake_dns std;
	struct dkim_msg *m = feed(text, chunk, 0);
	size_t n;
	if (!z)
		std_zone(&std);
	n = dkim_msg_verify(m, fake_dns_lookup, z ? z : &std, now, v);
	if (!z)
		fake_dns_release(&std);
	dkim_msg_free(m);
	return n;
}

/* The one verdict of 'text' is 'result' with 'why'. */
FIXTURE void expect_one(const char *text, struct fake_dns *z, enum dkim_result result,
                        const char *why)
{
	struct dkim_verdict *v;
	assert_int_equal(verify(text, z, 0, NOW, &v), 1);
	assert_string_equal(dkim_result_name(v[0].result), dkim_result_name(result));
	assert_string_equal(v[0].why, why);
	free(v);
}

/* ---- signing ---- */

FIXTURE char *sign_value(const char *text, const struct dkim_key *k, size_t chunk)
{
	struct mc_error err;
	char *value = NULL;
	struct dkim_msg *m = feed(text, chunk, 1);
	assert_int_equal(dkim_msg_sign(m, DOMAIN, k == ed_key ? "ed" : "rsa", k, NOW, &value, &err),
	                 0);
	dkim_msg_free(m);
	return value;
}

FIXTURE char *with_sig(const char *value, const char *text)
{
	return xasprintf("DKIM-Signature:%s\r\n%s", value, text);
}

FIXTURE char *sign_text(const char *text, const struct dkim_key *k)
{
	char *value = sign_value(text, k, 0), *out = with_sig(value, text);
	free(value);
	return out;
}

FIXTURE void sink_add(void *ctx, const void *data, size_t len)
{
	strbuf_add(ctx, data, len);
}

FIXTURE char *canon_body(int relaxed, const char *body, size_t len, size_t chunk)
{
	struct strbuf sb = STRBUF_INIT;
	struct dkim_body_canon *c = dkim_body_canon_new(relaxed, sink_add, &sb);
	chunk = chunk ? chunk : len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		dkim_body_canon_feed(c, body + off, len - off < chunk ? len - off : chunk);
	unsigned long long total = dkim_body_canon_end(c);
	assert_int_equal(total, sb.len);
	dkim_body_canon_free(c);
	return strbuf_detach(&sb);
}

FIXTURE char *b64(const unsigned char *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

FIXTURE char *sign_raw(EVP_PKEY *key, const struct strbuf *data)
{
	unsigned char hash[32], sig[1024];
	size_t siglen = sizeof(sig);
	int ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_Digest(data->buf, data->len, hash, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, ed ? hash : (unsigned char *)data->buf,
	                                ed ? 32 : data->len),
	                 1);
	EVP_MD_CTX_free(md);
	return b64(sig, siglen);
}

/* A signature made by the test alone (only the canonicalization
 * primitives are shared): 'tags' are every tag but c=, l=, h=, bh= and
 * b=; 'l' is l= or -1; fields are selected bottom-up for 'hlist'. */
FIXTURE char *craft(const char *text, const char *tags, const char *hlist, const char *c,
                    long long l, EVP_PKEY *key)
{
	struct tmsg t;
	struct strbuf data = STRBUF_INIT;
	int hrel = strncmp(c, "relaxed", 7) == 0, brel = strstr(c, "/relaxed") != NULL;
	unsigned char bh[32], used[1100] = {0};
	char *body, *value, *canon, *sig, *hl = xstrdup(hlist), *save = NULL;
	size_t blen, clen;
	tmsg_parse(&t, text);
	body = canon_body(brel, t.body, strlen(t.body), 0);
	blen = l >= 0 && (size_t)l < strlen(body) ? (size_t)l : strlen(body);
	assert_int_equal(EVP_Digest(body, blen, bh, NULL, EVP_sha256(), NULL), 1);
	for (char *name = strtok_r(hl, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
		for (size_t i = t.n; i-- > 0;) {
			if (!used[i] && strcasecmp(t.name[i], name) == 0) {
				used[i] = 1;
				dkim_canon_header(hrel, t.name[i], t.value[i], &canon, &clen);
				strbuf_add(&data, canon, clen);
				free(canon);
				break;
			}
		}
	}
	free(body);
	body = b64(bh, 32);
	char lt[32] = "";
	if (l >= 0)
		snprintf(lt, sizeof(lt), " l=%lld;", l);
	value = xasprintf(" %s; c=%s;%s h=%s; bh=%s; b=", tags, c, lt, hlist, body);
	dkim_canon_header(hrel, "DKIM-Signature", value, &canon, &clen);
	strbuf_add(&data, canon, clen - 2);
	sig = sign_raw(key, &data);
	char *out = xasprintf("%s%s", value, sig);
	free(canon), free(sig), free(value), free(body), free(hl);
	strbuf_release(&data);
	tmsg_release(&t);
	return out;
}

/* 'text' with a crafted signature ahead of it. */
FIXTURE char *crafted(const char *text, const char *tags, const char *c, long long l, EVP_PKEY *key)
{
	char *value = craft(text, tags, "from:to:subject", c, l, key), *out = with_sig(value, text);
	free(value);
	return out;
}

/* ---- setup ---- */

FIXTURE char *write_pem(const char *name, const char *pem)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(pem, f);
	fclose(f);
	return path;
}

FIXTURE void make_key(const char *alg, struct dkim_key **key, EVP_PKEY **pkey, char **record)
{
	struct mc_error err;
	struct dkim_new k;
	assert_int_equal(dkim_new_generate(&k, alg, 0, &err), 0);
	char *path = write_pem(alg, k.pem);
	BIO *bio = BIO_new_mem_buf(k.pem, -1);
	*pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(*pkey);
	BIO_free(bio);
	*key = dkim_key_load(path, &err);
	assert_non_null(*key);
	assert_string_equal(dkim_key_algorithm(*key), alg);
	*record = dkim_record_value(alg, k.public_key);
	unlink(path);
	free(path);
	dkim_new_release(&k);
}

FIXTURE int group_setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	make_key("rsa", &rsa_key, &rsa_pkey, &rsa_record);
	make_key("ed25519", &ed_key, &ed_pkey, &ed_record);
	return 0;
}

FIXTURE int group_teardown(void **state)
{
	(void)state;
	dkim_key_free(rsa_key);
	dkim_key_free(ed_key);
	EVP_PKEY_free(rsa_pkey);
	EVP_PKEY_free(ed_pkey);
	free(rsa_record);
	free(ed_record);
	/* what a failed test may have left behind */
	static const char *const files[] = {"rsa", "ed25519", "rfc-ed.pem", "junk.pem"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
		free(path);
	}
	return rmdir(dir);
}

#endif
