/*
 * test_dkim_interop - lib/dkim_msg.c against two other DKIM
 * implementations: dkimpy (Debian python3-dkim) and OpenDKIM (opendkim).
 *
 * Messages signed by each peer are verified by us, messages we sign are
 * verified by each peer, and all three verifiers must agree on tampered
 * and edge-case messages. The peers run as child processes through
 * tests/conformance/dkim/peer.py, each run bounded by a timeout. Keys
 * are made with lib/dkim.c (RSA-2048, Ed25519); peers read the public
 * records from a file (OpenDKIM's TestPublicKeys, dkimpy's dnsfunc), we
 * get them from a fake dnsq_lookup_fn, so nothing touches the network.
 * A missing peer fails the whole suite, naming its Debian package.
 *
 * Our verifier is fed each message the way the milter sees it (header
 * fields one by one, then the body) several times, with the body in one
 * chunk and in small ones, and must give the same verdicts every time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

#include "dkim.h"
#include "dkim_msg.h"
#include "strbuf.h"
#include "xalloc.h"

#include "../unit/fake_dns.h"
#include "dkim/peer.h"

#define DOMAIN    "example.com"
#define NKEYS     2
#define MAX_ITEMS 64

struct tkey {
	const char *alg, *selector, *sig_alg;
	char *pem_path, *record;
	struct dkim_key *key;
};

static struct {
	char *keys_file; /* the records, one a line, for the peers */
	struct tkey k[NKEYS];
	struct fake_dns dns; /* the records, for our verifier */
} G = {.k = {{.alg = "rsa", .selector = "rsa2048", .sig_alg = "rsa-sha256"},
             {.alg = "ed25519", .selector = "ed", .sig_alg = "ed25519-sha256"}}};

/* ---- our side: feeding a message, signing, verifying ---- */

/* The header field starting at msg[*i]: its end (before the line end
 * that no fold follows); *i moves past that line end. */
static size_t field_end(const char *msg, size_t *i)
{
	for (;;) {
		const char *nl = strchr(msg + *i, '\n');
		if (!nl) {
			*i = strlen(msg);
			return *i;
		}
		size_t end = (size_t)(nl - msg) - (nl > msg && nl[-1] == '\r');
		*i = (size_t)(nl - msg) + 1;
		if (msg[*i] != ' ' && msg[*i] != '\t')
			return end;
	}
}

/* The next header field of 'msg' from msg[*i]: its name and its value
 * after the colon, folds kept, no final line end (caller frees both).
 * Returns 0 at the end of the header, *i then at the body. */
static int next_field(const char *msg, size_t *i, char **name, char **value)
{
	if (!msg[*i])
		return 0;
	if (msg[*i] == '\n' || (msg[*i] == '\r' && msg[*i + 1] == '\n')) {
		*i += msg[*i] == '\n' ? 1 : 2;
		return 0;
	}
	size_t start = *i, end = field_end(msg, i);
	const char *colon = memchr(msg + start, ':', end - start);
	assert_non_null(colon);
	*name = xstrndup(msg + start, (size_t)(colon - msg) - start);
	*value = xstrndup(colon + 1, end - (size_t)(colon - msg) - 1);
	return 1;
}

/* Feed 'msg' to 'm' as the milter would: each field, the end of the
 * header, then the body as it is, in pieces of 'chunk' bytes (0: whole). */
static void feed(struct dkim_msg *m, const char *msg, size_t chunk, int sign)
{
	size_t i = 0, len = strlen(msg);
	char *name, *value;

	while (next_field(msg, &i, &name, &value)) {
		dkim_msg_header(m, name, value);
		free(name);
		free(value);
	}
	dkim_msg_eoh(m, sign);
	for (size_t n; i < len; i += n) {
		n = chunk && chunk < len - i ? chunk : len - i;
		dkim_msg_body(m, msg + i, n);
	}
}

/* The first DKIM-Signature of 'msg', parsed by dkim_sig_parse(), which
 * must accept it. */
static void first_sig(const char *msg, struct dkim_sig *sig)
{
	size_t i = 0;
	char *name, *value, why[256] = "";

	while (next_field(msg, &i, &name, &value)) {
		int found = !strcasecmp(name, "DKIM-Signature");
		if (found && dkim_sig_parse(value, sig, why, sizeof(why)) < 0)
			fail_msg("dkim_sig_parse refuses '%s': %s", value, why);
		free(name);
		free(value);
		if (found)
			return;
	}
	fail_msg("no DKIM-Signature in the message");
}

