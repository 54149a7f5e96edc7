/*
 * Unit tests for lib/acme*.c and lib/cert*.c: base64url; JWS (ES256 with
 * a known key, checked with OpenSSL; RS256; kid and POST-as-GET forms);
 * the RFC 7638 thumbprint vector; external account binding; the CSR;
 * problem documents (rateLimited, badNonce, subproblems); directories,
 * valid and not; Retry-After; HTTP-01 token files; names; the store's
 * accounts and attempts; renewal decisions (no CA yet, not due, pausing
 * after failures) on certificates made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "acme.h"
#include "cert.h"
#include "cert_int.h"
#include "dnsrec.h"
#include "instance.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A P-256 key made once with 'openssl genpkey', so results are reproducible. */
static const char known_key[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjmrU/K0w8jii3MIg\n"
                                "tg0sc4SZ8YflhT0b7PP/TZQ3B0yhRANCAAR8Z1c2yrH3o7I9TC8AENlBJ5x/M1n4\n"
                                "uVqo48P2Q+mSNreFoC2zG5hvcugZSbocOZ6TWKvkWoS4NJk0hYJJNYeS\n"
                                "-----END PRIVATE KEY-----\n";

static EVP_PKEY *load_known_key(void)
{
	BIO *b = BIO_new_mem_buf(known_key, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(k);
	return k;
}

/* base64url-decode 's' into a fresh NUL-terminated buffer. */
static char *b64d(const char *s, size_t *len)
{
	unsigned char *raw;
	size_t n;
	assert_int_equal(acme_b64url_decode(s, &raw, &n), 0);
	char *out = xmalloc(n + 1);
	memcpy(out, raw, n);
	out[n] = '\0';
	free(raw);
	if (len)
		*len = n;
	return out;
}

static void test_b64url(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *enc;
		size_t len;
	} v[] = {{"", "", 0},        {"f", "Zg", 1},         {"fo", "Zm8", 2},
	         {"foo", "Zm9v", 3}, {"\xfb\xff", "-_8", 2}, {"\xfb\xef\xff", "--__", 3}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = acme_b64url(v[i].raw, v[i].len);
		assert_string_equal(e, v[i].enc);
		size_t n;
		char *d = b64d(e, &n);
		assert_int_equal(n, v[i].len);
		assert_memory_equal(d, v[i].raw, n);
		free(e);
		free(d);
	}
	unsigned char *raw;
	size_t n;
	assert_int_equal(acme_b64url_decode("Zm9v+", &raw, &n), -1); /* standard alphabet */
	assert_int_equal(acme_b64url_decode("Z", &raw, &n), -1);     /* impossible length */
	assert_int_equal(acme_b64url_decode("Zm9=v", &raw, &n), -1);
}

/* Verify a JWS signature (raw r||s for EC) with OpenSSL over 'input'. */
static int verify_sig(EVP_PKEY *key, const char *alg, const char *input, const char *sig_b64)
{
	size_t len;
	char *sig = b64d(sig_b64, &len);
	unsigned char *der = NULL;
	int derlen = 0;
	if (!strcmp(alg, "ES256")) {
		if (len != 64) {
			free(sig);
			return 0;
		}
		ECDSA_SIG *es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn((unsigned char *)sig, 32, NULL),
		               BN_bin2bn((unsigned char *)sig + 32, 32, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
	} else {
		der = OPENSSL_memdup(sig, len);
		derlen = (int)len;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	         EVP_DigestVerify(md, der, (size_t)derlen, (const unsigned char *)input,
	                          strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	free(sig);
	return ok;
}

/* The parts of a flattened JWS. */
struct jws_parts {
	json_t *hdr;
	char *payload, *input;
	const char *sig;
	json_t *doc;
};

static void jws_split(const char *jws, struct jws_parts *p)
{
	p->doc = json_loads(jws, 0, NULL);
	assert_non_null(p->doc);
	const char *prot = json_string_value(json_object_get(p->doc, "protected"));
	const char *pay = json_string_value(json_object_get(p->doc, "payload"));
	p->sig = json_string_value(json_object_get(p->doc, "signature"));
	assert_non_null(prot);
	assert_non_null(pay);
	assert_non_null(p->sig);
	char *htext = b64d(prot, NULL);
	p->hdr = json_loads(htext, 0, NULL);
	free(htext);
	assert_non_null(p->hdr);
	p->payload = b64d(pay, NULL);
	p->input = xasprintf("%s.%s", prot, pay);
}

static void jws_parts_release(struct jws_parts *p)
{
	json_decref(p->hdr);
	json_decref(p->doc);
	free(p->payload);
	free(p->input);
}

static const char *hstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void test_jws_es256_jwk(void **state)
{
	(void)state;
	EVP_PKEY *key = load_known_key();
	struct mc_error err;
	const char *payload = "{\"termsOfServiceAgreed\":true}";
	char *jws = acme_jws(key, NULL, "n0nce", "https://ca.test/acme/new-acct", payload, &err);
	assert_non_null(jws);
	struct jws_parts p;
	jws_split(jws, &p);
	assert_string_equal(hstr(p.hdr, "alg"), "ES256");
	assert_string_equal(hstr(p.hdr, "nonce"), "n0nce");
	assert_string_equal(hstr(p.hdr, "url"), "https://ca.test/acme/new-acct");
	assert_null(json_object_get(p.hdr, "kid"));
	json_t *jwk = json_object_get(p.hdr, "jwk");
	assert_string_equal(hstr(jwk, "kty"), "EC");
	assert_string_equal(hstr(jwk, "crv"), "P-256");
	/* x and y are the key's public point, 32 bytes each */
	BIGNUM *x = NULL, *y = NULL;
	assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x));
	assert_true(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
	size_t xl, yl;
	char *xr = b64d(hstr(jwk, "x"), &xl), *yr = b64d(hstr(jwk, "y"), &yl);
	assert_int_equal(xl, 32);
	assert_int_equal(yl, 32);
	BIGNUM *xg = BN_bin2bn((unsigned char *)xr, 32, NULL),
	       *yg = BN_bin2bn((unsigned char *)yr, 32, NULL);
	assert_int_equal(BN_cmp(x, xg), 0);
	assert_int_equal(BN_cmp(y, yg), 0);
	assert_string_equal(p.payload, payload);
	assert_true(verify_sig(key, "ES256", p.input, p.sig));
	/* one changed byte of the signed input: the signature no longer holds */
	p.input[strlen(p.input) - 1] ^= 1;
	assert_false(verify_sig(key, "ES256", p.input, p.sig));
	BN_free(x);
	BN_free(y);
	BN_free(xg);
	BN_free(yg);
	free(xr);
	free(yr);
	jws_parts_release(&p);
	free(jws);
	EVP_PKEY_free(key);
}

static void test_jws_kid_post_as_get(void **state)
{
	(void)state;
	EVP_PKEY *key = load_known_key();
	struct mc_error err;
	char *jws = acme_jws(key, "https://ca.test/acme/acct/7", "n2", "https://ca.test/order/1",
	                     NULL, &err);
	assert_non_null(jws);
	struct jws_parts p;
	jws_split(jws, &p);
	assert_string_equal(hstr(p.hdr, "kid"), "https://ca.test/acme/acct/7");
	assert_null(json_object_get(p.hdr, "jwk"));
	assert_string_equal(json_string_value(json_object_get(p.doc, "payload")), "");
	assert_string_equal(p.payload, "");
	assert_true(verify_sig(key, "ES256", p.input, p.sig));
	jws_parts_release(&p);
	free(jws);
	EVP_PKEY_free(key);
}

static void test_jws_rs256(void **state)
{
	(void)state;
	EVP_PKEY *key = EVP_RSA_gen(2048);
	struct mc_error err;
	assert_non_null(key);
	assert_string_equal(acme_jws_alg(key), "RS256");
	char *jws = acme_jws(key, NULL, "n3", "https://ca.test/x", "{}", &err);
	assert_non_null(jws);
	struct jws_parts p;
	jws_split(jws, &p);
	assert_string_equal(hstr(p.hdr, "alg"), "RS256");
	assert_string_equal(hstr(json_object_get(p.hdr, "jwk"), "kty"), "RSA");
	assert_string_equal(hstr(json_object_get(p.hdr, "jwk"), "e"), "AQAB");
	assert_true(verify_sig(key, "RS256", p.input, p.sig));
	jws_parts_release(&p);
	free(jws);
	EVP_PKEY_free(key);
}

/* RFC 7638 section 3.1: the RSA key and its thumbprint. */
static void test_thumbprint_rfc7638(void **state)
{
	(void)state;
	static const char n_b64[] =
	    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
	    "_"
	    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
	    "65YGjQR0_"
	    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
	    "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
	    "kEgU8awapJzKnqDKgw";
	size_t nlen;
	char *n = b64d(n_b64, &nlen);
	BIGNUM *bn = BN_bin2bn((unsigned char *)n, (int)nlen, NULL), *e = BN_new();
	BN_set_word(e, 65537);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
	OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
	struct mc_error err;
	char *tp = acme_thumbprint(key, &err);
	assert_non_null(tp);
	assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	char *ka = acme_key_authorization(key, "tok_en-1", &err);
	assert_string_equal(ka, "tok_en-1.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	free(ka);
	free(tp);
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(e);
	free(n);
}

static void test_eab(void **state)
{
	(void)state;
	/* pebble's example binding */
	static const char hmac[] =
	    "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
	EVP_PKEY *key = load_known_key();
	struct mc_error err;
	json_t *eab = acme_eab(key, "kid-1", hmac, "https://ca.test/new-acct", &err);
	assert_non_null(eab);
	char *text = json_dumps(eab, JSON_COMPACT);
	struct jws_parts p;
	jws_split(text, &p);
	assert_string_equal(hstr(p.hdr, "alg"), "HS256");
	assert_string_equal(hstr(p.hdr, "kid"), "kid-1");
	assert_string_equal(hstr(p.hdr, "url"), "https://ca.test/new-acct");
	assert_null(json_object_get(p.hdr, "nonce")); /* RFC 8555 7.3.4: no nonce */
	/* the payload is the account's JWK */
	json_t *jwk = json_loads(p.payload, 0, NULL), *want = acme_jwk(key, &err);
	assert_true(json_equal(jwk, want));
	/* and the MAC is HMAC-SHA256 under the decoded key */
	size_t klen, slen;
	char *k = b64d(hmac, &klen), *sig = b64d(p.sig, &slen);
	unsigned char mac[32];
	size_t maclen = 0;
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k, klen,
	                          (unsigned char *)p.input, strlen(p.input), mac, sizeof(mac),
	                          &maclen));
	assert_int_equal(slen, 32);
	assert_memory_equal(sig, mac, 32);
	assert_null(acme_eab(key, "kid-1", "not base64url!", "https://ca.test/new-acct", &err));
	assert_int_equal(err.kind, MC_EUSAGE);
	json_decref(jwk);
	json_decref(want);
	free(k);
	free(sig);
	jws_parts_release(&p);
	free(text);
	json_decref(eab);
	EVP_PKEY_free(key);
}

static void test_csr(void **state)
{
	(void)state;
	EVP_PKEY *key = load_known_key();
	struct mc_error err;
	const char *names[] = {"mail.example.org", "mta-sts.example.org", "autoconfig.example.org"};
	unsigned char *der;
	size_t len;
	assert_int_equal(acme_csr(key, names, 3, &der, &len, &err), 0);
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	EVP_PKEY *pub = X509_REQ_get_pubkey(req);
	assert_int_equal(EVP_PKEY_eq(pub, key), 1);
	char cn[256];
	assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
	                                      sizeof(cn)) > 0);
	assert_string_equal(cn, "mail.example.org");
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	assert_true(idx >= 0);
	GENERAL_NAMES *gens = X509V3_EXT_d2i(X509v3_get_ext(exts, idx));
	assert_int_equal(sk_GENERAL_NAME_num(gens), 3);
	for (int i = 0; i < 3; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		assert_int_equal(g->type, GEN_DNS);
		assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.dNSName), names[i]);
	}
	assert_int_equal(acme_csr(key, names, 0, &der, &len, &err), -1);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	free(der);
	EVP_PKEY_free(key);
}

