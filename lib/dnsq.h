/*
 * dnsq - an asynchronous stub resolver client on ldns.
 *
 * Queries are collected with dnsq_add(), then dnsq_run() sends every
 * pending one at once - one connected, non-blocking UDP socket per query,
 * so each has its own source port and ID, up to 256 sockets at a time -
 * and waits for all the answers with poll(). A truncated UDP answer is asked again over TCP.
 * Unanswered UDP queries are sent again after 0.5 s, 1.5 s, ... until the deadline.
 *
 * The timeout is overall: the deadline is set by the first dnsq_run() and
 * later runs (queries added after looking at earlier answers) share it, so
 * a resolver that never answers costs 'timeout_ms' once, not per round.
 *
 * Every query asks for recursion (RD) and DNSSEC records (EDNS0 with DO,
 * 1232-byte UDP payload, the size DNS Flag Day 2020 settled on); the AD bit of the answer
 * is reported. With 'cd' set the query also carries CD (checking
 * disabled), to tell a bogus DNSSEC zone from a broken one.
 *
 * Each query ends in one status. ANSWER means NOERROR with at least one
 * record of the asked type in the answer section (after any CNAME chain);
 * 'rrs' holds those records. Replies that do not match the query (ID,
 * question) are ignored, like a spoofed packet would be.
 *
 * With a cache (struct dnsq_cache, below, set in 'cache' after
 * dnsq_init()), dnsq_run() answers what the cache holds without sending
 * anything and stores what the resolver answers.
 *
 * The struct dnsq owns its queries, their packets and record lists (or
 * its references to cached answers); all are freed by dnsq_release(). Errors: a bad server address
 * MC_EUSAGE (for --resolver) or MC_ECONFIG (resolv.conf); dnsq_run() itself fails only when poll()
 * does (MC_EINTERNAL) - trouble with one query (a socket that cannot be made, ICMP refused) ends
 * that query as DNSQ_ERROR.
 */
#ifndef MAILCTL_DNSQ_H
#define MAILCTL_DNSQ_H

#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

/* How long dnsq_run() waits for everything, unless told otherwise. */
#define DNSQ_TIMEOUT_MS 2000

enum dnsq_status {
	DNSQ_PENDING,  /* not run yet, or under way */
	DNSQ_ANSWER,   /* NOERROR with records of the type asked */
	DNSQ_NODATA,   /* NOERROR, the name exists but not with that type */
	DNSQ_NXDOMAIN, /* the name does not exist */
	DNSQ_SERVFAIL, /* the resolver could not get an answer (or DNSSEC failed) */
	DNSQ_REFUSED,  /* the resolver will not answer us */
	DNSQ_TIMEOUT,  /* no answer before the deadline */
	DNSQ_ERROR,    /* anything else: another rcode, ICMP, a bad reply; see 'why' */
};

/* "answer", "nodata", "nxdomain", "servfail", "refused", "timeout", "error" */
const char *dnsq_status_name(enum dnsq_status s);

struct dnsq_server {
	struct sockaddr_storage sa;
	socklen_t salen;
	char text[64]; /* "192.0.2.53:53", "[2001:db8::53]:53" */
};

/* "ADDR", "ADDR:PORT", "V6ADDR" or "[V6ADDR]:PORT" (port 53 by default). */
int dnsq_server_parse(const char *spec, struct dnsq_server *out, struct mc_error *err);

/* The first 'nameserver' of a resolv.conf(5) file ('path' NULL means
 * /etc/resolv.conf). */
int dnsq_server_system(const char *path, struct dnsq_server *out, struct mc_error *err);

/* The resolver to use: 'out' as already set (from --resolver), else
 * 'configured' (dns.resolver) when not empty, else the system's. A bad
 * 'configured' value is MC_ECONFIG naming the key. */
int dnsq_server_choose(const char *configured, struct dnsq_server *out, struct mc_error *err);

struct dnsq_cached;

enum dnsq_io { DNSQ_IO_NONE, DNSQ_IO_UDP, DNSQ_IO_TCP_CONNECT, DNSQ_IO_TCP_SEND, DNSQ_IO_TCP_RECV };

struct dnsq_query {
	char *name; /* as given, absolute or not */
	ldns_rr_type type;
	int cd;

	enum dnsq_status status;
	ldns_pkt *pkt;     /* the reply, for every status but TIMEOUT/ERROR; NULL when cached */
	ldns_rr_list *rrs; /* ANSWER: the records of 'type'; else NULL. Read only: it may
	                    * be a cached answer that other threads read too */
	int ad;            /* the reply had the AD bit: the resolver validated it */
	int tcp;           /* the answer came over TCP after truncation */
	int cached;        /* answered from the cache, nothing sent */
	char why[128];     /* ERROR: what went wrong */

	/* private to dnsq.c */
	enum dnsq_io io;
	int fd;
	uint16_t id;
	uint8_t *wire;   /* the query, with a 2-byte length prefix for TCP */
	size_t wirelen;  /* without the prefix */
	uint8_t *buf;    /* TCP: the reply being read */
	size_t got, off; /* TCP: bytes read / bytes of the query sent */
	long long next_send_ms;
	int sends;
	const struct dnsq_cached *entry; /* a reference to the cached answer; owns 'rrs' */
	int offered;                     /* the reply went to the cache (kept or not) */
};

struct dnsq_cache;

struct dnsq {
	struct dnsq_server server;
	int timeout_ms;           /* 0: DNSQ_TIMEOUT_MS */
	struct dnsq_cache *cache; /* NULL: none; must outlive the dnsq */
	struct dnsq_query *v;     /* indexes stay valid; pointers may not across dnsq_add() */
	size_t n, alloc;
	long long deadline_ms; /* set by the first dnsq_run() */
};

