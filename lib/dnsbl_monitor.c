/* Blocklist monitoring rounds and alerts; see dnsbl_monitor.h. */
#include "dnsbl_monitor.h"
#include "domain.h"
#include "store.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int dnsbl_subjects_default(struct mc_ctx *ctx, struct netaddr_list *out, struct mc_error *err)
{
	struct netaddr_list v4 = {0}, v6 = {0};
	struct domain_list doms = {0};
	int rc = netaddr_server(ctx->cfg->ipv4, ctx->cfg->ipv6, &v4, &v6, err);
	for (size_t i = 0; i < v4.n; i++)
		netaddr_list_add(out, v4.v[i]);
	for (size_t i = 0; i < v6.n; i++)
		netaddr_list_add(out, v6.v[i]);
	if (rc == 0)
		rc = domain_list(ctx, &doms, err);
	for (size_t i = 0; rc == 0 && i < doms.n; i++)
		netaddr_list_add(out, doms.v[i].name);
	netaddr_list_release(&v4);
	netaddr_list_release(&v6);
	domain_list_release(&doms);
	if (rc == 0 && !out->n)
		rc = mc_fail(
		    err, MC_ECONFIG,
		    "nothing to check: no public address (set network.ipv4 or network.ipv6) "
		    "and no hosted domain");
	return rc;
}

static const char *previous_status(const struct blacklist_list *prev, const char *subject,
                                   const char *zone)
{
	for (size_t i = 0; i < prev->n; i++)
		if (!strcmp(prev->v[i].subject, subject) && !strcmp(prev->v[i].zone, zone))
			return prev->v[i].status;
	return "clean";
}

static void note_change(struct dnsbl_changes *c, const struct dnsbl_result *r, const char *from)
{
	const char *to = dnsbl_status_name(r->status);
	if (strcmp(from, to) == 0 || (strcmp(from, "listed") != 0 && strcmp(to, "listed") != 0))
		return;
	c->v = xgrow(c->v, &c->alloc, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = (struct dnsbl_change){
	    .subject = xstrdup(r->subject),
	    .zone = xstrdup(r->zone->zone),
	    .from = xstrdup(from),
	    .to = xstrdup(to),
	    .detail = xasprintf("%s%s%s", r->detail ? r->detail : "", r->txt ? "; TXT: " : "",
	                        r->txt ? r->txt : ""),
	    .delist = xstrdup(r->zone->delist ? r->zone->delist : ""),
	};
}

struct round {
	const struct dnsbl_report *rep;
	const char *stamp;
	struct dnsbl_changes *out;
};

/* Inside the transaction: compare with the last results, then store. */
static int store_round(struct mc_ctx *ctx, void *arg, struct mc_error *err)
{
	struct round *rd = arg;
	struct blacklist_list prev = {0};
	if (store_blacklist_latest(ctx->st, &prev, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < rd->rep->n; i++) {
		const struct dnsbl_result *r = &rd->rep->v[i];
		if (!r->subject)
			continue;
		note_change(rd->out, r, previous_status(&prev, r->subject, r->zone->zone));
		struct blacklist_row row = {.checked = (char *)rd->stamp,
		                            .subject = r->subject,
		                            .zone = r->zone->zone,
		                            .status = (char *)dnsbl_status_name(r->status),
		                            .detail = r->detail ? r->detail : ""};
		rc = store_blacklist_add(ctx->st, &row, err);
		rd->out->checked += rc == 0;
	}
	blacklist_list_release(&prev);
	return rc;
}

int dnsbl_monitor_round(struct mc_ctx *ctx, const struct dnsbl_table *t,
                        const struct dnsq_server *server, int timeout_ms, time_t now,
                        struct dnsbl_changes *out, struct mc_error *err)
{
	struct netaddr_list subjects = {0};
	struct dnsbl_report rep = {0};
	char stamp[32];
	struct tm tm;
	memset(out, 0, sizeof(*out));
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	int rc = dnsbl_subjects_default(ctx, &subjects, err);
	if (rc == 0)
		rc = dnsbl_check(t, (const char *const *)subjects.v, subjects.n, server, timeout_ms,
		                 &rep, err);
	if (rc == 0) {
		struct round rd = {&rep, stamp, out};
		char detail[64];
		snprintf(detail, sizeof(detail), "%zu subject(s)", subjects.n);
		rc = account_tx(ctx, store_round, &rd, "blacklist.check", stamp, detail, err);
		if (rc < 0)
			dnsbl_changes_release(out);
	}
	dnsbl_report_release(&rep);
	netaddr_list_release(&subjects);
	return rc < 0 ? -1 : 0;
}

void dnsbl_changes_release(struct dnsbl_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].subject);
		free(c->v[i].zone);
		free(c->v[i].from);
		free(c->v[i].to);
		free(c->v[i].detail);
		free(c->v[i].delist);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

char *dnsbl_alert_text(const struct dnsbl_changes *c, const char *hostname, const char *from,
                       const char *to, time_t now)
{
	struct strbuf sb = STRBUF_INIT;
	char date[64];
	struct tm tm;
	size_t listed = 0;
	for (size_t i = 0; i < c->n; i++)
		listed += !strcmp(c->v[i].to, "listed");
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
	strbuf_addf(&sb, "From: mailctl on %s <%s>\nTo: %s\nDate: %s\n", hostname, from, to, date);
	strbuf_addf(&sb, "Subject: [%s] blocklists: %zu new listing(s), %zu delisting(s)\n",
	            hostname, listed, c->n - listed);
	strbuf_addstr(&sb, "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	                   "Content-Type: text/plain; charset=utf-8\n\n");
	strbuf_addf(&sb, "mailctld on %s checked the DNS blocklists; these changed:\n\n", hostname);
	for (size_t i = 0; i < c->n; i++) {
		const struct dnsbl_change *ch = &c->v[i];
		int now_listed = !strcmp(ch->to, "listed");
		strbuf_addf(&sb, "%s %s %s (was %s)\n", ch->subject,
		            now_listed ? "is now LISTED on" : "is no longer listed on", ch->zone,
		            ch->from);
		if (now_listed && ch->detail[0])
			strbuf_addf(&sb, "  reason: %s\n", ch->detail);
		if (now_listed && ch->delist[0])
			strbuf_addf(&sb, "  delisting: %s\n", ch->delist);
		strbuf_addch(&sb, '\n');
	}
	strbuf_addstr(&sb, "Mail from a listed address or domain may be refused or filed as spam.\n"
	                   "Run 'mailctl blacklist check' for the current state and "
	                   "'mailctl blacklist history' for the record.\n");
	return strbuf_detach(&sb);
}

int dnsbl_refusal_names_list(const char *line)
{
	static const char *const words[] = {"spamhaus",   "blocklist", "blacklist", "block list",
	                                    "black list", "dnsbl",     "rbl",       "listed",
	                                    "spamcop",    "barracuda", "uceprotect"};
	if (!strstr(line, "status=bounced") && !strstr(line, "status=deferred"))
		return 0;
	const char *reply = strstr(line, " (");
	if (!reply)
		return 0;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(reply, words[i]))
			return 1;
	return 0;
}
