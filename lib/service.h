/*
 * service - start, stop and query the servers of the mail system.
 *
 * In start order: Dovecot, mailctld (the milter), Postfix, nginx and the
 * firewall. Where systemd is PID 1 (/run/systemd/system exists) the
 * Debian units are used: 'systemctl start|stop|is-active'. Elsewhere
 * (containers, test namespaces) the servers are run directly with the
 * configured directories: Dovecot ('dovecot -c
 * {{paths.dovecot_dir}}/dovecot.conf') before Postfix (Debian's
 * configure-instance.sh, 'newaliases', then 'postfix -c
 * {{paths.postfix_dir}} start'), and stopped in the reverse order.
 * mailctld starts between them, so Postfix never runs without it:
 * directly it is MAILCTLD_PATH, which goes to the background once its
 * socket is bound, logs to paths.log_file and names itself in
 * mailctld.pid beside paths.control_socket; it is stopped with SIGTERM.
 * nginx runs as 'nginx -c {{paths.nginx_dir}}/nginx.conf' (its master's
 * pid in SERVICE_NGINX_PID; stopped with SIGQUIT). Before nginx starts,
 * in either mode, its workers (www-data) get search access (a POSIX ACL
 * entry) to each directory above paths.acme_webroot that denies it, as
 * /var/lib/mailctl (2770) does.
 *
 * The firewall is the table inet mailctl that apply writes to
 * <etc_dir>/nftables.conf (apply_etc_dir()). Starting it loads that file
 * with 'nft -f' in either mode; under systemd it also enables
 * nftables.service (which loads the file at boot) and enables and starts
 * fail2ban, and "running" means fail2ban runs too. It comes last, so a
 * fail2ban that cannot start never keeps the mail servers down. Without
 * systemd fail2ban is not started: a container has no journal for
 * Debian's sshd jail, and its bans belong to the host. service_stop()
 * leaves the firewall up: stopping the mail servers is no reason to open
 * the machine ('nft delete table inet mailctl' takes it down).
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
#define SERVICE_COUNT 5
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

/* Where nginx's master writes its pid: its built-in default, which
 * Debian's nginx.service expects (templates/nginx/nginx.conf sets none). */
#define SERVICE_NGINX_PID "/run/nginx.pid"

/* The pid of the nginx master that runs '<nginx_dir>/nginx.conf', or 0
 * (another nginx, or none). */
long service_nginx_master(const char *nginx_dir);

/* 1 when the firewall's table, inet mailctl, is loaded here. */
int service_firewall_loaded(void);

#endif
