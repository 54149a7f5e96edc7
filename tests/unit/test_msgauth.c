/* Unit tests for lib/msgauth*.c, the milter's per-message logic: outbound
 * signing with the keys of a real store (round-tripped through inbound
 * verification), the inbound verdicts (REJECT, QUARANTINE, TEMPFAIL,
 * ACCEPT) over a fake DNS, the Authentication-Results value we write, and
 * which incoming Authentication-Results and X-Mailctl-Quarantine fields
 * are to be removed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dkim.h"
#include "msgauth.h"
#include "strbuf.h"
#include "xalloc.h"

#include "fake_dns.h"
#include "instance.h"

#define NOW   1700000000
#define OURS  "mx.receiver.example"
#define CHUNK 7 /* body chunk size: the body is fed in small pieces */

/* ---- a fake DNS: (name, type) -> records or a status ---- */

static struct fake_dns dns; /* the zone of the test under way */

/* 'name' has the one TXT record 'text', replacing what it had. */
static void txt(const char *name, const char *text)
{
	fake_dns_set(&dns, name, LDNS_RR_TYPE_TXT, DNSQ_ANSWER);
	fake_dns_txt(&dns, name, text);
}

static void dns_fails(const char *name, enum dnsq_status status)
{
	fake_dns_set(&dns, name, LDNS_RR_TYPE_TXT, status);
}

/* ---- the store and its keys, made once ---- */

static struct msgauth_keys *keys;
static char *keys_problems;
static char *rec_rsa, *rec_ed, *rec_net; /* the key records of rsa1, ed1, net1 */

static void add_domain(const char *name)
{
	struct mc_error err;
	long long id;
	assert_int_equal(store_begin(ctx.st, &err), 0);
	assert_int_equal(store_domain_insert(ctx.st, name, &id, &err), 0);
	assert_int_equal(store_commit(ctx.st, &err), 0);
}

static char *add_key(const char *domain, const char *alg, const char *selector, const char *state)
{
	struct mc_error err;
	struct dkim_row k;
	assert_int_equal(dkim_keygen(&ctx, domain, alg, 0, selector, &k, &err), 0);
	assert_string_equal(k.state, state);
	char *rec = dkim_record_value(k.algorithm, k.public_key);
	if (!strcmp(domain, "example.info"))
		assert_int_equal(unlink(k.key_file), 0); /* a key that cannot be loaded */
	dkim_row_release(&k);
	return rec;
}

/* example.com: rsa1 (rsa) and ed1 (ed25519) active, ed2 published;
 * example.net: net1 (rsa); example.org: no key; example.info: a key
 * whose file is gone. */
static int group_setup(void **state)
{
	struct mc_error err;
	if (instance_setup(state) < 0)
		return -1;
	for (size_t i = 0; i < 4; i++)
		add_domain((const char *[]){"example.com", "example.net", "example.org",
		                            "example.info"}[i]);
	rec_rsa = add_key("example.com", "rsa", "rsa1", "active");
	rec_ed = add_key("example.com", "ed25519", "ed1", "active");
	free(add_key("example.com", "ed25519", "ed2", "published"));
	rec_net = add_key("example.net", "rsa", "net1", "active");
	free(add_key("example.info", "ed25519", "gone", "active"));
	return msgauth_keys_load(ctx.st, &keys, &keys_problems, &err);
}

static int group_teardown(void **state)
{
	msgauth_keys_free(keys);
	free(keys_problems);
	free(rec_rsa), free(rec_ed), free(rec_net);
	return instance_teardown(state);
}

/* ---- messages ---- */

static const struct msgauth_policy policy = {OURS, 1, 1}, lax = {OURS, 0, 0};

/* ip, helo, mail_from, auth_user, local, receiver */
static const struct msgauth_env
    inbound = {"192.0.2.10", "mail.example.com", "alice@example.com", NULL, 0, OURS},
    spoofed = {"203.0.113.5", "mail.example.com", "alice@example.com", NULL, 0, OURS},
    submission = {"198.51.100.7", "laptop", "alice@example.com", "alice@example.com", 0, OURS};

/* A message whose From field's value is 'from'. */
#define MSG(from)                                                                                  \
	"From:" from "\r\nTo: Bob <bob@example.org>\r\nSubject: hello\r\n"                         \
	"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@example.com>\r\n"                 \
	"\r\nHi Bob,\r\n\r\nlunch?  \r\n"
