/*
 * dnscheck_int - what the files of the live DNS check share; private to
 * lib/dnscheck*.c.
 *
 * dnscheck.c runs the rounds (struct run: the queries, the keys read
 * once, the report) and owns the findings; dnscheck_records.c turns one
 * expected record and its answer into findings, with SPF, DKIM and DMARC
 * in dnscheck_auth.c; dnscheck_mtasts.c fetches and judges the MTA-STS
 * policies. Evaluators run again every round: a lookup not answered yet
 * queues its query and answers DNSQ_PENDING, and the finding waits for
 * the next round. Findings are rebuilt from scratch each round.
 */
#ifndef MAILCTL_DNSCHECK_INT_H
#define MAILCTL_DNSCHECK_INT_H

#include "dnscheck.h"
#include "mtasts.h"

/* The records we publish, by kind. */
enum kind {
	K_MX,
	K_ADDR,
	K_SPF,
	K_HELO_SPF,
	K_NULL_MX,
	K_DKIM,
	K_DMARC,
	K_STS,
	K_TLSRPT,
	K_CNAME,
	K_SRV,
	K_CAA,
	K_TLSA,
	K_PTR,
	K_OTHER
};

struct kind_info {
	const char *family;  /* TXT: the tag that tells the record from other TXT at the name */
	int required;        /* DKIM: when its key is active */
	const char *several; /* why more than one is harmful */
};
extern const struct kind_info dnscheck_kinds[];

enum kind dnscheck_classify(const struct dnsrec *r, const char *domain);

/* A DKIM key file, read once before the rounds. */
struct keyfile {
	char *public_key; /* p= derived from the key file, or NULL */
	char *problem;    /* why not */
	int missing;      /* the file does not exist */
};

/* One domain's MTA-STS policy: fetched once, when its addresses are known. */
struct sts_state {
	int published; /* the expected records have its _mta-sts TXT */
	int fetched;   /* 'fetch' holds the outcome */
	char **addrs;  /* of mta-sts.DOMAIN, for 'fetch' */
	struct mtasts_fetch fetch;
};

struct run {
	const struct dnscheck_input *in;
	struct dnsq q;
	int added; /* queries queued by this pass */
	struct dnscheck_report *rep;
	struct keyfile **keyfiles; /* [domain][key] */
	struct sts_state *sts;     /* [domain] */
};

/* One expected record being judged. */
struct ctx {
	struct run *r;
	const struct dnscheck_domain *d;
	const struct dnsrec *rec;
	enum kind kind;
	int required;
	const struct dnsq_answer *a;
	const struct dnscheck_key *key; /* DKIM */
	const struct keyfile *kf;       /* DKIM */
};

/* Values found, as text. */
struct values {
	char **v;
	size_t n, alloc;
};

/* ---- dnscheck.c ---- */

/* Names compare without case and without regard to the final dot. */
int dnscheck_same_name(const char *a, const char *b);
/* 's' begins with the tag 'family', followed by a blank, ';' or the end. */
int dnscheck_of_family(const char *s, const char *family);

/* The dnsq_lookup_fn of a run ('ctx'): a finished query's answer, or the
 * query queued and DNSQ_PENDING. */
void dnscheck_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out);
void dnscheck_lookup_cd(struct run *r, const char *name, ldns_rr_type type, int cd,
                        struct dnsq_answer *out);
/* 'why' of the query behind a failed answer. */
const char *dnscheck_why_of(const struct run *r, const char *name, ldns_rr_type type);
/* The finding status of a lookup that did not answer. */
enum dnscheck_status dnscheck_failed_status(enum dnsq_status s);
/* "no answer from SERVER within N ms" (caller frees). */
char *dnscheck_no_answer(const struct run *r);

/* Append a finding; its level follows from 'st' and 'required'. */
__attribute__((format(printf, 8, 9))) struct dnscheck_finding *
dnscheck_add(struct run *r, const char *name, const char *type, const char *check,
             enum dnscheck_status st, int required, const char *fix, const char *fmt, ...);
/* Attach the expected value and what was found to a record finding. */
void dnscheck_set_values(struct dnscheck_finding *f, const char *expected, char **found, size_t n);

/* ---- dnscheck_records.c ---- */

/* The name without its final dot (caller frees). */
char *dnscheck_bare(const char *name);
/* "VERB: <the zone line>", or where to find the record when it is long. */
char *dnscheck_fix_publish(const struct dnsrec *rec, const char *domain, enum kind k,
                           const char *verb);
struct dnscheck_finding *dnscheck_rec_add(struct ctx *c, enum dnscheck_status st, const char *fix,
                                          const char *detail, struct values *found);
/* DIFFERENT, with 'why' or "expected ..., found ..." as the detail. */
struct dnscheck_finding *dnscheck_rec_different(struct ctx *c, struct values *found,
                                                const char *why);
/* The findings of one expected record of domain 'di'. */
void dnscheck_check_record(struct run *r, size_t di, const struct dnsrec *rec);

/* ---- dnscheck_auth.c: one TXT record found, of its family ---- */

void dnscheck_check_spf(struct ctx *c, struct values *found);
void dnscheck_check_dkim(struct ctx *c, struct values *found);
void dnscheck_check_dmarc(struct ctx *c, struct values *found);

/* ---- dnscheck_mtasts.c ---- */

/* Look up what the policies need and fetch those whose addresses are
 * known, all at once; then the row of each domain. */
void dnscheck_sts_prepare(struct run *r);
void dnscheck_sts_row(struct run *r, size_t di);
void dnscheck_sts_release(struct run *r);

#endif
