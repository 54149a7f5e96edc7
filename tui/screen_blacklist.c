/*
 * Blacklist: the server's addresses and domains (dnsbl_subjects_default(),
 * as 'mailctl blacklist check' asks about them) against every DNS
 * blocklist of blacklist.zones_file, checked in the background when the
 * screen first opens and again on request, worst first: listed, could not
 * be asked (refused, timeout, error), clean, skipped. A line under the
 * list names the selected list's delisting page, which a key copies to
 * the clipboard (OSC 52). Another key switches to the stored history:
 * each change mailctld's monitoring found, newest first.
 */
#include "dnsbl.h"
#include "dnsbl_monitor.h"
#include "job.h"
#include "list.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_ROWS 500

static const struct list_col live_cols[] = {
    {"SUBJECT", 16, 0},
    {"LIST", 20, 0},
    {"RESULT", 8, 0},
    {"DETAIL", 0, 12},
};
/* CHECKED shows the minute; Enter shows the second. */
static const struct list_col hist_cols[] = {
    {"CHECKED", 16, 0}, {"SUBJECT", 16, 0}, {"LIST", 18, 0}, {"RESULT", 8, 0}, {"DETAIL", 0, 10},
};

/* What a check works on; the thread owns it until it finishes, then the
 * screen keeps the last one shown. */
struct bl_work {
	const struct config *cfg;
	struct netaddr_list subjects;
	struct dnsbl_table table;
	struct dnsbl_report rep;
	struct dnsq_server server;
	long ms;
	char started[16];
};

static struct list live, hist;
static struct job job;
static struct bl_work *work, *done;   /* running; last finished */
static struct dnsbl_table hist_table; /* for the history's delisting pages */
static struct blacklist_list history;
static int ready, show_history;
static char progress_shown[256]; /* on the status line, to clear when done */