#define ALICE MSG(" Alice <alice@example.com>")

/* What each test works on; released by the per-test teardown, so that a
 * failing test leaks nothing either. */
static struct msgauth_result r;
static char *owned[16];
static size_t nowned;

static char *own(char *s)
{
	assert_true(nowned < 16);
	return owned[nowned++] = s;
}

static int test_teardown(void **state)
{
	(void)state;
	msgauth_result_release(&r);
	fake_dns_release(&dns);
	while (nowned)
		free(owned[--nowned]);
	return 0;
}

/* The standard zone: example.com allows 192.0.2.0/24 and publishes
 * p=reject, example.net allows 198.51.100.0/24 with p=quarantine. */
static void zone(void)
{
	fake_dns_release(&dns);
	txt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
	fake_dns_txt(&dns, "example.com", "x=y");
	txt("_dmarc.example.com", "v=DMARC1; p=reject");
	txt("rsa1._domainkey.example.com", rec_rsa);
	txt("ed1._domainkey.example.com", rec_ed);
	txt("mail.example.com", "v=spf1 a -all");
	fake_dns_add(&dns, "mail.example.com. A 192.0.2.10");
	txt("example.net", "v=spf1 ip4:198.51.100.0/24 -all");
	txt("_dmarc.example.net", "v=DMARC1; p=quarantine");
	txt("net1._domainkey.example.net", rec_net);
}

/* Feed 'text' (CRLF lines, folds kept in the values) field by field, then
 * its body in small chunks, and decide into 'r'. */
static void run(const struct msgauth_env *env, const struct msgauth_policy *pol, unsigned sample,
                const char *text)
{
	struct msgauth *m = msgauth_new(env, pol, keys);
	const char *p = text;
	msgauth_result_release(&r);
	while (*p && !(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *end = p;
		assert_non_null(colon);
		do
			end = strstr(end + 1, "\r\n");
		while (end && (end[2] == ' ' || end[2] == '\t'));
		assert_non_null(end);
		char *name = xstrndup(p, (size_t)(colon - p));
		char *value = xstrndup(colon + 1, (size_t)(end - colon - 1));
		msgauth_header(m, name, value);
		free(name);
		free(value);
		p = end + 2;
	}
	msgauth_eoh(m);
	p += *p ? 2 : 0;
	for (size_t len = strlen(p), off = 0; off < len; off += CHUNK)
		msgauth_body(m, p + off, len - off < CHUNK ? len - off : CHUNK);
	msgauth_finish(m, fake_dns_lookup, &dns, NOW, sample, &r);
	msgauth_free(m);
}

/* 'needle' is in 'hay' (want 1) or not (want 0). */
static void has(const char *hay, const char *needle, int want)
{
	if ((hay && strstr(hay, needle)) != want)
		fail_msg("'%s' %s '%s'", needle, want ? "not in" : "in", hay ? hay : "(null)");
}
#define assert_has(hay, needle)   has((hay), (needle), 1)
#define assert_lacks(hay, needle) has((hay), (needle), 0)

/* The action of 'r', with the reply codes that go with it. */
static void assert_action(enum msgauth_action a)
{
	int rej = a == MSGAUTH_REJECT, tmp = a == MSGAUTH_TEMPFAIL;
	if (r.action != a)
		fail_msg("action %s, wanted %s; report:\n%s", msgauth_action_name(r.action),
		         msgauth_action_name(a), r.report.buf);
	assert_string_equal(r.smtp_code, rej ? "550" : tmp ? "451" : "");
	assert_string_equal(r.smtp_xcode, rej ? "5.7.1" : tmp ? "4.7.1" : "");
	if (!rej && !tmp)
		assert_string_equal(r.smtp_text, "");
	assert_true((r.quarantine != NULL) == (a == MSGAUTH_QUARANTINE));
}

static void expect(const struct msgauth_env *env, const struct msgauth_policy *pol, unsigned sample,
                   const char *text, enum msgauth_action a)
{
	run(env, pol, sample, text);
	assert_action(a);
}

/* The signatures of the outbound result 'r' prepended to 'text'. */
static char *with_signatures(const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < r.nsignatures; i++)
		strbuf_addf(&sb, "DKIM-Signature:%s\r\n", r.signatures[i]);
	strbuf_addstr(&sb, text);
	return own(strbuf_detach(&sb));
}