static void test_problems(void **state)
{
	(void)state;
	struct acme_problem p;
	struct mc_error err;
	const char *rl = "{\"type\": \"urn:ietf:params:acme:error:rateLimited\", \"detail\": "
	                 "\"too many certificates (5) already issued for this exact set of "
	                 "domains\", \"status\": 429}";
	assert_int_equal(acme_problem_parse(rl, strlen(rl), &p), 0);
	assert_string_equal(acme_problem_name(&p), "rateLimited");
	assert_int_equal(p.status, 429);
	assert_int_equal(acme_problem_fail(&p, "the CA refused the order", 3600, &err), -1);
	assert_int_equal(err.kind, MC_ETEMP);
	assert_string_equal(err.msg, "the CA refused the order: too many certificates (5) already "
	                             "issued for this exact set of domains (rateLimited; retry "
	                             "after 3600 s)");
	acme_problem_release(&p);

	const char *bn = "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has "
	                 "an invalid anti-replay nonce: \\\"x\\\"\",\"status\":400}";
	assert_int_equal(acme_problem_parse(bn, strlen(bn), &p), 0);
	assert_string_equal(acme_problem_name(&p), "badNonce");
	acme_problem_fail(&p, "what", -1, &err);
	assert_int_equal(err.kind, MC_ETEMP);
	assert_non_null(strstr(err.msg, "(badNonce)"));
	acme_problem_release(&p);

	const char *sub =
	    "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\",\"detail\":\"some names "
	    "are refused\",\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:"
	    "rejectedIdentifier\",\"detail\":\"policy forbids "
	    "it\",\"identifier\":{\"type\":\"dns\","
	    "\"value\":\"mail.example.test\"}},{\"type\":\"urn:ietf:params:acme:error:caa\","
	    "\"detail\":\"CAA forbids\"}]}";
	assert_int_equal(acme_problem_parse(sub, strlen(sub), &p), 0);
	assert_int_equal(p.nsub, 2);
	assert_string_equal(p.sub[0], "mail.example.test: policy forbids it (rejectedIdentifier)");
	assert_string_equal(p.sub[1], "CAA forbids (caa)");
	acme_problem_fail(&p, "the CA refused the order", -1, &err);
	assert_int_equal(err.kind, MC_EDATA);
	assert_string_equal(err.msg, "the CA refused the order: some names are refused "
	                             "(rejectedIdentifier); mail.example.test: policy forbids it "
	                             "(rejectedIdentifier); CAA forbids (caa)");
	acme_problem_release(&p);

	const char *eab = "{\"type\":\"urn:ietf:params:acme:error:externalAccountRequired\","
	                  "\"detail\":\"an EAB is needed\"}";
	assert_int_equal(acme_problem_parse(eab, strlen(eab), &p), 0);
	acme_problem_fail(&p, "x", -1, &err);
	assert_int_equal(err.kind, MC_ECONFIG);
	assert_non_null(strstr(err.msg, "--eab-kid"));
	acme_problem_release(&p);

	const char *srv = "{\"type\":\"urn:example:other\",\"status\":503}";
	assert_int_equal(acme_problem_parse(srv, strlen(srv), &p), 0);
	acme_problem_fail(&p, "x", -1, &err);
	assert_int_equal(err.kind, MC_ETEMP);
	assert_string_equal(err.msg, "x: no detail given (urn:example:other)");
	acme_problem_release(&p);

	/* not problem documents */
	const char *bad[] = {"<html>503</html>", "[1,2]", "{\"status\": 400}", ""};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(acme_problem_parse(bad[i], strlen(bad[i]), &p), -1);
}

