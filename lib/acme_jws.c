/* ACME keys, JWK, JWS and CSR with OpenSSL 3 (see acme.h). */
#include "acme.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int ossl_fail(struct mc_error *err, const char *what)
{
	char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	ERR_clear_error();
	return mc_fail(err, MC_EINTERNAL, "cannot %s: %s", what, buf);
}

char *acme_b64url(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

int acme_b64url_decode(const char *s, unsigned char **out, size_t *len)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	char *std = xmalloc(n + 4);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+' || c == '/' || c == '=') {
			free(std);
			return -1;
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	size_t pad = (4 - n % 4) % 4;
	memset(std + n, '=', pad);
	std[n + pad] = '\0';
	unsigned char *buf = xmalloc(n + pad + 1);
	int got = EVP_DecodeBlock(buf, (unsigned char *)std, (int)(n + pad));
	free(std);
	if (got < 0) {
		free(buf);
		return -1;
	}
	*len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	*out = buf;
	return 0;
}

EVP_PKEY *acme_key_load(const char *path, struct mc_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		mc_fail(err, MC_EIO, "cannot open '%s': %s", path, mc_strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		ERR_clear_error();
		mc_fail(err, MC_EDATA, "'%s' is not a PEM private key", path);
	}
	return k;
}

/* Write 'key' to a temporary file and link it to 'path': never replaces. */
static int key_write_new(const char *path, EVP_PKEY *key, struct mc_error *err)
{
	char *tmp = xasprintf("%s.mailctl-new", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int rc = 0;
	if (!f) {
		rc = mc_fail(err, MC_EIO, "cannot create '%s': %s", tmp, mc_strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) &&
		         fflush(f) == 0 && fsync(fileno(f)) == 0;
		if (fclose(f) != 0 || !ok)
			rc = mc_fail(err, MC_EIO, "cannot write '%s'", tmp);
		else if (link(tmp, path) < 0)
			rc = mc_fail(err, MC_EIO, "cannot create '%s': %s", path,
			             mc_strerror(errno));
		ERR_clear_error();
	}
	unlink(tmp);
	free(tmp);
	return rc;
}

int acme_key_load_or_create(const char *path, EVP_PKEY **out, int *created, struct mc_error *err)
{
	*created = 0;
	*out = NULL;
	if (access(path, F_OK) == 0) {
		*out = acme_key_load(path, err);
		return *out ? 0 : -1;
	}
	EVP_PKEY *k = EVP_EC_gen("P-256");
	if (!k)
		return ossl_fail(err, "make an EC P-256 key");
	if (key_write_new(path, k, err) < 0) {
		EVP_PKEY_free(k);
		return -1;
	}
	*out = k;
	*created = 1;
	return 0;
}

/* The curve of an EC key in JWK terms ("P-256"), or NULL. */
static const char *jwk_curve(EVP_PKEY *key, int *size)
{
	char group[64];
	if (!EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                    NULL))
		return NULL;
	if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
		*size = 32;
		return "P-256";
	}
	if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384")) {
		*size = 48;
		return "P-384";
	}
	return NULL;
}

const char *acme_jws_alg(EVP_PKEY *key)
{
	int size;
	const char *crv = jwk_curve(key, &size);
	if (crv)
		return size == 32 ? "ES256" : "ES384";
	return EVP_PKEY_is_a(key, "RSA") ? "RS256" : NULL;
}

/* A big-number parameter as base64url, left-padded to 'pad' bytes (0: its
 * own length). */
static char *bn_b64url(EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return NULL;
	int len = pad ? pad : BN_num_bytes(bn);
	unsigned char *buf = xmalloc((size_t)len + 1);
	char *out = BN_bn2binpad(bn, buf, len) == len ? acme_b64url(buf, (size_t)len) : NULL;
	free(buf);
	BN_free(bn);
	return out;
}

