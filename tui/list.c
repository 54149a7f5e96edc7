/* The table widget of the list screens; see list.h. */
#include "list.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

void list_init(struct list *l, const struct list_col *cols, size_t ncols, const char *empty)
{
	memset(l, 0, sizeof(*l));
	l->cols = cols;
	l->ncols = ncols;
	l->empty = empty;
}

void list_clear(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t c = 0; c < l->ncols; c++)
			free(l->v[i].cell[c]);
		free(l->v[i].cell);
		free(l->v[i].key);
	}
	l->n = 0;
	l->nshown = 0;
}

void list_release(struct list *l)
{
	list_clear(l);
	free(l->v);
	free(l->shown);
	l->v = NULL;
	l->shown = NULL;
	l->alloc = 0;
}

size_t list_add_row(struct list *l, const char *key, const char *const *cells)
{
	l->v = xgrow(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	struct list_row *r = &l->v[l->n];
	r->cell = xcalloc(l->ncols, sizeof(char *));
	for (size_t c = 0; c < l->ncols; c++)
		r->cell[c] = xstrdup(cells[c] ? cells[c] : "");
	r->key = key ? xstrdup(key) : NULL;
	r->role = ROLE_NORMAL;
	r->role_col = -1;
	return l->n++;
}

/* Case-insensitive substring search that keeps UTF-8 intact (strcasestr
 * folds ASCII only, which is what addresses are made of; the rest must
 * match exactly). */
static int row_matches(const struct list *l, const struct list_row *r)
{
	if (!l->filter[0])
		return 1;
	for (size_t c = 0; c < l->ncols; c++)
		if (strcasestr(r->cell[c], l->filter) || (r->key && strcasestr(r->key, l->filter)))
			return 1;
	return 0;
}

void list_refilter(struct list *l, const char *key)
{
	char *keep = key ? xstrdup(key) : NULL;
	free(l->shown);
	l->shown = xcalloc(l->n + 1, sizeof(size_t));
	l->nshown = 0;
	if (l->prepare)
		l->prepare(l);
	for (size_t i = 0; i < l->n; i++)
		if (l->match ? l->match(l, i) : row_matches(l, &l->v[i]))
			l->shown[l->nshown++] = i;
	if (l->sel >= l->nshown)
		l->sel = l->nshown ? l->nshown - 1 : 0;
	for (size_t i = 0; keep && i < l->nshown; i++)
		if (l->v[l->shown[i]].key && !strcmp(l->v[l->shown[i]].key, keep))
			l->sel = i;
	free(keep);
}

long list_selected(const struct list *l)
{
	return l->nshown ? (long)l->shown[l->sel] : -1;
}

const char *list_selected_key(const struct list *l)
{
	long i = list_selected(l);
	return i < 0 ? NULL : l->v[i].key;
}

/* Column widths for the screen width: fixed ones as asked (shrunk when
 * the screen is narrow), the rest shared by the flexible ones. */
static void widths(const struct list *l, int *w)
{
	int fixed = 0, nflex = 0, total = COLS;
	for (size_t c = 0; c < l->ncols; c++) {
		fixed += l->cols[c].width ? l->cols[c].width + 1 : 0;
		nflex += !l->cols[c].width;
	}
	int left = total - fixed - nflex;
	for (size_t c = 0; c < l->ncols; c++) {
		if (l->cols[c].width)
			w[c] = l->cols[c].width;
		else
			w[c] = nflex ? left / nflex : 0;
		if (!l->cols[c].width && w[c] < l->cols[c].min)
			w[c] = l->cols[c].min;
	}
}

static void draw_row(const struct list *l, const struct list_row *r, int y, const int *w,
                     int selected)
{
	int x = 0;
	tui_fill(y, 0, selected ? ROLE_SELECTED : ROLE_NORMAL);
	for (size_t c = 0; c < l->ncols && x < COLS; c++) {
		enum role role = selected                                      ? ROLE_SELECTED
		                 : r->role_col < 0 || (size_t)r->role_col == c ? r->role
		                                                               : ROLE_NORMAL;
		tui_put(y, x, w[c], role, r->cell[c]);
		x += w[c] + 1;
	}
}

void list_draw(struct list *l, int top, int rows)
{
	int w[16], x = 0;
	widths(l, w);
	tui_fill(top, 0, ROLE_HEADER);
	for (size_t c = 0; c < l->ncols && x < COLS; c++) {
		tui_put(top, x, w[c], ROLE_HEADER, l->cols[c].title);
		x += w[c] + 1;
	}
	int body = rows - 1;
	if (body <= 0)
		return;
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + (size_t)body)
		l->top = l->sel - (size_t)body + 1;
	if (!l->nshown)
		tui_put(top + 1, 1, COLS - 2, ROLE_DIM,
		        l->n ? "no row matches the filter" : l->empty);
	for (int i = 0; i < body && l->top + (size_t)i < l->nshown; i++) {
		size_t k = l->top + (size_t)i;
		draw_row(l, &l->v[l->shown[k]], top + 1 + i, w, k == l->sel);
	}
}

