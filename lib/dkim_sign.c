/* DKIM signing (RFC 6376 5, RFC 8463 3): private keys from PEM files and
 * the DKIM-Signature field for a message; see dkim_msg.h. */
#include "dkim_int.h"
#include "address.h"
#include "xalloc.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_WIDTH   78
#define SIG_FIELD    "DKIM-Signature"
#define MIN_RSA_BITS 1024

struct dkim_key {
	EVP_PKEY *pkey;
	int ed25519;
};

/* Signed once per instance plus once more, so none can be added. */
static const char *const signed_fields[] = {
    "from",       "to",           "cc",           "subject",
    "date",       "message-id",   "reply-to",     "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
};

static int ssl_fail(struct mc_error *err, const char *what)
{
	char buf[256] = "unknown OpenSSL error";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return mc_fail(err, MC_EINTERNAL, "cannot %s: %s", what, buf);
}

/* ---- keys ---- */

/* Key files are never encrypted: refuse to ask for a passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static struct dkim_key *key_check(EVP_PKEY *pkey, const char *path, struct mc_error *err)
{
	char buf[128];
	struct dkim_key *k;
	int type = EVP_PKEY_get_base_id(pkey), bits = EVP_PKEY_get_bits(pkey);
	if (type != EVP_PKEY_RSA && type != EVP_PKEY_ED25519) {
		mc_fail(err, MC_EDATA, "'%s' holds neither an rsa nor an ed25519 key",
		        addr_printable(path, buf, sizeof(buf)));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if (type == EVP_PKEY_RSA && bits < MIN_RSA_BITS) {
		mc_fail(err, MC_EDATA, "the rsa key in '%s' has %d bits: at least %d are needed",
		        addr_printable(path, buf, sizeof(buf)), bits, MIN_RSA_BITS);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->ed25519 = type == EVP_PKEY_ED25519;
	return k;
}

struct dkim_key *dkim_key_load(const char *path, struct mc_error *err)
{
	char buf[128];
	EVP_PKEY *pkey;
	FILE *f = fopen(path, "re");
	if (!f) {
		mc_fail(err, MC_EIO, "cannot open '%s': %s", addr_printable(path, buf, sizeof(buf)),
		        mc_strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	ERR_clear_error();
	if (!pkey) {
		mc_fail(err, MC_EDATA, "no private key in '%s'",
		        addr_printable(path, buf, sizeof(buf)));
		return NULL;
	}
	return key_check(pkey, path, err);
}

void dkim_key_free(struct dkim_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *dkim_key_algorithm(const struct dkim_key *k)
{
	return k && k->ed25519 ? "ed25519" : "rsa";
}

/* ---- the field ---- */

/* The field's value, folded as it is written: 'col' is the column of the
 * next byte on the current line. */
struct fold {
	struct strbuf *sb;
	size_t col;
};

static void fold_break(struct fold *f)
{
	strbuf_add(f->sb, "\r\n\t", 3);
	f->col = 1;
}

/* Bytes that stay on one line, after a space when 'space' (where FWS may
 * go): on the next line when they do not fit on this one. */
static void fold_add(struct fold *f, const char *s, int space)
{
	size_t len = strlen(s);
	if (f->col + (size_t)(space != 0) + len > FOLD_WIDTH && f->col > 1) {
		fold_break(f);
	} else if (space) {
		strbuf_addch(f->sb, ' ');
		f->col++;
	}
	strbuf_addstr(f->sb, s);
	f->col += len;
}

/* Base64, which may be folded anywhere. */
static void fold_b64(struct fold *f, const char *s)
{
	size_t len = strlen(s);
	while (len) {
		size_t room = f->col < FOLD_WIDTH ? FOLD_WIDTH - f->col : 0;
		if (!room) {
			fold_break(f);
			continue;
		}
		room = room < len ? room : len;
		strbuf_add(f->sb, s, room);
		f->col += room;
		s += room;
		len -= room;
	}
}

