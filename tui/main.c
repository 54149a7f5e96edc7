/*
 * mailtui - the terminal console of a mailctl server.
 *
 *   mailtui [--config FILE]
 *
 * Owns the terminal and the loop: draws the title bar with the screens'
 * tabs, the current screen, the status line and a footer of keys from the
 * one key table; maps keys to actions and hands them to the screen; ticks
 * the screens so background results show up; redraws on resize.
 */
#include "list.h"
#include "tui.h"
#include "xalloc.h"

#include <getopt.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

struct tui *tui_self;
static int help_shown; /* the help screen is up; its scroll offset below */
static int help_top;

static int in_mailctl_group(void)
{
	struct group *gr = getgrnam("mailctl");
	gid_t groups[256];
	if (!gr)
		return 0;
	if (getegid() == gr->gr_gid)
		return 1;
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

/* "root", or "root (sudo: alice)": the audit log's actor, as the CLI's. */
static char *actor_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char *name = pw ? xstrdup(pw->pw_name) : xasprintf("uid %u", (unsigned)getuid());
	if (getuid() == 0 && sudo && *sudo) {
		char *both = xasprintf("%s (sudo: %s)", name, sudo);
		free(name);
		return both;
	}
	return name;
}

int tui_store_open(struct tui *t, struct mc_ctx *ctx, const char *what, struct mc_error *err)
{
	*ctx = (struct mc_ctx){&t->cfg, NULL, t->actor};
	if (what && !t->privileged)
		return mc_fail(err, MC_ENOPERM,
		               "permission denied: 'mailctl %s' needs root or membership of the "
		               "'mailctl' group",
		               what);
	return store_open(&ctx->st, t->cfg.database, what ? STORE_WRITE : STORE_READ, err);
}

void tui_store_close(struct mc_ctx *ctx)
{
	store_close(ctx->st);
	ctx->st = NULL;
}

void tui_message(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->message, sizeof(t->message), fmt, ap);
	va_end(ap);
	t->message_error = 0;
}

void tui_error(struct tui *t, const struct mc_error *err)
{
	snprintf(t->message, sizeof(t->message), "%s", err->msg[0] ? err->msg : "unknown error");
	t->message_error = 1;
}

void tui_switch(struct tui *t, size_t i)
{
	if (i >= nscreens)
		return;
	t->current = i;
	t->message[0] = '\0';
	screens[i]->enter(t);
}

size_t tui_screen_index(const char *title)
{
	for (size_t i = 0; i < nscreens; i++)
		if (!strcmp(screens[i]->title, title))
			return i;
	return 0;
}

/* How the tabs fit in row 0: 2 roomy (" 1 Dashboard "), 1 compact
 * (" 1 Dashboard", one blank between tabs), 0 only the current one. */
static int tab_style(void)
{
	int need = 0;
	for (size_t i = 0; i < nscreens; i++)
		need += tui_width(screens[i]->title) + 4;
	if (need <= COLS)
		return 2;
	return need - (int)nscreens <= COLS ? 1 : 0;
}

/* The columns tab 'i' takes in 'style'. */
static int tab_width(size_t i, int style)
{
	return tui_width(screens[i]->title) + 2 + style;
}

/* Row 0: the tabs, "1 Dashboard 2 Domains ..."; when they do not fit,
 * only the current one with its number. */
static void draw_title(struct tui *t)
{
	int x = 0, style = tab_style();
	char tab[64];
	tui_fill(0, 0, ROLE_TAB);
	if (!style) {
		snprintf(tab, sizeof(tab), " %zu/%zu %s ", t->current + 1, nscreens,
		         screens[t->current]->title);
		tui_put(0, 0, COLS, ROLE_TAB_ACTIVE, tab);
		return;
	}
	for (size_t i = 0; i < nscreens; i++) {
		snprintf(tab, sizeof(tab), " %zu %s%s", i + 1, screens[i]->title,
		         style == 2 ? " " : "");
		x += tui_put(0, x, COLS - x, i == t->current ? ROLE_TAB_ACTIVE : ROLE_TAB, tab);
	}
}

/* The last row: key and label for the screen's actions, then help and quit. */
static void draw_footer(struct tui *t)
{
	static const enum action global[] = {ACT_FILTER, ACT_HELP, ACT_QUIT, ACT_NONE};
	const enum action *lists[] = {screens[t->current]->actions, global};
	int x = 0, y = LINES - 1;
	tui_fill(y, 0, ROLE_NORMAL);
	for (size_t l = 0; l < 2; l++)
		for (const enum action *a = lists[l]; *a != ACT_NONE && x < COLS; a++) {
			const struct keybind *k = keys_first(*a);
			if (!k || (l == 1 && *a == ACT_FILTER && !screens[t->current]->key &&
			           !screens[t->current]->list))
				continue;
			x += tui_put(y, x, COLS - x, ROLE_KEY, k->name);
			x += tui_put(y, x, COLS - x, ROLE_NORMAL, " ");
			x += tui_put(y, x, COLS - x, ROLE_NORMAL, k->label);
			x += tui_put(y, x, COLS - x, ROLE_NORMAL, " ");
		}
}

