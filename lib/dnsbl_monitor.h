/*
 * dnsbl_monitor - blocklist monitoring: what mailctld does every
 * blacklist.interval_hours (and soon after an outbound delivery is refused
 * with a reply naming a blocklist), and what `blacklist history` reads.
 *
 * A round checks the server's own subjects (dnsbl_subjects_default():
 * the public addresses, configured or detected, and every hosted domain)
 * against the table, stores every result under one timestamp in one
 * transaction (store.h: blacklist_results), and reports the changes
 * against each subject and list's previous result. Only changes into or
 * out of "listed" count: a list that timed out once is not news, and a
 * refusal is never a listing. A pair never checked before counts as
 * clean, so a listing found by the very first round is reported too.
 *
 * dnsbl_alert_text() writes the one message a round's changes deserve,
 * for the postmaster: each change with the list's reason, TXT and
 * delisting page. dnsbl_refusal_names_list() tells whether a Postfix log
 * line is an outbound delivery refused by a remote blocklist.
 *
 * Errors: the store's, and dnsbl_check()'s (a local failure).
 */
#ifndef MAILCTL_DNSBL_MONITOR_H
#define MAILCTL_DNSBL_MONITOR_H

#include <stddef.h>
#include <time.h>

#include "account.h"
#include "dnsbl.h"
#include "netaddr.h"

/* The public addresses (configured, else detected) and hosted domains.
 * MC_ECONFIG when there is nothing to check. */
int dnsbl_subjects_default(struct mc_ctx *ctx, struct netaddr_list *out, struct mc_error *err);

struct dnsbl_change {
	char *subject, *zone;
	char *from, *to; /* statuses: "clean", "listed", ... */
	char *detail;    /* the new result's detail */
	char *delist;    /* the list's delisting page */
};
struct dnsbl_changes {
	struct dnsbl_change *v;
	size_t n, alloc;
	size_t checked; /* results stored */
};

/* One monitoring round at 'now' (see above). */
int dnsbl_monitor_round(struct mc_ctx *ctx, const struct dnsbl_table *t,
                        const struct dnsq_server *server, int timeout_ms, time_t now,
                        struct dnsbl_changes *out, struct mc_error *err);
void dnsbl_changes_release(struct dnsbl_changes *c);

/* The alert message (headers and body, LF line ends) from 'from' to 'to'
 * about 'c' (caller frees). */
char *dnsbl_alert_text(const struct dnsbl_changes *c, const char *hostname, const char *from,
                       const char *to, time_t now);

/* 1 when a Postfix log line reports an outbound delivery (status=bounced
 * or deferred) whose reply names a blocklist (Spamhaus, "blocklist",
 * "blacklist", "listed", RBL, DNSBL...). */
int dnsbl_refusal_names_list(const char *line);

#endif
