/*
 * fuzz_dkim_canon - libFuzzer harness for DKIM canonicalization and the
 * message path of lib/dkim_msg.h (dkim_canon_header, dkim_body_canon_*,
 * dkim_msg_header/eoh/body/verify/sign).
 *
 * Input: byte 0 is the seed of the body's chunking; bytes 1-2 (little
 * endian) the length of the header part; the header part is fields
 * separated by NUL, each "name:value" (split at the first colon); the
 * rest is the body.
 *
 * Checks, beyond "no crash, leak or UB":
 * - a canonical header field ends in CRLF and, where the input is plain
 *   (a name of printable ASCII, no CR, every LF a fold), equals a
 *   reference model of RFC 6376 3.4.1 (simple) and 3.4.2 (relaxed);
 * - the canonical body is what dkim_body_canon_end() says, every LF in it
 *   follows a CR, it does not depend on the chunking, and without CRs in
 *   the input it equals a reference model of 3.4.3 and 3.4.4;
 * - dkim_msg_verify() gives one well-formed verdict per DKIM-Signature
 *   field, keys coming from a fake DNS (failures at selectors "servfail"
 *   and "nxdomain");
 * - the same verdicts with the body in one chunk as in many;
 * - what dkim_msg_sign() returns (body in chunks) is folded at most 78
 *   columns wide, and the message with it on top (body whole) verifies,
 *   so the signer's and the verifier's body hashes agree.
 *
 * A million runs must fit the ctest campaign, so the costly checks are
 * spread over the inputs by a hash of their bytes (a saved input replays
 * the same way): the header fields are checked in one input of two, each
 * field in one canonicalization by turns; the last two checks, and the
 * right keys (Ed25519 at selector "ed", RSA elsewhere), are for one input
 * in SLOW_ONE_IN - the others get the other algorithm's key, refused
 * before any public-key operation.
 */
#include "dkim_msg.h"
#include "strbuf.h"

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW         1700000000
#define MAX_FIELDS  4096
#define SLOW_ONE_IN 8

/* The harness's own loops over every byte need no coverage feedback and
 * would cost as much as the code under test. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

/* Test keys, made for this harness only. */
static const char ed_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEIBJAc8am4l8YOKnfaJtqgXX3Fi7TlG09dazgKMYTFMIq\n"
                             "-----END PRIVATE KEY-----\n";
static const char ed_record[] =
    "v=DKIM1; k=ed25519; p=ibaW3N6SuoPC/GQen0EMyVVatm0KCxXEf53P4cb8vrc=";
static const char rsa_record[] =
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwap2zWgMV1PRMnS/KvCrCYEixlCrjwZe"
    "tOCC5sr40mtK0RvT3C1i/eug5RKYHlK5vNAm/hdcVFCxrrvJQZYkIKgvIiChtYAOs00BVQ7zIeJeAkA6her+nE8CCXcM"
    "adsLRGrqeTfDng8oGgV4e0afDEuw8YuL377XO3Srj2ytXif9/OjJ+/POxfd2p+OK5p1FmZjlvvb63V5jfRN8SpBPQ/Cf"
    "UD6ZS++UMoI6imSoSS9bDP3i/fWDwMyjOOFbsGLDT7q3pp321tzu+3Uemmx/QD9GeXNnAlbCBbsAEOMNV8JPxrQIM3Ve"
    "tdfEo291Bx4DWVpvIzi8Wcv5F0VJEI/3IwIDAQAB";

static struct dkim_key *ed_key;
static ldns_rr_list *ed_rrs, *rsa_rrs;
static int swap_keys; /* answer each selector with the other algorithm's key */

static void check(int ok)
{
	if (!ok)
		abort();
}

/* A TXT record set holding 'value' in strings of at most 255 bytes. */
static ldns_rr_list *txt_rrs(const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	ldns_rr *rr = NULL;
	strbuf_addstr(&sb, "key.example. 300 IN TXT");
	for (size_t off = 0, len = strlen(value); off < len; off += 255)
		strbuf_addf(&sb, " \"%.255s\"", value + off);
	check(ldns_rr_new_frm_str(&rr, sb.buf, 0, NULL, NULL) == LDNS_STATUS_OK);
	strbuf_release(&sb);
	ldns_rr_list *list = ldns_rr_list_new();
	ldns_rr_list_push_rr(list, rr);
	return list;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz_dkim_canon.XXXXXX";
	struct mc_error err;
	int fd = mkstemp(path);
	(void)argc, (void)argv;
	check(fd >= 0 && write(fd, ed_pem, strlen(ed_pem)) == (ssize_t)strlen(ed_pem));
	close(fd);
	ed_key = dkim_key_load(path, &err);
	unlink(path);
	check(ed_key != NULL);
	ed_rrs = txt_rrs(ed_record);
	rsa_rrs = txt_rrs(rsa_record);
	return 0;
}

