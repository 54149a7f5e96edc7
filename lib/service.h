/*
 * service - start, stop and query the mail servers.
 *
 * Where systemd is PID 1 (/run/systemd/system exists) the Debian units
 * are used: 'systemctl start|stop|is-active'. Elsewhere (containers, test
 * namespaces) the servers are run directly with the configured
 * directories: Dovecot ('dovecot -c {{paths.dovecot_dir}}/dovecot.conf')
 * before Postfix (Debian's configure-instance.sh, 'newaliases', then
 * 'postfix -c {{paths.postfix_dir}} start'), and stopped in the reverse
 * order. mailctld (the milter) starts between them, so Postfix never runs
 * without it: directly it is MAILCTLD_PATH, which goes to the background
 * once its socket is bound, logs to paths.log_file and names itself in
 * mailctld.pid beside paths.control_socket; it is stopped with SIGTERM.
 * nginx is not managed yet.
 *
 * service_start() and service_stop() leave a service that is already in
 * the wanted state alone. A failing command's output becomes the error
 * message (MC_EUNAVAIL). Nothing is printed.
 */
#ifndef MAILCTL_SERVICE_H
#define MAILCTL_SERVICE_H

#include "config.h"
#include "error.h"

/* The managed services, in start order. */
#define SERVICE_COUNT 3
extern const char *const service_names[SERVICE_COUNT];

/* 1 when systemd is PID 1 and its units are used. */
int service_use_systemd(void);

/* 'changed[i]' (may be NULL) is set when service i was started/stopped. */
int service_start(const struct config *cfg, int changed[SERVICE_COUNT], struct mc_error *err);
int service_stop(const struct config *cfg, int changed[SERVICE_COUNT], struct mc_error *err);

/* Where a running mailctld writes its pid (caller frees). */
char *service_mailctld_pidfile(const struct config *cfg);

/* 1 running, 0 not, for service index 'i'. */
int service_running(const struct config *cfg, int i);

#endif
