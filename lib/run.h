/*
 * run - run another program (postfix, doveconf, diff, systemctl...) and
 * collect what it prints.
 *
 * Output goes to an anonymous memory file rather than a pipe, so a daemon
 * the program leaves behind (postfix start, dovecot) cannot keep us
 * waiting for end-of-file. Standard input is /dev/null.
 */
#ifndef MAILCTL_RUN_H
#define MAILCTL_RUN_H

#include "strbuf.h"

/* Run argv[0] (searched in PATH) and wait for it. Its standard output and
 * error, up to 64 KiB, are appended to 'out' when it is not NULL. Returns
 * the exit status, or -1 when it could not run or was killed. */
int run_capture(char *const argv[], struct strbuf *out);

#endif