static void fake_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (!strncasecmp(name, "servfail.", 9)) {
		out->status = DNSQ_SERVFAIL;
	} else if (!strncasecmp(name, "nxdomain.", 9)) {
		out->status = DNSQ_NXDOMAIN;
	} else if (type != LDNS_RR_TYPE_TXT) {
		out->status = DNSQ_NODATA;
	} else {
		out->status = DNSQ_ANSWER;
		int ed = !strncasecmp(name, "ed.", 3);
		out->rrs = ed != swap_keys ? ed_rrs : rsa_rrs;
	}
}

/* ---- reference models, for inputs where the RFC leaves no doubt ---- */

NO_COVERAGE static int is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Printable ASCII but ':', every LF a fold, no CR. */
NO_COVERAGE static int plain_field(const char *name, const char *value)
{
	for (const char *p = name; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == ':')
			return 0;
	for (const char *p = value; *p; p++)
		if (*p == '\r' || (*p == '\n' && !is_wsp(p[1])))
			return 0;
	return 1;
}

/* The reference canonical field into 'o' (room for the name, ':', two
 * bytes per value byte and CRLF); returns its length. */
NO_COVERAGE static size_t ref_header(int relaxed, const char *name, const char *value, char *o)
{
	char *start = o;
	int space = 0, any = 0;
	for (const char *p = name; *p; p++)
		*o++ = relaxed && *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
	*o++ = ':';
	for (const char *p = value; *p; p++) {
		if (!relaxed) {
			if (*p == '\n')
				*o++ = '\r';
			*o++ = *p;
		} else if (is_wsp(*p) || *p == '\n') {
			space |= *p != '\n';
		} else {
			if (space && any)
				*o++ = ' ';
			*o++ = *p;
			space = 0, any = 1;
		}
	}
	*o++ = '\r', *o++ = '\n';
	return (size_t)(o - start);
}

/* The reference canonical body of 'b' (lines end in LF only, no CR
 * anywhere) into 'o' (room for 3 * len + 2); returns its length. */
NO_COVERAGE static size_t ref_body(int relaxed, const unsigned char *b, size_t len, char *o)
{
	size_t n = 0, keep = 0; /* 'keep': up to the last non-empty line */
	for (size_t i = 0; i < len;) {
		const unsigned char *nl = memchr(b + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - b) : len, lead = n;
		for (size_t j = i; j < end; j++) {
			if (!relaxed || !is_wsp(b[j])) {
				o[n++] = (char)b[j];
				continue;
			}
			while (j + 1 < end && is_wsp(b[j + 1]))
				j++;
			if (j + 1 < end)
				o[n++] = ' ';
		}
		o[n++] = '\r', o[n++] = '\n';
		if (n - lead > 2)
			keep = n;
		i = end + 1;
	}
	if (!relaxed && !keep)
		o[keep++] = '\r', o[keep++] = '\n';
	return keep;
}

/* ---- the checks ---- */

static void check_header(int relaxed, const char *name, const char *value)
{
	char *out = NULL;
	size_t outlen = 0;
	dkim_canon_header(relaxed, name, value, &out, &outlen);
	check(out && outlen >= 3 && out[outlen] == '\0');
	check(out[outlen - 2] == '\r' && out[outlen - 1] == '\n');
	if (plain_field(name, value)) {
		char *ref = malloc(strlen(name) + 2 * strlen(value) + 3);
		check(ref_header(relaxed, name, value, ref) == outlen && !memcmp(ref, out, outlen));
		free(ref);
	}
	free(out);
}

static void sink(void *ctx, const void *data, size_t len)
{
	check(len <= 4096);
	strbuf_add(ctx, data, len);
}

/* Chunk sizes from a tiny generator seeded by the input. */
NO_COVERAGE static size_t next_chunk(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	unsigned r = (*seed >> 16) & 0x7fff;
	return r % 8 == 0 ? 1 + r % 5000 : 1 + r % 13;
}

static void canon_body(int relaxed, const unsigned char *b, size_t len, unsigned seed,
                       struct strbuf *out)
{
	struct dkim_body_canon *c = dkim_body_canon_new(relaxed, sink, out);
	for (size_t i = 0, n; i < len; i += n) {
		n = seed ? next_chunk(&seed) : len;
		n = n < len - i ? n : len - i;
		dkim_body_canon_feed(c, b + i, n);
	}
	check(dkim_body_canon_end(c) == out->len);
	dkim_body_canon_feed(c, "x\r\n", 3); /* after the end: ignored */
	check(dkim_body_canon_end(c) == out->len);
	dkim_body_canon_free(c);
}

