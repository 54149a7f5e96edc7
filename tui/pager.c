/* A scrolling view of a long text; see pager.h. */
#include "pager.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line with tabs expanded to 8 columns and control bytes as '?'. */
static char *clean_line(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t') {
			do
				strbuf_addch(&sb, ' ');
			while (++col % 8);
			continue;
		}
		strbuf_addch(&sb, c < 0x20 || c == 0x7f ? '?' : (int)c);
		col += (c & 0xC0) != 0x80;
	}
	return strbuf_detach(&sb);
}

void pager_open(struct pager *p, const char *title, const char *text)
{
	size_t alloc = 0;
	pager_close(p);
	p->title = xstrdup(title);
	for (const char *s = text; *s;) {
		size_t len = strcspn(s, "\n");
		size_t cut = len && s[len - 1] == '\r' ? len - 1 : len;
		p->lines = xgrow(p->lines, &alloc, p->n + 1, sizeof(*p->lines));
		p->lines[p->n++] = clean_line(s, cut);
		s += len + (s[len] == '\n');
	}
	p->open = 1;
}

void pager_close(struct pager *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->title);
	memset(p, 0, sizeof(*p));
}

void pager_draw(struct pager *p, int top, int rows)
{
	char head[512];
	int body = rows - 1;
	if (body < 1)
		body = 1;
	if (p->top + (size_t)body > p->n)
		p->top = p->n > (size_t)body ? p->n - (size_t)body : 0;
	snprintf(head, sizeof(head), "%s  lines %zu-%zu of %zu  (Esc or q closes)", p->title,
	         p->n ? p->top + 1 : 0, p->top + (size_t)body < p->n ? p->top + (size_t)body : p->n,
	         p->n);
	tui_fill(top, 0, ROLE_HEADER);
	tui_put(top, 0, COLS, ROLE_HEADER, head);
	for (int i = 0; i < body && p->top + (size_t)i < p->n; i++)
		tui_put(top + 1 + i, 0, COLS, ROLE_NORMAL, p->lines[p->top + (size_t)i]);
}

/* Move by 'a'; 'page' rows per page. */
static void pager_move(struct pager *p, enum action a, size_t page)
{
	size_t last = p->n ? p->n - 1 : 0;
	if (a == ACT_UP)
		p->top -= p->top > 0;
	else if (a == ACT_DOWN)
		p->top += p->top < last;
	else if (a == ACT_PGUP)
		p->top = p->top > page ? p->top - page : 0;
	else if (a == ACT_PGDN)
		p->top = p->top + page < last ? p->top + page : last;
	else if (a == ACT_HOME)
		p->top = 0;
	else if (a == ACT_END)
		p->top = last; /* pager_draw() keeps the last page full */
}

int pager_key(struct pager *p, int ch, int fkey)
{
	if (!p->open)
		return 0;
	enum action a = keys_action(ch, fkey);
	if (a == ACT_NEXT_SCREEN || a == ACT_PREV_SCREEN || a == ACT_GOTO || a == ACT_HELP ||
	    (a == ACT_QUIT && ch != 'q'))
		return 0;
	if ((!fkey && (ch == 27 || ch == 'q' || ch == '\n' || ch == '\r')) ||
	    (fkey && ch == KEY_ENTER)) {
		pager_close(p);
		return 1;
	}
	pager_move(p, a, LINES > 6 ? (size_t)LINES - 6 : 1);
	return 1;
}
