/*
 * The one key table: the loop maps keys to actions through it, the footer
 * shows the first key of each action a screen offers, and the help screen
 * lists it whole. Arrow keys and vi keys both move.
 */
#include "tui.h"

#include <stddef.h>

#define CTRL(c) ((c)&0x1f)

const struct keybind keys[] = {
    {'?', "?", ACT_HELP, "Help", "show this help"},
    {KEY_F(1), "F1", ACT_HELP, "Help", "show this help"},
    {'q', "q", ACT_QUIT, "Quit", "quit (waits for a running check to end)"},
    {KEY_F(10), "F10", ACT_QUIT, "Quit", "quit"},
    {'\t', "Tab", ACT_NEXT_SCREEN, "Next", "next screen"},
    {KEY_BTAB, "S-Tab", ACT_PREV_SCREEN, "Prev", "previous screen"},
    {'1', "1-9", ACT_GOTO, "Screen", "go to screen 1 to 9 (numbered in the title bar)"},
    {KEY_UP, "Up", ACT_UP, "Up", "move up"},
    {'k', "k", ACT_UP, "Up", "move up"},
    {KEY_DOWN, "Down", ACT_DOWN, "Down", "move down"},
    {'j', "j", ACT_DOWN, "Down", "move down"},
    {KEY_PPAGE, "PgUp", ACT_PGUP, "PgUp", "page up"},
    {CTRL('b'), "^B", ACT_PGUP, "PgUp", "page up"},
    {KEY_NPAGE, "PgDn", ACT_PGDN, "PgDn", "page down"},
    {CTRL('f'), "^F", ACT_PGDN, "PgDn", "page down"},
    {KEY_HOME, "Home", ACT_HOME, "Top", "first row"},
    {'g', "g", ACT_HOME, "Top", "first row"},
    {KEY_END, "End", ACT_END, "End", "last row"},
    {'G', "G", ACT_END, "End", "last row"},
    {'/', "/", ACT_FILTER, "Filter", "filter as you type; Enter keeps it, Esc clears it"},
    {KEY_F(5), "F5", ACT_RELOAD, "Reload", "reload from the database"},
    {CTRL('l'), "^L", ACT_RELOAD, "Reload", "reload and redraw"},
    {'\n', "Enter", ACT_OPEN, "Show", "show the selected row in full"},
    {KEY_ENTER, "Enter", ACT_OPEN, "Show", "show the selected row in full"},
    {'a', "a", ACT_ADD, "Add", "add"},
    {'d', "d", ACT_DELETE, "Delete", "delete, after a confirmation (users' mail is archived)"},
    {KEY_DC, "Del", ACT_DELETE, "Delete", "delete, after a confirmation"},
    {'p', "p", ACT_PASSWD, "Passwd", "reset the password: a new one is generated, shown once"},
    {'s', "s", ACT_QUOTA, "Quota", "set the mailbox quota (500M, 2G, unlimited)"},
    {'e', "e", ACT_TOGGLE, "En/Dis", "enable or disable the user"},
    {'y', "y", ACT_COPY, "Copy", "copy the value to the clipboard (OSC 52)"},
    {'c', "c", ACT_COPY, "Copy", "copy the value to the clipboard (OSC 52)"},
    {'r', "r", ACT_CHECK, "Check", "run the live check again"},
    {'n', "n", ACT_NEXT_DOMAIN, "Domain", "next domain"},
    {'f', "f", ACT_FLUSH, "Retry", "retry delivery of the queued message now"},
    {'F', "F", ACT_FLUSH_ALL, "All", "retry delivery of the whole queue now (postqueue -f)"},
    {'h', "h", ACT_HISTORY, "History", "switch between the live check and the stored history"},
    {'R', "R", ACT_REQUEST, "Request", "request a certificate from the CA (acme.directory)"},
    {'u', "u", ACT_RENEW, "Renew", "renew the certificate when due, in the background"},
    {'U', "U", ACT_RENEW_FORCE, "Force", "renew the certificate now, even when not due"},
    {0, NULL, ACT_NONE, NULL, NULL},
};

enum action keys_action(int ch, int fkey)
{
	if (!fkey && ch >= '1' && ch <= '9')
		return ACT_GOTO;
	for (const struct keybind *k = keys; k->name; k++)
		if (k->key == ch && (k->key >= KEY_MIN) == !!fkey)
			return k->act;
	return ACT_NONE;
}

const struct keybind *keys_first(enum action a)
{
	for (const struct keybind *k = keys; k->name; k++)
		if (k->act == a)
			return k;
	return NULL;
}