/* Every LF in 's' follows a CR. */
NO_COVERAGE static int lf_after_cr(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' && (!i || s[i - 1] != '\r'))
			return 0;
	return 1;
}

/* Both canonicalizations of the body, one (by the seed) in many chunks,
 * the other in one. Each is checked against the model when it applies,
 * which also shows the chunking changed nothing; otherwise the chunked
 * one is compared with the body canonicalized in one chunk. */
static void check_body(const unsigned char *b, size_t len, unsigned seed)
{
	char *ref = memchr(b, '\r', len) ? NULL : malloc(3 * len + 2);
	for (int relaxed = 0; relaxed < 2; relaxed++) {
		struct strbuf out = STRBUF_INIT, whole = STRBUF_INIT;
		int chunked = (seed >> 1 & 1) == (unsigned)relaxed;
		canon_body(relaxed, b, len, chunked ? seed | 1 : 0, &out);
		check(lf_after_cr(out.buf, out.len));
		if (ref) {
			check(ref_body(relaxed, b, len, ref) == out.len &&
			      !memcmp(ref, out.buf, out.len));
		} else if (chunked) {
			canon_body(relaxed, b, len, 0, &whole);
			check(whole.len == out.len && !memcmp(whole.buf, out.buf, out.len));
		}
		strbuf_release(&out);
		strbuf_release(&whole);
	}
	free(ref);
}

/* A DKIM-Signature field, as dkim_msg.c tells (trailing white space
 * after the name ignored). */
NO_COVERAGE static int is_sig_name(const char *name)
{
	size_t len = strlen(name);
	while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	return len == 14 && !strncasecmp(name, "DKIM-Signature", 14);
}

struct msg {
	char *buf; /* the header part, NUL-terminated fields, ':' made NUL */
	const char *fields[MAX_FIELDS][2];
	size_t n, nsig;
	const unsigned char *body;
	size_t len;
};

/* How to feed a message: 'top' an extra first DKIM-Signature value;
 * 'own' without the message's own DKIM-Signature fields; 'seed' 0 for
 * the body in one chunk. */
struct how {
	const char *top;
	int own, sign;
	unsigned seed;
};

/* How many DKIM-Signature fields 'msg' has, fed as 'h' says. */
static size_t nsigs(const struct msg *msg, const struct how *h)
{
	return (h->own ? 0 : msg->nsig) + (h->top != NULL);
}

static struct dkim_msg *feed(const struct msg *msg, const struct how *h)
{
	struct dkim_msg *m = dkim_msg_new();
	unsigned seed = h->seed;
	if (h->top)
		dkim_msg_header(m, "DKIM-Signature", h->top);
	for (size_t i = 0; i < msg->n; i++)
		if (!h->own || !is_sig_name(msg->fields[i][0]))
			dkim_msg_header(m, msg->fields[i][0], msg->fields[i][1]);
	int nsig = dkim_msg_eoh(m, h->sign);
	check(nsig >= 0 && (size_t)nsig == nsigs(msg, h));
	for (size_t i = 0, n; i < msg->len; i += n) {
		n = seed ? next_chunk(&seed) : msg->len;
		n = n < msg->len - i ? n : msg->len - i;
		dkim_msg_body(m, msg->body + i, n);
	}
	return m;
}