static const char pebble_dir[] =
    "{\"keyChange\":\"https://ca.test:14000/rollover-account-key\","
    "\"meta\":{\"externalAccountRequired\":false,\"termsOfService\":\"data:text/"
    "plain,Do%20what%20thou%20wilt\"},\"newAccount\":\"https://ca.test:14000/sign-me-up\","
    "\"newNonce\":\"https://ca.test:14000/nonce-plz\","
    "\"newOrder\":\"https://ca.test:14000/order-plz\","
    "\"revokeCert\":\"https://ca.test:14000/revoke-cert\"}";

static void test_directory(void **state)
{
	(void)state;
	struct acme_directory d;
	struct mc_error err;
	assert_int_equal(acme_directory_parse("https://ca.test:14000/dir", pebble_dir,
	                                      strlen(pebble_dir), &d, &err),
	                 0);
	assert_string_equal(d.new_nonce, "https://ca.test:14000/nonce-plz");
	assert_string_equal(d.new_account, "https://ca.test:14000/sign-me-up");
	assert_string_equal(d.new_order, "https://ca.test:14000/order-plz");
	assert_string_equal(d.key_change, "https://ca.test:14000/rollover-account-key");
	assert_string_equal(d.terms, "data:text/plain,Do%20what%20thou%20wilt");
	assert_int_equal(d.eab_required, 0);
	acme_directory_release(&d);

	static const struct {
		const char *doc, *msg;
	} bad[] = {
	    {"<html>It works!</html>", "'U' is not an ACME directory: not JSON"},
	    {"[\"newNonce\"]", "'U' is not an ACME directory: not a JSON object"},
	    {"{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\"}",
	     "'U' is not an ACME directory: 'newOrder' is missing"},
	    {"{\"newNonce\":\"http://a/n\",\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/"
	     "o\"}",
	     "'U' is not an ACME directory: 'newNonce' is not an https URL"},
	    {"{\"newNonce\":7,\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
	     "'U' is not an ACME directory: 'newNonce' is not an https URL"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    acme_directory_parse("U", bad[i].doc, strlen(bad[i].doc), &d, &err), -1);
		assert_int_equal(err.kind, MC_EUNAVAIL);
		assert_string_equal(err.msg, bad[i].msg);
		assert_null(d.new_nonce);
	}
	const char *eab =
	    "{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\","
	    "\"newOrder\":\"https://a/o\",\"meta\":{\"externalAccountRequired\":true}}";
	assert_int_equal(acme_directory_parse("U", eab, strlen(eab), &d, &err), 0);
	assert_int_equal(d.eab_required, 1);
	assert_null(d.terms);
	acme_directory_release(&d);
}