static const struct tkey *key_by_selector(const char *selector)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(G.k[i].selector, selector))
			return &G.k[i];
	return NULL;
}

/* What a verdict says about the key it claims, "" when that fits. */
static const char *verdict_mismatch(const struct dkim_verdict *v)
{
	const struct tkey *k = key_by_selector(v->selector);
	if (!k || strcmp(v->domain, DOMAIN))
		return "d= or s= wrong";
	if (strcmp(v->algorithm, k->sig_alg))
		return "a= wrong";
	if (!strcmp(k->alg, "rsa") && v->key_bits != 2048)
		return "key_bits not 2048";
	if (strlen(v->b_prefix) != 8)
		return "b_prefix not 8 characters";
	return "";
}

/* Our verdicts on 'msg' in one line: "pass" (every signature passed),
 * "none", or "<result> sig <n>: <why>" for the first one that did not. */
static char *verify_chunked(const char *msg, size_t chunk)
{
	struct dkim_msg *m = dkim_msg_new();
	struct dkim_verdict *v = NULL;
	struct strbuf sb = STRBUF_INIT;

	feed(m, msg, chunk, 0);
	size_t n = dkim_msg_verify(m, fake_dns_lookup, &G.dns, time(NULL), &v);
	for (size_t i = 0; i < n && !sb.len; i++) {
		const char *bad = verdict_mismatch(&v[i]);
		if (v[i].result != DKIM_PASS)
			strbuf_addf(&sb, "%s sig %zu: %s", dkim_result_name(v[i].result), i,
			            v[i].why);
		else if (*bad)
			strbuf_addf(&sb, "bad verdict sig %zu: %s (d=%s s=%s a=%s bits %d)", i, bad,
			            v[i].domain, v[i].selector, v[i].algorithm, v[i].key_bits);
	}
	if (!sb.len)
		strbuf_addstr(&sb, n ? "pass" : "none");
	free(v);
	dkim_msg_free(m);
	return strbuf_detach(&sb);
}

/* verify_chunked() with the body whole and in small chunks; the verdicts
 * must not depend on the chunking. */
static char *our_verify(const char *msg)
{
	static const size_t chunks[] = {1, 2, 7, 64};
	char *whole = verify_chunked(msg, 0);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *r = verify_chunked(msg, chunks[i]);
		if (strcmp(r, whole)) {
			char *both = xasprintf("chunking changes the verdict: whole body '%s', "
			                       "%zu-byte chunks '%s'",
			                       whole, chunks[i], r);
			free(r);
			free(whole);
			return both;
		}
		free(r);
	}
	return whole;
}

/* Does 'msg' end its lines with CRLF? (judged by its first line) */
static int crlf_style(const char *msg)
{
	const char *nl = strchr(msg, '\n');
	return nl && nl > msg && nl[-1] == '\r';
}

/* 'msg' signed by us with key 'k': "DKIM-Signature:" and the value we
 * return on top, in the message's own line ends. Caller frees. */
