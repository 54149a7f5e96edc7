/*
 * Queue: Postfix's mail queue (lib/mailqueue.h: postqueue -j), oldest
 * first, listed in the background when the screen opens and every
 * REFRESH_SECONDS while it is shown. Enter shows a message as postcat
 * prints it, in a pager; one key retries the selected message, another
 * the whole queue; delete asks first, then postsuper removes the message
 * for good. Every operation runs on the job thread, one at a time, and
 * the list is read again after a change.
 */
#include "job.h"
#include "list.h"
#include "mailqueue.h"
#include "pager.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_SECONDS 10

static const struct list_col cols[] = {
    {"ID", 12, 0},   {"QUEUE", 8, 0}, {"AGE", 5, 0},    {"SIZE", 6, 0},
    {"FROM", 0, 10}, {"TO", 0, 10},   {"REASON", 0, 8},
};

enum op { OP_LIST, OP_SHOW, OP_FLUSH, OP_FLUSH_ALL, OP_DELETE };

/* One operation on the job thread, and what it brought back. */
struct q_work {
	enum op op;
	const struct config *cfg;
	char *id;
	struct mailqueue q; /* OP_LIST */
	struct strbuf text; /* OP_SHOW */
	int truncated;
	int quiet; /* a refresh: no progress on the status line */
};

static struct list lst;
static struct job job;
static struct q_work *work;
static struct mailqueue queue; /* what is shown */
static struct pager pager;
static int ready, listed, list_failed;
static time_t ended;
static char updated[16];
static char progress_shown[256];  /* on the status line, to clear when done */
static char list_error[1024];     /* the last listing's failure, until one works */
static enum op pending = OP_LIST; /* asked for while a refresh ran */
static char *pending_id;

static const char *const op_doing[] = {
    [OP_LIST] = "reading the queue (postqueue -j)...",
    [OP_SHOW] = "reading the message (postcat -q)...",
    [OP_FLUSH] = "asking Postfix to retry the message (postqueue -i)...",
    [OP_FLUSH_ALL] = "asking Postfix to retry the whole queue (postqueue -f)...",
    [OP_DELETE] = "deleting the message (postsuper -d)...",
};

static int q_job(struct job *j)
{
	struct q_work *w = j->arg;
	job_progress(j, "%s", op_doing[w->op]);
	switch (w->op) {
	case OP_LIST:
		return mailqueue_list(w->cfg, &w->q, &j->err);
	case OP_SHOW:
		return mailqueue_show(w->cfg, w->id, &w->text, &w->truncated, &j->err);
	case OP_FLUSH:
	case OP_FLUSH_ALL:
		return mailqueue_flush(w->cfg, w->op == OP_FLUSH ? w->id : NULL, &j->err);
	case OP_DELETE:
		return mailqueue_delete(w->cfg, w->id, &j->err);
	}
	return 0;
}

static void work_free(struct q_work *w)
{
	if (!w)
		return;
	free(w->id);
	mailqueue_release(&w->q);
	strbuf_release(&w->text);
	free(w);
}

/* Start 'op' (on message 'id'); 'quiet' for a refresh. While a refresh
 * runs, an operation asked for waits for it; any other running
 * operation is not interrupted. */
static void start_op(struct tui *t, enum op op, const char *id, int quiet)
{
	struct mc_error err;
	if (job.running && work->op == OP_LIST && op == OP_LIST)
		return; /* a listing is on its way */
	if (job.running && work->op == OP_LIST) {
		free(pending_id);
		pending = op;
		pending_id = id ? xstrdup(id) : NULL;
		return;
	}
	if (job.running) {
		if (!quiet)
			tui_message(t, "busy: %s", op_doing[work->op]);
		return;
	}
	work = xcalloc(1, sizeof(*work));
	work->op = op;
	work->quiet = quiet;
	work->cfg = &t->cfg;
	work->id = id ? xstrdup(id) : NULL;
	strbuf_init(&work->text);
	if (job_start(&job, q_job, work) < 0) {
		mc_fail(&err, MC_EINTERNAL, "cannot start the queue operation");
		tui_error(t, &err);
		work_free(work);
		work = NULL;
	}
}

static void start(struct tui *t, enum op op, const char *id)
{
	start_op(t, op, id, 0);
}

/* "45s", "12m", "3h", "2d". */
static void age_text(time_t arrival, char buf[24])
{
	long long s = arrival ? (long long)(time(NULL) - arrival) : 0;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, 24, "%llds", s);
	else if (s < 2 * 3600)
		snprintf(buf, 24, "%lldm", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, 24, "%lldh", s / 3600);
	else
		snprintf(buf, 24, "%lldd", s / 86400);
}