/* 'text' signed on submission, with the 'want' signatures prepended;
 * the zone is the standard one afterwards. */
static const char *signed_message(const char *text, size_t want)
{
	zone();
	run(&submission, &policy, 0, text);
	assert_int_equal(r.nsignatures, want);
	return with_signatures(text);
}

/* A tag of a DKIM-Signature value, white space removed. */
static const char *sig_tag(const char *value, const char *tag)
{
	struct strbuf sb = STRBUF_INIT;
	size_t tlen = strlen(tag);
	for (const char *p = value; p && *p; p = strchr(p, ';'), p = p ? p + 1 : NULL) {
		p += strspn(p, " \t\r\n");
		if (strncmp(p, tag, tlen) || p[tlen] != '=')
			continue;
		for (p += tlen + 1; *p && *p != ';'; p++)
			if (!strchr(" \t\r\n", *p))
				strbuf_addch(&sb, *p);
		return own(strbuf_detach(&sb));
	}
	fail_msg("no %s= in '%s'", tag, value);
	return NULL;
}

/* ---- outbound ---- */

static void test_keys_load(void **state)
{
	(void)state;
	/* rsa1, ed1, net1; not the published ed2, not the unreadable one */
	assert_int_equal(msgauth_keys_count(keys), 3);
	assert_int_equal(msgauth_keys_count(NULL), 0);
	assert_has(keys_problems, "ed25519 key gone of example.info not loaded: ");
	assert_non_null(strchr(keys_problems, '\n'));
	msgauth_keys_free(NULL);
	msgauth_free(NULL);
}

/* Signed with every active key of the From domain; both signatures
 * verify when the signed message comes back in. */
static void test_sign_rsa_and_ed25519(void **state)
{
	static const char text[] = MSG(" Alice <alice@Example.COM>");
	(void)state;
	zone();
	run(&submission, &policy, 0, text);
	assert_int_equal(r.outbound, 1);
	assert_action(MSGAUTH_ACCEPT);
	assert_null(r.authres);
	assert_int_equal(r.nsignatures, 2);
	for (size_t i = 0; i < 2; i++) {
		const char *v = r.signatures[i],
		           *want = i ? "ed1 ed25519-sha256" : "rsa1 rsa-sha256";
		assert_string_equal(sig_tag(v, "d"), "example.com");
		assert_string_equal(own(xasprintf("%s %s", sig_tag(v, "s"), sig_tag(v, "a"))),
		                    want);
	}
	assert_has(r.report.buf, "dkim: signed as example.com with selector rsa1 (rsa)\n");
	assert_has(r.report.buf, "dkim: signed as example.com with selector ed1 (ed25519)\n");
	assert_has(r.report.buf, "action: accept\n");
	run(&inbound, &policy, 0, with_signatures(text));
	assert_int_equal(r.outbound, 0);
	assert_int_equal(r.ndkim, 2);
	assert_int_equal(r.dkim[0].result, DKIM_PASS);
	assert_int_equal(r.dkim[1].result, DKIM_PASS);
	assert_int_equal(r.dmarc.result, DMARC_PASS);
	assert_action(MSGAUTH_ACCEPT);
}

/* Submitted on this machine: outbound too; one key, one signature. An
 * empty auth_user is no login. */
static void test_sign_local(void **state)
{
	static const char text[] = MSG(" bob@example.net");
	struct msgauth_env local = {.mail_from = "bob@example.net", .local = 1, .receiver = OURS};
	struct msgauth_env net = {
	    "198.51.100.9", "out.example.net", "bob@example.net", "", 0, OURS};
	(void)state;
	zone();
	run(&local, &policy, 0, text);
	assert_int_equal(r.outbound, 1);
	assert_int_equal(r.nsignatures, 1);
	assert_string_equal(sig_tag(r.signatures[0], "s"), "net1");
	assert_true(r.signatures[0][0] == ' ');
	run(&net, &policy, 0, with_signatures(text));
	assert_int_equal(r.outbound, 0);
	assert_int_equal(r.ndkim, 1);
	assert_int_equal(r.dkim[0].result, DKIM_PASS);
	assert_string_equal(r.dkim[0].domain, "example.net");
	assert_int_equal(r.dmarc.result, DMARC_PASS);
	assert_action(MSGAUTH_ACCEPT);
}