static int str_in(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_verdict(const struct dkim_verdict *v)
{
	check(v->result >= DKIM_PASS && v->result <= DKIM_PERMERROR);
	check(str_in(v->domain, sizeof(v->domain)) && str_in(v->selector, sizeof(v->selector)));
	check(str_in(v->identity, sizeof(v->identity)) && str_in(v->why, sizeof(v->why)));
	check(str_in(v->algorithm, sizeof(v->algorithm)));
	check(str_in(v->b_prefix, sizeof(v->b_prefix)) && strlen(v->b_prefix) <= 8);
	check(v->key_bits >= 0 && (v->testing == 0 || v->testing == 1));
}

static int same_verdict(const struct dkim_verdict *a, const struct dkim_verdict *b)
{
	return a->result == b->result && !strcmp(a->domain, b->domain) &&
	       !strcmp(a->selector, b->selector) && !strcmp(a->identity, b->identity) &&
	       !strcmp(a->algorithm, b->algorithm) && !strcmp(a->b_prefix, b->b_prefix) &&
	       a->key_bits == b->key_bits && a->testing == b->testing && !strcmp(a->why, b->why);
}

static size_t verify(const struct msg *msg, const struct how *h, struct dkim_verdict **v)
{
	struct dkim_msg *m = feed(msg, h);
	size_t n = dkim_msg_verify(m, fake_lookup, NULL, NOW, v);
	dkim_msg_free(m);
	check(n == nsigs(msg, h) && (n == 0) == (*v == NULL));
	for (size_t i = 0; i < n; i++)
		check_verdict(&(*v)[i]);
	return n;
}

/* Verify with the body in chunks; when 'twice', with the body whole too,
 * for the same verdicts. */
static void check_verify(const struct msg *msg, unsigned seed, int twice)
{
	struct dkim_verdict *whole = NULL, *chunked = NULL;
	size_t n = verify(msg, &(struct how){.seed = seed | 1}, &chunked);
	if (twice) {
		check(verify(msg, &(struct how){.seed = 0}, &whole) == n);
		for (size_t i = 0; i < n; i++)
			check(same_verdict(&whole[i], &chunked[i]));
	}
	free(whole);
	free(chunked);
}

/* Sign (body in chunks), then verify the message with the new field on
 * top (body whole): the new signature passes. The message's own
 * signatures are left out (we do not sign them anyway): verifying them
 * again would only cost time. */
static void check_roundtrip(const struct msg *msg, unsigned seed)
{
	struct dkim_msg *m = feed(msg, &(struct how){.own = 1, .sign = 1, .seed = seed | 1});
	struct mc_error err = {0};
	char *value = NULL;
	int rc = dkim_msg_sign(m, "example.com", "ed", ed_key, NOW, &value, &err);
	dkim_msg_free(m);
	if (rc < 0) {
		check(value == NULL && err.msg[0]);
		return;
	}
	check(value && value[0] == ' ');
	/* folded with "\r\n\t", lines of at most 78 bytes */
	size_t width = strlen("DKIM-Signature:");
	for (const char *p = value; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			check(p[0] == '\r' && p[1] == '\n' && p[2] == '\t');
			width = 0, p++;
		} else {
			check(++width <= 78);
		}
	}
	struct dkim_verdict *v = NULL;
	check(verify(msg, &(struct how){.top = value, .own = 1}, &v) == 1);
	if (v[0].result != DKIM_PASS) {
		fprintf(stderr, "our own signature: %s: %s\n", dkim_result_name(v[0].result),
		        v[0].why);
		abort();
	}
	free(v);
	free(value);
}

/* The fields of the header part: "name:value" separated by NUL. */
static void split_fields(struct msg *msg, const char *h, size_t len)
{
	if (!len)
		return;
	msg->buf = malloc(len + 1);
	memcpy(msg->buf, h, len);
	msg->buf[len] = '\0';
	for (char *f = msg->buf; f <= msg->buf + len && msg->n < MAX_FIELDS; f += strlen(f) + 1) {
		char *colon = strchr(f, ':');
		if (colon)
			*colon = '\0';
		msg->fields[msg->n][0] = f;
		msg->fields[msg->n][1] = colon ? colon + 1 : "";
		msg->nsig += is_sig_name(f);
		msg->n++;
		if (colon)
			f = colon + 1;
	}
}

NO_COVERAGE static unsigned fnv1a(const uint8_t *data, size_t size)
{
	unsigned hash = 2166136261u;
	for (size_t i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;
	return hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msg msg;
	if (size < 3)
		return 0;
	unsigned seed = data[0], hash = fnv1a(data, size);
	size_t hlen = (size_t)data[1] | (size_t)data[2] << 8;
	hlen = hlen < size - 3 ? hlen : size - 3;

	msg.n = msg.nsig = 0;
	msg.buf = NULL;
	split_fields(&msg, (const char *)data + 3, hlen);
	msg.body = data + 3 + hlen;
	msg.len = size - 3 - hlen;
	for (size_t i = 0; hash / SLOW_ONE_IN % 2 && i < msg.n; i++)
		check_header((int)((i + seed) & 1), msg.fields[i][0], msg.fields[i][1]);
	check_body(msg.body, msg.len, seed);
	if (msg.n < DKIM_MAX_HEADERS && hlen < DKIM_MAX_HEADER_BYTES / 2) {
		int slow = hash % SLOW_ONE_IN == 0;
		swap_keys = !slow;
		check_verify(&msg, seed, slow);
		if (slow)
			check_roundtrip(&msg, seed);
	}
	free(msg.buf);
	return 0;
}
