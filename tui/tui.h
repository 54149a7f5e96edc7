/*
 * tui - what every part of mailtui shares: the per-run state, the screens
 * table, the one key table, the theme table and the drawing helpers.
 *
 * Screens (screen_*.c) are structs of function pointers registered in
 * screens[] (screens.c); the loop in main.c owns the terminal and hands
 * each key, as a named action from keys[], to the current screen. Every
 * change goes through the same lib/ calls the CLI makes, with the store
 * opened for that one operation (tui_store_open), so the error text is the
 * CLI's and a database that disappears is reported, not crashed on.
 *
 * Strings shown are UTF-8; tui_put() clips them by display width.
 */
#ifndef MAILCTL_TUI_H
#define MAILCTL_TUI_H

#include <curses.h>
#include <stddef.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "store.h"

/* ---- actions and the key table (keys.c) ---- */
enum action {
	ACT_NONE,
	ACT_QUIT,
	ACT_HELP,
	ACT_NEXT_SCREEN,
	ACT_GOTO, /* digits 1-9: that screen */
	ACT_PREV_SCREEN,
	ACT_UP,
	ACT_DOWN,
	ACT_PGUP,
	ACT_PGDN,
	ACT_HOME,
	ACT_END,
	ACT_FILTER,
	ACT_RELOAD,
	ACT_OPEN,
	ACT_ADD,
	ACT_DELETE,
	ACT_PASSWD,
	ACT_QUOTA,
	ACT_TOGGLE,
	ACT_COPY,
	ACT_CHECK,
	ACT_NEXT_DOMAIN,
	ACT_FLUSH,
	ACT_FLUSH_ALL,
	ACT_HISTORY,
	ACT_REQUEST,
	ACT_RENEW,
	ACT_RENEW_FORCE,
	ACT_COUNT
};

struct keybind {
	int key;          /* curses key code */
	const char *name; /* as the footer and help show it */
	enum action act;
	const char *label; /* short, for the footer */
	const char *help;  /* one line, for the help screen */
};

extern const struct keybind keys[];
/* The action for key 'ch', a curses KEY_ code when 'fkey', else a
 * character (ACT_NONE when unbound). */
enum action keys_action(int ch, int fkey);
/* The first key bound to 'a', or NULL. */
const struct keybind *keys_first(enum action a);

/* ---- theme (theme.c): colours by meaning, never raw pairs ---- */
enum role {
	ROLE_NORMAL,
	ROLE_TITLE,
	ROLE_TAB,
	ROLE_TAB_ACTIVE,
	ROLE_HEADER,
	ROLE_SELECTED,
	ROLE_OK,
	ROLE_INFO,
	ROLE_WARN,
	ROLE_FAIL,
	ROLE_DIM,
	ROLE_KEY,
	ROLE_MESSAGE,
	ROLE_ERROR,
	ROLE_BOX,
	ROLE_COUNT
};

/* Set up colours, or monochrome when NO_COLOR is set or the terminal has
 * none. Returns 1 when colours are used. */
int theme_init(void);
attr_t theme_attr(enum role r);

/* ---- screens ---- */
struct tui;
struct list;
struct list_handler;

struct screen {
	const char *title;            /* tab label */
	const char *about;            /* one line for the help screen */
	const enum action *actions;   /* its own keys, for the footer; ends with ACT_NONE */
	void (*enter)(struct tui *t); /* made current: (re)load what it shows */
	void (*draw)(struct tui *t, int top, int rows);
	/* Handle an action; returns 1 when it did. NULL for a list screen:
	 * its 'handlers', then the list's own actions (list_dispatch()). */
	int (*act)(struct tui *t, enum action a);
	/* A key that is no action, or any key while the screen takes text
	 * input (filter); 'fkey' as for keys_action(). Returns 1 when used.
	 * May be NULL (a list screen: the list's filter keys, list_key()). */
	int (*key)(struct tui *t, int ch, int fkey);
	/* Called about five times a second: collect background results,
	 * start periodic refreshes; returns 1 when the screen must redraw. */
	int (*tick)(struct tui *t);
	void (*release)(void);               /* free everything, wait for its jobs */
	struct list *list;                   /* a list screen's table, or NULL */
	const struct list_handler *handlers; /* its actions (ended by ACT_NONE) */
};

extern const struct screen *const screens[];
extern const size_t nscreens;

/* ---- the per-run state ---- */
struct tui {
	const char *config_path;
	int config_explicit;
	struct config cfg;
	char *actor;
	int privileged; /* root or in the 'mailctl' group */
	size_t current; /* index into screens[] */
	char message[1024];
	int message_error;
	char *domain; /* A-label the DNS screen shows; NULL: the first */
	int quit;
};

extern struct tui *tui_self;

/* Open the store for one operation, in 'ctx' (actor and config filled):
 * read-only when 'what' is NULL, else for writing the change the CLI
 * calls 'mailctl WHAT' ("user add"), which needs the CLI's privilege (root
 * or the 'mailctl' group) and is refused with its words. Returns -1 with
 * the error in 'err'. Close with tui_store_close(). */
int tui_store_open(struct tui *t, struct mc_ctx *ctx, const char *what, struct mc_error *err);
void tui_store_close(struct mc_ctx *ctx);

/* The status line: a result or an error ('err' text as the CLI prints it). */
void tui_message(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_error(struct tui *t, const struct mc_error *err);

/* From any thread: make the loop tick the screens now (a background
 * job has news), instead of within a second. */
void tui_wake(void);

/* Switch to screen 'i' (calls its enter()). */
void tui_switch(struct tui *t, size_t i);
/* Index of the screen titled 'title'. */
size_t tui_screen_index(const char *title);

/* ---- drawing and dialogs (ui.c) ---- */
/* Write UTF-8 's' at y,x in at most 'width' columns with 'role';
 * invalid bytes show as '?'. Returns the columns used. */
int tui_put(int y, int x, int width, enum role r, const char *s);
/* Fill a row from column x to the right edge with blanks in 'role'. */
void tui_fill(int y, int x, enum role r);
/* How many bytes of UTF-8 's' fit in 'width' columns. */
size_t tui_fit(const char *s, int width);
/* Display width of UTF-8 's'. */
int tui_width(const char *s);

/* Ask for one line of text on the status line; NULL when cancelled (Esc).
 * 'initial' may be NULL. Caller frees. */
char *tui_prompt(struct tui *t, const char *question, const char *initial);
/* Ask yes or no; 1 only for 'y'. */
int tui_confirm(struct tui *t, const char *question);
/* A box with 'text' (lines split on '\n') until a key is pressed. */
void tui_box(struct tui *t, const char *title, const char *text);
/* Draw everything into the screen buffer; tui_redraw() also shows it. */
void tui_draw(struct tui *t);
void tui_redraw(struct tui *t);
/* Show 'text' on the status line and flush, before a short blocking call. */
void tui_busy(struct tui *t, const char *text);

/* Copy 'text' to the terminal's clipboard (OSC 52). */
void tui_copy(const char *text);

/* The Unicode form of an A-label domain, or of the domain part of an
 * address, for display; caller frees. Falls back to 's' itself. */
char *tui_unicode(const char *s);

#endif