/* What is not signed, and the report saying why; outbound mail is
 * never rejected for its From fields. */
static void test_sign_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {MSG(" carol@example.org"), "example.org has no active key"},
	    {MSG(" dave@example.info"), "example.info has no active key"},
	    {MSG(" alice@example.com\r\nFrom: alice@example.com"), "several From fields"},
	    {MSG(" alice@example.com, bob@example.net"), "From addresses of several domains"},
	    {MSG(" undisclosed:;"), "no address in the From field"},
	    {"To: x@example.org\r\n\r\nhi\r\n", "no From field"},
	};
	(void)state;
	zone();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&submission, &policy, 0, cases[i].text);
		assert_int_equal(r.outbound, 1);
		assert_int_equal(r.nsignatures, 0);
		assert_null(r.signatures);
		assert_action(MSGAUTH_ACCEPT);
		assert_has(r.report.buf, "dkim: not signed: ");
		assert_has(r.report.buf, cases[i].why);
	}
}

/* Every author counts, not only the first four: a fifth of another
 * domain makes the From field one that is not signed. */
static void test_sign_many_authors(void **state)
{
	(void)state;
	zone();
	run(&submission, &policy, 0,
	    MSG(" a@example.com, b@example.com, c@example.com, d@example.com, e@example.net"));
	assert_int_equal(r.nsignatures, 0);
	assert_has(r.report.buf, "dkim: not signed: From addresses of several domains\n");
}

/* A header too large to sign is not passed on unsigned. */
static void test_sign_failure(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	for (int i = 0; i < DKIM_MAX_HEADERS + 5; i++)
		strbuf_addf(&sb, "X-Trace-%d: hop %d\r\n", i, i);
	strbuf_addstr(&sb, ALICE);
	zone();
	run(&submission, &policy, 0, own(strbuf_detach(&sb)));
	assert_int_equal(r.nsignatures, 0);
	assert_has(r.report.buf, "dkim: signing with rsa1 of example.com failed: ");
	assert_lacks(r.report.buf, "has no active key");
	assert_true(r.action != MSGAUTH_ACCEPT && r.smtp_code[0]);
}

/* ---- inbound ---- */

static void test_inbound_pass(void **state)
{
	const char *in = signed_message(ALICE, 2);
	(void)state;
	run(&inbound, &policy, 42, in);
	assert_action(MSGAUTH_ACCEPT);
	assert_int_equal(r.spf.result, SPF_PASS);
	assert_int_equal(r.spf_helo.result, SPF_PASS);
	assert_int_equal(r.dmarc.result, DMARC_PASS);
	assert_int_equal(strncmp(r.authres, " " OURS ";", strlen(OURS) + 2), 0);
	assert_has(r.authres, "spf=pass smtp.mailfrom=alice@example.com");
	const char *b = sig_tag(strstr(in, "a=rsa-sha256"), "b");
	assert_has(r.authres, own(xasprintf("dkim=pass header.d=example.com header.s=rsa1 "
	                                    "header.a=rsa-sha256 header.b=%.8s;",
	                                    b)));
	b = sig_tag(strstr(in, "a=ed25519-sha256"), "b");
	assert_has(r.authres, own(xasprintf("dkim=pass header.d=example.com header.s=ed1 "
	                                    "header.a=ed25519-sha256 header.b=%.8s;",
	                                    b)));
	assert_has(r.authres, "dmarc=pass (p=reject dis=none) header.from=example.com");
	assert_has(r.report.buf, "spf: pass for alice@example.com (");
	assert_has(r.report.buf, "dmarc: pass for example.com (");
	assert_has(r.report.buf, "action: accept\n");
}

