/* DKIM verification (RFC 6376 6, RFC 8463, RFC 8301): one verdict per
 * DKIM-Signature field, keys fetched through a dnsq_lookup_fn; see
 * dkim_msg.h for what each problem yields. */
#include "dkim_int.h"
#include "dnscheck.h"
#include "xalloc.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_RSA_BITS 1024

const char *dkim_result_name(enum dkim_result r)
{
	static const char *const names[] = {"none",   "pass",      "fail",     "neutral",
	                                    "policy", "temperror", "permerror"};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "none";
}

/* Set the result and why; returns -1 so checks can 'return verdict(...)'. */
__attribute__((format(printf, 3, 4))) static int verdict(struct dkim_verdict *v, enum dkim_result r,
                                                         const char *fmt, ...)
{
	va_list ap;
	v->result = r;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Printable ASCII of a tag value, white space dropped, cut to fit. */
static void copy_text(char *dst, size_t size, const struct dkim_tag *t, int lowercase)
{
	size_t n = 0;
	for (size_t i = 0; t && i < t->value_len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)t->value[i];
		if (c <= ' ' || c >= 0x7f)
			continue;
		dst[n++] = (char)(lowercase && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	dst[n] = '\0';
}

/* What the field says of itself, even when it does not parse. */
static void verdict_init(struct dkim_verdict *v, const char *value)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	size_t n;
	memset(v, 0, sizeof(*v));
	v->result = DKIM_PERMERROR;
	if (dkim_tags_split(value, tags, &n, NULL, 0) < 0)
		return;
	copy_text(v->domain, sizeof(v->domain), dkim_tag_find(tags, n, "d"), 1);
	copy_text(v->selector, sizeof(v->selector), dkim_tag_find(tags, n, "s"), 0);
	copy_text(v->algorithm, sizeof(v->algorithm), dkim_tag_find(tags, n, "a"), 1);
	copy_text(v->b_prefix, 9, dkim_tag_find(tags, n, "b"), 0);
	if (dkim_tag_find(tags, n, "i"))
		copy_text(v->identity, sizeof(v->identity), dkim_tag_find(tags, n, "i"), 0);
	else if (v->domain[0])
		snprintf(v->identity, sizeof(v->identity), "@%s", v->domain);
}

/* The key record at <s>._domainkey.<d>. Several TXT records: the first
 * that parses is used (RFC 6376 6.1.2 leaves the choice to us), so junk
 * published beside a key does not hide it. */
static int fetch_key(const struct dkim_sig *sig, dnsq_lookup_fn fn, void *ctx,
                     struct dkim_keyrec *key, struct dkim_verdict *v)
{
	struct dnsq_answer a = {DNSQ_ERROR, NULL, 0};
	char *name = xasprintf("%s._domainkey.%s", sig->selector, sig->domain);
	char why[128], first[128] = "";
	memset(key, 0, sizeof(*key));
	fn(ctx, name, LDNS_RR_TYPE_TXT, &a);
	free(name);
	if (a.status == DNSQ_NXDOMAIN || a.status == DNSQ_NODATA)
		return verdict(v, DKIM_PERMERROR, "no key for signature");
	if (a.status == DNSQ_PENDING)
		return verdict(v, DKIM_TEMPERROR, "key lookup did not finish");
	if (a.status != DNSQ_ANSWER)
		return verdict(v, DKIM_TEMPERROR, "key lookup failed (%s)",
		               dnsq_status_name(a.status));
	for (size_t i = 0; a.rrs && i < ldns_rr_list_rr_count(a.rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(a.rrs, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		char *txt = dnscheck_txt(rr);
		int ok = dkim_keyrec_parse(txt, key, why, sizeof(why)) == 0;
		free(txt);
		if (ok)
			return 0;
		if (!first[0])
			snprintf(first, sizeof(first), "%s", why);
	}
	if (first[0])
		return verdict(v, DKIM_PERMERROR, "bad key record: %s", first);
	return verdict(v, DKIM_PERMERROR, "no key for signature");
}

/* i= names exactly d= (no subdomain), as a t=s key demands. */
static int identity_is_domain(const struct dkim_sig *sig)
{
	const char *at = strrchr(sig->identity, '@');
	return at && strcasecmp(at + 1, sig->domain) == 0;
}

static int check_key(const struct dkim_sig *sig, const struct dkim_keyrec *key,
                     struct dkim_verdict *v)
{
	int ed25519 = strcmp(sig->algorithm, "ed25519-sha256") == 0;
	v->testing = key->testing;
	if (key->revoked)
		return verdict(v, DKIM_PERMERROR, "key revoked");
	if (strcmp(key->key_type, ed25519 ? "ed25519" : "rsa") != 0)
		return verdict(v, DKIM_PERMERROR, "key type %s does not match a=", key->key_type);
	if (!key->sha256_allowed)
		return verdict(v, DKIM_FAIL, "key does not allow sha256 (h=)");
	if (!key->email_service)
		return verdict(v, DKIM_FAIL, "key is not for email (s=)");
	if (key->strict_identity && !identity_is_domain(sig))
		return verdict(v, DKIM_FAIL, "key forbids a subdomain in i= (t=s)");
	return 0;
}

/* ---- decoded keys ----
 * Decoding a public key costs OpenSSL 3 far more than verifying with it
 * (about 100 us against 20 us for RSA-2048), and a busy server sees the
 * same few keys over and over: the last KEY_CACHE_SIZE decoded keys are
 * kept, by their bytes, and shared (EVP_PKEY is safe to use from several
 * threads at once when nobody changes it). Records change rarely and a
 * changed record has new bytes, so nothing expires; the least recently
 * used key makes room. */
#define KEY_CACHE_SIZE 64

struct key_slot {
	unsigned char *der; /* the decoded p= bytes, NULL when the slot is free */
	size_t len;
	int ed25519;
	EVP_PKEY *pkey;
	unsigned long long used;
};

static struct key_slot key_cache[KEY_CACHE_SIZE];
static unsigned long long key_clock;
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

/* The cached key for these bytes with a reference for the caller, or NULL. */
static EVP_PKEY *key_cache_get(const unsigned char *der, size_t len, int ed25519)
{
	EVP_PKEY *pkey = NULL;
	pthread_mutex_lock(&key_lock);
	for (size_t i = 0; i < KEY_CACHE_SIZE && !pkey; i++) {
		struct key_slot *k = &key_cache[i];
		if (k->der && k->len == len && k->ed25519 == ed25519 && !memcmp(k->der, der, len) &&
		    EVP_PKEY_up_ref(k->pkey) == 1) {
			pkey = k->pkey;
			k->used = ++key_clock;
		}
	}
	pthread_mutex_unlock(&key_lock);
	return pkey;
}

static void key_cache_put(const unsigned char *der, size_t len, int ed25519, EVP_PKEY *pkey)
{
	struct key_slot *k = &key_cache[0], old;
	if (EVP_PKEY_up_ref(pkey) != 1)
		return;
	pthread_mutex_lock(&key_lock);
	for (size_t i = 1; i < KEY_CACHE_SIZE && k->der; i++)
		if (!key_cache[i].der || key_cache[i].used < k->used)
			k = &key_cache[i];
	old = *k;
	*k = (struct key_slot){xmalloc(len ? len : 1), len, ed25519, pkey, ++key_clock};
	memcpy(k->der, der, len);
	pthread_mutex_unlock(&key_lock);
	free(old.der);
	EVP_PKEY_free(old.pkey);
}

/* An RSA key is a SubjectPublicKeyInfo, or (as some publish it) a bare
 * RSAPublicKey; an Ed25519 key is 32 raw bytes (RFC 8463 4.2). */
static EVP_PKEY *decode_pkey(const struct dkim_keyrec *key, int ed25519)
{
	const unsigned char *p = key->key;
	EVP_PKEY *pkey;
	if (ed25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->key, key->key_len);
	pkey = d2i_PUBKEY(NULL, &p, (long)key->key_len);
	if (!pkey) {
		p = key->key;
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)key->key_len);
	}
	if (pkey && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

static EVP_PKEY *make_pkey(const struct dkim_keyrec *key, struct dkim_verdict *v)
{
	int ed25519 = strcmp(key->key_type, "ed25519") == 0;
	EVP_PKEY *pkey = key_cache_get(key->key, key->key_len, ed25519);
	if (!pkey && (pkey = decode_pkey(key, ed25519)))
		key_cache_put(key->key, key->key_len, ed25519, pkey);
	v->key_bits = !pkey ? 0 : ed25519 ? 256 : EVP_PKEY_get_bits(pkey);
	ERR_clear_error();
	if (!pkey)
		verdict(v, DKIM_PERMERROR, "key record holds no usable %s key", key->key_type);
	else if (strcmp(key->key_type, "rsa") == 0 && v->key_bits < MIN_RSA_BITS) {
		verdict(v, DKIM_FAIL, "rsa key of %d bits is too short (RFC 8301)", v->key_bits);
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

static int check_body(const struct dkim_msg *m, const struct dkim_slot *s, struct dkim_verdict *v)
{
	const struct dkim_bodyhash *b = s->bodyhash >= 0 ? &m->bh[s->bodyhash] : NULL;
	if (!b || !b->ok)
		return verdict(v, DKIM_TEMPERROR, "cannot hash the body");
	if (s->sig.length >= 0 && (unsigned long long)s->sig.length > m->body_len[b->relaxed])
		return verdict(v, DKIM_FAIL, "l= is longer than the body");
	if (s->sig.bh_len != DKIM_SHA256_LEN ||
	    CRYPTO_memcmp(s->sig.bh, b->digest, DKIM_SHA256_LEN))
		return verdict(v, DKIM_FAIL, "body hash did not verify");
	return 0;
}

/* rsa-sha256 verifies the data; ed25519-sha256 its SHA-256 (RFC 8463 3). */
static int verify_data(EVP_PKEY *pkey, int ed25519, const struct strbuf *data,
                       const unsigned char *sig, size_t siglen)
{
	unsigned char hash[DKIM_SHA256_LEN];
	const unsigned char *tbs = (const unsigned char *)data->buf;
	size_t tbslen = data->len;
	const EVP_MD *alg = dkim_sha256();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;
	if (ed25519) {
		if (!EVP_Digest(data->buf, data->len, hash, NULL, dkim_sha256(), NULL))
			goto out;
		tbs = hash;
		tbslen = sizeof(hash);
		alg = NULL;
	}
	ok = md && EVP_DigestVerifyInit(md, NULL, alg, NULL, pkey) == 1 &&
	     EVP_DigestVerify(md, sig, siglen, tbs, tbslen) == 1;
out:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* The signed fields, then the signature's own field with b= emptied and
 * without its final CRLF (RFC 6376 3.7). */
static int check_headers(const struct dkim_msg *m, const struct dkim_slot *s, EVP_PKEY *pkey,
                         struct dkim_verdict *v)
{
	struct strbuf data = STRBUF_INIT, own = STRBUF_INIT;
	const struct dkim_hdr *h = &m->hdrs[s->hdr];
	int ok, ed25519 = strcmp(s->sig.algorithm, "ed25519-sha256") == 0;
	dkim_select_headers(m, s->sig.headers, s->sig.header_relaxed, &data);
	dkim_strip_b(h->value, &own);
	dkim_canon_header_add(s->sig.header_relaxed, h->name, own.buf, &data);
	data.len -= 2;
	data.buf[data.len] = '\0';
	ok = verify_data(pkey, ed25519, &data, s->sig.b, s->sig.b_len);
	strbuf_release(&data);
	strbuf_release(&own);
	return ok ? 0 : verdict(v, DKIM_FAIL, "signature did not verify");
}

/* RFC 6376 6.1, cheapest refusals first: syntax, algorithm, expiry, key,
 * body hash, then the signature. */
static void verify_slot(const struct dkim_msg *m, const struct dkim_slot *s, dnsq_lookup_fn fn,
                        void *ctx, time_t now, struct dkim_verdict *v)
{
	struct dkim_keyrec key;
	EVP_PKEY *pkey = NULL;
	if (!s->parsed) {
		verdict(v, DKIM_PERMERROR, "%s", s->why);
		return;
	}
	if (strcmp(s->sig.algorithm, "rsa-sha1") == 0) {
		verdict(v, DKIM_FAIL, "rsa-sha1 is not accepted (RFC 8301)");
		return;
	}
	if (s->sig.expires >= 0 && (long long)now > s->sig.expires) {
		verdict(v, DKIM_FAIL, "signature expired");
		return;
	}
	if (!fn) {
		verdict(v, DKIM_TEMPERROR, "no resolver to fetch the key");
		return;
	}
	if (fetch_key(&s->sig, fn, ctx, &key, v) < 0)
		return;
	if (check_key(&s->sig, &key, v) == 0 && (pkey = make_pkey(&key, v)) &&
	    check_body(m, s, v) == 0 && check_headers(m, s, pkey, v) == 0)
		verdict(v, DKIM_PASS, "%s", "");
	EVP_PKEY_free(pkey);
	dkim_keyrec_release(&key);
}

size_t dkim_msg_verify(struct dkim_msg *m, dnsq_lookup_fn fn, void *ctx, time_t now,
                       struct dkim_verdict **out)
{
	struct dkim_verdict *v;
	*out = NULL;
	if (!m)
		return 0;
	dkim_msg_eoh(m, 0); /* a no-op when the caller did it */
	if (!m->nsighdrs)
		return 0;
	dkim_msg_finish_body(m);
	v = xcalloc(m->nsighdrs, sizeof(*v));
	for (size_t i = 0; i < m->nsighdrs; i++) {
		verdict_init(&v[i], m->hdrs[m->sighdrs[i]].value);
		if (m->overflow)
			verdict(&v[i], DKIM_PERMERROR, "message header too large");
		else if (i >= DKIM_MAX_SIGNATURES)
			verdict(&v[i], DKIM_PERMERROR, "too many signatures");
		else
			verify_slot(m, &m->slots[i], fn, ctx, now, &v[i]);
	}
	*out = v;
	return m->nsighdrs;
}