int list_dispatch(struct list *l, const struct list_handler *h, struct tui *t, enum action a,
                  int rows)
{
	for (; h->a != ACT_NONE; h++)
		if (h->a == a) {
			h->fn(t);
			return 1;
		}
	return list_act(l, a, rows);
}

int list_act(struct list *l, enum action a, int rows)
{
	size_t page = rows > 2 ? (size_t)rows - 2 : 1, last = l->nshown ? l->nshown - 1 : 0;
	switch (a) {
	case ACT_UP:
		l->sel -= l->sel > 0;
		return 1;
	case ACT_DOWN:
		l->sel += l->sel < last;
		return 1;
	case ACT_PGUP:
		l->sel = l->sel > page ? l->sel - page : 0;
		return 1;
	case ACT_PGDN:
		l->sel = l->sel + page < last ? l->sel + page : last;
		return 1;
	case ACT_HOME:
		l->sel = 0;
		return 1;
	case ACT_END:
		l->sel = last;
		return 1;
	case ACT_FILTER:
		l->filtering = 1;
		return 1;
	default:
		return 0;
	}
}

/* Drop the last UTF-8 character of the filter. */
static void filter_backspace(char *f)
{
	size_t n = strlen(f);
	while (n > 0 && ((unsigned char)f[n - 1] & 0xC0) == 0x80)
		n--;
	f[n ? n - 1 : 0] = '\0';
}

int list_key(struct list *l, int ch, int fkey)
{
	if (!l->filtering)
		return 0;
	const char *key = list_selected_key(l);
	size_t n = strlen(l->filter);
	if (fkey && (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_NPAGE || ch == KEY_PPAGE)) {
		l->filtering = 0;
		return 0; /* move in the filtered list */
	} else if (fkey && ch == KEY_ENTER) {
		l->filtering = 0;
	} else if (fkey && ch == KEY_BACKSPACE) {
		filter_backspace(l->filter);
	} else if (fkey) {
		return 1;
	} else if (ch == 27) {
		l->filter[0] = '\0';
		l->filtering = 0;
	} else if (ch == '\n' || ch == '\r') {
		l->filtering = 0;
	} else if (ch == 127 || ch == 8) {
		filter_backspace(l->filter);
	} else if (ch >= 32 && wcwidth((wchar_t)ch) >= 0) {
		char mb[8];
		mbstate_t st;
		memset(&st, 0, sizeof(st));
		size_t k = wcrtomb(mb, (wchar_t)ch, &st);
		if (k != (size_t)-1 && n + k < sizeof(l->filter)) {
			memcpy(l->filter + n, mb, k);
			l->filter[n + k] = '\0';
		}
	} else {
		return 1;
	}
	list_refilter(l, key);
	return 1;
}

void list_caption(const struct list *l, int y, const char *what)
{
	char line[512];
	if (l->filter[0] || l->filtering)
		snprintf(line, sizeof(line), "%s: %zu of %zu  filter: %s%s", what, l->nshown, l->n,
		         l->filter, l->filtering ? "_" : "");
	else
		snprintf(line, sizeof(line), "%s: %zu", what, l->n);
	tui_fill(y, 0, ROLE_NORMAL);
	tui_put(y, 0, COLS, l->filtering ? ROLE_WARN : ROLE_NORMAL, line);
}
