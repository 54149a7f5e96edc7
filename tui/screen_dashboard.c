/*
 * Dashboard: the health of the whole server (lib/status.h, the checks of
 * 'mailctl status'), worst first, run in the background when the screen
 * opens and every REFRESH_SECONDS after the last run ended. Rows appear
 * at once as pending and fill in as each check ends; the database row on
 * top says what it holds, or why it cannot be read.
 */
#include "domain.h"
#include "job.h"
#include "list.h"
#include "status.h"
#include "tui.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_SECONDS 30

static const struct list_col cols[] = {
    {"CHECK", 9, 0},
    {"SUBJECT", 0, 10},
    {"STATUS", 7, 0},
    {"FINDING", 0, 16},
};

/* One row as the main thread keeps it. */
struct row {
	char *check, *subject, *finding, *fix;
	enum status_level level;
};

struct rows {
	struct row *v;
	size_t n, alloc;
};

static struct list lst;
static struct job job;
static int ready, dirty;
static struct rows shown, snap; /* 'snap' is written by the job, under 'lock' */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct row db_row;
static time_t ended;
static char updated[16], *host;
static struct mc_ctx job_ctx;

static const enum role level_role[] = {
    [STATUS_PENDING] = ROLE_DIM,  [STATUS_SKIPPED] = ROLE_DIM, [STATUS_OK] = ROLE_OK,
    [STATUS_WARNING] = ROLE_WARN, [STATUS_ERROR] = ROLE_FAIL,
};
/* Sort order, worst first: errors, warnings, pending, ok, skipped. */
static const int level_rank[] = {
    [STATUS_ERROR] = 0, [STATUS_WARNING] = 1, [STATUS_PENDING] = 2,
    [STATUS_OK] = 3,    [STATUS_SKIPPED] = 4,
};

static void rows_clear(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].check);
		free(r->v[i].subject);
		free(r->v[i].finding);
		free(r->v[i].fix);
	}
	r->n = 0;
}

static void rows_add(struct rows *r, const char *check, const char *subject, enum status_level lv,
                     const char *finding, const char *fix)
{
	r->v = xgrow(r->v, &r->alloc, r->n + 1, sizeof(*r->v));
	r->v[r->n++] =
	    (struct row){xstrdup(check), xstrdup(subject), xstrdup(finding), xstrdup(fix), lv};
}

/* From the thread running status_run(): keep a copy for the screen. */
static void on_progress(const struct status_report *rep, size_t i, void *arg)
{
	(void)i;
	(void)arg;
	pthread_mutex_lock(&lock);
	rows_clear(&snap);
	for (size_t k = 0; k < rep->n; k++)
		rows_add(&snap, rep->v[k].check, rep->v[k].subject, rep->v[k].level,
		         rep->v[k].finding, rep->v[k].fix);
	dirty = 1;
	pthread_mutex_unlock(&lock);
	tui_wake();
}

static int status_job(struct job *j)
{
	struct status_report rep;
	struct mc_ctx *ctx = j->arg;
	int rc = status_run(ctx, 0, 0, &rep, on_progress, NULL, &j->err);
	if (rc == 0) {
		on_progress(&rep, 0, NULL);
		status_report_release(&rep);
	}
	return rc;
}

/* The database row, from the main thread: what it holds or why not. */
static void check_database(struct tui *t, struct mc_ctx *ctx)
{
	struct mc_error err;
	struct domain_list doms = {0};
	free(db_row.finding);
	free(db_row.fix);
	if (tui_store_open(t, ctx, NULL, &err) < 0 || domain_list(ctx, &doms, &err) < 0) {
		db_row.level = STATUS_ERROR;
		db_row.finding = xstrdup(err.msg);
		db_row.fix = xstrdup("");
		tui_store_close(ctx);
	} else {
		long long users = 0, aliases = 0;
		for (size_t i = 0; i < doms.n; i++) {
			users += doms.v[i].users;
			aliases += doms.v[i].aliases;
		}
		db_row.level = doms.n ? STATUS_OK : STATUS_WARNING;
		db_row.finding =
		    xasprintf("%zu domains, %lld users, %lld aliases", doms.n, users, aliases);
		db_row.fix = xstrdup(doms.n ? "" : "add a domain on screen 2");
	}
	domain_list_release(&doms);
}

static void add_row(const struct row *r, size_t idx)
{
	char key[32];
	snprintf(key, sizeof(key), "%s/%s", r->check, r->subject);
	const char *level = r->level == STATUS_PENDING ? "..." : status_level_name(r->level);
	char *subject = tui_unicode(r->subject);
	const char *cells[] = {r->check, subject, level, r->finding};
	size_t k = list_add_row(&lst, key, cells);
	free(subject);
	lst.v[k].role = level_role[r->level];
	lst.v[k].role_col = 2;
	(void)idx;
}