static char *our_sign(const char *msg, const struct tkey *k, char **value_out)
{
	struct dkim_msg *m = dkim_msg_new();
	struct mc_error err = {0};
	char *value = NULL;
	struct strbuf sb = STRBUF_INIT;

	feed(m, msg, 0, 1);
	if (dkim_msg_sign(m, DOMAIN, k->selector, k->key, time(NULL), &value, &err) < 0)
		fail_msg("dkim_msg_sign with %s: %s", k->alg, err.msg);
	dkim_msg_free(m);
	assert_non_null(value);
	assert_true(value[0] == ' ');
	strbuf_addstr(&sb, "DKIM-Signature:");
	for (const char *p = value; *p; p++)
		if (*p != '\r' || crlf_style(msg))
			strbuf_addch(&sb, *p);
	strbuf_addstr(&sb, crlf_style(msg) ? "\r\n" : "\n");
	/* "at most 78 columns wide" (dkim_msg.h) */
	for (const char *line = sb.buf, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		if (nl - line - (nl > line && nl[-1] == '\r') > 78)
			fail_msg("signature line wider than 78 columns: %.*s", (int)(nl - line),
			         line);
	strbuf_addstr(&sb, msg);
	if (value_out)
		*value_out = value;
	else
		free(value);
	return strbuf_detach(&sb);
}

/* ---- the peers as signers ---- */

/* What dkimpy signs unless a case says otherwise: duplicates and names
 * listed more often than present (over-signing) included. */
#define DKIMPY_HEADERS                                                                             \
	"from:from:to:to:to:cc:subject:subject:date:message-id:references:content-type"

static char *sign_dkimpy_h(const char *msg, const struct tkey *k, const char *canon,
                           const char *headers, int length)
{
	const char *args[] = {"dkimpy-sign",
	                      k->pem_path,
	                      DOMAIN,
	                      k->selector,
	                      canon,
	                      headers,
	                      length ? "length" : NULL,
	                      NULL};
	return peer_sign(args, msg);
}

static char *sign_dkimpy(const char *msg, const struct tkey *k, const char *canon)
{
	return sign_dkimpy_h(msg, k, canon, DKIMPY_HEADERS, 0);
}

static char *sign_opendkim_o(const char *msg, const struct tkey *k, const char *canon,
                             const char *oversign)
{
	const char *args[] = {"opendkim-sign", k->pem_path, DOMAIN, k->selector,
	                      canon,           oversign,    NULL};
	return peer_sign(args, msg);
}

static char *sign_opendkim(const char *msg, const struct tkey *k, const char *canon)
{
	return sign_opendkim_o(msg, k, canon, NULL);
}

/* OpenDKIM 2.11.0~beta2 makes ed25519-sha256 signatures with simple
 * header canonicalization that verify nowhere, not even in OpenDKIM
 * (RSA ones with the same settings do): not a combination to test with. */
static int opendkim_signs(const struct tkey *k, const char *canon)
{
	return strcmp(k->alg, "ed25519") || strncmp(canon, "simple/", 7);
}

/* We only sign relaxed/relaxed. */
static char *sign_ours(const char *msg, const struct tkey *k, const char *canon)
{
	(void)canon;
	return our_sign(msg, k, NULL);
}

/* ---- a batch of messages, each checked by every verifier it names ---- */

enum { V_OURS = 1, V_DKIMPY = 2, V_OPENDKIM = 4, V_ALL = 7 };

struct item {
	char *label, *path, *msg;
	int expect_pass, verifiers;
};

struct batch {
	struct item v[MAX_ITEMS];
	size_t n;
};

/* Add 'msg' (taken over: freed by batch_check) under 'label'. */
static void batch_add(struct batch *b, const char *label, char *msg, int expect_pass)
{
	assert_true(b->n < MAX_ITEMS);
	struct item *it = &b->v[b->n++];
	it->label = xstrdup(label);
	it->path = new_path(label);
	it->msg = msg;
	it->expect_pass = expect_pass;
	it->verifiers = V_ALL;
	write_file(it->path, msg);
}

/* Only 'verifiers' check the item added last. */
static void batch_only(struct batch *b, int verifiers)
{
	b->v[b->n - 1].verifiers = verifiers;
}

/* One peer's verdicts ("pass", "fail ...", "none") on the items it checks. */
static void peer_verdicts(const char *cmd, const struct batch *b, int bit, char **got)
{
	const char *paths[MAX_ITEMS];
	char *v[MAX_ITEMS];
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].verifiers & bit)
			paths[n++] = b->v[i].path;
	if (!n)
		return;
	peer_verify(cmd, G.keys_file, paths, n, v);
	for (size_t i = 0, j = 0; i < b->n; i++)
		if (b->v[i].verifiers & bit)
			got[i] = v[j++];
}

static int as_expected(const char *got, int expect_pass)
{
	return expect_pass ? !strcmp(got, "pass") : !strncmp(got, "fail", 4);
}

/* Every verifier on every item; each disagreement with the expected
 * result is printed, then the test fails if there was any. */