/* DMARC fail under p=reject: the three settings of the policy. */
static void test_dmarc_reject(void **state)
{
	const struct msgauth_policy quarantine_only = {OURS, 0, 1};
	(void)state;
	zone();
	run(&spoofed, &policy, 0, ALICE);
	assert_action(MSGAUTH_REJECT);
	assert_has(r.smtp_text, "example.com");
	assert_has(r.authres, "spf=fail smtp.mailfrom=alice@example.com");
	assert_has(r.authres, "dkim=none");
	assert_has(r.authres, "dmarc=fail (p=reject dis=reject) header.from=example.com");
	assert_has(r.report.buf, "action: reject 550 ");
	run(&spoofed, &quarantine_only, 0, ALICE);
	assert_action(MSGAUTH_QUARANTINE);
	assert_string_equal(r.quarantine, " dmarc=fail policy=reject header.from=example.com");
	assert_has(r.authres, "dmarc=fail");
	assert_has(r.report.buf, "action: quarantine\n");
	run(&spoofed, &lax, 0, ALICE);
	assert_action(MSGAUTH_ACCEPT);
	assert_has(r.authres, "dmarc=fail");
	/* signed, but changed on the way: DKIM fails, and so does DMARC */
	char *in = (char *)signed_message(ALICE, 2);
	memcpy(strstr(in, "lunch?"), "LUNCH!", 6);
	run(&spoofed, &policy, 0, in);
	assert_int_equal(r.dkim[0].result, DKIM_FAIL);
	assert_int_equal(r.dkim[1].result, DKIM_FAIL);
	assert_has(r.authres, "dkim=fail header.d=example.com header.s=rsa1");
	assert_action(MSGAUTH_REJECT);
}

/* p=quarantine, and pct= sampling giving the next weaker disposition. */
static void test_dmarc_quarantine_and_pct(void **state)
{
	static const struct {
		const char *record;
		unsigned sample;
		enum msgauth_action action;
		const char *authres;
	} cases[] = {
	    {"v=DMARC1; p=quarantine", 0, MSGAUTH_QUARANTINE, "(p=quarantine dis=quarantine)"},
	    {"v=DMARC1; p=quarantine; pct=0", 50, MSGAUTH_ACCEPT, "(p=quarantine dis=none)"},
	    {"v=DMARC1; p=reject; pct=0", 50, MSGAUTH_QUARANTINE, "(p=reject dis=quarantine)"},
	    {"v=DMARC1; p=reject; pct=50", 49, MSGAUTH_REJECT, "(p=reject dis=reject)"},
	    {"v=DMARC1; p=reject; pct=50", 50, MSGAUTH_QUARANTINE, "(p=reject dis=quarantine)"},
	    {"v=DMARC1; p=none", 0, MSGAUTH_ACCEPT, "(p=none dis=none)"},
	};
	const struct msgauth_policy no_quarantine = {OURS, 1, 0};
	struct msgauth_env net = spoofed;
	(void)state;
	zone();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		txt("_dmarc.example.com", cases[i].record);
		expect(&spoofed, &policy, cases[i].sample, ALICE, cases[i].action);
		assert_has(r.authres, cases[i].authres);
	}
	/* example.net publishes p=quarantine */
	net.mail_from = "bob@example.net";
	run(&net, &policy, 0, MSG(" bob@example.net"));
	assert_action(MSGAUTH_QUARANTINE);
	assert_string_equal(r.quarantine, " dmarc=fail policy=quarantine header.from=example.net");
	run(&net, &no_quarantine, 0, MSG(" bob@example.net"));
	assert_int_equal(r.dmarc.result, DMARC_FAIL);
	assert_action(MSGAUTH_ACCEPT);
}

/* DNS failures that could change the verdict defer the message. */
static void test_tempfail(void **state)
{
	(void)state;
	zone();
	dns_fails("_dmarc.example.com", DNSQ_SERVFAIL);
	/* nothing passes for example.com itself: the record would decide */
	run(&spoofed, &policy, 0, ALICE);
	assert_action(MSGAUTH_TEMPFAIL);
	assert_has(r.smtp_text, "example.com");
	assert_has(r.authres, "dmarc=temperror");
	assert_has(r.report.buf, "action: tempfail 451 ");
	/* the SPF record times out and nothing else passes: p=reject defers */
	zone();
	dns_fails("example.com", DNSQ_TIMEOUT);
	run(&spoofed, &policy, 0, ALICE);
	assert_int_equal(r.spf.result, SPF_TEMPERROR);
	assert_int_equal(r.dmarc.result, DMARC_FAIL);
	assert_action(MSGAUTH_TEMPFAIL);
	assert_has(r.authres, "spf=temperror smtp.mailfrom=alice@example.com");
	/* the same under p=quarantine */
	txt("_dmarc.example.com", "v=DMARC1; p=quarantine");
	expect(&spoofed, &policy, 0, ALICE, MSGAUTH_TEMPFAIL);
	/* the keys of the aligned signatures cannot be fetched */
	const char *in = signed_message(ALICE, 2);
	dns_fails("rsa1._domainkey.example.com", DNSQ_SERVFAIL);
	dns_fails("ed1._domainkey.example.com", DNSQ_TIMEOUT);
	run(&spoofed, &policy, 0, in);
	assert_int_equal(r.dkim[0].result, DKIM_TEMPERROR);
	assert_has(r.authres, "dkim=temperror header.d=example.com header.s=rsa1");
	assert_action(MSGAUTH_TEMPFAIL);
}