json_t *acme_jwk(EVP_PKEY *key, struct mc_error *err)
{
	int size = 0;
	const char *crv = jwk_curve(key, &size);
	char *a, *b;
	json_t *jwk;
	if (crv) {
		a = bn_b64url(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
		b = bn_b64url(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
		jwk = json_pack("{s:s, s:s, s:s?, s:s?}", "kty", "EC", "crv", crv, "x", a, "y", b);
	} else if (EVP_PKEY_is_a(key, "RSA")) {
		a = bn_b64url(key, OSSL_PKEY_PARAM_RSA_E, 0);
		b = bn_b64url(key, OSSL_PKEY_PARAM_RSA_N, 0);
		jwk = json_pack("{s:s, s:s?, s:s?}", "kty", "RSA", "e", a, "n", b);
	} else {
		mc_fail(err, MC_EDATA, "the account key is neither EC P-256/P-384 nor RSA");
		return NULL;
	}
	int ok = a && b && jwk;
	free(a);
	free(b);
	if (!ok) {
		json_decref(jwk);
		ossl_fail(err, "read the public key");
		return NULL;
	}
	return jwk;
}

char *acme_thumbprint(EVP_PKEY *key, struct mc_error *err)
{
	json_t *jwk = acme_jwk(key, err);
	if (!jwk)
		return NULL;
	/* RFC 7638: required members only, sorted, no white space */
	char *text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jwk);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = text && EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	free(text);
	if (!ok) {
		ossl_fail(err, "hash the account key");
		return NULL;
	}
	return acme_b64url(md, mdlen);
}

char *acme_key_authorization(EVP_PKEY *key, const char *token, struct mc_error *err)
{
	char *tp = acme_thumbprint(key, err);
	if (!tp)
		return NULL;
	char *ka = xasprintf("%s.%s", token, tp);
	free(tp);
	return ka;
}

/* An ECDSA DER signature as JWS wants it: r and s, each 'size' bytes. */
static char *ecdsa_raw(const unsigned char *der, size_t len, int size)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig)
		return NULL;
	unsigned char raw[96];
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	int ok = BN_bn2binpad(r, raw, size) == size && BN_bn2binpad(s, raw + size, size) == size;
	ECDSA_SIG_free(sig);
	return ok ? acme_b64url(raw, 2 * (size_t)size) : NULL;
}

/* The base64url signature of 'input' by 'key'. */
static char *sign(EVP_PKEY *key, const char *input, struct mc_error *err)
{
	int size = 0;
	const char *crv = jwk_curve(key, &size);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t len = 0;
	char *out = NULL;
	const EVP_MD *alg = size == 48 ? EVP_sha384() : EVP_sha256();
	if (md && EVP_DigestSignInit(md, NULL, alg, NULL, key) == 1 &&
	    EVP_DigestSign(md, NULL, &len, (const unsigned char *)input, strlen(input)) == 1) {
		sig = xmalloc(len);
		if (EVP_DigestSign(md, sig, &len, (const unsigned char *)input, strlen(input)) == 1)
			out = crv ? ecdsa_raw(sig, len, size) : acme_b64url(sig, len);
	}
	free(sig);
	EVP_MD_CTX_free(md);
	if (!out)
		ossl_fail(err, "sign the request");
	return out;
}

/* {"protected": ..., "payload": ..., "signature": ...} of a protected
 * header object (taken over) and an encoded payload. */
static char *jws_finish(json_t *hdr, const char *payload_b64,
                        char *(*signer)(void *, const char *, struct mc_error *), void *ctx,
                        struct mc_error *err)
{
	char *htext = json_dumps(hdr, JSON_COMPACT);
	json_decref(hdr);
	if (!htext) {
		mc_fail(err, MC_EINTERNAL, "cannot encode the request header");
		return NULL;
	}
	char *hb64 = acme_b64url(htext, strlen(htext));
	char *input = xasprintf("%s.%s", hb64, payload_b64);
	char *sig = signer(ctx, input, err);
	char *out = NULL;
	if (sig) {
		json_t *jws = json_pack("{s:s, s:s, s:s}", "protected", hb64, "payload",
		                        payload_b64, "signature", sig);
		out = jws ? json_dumps(jws, JSON_COMPACT) : NULL;
		json_decref(jws);
		if (!out)
			mc_fail(err, MC_EINTERNAL, "cannot encode the request");
	}
	free(htext);
	free(hb64);
	free(input);
	free(sig);
	return out;
}

static char *key_signer(void *ctx, const char *input, struct mc_error *err)
{
	return sign(ctx, input, err);
}