/* The help screen, made from keys[] and screens[]. */
static void draw_help(int top, int rows)
{
	int y = top - help_top, n = 0;
	char line[160];
	for (const struct keybind *k = keys; k->name; k++) {
		if (keys_first(k->act) != k)
			continue;
		strcpy(line, "");
		for (const struct keybind *o = k; o->name; o++)
			if (o->act == k->act && !strstr(line, o->name) &&
			    strlen(line) + strlen(o->name) + 3 < 24)
				snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
				         line[0] ? ", " : "", o->name);
		if (y >= top && y < top + rows) {
			tui_put(y, 1, 16, ROLE_HEADER, line);
			tui_put(y, 18, COLS - 18, ROLE_NORMAL, k->help);
		}
		y++, n++;
	}
	y++;
	for (size_t i = 0; i < nscreens; i++, y++)
		if (y >= top && y < top + rows) {
			snprintf(line, sizeof(line), "%zu %s", i + 1, screens[i]->title);
			tui_put(y, 1, 16, ROLE_HEADER, line);
			tui_put(y, 18, COLS - 18, ROLE_NORMAL, screens[i]->about);
		}
	(void)n;
}

void tui_draw(struct tui *t)
{
	erase();
	if (LINES < 4 || COLS < 20) {
		tui_put(0, 0, COLS, ROLE_NORMAL, "mailtui: terminal too small");
		return;
	}
	/* A message too long for one row takes two, when there is room. */
	int mrows = t->message[0] && tui_width(t->message) > COLS && LINES >= 8 ? 2 : 1;
	enum role mrole = t->message_error ? ROLE_ERROR : ROLE_MESSAGE;
	draw_title(t);
	if (help_shown) {
		tui_put(1, 0, COLS, ROLE_HEADER, "Keys (Esc or q closes the help)");
		draw_help(2, LINES - 3 - mrows);
	} else {
		screens[t->current]->draw(t, 1, LINES - 2 - mrows);
	}
	for (int i = 0; i < mrows; i++)
		tui_fill(LINES - 1 - mrows + i, 0, ROLE_NORMAL);
	if (mrows == 2) {
		size_t cut = tui_fit(t->message, COLS);
		tui_put(LINES - 3, 0, COLS, mrole, t->message);
		tui_put(LINES - 2, 0, COLS, mrole, t->message + cut);
	} else if (t->message[0]) {
		tui_put(LINES - 2, 0, COLS, mrole, t->message);
	}
	draw_footer(t);
}

void tui_redraw(struct tui *t)
{
	tui_draw(t);
	refresh();
}

/* Keys while the help screen is up: scroll, or close it. */
static void help_key(enum action a)
{
	if (a == ACT_DOWN)
		help_top++;
	else if (a == ACT_UP && help_top > 0)
		help_top--;
	else if (a != ACT_PGDN && a != ACT_PGUP)
		help_shown = 0;
}

/* One key: the screen first (it may be taking text), then the global
 * actions, then the screen's own. */
/* The current screen's action: its own act(), else its list's. */
static int screen_act(struct tui *t, enum action a)
{
	const struct screen *s = screens[t->current];
	return s->act ? s->act(t, a) : list_dispatch(s->list, s->handlers, t, a, LINES - 4);
}

static int screen_key(struct tui *t, int ch, int fkey)
{
	const struct screen *s = screens[t->current];
	return s->key ? s->key(t, ch, fkey) : s->list ? list_key(s->list, ch, fkey) : 0;
}

static void handle_key(struct tui *t, int ch, int fkey)
{
	enum action a = keys_action(ch, fkey);
	if (help_shown) {
		help_key(a);
		return;
	}
	if (screen_key(t, ch, fkey))
		return;
	switch (a) {
	case ACT_QUIT:
		t->quit = 1;
		break;
	case ACT_HELP:
		help_shown = 1;
		help_top = 0;
		break;
	case ACT_NEXT_SCREEN:
		tui_switch(t, (t->current + 1) % nscreens);
		break;
	case ACT_PREV_SCREEN:
		tui_switch(t, (t->current + nscreens - 1) % nscreens);
		break;
	case ACT_GOTO:
		tui_switch(t, (size_t)(ch - '1'));
		break;
	case ACT_NONE:
		break;
	default:
		screen_act(t, a);
	}
}

