/*
 * apply - put the configuration that templates/ describes onto the system.
 *
 * templates/manifest lists one file per line:
 *   TEMPLATE  DESTINATION  MODE  OWNER:GROUP  SERVICE
 * TEMPLATE is relative to paths.template_dir; DESTINATION is itself
 * rendered (e.g. "{{paths.postfix_dir}}/main.cf"); SERVICE (postfix,
 * dovecot, nginx, nftables, fail2ban or none) is validated and reloaded
 * when one of its files changes. Variables are every configuration key,
 * "mailhost", "milter_socket" (template.h), "etc_dir" (the directory
 * above paths.postfix_dir: /etc, where nftables.conf and fail2ban/ live,
 * which have no keys of their own) and "log_dir" (the directory of
 * paths.log_file: nginx's logs).
 *
 * A plan renders everything in memory and compares it with what is
 * installed. Installing validates each changed service on a staged copy
 * first ('postconf' and 'postfix check' for Postfix, 'doveconf -n' for
 * Dovecot, 'nginx -t', 'nft -c -f', and 'fail2ban-client -d' whose
 * ERROR lines count), keeps the files it replaces under <database
 * dir>/previous/ for apply_rollback(), creates missing directories (0755)
 * and writes each file with a rename, so a reader never sees half a file.
 * Nothing is written when anything fails before the first rename. Plans
 * own their memory: apply_plan_release().
 */
#ifndef MAILCTL_APPLY_H
#define MAILCTL_APPLY_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

struct apply_item {
	char *template; /* relative to the template directory */
	char *dest;     /* absolute */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char *service; /* a SERVICE of the manifest, or "none" */
	struct strbuf content;
	int exists;  /* a file is installed there now */
	int changed; /* content, mode or owner differ from it */
};

struct apply_plan {
	struct apply_item *v;
	size_t n, alloc;
	char *backup_dir;  /* <database dir>/previous */
	char *postfix_dir; /* paths.postfix_dir: checked and reloaded as one */
	char *dovecot_dir; /* paths.dovecot_dir */
	char *nginx_dir;   /* paths.nginx_dir */
	char *etc_dir;     /* apply_etc_dir() */
};

/* The directory above paths.postfix_dir ("/etc"), where the firewall
 * (nftables.conf) and fail2ban/jail.d/ are written; a private instance
 * under <root>/etc/postfix gets <root>/etc (caller frees). */
char *apply_etc_dir(const struct config *cfg);

/* Render every manifest row. 'mailhost' is the effective host name. */
int apply_plan(const struct config *cfg, const char *mailhost, struct apply_plan *out,
               struct mc_error *err);

/* Unified diff of what would change (diff -u), appended to 'out'. */
int apply_diff(const struct apply_plan *p, struct strbuf *out, struct mc_error *err);

/* Validate every service with a changed file on a staged copy. */
int apply_validate(const struct apply_plan *p, struct mc_error *err);

/* Back up the files that change, then write the new ones in place. */
int apply_install(const struct apply_plan *p, struct mc_error *err);

/* Reload the changed services that are running: 'postfix reload',
 * 'doveadm reload', SIGHUP to nginx (systemctl reload under systemd),
 * 'nft -f' when the firewall's table is loaded, 'fail2ban-client reload'
 * when fail2ban answers. '*reloaded' gets a comma-separated list (caller
 * frees). MC_ETEMP when a running service did not reload. */
int apply_reload(const struct apply_plan *p, char **reloaded, struct mc_error *err);

/* Put back the files the last install replaced (and remove those it
 * created). MC_EDATA when there is nothing to roll back. */
int apply_rollback(const struct config *cfg, size_t *restored, struct mc_error *err);

/* Services with a changed file, e.g. "postfix,dovecot" (caller frees). */
char *apply_changed_services(const struct apply_plan *p);

void apply_plan_release(struct apply_plan *p);

#endif