static char *base64(const unsigned char *data, size_t len)
{
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* h=: each signed field once per instance and once more. */
static char *oversign_list(const struct dkim_msg *m, size_t *count)
{
	struct strbuf sb = STRBUF_INIT;
	*count = 0;
	for (size_t f = 0; f < sizeof(signed_fields) / sizeof(signed_fields[0]); f++) {
		size_t n = 1, len = strlen(signed_fields[f]);
		for (size_t i = 0; i < m->nhdrs; i++)
			n += (size_t)dkim_hdr_is(m->hdrs[i].name, signed_fields[f], len);
		for (*count += n; n; n--)
			strbuf_addf(&sb, "%s%s", sb.len ? ":" : "", signed_fields[f]);
	}
	return strbuf_detach(&sb);
}

/* Every tag but b='s value, which goes last. */
static void sig_prefix(struct fold *f, const char *alg, const char *domain, const char *selector,
                       time_t now, const char *hlist, const char *bh)
{
	char *s;
	fold_add(f, "v=1;", 1);
	s = xasprintf("a=%s;", alg);
	fold_add(f, s, 1);
	free(s);
	fold_add(f, "c=relaxed/relaxed;", 1);
	s = xasprintf("d=%s;", domain);
	fold_add(f, s, 1);
	free(s);
	s = xasprintf("s=%s;", selector);
	fold_add(f, s, 1);
	free(s);
	s = xasprintf("t=%lld;", (long long)now);
	fold_add(f, s, 1);
	free(s);
	for (const char *p = hlist; *p;) { /* folded after a ':' only */
		size_t len = strcspn(p, ":");
		s = xasprintf("%s%.*s%s", p == hlist ? "h=" : "", (int)len, p, p[len] ? ":" : ";");
		fold_add(f, s, p == hlist);
		free(s);
		p += len + (p[len] != 0);
	}
	s = xasprintf("bh=%s;", bh);
	fold_add(f, s, 1);
	free(s);
	fold_add(f, "b=", 1);
}

/* rsa-sha256 signs the data; ed25519-sha256 signs its SHA-256 with pure
 * Ed25519 (RFC 8463 3). */
static int sign_data(const struct dkim_key *k, const struct strbuf *data, char **b64,
                     struct mc_error *err)
{
	unsigned char hash[DKIM_SHA256_LEN], *sig = NULL;
	const unsigned char *tbs = (const unsigned char *)data->buf;
	size_t tbslen = data->len, siglen = 0;
	const EVP_MD *alg = dkim_sha256();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ret = -1;
	if (k->ed25519) {
		if (!EVP_Digest(data->buf, data->len, hash, NULL, dkim_sha256(), NULL))
			goto out;
		tbs = hash;
		tbslen = sizeof(hash);
		alg = NULL;
	}
	if (!md || EVP_DigestSignInit(md, NULL, alg, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, tbs, tbslen) != 1)
		goto out;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, tbs, tbslen) != 1)
		goto out;
	*b64 = base64(sig, siglen);
	ret = 0;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	return ret < 0 ? ssl_fail(err, "sign the message") : 0;
}

static int sign_check(const struct dkim_msg *m, const char *domain, const char *selector,
                      const struct dkim_key *key, struct mc_error *err)
{
	char buf[128];
	if (!m || !domain || !selector || !key || !key->pkey)
		return mc_fail(err, MC_EINTERNAL, "dkim signing called without a message or key");
	if (m->overflow)
		return mc_fail(err, MC_EDATA, "message header too large to sign");
	if (!m->eoh || m->sign_bodyhash < 0)
		return mc_fail(err, MC_EINTERNAL, "the message was not prepared for signing");
	if (!dkim_name_ok(domain, strlen(domain)))
		return mc_fail(err, MC_EDATA, "invalid DKIM domain '%s'",
		               addr_printable(domain, buf, sizeof(buf)));
	if (!dkim_name_ok(selector, strlen(selector)))
		return mc_fail(err, MC_EDATA, "invalid DKIM selector '%s'",
		               addr_printable(selector, buf, sizeof(buf)));
	return 0;
}

int dkim_msg_sign(struct dkim_msg *m, const char *domain, const char *selector,
                  const struct dkim_key *key, time_t now, char **value, struct mc_error *err)
{
	struct strbuf sb = STRBUF_INIT, data = STRBUF_INIT;
	struct fold f = {&sb, sizeof(SIG_FIELD)}; /* the name and its colon come first */
	char *hlist, *bh, *b = NULL;
	size_t count;
	*value = NULL;
	if (sign_check(m, domain, selector, key, err) < 0)
		return -1;
	dkim_msg_finish_body(m);
	if (!m->bh[m->sign_bodyhash].ok)
		return mc_fail(err, MC_EINTERNAL, "cannot hash the message body");
	hlist = oversign_list(m, &count);
	if (count > DKIM_MAX_SIGNED_FIELDS) {
		free(hlist);
		return mc_fail(err, MC_EDATA, "too many header fields to sign (%zu)", count);
	}
	bh = base64(m->bh[m->sign_bodyhash].digest, DKIM_SHA256_LEN);
	sig_prefix(&f, key->ed25519 ? "ed25519-sha256" : "rsa-sha256", domain, selector, now, hlist,
	           bh);
	dkim_select_headers(m, hlist, 1, &data);
	dkim_canon_header_add(1, SIG_FIELD, sb.buf, &data);
	data.len -= 2; /* the signature's own field is hashed without its CRLF */
	data.buf[data.len] = '\0';
	int ret = sign_data(key, &data, &b, err);
	if (ret == 0) {
		fold_b64(&f, b);
		*value = strbuf_detach(&sb);
	}
	strbuf_release(&sb);
	strbuf_release(&data);
	free(hlist);
	free(bh);
	free(b);
	return ret;
}
