/*
 * dkim_msg - DKIM signatures on messages (RFC 6376, RFC 8463, RFC 8301):
 * signing with the keys lib/dkim.c makes, and verifying every signature
 * a message carries.
 *
 * A message is fed the way the milter sees it, so nothing is buffered
 * but the header fields: dkim_msg_header() for each field in order,
 * dkim_msg_eoh() at the end of the header, dkim_msg_body() for body
 * chunks of any size, then dkim_msg_sign() and/or dkim_msg_verify().
 * Body hashes are computed as the chunks pass, once per distinct
 * (canonicalization, hash, l=) that a signature or the signer needs.
 * `mailctl check` feeds a saved file through the same calls.
 *
 * Line ends: header values and body may use CRLF or bare LF (Postfix
 * gives milters LF inside folded header values); both are taken as CRLF,
 * the form DKIM hashes.
 *
 * Signing: relaxed/relaxed, rsa-sha256 or ed25519-sha256 (by the key),
 * t= set, no l=, and the header fields From, To, Cc, Subject, Date,
 * Message-ID, Reply-To, In-Reply-To, References, MIME-Version,
 * Content-Type, Content-Transfer-Encoding signed once per instance
 * present plus once more (over-signing), so none can be added later.
 * Signing never changes the message: it returns the new header's value.
 *
 * Verification: every DKIM-Signature (at most DKIM_MAX_SIGNATURES;
 * later ones get permerror "too many signatures"), rsa-sha256 and
 * ed25519-sha256; rsa-sha1 fails (RFC 8301); RSA keys under 1024 bits
 * fail; simple and relaxed canonicalization of header and body; l=; x=
 * (expired: fail); keys from TXT <s>._domainkey.<d> through a
 * dnsq_lookup_fn (DNS failure: temperror; no key: permerror).
 *
 * Verification details: header fields are selected bottom-up per h=
 * name (RFC 6376 5.4.2), a name with no instance left hashes as nothing;
 * the signature's own field is hashed with b= emptied and no final CRLF.
 * A t= in the future is accepted whatever the skew: clocks differ, and
 * t= grants nothing (x= is what limits a signature's life). Key records:
 * of several TXT records at the name the first that parses is used;
 * k= not matching a= is permerror; a key whose h= excludes sha256, whose
 * s= excludes email, or whose t=s forbids the subdomain in i= fails; an
 * empty p= is permerror "key revoked"; NXDOMAIN or NODATA is permerror
 * "no key for signature"; any other DNS failure is temperror.
 *
 * Limits, so that a hostile message cannot make us keep unbounded memory
 * or work: at most DKIM_MAX_HEADERS header fields and DKIM_MAX_HEADER_BYTES
 * bytes of names and values are kept (fields past either are dropped and
 * remembered: signing then fails with MC_EDATA and every signature gets
 * permerror "message header too large"); at most DKIM_MAX_SIGNATURES
 * signatures are checked, so at most DKIM_MAX_SIGNATURES + 1 body hashes
 * run; a tag-list has at most DKIM_MAX_TAGS tags, an h= at most
 * DKIM_MAX_SIGNED_FIELDS names, a base64 value at most DKIM_MAX_B64
 * characters. The body is never kept: it is hashed as it passes.
 *
 * Errors (MC_EDATA for a bad key file or unusable key, MC_EIO for an
 * unreadable file, MC_EINTERNAL for OpenSSL) only come from key loading
 * and signing; verification reports problems in its verdicts.
 */
#ifndef MAILCTL_DKIM_MSG_H
#define MAILCTL_DKIM_MSG_H

#include <stddef.h>
#include <time.h>

#include "dnsq.h"
#include "error.h"

#define DKIM_MAX_SIGNATURES    8
#define DKIM_MAX_HEADERS       1000
#define DKIM_MAX_HEADER_BYTES  (256 * 1024)
#define DKIM_MAX_TAGS          64
#define DKIM_MAX_SIGNED_FIELDS 512
#define DKIM_MAX_B64           16384

struct dkim_msg;
struct dkim_key;

struct dkim_msg *dkim_msg_new(void);
void dkim_msg_free(struct dkim_msg *m);

/* A header field: 'name' without the colon, 'value' exactly as after the
 * colon, leading white space included (the milter asks for it with
 * SMFIP_HDR_LEADSPC), folds as LF or CRLF, no final line end. */
void dkim_msg_header(struct dkim_msg *m, const char *name, const char *value);

/* End of the header: parse the DKIM-Signature fields (for verification)
 * and, when 'sign' is set, start the signer's body hash. Returns how many
 * DKIM-Signature fields there are. */
int dkim_msg_eoh(struct dkim_msg *m, int sign);

/* Body bytes, in order, any chunking. */
void dkim_msg_body(struct dkim_msg *m, const void *data, size_t len);

/* A private key from a PEM file (PKCS#8, as lib/dkim.c writes them):
 * RSA (at least 1024 bits) or Ed25519. */
struct dkim_key *dkim_key_load(const char *path, struct mc_error *err);
void dkim_key_free(struct dkim_key *k);
/* "rsa" or "ed25519" */
const char *dkim_key_algorithm(const struct dkim_key *k);