/* A mouse click on a tab goes there; the wheel moves. */
static void handle_mouse(struct tui *t)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return;
	if (ev.bstate & BUTTON4_PRESSED) {
		screen_act(t, ACT_UP);
	} else if (ev.bstate & BUTTON5_PRESSED) {
		screen_act(t, ACT_DOWN);
	} else if (ev.y == 0 && (ev.bstate & BUTTON1_CLICKED) && tab_style()) {
		int x = 0, style = tab_style();
		for (size_t i = 0; i < nscreens; i++) {
			x += tab_width(i, style);
			if (ev.x < x) {
				tui_switch(t, i);
				return;
			}
		}
	}
}

static int wake_pipe[2] = {-1, -1};

void tui_wake(void)
{
	char c = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &c, 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
}

/* Wait for a key, a wake-up from a job, a signal (resize) or a second. */
static void wait_input(void)
{
	struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
	char buf[64];
	if (poll(p, 2, 1000) > 0 && (p[1].revents & POLLIN))
		while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
			;
}

/* Every key ncurses has, without waiting. */
static void read_keys(struct tui *t)
{
	wint_t c;
	int r;
	timeout(0);
	while (!t->quit && (r = get_wch(&c)) != ERR) {
		timeout(200); /* dialogs opened by a key wait for theirs */
		if (r == KEY_CODE_YES && c == KEY_MOUSE)
			handle_mouse(t);
		else if (!(r == KEY_CODE_YES && c == KEY_RESIZE))
			handle_key(t, (int)c, r == KEY_CODE_YES);
		timeout(0);
	}
	timeout(200);
}

static void loop(struct tui *t)
{
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		wake_pipe[0] = wake_pipe[1] = -1;
	while (!t->quit) {
		tui_redraw(t);
		if (wake_pipe[0] >= 0)
			wait_input();
		read_keys(t);
		for (size_t i = 0; i < nscreens; i++)
			if (screens[i]->tick)
				screens[i]->tick(t);
	}
	if (wake_pipe[0] >= 0) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
	}
}

static void usage(FILE *fp)
{
	fputs("usage: mailtui [--config FILE]\n"
	      "       mailtui -h | --version\n\n"
	      "The terminal console of a mailctl server: status, domains, users, aliases,\n"
	      "DNS records, blocklists, the mail queue, the mail log and the certificate.\n"
	      "Press ? inside for the keys.\n\n"
	      "options:\n"
	      "  --config FILE  configuration file (default: $MAILCTL_CONFIG "
	      "or " MAILCTL_DEFAULT_CONFIG ")\n"
	      "  -h, --help     show this help\n"
	      "  --version      show the version\n\n"
	      "Environment: NO_COLOR (set: no colours). See mailtui(8).\n",
	      fp);
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct tui *t, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hc:", opts, NULL)) != -1) {
		if (c == 'c') {
			t->config_path = optarg;
			t->config_explicit = 1;
		} else if (c == 'h') {
			usage(stdout);
			return EX_OK;
		} else if (c == 'V') {
			printf("mailtui %s\n", MAILCTL_VERSION);
			return EX_OK;
		} else {
			fprintf(stderr, "mailtui: %s '%s'; see 'mailtui -h'\n",
			        c == ':' ? "missing value for option" : "unknown option",
			        argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailtui: unexpected argument '%s'; see 'mailtui -h'\n",
		        argv[optind]);
		return EX_USAGE;
	}
	return -1;
}

/* The terminal's own locale, or C.UTF-8 when it names none: names are
 * UTF-8 and must display as such. */
static void pick_locale(void)
{
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

static void start_curses(void)
{
	initscr();
	cbreak();
	noecho();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	timeout(200);
	theme_init();
	mousemask(BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
}

int main(int argc, char **argv)
{
	struct tui t;
	struct mc_error err;
	memset(&t, 0, sizeof(t));
	tui_self = &t;
	pick_locale();
	t.config_path = config_default_path();
	t.config_explicit = getenv("MAILCTL_CONFIG") && *getenv("MAILCTL_CONFIG");
	int code = parse_args(&t, argc, argv);
	if (code >= 0)
		return code;
	if (config_load(&t.cfg, t.config_path, t.config_explicit, &err) < 0) {
		fprintf(stderr, "mailtui: %s\n", err.msg);
		config_release(&t.cfg);
		return EX_CONFIG;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "mailtui: needs a terminal; for scripts use 'mailctl --json'\n");
		config_release(&t.cfg);
		return EX_USAGE;
	}
	t.actor = actor_name();
	t.privileged = geteuid() == 0 || in_mailctl_group();
	start_curses();
	tui_switch(&t, 0);
	loop(&t);
	endwin();
	for (size_t i = 0; i < nscreens; i++)
		screens[i]->release();
	free(t.domain);
	free(t.actor);
	config_release(&t.cfg);
	return EX_OK;
}