/* 'd' with 'server' and the default timeout. */
void dnsq_init(struct dnsq *d, const struct dnsq_server *server);

/* Queue a query; returns its index. The same name, type and cd again
 * gives the existing index. */
size_t dnsq_add(struct dnsq *d, const char *name, ldns_rr_type type, int cd);

/* Index of a queued query, or -1. */
long dnsq_find(const struct dnsq *d, const char *name, ldns_rr_type type, int cd);

/* Send every pending query and wait for them all, or the deadline. */
int dnsq_run(struct dnsq *d, struct mc_error *err);

/* What a lookup found: 'status' DNSQ_PENDING means "not yet, ask again
 * after the next round"; 'rrs' (of the type asked) only with DNSQ_ANSWER.
 * Evaluators (SPF, DKIM, DMARC, the DNS check) see DNS only through a
 * dnsq_lookup_fn, which unit tests and conformance suites fake. */
struct dnsq_answer {
	enum dnsq_status status;
	const ldns_rr_list *rrs;
	int ad;
};
typedef void (*dnsq_lookup_fn)(void *ctx, const char *name, ldns_rr_type type,
                               struct dnsq_answer *out);

/* A dnsq_lookup_fn over a 'struct dnsq' (ctx): the query is sent at once
 * and waited for, sharing the dnsq's one deadline, so a caller evaluating
 * one message has one DNS time budget. Repeated questions are answered from
 * the earlier reply. Never answers DNSQ_PENDING; a local failure is
 * DNSQ_ERROR. The records stay valid until dnsq_release(). */
void dnsq_lookup_now(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out);

void dnsq_release(struct dnsq *d);

/*
 * dnsq_cache - answers shared between dnsq runs and threads (a daemon
 * makes one and sets it in every struct dnsq), so a busy mail filter asks
 * the resolver once per record and TTL rather than once per message.
 *
 * What is kept, and how long (RFC 2308 for the negative answers):
 *   - ANSWER: the least TTL of the answer section (records and any CNAME
 *     on the way), at most DNSQ_CACHE_MAX_TTL; TTL 0 is not kept;
 *   - NXDOMAIN, NODATA: the lesser of the authority SOA's TTL and its
 *     MINIMUM field, at most DNSQ_CACHE_MAX_NEGATIVE_TTL; not kept
 *     without an SOA;
 *   - SERVFAIL, REFUSED: DNSQ_CACHE_FAILURE_TTL seconds, so a failing
 *     zone is not asked again for every message yet recovers at once;
 *   - TIMEOUT and ERROR never: they may come from one message's spent
 *     time budget or a local fault, not from the name.
 * Keys are (name without case or final dot, type, cd). The cache holds
 * at most 'max_entries' answers and about 'max_bytes' bytes of them
 * (records counted at their wire size plus bookkeeping); past either
 * the least recently used go first. An answer too large for the whole
 * budget is used once and not kept.
 *
 * Thread-safe: one mutex guards the table. Cached answers are immutable
 * and reference-counted: a query holds its reference until
 * dnsq_release(), so an answer that expires or is evicted meanwhile stays
 * valid for it. dnsq_cache_free() needs every such reference dropped.
 */
#define DNSQ_CACHE_ENTRIES          10000
#define DNSQ_CACHE_BYTES            (8u << 20)
#define DNSQ_CACHE_MAX_TTL          86400
#define DNSQ_CACHE_MAX_NEGATIVE_TTL 3600
#define DNSQ_CACHE_FAILURE_TTL      2

/* A cached answer: what dnsq_answer says, kept. */
struct dnsq_cached {
	enum dnsq_status status;
	const ldns_rr_list *rrs; /* ANSWER only */
	int ad;
};

struct dnsq_cache_stats {
	unsigned long long hits, misses, stores, expired, evictions;
	size_t entries, bytes;
};

/* 0 for either limit means the default (DNSQ_CACHE_ENTRIES, DNSQ_CACHE_BYTES). */
struct dnsq_cache *dnsq_cache_new(size_t max_entries, size_t max_bytes);
void dnsq_cache_free(struct dnsq_cache *c);

/* The answer for (name, type, cd) if cached and not expired at 'now_ms'
 * (CLOCK_MONOTONIC milliseconds), with a reference for the caller; NULL
 * otherwise. */
const struct dnsq_cached *dnsq_cache_get(struct dnsq_cache *c, const char *name, ldns_rr_type type,
                                         int cd, long long now_ms);
/* Drop a reference from dnsq_cache_get() or dnsq_cache_add(). */
void dnsq_cache_drop(struct dnsq_cache *c, const struct dnsq_cached *answer);
/* Keep the reply 'pkt' (its authority section gives a negative TTL) whose
 * outcome is 'status', 'ad' and, for ANSWER, the records '*rrs'. When it
 * is kept, '*rrs' is taken (set to NULL: read the answer's 'rrs') and the
 * answer is returned with a reference for the caller; otherwise (not
 * cacheable, TTL 0) NULL, '*rrs' untouched. */
const struct dnsq_cached *dnsq_cache_add(struct dnsq_cache *c, const char *name, ldns_rr_type type,
                                         int cd, enum dnsq_status status, int ad,
                                         const ldns_pkt *pkt, ldns_rr_list **rrs, long long now_ms);
/* How many seconds an outcome would be kept (0: not at all). */
uint32_t dnsq_cache_ttl(enum dnsq_status status, const ldns_pkt *pkt, const ldns_rr_list *rrs);
void dnsq_cache_stats(struct dnsq_cache *c, struct dnsq_cache_stats *out);

#endif