static void test_retry_after_and_urls(void **state)
{
	(void)state;
	struct mc_error err;
	time_t now = 1700000000; /* 2023-11-14T22:13:20Z */
	assert_int_equal(acme_retry_after("120", now), 120);
	assert_int_equal(acme_retry_after("0", now), 0);
	assert_int_equal(acme_retry_after("Tue, 14 Nov 2023 22:23:20 GMT", now), 600);
	assert_int_equal(acme_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
	assert_int_equal(acme_retry_after("soon", now), -1);
	assert_int_equal(acme_retry_after("", now), -1);
	assert_int_equal(acme_retry_after(NULL, now), -1);
	assert_int_equal(acme_url_check("https://ca.test:14000/dir", &err), 0);
	assert_int_equal(acme_url_check("http://ca.test/dir", &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_int_equal(acme_url_check("ca.test/dir", &err), -1);
	assert_int_equal(acme_url_check("https://", &err), -1);
}

static void test_webroot(void **state)
{
	(void)state;
	struct mc_error err;
	struct stat sb;
	char *root = xasprintf("%s/webroot", dir);
	struct acme_webroot w = {root};
	mode_t old = umask(077); /* files are 0644 whatever the umask */
	assert_int_equal(acme_webroot_publish(&w, "Tok-en_1", "Tok-en_1.thumb", &err), 0);
	umask(old);
	char *path = xasprintf("%s/.well-known/acme-challenge/Tok-en_1", root);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	FILE *f = fopen(path, "r");
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "Tok-en_1.thumb");
	char *chdir_ = xasprintf("%s/.well-known/acme-challenge", root);
	assert_int_equal(stat(chdir_, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	acme_webroot_withdraw(&w, "Tok-en_1");
	assert_int_equal(access(path, F_OK), -1);
	/* tokens are base64url: never a path */
	assert_int_equal(acme_webroot_publish(&w, "../../etc/x", "k", &err), -1);
	assert_int_equal(acme_webroot_publish(&w, "", "k", &err), -1);
	free(chdir_);
	free(path);
	free(root);
}

static void test_key_load_or_create(void **state)
{
	(void)state;
	struct mc_error err;
	struct stat sb;
	char *path = xasprintf("%s/acct.pem", dir);
	EVP_PKEY *a, *b;
	int created;
	assert_int_equal(acme_key_load_or_create(path, &a, &created, &err), 0);
	assert_int_equal(created, 1);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_string_equal(acme_jws_alg(a), "ES256");
	assert_int_equal(acme_key_load_or_create(path, &b, &created, &err), 0);
	assert_int_equal(created, 0);
	assert_int_equal(EVP_PKEY_eq(a, b), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	FILE *f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(acme_key_load_or_create(path, &a, &created, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	free(path);
}

static void test_names(void **state)
{
	(void)state;
	struct mc_error err;
	char **v;
	size_t n;
	assert_int_equal(
	    cert_names_parse(
	        "Mail.Example.org, mta-sts.example.org,mail.example.org,bücher.example", &v, &n,
	        &err),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "mail.example.org");
	assert_string_equal(v[1], "mta-sts.example.org");
	assert_string_equal(v[2], "xn--bcher-kva.example");
	cert_names_free(v, n);
	assert_int_equal(cert_names_parse("*.example.org", &v, &n, &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_non_null(strstr(err.msg, "wildcard"));
	assert_int_equal(cert_names_parse("a..b", &v, &n, &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_int_equal(cert_names_parse(" , ", &v, &n, &err), -1);
	assert_string_equal(err.msg, "no names given");
}

static void test_store_accounts_attempts(void **state)
{
	(void)state;
	struct mc_error err;
	struct acme_account_row a = {"https://ca.test/dir",
	                             "https://ca.test/acct/1",
	                             "/k/a.pem",
	                             "admin@example.org",
	                             "",
	                             NULL};
	struct acme_account_row got;
	assert_int_equal(store_acme_account_get(ctx.st, a.directory, &got, &err), 0);
	assert_int_equal(store_acme_account_put(ctx.st, &a, &err), 0);
	a.url = "https://ca.test/acct/2";
	a.ca_file = "/ca.pem";
	assert_int_equal(store_acme_account_put(ctx.st, &a, &err), 0); /* replaces */
	assert_int_equal(store_acme_account_get(ctx.st, a.directory, &got, &err), 1);
	assert_string_equal(got.url, "https://ca.test/acct/2");
	assert_string_equal(got.ca_file, "/ca.pem");
	acme_account_row_release(&got);

	struct cert_attempt_row r = {0,
	                             "2026-01-01T00:00:00Z",
	                             NULL,
	                             "request",
	                             "unit",
	                             "https://ca.test/dir",
	                             "a.example,b.example",
	                             1,
	                             "issued",
	                             "issuer x",
	                             "0a1b",
	                             "2026-04-01T00:00:00Z",
	                             1234};
	struct cert_attempt_row last;
	assert_int_equal(store_cert_attempt_last_installed(ctx.st, &last, &err), 0);
	assert_int_equal(store_cert_attempt_insert(ctx.st, &r, NULL, &err), 0);
	r.result = "failed";
	r.kind = "renew";
	r.serial = "";
	assert_int_equal(store_cert_attempt_insert(ctx.st, &r, NULL, &err), 0);
	r.result = "bogus";
	assert_int_equal(store_cert_attempt_insert(ctx.st, &r, NULL, &err), -1);
	struct cert_attempt_list l;
	assert_int_equal(store_cert_attempt_list(ctx.st, 10, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].result, "failed"); /* newest first */
	assert_string_equal(l.v[1].serial, "0a1b");
	assert_int_equal(l.v[1].duration_ms, 1234);
	assert_int_equal(l.v[1].names_given, 1);
	assert_true(strlen(l.v[0].finished) == 20);
	cert_attempt_list_release(&l);
	assert_int_equal(store_cert_attempt_last_installed(ctx.st, &last, &err), 1);
	assert_string_equal(last.kind, "request");
	cert_attempt_row_release(&last);
}

/* A certificate for 'names' valid from now+'from_days' to now+'to_days',
 * issued by a throw-away CA (so not self-signed), key 'key'; PEM file. */
/* A leaf for 'key' issued by "unit CA" with the key 'by' (NULL: a new one). */
static void make_cert_by(const char *path, EVP_PKEY *key, const char *san, long from_days,
                         long to_days, EVP_PKEY *by)
{
	EVP_PKEY *ca = by ? by : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *issuer = X509_NAME_new(), *subj = X509_NAME_new();
	X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC, (unsigned char *)"unit CA", -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (unsigned char *)"leaf", -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
	X509_set_issuer_name(x, issuer);
	X509_set_subject_name(x, subj);
	X509_set_pubkey(x, key);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, ca, EVP_sha256()) > 0);
	FILE *f = fopen(path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	X509_NAME_free(issuer);
	X509_NAME_free(subj);
	X509_free(x);
	if (!by)
		EVP_PKEY_free(ca);
}

static void make_cert(const char *path, EVP_PKEY *key, const char *san, long from_days,
                      long to_days)
{
	make_cert_by(path, key, san, from_days, to_days, NULL);
}

/* Append the self-signed certificate "CN = <cn>" of 'ca' to 'path'. */
static void append_ca(const char *path, EVP_PKEY *ca, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 365 * 86400);
	X509_set_issuer_name(x, name);
	X509_set_subject_name(x, name);
	X509_set_pubkey(x, ca);
	assert_true(X509_sign(x, ca, EVP_sha256()) > 0);
	FILE *f = fopen(path, "a");
	PEM_write_X509(f, x);
	fclose(f);
	X509_NAME_free(name);
	X509_free(x);
}

/* Point tls.* of the instance into the temporary directory. */
static EVP_PKEY *tls_files(void)
{
	static int n;
	struct mc_error err;
	int created;
	EVP_PKEY *key;
	free(cfg.tls_cert_file);
	free(cfg.tls_key_file);
	free(cfg.hostname);
	cfg.tls_cert_file = xasprintf("%s/cert%d.pem", dir, n);
	cfg.tls_key_file = xasprintf("%s/key%d.pem", dir, n++);
	cfg.hostname = xstrdup("mail.example.org");
	assert_int_equal(acme_key_load_or_create(cfg.tls_key_file, &key, &created, &err), 0);
	return key;
}

static void add_attempt(const char *result, const char *names, int given)
{
	struct mc_error err;
	struct cert_attempt_row r = {0,
	                             "2026-01-01T00:00:00Z",
	                             NULL,
	                             "request",
	                             "unit",
	                             "https://ca.test/dir",
	                             (char *)names,
	                             given,
	                             (char *)result,
	                             "",
	                             "",
	                             "",
	                             1};
	assert_int_equal(store_cert_attempt_insert(ctx.st, &r, NULL, &err), 0);
}

static void test_renew_decisions(void **state)
{
	(void)state;
	struct cert_options o = {0};
	struct cert_report r;
	struct mc_error err;
	EVP_PKEY *key = tls_files();
	time_t now = time(NULL) + 60; /* clear of day boundaries */
	/* nothing from a CA yet */
	assert_int_equal(cert_renew_due(&ctx, now, &o, &r, &err), 0);
	assert_int_equal(r.action, CERT_NO_CA);
	cert_report_release(&r);
	/* 80 of 90 days left: not due, due at two thirds of the lifetime */
	make_cert(cfg.tls_cert_file, key, "DNS:mail.example.org,DNS:www.example.org", -10, 80);
	add_attempt("issued", "mail.example.org,www.example.org", 1);
	assert_int_equal(cert_renew_due(&ctx, now, &o, &r, &err), 0);
	assert_int_equal(r.action, CERT_NOT_DUE);
	assert_string_equal(r.reason, "79 of 90 days left; renews when a third is left");
	assert_true(r.next > now + 49 * 86400 && r.next < now + 51 * 86400);
	assert_int_equal(r.nnames, 2); /* the names chosen last time */
	assert_string_equal(r.names[1], "www.example.org");
	cert_report_release(&r);
	/* ten days left, the last attempt failed just now: pausing */
	make_cert(cfg.tls_cert_file, key, "DNS:mail.example.org,DNS:www.example.org", -80, 10);
	add_attempt("failed", "mail.example.org,www.example.org", 1);
	o.backoff = 1;
	assert_int_equal(cert_renew_due(&ctx, now, &o, &r, &err), 0);
	assert_int_equal(r.action, CERT_WAITING);
	assert_string_equal(r.reason, "9 of 90 days left");
	assert_true(r.next > now + 3000 && r.next <= now + 3600);
	cert_report_release(&r);
	/* a name missing from the served certificate makes it due as well */
	make_cert(cfg.tls_cert_file, key, "DNS:mail.example.org", -10, 80);
	assert_int_equal(cert_renew_due(&ctx, now, &o, &r, &err), 0);
	assert_int_equal(r.action, CERT_WAITING);
	assert_string_equal(r.reason, "1 name(s) not in the served certificate");
	cert_report_release(&r);
	EVP_PKEY_free(key);
}

static void test_chain_check(void **state)
{
	(void)state;
	struct mc_error err;
	struct cert_info info;
	EVP_PKEY *key = tls_files(), *other = EVP_EC_gen("P-256");
	make_cert(cfg.tls_cert_file, key, "DNS:mail.example.org,DNS:mta-sts.example.org", -1, 89);
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(info.key_matches, 1);
	assert_int_equal(info.self_signed, 0);
	assert_int_equal(info.chain, 1);
	assert_string_equal(info.serial, "2a");
	assert_string_equal(info.issuer, "CN = unit CA");
	char want[65];
	struct mc_error e2;
	assert_int_equal(dnsrec_tlsa_from_key(cfg.tls_key_file, want, &e2), 0);
	assert_string_equal(info.tlsa, want);
	const char *names[] = {"mta-sts.example.org", "MAIL.example.org", "autoconfig.example.org"};
	assert_int_equal(cert_chain_check(&info, names, 2, time(NULL), &err), 0);
	assert_int_equal(cert_chain_check(&info, names, 3, time(NULL), &err), -1);
	assert_string_equal(err.msg,
	                    "the CA's certificate lacks the name 'autoconfig.example.org'");
	assert_int_equal(cert_chain_check(&info, names, 2, time(NULL) + 100 * 86400, &err), -1);
	cert_info_release(&info);
	make_cert(cfg.tls_cert_file, other, "DNS:mail.example.org", -1, 89);
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(cert_chain_check(&info, names, 1, time(NULL), &err), -1);
	assert_string_equal(err.msg, "the CA's certificate is not for our key");
	cert_info_release(&info);
	assert_int_equal(cert_info_parse("junk", 4, NULL, &info, &err), -1);
	/* a chain: each certificate issued and signed by the next */
	EVP_PKEY *ca = EVP_EC_gen("P-256"), *impostor = EVP_EC_gen("P-256");
	make_cert_by(cfg.tls_cert_file, key, "DNS:mail.example.org", -1, 89, ca);
	append_ca(cfg.tls_cert_file, ca, "unit CA");
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(info.chain, 2);
	assert_int_equal(info.chain_broken, 0);
	assert_int_equal(cert_chain_check(&info, names + 1, 1, time(NULL), &err), 0);
	cert_info_release(&info);
	/* the same name, another key: the signature does not verify */
	make_cert_by(cfg.tls_cert_file, key, "DNS:mail.example.org", -1, 89, ca);
	append_ca(cfg.tls_cert_file, impostor, "unit CA");
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(info.chain_broken, 1);
	assert_int_equal(cert_chain_check(&info, names + 1, 1, time(NULL), &err), -1);
	assert_string_equal(err.msg, "the CA's certificate chain is broken: certificate 1 is not "
	                             "issued and signed by certificate 2");
	cert_info_release(&info);
	/* the right key under another name: not its issuer */
	make_cert_by(cfg.tls_cert_file, key, "DNS:mail.example.org", -1, 89, ca);
	append_ca(cfg.tls_cert_file, ca, "another CA");
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(info.chain_broken, 1);
	cert_info_release(&info);
	/* a self-signed leaf is not what a CA issues */
	unlink(cfg.tls_cert_file);
	append_ca(cfg.tls_cert_file, key, "mail.example.org");
	assert_int_equal(cert_info_read(cfg.tls_cert_file, cfg.tls_key_file, &info, &err), 0);
	assert_int_equal(cert_chain_check(&info, names + 1, 1, time(NULL), &err), -1);
	assert_string_equal(err.msg, "the CA's certificate is self-signed");
	EVP_PKEY_free(ca);
	EVP_PKEY_free(impostor);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
	cert_info_release(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_jws_es256_jwk),
	    cmocka_unit_test(test_jws_kid_post_as_get),
	    cmocka_unit_test(test_jws_rs256),
	    cmocka_unit_test(test_thumbprint_rfc7638),
	    cmocka_unit_test(test_eab),
	    cmocka_unit_test(test_csr),
	    cmocka_unit_test(test_problems),
	    cmocka_unit_test(test_directory),
	    cmocka_unit_test(test_retry_after_and_urls),
	    cmocka_unit_test(test_webroot),
	    cmocka_unit_test(test_key_load_or_create),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_store_accounts_attempts, instance_setup,
	                                    instance_teardown),
	    cmocka_unit_test_setup_teardown(test_renew_decisions, instance_setup,
	                                    instance_teardown),
	    cmocka_unit_test_setup_teardown(test_chain_check, instance_setup, instance_teardown),
	};
	return run_in_tmpdir(tests);
}