static void batch_check(struct batch *b)
{
	static const char *who[] = {"ours", "dkimpy", "opendkim"};
	char *got[3][MAX_ITEMS] = {{0}};
	int bad = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].verifiers & V_OURS)
			got[0][i] = our_verify(b->v[i].msg);
	peer_verdicts("dkimpy-verify", b, V_DKIMPY, got[1]);
	peer_verdicts("opendkim-verify", b, V_OPENDKIM, got[2]);
	for (size_t i = 0; i < b->n; i++) {
		for (size_t j = 0; j < 3; j++) {
			if (got[j][i] && !as_expected(got[j][i], b->v[i].expect_pass)) {
				print_error("%s (%s): %s says '%s', expected %s\n", b->v[i].label,
				            b->v[i].path, who[j], got[j][i],
				            b->v[i].expect_pass ? "pass" : "fail");
				bad++;
			}
			free(got[j][i]);
		}
		free(b->v[i].label);
		free(b->v[i].path);
		free(b->v[i].msg);
	}
	b->n = 0;
	assert_int_equal(bad, 0);
}

/* A copy of 'msg' with the byte at 'off' into the first 'needle' set to 'c'. */
static char *tampered(const char *msg, const char *needle, size_t off, char c)
{
	char *t = xstrdup(msg), *p = strstr(t, needle);
	assert_non_null(p);
	assert_true(off < strlen(needle) && p[off] != c);
	p[off] = c;
	return t;
}

/* A copy of 'msg' with its CRLFs turned into bare LFs. */
static char *to_lf(const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *msg; msg++)
		if (!(msg[0] == '\r' && msg[1] == '\n'))
			strbuf_addch(&sb, *msg);
	return strbuf_detach(&sb);
}

static const char base_msg[] = "From: Alice Example <alice@example.com>\r\n"
                               "To: Bob <bob@example.org>\r\n"
                               "To: Carol <carol@example.org>\r\n"
                               "Cc: dave@example.net\r\n"
                               "Subject: Interop test\r\n"
                               "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
                               "Message-ID: <interop-1@example.com>\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "X-Mailer: unsigned header\r\n"
                               "\r\n"
                               "Hello Bob,\r\n"
                               "\r\n"
                               "  an indented line,  with  inner and trailing spaces  \r\n"
                               "\tand a tab.\r\n"
                               "\r\n"
                               "\r\n";

/* ---- 1, 2: the peers sign, everyone verifies ---- */

static void test_dkimpy_signed(void **state)
{
	static const struct {
		const char *canon, *headers;
	} variants[] = {
	    {"relaxed/relaxed", "from:to:to:cc:subject:date:message-id"},
	    {"simple/simple", "from:from:to:to:to:subject:date:mime-version:content-type"},
	    {"relaxed/simple", "subject:from:to:date:to:message-id:content-type"},
	    {"simple/relaxed", DKIMPY_HEADERS},
	};
	struct batch b = {0};
	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		for (size_t j = 0; j < 2 * sizeof(variants) / sizeof(variants[0]); j++) {
			int length = j & 1;
			const char *canon = variants[j / 2].canon;
			char *s = sign_dkimpy_h(base_msg, &G.k[i], canon, variants[j / 2].headers,
			                        length);
			struct dkim_sig sig;
			first_sig(s, &sig);
			assert_int_equal(sig.length >= 0, length);
			dkim_sig_release(&sig);
			char *label =
			    xasprintf("dkimpy-%s-%s%s", G.k[i].selector, canon, length ? "-l" : "");
			if (length) {
				/* l= lets a list footer be added after signing */
				char *more = xasprintf("%sappended after signing\r\n", s);
				char *l2 = xasprintf("%s-appended", label);
				batch_add(&b, l2, more, 1);
				free(l2);
			}
			batch_add(&b, label, s, 1);
			free(label);
		}
	}
	batch_check(&b);
}

static void test_opendkim_signed(void **state)
{
	static const struct {
		const char *canon, *oversign;
	} variants[] = {
	    {"relaxed/relaxed", NULL},
	    {"simple/simple", NULL},
	    {"relaxed/simple", NULL},
	    {"simple/relaxed", NULL},
	    {"relaxed/relaxed", "From,To,Subject"},
	};
	struct batch b = {0};
	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		for (size_t j = 0; j < sizeof(variants) / sizeof(variants[0]); j++) {
			if (!opendkim_signs(&G.k[i], variants[j].canon))
				continue;
			char *label =
			    xasprintf("opendkim-%s-%s%s", G.k[i].selector, variants[j].canon,
			              variants[j].oversign ? "-o" : "");
			batch_add(&b, label,
			          sign_opendkim_o(base_msg, &G.k[i], variants[j].canon,
			                          variants[j].oversign),
			          1);
			free(label);
		}
	}
	batch_check(&b);
}

