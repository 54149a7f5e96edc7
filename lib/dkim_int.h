/*
 * dkim_int - what the DKIM message modules share (dkim_tags.c,
 * dkim_canon.c, dkim_msg.c, dkim_sign.c, dkim_verify.c); nothing outside
 * them includes it. The public contract is dkim_msg.h.
 *
 * The message keeps its header fields as given (struct dkim_hdr), the
 * indexes of its DKIM-Signature fields, the parsed form of the first
 * DKIM_MAX_SIGNATURES of them, and one running body hash per distinct
 * (canonicalization, l=) - every hash is SHA-256, the only one we accept.
 */
#ifndef MAILCTL_DKIM_INT_H
#define MAILCTL_DKIM_INT_H

#include <openssl/evp.h>
#include <stddef.h>

#include "dkim_msg.h"
#include "strbuf.h"

#define DKIM_SHA256_LEN      32
#define DKIM_MAX_BODY_HASHES (DKIM_MAX_SIGNATURES + 1)

/* One tag of a tag-list (RFC 6376 3.2), pointing into the parsed text:
 * 'value' trimmed of FWS; 'raw'..'end' is everything after the '=' up to
 * the ';' or the end (what "b= emptied" removes). */
struct dkim_tag {
	const char *name, *value, *raw, *end;
	size_t name_len, value_len;
};

/* Split 's' into at most DKIM_MAX_TAGS tags; a duplicate name, a bad
 * name or a byte outside the grammar is an error (-1, 'why' set). */
int dkim_tags_split(const char *s, struct dkim_tag *tags, size_t *n, char *why, size_t whylen);
/* The tag called 'name' (exact, case-sensitive as RFC 6376 says), or NULL. */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name);

/* Base64 with FWS anywhere, padded: '*out' (caller frees, never NULL on
 * success) and, when 'text' is not NULL, the text without white space. */
int dkim_b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen, char **text);
/* 1 when 's' (length 'len') is a plausible DNS name: labels of letters,
 * digits, '-' and '_', 1-63 bytes each, 253 in all. */
int dkim_name_ok(const char *s, size_t len);
/* 'value' with the value of its b= tag removed (RFC 6376 3.7). */
void dkim_strip_b(const char *value, struct strbuf *out);

__attribute__((format(printf, 3, 4))) void dkim_why(char *why, size_t whylen, const char *fmt, ...);

/* ---- the message ---- */

struct dkim_hdr {
	char *name, *value;
};

struct dkim_bodyhash {
	int relaxed;
	long long limit; /* l=, -1 for the whole body */
	unsigned long long fed;
	EVP_MD_CTX *md; /* NULL when OpenSSL could not start it, or once done */
	int ok;         /* 'digest' holds the hash */
	unsigned char digest[DKIM_SHA256_LEN];
};

/* A DKIM-Signature field among the first DKIM_MAX_SIGNATURES. */
struct dkim_slot {
	size_t hdr;   /* index in the header */
	int parsed;   /* 'sig' holds it; otherwise 'why' says why not */
	int bodyhash; /* index of its body hash, -1 when none */
	struct dkim_sig sig;
	char why[256];
};

struct dkim_sink {
	struct dkim_msg *m;
	int relaxed;
};

struct dkim_msg {
	struct dkim_hdr *hdrs;
	size_t nhdrs, alloc, bytes;
	int overflow; /* fields were dropped at a limit */
	int eoh, body_done;

	size_t *sighdrs; /* indexes of every DKIM-Signature field */
	size_t nsighdrs, sigalloc;
	struct dkim_slot slots[DKIM_MAX_SIGNATURES];
	size_t nslots;
	int sign_bodyhash; /* the signer's body hash, -1 when not signing */

	struct dkim_bodyhash bh[DKIM_MAX_BODY_HASHES];
	size_t nbh;
	struct dkim_body_canon *canon[2]; /* simple, relaxed; NULL when unused */
	struct dkim_sink sinks[2];
	unsigned long long body_len[2]; /* canonical body lengths, once done */
};

/* SHA-256, fetched from the default provider once: EVP_sha256() would
 * look it up again on every use (a lock and a search in OpenSSL 3). */
const EVP_MD *dkim_sha256(void);

/* 1 when header field 'name' (trailing white space ignored) is 'want'
 * ('wantlen' bytes), in any case. */
int dkim_hdr_is(const char *name, const char *want, size_t wantlen);
/* Finish the body hashes (idempotent). */
void dkim_msg_finish_body(struct dkim_msg *m);
/* The canonical header fields of the ':'-separated 'hlist', selected
 * bottom-up per name (RFC 6376 5.4.2), appended to 'out'. */
void dkim_select_headers(const struct dkim_msg *m, const char *hlist, int relaxed,
                         struct strbuf *out);
/* Append the canonical form of one header field to 'out'. */
void dkim_canon_header_add(int relaxed, const char *name, const char *value, struct strbuf *out);

#endif