/* DNS failures that cannot change the verdict do not defer. */
static void test_no_tempfail(void **state)
{
	const struct msgauth_policy no_quarantine = {OURS, 1, 0};
	(void)state;
	zone();
	dns_fails("example.com", DNSQ_TIMEOUT);
	dns_fails("mail.example.com", DNSQ_SERVFAIL);
	txt("_dmarc.example.com", "v=DMARC1; p=none");
	run(&spoofed, &policy, 0, ALICE);
	assert_int_equal(r.spf.result, SPF_TEMPERROR);
	assert_int_equal(r.spf_helo.result, SPF_TEMPERROR);
	assert_int_equal(r.dmarc.result, DMARC_FAIL);
	assert_action(MSGAUTH_ACCEPT);
	/* p=reject, but the settings enforce nothing */
	txt("_dmarc.example.com", "v=DMARC1; p=reject");
	expect(&spoofed, &lax, 0, ALICE, MSGAUTH_ACCEPT);
	/* p=reject not sampled (pct=0): quarantine, which is off */
	txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=0");
	expect(&spoofed, &no_quarantine, 7, ALICE, MSGAUTH_ACCEPT);
	/* SPF times out but an aligned signature passes */
	const char *in = signed_message(ALICE, 2);
	dns_fails("example.com", DNSQ_TIMEOUT);
	run(&spoofed, &policy, 0, in);
	assert_int_equal(r.spf.result, SPF_TEMPERROR);
	assert_int_equal(r.dmarc.result, DMARC_PASS);
	assert_action(MSGAUTH_ACCEPT);
}

/* A temporary error of an identity that cannot align with the From
 * domain cannot turn DMARC to pass: the policy applies at once. */
static void test_tempfail_unaligned_identity(void **state)
{
	struct msgauth_env bounce = spoofed;
	(void)state;
	bounce.mail_from = "bounce@example.net";
	zone();
	dns_fails("example.net", DNSQ_TIMEOUT);
	run(&bounce, &policy, 0, ALICE);
	assert_int_equal(r.spf.result, SPF_TEMPERROR);
	assert_int_equal(r.dmarc.result, DMARC_FAIL);
	assert_action(MSGAUTH_REJECT);
	/* a signature of example.net, whose key cannot be fetched */
	const char *net = signed_message(MSG(" bob@example.net"), 1);
	const char *in = own(xasprintf("%.*s%s", (int)(strstr(net, "From:") - net), net, ALICE));
	dns_fails("net1._domainkey.example.net", DNSQ_SERVFAIL);
	run(&bounce, &policy, 0, in);
	assert_int_equal(r.ndkim, 1);
	assert_int_equal(r.dkim[0].result, DKIM_TEMPERROR);
	assert_action(MSGAUTH_REJECT);
}

/* The DMARC record cannot be fetched, but no record could change the
 * verdict: nothing is enforced, or SPF and DKIM pass for the From domain
 * itself (aligned under any adkim=/aspf=). */
static void test_dmarc_lookup_failure_that_cannot_matter(void **state)
{
	const char *in = signed_message(ALICE, 2);
	(void)state;
	dns_fails("_dmarc.example.com", DNSQ_SERVFAIL);
	run(&inbound, &lax, 0, ALICE);
	assert_has(r.authres, "dmarc=temperror");
	assert_action(MSGAUTH_ACCEPT);
	run(&inbound, &policy, 0, in);
	assert_int_equal(r.spf.result, SPF_PASS);
	assert_int_equal(r.dkim[0].result, DKIM_PASS);
	assert_action(MSGAUTH_ACCEPT);
}