/* ---- 3: we sign, everyone verifies ---- */

/* How often 'name' is in the colon-separated list 'h'. */
static int h_count(const char *h, const char *name)
{
	int n = 0;
	size_t len = strlen(name);
	for (const char *p = h;; p++) {
		p += strspn(p, " \t\r\n");
		size_t w = strcspn(p, ":");
		while (w && strchr(" \t\r\n", p[w - 1]))
			w--;
		n += w == len && !strncasecmp(p, name, len);
		if (!(p = strchr(p, ':')))
			return n;
	}
}

/* What dkim_msg.h promises of our signature on base_msg. */
static void check_our_value(const char *value, const struct tkey *k)
{
	static const struct {
		const char *name;
		int n;
	} want[] = {{"from", 2},          {"to", 3},           {"cc", 2},
	            {"subject", 2},       {"date", 2},         {"message-id", 2},
	            {"mime-version", 2},  {"content-type", 2}, {"x-mailer", 0},
	            {"dkim-signature", 0}};
	struct dkim_sig sig;
	char why[256] = "";

	if (dkim_sig_parse(value, &sig, why, sizeof(why)) < 0)
		fail_msg("our own signature does not parse: %s: '%s'", why, value);
	assert_string_equal(sig.domain, DOMAIN);
	assert_string_equal(sig.selector, k->selector);
	assert_string_equal(sig.algorithm, k->sig_alg);
	assert_true(sig.header_relaxed && sig.body_relaxed);
	assert_true(sig.length == -1 && sig.expires == -1);
	assert_true(sig.timestamp > time(NULL) - 60 && sig.timestamp <= time(NULL));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (h_count(sig.headers, want[i].name) != want[i].n)
			fail_msg("h=%s: '%s' %d times, expected %d", sig.headers, want[i].name,
			         h_count(sig.headers, want[i].name), want[i].n);
	dkim_sig_release(&sig);
}

static void test_ours_signed(void **state)
{
	struct batch b = {0};
	char *value, *lf = to_lf(base_msg);
	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		char *label = xasprintf("ours-%s", G.k[i].selector);
		char *s = our_sign(base_msg, &G.k[i], &value);
		check_our_value(value, &G.k[i]);
		free(value);
		batch_add(&b, label, s, 1);
		free(label);
		label = xasprintf("ours-%s-lf", G.k[i].selector);
		batch_add(&b, label, our_sign(lf, &G.k[i], NULL), 1);
		free(label);
	}
	/* two signatures: ours over dkimpy's, and ours twice (both keys) */
	char *d = sign_dkimpy(base_msg, &G.k[0], "simple/simple");
	batch_add(&b, "ours-over-dkimpy", our_sign(d, &G.k[1], NULL), 1);
	free(d);
	d = our_sign(base_msg, &G.k[0], NULL);
	batch_add(&b, "ours-twice", our_sign(d, &G.k[1], NULL), 1);
	free(d);
	free(lf);
	batch_check(&b);
}

/* ---- 4: tampering ---- */

typedef char *signer_fn(const char *msg, const struct tkey *k, const char *canon);

/* A changed byte in a signed header or in the body fails everywhere; a
 * changed unsigned header (X-Mailer) passes everywhere. */
static void tamper_case(const char *who, signer_fn *sign, const char *canon)
{
	struct batch b = {0};
	for (size_t i = 0; i < NKEYS; i++) {
		if (sign == sign_opendkim && !opendkim_signs(&G.k[i], canon))
			continue;
		char *s = sign(base_msg, &G.k[i], canon), *label;
		struct dkim_sig sig;
		first_sig(s, &sig);
		assert_int_equal(h_count(sig.headers, "x-mailer"), 0);
		assert_true(h_count(sig.headers, "subject") > 0);
		dkim_sig_release(&sig);
		label = xasprintf("%s-%s-%s-signed-header", who, G.k[i].selector, canon);
		batch_add(&b, label, tampered(s, "Subject: Interop", 9, 'J'), 0);
		free(label);
		label = xasprintf("%s-%s-%s-body", who, G.k[i].selector, canon);
		batch_add(&b, label, tampered(s, "Hello Bob", 0, 'J'), 0);
		free(label);
		label = xasprintf("%s-%s-%s-unsigned-header", who, G.k[i].selector, canon);
		batch_add(&b, label, tampered(s, "X-Mailer: unsigned", 10, 'U'), 1);
		free(label);
		label = xasprintf("%s-%s-%s-intact", who, G.k[i].selector, canon);
		batch_add(&b, label, s, 1);
		free(label);
	}
	batch_check(&b);
}