char *acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
               const char *payload, struct mc_error *err)
{
	const char *alg = acme_jws_alg(key);
	if (!alg) {
		mc_fail(err, MC_EDATA, "the account key is neither EC P-256/P-384 nor RSA");
		return NULL;
	}
	json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", alg, "nonce", nonce, "url", url);
	json_t *id = kid ? json_string(kid) : acme_jwk(key, err);
	if (!hdr || !id || json_object_set_new(hdr, kid ? "kid" : "jwk", id) < 0) {
		json_decref(hdr);
		if (!id)
			return NULL;
		mc_fail(err, MC_EINTERNAL, "cannot encode the request header");
		return NULL;
	}
	char *pb64 = payload ? acme_b64url(payload, strlen(payload)) : xstrdup("");
	char *out = jws_finish(hdr, pb64, key_signer, key, err);
	free(pb64);
	return out;
}

struct hmac_key {
	unsigned char *key;
	size_t len;
};

static char *hmac_signer(void *ctx, const char *input, struct mc_error *err)
{
	struct hmac_key *k = ctx;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t len = 0;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->key, k->len,
	               (const unsigned char *)input, strlen(input), mac, sizeof(mac), &len)) {
		ossl_fail(err, "compute the external account binding");
		return NULL;
	}
	return acme_b64url(mac, len);
}

json_t *acme_eab(EVP_PKEY *account_key, const char *eab_kid, const char *hmac_b64url,
                 const char *url, struct mc_error *err)
{
	struct hmac_key k = {NULL, 0};
	if (acme_b64url_decode(hmac_b64url, &k.key, &k.len) < 0 || k.len == 0) {
		free(k.key);
		mc_fail(err, MC_EUSAGE, "the external account binding key is not base64url");
		return NULL;
	}
	json_t *jwk = acme_jwk(account_key, err);
	char *text = jwk ? json_dumps(jwk, JSON_COMPACT) : NULL;
	json_decref(jwk);
	json_t *out = NULL;
	if (text) {
		char *pb64 = acme_b64url(text, strlen(text));
		json_t *hdr =
		    json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", eab_kid, "url", url);
		char *jws = hdr ? jws_finish(hdr, pb64, hmac_signer, &k, err) : NULL;
		out = jws ? json_loads(jws, 0, NULL) : NULL;
		free(jws);
		free(pb64);
	}
	OPENSSL_cleanse(k.key, k.len);
	free(k.key);
	free(text);
	return out;
}

/* subjectAltName with every name as a dNSName. */
static int csr_add_san(X509_REQ *req, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int ok = gens != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();
		GENERAL_NAME *g = GENERAL_NAME_new();
		ok = s && g && ASN1_STRING_set(s, names[i], (int)strlen(names[i]));
		if (ok) {
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
			ok = sk_GENERAL_NAME_push(gens, g) > 0;
			if (!ok)
				GENERAL_NAME_free(g);
		} else {
			ASN1_IA5STRING_free(s);
			GENERAL_NAME_free(g);
		}
	}
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;
	ok = exts && ext && sk_X509_EXTENSION_push(exts, ext) > 0;
	if (!ok)
		X509_EXTENSION_free(ext);
	ok = ok && X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return ok;
}

int acme_csr(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der, size_t *len,
             struct mc_error *err)
{
	if (n == 0)
		return mc_fail(err, MC_EUSAGE, "a certificate needs at least one name");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = X509_NAME_new();
	int ok = req && subj && X509_REQ_set_version(req, X509_REQ_VERSION_1);
	/* CN is at most 64 characters; the names that count are in the SAN */
	if (ok && strlen(names[0]) <= 64)
		ok = X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
		                                (const unsigned char *)names[0], -1, -1, 0);
	ok = ok && X509_REQ_set_subject_name(req, subj) && X509_REQ_set_pubkey(req, key) &&
	     csr_add_san(req, names, n) && X509_REQ_sign(req, key, EVP_sha256()) > 0;
	unsigned char *buf = NULL;
	int l = ok ? i2d_X509_REQ(req, &buf) : -1;
	X509_NAME_free(subj);
	X509_REQ_free(req);
	if (l <= 0)
		return ossl_fail(err, "make the certificate request");
	*der = xmalloc((size_t)l);
	memcpy(*der, buf, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(buf);
	return 0;
}
