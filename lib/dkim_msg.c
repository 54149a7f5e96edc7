/* A message as DKIM sees it: header fields kept (within the limits of
 * dkim_msg.h), DKIM-Signature fields parsed at the end of the header, and
 * the body hashed as it passes, once per distinct (canonicalization, l=).
 * Signing is in dkim_sign.c, verification in dkim_verify.c. */
#include "dkim_int.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha256 = md ? md : EVP_sha256(); /* kept for the life of the process */
}

const EVP_MD *dkim_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256;
}

struct dkim_msg *dkim_msg_new(void)
{
	struct dkim_msg *m = xcalloc(1, sizeof(*m));
	m->sign_bodyhash = -1;
	return m;
}

void dkim_msg_free(struct dkim_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	free(m->sighdrs);
	for (size_t i = 0; i < m->nslots; i++)
		dkim_sig_release(&m->slots[i].sig);
	for (size_t i = 0; i < m->nbh; i++)
		EVP_MD_CTX_free(m->bh[i].md);
	dkim_body_canon_free(m->canon[0]);
	dkim_body_canon_free(m->canon[1]);
	free(m);
}

void dkim_msg_header(struct dkim_msg *m, const char *name, const char *value)
{
	size_t size;
	if (!m || !name || m->eoh)
		return;
	value = value ? value : "";
	size = strlen(name) + strlen(value);
	if (m->overflow || m->nhdrs == DKIM_MAX_HEADERS ||
	    size > DKIM_MAX_HEADER_BYTES - m->bytes) {
		m->overflow = 1;
		return;
	}
	m->hdrs = xgrow(m->hdrs, &m->alloc, m->nhdrs + 1, sizeof(*m->hdrs));
	m->hdrs[m->nhdrs].name = xstrdup(name);
	m->hdrs[m->nhdrs].value = xstrdup(value);
	m->nhdrs++;
	m->bytes += size;
}

/* Canonical body bytes of one kind reach every hash of that kind, each
 * up to its l=. */
static void body_sink(void *ctx, const void *data, size_t len)
{
	struct dkim_sink *s = ctx;
	struct dkim_msg *m = s->m;
	for (size_t i = 0; i < m->nbh; i++) {
		struct dkim_bodyhash *b = &m->bh[i];
		size_t n = len;
		if (b->relaxed != s->relaxed || !b->md)
			continue;
		if (b->limit >= 0) {
			unsigned long long room = (unsigned long long)b->limit - b->fed;
			n = room < n ? (size_t)room : n;
		}
		if (n && EVP_DigestUpdate(b->md, data, n) != 1) {
			EVP_MD_CTX_free(b->md);
			b->md = NULL;
		}
		b->fed += n;
	}
}

/* The index of the body hash for (relaxed, limit), started if new. */
static int want_bodyhash(struct dkim_msg *m, int relaxed, long long limit)
{
	struct dkim_bodyhash *b;
	for (size_t i = 0; i < m->nbh; i++)
		if (m->bh[i].relaxed == relaxed && m->bh[i].limit == limit)
			return (int)i;
	if (m->nbh == DKIM_MAX_BODY_HASHES) /* cannot happen: one per slot, one to sign */
		return -1;
	b = &m->bh[m->nbh];
	b->relaxed = relaxed;
	b->limit = limit;
	b->md = EVP_MD_CTX_new();
	if (b->md && EVP_DigestInit_ex(b->md, dkim_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(b->md);
		b->md = NULL;
	}
	if (!m->canon[relaxed]) {
		m->sinks[relaxed].m = m;
		m->sinks[relaxed].relaxed = relaxed;
		m->canon[relaxed] = dkim_body_canon_new(relaxed, body_sink, &m->sinks[relaxed]);
	}
	return (int)m->nbh++;
}

static void add_signature(struct dkim_msg *m, size_t hdr)
{
	struct dkim_slot *s;
	m->sighdrs = xgrow(m->sighdrs, &m->sigalloc, m->nsighdrs + 1, sizeof(*m->sighdrs));
	m->sighdrs[m->nsighdrs++] = hdr;
	if (m->nslots == DKIM_MAX_SIGNATURES || m->overflow)
		return;
	s = &m->slots[m->nslots++];
	s->hdr = hdr;
	s->bodyhash = -1;
	if (dkim_sig_parse(m->hdrs[hdr].value, &s->sig, s->why, sizeof(s->why)) < 0)
		return;
	s->parsed = 1;
	if (strcmp(s->sig.algorithm, "rsa-sha1") != 0) /* refused without a look at the body */
		s->bodyhash = want_bodyhash(m, s->sig.body_relaxed, s->sig.length);
}

/* Only the first call counts: the body may already be flowing after it. */
int dkim_msg_eoh(struct dkim_msg *m, int sign)
{
	static const char name[] = "DKIM-Signature";
	if (!m)
		return 0;
	if (!m->eoh) {
		m->eoh = 1;
		for (size_t i = 0; i < m->nhdrs; i++)
			if (dkim_hdr_is(m->hdrs[i].name, name, sizeof(name) - 1))
				add_signature(m, i);
		if (sign && !m->overflow)
			m->sign_bodyhash = want_bodyhash(m, 1, -1);
	}
	return (int)m->nsighdrs;
}

void dkim_msg_body(struct dkim_msg *m, const void *data, size_t len)
{
	if (!m || !m->eoh || m->body_done)
		return;
	for (int r = 0; r < 2; r++)
		if (m->canon[r])
			dkim_body_canon_feed(m->canon[r], data, len);
}

void dkim_msg_finish_body(struct dkim_msg *m)
{
	if (m->body_done)
		return;
	m->body_done = 1;
	for (int r = 0; r < 2; r++)
		if (m->canon[r])
			m->body_len[r] = dkim_body_canon_end(m->canon[r]);
	for (size_t i = 0; i < m->nbh; i++) {
		struct dkim_bodyhash *b = &m->bh[i];
		unsigned int len = 0;
		if (b->md)
			b->ok = EVP_DigestFinal_ex(b->md, b->digest, &len) == 1 &&
			        len == DKIM_SHA256_LEN;
		EVP_MD_CTX_free(b->md);
		b->md = NULL;
	}
}
