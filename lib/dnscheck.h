/*
 * dnscheck - what the world sees in DNS, compared with what we publish.
 *
 * The expected records are dnsrec_build()'s: the same list 'dns records'
 * prints is the one checked, so pasting that output gives a clean check.
 * dnscheck_run() asks a resolver (dnsq.h) for every record of every domain
 * at once, then for what the answers point at (SPF includes, the names in
 * PTR records, ...) round by round until nothing new is needed, and turns
 * it all into findings: one row per record and per evaluation, each with
 * a status, a level and a one-line fix.
 *
 * With 'mta_sts_fetch' set in the input, the addresses of mta-sts.DOMAIN
 * are asked in the same rounds, and once they are known every domain's
 * MTA-STS policy is fetched over HTTPS at once (mtasts.h: pinned to those
 * addresses, so the system resolver is never asked) and judged: one
 * "mta-sts-policy" row per domain that publishes _mta-sts. Without it
 * that row is INFO: not fetched.
 *
 * Levels decide the exit code: FAIL (a required record - MX, the mail
 * host's A/AAAA, SPF, DKIM of active keys, DMARC - is missing, different
 * or harmful), TEMP (a required answer could not be obtained: timeout,
 * SERVFAIL, refused), WARN (a recommended record is not right, or could
 * not be checked; the MTA-STS policy when it cannot be fetched, is
 * invalid or does not match what we serve and the MX hosts - MTA-STS is
 * recommended, not required, so even a timeout there only warns; also
 * an SPF record unlike ours that still passes for this server within the
 * limits), INFO and OK. A timeout or SERVFAIL is never reported as
 * missing.
 *
 * 'timeout_ms' (0: DNSQ_TIMEOUT_MS) bounds the DNS answers, all rounds
 * together; the policy fetches, which start when the answers they need
 * are in, get the same budget again, for all of them together.
 *
 * The evaluators below (SPF, DMARC, record comparison, the MTA-STS
 * verdict) are pure: they see DNS only through a dnsq_lookup_fn, which
 * the unit tests fake, or take what was fetched as input.
 *
 * Reports own their strings: dnscheck_report_release(). dnscheck_run()
 * fails only on a local error (MC_EINTERNAL); DNS and HTTPS trouble is
 * findings.
 */
#ifndef MAILCTL_DNSCHECK_H
#define MAILCTL_DNSCHECK_H

#include <ldns/ldns.h>
#include <stddef.h>

#include "dnsq.h"
#include "dnsrec.h"
#include "error.h"
#include "mtasts.h"
#include "spf.h"

enum dnscheck_status {
	DNSCHECK_OK,
	DNSCHECK_MISSING,
	DNSCHECK_DIFFERENT,
	DNSCHECK_HARMFUL, /* there, but doing damage: two SPF records, +all, p=none... */
	DNSCHECK_TIMEOUT,
	DNSCHECK_SERVFAIL,
	DNSCHECK_REFUSED,
	DNSCHECK_ERROR,
	DNSCHECK_INFO,
};

enum dnscheck_level {
	DNSCHECK_LOK,
	DNSCHECK_LINFO,
	DNSCHECK_LWARN,
	DNSCHECK_LTEMP,
	DNSCHECK_LFAIL
};

/* "ok", "missing", "different", "harmful", "timeout", "servfail", "refused",
 * "error", "info"; and "ok", "info", "warn", "tempfail", "fail". */
const char *dnscheck_status_name(enum dnscheck_status s);
const char *dnscheck_level_name(enum dnscheck_level l);

struct dnscheck_finding {
	char *name;        /* owner, absolute */
	char *type;        /* "TXT", "MX"... */
	const char *check; /* "record", "spf-lookups", "spf-authorises", "spf-all",
	                      "dmarc-syntax", "dkim-key", "fcrdns", "dnssec",
	                      "mta-sts-policy" */
	enum dnscheck_status status;
	enum dnscheck_level level;
	int required;
	int ad;         /* the answer behind it had the AD bit */
	char *detail;   /* one line */
	char *fix;      /* one line; "" when there is nothing to do */
	char *expected; /* record checks: the value we publish, else NULL */
	char **found;   /* record checks: the values found */
	size_t nfound;
};

struct dnscheck_report {
	struct dnscheck_finding *v;
	size_t n, alloc;
	size_t queries; /* how many DNS queries it took */
};

/* A DKIM key of the domain, as the database has it. */
struct dnscheck_key {
	const char *selector;
	const char *algorithm;  /* "rsa" or "ed25519" */
	const char *public_key; /* p= */
	const char *key_file;   /* the private key, to check p= against */
	int active;             /* signs now: its record is required */
};

