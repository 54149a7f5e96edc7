/*
 * pager - a scrolling view of a long text (a queued message as postcat
 * prints it) inside a screen, in place of its list until closed.
 *
 * The screen hands it the keys first (pager_key): it moves with the
 * movement keys, closes on Esc, q or Enter, lets the keys that leave the
 * screen (Tab, digits, help, F10) through and swallows the rest, so no
 * action meant for the list hidden below happens by mistake. The pager
 * owns a copy of the text, split into lines (tabs expanded, control
 * characters shown as '?'); pager_close() frees it.
 */
#ifndef MAILTUI_PAGER_H
#define MAILTUI_PAGER_H

#include <stddef.h>

struct pager {
	char *title;
	char **lines;
	size_t n, top;
	int open;
};

void pager_open(struct pager *p, const char *title, const char *text);
void pager_close(struct pager *p);
/* The title line, then the text, in rows top..top+rows-1. */
void pager_draw(struct pager *p, int top, int rows);
/* Returns 1 when the key was the pager's (see above). */
int pager_key(struct pager *p, int ch, int fkey);

#endif
