/* privsep - mailctld's root helper for certificate renewal; see privsep.c. */
#ifndef MAILCTLD_PRIVSEP_H
#define MAILCTLD_PRIVSEP_H

#include <stddef.h>

/* Fork the helper (as root, before the drop and before any thread);
 * 'keep_fd' (the log file, or -1) stays open in it. -1 when it cannot. */
int privsep_start(const char *config_path, int keep_fd);

/* Ask the helper to renew when due; '*reply' gets its line
 * "ACTION|NOT_AFTER|NEXT|TEXT" (a "failed" line on trouble, with -1). */
int privsep_renew(int timeout_s, char *reply, size_t len);

void privsep_stop(void);

#endif