/* After the whole body: sign for 'domain' (the d=, an A-label) with
 * 'selector'. '*value' gets the DKIM-Signature field's value (caller
 * frees): it starts with a space and is folded with "\r\n\t" at most 78
 * columns wide. Needs dkim_msg_eoh(m, 1). */
int dkim_msg_sign(struct dkim_msg *m, const char *domain, const char *selector,
                  const struct dkim_key *key, time_t now, char **value, struct mc_error *err);

enum dkim_result {
	DKIM_NONE, /* unused in verdicts: "no signature" is an empty list */
	DKIM_PASS,
	DKIM_FAIL,    /* the signature or body hash does not verify, expired, rsa-sha1, weak key */
	DKIM_NEUTRAL, /* unused for now (RFC 8601 lists it) */
	DKIM_POLICY,  /* verified but refused by local policy */
	DKIM_TEMPERROR, /* the key could not be fetched for now */
	DKIM_PERMERROR, /* the signature or key cannot be used: syntax, no key, revoked */
};
/* "none", "pass", "fail", "neutral", "policy", "temperror", "permerror" */
const char *dkim_result_name(enum dkim_result r);

struct dkim_verdict {
	enum dkim_result result;
	char domain[256];   /* d=, lowercase; "" when unreadable */
	char selector[256]; /* s= */
	char identity[320]; /* i=, or "@" + d= when absent */
	char algorithm[32]; /* a=, "rsa-sha256" */
	char b_prefix[16];  /* the first 8 characters of b= (RFC 6008 header.b) */
	int key_bits;       /* of the key fetched, 0 when none */
	int testing;        /* the key record says t=y */
	char why[256];      /* one line: why this result ("body hash did not verify") */
};

/* After the whole body: verify every signature, looking keys up through
 * 'fn' (TXT records). '*out' gets one verdict per DKIM-Signature field in
 * header order (caller frees; NULL when none). Returns their count. */
size_t dkim_msg_verify(struct dkim_msg *m, dnsq_lookup_fn fn, void *ctx, time_t now,
                       struct dkim_verdict **out);

/* ---- parsers, exported for the unit tests and the fuzzers ---- */

/* A DKIM-Signature value (RFC 6376 3.5) parsed and checked: v=1, a=,
 * b=, bh=, d=, h= (with From), s= required; i= within d=; c=, l=, q=,
 * t=, x= checked (rsa-sha1 parses: refusing it is the verifier's job).
 * Returns 0, or -1 with 'why' set and the struct left empty. The struct
 * owns its strings: dkim_sig_release(), safe on an empty struct too. */
struct dkim_sig {
	char *algorithm, *domain, *selector, *identity, *headers;
	unsigned char *b, *bh; /* decoded */
	size_t b_len, bh_len;
	char *b_text; /* b= as written, white space removed */
	int header_relaxed, body_relaxed;
	long long length;    /* l=, -1 when absent */
	long long timestamp; /* t=, -1 when absent */
	long long expires;   /* x=, -1 when absent */
};
int dkim_sig_parse(const char *value, struct dkim_sig *out, char *why, size_t whylen);
void dkim_sig_release(struct dkim_sig *s);

/* A key record (RFC 6376 3.6.1): v=DKIM1 if present first, k= rsa or
 * ed25519, h=, s=, t= flags; p= empty means revoked. Returns 0, or -1
 * with 'why' (the struct then left empty). 'key' is decoded (DER
 * SubjectPublicKeyInfo for rsa, the raw 32 bytes for ed25519); free with
 * dkim_keyrec_release(), safe on an empty struct too. */
struct dkim_keyrec {
	char key_type[16];
	unsigned char *key;
	size_t key_len;
	int revoked, testing, strict_identity; /* p= empty, t=y, t=s */
	int sha256_allowed;                    /* h= absent or lists sha256 */
	int email_service;                     /* s= absent, * or lists email */
};
int dkim_keyrec_parse(const char *txt, struct dkim_keyrec *out, char *why, size_t whylen);
void dkim_keyrec_release(struct dkim_keyrec *k);

/* Canonical form of one header field (RFC 6376 3.4.1, 3.4.2), ending in
 * its CRLF, in a new NUL-terminated '*out' (caller frees, '*outlen' set). */
void dkim_canon_header(int relaxed, const char *name, const char *value, char **out,
                       size_t *outlen);

/* Body canonicalization (RFC 6376 3.4.3, 3.4.4) as a stream: the bytes
 * fed, in chunks of any size, come out canonical through 'out' (in
 * pieces of up to 4 KiB), the same whatever the chunking. Trailing empty
 * lines are held back until more content comes; dkim_body_canon_end()
 * applies the end-of-body rules (simple: an empty body is CRLF; relaxed:
 * an empty body stays empty) and returns the canonical length. Feeding
 * after the end is ignored. */
typedef void (*dkim_sink_fn)(void *ctx, const void *data, size_t len);
struct dkim_body_canon;
struct dkim_body_canon *dkim_body_canon_new(int relaxed, dkim_sink_fn out, void *ctx);
void dkim_body_canon_feed(struct dkim_body_canon *c, const void *data, size_t len);
unsigned long long dkim_body_canon_end(struct dkim_body_canon *c);
void dkim_body_canon_free(struct dkim_body_canon *c);

#endif