/* Rows worst first; within a level in report order. */
static void rebuild(void)
{
	char *keep = list_selected_key(&lst) ? xstrdup(list_selected_key(&lst)) : NULL;
	list_clear(&lst);
	for (int rank = 0; rank <= 4; rank++) {
		if (db_row.check && level_rank[db_row.level] == rank)
			add_row(&db_row, 0);
		for (size_t i = 0; i < shown.n; i++)
			if (level_rank[shown.v[i].level] == rank)
				add_row(&shown.v[i], i);
	}
	list_refilter(&lst, keep);
	free(keep);
}

/* Start a run: the database row now, the checks in the background. */
static void refresh_now(struct tui *t)
{
	struct tm tm;
	time_t now = time(NULL);
	if (job.running)
		return;
	localtime_r(&now, &tm);
	strftime(updated, sizeof(updated), "%H:%M:%S", &tm);
	tui_store_close(&job_ctx);
	check_database(t, &job_ctx); /* leaves the store open for the checks */
	if (job_start(&job, status_job, &job_ctx) < 0) {
		struct mc_error err;
		mc_fail(&err, MC_EINTERNAL, "cannot start the status checks");
		tui_error(t, &err);
	}
	rebuild();
}

static void enter(struct tui *t)
{
	if (!ready) {
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]), "");
		job_init(&job);
		db_row.check = xstrdup("database");
		db_row.subject = xstrdup(t->cfg.database);
		host =
		    xstrdup(t->cfg.hostname && *t->cfg.hostname ? t->cfg.hostname : "this server");
		ready = 1;
	}
	refresh_now(t);
}

static void draw(struct tui *t, int top, int rows)
{
	char line[512];
	size_t n[STATUS_ERROR + 1] = {0};
	(void)t;
	for (size_t i = 0; i < shown.n; i++)
		n[shown.v[i].level]++;
	n[db_row.level]++;
	snprintf(line, sizeof(line), "Status of %s at %s: %zu errors, %zu warnings%s", host,
	         updated, n[STATUS_ERROR], n[STATUS_WARNING], job.running ? ", checking..." : "");
	tui_fill(top, 0, ROLE_NORMAL);
	tui_put(top, 0, COLS, ROLE_NORMAL, line);
	list_draw(&lst, top + 1, rows - 1);
}

/* Take the job's latest rows; after a run, close its store. */
static int tick(struct tui *t)
{
	int changed = 0;
	if (!ready)
		return 0;
	pthread_mutex_lock(&lock);
	if (dirty) {
		rows_clear(&shown);
		for (size_t i = 0; i < snap.n; i++)
			rows_add(&shown, snap.v[i].check, snap.v[i].subject, snap.v[i].level,
			         snap.v[i].finding, snap.v[i].fix);
		dirty = 0;
		changed = 1;
	}
	pthread_mutex_unlock(&lock);
	if (job_done(&job)) {
		if (job_finish(&job) < 0)
			tui_error(t, &job.err);
		tui_store_close(&job_ctx);
		ended = time(NULL);
		changed = 1;
	}
	if (changed)
		rebuild();
	if (!job.running && t->current == tui_screen_index("Dashboard") &&
	    time(NULL) - ended >= REFRESH_SECONDS) {
		refresh_now(t);
		changed = 1;
	}
	return changed;
}

static void show(struct tui *t)
{
	long i = list_selected(&lst);
	if (i < 0)
		return;
	const char *key = lst.v[i].key;
	const char *fix = db_row.fix;
	for (size_t k = 0; k < shown.n; k++) {
		char *name = xasprintf("%s/%s", shown.v[k].check, shown.v[k].subject);
		if (!strcmp(name, key))
			fix = shown.v[k].fix;
		free(name);
	}
	char *text = xasprintf("%s %s: %s\n%s%s%s", lst.v[i].cell[0], lst.v[i].cell[1],
	                       lst.v[i].cell[2], lst.v[i].cell[3], *fix ? "\n\nfix: " : "", fix);
	tui_box(t, "Check", text);
	free(text);
}

static int act(struct tui *t, enum action a)
{
	switch (a) {
	case ACT_RELOAD:
	case ACT_CHECK:
		refresh_now(t);
		return 1;
	case ACT_OPEN:
		show(t);
		return 1;
	default:
		return list_act(&lst, a, LINES - 4);
	}
}

static void release(void)
{
	if (!ready)
		return;
	job_release(&job);
	tui_store_close(&job_ctx);
	list_release(&lst);
	rows_clear(&shown);
	rows_clear(&snap);
	free(shown.v);
	free(snap.v);
	free(db_row.check);
	free(db_row.subject);
	free(db_row.finding);
	free(db_row.fix);
	free(host);
}

static const enum action actions[] = {ACT_CHECK, ACT_OPEN, ACT_NONE};

const struct screen screen_dashboard = {
    "Dashboard", "the server's health ('mailctl status'), worst first, refreshed every 30 s",
    actions,     enter,
    draw,        act,
    NULL,        tick,
    release,     NULL,
    NULL,
};
