/* jobs - mailctld's periodic work (blocklist monitoring, DKIM rotation);
 * see jobs.c. */
#ifndef MAILCTLD_JOBS_H
#define MAILCTLD_JOBS_H

#include "mailctld.h"

/* Open Postfix's log for watching; call before the privileges go. */
void jobs_open_log(const char *path);
/* Start the jobs thread (after the state is installed); stop and join it. */
int jobs_start(void);
void jobs_stop(void);
/* Run the blocklist check now (SIGUSR1). */
void jobs_kick_blacklist(void);
/* Ask about the certificate again soon (after a reload). */
void jobs_kick_cert(void);

#endif
