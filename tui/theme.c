/*
 * The theme table: one row per meaning, with its colours and what stands
 * in for them on a monochrome terminal or under NO_COLOR
 * (https://no-color.org: set and not empty).
 */
#include "tui.h"

#include <stdlib.h>

struct theme_row {
	short fg, bg;
	attr_t color_attr; /* added to the pair */
	attr_t mono;       /* without colours */
};

static const struct theme_row theme[ROLE_COUNT] = {
    [ROLE_NORMAL] = {-1, -1, 0, 0},
    [ROLE_TITLE] = {COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE},
    [ROLE_TAB] = {COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [ROLE_TAB_ACTIVE] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_BOLD},
    [ROLE_HEADER] = {COLOR_CYAN, -1, A_BOLD, A_UNDERLINE},
    [ROLE_SELECTED] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [ROLE_OK] = {COLOR_GREEN, -1, 0, 0},
    [ROLE_INFO] = {COLOR_BLUE, -1, 0, 0},
    [ROLE_WARN] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [ROLE_FAIL] = {COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [ROLE_DIM] = {-1, -1, A_DIM, A_DIM},
    [ROLE_KEY] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [ROLE_MESSAGE] = {COLOR_GREEN, -1, 0, A_BOLD},
    [ROLE_ERROR] = {COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD},
    [ROLE_BOX] = {COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
};

static attr_t attrs[ROLE_COUNT];

int theme_init(void)
{
	const char *nc = getenv("NO_COLOR");
	int color = !(nc && *nc) && has_colors() && start_color() == OK;
	if (color)
		use_default_colors();
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (!color || COLOR_PAIRS <= r + 1) {
			attrs[r] = theme[r].mono;
			continue;
		}
		init_pair((short)(r + 1), theme[r].fg, theme[r].bg);
		attrs[r] = COLOR_PAIR(r + 1) | theme[r].color_attr;
	}
	return color;
}

attr_t theme_attr(enum role r)
{
	return (unsigned)r < ROLE_COUNT ? attrs[r] : 0;
}