static void test_tamper_ours(void **state)
{
	(void)state;
	tamper_case("ours", sign_ours, "relaxed/relaxed");
}

static void test_tamper_dkimpy(void **state)
{
	(void)state;
	tamper_case("dkimpy", sign_dkimpy, "relaxed/relaxed");
	tamper_case("dkimpy", sign_dkimpy, "simple/simple");
}

static void test_tamper_opendkim(void **state)
{
	(void)state;
	tamper_case("opendkim", sign_opendkim, "relaxed/relaxed");
	tamper_case("opendkim", sign_opendkim, "simple/simple");
}

/* ---- 5: edge messages, signed by each signer, checked by each verifier ---- */

#define EDGE_HEAD                                                                                  \
	"From: Alice <alice@example.com>\r\n"                                                      \
	"To: bob@example.org\r\n"                                                                  \
	"Date: Tue, 02 Jan 2024 08:00:00 +0100\r\n"                                                \
	"Message-ID: <edge@example.com>\r\n"

/* What OpenDKIM can take part in. As a milter it gets header values
 * without the white space after the colon and puts one space back, so
 * under simple header canonicalization it hashes "Subject:\tx" or a
 * value that starts with a fold differently from everyone else. It
 * refuses a body without a final CRLF, which no MTA passes on. */
enum od { OD_ALL, OD_RELAXED, OD_NONE };

struct edge {
	const char *name, *text; /* 'text' NULL: made by make() */
	char *(*make)(void);
	enum od od;
};

/* > 998 octets in each of two fields, folded many times. */
static char *make_long_folded(void)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, EDGE_HEAD "Subject:");
	for (int i = 0; i < 40; i++)
		strbuf_addf(&sb, "%s folded subject word %02d of a very long subject line",
		            i ? "\r\n\t" : "", i);
	strbuf_addstr(&sb, "\r\nReferences:");
	for (int i = 0; i < 40; i++)
		strbuf_addf(&sb, "\r\n <thread-%02d.0123456789abcdef@lists.example.org>", i);
	strbuf_addstr(&sb, "\r\n\r\nA reply deep in a thread.\r\n");
	return strbuf_detach(&sb);
}

static char *make_lf(void)
{
	return to_lf(base_msg);
}

static struct edge edges[] = {
    {.name = "crlf", .text = base_msg},
    {.name = "bare-lf", .make = make_lf},
    {.name = "trailing-space",
     .text = "From: alice@example.com  \r\nTo: bob@example.org \t\r\n"
             "Subject: trailing white space   \r\nDate: Tue, 02 Jan 2024 08:00:00 +0100\r\n\r\n"
             "spaces after this line   \r\ntab after this line\t\r\n   \r\nlast line \r\n"},
    {.name = "empty-body", .text = EDGE_HEAD "Subject: nothing below\r\n\r\n"},
    {.name = "blank-body", .text = EDGE_HEAD "Subject: blank lines below\r\n\r\n\r\n\r\n\r\n\r\n"},
    {.name = "long-folded", .make = make_long_folded, .od = OD_RELAXED},
    {.name = "utf8-header",
     .text = "From: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>\r\nTo: Zoë Ünal <zoe@example.org>\r\n"
             "Subject: Grüße aus Köln – ✓ 日本語のメール\r\n"
             "Date: Tue, 02 Jan 2024 08:00:00 +0100\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße, Jörg\r\n"},
    {.name = "no-final-newline",
     .text = EDGE_HEAD "Subject: no line end at the end\r\n\r\nfirst line\r\nlast",
     .od = OD_NONE},
    {.name = "subject-tabs",
     .text = EDGE_HEAD "Subject:\tTabbed\tsubject\t\twith  tabs\t\r\n\r\nbody\r\n",
     .od = OD_RELAXED},
    {.name = "duplicate-to",
     .text = EDGE_HEAD "To: carol@example.org\r\nTo: \"Dave D.\" <dave@example.org>\r\n"
                       "Subject: three To fields\r\n\r\nfor all of you\r\n"},
};

/* Signed by us, by dkimpy and by OpenDKIM with 'k', each checked by
 * every verifier, as far as OpenDKIM can take part (e->od). */
