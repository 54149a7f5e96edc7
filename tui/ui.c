/*
 * Drawing helpers and dialogs: width-aware UTF-8 output, the one-line
 * prompt, yes/no confirmation, message boxes, OSC 52 copy and the Unicode
 * form of domain names for display.
 */
#include "tui.h"
#include "xalloc.h"

#include <idn2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* Decode 's' into wide characters, '?' for anything malformed or not
 * printable. Caller frees. */
static wchar_t *widen(const char *s, size_t *count)
{
	size_t len = strlen(s), n = 0;
	wchar_t *w = xcalloc(len + 1, sizeof(*w));
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	while (*s) {
		wchar_t c;
		size_t k = mbrtowc(&c, s, strlen(s), &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			c = L'?';
			k = 1;
		}
		if (wcwidth(c) < 0)
			c = L'?';
		w[n++] = c;
		s += k;
	}
	*count = n;
	return w;
}

int tui_width(const char *s)
{
	size_t n;
	wchar_t *w = widen(s, &n);
	int cols = wcswidth(w, n);
	free(w);
	return cols < 0 ? (int)n : cols;
}

int tui_put(int y, int x, int width, enum role r, const char *s)
{
	size_t n, i;
	int used = 0;
	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + width > COLS)
		width = COLS - x;
	wchar_t *w = widen(s, &n);
	for (i = 0; i < n; i++) {
		int cw = wcwidth(w[i]);
		if (used + cw > width)
			break;
		used += cw;
	}
	attr_t a = theme_attr(r);
	attron(a);
	mvaddnwstr(y, x, w, (int)i);
	attroff(a);
	free(w);
	return used;
}

size_t tui_fit(const char *s, int width)
{
	mbstate_t st;
	size_t off = 0, len = strlen(s);
	int used = 0;
	memset(&st, 0, sizeof(st));
	while (off < len) {
		wchar_t c;
		size_t k = mbrtowc(&c, s + off, len - off, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			c = L'?';
			k = 1;
		}
		int cw = wcwidth(c) < 0 ? 1 : wcwidth(c);
		if (used + cw > width)
			break;
		used += cw;
		off += k;
	}
	return off;
}

void tui_fill(int y, int x, enum role r)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	attr_t a = theme_attr(r);
	attron(a);
	mvhline(y, x, ' ', COLS - x);
	attroff(a);
}

void tui_busy(struct tui *t, const char *text)
{
	tui_message(t, "%s", text);
	tui_redraw(t);
}

/* Draw the prompt line: question, then the text with the cursor after it
 * (scrolled so the end stays visible). */
static void prompt_draw(const char *question, const wchar_t *buf, size_t len)
{
	int y = LINES - 2;
	tui_fill(y, 0, ROLE_NORMAL);
	int x = tui_put(y, 0, COLS - 1, ROLE_HEADER, question);
	x += tui_put(y, x, 1, ROLE_NORMAL, " ");
	int room = COLS - x - 1, cols = 0;
	size_t from = len;
	while (from > 0 && cols + wcwidth(buf[from - 1]) <= room)
		cols += wcwidth(buf[--from]);
	if (room > 0)
		mvaddnwstr(y, x, buf + from, (int)(len - from));
	move(y, x + cols);
	curs_set(1);
}

/* Turn the typed text into UTF-8. */
static char *narrow(const wchar_t *buf, size_t len)
{
	char *out = xmalloc(len * MB_CUR_MAX + 1), *p = out;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < len; i++) {
		size_t k = wcrtomb(p, buf[i], &st);
		if (k != (size_t)-1)
			p += k;
	}
	*p = '\0';
	return out;
}

char *tui_prompt(struct tui *t, const char *question, const char *initial)
{
	size_t len = 0, cap = 1024;
	wchar_t buf[1024];
	if (initial) {
		wchar_t *w = widen(initial, &len);
		len = len < cap ? len : cap - 1;
		wmemcpy(buf, w, len);
		free(w);
	}
	for (;;) {
		prompt_draw(question, buf, len);
		wint_t c;
		int r = get_wch(&c);
		if (r == ERR)
			continue;
		if (r == KEY_CODE_YES && c == KEY_RESIZE) {
			tui_redraw(t);
		} else if (c == 27 || (r == KEY_CODE_YES && c == KEY_F(10))) {
			curs_set(0);
			return NULL;
		} else if (c == '\n' || c == '\r' || (r == KEY_CODE_YES && c == KEY_ENTER)) {
			break;
		} else if (c == 127 || c == 8 || (r == KEY_CODE_YES && c == KEY_BACKSPACE)) {
			len -= len > 0;
		} else if (c == 21) { /* ^U */
			len = 0;
		} else if (r == OK && c >= 32 && wcwidth((wchar_t)c) >= 0 && len < cap - 1) {
			buf[len++] = (wchar_t)c;
		}
	}
	curs_set(0);
	return narrow(buf, len);
}