struct dnscheck_domain {
	const char *name;                   /* A-label, no final dot */
	const struct dnsrec_list *expected; /* dnsrec_build() for it */
	const struct dnscheck_key *keys;
	size_t nkeys;
};

struct dnscheck_input {
	const char *mailhost; /* the name Postfix says in HELO */
	const char *const *ipv4, *const *ipv6;
	const char *dmarc_policy; /* configured: none | quarantine | reject */
	const struct dnscheck_domain *domains;
	size_t ndomains;
	/* MTA-STS: with 'mta_sts_fetch' set, the policy of every domain whose
	 * expected records have the _mta-sts TXT is fetched and judged; else
	 * an INFO row says it was not. */
	int mta_sts_fetch;
	const char *mta_sts_ca_file; /* CAs to verify its HTTPS with; NULL: the system's */
	const char *mta_sts_mode;    /* the mode we serve (dns.mta_sts_mode); NULL: the one
	                                whose policy has the id of the expected _mta-sts TXT */
};

/* Check every domain through the resolver at 'server'; 'timeout_ms' 0
 * means DNSQ_TIMEOUT_MS, for everything together. */
int dnscheck_run(const struct dnscheck_input *in, const struct dnsq_server *server, int timeout_ms,
                 struct dnscheck_report *out, struct mc_error *err);

/* The worst level in 'r' (DNSCHECK_LOK for an empty report). */
enum dnscheck_level dnscheck_worst(const struct dnscheck_report *r);

void dnscheck_report_release(struct dnscheck_report *r);

/* ---- pure evaluators ---- */

/* A TXT record's character-strings joined, as one string (caller frees). */
char *dnscheck_txt(const ldns_rr *rr);

/* 1 when the found record carries the same data as the expected one: TXT
 * compared as joined text with runs of blanks as one, other types field
 * by field in canonical form (names without regard to case). */
int dnscheck_rr_equal(const struct dnsrec *expected, const ldns_rr *found);

/* OK when one of 'found' equals 'expected', MISSING when 'found' is empty
 * (or NULL), DIFFERENT otherwise. */
enum dnscheck_status dnscheck_compare(const struct dnsrec *expected, const ldns_rr_list *found);

/* SPF itself (check_host(), the record grammar, the limits) is spf.h's;
 * the DNS check adds a static look at a whole include tree. */
struct dnscheck_spf {
	int lookups;       /* over the whole tree, every branch */
	int voids;         /* lookups that found nothing (NXDOMAIN or no data) */
	char all;          /* qualifier of the top record's 'all': + ? ~ -, or 0 */
	int has_redirect;  /* the top record ends in redirect= */
	int pending;       /* answers still to come: evaluate again after them */
	int tempfail;      /* a lookup timed out or failed */
	char problem[256]; /* a permanent error (syntax, loop, an include without SPF) */
};

/* Count the lookups of 'record' (the SPF text of 'domain') through every
 * include and redirect, whether an evaluation would reach them or not, and
 * look for permanent errors (the syntax of spf_record_parse(), a target
 * without exactly one SPF record, a loop), asking 'fn' for what the
 * includes hold. Targets with macros are not followed. */
void dnscheck_spf_count(const char *domain, const char *record, dnsq_lookup_fn fn, void *ctx,
                        struct dnscheck_spf *out);

/* The MTA-STS policy row: what a fetch (mtasts.h) found, judged. An
 * error of the fetch gives its status (no address MISSING, a timeout
 * TIMEOUT, anything else ERROR); a valid policy is DIFFERENT when an MX
 * host of 'mx' (the 'nmx' hosts DNS has for the domain; 'mx_known' 0 when
 * that lookup failed) matches none of its patterns, when its mode is not
 * the one of 'ours' (the policy text we serve; NULL: unknown, neither
 * mode nor text compared), or when its text is not 'ours' byte for byte;
 * else OK. 'detail' and 'fix' are one line each, for the caller to free. */
struct dnscheck_sts_verdict {
	enum dnscheck_status status;
	char *detail, *fix;
};
void dnscheck_sts_judge(const struct mtasts_fetch *fetch, const char *ours, char *const *mx,
                        size_t nmx, int mx_known, struct dnscheck_sts_verdict *out);

/* The policy text we serve for 'd' (caller frees): dnsrec_mta_sts_policy()
 * of in->mta_sts_mode, or when that is NULL of the mode whose policy has
 * the id of d's expected _mta-sts record; NULL when neither is known. */
char *dnscheck_sts_policy(const struct dnscheck_input *in, const struct dnscheck_domain *d);

/* DMARC records are read by the one DMARC parser, dmarc_record_parse()
 * (dmarc.h). */
#include "dmarc.h"

#endif
