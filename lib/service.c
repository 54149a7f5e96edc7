/* Start, stop and query Dovecot, mailctld, Postfix, nginx and the
 * firewall (see service.h). */
#include "service.h"
#include "apply.h"
#include "run.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const service_names[SERVICE_COUNT] = {"dovecot", "mailctld", "postfix", "nginx",
                                                  "firewall"};
enum { SVC_DOVECOT, SVC_MAILCTLD, SVC_POSTFIX, SVC_NGINX, SVC_FIREWALL };

/* The user nginx's workers run as (templates/nginx/nginx.conf). */
#define NGINX_USER "www-data"

/* How long start and stop wait for a server to come up or go away. */
#define SERVICE_WAIT_MS 10000

/* Run argv; on failure its output (or why it did not run) is the error. */
static int run_ok(char *const argv[], struct mc_error *err)
{
	struct strbuf out = STRBUF_INIT;
	int status = run_capture(argv, &out);
	strbuf_rtrim(&out);
	int rc = status == 0
	             ? 0
	             : mc_fail(err, MC_EUNAVAIL, "'%s %s' failed: %s", argv[0],
	                       argv[1] ? argv[1] : "", status < 0 ? "cannot run it" : out.buf);
	strbuf_release(&out);
	return rc;
}

int service_use_systemd(void)
{
	struct stat sb;
	return stat("/run/systemd/system", &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Dovecot's master process is alive: base_dir/master.pid names it. */
static int dovecot_running(const struct config *cfg)
{
	struct strbuf out = STRBUF_INIT;
	char *conf = xasprintf("%s/dovecot.conf", cfg->dovecot_dir);
	char *argv[] = {"doveconf", "-c", conf, "-h", "base_dir", NULL};
	int running = 0;
	if (run_capture(argv, &out) == 0) {
		strbuf_rtrim(&out);
		char *pidfile = xasprintf("%s/master.pid", out.buf);
		FILE *f = fopen(pidfile, "re");
		long pid;
		if (f && fscanf(f, "%ld", &pid) == 1 && pid > 0)
			running = kill((pid_t)pid, 0) == 0 || errno == EPERM;
		if (f)
			fclose(f);
		free(pidfile);
	}
	strbuf_release(&out);
	free(conf);
	return running;
}

char *service_mailctld_pidfile(const struct config *cfg)
{
	char *dir = xstrdup(cfg->control_socket), *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	char *p = xasprintf("%s/mailctld.pid", dir);
	free(dir);
	return p;
}

/* The pid file names a live process called mailctld. */
static int mailctld_running(const struct config *cfg)
{
	char *pidfile = service_mailctld_pidfile(cfg), comm[32] = "";
	FILE *f = fopen(pidfile, "re");
	long pid = 0;
	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	free(pidfile);
	if (pid <= 0)
		return 0;
	char *path = xasprintf("/proc/%ld/comm", pid);
	f = fopen(path, "re");
	free(path);
	if (!f)
		return 0;
	int ok = fgets(comm, sizeof(comm), f) && !strcmp(comm, "mailctld\n");
	fclose(f);
	return ok;
}

/* The first number in the file at 'path', or 0. */
static long read_pid(const char *path)
{
	FILE *f = fopen(path, "re");
	long pid = 0;
	if (f && fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid > 0 ? pid : 0;
}

/* nginx's master retitles itself "nginx: master process <its command
 * line>"; it runs our configuration when that names it with -c, or has
 * no -c and ours is where Debian's nginx looks by default. */
long service_nginx_master(const char *nginx_dir)
{
	long pid = read_pid(SERVICE_NGINX_PID);
	char title[4096] = "", *path = xasprintf("/proc/%ld/cmdline", pid);
	char *conf = xasprintf("%s/nginx.conf", nginx_dir);
	FILE *f = pid ? fopen(path, "re") : NULL;
	size_t n = f ? fread(title, 1, sizeof(title) - 1, f) : 0;
	title[n] = '\0';
	const char *c = strstr(title, " -c ");
	size_t len = strlen(conf);
	int ours = !strncmp(title, "nginx: master process ", 22) &&
	           (c ? !strncmp(c + 4, conf, len) && (c[4 + len] == ' ' || !c[4 + len])
	              : !strcmp(conf, "/etc/nginx/nginx.conf"));
	if (f)
		fclose(f);
	free(path);
	free(conf);
	return ours ? pid : 0;
}

int service_firewall_loaded(void)
{
	char *argv[] = {"nft", "list", "table", "inet", "mailctl", NULL};
	return run_capture(argv, NULL) == 0;
}

int service_running(const struct config *cfg, int i)
{
	char *unit[] = {"systemctl", "is-active", "--quiet", (char *)service_names[i], NULL};
	char *fail2ban[] = {"systemctl", "is-active", "--quiet", "fail2ban", NULL};
	char *pf[] = {"postfix", "-c", cfg->postfix_dir, "status", NULL};
	if (i == SVC_FIREWALL)
		return service_firewall_loaded() &&
		       (!service_use_systemd() || run_capture(fail2ban, NULL) == 0);
	if (service_use_systemd())
		return run_capture(unit, NULL) == 0;
	return i == SVC_DOVECOT    ? dovecot_running(cfg)
	       : i == SVC_MAILCTLD ? mailctld_running(cfg)
	       : i == SVC_NGINX    ? service_nginx_master(cfg->nginx_dir) > 0
	                           : run_capture(pf, NULL) == 0;
}

/* Poll until service i is (or is no longer) running. */
static int wait_state(const struct config *cfg, int i, int want, struct mc_error *err)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	for (int ms = 0; ms < SERVICE_WAIT_MS; ms += 100) {
		if (service_running(cfg, i) == want)
			return 0;
		nanosleep(&tick, NULL);
	}
	return mc_fail(err, MC_ETEMP, "%s did not %s within %d s", service_names[i],
	               want ? "start" : "stop", SERVICE_WAIT_MS / 1000);
}

/* Load the firewall's table, in either mode; under systemd also have it
 * loaded at boot, and fail2ban running now and at boot. */
static int firewall_start(const struct config *cfg, struct mc_error *err)
{
	char *etc = apply_etc_dir(cfg), *conf = xasprintf("%s/nftables.conf", etc);
	char *load[] = {"nft", "-f", conf, NULL};
	char *boot[] = {"systemctl", "enable", "--quiet", "nftables", NULL};
	char *fail2ban[] = {"systemctl", "enable", "--quiet", "--now", "fail2ban", NULL};
	int rc = run_ok(load, err);
	if (rc == 0 && service_use_systemd())
		rc = run_ok(boot, err) < 0 || run_ok(fail2ban, err) < 0 ? -1 : 0;
	free(conf);
	free(etc);
	return rc;
}

/* nginx's workers must reach paths.acme_webroot to serve the ACME
 * challenges: each directory down to it that others may not search
 * (/var/lib/mailctl is 2770) gets a search ACL entry for NGINX_USER, as
 * setup gives Postfix and Dovecot theirs for the database. */
static int nginx_prepare(const struct config *cfg, struct mc_error *err)
{
	char *dir = xstrdup(cfg->acme_webroot), *p = dir;
	int rc = 0;
	if (!getpwnam(NGINX_USER)) {
		free(dir);
		return 0;
	}
	while (rc == 0 && p) {
		struct stat sb;
		p = strchr(p + 1, '/');
		if (p)
			*p = '\0';
		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && !(sb.st_mode & S_IXOTH)) {
			char *acl[] = {"setfacl", "-m", "u:" NGINX_USER ":x", dir, NULL};
			rc = run_ok(acl, err);
		}
		if (p)
			*p = '/';
	}
	free(dir);
	return rc;
}

/* Start service i directly, without systemd. */
static int start_direct(const struct config *cfg, int i, struct mc_error *err)
{
	char *conf = xasprintf("%s/dovecot.conf", cfg->dovecot_dir);
	char *dovecot[] = {"dovecot", "-c", conf, NULL};
	/* Copies /etc/hosts, resolv.conf and NSS files into the chroot. */
	char *instance[] = {"/usr/lib/postfix/configure-instance.sh", "-", NULL};
	char *aliases[] = {"newaliases", "-C", cfg->postfix_dir, NULL};
	char *postfix[] = {"postfix", "-c", cfg->postfix_dir, "start", NULL};
	/* mailctld goes to the background itself once its socket is bound. */
	char *mailctld[] = {MAILCTLD_PATH,           "-l",      cfg->log_file,
	                    cfg->file ? "-c" : NULL, cfg->file, NULL};
	char *ngconf = xasprintf("%s/nginx.conf", cfg->nginx_dir);
	char *nginx[] = {"nginx", "-c", ngconf, NULL};
	int rc = i == SVC_DOVECOT    ? run_ok(dovecot, err)
	         : i == SVC_MAILCTLD ? run_ok(mailctld, err)
	         : i == SVC_NGINX    ? run_ok(nginx, err)
	         : run_ok(instance, err) < 0 || run_ok(aliases, err) < 0 || run_ok(postfix, err) < 0
	             ? -1
	             : 0;
	free(ngconf);
	free(conf);
	return rc;
}

/* SIGTERM to mailctld, SIGQUIT (finish the requests in flight) to nginx. */
static int stop_by_pid(const char *name, long pid, int sig, struct mc_error *err)
{
	if (pid > 0 && kill((pid_t)pid, sig) < 0)
		return mc_fail(err, MC_EUNAVAIL, "cannot stop %s (pid %ld): %s", name, pid,
		               mc_strerror(errno));
	return 0;
}

static int stop_direct(const struct config *cfg, int i, struct mc_error *err)
{
	char *conf = xasprintf("%s/dovecot.conf", cfg->dovecot_dir);
	char *dovecot[] = {"doveadm", "-c", conf, "stop", NULL};
	char *postfix[] = {"postfix", "-c", cfg->postfix_dir, "stop", NULL};
	int rc = 0;
	if (i == SVC_MAILCTLD) {
		char *pidfile = service_mailctld_pidfile(cfg);
		rc = stop_by_pid("mailctld", read_pid(pidfile), SIGTERM, err);
		free(pidfile);
	} else if (i == SVC_NGINX) {
		rc = stop_by_pid("nginx", service_nginx_master(cfg->nginx_dir), SIGQUIT, err);
	} else {
		rc = run_ok(i == SVC_DOVECOT ? dovecot : postfix, err);
	}
	free(conf);
	return rc;
}

/* Bring service i to state 'want' (1 running) unless it is there. */
static int change(const struct config *cfg, int i, int want, int *changed, struct mc_error *err)
{
	char *unit[] = {"systemctl", want ? "start" : "stop", (char *)service_names[i], NULL};
	*changed = 0;
	if (service_running(cfg, i) == want)
		return 0;
	int rc = i == SVC_FIREWALL                                       ? firewall_start(cfg, err)
	         : i == SVC_NGINX && want && nginx_prepare(cfg, err) < 0 ? -1
	         : service_use_systemd()                                 ? run_ok(unit, err)
	         : want                                                  ? start_direct(cfg, i, err)
	                                                                 : stop_direct(cfg, i, err);
	if (rc == 0)
		rc = wait_state(cfg, i, want, err);
	*changed = rc == 0;
	return rc;
}

int service_start(const struct config *cfg, int changed[SERVICE_COUNT], struct mc_error *err)
{
	int dummy[SERVICE_COUNT] = {0};
	int *c = changed ? changed : dummy;
	for (int i = 0; i < SERVICE_COUNT; i++)
		c[i] = 0;
	for (int i = 0; i < SERVICE_COUNT; i++)
		if (change(cfg, i, 1, &c[i], err) < 0)
			return -1;
	return 0;
}

int service_stop(const struct config *cfg, int changed[SERVICE_COUNT], struct mc_error *err)
{
	int dummy[SERVICE_COUNT] = {0};
	int *c = changed ? changed : dummy;
	for (int i = 0; i < SERVICE_COUNT; i++)
		c[i] = 0;
	/* The firewall stays (see service.h). */
	for (int i = SERVICE_COUNT - 1; i >= 0; i--)
		if (i != SVC_FIREWALL && change(cfg, i, 0, &c[i], err) < 0)
			return -1;
	return 0;
}