static void edge_signers(struct batch *b, const struct edge *e, const char *msg,
                         const struct tkey *k)
{
	static const char *canons[] = {"relaxed/relaxed", "simple/simple"};
	char *label = xasprintf("%s-ours-%s", e->name, k->selector);
	batch_add(b, label, our_sign(msg, k, NULL), 1);
	batch_only(b, e->od == OD_NONE ? V_OURS | V_DKIMPY : V_ALL);
	free(label);
	for (size_t c = 0; c < 2; c++) {
		int od = e->od == OD_ALL || (e->od == OD_RELAXED && c == 0);
		label = xasprintf("%s-dkimpy-%s-%s", e->name, k->selector, canons[c]);
		batch_add(b, label, sign_dkimpy(msg, k, canons[c]), 1);
		batch_only(b, od ? V_ALL : V_OURS | V_DKIMPY);
		free(label);
		if (!od || !opendkim_signs(k, canons[c]))
			continue;
		label = xasprintf("%s-opendkim-%s-%s", e->name, k->selector, canons[c]);
		batch_add(b, label, sign_opendkim(msg, k, canons[c]), 1);
		free(label);
	}
}

static void test_edge(void **state)
{
	const struct edge *e = *state;
	char *msg = e->text ? xstrdup(e->text) : e->make();
	struct batch b = {0};

	for (size_t i = 0; i < NKEYS; i++)
		edge_signers(&b, e, msg, &G.k[i]);
	free(msg);
	batch_check(&b);
}

/* ---- keys, the scratch directory, the peers ---- */

/* A new key of lib/dkim.c: its PEM file, its record (in the keys file
 * and in the fake DNS) and loaded for dkim_msg_sign(). */
static void make_key(struct tkey *k, FILE *keys)
{
	struct dkim_new nk = {0};
	struct mc_error err = {0};
	char *name = xasprintf("%s._domainkey.%s", k->selector, DOMAIN);

	if (dkim_new_generate(&nk, k->alg, 0, &err) < 0)
		fail_msg("dkim_new_generate %s: %s", k->alg, err.msg);
	k->pem_path = xasprintf("%s/%s.pem", P.dir, k->selector);
	write_file(k->pem_path, nk.pem);
	k->record = dkim_record_value(k->alg, nk.public_key);
	fprintf(keys, "%s %s\n", name, k->record);
	fake_dns_txt(&G.dns, name, k->record);
	if (!(k->key = dkim_key_load(k->pem_path, &err)))
		fail_msg("dkim_key_load %s: %s", k->pem_path, err.msg);
	assert_string_equal(dkim_key_algorithm(k->key), k->alg);
	dkim_new_release(&nk);
	free(name);
}

static int setup(void **state)
{
	(void)state;
	if (peer_setup() < 0)
		return -1;
	G.keys_file = xasprintf("%s/keys", P.dir);
	FILE *keys = fopen(G.keys_file, "we");
	assert_non_null(keys);
	for (size_t i = 0; i < NKEYS; i++)
		make_key(&G.k[i], keys);
	assert_int_equal(fclose(keys), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		dkim_key_free(G.k[i].key);
		free(G.k[i].pem_path);
		free(G.k[i].record);
	}
	free(G.keys_file);
	fake_dns_release(&G.dns);
	peer_teardown();
	return 0;
}

#define NEDGES (sizeof(edges) / sizeof(edges[0]))

int main(void)
{
	struct CMUnitTest tests[6 + NEDGES] = {
	    cmocka_unit_test(test_dkimpy_signed), cmocka_unit_test(test_opendkim_signed),
	    cmocka_unit_test(test_ours_signed),   cmocka_unit_test(test_tamper_ours),
	    cmocka_unit_test(test_tamper_dkimpy), cmocka_unit_test(test_tamper_opendkim),
	};
	char *names[NEDGES];
	for (size_t i = 0; i < NEDGES; i++) {
		names[i] = xasprintf("test_edge_%s", edges[i].name);
		tests[6 + i] = (struct CMUnitTest){names[i], test_edge, NULL, NULL, &edges[i]};
	}
	int rc = cmocka_run_group_tests_name("dkim_interop", tests, setup, teardown);
	for (size_t i = 0; i < NEDGES; i++)
		free(names[i]);
	return rc;
}
