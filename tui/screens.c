/*
 * The screens, in tab order: adding a screen is a screen_*.c file with
 * its struct screen and one line here.
 */
#include "tui.h"

extern const struct screen screen_dashboard, screen_domains, screen_users, screen_aliases,
    screen_dns, screen_blacklist, screen_queue, screen_log, screen_certs;

const struct screen *const screens[] = {
    &screen_dashboard, &screen_domains, &screen_users, &screen_aliases, &screen_dns,
    &screen_blacklist, &screen_queue,   &screen_log,   &screen_certs,
};
const size_t nscreens = sizeof(screens) / sizeof(screens[0]);