/* SPF fail alone never rejects: without a DMARC record, accepted. */
static void test_spf_fail_alone(void **state)
{
	struct msgauth_env noip = inbound;
	(void)state;
	zone();
	dns_fails("_dmarc.example.com", DNSQ_NXDOMAIN);
	run(&spoofed, &policy, 0, ALICE);
	assert_int_equal(r.spf.result, SPF_FAIL);
	assert_int_equal(r.spf_helo.result, SPF_FAIL);
	assert_int_equal(r.dmarc.result, DMARC_NONE);
	assert_action(MSGAUTH_ACCEPT);
	assert_has(r.authres, "spf=fail smtp.mailfrom=alice@example.com");
	assert_has(r.authres, "dmarc=none header.from=example.com");
	assert_lacks(r.authres, "(p=");
	assert_has(r.report.buf, "spf: fail for alice@example.com (");
	assert_has(r.report.buf, "dkim: none (the message is not signed)\n");
	/* no client address ('mailctl check' without one): nothing to check */
	noip.ip = "";
	run(&noip, &policy, 0, ALICE);
	assert_int_equal(r.spf.result, SPF_NONE);
	assert_has(r.spf.why, "no client address");
	assert_has(r.authres, "spf=none smtp.mailfrom=alice@example.com");
}

/* Null reverse-path: SPF checks postmaster@HELO, which aligns (relaxed). */
static void test_null_reverse_path(void **state)
{
	static const char text[] = MSG(" MAILER-DAEMON@example.com");
	struct msgauth_env bounce = inbound;
	(void)state;
	bounce.mail_from = "";
	zone();
	run(&bounce, &policy, 0, text);
	assert_string_equal(r.spf.sender, "postmaster@mail.example.com");
	assert_string_equal(r.spf.domain, "mail.example.com");
	assert_int_equal(r.spf.result, SPF_PASS);
	assert_has(r.authres, "spf=pass smtp.helo=mail.example.com;");
	assert_lacks(r.authres, "smtp.mailfrom");
	assert_int_equal(r.dmarc.result, DMARC_PASS);
	assert_action(MSGAUTH_ACCEPT);
	bounce.ip = "203.0.113.5";
	run(&bounce, &policy, 0, text);
	assert_has(r.authres, "spf=fail smtp.helo=mail.example.com;");
	assert_action(MSGAUTH_REJECT);
	/* a sender that is not a dot-atom is written as a quoted string */
	bounce.mail_from = "\"john smith\"@example.com";
	bounce.ip = "192.0.2.10";
	run(&bounce, &policy, 0, text);
	assert_has(r.authres, "spf=pass smtp.mailfrom=\"\\\"john smith\\\"@example.com\";");
}

/* Incoming fields claiming our authserv-id are to go, others stay;
 * every X-Mailctl-Quarantine goes, inbound or outbound. */
static void test_remove_fields(void **state)
{
	static const char text[] =
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "Authentication-Results: " OURS "; dkim=pass header.d=bank.example\r\n"
	    "X-Mailctl-Quarantine: dmarc=fail\r\n"
	    "authentication-results: (forged) MX.Receiver.EXAMPLE; spf=pass\r\n"
	    "Authentication-Results:\r\n\t" OURS ".; dmarc=pass\r\n"
	    "x-mailctl-quarantine: no\r\n"
	    "Authentication-Results: " OURS ".evil; spf=pass\r\n"
	    "Authentication-Results: other.example; x=" OURS "\r\n" ALICE;
	(void)state;
	zone();
	run(&inbound, &policy, 0, text);
	assert_int_equal(r.nremove_authres, 3);
	assert_int_equal(r.remove_authres[0], 2);
	assert_int_equal(r.remove_authres[1], 3);
	assert_int_equal(r.remove_authres[2], 4);
	assert_int_equal(r.nremove_quarantine, 2);
	assert_action(MSGAUTH_ACCEPT);
	run(&submission, &policy, 0, text);
	assert_int_equal(r.nremove_quarantine, 2);
	assert_int_equal(r.nsignatures, 2);
	run(&inbound, &policy, 0, ALICE);
	assert_int_equal(r.nremove_authres, 0);
	assert_null(r.remove_authres);
	assert_int_equal(r.nremove_quarantine, 0);
}

