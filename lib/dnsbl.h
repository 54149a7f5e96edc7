/*
 * dnsbl - is an address or a domain on a DNS blocklist?
 *
 * The lists come from a table (data/dnsbl.yaml, read by dnsbl_table_load()):
 * per zone its kind, the meaning of each answer code, the codes that mean
 * "your query was refused", the delisting URL and a weight. dnsbl_check()
 * builds every query name (IPv4 reversed octets, IPv6 reversed nibbles,
 * domains as they are), asks A and TXT for all of them at once through
 * dnsq, together with each list's health-check entries (RFC 5782 section
 * 5: 127.0.0.2 listed, 127.0.0.1 not), and classifies each answer.
 *
 * A refusal code is never read as a listing, nor is an address outside
 * 127.0.0.0/8 (a resolver rewriting NXDOMAIN); a list failing its health
 * check is "dead" and its answers are skipped, not believed.
 *
 * The table and the report own their strings; release them with
 * dnsbl_table_release() and dnsbl_report_release(). Results point into
 * the table, which must outlive the report. Errors: the table file
 * (MC_ECONFIG, naming file, line and field), a subject that is neither an
 * address nor a domain (MC_EUSAGE), poll() failing (MC_EINTERNAL).
 */
#ifndef MAILCTL_DNSBL_H
#define MAILCTL_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "dnsq.h"
#include "error.h"

enum dnsbl_kind { DNSBL_IP, DNSBL_DOMAIN };
enum dnsbl_weight { DNSBL_MINOR, DNSBL_MAJOR };

/* A range of IPv4 answers, host byte order, inclusive. */
struct dnsbl_code {
	uint32_t lo, hi;
	char *meaning;
};

struct dnsbl_zone {
	char *zone;
	enum dnsbl_kind kind;
	int ipv6;
	enum dnsbl_weight weight;
	char *delist;
	char *why;
	struct dnsbl_code *codes, *refused;
	size_t ncodes, nrefused;
	char **test_listed, **test_clean; /* NULL-terminated */
};

struct dnsbl_table {
	char *file;
	struct dnsbl_zone *v;
	size_t n, alloc;
};

/* Parse the YAML table in 'text'; 'file' names it in messages. */
int dnsbl_table_parse(struct dnsbl_table *t, const char *file, const char *text, size_t len,
                      struct mc_error *err);
int dnsbl_table_load(struct dnsbl_table *t, const char *path, struct mc_error *err);
void dnsbl_table_release(struct dnsbl_table *t);

/* "127.0.0.2" or "127.0.0.4-127.0.0.7" to a range; -1 when malformed. */
int dnsbl_parse_range(const char *s, uint32_t *lo, uint32_t *hi);

enum dnsbl_subject {
	DNSBL_SUBJECT_BAD = -1,
	DNSBL_SUBJECT_V4,
	DNSBL_SUBJECT_V6,
	DNSBL_SUBJECT_DOMAIN
};
enum dnsbl_subject dnsbl_subject_kind(const char *s);

/* The name to query 'subject' on 'z' into 'buf'. Returns 1 when built, 0
 * when the list does not cover that kind of subject, -1 when 'subject'
 * is not valid or the name does not fit. */
int dnsbl_query_name(const struct dnsbl_zone *z, const char *subject, char *buf, size_t size);

/* What answer 'code' means on 'z': its meaning and 1 when it is a refusal
 * code, 0 a listing code; NULL when the table does not know it. */
const char *dnsbl_decode(const struct dnsbl_zone *z, uint32_t code, int *refused);

enum dnsbl_status {
	DNSBL_CLEAN,   /* NXDOMAIN (health: the list passed) */
	DNSBL_LISTED,  /* a listing code (health: the list is dead) */
	DNSBL_REFUSED, /* a refusal code, or the resolver's REFUSED */
	DNSBL_TIMEOUT,
	DNSBL_ERROR,   /* SERVFAIL, an answer outside 127/8, anything else */
	DNSBL_SKIPPED, /* the list is dead, or does not cover the subject */
};

/* "clean", "listed", "refused", "timeout", "error", "skipped" */
const char *dnsbl_status_name(enum dnsbl_status s);

struct dnsbl_result {
	char *subject; /* NULL for a health result */
	const struct dnsbl_zone *zone;
	enum dnsbl_status status;
	int dead;     /* health: the list failed its check */
	char *detail; /* decoded meanings, or what went wrong */
	char *txt;    /* listed: the list's TXT record, or NULL */
};

struct dnsbl_report {
	struct dnsbl_result *v; /* 'check': per subject then per zone */
	size_t n, alloc;
	struct dnsbl_result *health; /* per zone, same order as the table */
	size_t queries;
};

/* Check 'subjects' against every list of 't' that covers them, and every
 * list's health, all in one round; 'timeout_ms' 0 means DNSQ_TIMEOUT_MS.
 * With 'nsubjects' 0 only the health check runs. */
int dnsbl_check(const struct dnsbl_table *t, const char *const *subjects, size_t nsubjects,
                const struct dnsq_server *server, int timeout_ms, struct dnsbl_report *rep,
                struct mc_error *err);

/* Worst outcome: 1 listed on a major live list, 2 some list could not be
 * asked (refused, timeout, error), 0 otherwise. */
int dnsbl_verdict(const struct dnsbl_report *rep);

void dnsbl_report_release(struct dnsbl_report *rep);

/* What to do when a list refuses our resolver. */
#define DNSBL_REFUSED_FIX                                                                          \
	"fix: ask a local recursive resolver (the unbound provisioning installs), not a "          \
	"public or forwarding one"

/* The DETAIL of a result as 'blacklist check' and mailtui show it: the
 * reason, the list's own TXT, and the fix for a refusal. Caller frees. */
char *dnsbl_result_detail(const struct dnsbl_result *r);

/* The operator when 'server' is a well-known public resolver (which
 * several lists refuse), else NULL. */
const char *dnsbl_public_resolver(const struct dnsq_server *server);

#endif