int tui_confirm(struct tui *t, const char *question)
{
	char *q = xasprintf("%s [y/N]", question);
	int yes = 0;
	for (;;) {
		prompt_draw(q, L"", 0);
		wint_t c;
		int r = get_wch(&c);
		if (r == ERR)
			continue;
		if (r == KEY_CODE_YES && c == KEY_RESIZE) {
			tui_redraw(t);
			continue;
		}
		yes = r == OK && (c == 'y' || c == 'Y');
		break;
	}
	curs_set(0);
	free(q);
	return yes;
}

/* Split 'text' into lines of at most 'width' columns, breaking at blanks
 * where it can. Returns the lines (caller frees each and the array). */
static char **wrap(const char *text, int width, size_t *count)
{
	char **lines = NULL;
	size_t n = 0, alloc = 0;
	const char *p = text;
	while (*p) {
		size_t end = strcspn(p, "\n"), take = end, brk = 0;
		char *part = xstrndup(p, end);
		if (tui_width(part) > width) {
			for (take = 0; take < end;) {
				size_t k = 1;
				while (take + k < end &&
				       ((unsigned char)p[take + k] & 0xC0) == 0x80)
					k++;
				char *head = xstrndup(p, take + k);
				int over = tui_width(head) > width;
				free(head);
				if (over)
					break;
				take += k;
				if (p[take] == ' ')
					brk = take;
			}
			if (brk > take / 2)
				take = brk;
			if (!take)
				take = 1;
		}
		free(part);
		lines = xgrow(lines, &alloc, n + 1, sizeof(*lines));
		lines[n++] = xstrndup(p, take);
		p += take;
		if (*p == ' ' && take < end)
			p++;
		else if (*p == '\n')
			p++;
	}
	*count = n;
	return lines;
}

/* Draw the box in the middle of the screen. */
static void box_draw(const char *title, const char *text)
{
	int width = COLS - 4 > 76 ? 76 : COLS - 4;
	if (width < 10)
		width = COLS;
	size_t n;
	char **lines = wrap(text, width - 2, &n);
	int rows = (int)n + 3 > LINES ? LINES : (int)n + 3;
	int y0 = (LINES - rows) / 2, x0 = (COLS - width) / 2;
	for (int y = 0; y < rows; y++) {
		attr_t a = theme_attr(ROLE_BOX);
		attron(a);
		mvhline(y0 + y, x0, ' ', width);
		attroff(a);
	}
	tui_put(y0, x0 + 1, width - 2, ROLE_TAB_ACTIVE, title);
	for (size_t i = 0; i < n; i++) {
		if ((int)i + 1 < rows - 1)
			tui_put(y0 + 1 + (int)i, x0 + 1, width - 2, ROLE_BOX, lines[i]);
		free(lines[i]);
	}
	free(lines);
	tui_put(y0 + rows - 1, x0 + 1, width - 2, ROLE_BOX, "press any key");
}

void tui_box(struct tui *t, const char *title, const char *text)
{
	for (;;) {
		tui_draw(t);
		box_draw(title, text);
		refresh();
		wint_t c;
		int r = get_wch(&c);
		if (r == ERR)
			continue;
		if (r == KEY_CODE_YES && c == KEY_RESIZE) {
			tui_redraw(t);
			continue;
		}
		break;
	}
	tui_redraw(t);
}

void tui_copy(const char *text)
{
	size_t len = strlen(text);
	unsigned char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)len);
	refresh();
	fflush(stdout);
	char *seq = xasprintf("\033]52;c;%s\a", (char *)b64);
	ssize_t w = write(STDOUT_FILENO, seq, strlen(seq));
	(void)w; /* the clipboard is a convenience; the value is on screen too */
	free(seq);
	free(b64);
}

char *tui_unicode(const char *s)
{
	const char *at = strrchr(s, '@');
	const char *dom = at ? at + 1 : s;
	char *u = NULL;
	if (!strstr(dom, "xn--") || idn2_to_unicode_8z8z(dom, &u, 0) != IDN2_OK) {
		idn2_free(u);
		return xstrdup(s);
	}
	char *out = xasprintf("%.*s%s", (int)(dom - s), s, u);
	idn2_free(u);
	return out;
}
