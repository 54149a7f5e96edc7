/*
 * Log: the tail of the mail log (paths.mail_log, lib/maillog.h), new
 * lines added as they are written, also across log rotation. While the
 * last line is selected the view follows new lines; moving up stops it,
 * End follows again. The filter, typed live, keeps the lines about an
 * address or a queue id together with every line of the messages they
 * touch (maillog_trace()), so one address shows each step of its mail.
 */
#include "list.h"
#include "maillog.h"
#include "tui.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAIL_BYTES (256 * 1024)
#define MAX_LINES  5000
#define DROP_LINES 1000 /* dropped at once when MAX_LINES is passed */

static struct list_col cols[] = {{"", 0, 10}};

static struct list lst;
static struct maillog ml;
static struct maillog_lines lines;
static unsigned long long first_seq; /* of lines.v[0] */
static unsigned char *keep;          /* the filter's verdict per line */
static int ready, failing;
static char empty_text[1200];

/* Colour by what happened: bounces and rejects, deferrals and warnings,
 * deliveries. */
static enum role line_role(const char *s)
{
	if (strstr(s, "status=bounced") || strstr(s, " reject: ") || strstr(s, " fatal: ") ||
	    strstr(s, " panic: ") || strstr(s, " error: "))
		return ROLE_FAIL;
	if (strstr(s, "status=deferred") || strstr(s, " warning: "))
		return ROLE_WARN;
	if (strstr(s, "status=sent"))
		return ROLE_OK;
	return ROLE_NORMAL;
}

static void add_row(size_t i)
{
	char key[32];
	snprintf(key, sizeof(key), "%llu", first_seq + i);
	const char *cells[] = {lines.v[i]};
	size_t k = list_add_row(&lst, key, cells);
	lst.v[k].role = line_role(lines.v[i]);
}

static void prepare(struct list *l)
{
	free(keep);
	keep = xcalloc(lines.n + 1, 1);
	maillog_trace((const char *const *)lines.v, lines.n, l->filter, keep);
}

static int match(const struct list *l, size_t i)
{
	(void)l;
	return i < lines.n && keep[i];
}

/* Forget the oldest lines past MAX_LINES; rows are made again. */
static void trim(void)
{
	if (lines.n <= MAX_LINES)
		return;
	size_t drop = lines.n - MAX_LINES + DROP_LINES;
	for (size_t i = 0; i < drop; i++)
		free(lines.v[i]);
	memmove(lines.v, lines.v + drop, (lines.n - drop) * sizeof(*lines.v));
	lines.n -= drop;
	first_seq += drop;
	list_clear(&lst);
	for (size_t i = 0; i < lines.n; i++)
		add_row(i);
}

static int following(void)
{
	return !lst.nshown || lst.sel + 1 >= lst.nshown;
}

/* Rows for lines from 'from' on; the view stays at the end when it was. */
static void show_new(size_t from)
{
	int follow = following();
	const char *key = list_selected_key(&lst);
	char *k = key ? xstrdup(key) : NULL;
	if (lst.n > lines.n || from < lst.n) {
		list_clear(&lst);
		from = 0;
	}
	for (size_t i = from; i < lines.n; i++)
		add_row(i);
	trim();
	list_refilter(&lst, k);
	if (follow && lst.nshown)
		lst.sel = lst.nshown - 1;
	free(k);
}

/* A failure is said once, not at every poll. */
static void failed(struct tui *t, const struct mc_error *err)
{
	if (!failing)
		tui_error(t, err);
	failing = 1;
	snprintf(empty_text, sizeof(empty_text), "%s", err->msg);
}

static void enter(struct tui *t)
{
	struct mc_error err;
	if (ready)
		return;
	cols[0].title = t->cfg.mail_log;
	list_init(&lst, cols, 1, empty_text);
	lst.prepare = prepare;
	lst.match = match;
	snprintf(empty_text, sizeof(empty_text), "the log is empty");
	ready = 1;
	if (maillog_open(&ml, t->cfg.mail_log, TAIL_BYTES, &lines, &err) < 0)
		failed(t, &err);
	show_new(0);
}

static void draw(struct tui *t, int top, int rows)
{
	char line[300];
	(void)t;
	if (lst.filtering || lst.filter[0]) {
		list_caption(&lst, top, "Mail log lines");
	} else {
		snprintf(line, sizeof(line), "Mail log: %zu lines, %s", lst.n,
		         following() ? "following new ones" : "paused (End follows new lines)");
		tui_fill(top, 0, ROLE_NORMAL);
		tui_put(top, 0, COLS, ROLE_NORMAL, line);
	}
	list_draw(&lst, top + 1, rows - 1);
}

static int tick(struct tui *t)
{
	struct mc_error err;
	int restarted;
	if (!ready || t->current != tui_screen_index("Log"))
		return 0;
	size_t before = lines.n;
	int n = maillog_poll(&ml, &lines, &restarted, &err);
	if (n < 0) {
		failed(t, &err);
		return 0;
	}
	if (failing) { /* readable again: its error goes */
		failing = 0;
		if (!strcmp(t->message, empty_text))
			t->message[0] = '\0';
		snprintf(empty_text, sizeof(empty_text), "the log is empty");
	}
	if (restarted)
		tui_message(t, "the log was rotated: following '%s' from its start", ml.path);
	if (n > 0 || restarted)
		show_new(before);
	return n > 0 || restarted;
}

static void show(struct tui *t)
{
	long i = list_selected(&lst);
	if (i >= 0)
		tui_box(t, "Log line", lst.v[i].cell[0]);
}

static void copy(struct tui *t)
{
	long i = list_selected(&lst);
	if (i < 0) {
		tui_message(t, "no line selected");
		return;
	}
	tui_copy(lst.v[i].cell[0]);
	tui_message(t, "copied the line (%zu bytes) to the clipboard", strlen(lst.v[i].cell[0]));
}

static void follow(struct tui *t)
{
	tick(t);
}

static const struct list_handler handlers[] = {
    {ACT_OPEN, show},
    {ACT_COPY, copy},
    {ACT_RELOAD, follow},
    {ACT_NONE, NULL},
};

static void release(void)
{
	if (!ready)
		return;
	maillog_close(&ml);
	maillog_lines_release(&lines);
	list_release(&lst);
	free(keep);
}

static const enum action actions[] = {ACT_OPEN, ACT_COPY, ACT_NONE};

const struct screen screen_log = {
    "Log",    "the mail log as it grows; filter by address or queue id",
    actions,  enter,
    draw,     NULL,
    NULL,     tick,
    release,  &lst,
    handlers,
};