/* RFC 5322 3.6: exactly one From field, else rejected (dmarc_reject on). */
static void test_from_count(void **state)
{
	const struct msgauth_policy no_reject = {OURS, 0, 1};
	struct strbuf many = STRBUF_INIT;
	for (int i = 0; i < 9; i++) /* past what msgauth keeps */
		strbuf_addf(&many, "From: u%d@example.com\r\n", i);
	strbuf_addstr(&many, "To: bob@example.org\r\n\r\nhi\r\n");
	const char *texts[] = {"To: bob@example.org\r\nSubject: x\r\n\r\nhi\r\n",
	                       MSG(" alice@example.com\r\nFrom: alice@example.com"),
	                       own(strbuf_detach(&many))};
	(void)state;
	zone();
	for (size_t i = 0; i < 3; i++) {
		run(&inbound, &policy, 0, texts[i]);
		assert_action(MSGAUTH_REJECT);
		assert_has(r.smtp_text, "exactly one From field");
		assert_int_equal(r.dmarc.result, DMARC_PERMERROR);
		assert_has(r.authres, "dmarc=permerror");
		run(&inbound, &no_reject, 0, texts[i]);
		assert_true(r.action != MSGAUTH_REJECT);
	}
}

/* One From field naming authors of two domains: DMARC cannot evaluate
 * it (dmarc.h: permerror, "no domain can hide behind another"), so the
 * p=reject of example.com must not be escaped by adding an author of a
 * domain that passes. */
static void test_from_several_domains(void **state)
{
	struct msgauth_env env = inbound;
	(void)state;
	env.ip = "198.51.100.7";
	env.mail_from = "mallory@example.net";
	zone();
	run(&env, &policy, 0, MSG(" alice@example.com, mallory@example.net"));
	assert_int_equal(r.spf.result, SPF_PASS);
	assert_int_equal(r.dmarc.result, DMARC_PERMERROR);
	assert_action(MSGAUTH_REJECT);
}

static void test_authres_claims(void **state)
{
	static const struct {
		const char *value, *id;
		int want;
	} cases[] = {
	    {"mx.example.net", "mx.example.net", 1},
	    {" mx.example.net; spf=pass", "mx.example.net", 1},
	    {" mx.example.net 1; spf=pass", "mx.example.net", 1}, /* with a version */
	    {" mx.example.net.; none", "mx.example.net", 1},
	    {" mx.example.net; none", "mx.example.net.", 1},
	    {" mx.example.net(comment); none", "mx.example.net", 1},
	    {" (c) mx.example.net; none", "mx.example.net", 1},
	    {"\r\n\t(a (nested) one)\r\n\t(two) mx.example.net;", "mx.example.net", 1},
	    {" (with \\) escaped) mx.example.net; none", "mx.example.net", 1},
	    {" \"mx.example.net\"; dkim=pass", "mx.example.net", 1}, /* a quoted-string */
	    {" mx.example.net.evil; none", "mx.example.net", 0},
	    {" mx.example.ne; none", "mx.example.net", 0},
	    {" other.example; dkim=pass header.d=mx.example.net", "mx.example.net", 0},
	    {" (mx.example.net) other.example; none", "mx.example.net", 0},
	    {" (unterminated mx.example.net; none", "mx.example.net", 0},
	    {"", "mx.example.net", 0},
	    {" ; none", "mx.example.net", 0},
	    {"", "", 0},
	    {" .; none", ".", 0},
	};
	size_t bad = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (msgauth_authres_claims(cases[i].value, cases[i].id) != cases[i].want) {
			print_error("msgauth_authres_claims('%s', '%s') is not %d\n",
			            cases[i].value, cases[i].id, cases[i].want);
			bad++;
		}
	assert_int_equal(bad, 0);
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_keys_load),
	    T(test_sign_rsa_and_ed25519),
	    T(test_sign_local),
	    T(test_sign_refused),
	    T(test_sign_many_authors),
	    T(test_sign_failure),
	    T(test_inbound_pass),
	    T(test_dmarc_reject),
	    T(test_dmarc_quarantine_and_pct),
	    T(test_tempfail),
	    T(test_no_tempfail),
	    T(test_tempfail_unaligned_identity),
	    T(test_dmarc_lookup_failure_that_cannot_matter),
	    T(test_spf_fail_alone),
	    T(test_null_reverse_path),
	    T(test_remove_fields),
	    T(test_from_count),
	    T(test_from_several_domains),
	    T(test_authres_claims),
	};
	if (!mkdtemp(dir))
		return 1;
	return run_and_clean(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
