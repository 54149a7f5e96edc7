/* The network checks of the health report that wrap other modules: the
 * DNS check per domain (dnscheck.h over a dnsplan.h plan) and the
 * blocklists (dnsbl.h); see status.h. Each runs in a thread of its own
 * with what status_net holds, and never past n->deadline_ms. */
#include "status_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int status_remaining_ms(const struct status_net *n)
{
	long long left = n->deadline_ms - status_now_ms();
	return left < 1 ? 1 : left > 600000 ? 600000 : (int)left;
}

/* ---- what the checks were given ---- */

void status_net_release(struct status_net *n)
{
	if (n->have_plan)
		dnsplan_release(&n->plan);
	for (size_t i = 0; i < n->ndomains; i++)
		free(n->domains[i]);
	free(n->domains);
	free(n->server_error);
	free(n->dns_error);
	free(n->zones_file);
	free(n->probe);
	free(n->mailhost);
	netaddr_list_release(&n->subjects);
	netaddr_list_release(&n->v4);
	netaddr_list_release(&n->v6);
	memset(n, 0, sizeof(*n));
}

/* ---- dns: one row per domain ---- */

/* The domain 'name' (absolute or not) is in: the longest match, else 0. */
static size_t owner_domain(const char *name, char *const *domains, size_t n)
{
	size_t best = 0, bestlen = 0, len = strlen(name);
	if (len && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < n; i++) {
		size_t dl = strlen(domains[i]);
		if (dl > len || dl <= bestlen || strncasecmp(name + len - dl, domains[i], dl) != 0)
			continue;
		if (dl == len || name[len - dl - 1] == '.')
			best = i, bestlen = dl;
	}
	return best;
}

struct dns_tally {
	size_t count[DNSCHECK_LFAIL + 1];
	const struct dnscheck_finding *worst;
};

static void dns_row(const struct dns_tally *t, struct status_row *r)
{
	size_t total = 0, bad = 0;
	for (int l = 0; l <= DNSCHECK_LFAIL; l++)
		total += t->count[l];
	const struct dnscheck_finding *f = t->worst;
	if (!f || f->level <= DNSCHECK_LINFO) {
		status_set(r, STATUS_OK, "", "%zu checks ok%s", t->count[DNSCHECK_LOK],
		           t->count[DNSCHECK_LINFO]
		               ? ", with notes ('mailctl dns check' shows them)"
		               : "");
		return;
	}
	bad = t->count[f->level];
	const char *what = f->level == DNSCHECK_LFAIL   ? "fail"
	                   : f->level == DNSCHECK_LTEMP ? "could not be checked"
	                                                : "warn";
	char more[64] = "";
	if (bad > 1)
		snprintf(more, sizeof(more), " (and %zu more)", bad - 1);
	status_set(r, f->level == DNSCHECK_LFAIL ? STATUS_ERROR : STATUS_WARNING,
	           *f->fix ? f->fix : "see 'mailctl dns check'",
	           "%zu of %zu checks %s: %s %s %s%s%s%s", bad, total, what, f->type, f->name,
	           dnscheck_status_name(f->status), *f->detail ? ": " : "", f->detail, more);
}

void status_eval_dns(const struct dnscheck_report *rep, char *const *domains, size_t n,
                     struct status_row *out)
{
	struct dns_tally *t = xcalloc(n + 1, sizeof(*t));
	for (size_t i = 0; i < rep->n; i++) {
		const struct dnscheck_finding *f = &rep->v[i];
		struct dns_tally *d = &t[owner_domain(f->name, domains, n)];
		d->count[f->level]++;
		if (!d->worst || f->level > d->worst->level)
			d->worst = f;
	}
	for (size_t i = 0; i < n; i++)
		dns_row(&t[i], &out[i]);
	free(t);
}

void status_net_dns(const struct status_net *n, struct status_row *out)
{
	struct dnscheck_report rep = {0};
	struct mc_error err;
	if (dnscheck_run(&n->plan.in, &n->server, status_remaining_ms(n), &rep, &err) < 0) {
		for (size_t i = 0; i < n->ndomains; i++)
			status_set(&out[i], STATUS_WARNING, "", "the DNS check failed: %s",
			           err.msg);
	} else {
		status_eval_dns(&rep, n->domains, n->ndomains, out);
	}
	dnscheck_report_release(&rep);
}

/* ---- blacklist ---- */

struct bl_tally {
	size_t listed_major, listed_minor, unasked, asked;
	const struct dnsbl_result *listed, *failed;
};

void status_eval_blacklist(const struct dnsbl_report *rep, struct status_row *r)
{
	struct bl_tally t = {0};
	for (size_t i = 0; i < rep->n; i++) {
		const struct dnsbl_result *x = &rep->v[i];
		int major = x->zone->weight == DNSBL_MAJOR;
		if (x->status == DNSBL_LISTED) {
			*(major ? &t.listed_major : &t.listed_minor) += 1;
			if (!t.listed || (major && t.listed->zone->weight != DNSBL_MAJOR))
				t.listed = x;
		} else if (x->status == DNSBL_REFUSED || x->status == DNSBL_TIMEOUT ||
		           x->status == DNSBL_ERROR) {
			t.unasked++;
			t.failed = t.failed ? t.failed : x;
		}
		t.asked += x->status != DNSBL_SKIPPED;
	}
	if (t.listed) {
		size_t more = t.listed_major + t.listed_minor - 1;
		char *fix = xasprintf("ask for removal at %s once the cause is fixed",
		                      t.listed->zone->delist);
		status_set(r, t.listed_major ? STATUS_ERROR : STATUS_WARNING, fix,
		           "%s is listed on %s (%s list)%s%s%s", t.listed->subject,
		           t.listed->zone->zone, t.listed_major ? "a major" : "a minor",
		           t.listed->detail && *t.listed->detail ? ": " : "",
		           t.listed->detail ? t.listed->detail : "",
		           more ? "; and more listings" : "");
		free(fix);
		return;
	}
	if (t.unasked) {
		status_set(
		    r, STATUS_WARNING,
		    "ask a local recursive resolver (unbound), not a public or forwarding one",
		    "%zu of %zu queries could not be answered: %s on %s (%s)", t.unasked, t.asked,
		    t.failed->subject, t.failed->zone->zone, dnsbl_status_name(t.failed->status));
		return;
	}
	status_set(r, STATUS_OK, "", "not listed (%zu lookups, all clean)", t.asked);
}

void status_net_blacklist(const struct status_net *n, struct status_row *out)
{
	struct dnsbl_table t = {0};
	struct dnsbl_report rep = {0};
	struct mc_error err;
	if (dnsbl_table_load(&t, n->zones_file, &err) < 0)
		status_set(out, STATUS_WARNING, "check blacklist.zones_file", "not checked: %s",
		           err.msg);
	else if (dnsbl_check(&t, (const char *const *)n->subjects.v, n->subjects.n, &n->server,
	                     status_remaining_ms(n), &rep, &err) < 0)
		status_set(out, STATUS_WARNING, "", "not checked: %s", err.msg);
	else
		status_eval_blacklist(&rep, out);
	dnsbl_report_release(&rep);
	dnsbl_table_release(&t);
}
