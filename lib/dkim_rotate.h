/*
 * dkim_rotate - DKIM key rotation as an idempotent state machine, advanced
 * one step per call by `mailctl dkim rotate` and by mailctld's job loop.
 *
 * A domain's keys (dkim.h) say where its rotation stands; nothing else is
 * stored. Each call of dkim_rotate_step() looks at them and does the one
 * thing that is due, in this order:
 *
 *   REMOVED   a retired key whose grace period (dkim.rotation_grace_days
 *             from its retirement) is over is deleted, row and key file:
 *             its record can leave DNS.
 *   SWITCHED  a rotation is pending - the domain has a 'published' key -
 *             and DNS (asked through 'lookup', TXT <selector>._domainkey.
 *             <domain>) shows the record of every pending key with its
 *             exact p= (and k=): each pending key becomes 'active', the
 *             active key of its algorithm 'retired' at 'now'.
 *   WAITING   a rotation is pending but some record is missing, different,
 *             several, or DNS did not answer: nothing changes; each key
 *             says what DNS shows.
 *   GRACE     retired keys are still within their grace period: nothing
 *             changes.
 *   STARTED   nothing is under way and 'may_start' is set: a new key is
 *             made for every algorithm the domain signs with (rsa, and
 *             ed25519 too when it dual-signs), same size, default selector
 *             at 'now', in state 'published'. Dual-signing domains rotate
 *             both keys together and switch only when both records are
 *             published, so the domain is never half rotated.
 *   IDLE      nothing under way and 'may_start' is not set (the daemon).
 *
 * The pending key of an algorithm is its newest 'published' key, so a key
 * made with `dkim keygen` beside an active one is a rotation waiting for
 * its DNS record too. Every change is one transaction with a "dkim.rotate"
 * audit row (STARTED also writes "dkim.keygen" rows) that first re-reads
 * the keys: when another run changed them since they were read (while DNS
 * was asked, or new keys made) it fails with MC_ETEMP and changes
 * nothing, so runs at the same time never start two rotations. Key files
 * are written inside the transaction that adds their rows (removed again
 * if it fails) and deleted after the one that deletes them commits.
 *
 * A record counts as published when a verifier would take it
 * (dkim_keyrec_parse() of dkim_msg.h) with the key's exact key bytes and
 * algorithm, sha256 allowed (h=) and email service (s=).
 *
 * dkim_rotate_abort() cancels a pending rotation: the domain's 'published'
 * keys are deleted, rows and files; the active keys sign on.
 *
 * Errors: no such domain MC_ENODOMAIN; no active key, or (abort) no
 * rotation pending, MC_EDATA; keys changed meanwhile (or a busy
 * database) MC_ETEMP; a retirement time that cannot be read
 * MC_EINTERNAL; key files MC_EIO; the store's own errors. DNS trouble is
 * never an error: it is WAITING with the reason in the report. On any
 * error nothing has changed, except when a key file cannot be deleted
 * after its row was (MC_EIO, saying so).
 */
#ifndef MAILCTL_DKIM_ROTATE_H
#define MAILCTL_DKIM_ROTATE_H

#include <stddef.h>
#include <time.h>

#include "account.h"
#include "dnsq.h"
#include "store.h"

enum dkim_rotate_action {
	DKIM_ROTATE_STARTED,
	DKIM_ROTATE_WAITING,
	DKIM_ROTATE_SWITCHED,
	DKIM_ROTATE_GRACE,
	DKIM_ROTATE_REMOVED,
	DKIM_ROTATE_IDLE,
	DKIM_ROTATE_ABORTED,
};

/* What happened to one key in the step. */
enum dkim_rotate_change {
	DKIM_CHANGE_NONE,
	DKIM_CHANGE_MADE,
	DKIM_CHANGE_ACTIVATED,
	DKIM_CHANGE_RETIRED,
	DKIM_CHANGE_REMOVED,
};

/* What DNS shows for a pending key's record. */
enum dkim_rotate_dns {
	DKIM_DNS_UNASKED,
	DKIM_DNS_PUBLISHED, /* one DKIM record, with the key's p= and k= */
	DKIM_DNS_MISSING,   /* no such name, no TXT, or no DKIM record among them */
	DKIM_DNS_DIFFERENT, /* a DKIM record with another key, algorithm or none */
	DKIM_DNS_SEVERAL,   /* more than one DKIM record: verifiers may pick any */
	DKIM_DNS_FAILED,    /* no answer: timeout, SERVFAIL, refused, error */
	DKIM_DNS_PENDING,   /* the lookup has no answer yet (ask again) */
};

enum dkim_rotate_role {
	DKIM_ROLE_NEW,     /* the key the rotation moves to */
	DKIM_ROLE_OLD,     /* the active key it replaces */
	DKIM_ROLE_RETIRED, /* replaced earlier, published until its grace ends */
};

struct dkim_rotate_key {
	struct dkim_row row; /* as the step leaves it; a removed key as it was */
	enum dkim_rotate_role role;
	enum dkim_rotate_change change;
	enum dkim_rotate_dns dns;
	char *dns_detail; /* one line: what DNS shows; NULL when not asked */
	char **found;     /* the TXT records at the name, joined strings */
	size_t nfound;
	time_t retired;      /* retired keys: when; else 0 */
	time_t remove_after; /* retired keys: when their grace period ends */
};

/* What a step did. Owns its strings: dkim_rotate_report_release(). */
struct dkim_rotate_report {
	enum dkim_rotate_action action;
	char *domain; /* A-label */
	long long grace_days;
	struct dkim_rotate_key *v; /* the keys the step is about */
	size_t n, alloc;
};

/* Do the step that is due for 'domain' at 'now', asking DNS through
 * 'lookup' (with 'lookup_ctx'; required) only when a rotation is pending.
 * 'may_start' lets it start a rotation (the CLI); the daemon, which only
 * advances rotations an administrator started, passes 0. */
int dkim_rotate_step(struct mc_ctx *ctx, const char *domain, time_t now, dnsq_lookup_fn lookup,
                     void *lookup_ctx, int may_start, struct dkim_rotate_report *out,
                     struct mc_error *err);

/* Cancel the pending rotation of 'domain'. */
int dkim_rotate_abort(struct mc_ctx *ctx, const char *domain, struct dkim_rotate_report *out,
                      struct mc_error *err);

void dkim_rotate_report_release(struct dkim_rotate_report *r);

/* "started", "waiting", "switched", "grace", "removed", "idle", "aborted" */
const char *dkim_rotate_action_name(enum dkim_rotate_action a);
/* "none", "made", "activated", "retired", "removed" */
const char *dkim_rotate_change_name(enum dkim_rotate_change c);
/* "", "published", "missing", "different", "several", "failed", "pending" */
const char *dkim_rotate_dns_name(enum dkim_rotate_dns d);
/* "new", "old", "retired" */
const char *dkim_rotate_role_name(enum dkim_rotate_role r);

/* Times as the store writes them: "YYYY-MM-DDTHH:MM:SSZ" (UTC). Parsing
 * also takes "@SECONDS" since the epoch; -1 for anything else. */
#define DKIM_TIME_LEN 21
int dkim_time_parse(const char *s, time_t *out);
void dkim_time_format(time_t t, char buf[DKIM_TIME_LEN]);

#endif
