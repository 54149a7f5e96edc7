/*
 * status - the health of the whole mail server, one row per check.
 *
 * Shared by 'mailctl status', the mailtui dashboard and mailctld's alerts.
 * Each row says how one thing is (ok, warning, error) in a one-line
 * finding, and what to do about it in a one-line fix ("" when there is
 * nothing to do). The checks, in report order, by their stable 'check'
 * name (with what 'subject' names):
 *
 * A per-domain or per-address check with nothing to name has one row
 * with subject "" (skipped, or an error when the database is unreadable).
 *
 *   local (cheap, no network):
 *     service  (each of service_names[], in that order) running, and its
 *              ports listening: Postfix 25, 587, 465; Dovecot 993, 995
 *              (and 143, 110 with mail.plaintext_ports); nginx 80, 443;
 *              mailctld its milter socket (milter.socket)
 *     queue    (postfix) messages in the queue and the oldest deferred one
 *              ('postqueue -j'): warning from STATUS_QUEUE_WARN messages or
 *              a deferred message older than STATUS_DEFERRED_WARN_S, error
 *              from STATUS_QUEUE_ERROR or older than STATUS_DEFERRED_ERROR_S
 *     disk     (paths.mail_root) free space: warning under 20%, error
 *              under 10% (of blocks or of inodes)
 *     memory   (ram) available memory (MemAvailable): warning under 10%,
 *              error under 5%
 *     tls      (tls.cert_file) validity, issuer (self-signed or CA) and
 *              days left: error when missing, unreadable or expired;
 *              warning under STATUS_TLS_WARN_DAYS left
 *     aliases  (each hosted domain) postmaster@ and abuse@ present
 *   network (run concurrently, each bounded by the timeout):
 *     dns      (each hosted domain) the 'dns check' summary: its worst
 *              level (fail is an error, tempfail and warn a warning)
 *     blacklist(all) the 'blacklist check' verdict for the public
 *              addresses and the domains: listed on a major list is an
 *              error; on a minor list, or a list that could not be asked,
 *              a warning
 *     port25   (status.port25_probe) outbound SMTP: a TCP connection to
 *              the probe, name resolved through dns.resolver; blocked or
 *              timed out is an error, a probe that cannot be resolved a
 *              warning; the check is skipped when the key is empty
 *     rdns     (each public address) PTR record, and the name it gives
 *              leading back to the address: missing is an error, a name
 *              other than the mail host's or not leading back a warning
 *
 * Rows are planned before anything runs: status_run() first fills the
 * report with every row as STATUS_PENDING and calls 'progress' once with
 * i == STATUS_PLANNED, so a dashboard can draw the whole table at once.
 * Network checks then start in threads of their own while the local
 * checks run; each row is final when 'progress' is called with its index.
 * 'progress' is always called from the thread that called status_run(),
 * one call at a time, local rows first; a front-end that must stay
 * responsive meanwhile runs status_run() in a thread of its own and passes
 * the calls over (a pipe). Rows keep their index, and 'check' + 'subject'
 * name a row across runs (for alerts on a change).
 *
 * With STATUS_LOCAL the network rows are in the report as STATUS_SKIPPED.
 * The whole run is bounded: the network checks share one deadline of
 * 'timeout_ms' (0: STATUS_TIMEOUT_MS) and a check that is not answered by
 * then is a warning ("could not check"), never an ok.
 *
 * Trouble found is rows, not failure: a check that cannot look (no
 * database: ctx->st NULL, a resolver that cannot be chosen, postqueue
 * missing) is its row's error or warning. status_run() returns -1 only
 * when it cannot run at all (MC_EINTERNAL: a thread that cannot start);
 * the report is then released. The report owns its strings:
 * status_report_release().
 */
#ifndef MAILCTL_STATUS_H
#define MAILCTL_STATUS_H

#include <stddef.h>

#include "account.h"
#include "error.h"

/* Thresholds; see above. */
#define STATUS_QUEUE_WARN       100
#define STATUS_QUEUE_ERROR      1000
#define STATUS_DEFERRED_WARN_S  (4 * 3600)
#define STATUS_DEFERRED_ERROR_S (3 * 86400)
#define STATUS_DISK_WARN_PCT    20
#define STATUS_DISK_ERROR_PCT   10
#define STATUS_MEM_WARN_PCT     10
#define STATUS_MEM_ERROR_PCT    5
#define STATUS_TLS_WARN_DAYS    14

/* The network checks' shared deadline, and the outbound port 25 connect
 * timeout within it, unless told otherwise. */
#define STATUS_TIMEOUT_MS 5000
#define STATUS_CONNECT_MS 3000

/* Ordered by severity: status_worst() is the largest. */
enum status_level {
	STATUS_PENDING, /* planned, not checked yet */
	STATUS_SKIPPED, /* not checked: STATUS_LOCAL, or nothing to check */
	STATUS_OK,
	STATUS_WARNING,
	STATUS_ERROR,
};

/* "pending", "skipped", "ok", "warning", "error" */
const char *status_level_name(enum status_level l);

struct status_row {
	const char *check; /* "service", "queue", "disk", ... (static) */
	char *subject;     /* "postfix", "example.org", "192.0.2.10"... never NULL */
	int network;       /* a network check */
	enum status_level level;
	char *finding; /* one line; "" while pending */
	char *fix;     /* one line; "" when there is nothing to do */
};

struct status_report {
	struct status_row *v;
	size_t n, alloc;
	long elapsed_ms; /* the whole run */
};

/* status_run() flags */
enum {
	STATUS_LOCAL = 1 << 0, /* skip every check that reaches the network */
};

/* 'i' passed to the progress callback once every row is planned. */
#define STATUS_PLANNED ((size_t)-1)

typedef void (*status_progress_fn)(const struct status_report *rep, size_t i, void *arg);

/* Run every check into 'out' (uninitialised storage). 'ctx->cfg' is
 * required; 'ctx->st' may be NULL (the checks that need the database are
 * errors then). 'progress' may be NULL. 'timeout_ms' 0 means
 * STATUS_TIMEOUT_MS. */
int status_run(struct mc_ctx *ctx, unsigned flags, int timeout_ms, struct status_report *out,
               status_progress_fn progress, void *arg, struct mc_error *err);

/* The worst level in 'r' (STATUS_SKIPPED for an empty report). */
enum status_level status_worst(const struct status_report *r);

void status_report_release(struct status_report *r);

#endif