static void size_text(long long n, char buf[24])
{
	if (n < 0)
		snprintf(buf, 24, "?");
	else if (n < 10000)
		snprintf(buf, 24, "%lld", n);
	else if (n < 10000 * 1024LL)
		snprintf(buf, 24, "%lldK", n / 1024);
	else
		snprintf(buf, 24, "%lldM", n / (1024 * 1024));
}

static void add_row(const struct mailqueue_msg *m)
{
	struct strbuf to = STRBUF_INIT;
	const char *reason = "";
	char age[24], size[24];
	for (size_t r = 0; r < m->nrcpt; r++) {
		strbuf_addf(&to, "%s%s", r ? ", " : "", m->rcpt[r].address);
		if (!*reason)
			reason = m->rcpt[r].reason;
	}
	age_text(m->arrival, age);
	size_text(m->size, size);
	const char *cells[] = {m->id,  m->queue, age, size, *m->sender ? m->sender : "<>",
	                       to.buf, reason};
	size_t k = list_add_row(&lst, m->id, cells);
	lst.v[k].role = !strcmp(m->queue, "deferred") ? ROLE_WARN
	                : !strcmp(m->queue, "hold")   ? ROLE_INFO
	                                              : ROLE_NORMAL;
	lst.v[k].role_col = 1;
	strbuf_release(&to);
}

/* Oldest first, as postqueue -p lists them. */
static int by_arrival(const void *a, const void *b)
{
	const struct mailqueue_msg *x = a, *y = b;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void rebuild(void)
{
	char *keep = list_selected_key(&lst) ? xstrdup(list_selected_key(&lst)) : NULL;
	list_clear(&lst);
	for (size_t i = 0; i < queue.n; i++)
		add_row(&queue.v[i]);
	lst.empty = list_failed ? "the queue could not be read: see the message below"
	            : listed    ? "the queue is empty"
	                        : "reading the queue...";
	list_refilter(&lst, keep);
	free(keep);
}

static void enter(struct tui *t)
{
	if (!ready) {
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]), "reading the queue...");
		job_init(&job);
		ready = 1;
	}
	start_op(t, OP_LIST, NULL, 1);
}

static void draw_head(int y)
{
	char line[512];
	size_t deferred = 0, hold = 0;
	if (lst.filtering || lst.filter[0]) {
		list_caption(&lst, y, "Messages");
		return;
	}
	for (size_t i = 0; i < queue.n; i++) {
		deferred += !strcmp(queue.v[i].queue, "deferred");
		hold += !strcmp(queue.v[i].queue, "hold");
	}
	if (!listed)
		snprintf(line, sizeof(line), "Mail queue%s", job.running ? ": reading..." : "");
	else
		snprintf(line, sizeof(line),
		         "Mail queue at %s: %zu message%s, %zu deferred, %zu on "
		         "hold%s%s",
		         updated, queue.n, queue.n == 1 ? "" : "s", deferred, hold,
		         queue.truncated ? " (more than listed: the output was cut at 64 KiB)" : "",
		         job.running ? "; working..." : "");
	tui_fill(y, 0, ROLE_NORMAL);
	tui_put(y, 0, COLS, ROLE_NORMAL, line);
}

static void draw(struct tui *t, int top, int rows)
{
	(void)t;
	if (pager.open) {
		pager_draw(&pager, top, rows);
		return;
	}
	draw_head(top);
	list_draw(&lst, top + 1, rows - 1);
}

/* A listing came back: show it, with Postfix's warnings when nothing
 * else is on the status line. */
static void took_list(struct tui *t, struct q_work *w)
{
	struct tm tm;
	time_t now = time(NULL);
	mailqueue_release(&queue);
	queue = w->q;
	memset(&w->q, 0, sizeof(w->q));
	if (queue.n)
		qsort(queue.v, queue.n, sizeof(*queue.v), by_arrival);
	listed = 1;
	list_failed = 0;
	if (list_error[0] && !strcmp(t->message, list_error))
		t->message[0] = '\0';
	list_error[0] = '\0';
	localtime_r(&now, &tm);
	strftime(updated, sizeof(updated), "%H:%M:%S", &tm);
	if (!t->message[0] && *queue.notes)
		tui_message(t, "%s", queue.notes);
	rebuild();
}

/* What the finished operation 'w' did, on the status line; the list is
 * read again after a change. */