static int bl_job(struct job *j)
{
	struct bl_work *w = j->arg;
	struct timespec t0, t1;
	job_progress(j, "loading the blocklist table...");
	if (dnsbl_table_load(&w->table, w->cfg->dnsbl_file, &j->err) < 0 ||
	    dnsq_server_choose(w->cfg->dns_resolver, &w->server, &j->err) < 0)
		return -1;
	job_progress(j, "asking %zu blocklists about %zu subjects through %s...", w->table.n,
	             w->subjects.n, w->server.text);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = dnsbl_check(&w->table, (const char *const *)w->subjects.v, w->subjects.n,
	                     &w->server, 0, &w->rep, &j->err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	w->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	return rc;
}

static void work_free(struct bl_work *w)
{
	if (!w)
		return;
	dnsbl_report_release(&w->rep);
	dnsbl_table_release(&w->table);
	netaddr_list_release(&w->subjects);
	free(w);
}

/* Worst first: listed, not asked, clean, skipped. */
static int rank(enum dnsbl_status s)
{
	switch (s) {
	case DNSBL_LISTED:
		return 0;
	case DNSBL_REFUSED:
	case DNSBL_TIMEOUT:
	case DNSBL_ERROR:
		return 1;
	case DNSBL_CLEAN:
		return 2;
	default:
		return 3;
	}
}

static enum role status_role(const char *status)
{
	if (!strcmp(status, "listed"))
		return ROLE_FAIL;
	if (!strcmp(status, "clean"))
		return ROLE_OK;
	if (!strcmp(status, "skipped"))
		return ROLE_DIM;
	return ROLE_WARN;
}

static void rebuild_live(void)
{
	char *keep = list_selected_key(&live) ? xstrdup(list_selected_key(&live)) : NULL;
	list_clear(&live);
	for (int k = 0; done && k <= 3; k++)
		for (size_t i = 0; i < done->rep.n; i++) {
			const struct dnsbl_result *r = &done->rep.v[i];
			if (rank(r->status) != k)
				continue;
			char key[32], *detail = dnsbl_result_detail(r);
			snprintf(key, sizeof(key), "r%zu", i);
			const char *cells[] = {r->subject, r->zone->zone,
			                       dnsbl_status_name(r->status), detail};
			size_t n = list_add_row(&live, key, cells);
			live.v[n].role = status_role(cells[2]);
			live.v[n].role_col = 2;
			free(detail);
		}
	list_refilter(&live, keep);
	free(keep);
}

/* Load the stored changes (the database, from the main thread). */
static void load_history(struct tui *t)
{
	struct mc_ctx ctx;
	struct mc_error err;
	blacklist_list_release(&history);
	memset(&history, 0, sizeof(history));
	list_clear(&hist);
	dnsbl_table_release(&hist_table);
	memset(&hist_table, 0, sizeof(hist_table));
	int rc = tui_store_open(t, &ctx, NULL, &err);
	if (rc == 0)
		rc = store_blacklist_history(ctx.st, NULL, 1, HISTORY_ROWS, &history, &err);
	tui_store_close(&ctx);
	if (rc == 0 && dnsbl_table_load(&hist_table, t->cfg.dnsbl_file, &err) < 0)
		rc = -1;
	if (rc < 0)
		tui_error(t, &err);
	for (size_t i = 0; i < history.n; i++) {
		const struct blacklist_row *r = &history.v[i];
		char key[32];
		snprintf(key, sizeof(key), "h%zu", i);
		const char *cells[] = {r->checked, r->subject, r->zone, r->status, r->detail};
		size_t n = list_add_row(&hist, key, cells);
		hist.v[n].role = status_role(r->status);
		hist.v[n].role_col = 3;
	}
	list_refilter(&hist, NULL);
}

/* Start a check unless one runs: subjects from the database now, the
 * table, the resolver and the queries in the background. */
static void start_check(struct tui *t)
{
	struct mc_ctx ctx;
	struct mc_error err;
	struct tm tm;
	time_t now = time(NULL);
	if (job.running)
		return;
	work = xcalloc(1, sizeof(*work));
	work->cfg = &t->cfg;
	localtime_r(&now, &tm);
	strftime(work->started, sizeof(work->started), "%H:%M:%S", &tm);
	int rc = tui_store_open(t, &ctx, NULL, &err);
	if (rc == 0)
		rc = dnsbl_subjects_default(&ctx, &work->subjects, &err);
	tui_store_close(&ctx);
	if (rc == 0 && job_start(&job, bl_job, work) < 0)
		rc = mc_fail(&err, MC_EINTERNAL, "cannot start the blocklist check");
	if (rc < 0) {
		tui_error(t, &err);
		work_free(work);
		work = NULL;
	}
}

static void enter(struct tui *t)
{
	if (!ready) {
		list_init(&live, live_cols, sizeof(live_cols) / sizeof(live_cols[0]),
		          "no result yet: r checks");
		list_init(&hist, hist_cols, sizeof(hist_cols) / sizeof(hist_cols[0]),
		          "no change stored yet: mailctld checks every blacklist.interval_hours");
		job_init(&job);
		ready = 1;
		start_check(t);
	}
	if (show_history)
		load_history(t);
}

/* The summary above the list, or the filter while one is set. */
static void draw_head(int y)
{
	struct list *l = show_history ? &hist : &live;
	char line[512];
	if (l->filtering || l->filter[0]) {
		list_caption(l, y, show_history ? "Changes" : "Results");
		return;
	}
	if (show_history) {
		snprintf(line, sizeof(line),
		         "Blocklist history: %zu changes found by mailctld, "
		         "newest first (h: the live check)",
		         history.n);
	} else if (!done) {
		snprintf(line, sizeof(line), "Blocklist check%s",
		         job.running ? ": checking..." : "");
	} else {
		size_t n[DNSBL_SKIPPED + 1] = {0};
		for (size_t i = 0; i < done->rep.n; i++)
			n[done->rep.v[i].status]++;
		snprintf(line, sizeof(line),
		         "Blocklists at %s: %zu listed, %zu not asked, %zu clean, %zu skipped; %zu "
		         "queries to %s in %ld ms%s",
		         done->started, n[DNSBL_LISTED],
		         n[DNSBL_REFUSED] + n[DNSBL_TIMEOUT] + n[DNSBL_ERROR], n[DNSBL_CLEAN],
		         n[DNSBL_SKIPPED], done->rep.queries, done->server.text, done->ms,
		         job.running ? ", checking..." : "");
	}
	tui_fill(y, 0, ROLE_NORMAL);
	tui_put(y, 0, COLS, ROLE_NORMAL, line);
}

/* The selected row's list: its zone name and table entry (may be NULL). */
static const struct dnsbl_zone *selected_zone(const char **name)
{
	const char *key = list_selected_key(show_history ? &hist : &live);
	*name = NULL;
	if (!key)
		return NULL;
	size_t i = strtoul(key + 1, NULL, 10);
	if (key[0] == 'r') {
		*name = done->rep.v[i].zone->zone;
		return done->rep.v[i].zone;
	}
	*name = history.v[i].zone;
	for (size_t z = 0; z < hist_table.n; z++)
		if (!strcmp(hist_table.v[z].zone, *name))
			return &hist_table.v[z];
	return NULL;
}

static void draw(struct tui *t, int top, int rows)
{
	const char *name;
	(void)t;
	draw_head(top);
	list_draw(show_history ? &hist : &live, top + 1, rows - 2);
	const struct dnsbl_zone *z = selected_zone(&name);
	char *line = z      ? xasprintf("%s - delisting: %s (y copies it)", z->zone, z->delist)
	             : name ? xasprintf("%s is no longer in the table", name)
	                    : xstrdup("");
	tui_fill(top + rows - 1, 0, ROLE_NORMAL);
	tui_put(top + rows - 1, 0, COLS, ROLE_DIM, line);
	free(line);
}

/* The check's words for the resolver, as 'mailctl blacklist check'. */
static void public_resolver_warning(struct tui *t, const struct dnsq_server *s)
{
	const char *who = dnsbl_public_resolver(s);
	if (who)
		tui_message(
		    t,
		    "warning: resolver %s is %s's public resolver, which DNS blocklists "
		    "refuse: use a local recursive resolver (the unbound install.sh sets up, "
		    "dns.resolver: 127.0.0.1)",
		    s->text, who);
}

static int tick(struct tui *t)
{
	if (!ready || !job.running)
		return 0;
	if (!job_done(&job)) {
		job_progress_get(&job, progress_shown, sizeof(progress_shown));
		if (t->current == tui_screen_index("Blacklist") && !t->message_error)
			tui_message(t, "%s", progress_shown);
		return 1;
	}
	if (!strcmp(t->message, progress_shown))
		t->message[0] = '\0';
	if (job_finish(&job) < 0) {
		tui_error(t, &job.err);
		work_free(work);
	} else {
		work_free(done);
		done = work;
		public_resolver_warning(t, &done->server);
		rebuild_live();
	}
	work = NULL;
	return 1;
}

static void show(struct tui *t)
{
	const char *name;
	const struct dnsbl_zone *z = selected_zone(&name);
	long i = list_selected(show_history ? &hist : &live);
	struct strbuf text = STRBUF_INIT;
	if (i < 0)
		return;
	const struct list_row *r = &(show_history ? &hist : &live)->v[i];
	if (show_history)
		strbuf_addf(&text, "checked %s\n", r->cell[0]);
	strbuf_addf(&text, "%s on %s: %s\n%s\n", r->cell[show_history + 0],
	            r->cell[show_history + 1], r->cell[show_history + 2],
	            r->cell[show_history + 3]);
	if (z)
		strbuf_addf(&text, "\n%s list: %s\ndelisting: %s",
		            z->weight == DNSBL_MAJOR ? "major" : "minor", z->why ? z->why : "",
		            z->delist);
	tui_box(t, name ? name : "Blocklist", text.buf);
	strbuf_release(&text);
}

static void copy(struct tui *t)
{
	const char *name;
	const struct dnsbl_zone *z = selected_zone(&name);
	if (!z || !z->delist || !*z->delist) {
		tui_message(t, name ? "no delisting page known for %s" : "no list selected",
		            name ? name : "");
		return;
	}
	tui_copy(z->delist);
	tui_message(t, "copied the delisting page of %s (%s) to the clipboard", z->zone, z->delist);
}

static int act(struct tui *t, enum action a)
{
	switch (a) {
	case ACT_OPEN:
		show(t);
		return 1;
	case ACT_COPY:
		copy(t);
		return 1;
	case ACT_CHECK:
		start_check(t);
		return 1;
	case ACT_RELOAD:
		if (show_history)
			load_history(t);
		else
			start_check(t);
		return 1;
	case ACT_HISTORY:
		show_history = !show_history;
		if (show_history)
			load_history(t);
		return 1;
	default:
		return list_act(show_history ? &hist : &live, a, LINES - 5);
	}
}

static int key(struct tui *t, int ch, int fkey)
{
	(void)t;
	return list_key(show_history ? &hist : &live, ch, fkey);
}

static void release(void)
{
	if (!ready)
		return;
	job_release(&job);
	work_free(work);
	work_free(done);
	dnsbl_table_release(&hist_table);
	blacklist_list_release(&history);
	list_release(&live);
	list_release(&hist);
}

static const enum action actions[] = {ACT_CHECK, ACT_HISTORY, ACT_COPY, ACT_OPEN, ACT_NONE};

const struct screen screen_blacklist = {
    "Blacklist", "the server's addresses and domains on DNS blocklists; history",
    actions,     enter,
    draw,        act,
    key,         tick,
    release,     NULL,
    NULL,
};
