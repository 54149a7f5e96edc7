/*
 * Aliases: forwarding addresses and catch-alls; add (a source and one or
 * more targets) and delete, through lib/alias.h as 'mailctl alias' does.
 * The required postmaster@ and abuse@ are marked; deleting them is
 * refused by the library with its own message.
 */
#include "alias.h"
#include "list.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct list_col cols[] = {
    {"SOURCE", 0, 16},
    {"TARGETS", 0, 16},
    {"REQUIRED", 8, 0},
    {"CREATED", 10, 0},
};
static struct list lst;
static struct alias_list aliases;
static int ready;

static void load(struct tui *t, const char *keep)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *k = keep ? xstrdup(keep) : NULL;
	if (!ready)
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]), "no aliases");
	ready = 1;
	list_clear(&lst);
	alias_list_release(&aliases);
	memset(&aliases, 0, sizeof(aliases));
	if (tui_store_open(t, &ctx, NULL, &err) < 0 || alias_list(&ctx, NULL, &aliases, &err) < 0)
		tui_error(t, &err);
	tui_store_close(&ctx);
	for (size_t i = 0; i < aliases.n; i++) {
		const struct alias_row *a = &aliases.v[i];
		struct strbuf targets = STRBUF_INIT;
		for (size_t j = 0; j < a->ntargets; j++) {
			char *u = tui_unicode(a->targets[j]);
			strbuf_addf(&targets, "%s%s", j ? ", " : "", u);
			free(u);
		}
		char date[11], *src = tui_unicode(a->source);
		snprintf(date, sizeof(date), "%s", a->created);
		const char *cells[] = {src, targets.buf, a->required ? "yes" : "", date};
		list_add_row(&lst, a->source, cells);
		strbuf_release(&targets);
		free(src);
	}
	list_refilter(&lst, k);
	free(k);
}

static void enter(struct tui *t)
{
	load(t, list_selected_key(&lst));
}

static void draw(struct tui *t, int top, int rows)
{
	(void)t;
	list_caption(&lst, top, "Aliases");
	list_draw(&lst, top + 1, rows - 1);
}

/* Split "a@x, b@y c@z" into words (pointers into 's', which is cut). */
static size_t split_targets(char *s, char **out, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(s, ", \t"); tok && n < max; tok = strtok(NULL, ", \t"))
		out[n++] = tok;
	return n;
}

static void add(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *targets[64], *canon = NULL, *to = NULL;
	char *source = tui_prompt(t, "Alias address (or @domain for a catch-all):", NULL);
	int rc = -1;
	if (source && *source)
		to = tui_prompt(t, "Forward to (addresses, separated by spaces or commas):", NULL);
	size_t n = to ? split_targets(to, targets, 64) : 0;
	if (n) {
		if (tui_store_open(t, &ctx, "alias add", &err) == 0)
			rc = alias_add(&ctx, source, (const char *const *)targets, n, &canon, &err);
		tui_store_close(&ctx);
		load(t, canon);
		if (rc < 0)
			tui_error(t, &err);
		else if (rc > 0)
			tui_message(t, "alias '%s' already forwards to these; nothing changed",
			            canon);
		else
			tui_message(t, "alias '%s' now forwards to the given address(es)", canon);
	}
	free(canon);
	free(source);
	free(to);
}

static void del(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	const char *key = list_selected_key(&lst);
	int rc = -1;
	if (!key) {
		tui_message(t, "no alias selected");
		return;
	}
	char *source = xstrdup(key), *q = xasprintf("Delete alias '%s'?", source);
	if (tui_confirm(t, q)) {
		if (tui_store_open(t, &ctx, "alias del", &err) == 0)
			rc = alias_del(&ctx, source, NULL, &err);
		tui_store_close(&ctx);
		load(t, NULL);
		if (rc < 0)
			tui_error(t, &err);
		else
			tui_message(t, "deleted alias '%s'", source);
	}
	free(source);
	free(q);
}

static void show(struct tui *t)
{
	long i = list_selected(&lst);
	if (i < 0)
		return;
	const struct alias_row *a = &aliases.v[i];
	struct strbuf text = STRBUF_INIT;
	strbuf_addf(&text, "source: %s\nrequired: %s\ncreated: %s\ntargets:", lst.v[i].cell[0],
	            a->required ? "yes" : "no", a->created);
	for (size_t j = 0; j < a->ntargets; j++)
		strbuf_addf(&text, "\n  %s", a->targets[j]);
	tui_box(t, "Alias", text.buf);
	strbuf_release(&text);
}

/* Load again, keeping the selection. */
static void reload(struct tui *t)
{
	load(t, list_selected_key(&lst));
}

static const struct list_handler handlers[] = {
    {ACT_ADD, add}, {ACT_DELETE, del}, {ACT_OPEN, show}, {ACT_RELOAD, reload}, {ACT_NONE, NULL},
};

static void release(void)
{
	list_release(&lst);
	alias_list_release(&aliases);
}

static const enum action actions[] = {ACT_ADD, ACT_DELETE, ACT_OPEN, ACT_NONE};

const struct screen screen_aliases = {
    "Aliases", "forwarding addresses and catch-alls: add, delete",
    actions,   enter,
    draw,      NULL,
    NULL,      NULL,
    release,   &lst,
    handlers,
};
