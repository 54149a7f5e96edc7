/*
 * dmarc - DMARC (RFC 7489): policy records, organizational domains, the
 * RFC5322.From domains of a message, and the evaluation of one message.
 *
 * Records (RFC 7489 6.3, 6.4): dmarc_record_parse() is the one DMARC record
 * parser; the DNS check (dnscheck.h) and the milter both use it. The record
 * starts with v=DMARC1 (that value exactly: the ABNF spells it with %x),
 * p= must be present, no tag may appear twice, known tags must carry valid
 * values; tag names and the values of p, sp, adkim, aspf, fo, rf, psd and t
 * are taken without regard to case (ABNF quoted strings, RFC 5234 2.3) and
 * stored lowercased. Unknown tags are ignored (listed in 'unknown').
 *
 * Organizational domains (RFC 7489 3.2) come from the public suffix list
 * (libpsl) of Debian's publicsuffix package, DMARC_PSL_FILE; when that file
 * cannot be loaded, from the list built into libpsl (dmarc_psl_source()
 * says which). Both the ICANN and the private sections count. A domain that
 * is itself a public suffix (co.uk) has no label to add below the suffix:
 * it is its own organizational domain, so mail from it aligns only with
 * itself and its record is looked up at _dmarc.co.uk alone.
 *
 * From (RFC 7489 6.6.1): DMARC evaluates a message with exactly one From
 * field. No From field, or several, is permerror: RFC 5322 3.6 allows one,
 * and 6.6.1 leaves such messages "outside the scope of this document"
 * (callers reject them as malformed). One From field with several
 * addresses is evaluated when they all share one domain; with different
 * domains it is permerror. RFC 7489 6.6.1 suggests evaluating each domain
 * and applying the strictest failing policy; its successor (DMARCbis,
 * "Security Considerations") notes that "most such messages are abusive
 * and/or unwanted" and that a receiver "may make a negative disposition
 * decision for the message prior to and instead of" DMARC processing,
 * which is the choice made here: no domain can hide behind another. An
 * address without '@' or with an empty or malformed domain is permerror.
 *
 * Policy discovery (RFC 7489 6.6.3): TXT at _dmarc.<From domain>; TXT
 * records not starting with v=DMARC1 are discarded; when none is left,
 * _dmarc.<organizational domain>, where sp= (else p=) applies to a From
 * domain below it. Several DMARC records: no policy (result none). An
 * invalid record: no policy (result none; 'why' says what is wrong),
 * except that a record whose only fault is a missing or invalid p= or sp=
 * and that has a valid rua= is taken as p=none (6.6.3 step 6). A DNS
 * failure (SERVFAIL, timeout, refused, a bad reply; or no answer yet) is
 * temperror. Records with bad values in other tags are invalid, not read
 * with defaults for the bad tags (6.3 allows either).
 *
 * Alignment (RFC 7489 3.1): strict means the same domain, relaxed the same
 * organizational domain; the message passes when SPF passed for an aligned
 * domain or any DKIM signature passed for an aligned d=. A failing message
 * gets the applicable policy when 'sample' < pct, else the next weaker one
 * (reject -> quarantine, quarantine -> none), RFC 7489 6.6.4.
 *
 * Nothing here allocates memory the caller must free; outcomes and records
 * are plain structs. All functions are thread-safe (the PSL is loaded once).
 */
#ifndef MAILCTL_DMARC_H
#define MAILCTL_DMARC_H

#include <stddef.h>

#include "dnsq.h"

/* The public suffix list Debian's publicsuffix package installs. */
#define DMARC_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dafsa"

/* How many addresses of one From field dmarc_evaluate() looks at; more is
 * permerror. */
#define DMARC_MAX_AUTHORS 16

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };

/* The RFC 8601 / RFC 7489 11.2 names: "none", "pass", "fail", "temperror",
 * "permerror". */
const char *dmarc_result_name(enum dmarc_result r);

struct dmarc_record {
	char p[16], sp[16]; /* lowercased; "" when absent */
	char adkim, aspf;   /* 'r' (default) or 's' */
	int pct;            /* 0..100, 100 by default */
	char rua[256];      /* as written (cut at 255 octets); "" when absent */
	char ruf[256];      /* as written (cut at 255 octets); "" when absent */
	char problem[256];  /* why the record is invalid, "" when valid */
	char unknown[128];  /* tags receivers ignore, "a, b"; "" when none */
	int none_fallback;  /* invalid only in p=/sp= (or p= missing) and rua= is
	                       valid: RFC 7489 6.6.3 says act as if p=none */
};

/* Parse one DMARC record (the TXT strings joined). 0 when valid, -1 with
 * 'problem' set; either way the tags read before the problem are filled. */
int dmarc_record_parse(const char *txt, struct dmarc_record *out);

/* 1 when 'txt' starts with the tag v=DMARC1 (blanks allowed around '='),
 * which is how RFC 7489 6.6.3 tells DMARC records from other TXT records. */
int dmarc_record_is_dmarc(const char *txt);

/* Policies ordered by strength: none 0, quarantine 1, reject 2, else -1. */
int dmarc_policy_strength(const char *policy);

/* DMARC_PSL_FILE, or "built-in" when libpsl's own list is in use. */
const char *dmarc_psl_source(void);

/* The organizational domain (RFC 7489 3.2) of an A-label domain, lowercase,
 * without a final dot (one is accepted on input). Returns 0, or -1 when
 * 'domain' is not a domain name (empty label, a byte outside letters,
 * digits, '-' and '_', a label over 63 or a name over 253 octets) or
 * 'out' is too small. */
int dmarc_org_domain(const char *domain, char *out, size_t outlen);

/* The RFC5322.From domains of a message: parse every From header value
 * (address lists, display names, comments, quoted strings, group syntax,
 * obsolete routes, folding; encoded words left as is); returns the count
 * of addresses found across all From fields; fills up to 'max' domains
 * lowercased, U-labels converted to A-labels. A malformed address (no '@',
 * nothing after it, stray text or a second address without a comma) still
 * counts and gets "" as its domain. */
size_t dmarc_from_domains(const char *const *from_values, size_t nvalues, char (*domains)[256],
                          size_t max);

struct dmarc_dkim_input {
	const char *domain; /* d= of the signature */
	int pass;           /* the signature verified */
};

struct dmarc_input {
	const char *const *from_values; /* raw From header values */
	size_t nfrom;
	const char *spf_domain; /* the SPF-authenticated identity (MAIL FROM
	                           domain, or HELO for the null path); may be NULL */
	int spf_pass;
	const struct dmarc_dkim_input *dkim; /* one per DKIM signature verdict */
	size_t ndkim;
	unsigned sample; /* 0..99 (taken mod 100), compared with pct; the caller
	                    randomizes */
};

struct dmarc_outcome {
	enum dmarc_result result;
	char header_from[256];   /* the From domain evaluated ("" when none) */
	char policy_domain[256]; /* where the record was found ("" when none) */
	char policy[16];         /* the policy that applies: "none", "quarantine",
	                            "reject"; "" when no record applies */
	char disposition[16];    /* what to do after pct; "none" unless fail */
	int spf_aligned, dkim_aligned;
	char why[512]; /* one line for humans */
};

/* Evaluate one message. The record is looked up through 'fn' (TXT, names
 * absolute). Never fails: every problem is a result with a 'why'. */
void dmarc_evaluate(const struct dmarc_input *in, dnsq_lookup_fn fn, void *ctx,
                    struct dmarc_outcome *out);

#endif