static void took(struct tui *t, struct q_work *w)
{
	char *title;
	switch (w->op) {
	case OP_LIST:
		took_list(t, w);
		break;
	case OP_SHOW:
		if (w->truncated)
			strbuf_addstr(&w->text, "\n[cut at 64 KiB]");
		title = xasprintf("Queued message %s", w->id);
		pager_open(&pager, title, w->text.buf);
		free(title);
		break;
	case OP_FLUSH:
	case OP_FLUSH_ALL:
		tui_message(t,
		            w->id ? "asked Postfix to retry delivery of '%s' now"
		                  : "asked Postfix to retry delivery of the whole queue now%s",
		            w->id ? w->id : "");
		break;
	case OP_DELETE:
		tui_message(t, "deleted queued message '%s'", w->id);
		break;
	}
}

/* The operation ended: show what it did, then what comes next (the
 * operation that waited, or a fresh list after a change). */
static void finished(struct tui *t)
{
	struct q_work *w = work;
	work = NULL;
	if (progress_shown[0] && !strcmp(t->message, progress_shown))
		t->message[0] = '\0';
	progress_shown[0] = '\0';
	if (job_finish(&job) < 0) {
		tui_error(t, &job.err);
		if (w->op == OP_LIST) {
			snprintf(list_error, sizeof(list_error), "%s", t->message);
			list_failed = 1;
			mailqueue_release(&queue);
			rebuild();
		}
	} else {
		took(t, w);
	}
	enum op op = w->op;
	work_free(w);
	ended = time(NULL);
	if (pending != OP_LIST) {
		enum op next = pending;
		char *id = pending_id;
		pending = OP_LIST;
		pending_id = NULL;
		start(t, next, id);
		free(id);
	} else if (op == OP_DELETE || op == OP_FLUSH || op == OP_FLUSH_ALL) {
		start_op(t, OP_LIST, NULL, 1);
	}
}

static int tick(struct tui *t)
{
	int here = t->current == tui_screen_index("Queue");
	if (!ready)
		return 0;
	if (job.running && !job_done(&job)) {
		if (here && !work->quiet && !t->message_error) {
			job_progress_get(&job, progress_shown, sizeof(progress_shown));
			tui_message(t, "%s", progress_shown);
		}
		return 1;
	}
	if (job.running) {
		finished(t);
		return 1;
	}
	if (here && !pager.open && time(NULL) - ended >= REFRESH_SECONDS) {
		start_op(t, OP_LIST, NULL, 1);
		return 1;
	}
	return 0;
}

/* The selected message, or NULL with a word on the status line. */
static const struct mailqueue_msg *selected(struct tui *t)
{
	const char *id = list_selected_key(&lst);
	const struct mailqueue_msg *m = id ? mailqueue_find(&queue, id) : NULL;
	if (!m)
		tui_message(t, "no message selected");
	return m;
}

static void delete (struct tui *t)
{
	const struct mailqueue_msg *m = selected(t);
	if (!m)
		return;
	char *q =
	    xasprintf("Delete '%s' to %s%s for good?", m->id,
	              m->nrcpt ? m->rcpt[0].address : "nobody", m->nrcpt > 1 ? " and others" : "");
	char *id = xstrdup(m->id);
	if (tui_confirm(t, q))
		start(t, OP_DELETE, id);
	else
		tui_message(t, "kept queued message '%s'", id);
	free(id);
	free(q);
}

static void open_msg(struct tui *t)
{
	const struct mailqueue_msg *m = selected(t);
	if (m)
		start(t, OP_SHOW, m->id);
}

static void flush(struct tui *t)
{
	const struct mailqueue_msg *m = selected(t);
	if (m)
		start(t, OP_FLUSH, m->id);
}

static void flush_all(struct tui *t)
{
	start(t, OP_FLUSH_ALL, NULL);
}

static void list_again(struct tui *t)
{
	start(t, OP_LIST, NULL);
}

static const struct list_handler handlers[] = {
    {ACT_OPEN, open_msg}, {ACT_FLUSH, flush},       {ACT_FLUSH_ALL, flush_all},
    {ACT_DELETE, delete}, {ACT_RELOAD, list_again}, {ACT_NONE, NULL},
};

static int key(struct tui *t, int ch, int fkey)
{
	(void)t;
	if (pager_key(&pager, ch, fkey))
		return 1;
	return list_key(&lst, ch, fkey);
}

static void release(void)
{
	if (!ready)
		return;
	job_release(&job);
	work_free(work);
	free(pending_id);
	mailqueue_release(&queue);
	pager_close(&pager);
	list_release(&lst);
}

static const enum action actions[] = {ACT_OPEN,   ACT_FLUSH,  ACT_FLUSH_ALL,
                                      ACT_DELETE, ACT_RELOAD, ACT_NONE};

const struct screen screen_queue = {
    "Queue",  "Postfix's mail queue: show, retry or delete a message",
    actions,  enter,
    draw,     NULL,
    key,      tick,
    release,  &lst,
    handlers,
};
