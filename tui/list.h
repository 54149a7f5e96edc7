/*
 * list - the scrolling table every list screen draws: column titles, rows
 * of UTF-8 cells, a selection, and a filter typed live that keeps the rows
 * with a cell containing it (case-insensitive).
 *
 * The list owns its cells (copied in list_add_row) and frees them in
 * list_clear / list_release. Indexes given out (list_selected) are into
 * the rows as added, so they survive filtering.
 */
#ifndef MAILTUI_LIST_H
#define MAILTUI_LIST_H

#include <stddef.h>

#include "tui.h"

struct list_col {
	const char *title;
	int width; /* columns; 0 = share what is left */
	int min;   /* the narrowest a 0-width column may get */
};

struct list_row {
	char **cell;
	char *key;      /* what the row stands for (an address), owned */
	enum role role; /* colour of the row; ROLE_NORMAL usually */
	int role_col;   /* the only cell coloured with 'role'; -1: the whole row */
};

struct list {
	const struct list_col *cols;
	size_t ncols;
	struct list_row *v;
	size_t n, alloc;
	size_t *shown; /* indexes of rows matching the filter */
	size_t nshown, sel, top;
	char filter[256];
	int filtering;     /* typing into the filter */
	const char *empty; /* what to say when there is no row */
	/* A screen's own filter (NULL: a cell contains the text): prepare()
	 * runs once per refilter, then match() says whether row 'i' stays. */
	void (*prepare)(struct list *l);
	int (*match)(const struct list *l, size_t i);
};

void list_init(struct list *l, const struct list_col *cols, size_t ncols, const char *empty);
void list_clear(struct list *l);
void list_release(struct list *l);
/* Append a row of 'ncols' cells; 'key' names it (may be NULL). Returns
 * its index. */
size_t list_add_row(struct list *l, const char *key, const char *const *cells);
/* Re-apply the filter and keep the selection on the row with 'key' when
 * it is still shown. */
void list_refilter(struct list *l, const char *key);
/* The selected row's index into v[], or -1 when nothing is shown. */
long list_selected(const struct list *l);
/* The selected row's key, or NULL. */
const char *list_selected_key(const struct list *l);

/* One line at 'y': 'what', how many rows are shown of how many, and the
 * filter (with a cursor while it is typed). */
void list_caption(const struct list *l, int y, const char *what);
/* Draw in rows top..top+rows-1 (the first row is the column titles). */
void list_draw(struct list *l, int top, int rows);
/* Movement and filter actions; returns 1 when handled. */
int list_act(struct list *l, enum action a, int rows);
/* What a list screen does for one of its own actions. */
struct list_handler {
	enum action a;
	void (*fn)(struct tui *t);
};

/* What a list screen (act NULL) does: the handler of 'a' in 'h' (ended by ACT_NONE),
 * else the list's movement and filter actions (list_act() over 'rows').
 * Returns 1 when handled. */
int list_dispatch(struct list *l, const struct list_handler *h, struct tui *t, enum action a,
                  int rows);

/* Keys typed while filtering ('fkey': a curses KEY_ code, else a
 * character); returns 1 when used. */
int list_key(struct list *l, int ch, int fkey);

#endif
