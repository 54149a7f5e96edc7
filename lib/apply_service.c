/* The services 'mailctl apply' validates and reloads (see apply.h): one
 * row each of what a check needs staged, the check, and the reload. */
#include "apply_int.h"
#include "run.h"
#include "service.h"
#include "xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct svc {
	const char *name; /* manifest SERVICE */
	/* Where its files live: every planned file below it is staged. */
	char *(*dir)(const struct apply_plan *p);
	/* Installed files a check needs besides the planned ones, relative
	 * to dir; NULL: a copy of the whole directory (fail2ban). */
	const char *const *needed;
	int (*check)(const struct apply_plan *p, const char *stage, struct mc_error *err);
	/* 1 reloaded, 0 not running, -1 a running service did not reload. */
	int (*reload)(const struct apply_plan *p, struct mc_error *err);
};

static char *postfix_dir(const struct apply_plan *p)
{
	return xstrdup(p->postfix_dir);
}

static char *dovecot_dir(const struct apply_plan *p)
{
	return xstrdup(p->dovecot_dir);
}

static char *nginx_dir(const struct apply_plan *p)
{
	return xstrdup(p->nginx_dir);
}

static char *etc_dir(const struct apply_plan *p)
{
	return xstrdup(p->etc_dir);
}

static char *fail2ban_dir(const struct apply_plan *p)
{
	return xasprintf("%s/fail2ban", p->etc_dir);
}

/* Run one validator; its output becomes the error message. */
static int check(char *const argv[], const char *what, struct mc_error *err)
{
	struct strbuf out = STRBUF_INIT;
	int status = run_capture(argv, &out);
	strbuf_rtrim(&out);
	int rc = status == 0  ? 0
	         : status < 0 ? mc_fail(err, MC_EDATA,
	                                "the new %s configuration cannot be checked: '%s' "
	                                "does not run",
	                                what, argv[0])
	                      : mc_fail(err, MC_EDATA, "the new %s configuration is invalid: %s",
	                                what, out.buf);
	strbuf_release(&out);
	return rc;
}

static int postfix_check(const struct apply_plan *p, const char *stage, struct mc_error *err)
{
	(void)p;
	char *conf[] = {"postconf", "-c", (char *)stage, "-n", NULL};
	char *pf_check[] = {"postfix", "-c", (char *)stage, "check", NULL};
	return check(conf, "Postfix", err) < 0 || check(pf_check, "Postfix", err) < 0 ? -1 : 0;
}

static int dovecot_check(const struct apply_plan *p, const char *stage, struct mc_error *err)
{
	(void)p;
	char *conf = xasprintf("%s/dovecot.conf", stage);
	char *argv[] = {"doveconf", "-n", "-c", conf, NULL};
	int rc = check(argv, "Dovecot", err);
	free(conf);
	return rc;
}

/* nginx.conf includes mailctl.conf by a relative name: nginx resolves it
 * in the directory of the file given with -c, the stage. 'nginx -t'
 * creates the pid file: the stage's, not that of the nginx running. */
static int nginx_check(const struct apply_plan *p, const char *stage, struct mc_error *err)
{
	(void)p;
	char *conf = xasprintf("%s/nginx.conf", stage),
	     *pid = xasprintf("pid %s/nginx.pid;", stage);
	char *argv[] = {"nginx", "-t", "-q", "-c", conf, "-g", pid, NULL};
	int rc = check(argv, "nginx", err);
	free(conf);
	free(pid);
	return rc;
}

static int nftables_check(const struct apply_plan *p, const char *stage, struct mc_error *err)
{
	(void)p;
	char *conf = xasprintf("%s/nftables.conf", stage);
	char *argv[] = {"nft", "-c", "-f", conf, NULL};
	int rc = check(argv, "nftables", err);
	free(conf);
	return rc;
}

/* 'fail2ban-client -t' also wants every log file to exist, which they do
 * not before the servers' first start; '-d' reads every jail, filter and
 * action the same way, and says ERROR for each it would skip. */
static int fail2ban_check(const struct apply_plan *p, const char *stage, struct mc_error *err)
{
	(void)p;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	char *argv[] = {"sh", "-c",          "fail2ban-client -c \"$1\" -d >/dev/null",
	                "sh", (char *)stage, NULL};
	int status = run_capture(argv, &out), rc = 0;
	for (char *line = out.buf, *end; *line; line = end + (*end != '\0')) {
		end = line + strcspn(line, "\n");
		char *e = strstr(line, " ERROR ");
		if (e && e < end)
			strbuf_addf(&why, "%s%.*s", why.len ? "; " : "", (int)(end - e - 7),
			            e + 7 + strspn(e + 7, " "));
	}
	strbuf_rtrim(&out);
	if (status != 0 || why.len)
		rc = mc_fail(err, MC_EDATA, "the new fail2ban configuration is invalid: %s",
		             why.len   ? why.buf
		             : out.len ? out.buf
		                       : "'fail2ban-client' does not run");
	strbuf_release(&out);
	strbuf_release(&why);
	return rc;
}

/* Run argv; 0 when it exits 0. */
static int ok(char *const argv[])
{
	return run_capture(argv, NULL) == 0 ? 0 : -1;
}

static int postfix_reload(const struct apply_plan *p, struct mc_error *err)
{
	char *status[] = {"postfix", "-c", p->postfix_dir, "status", NULL};
	char *reload[] = {"postfix", "-c", p->postfix_dir, "reload", NULL};
	if (ok(status) < 0)
		return 0;
	return ok(reload) == 0
	           ? 1
	           : mc_fail(err, MC_ETEMP, "postfix did not reload: run 'postfix reload'");
}

/* doveadm fails when Dovecot does not run: that is "not running". */
static int dovecot_reload(const struct apply_plan *p, struct mc_error *err)
{
	(void)err;
	char *conf = xasprintf("%s/dovecot.conf", p->dovecot_dir);
	char *reload[] = {"doveadm", "-c", conf, "reload", NULL};
	int rc = ok(reload) == 0;
	free(conf);
	return rc;
}

static int nginx_reload(const struct apply_plan *p, struct mc_error *err)
{
	char *active[] = {"systemctl", "is-active", "--quiet", "nginx", NULL};
	char *reload[] = {"systemctl", "reload", "nginx", NULL};
	if (service_use_systemd()) {
		if (ok(active) < 0)
			return 0;
		return ok(reload) == 0
		           ? 1
		           : mc_fail(err, MC_ETEMP,
		                     "nginx did not reload: run 'systemctl reload nginx'");
	}
	long pid = service_nginx_master(p->nginx_dir);
	if (pid <= 0)
		return 0;
	return kill((pid_t)pid, SIGHUP) == 0
	           ? 1
	           : mc_fail(err, MC_ETEMP, "nginx (pid %ld) did not reload: %s", pid,
	                     mc_strerror(errno));
}

static int nftables_reload(const struct apply_plan *p, struct mc_error *err)
{
	struct strbuf out = STRBUF_INIT;
	char *conf = xasprintf("%s/nftables.conf", p->etc_dir);
	char *load[] = {"nft", "-f", conf, NULL};
	int rc = 0;
	if (service_firewall_loaded()) {
		rc = run_capture(load, &out) == 0 ? 1 : -1;
		strbuf_rtrim(&out);
		if (rc < 0)
			mc_fail(err, MC_ETEMP, "the firewall did not reload: %s", out.buf);
	}
	strbuf_release(&out);
	free(conf);
	return rc;
}

/* Only a fail2ban that reads this configuration directory answers. */
static int fail2ban_reload(const struct apply_plan *p, struct mc_error *err)
{
	char *dir = fail2ban_dir(p);
	char *ping[] = {"fail2ban-client", "-c", dir, "ping", NULL};
	char *reload[] = {"fail2ban-client", "-c", dir, "reload", NULL};
	int rc = 0;
	if (ok(ping) == 0)
		rc = ok(reload) == 0
		         ? 1
		         : mc_fail(err, MC_ETEMP,
		                   "fail2ban did not reload: run 'fail2ban-client reload'");
	free(dir);
	return rc;
}

static const char *const pf_files[] = {"main.cf", "master.cf", NULL};
static const char *const dc_files[] = {"dovecot.conf", NULL};
static const char *const ng_files[] = {"nginx.conf", "mailctl.conf", NULL};
static const char *const nf_files[] = {"nftables.conf", NULL};
static const struct svc services[] = {
    {"postfix", postfix_dir, pf_files, postfix_check, postfix_reload},
    {"dovecot", dovecot_dir, dc_files, dovecot_check, dovecot_reload},
    {"nginx", nginx_dir, ng_files, nginx_check, nginx_reload},
    {"nftables", etc_dir, nf_files, nftables_check, nftables_reload},
    {"fail2ban", fail2ban_dir, NULL, fail2ban_check, fail2ban_reload},
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

int apply_service_known(const char *name)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (!strcmp(services[i].name, name))
			return 1;
	return !strcmp(name, "none");
}

/* 1 when a file of service 's' changes. */
static int changes(const struct apply_plan *p, const struct svc *s)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].changed && !strcmp(p->v[i].service, s->name))
			return 1;
	return 0;
}

/* A private instance's fail2ban directory holds only our jail: the
 * check then reads the system's own configuration around it. */
static int copy_tree(const char *dir, const char *stage, struct mc_error *err)
{
	struct stat sb;
	char *jail = xasprintf("%s/jail.conf", dir), *from = xasprintf("%s/.", dir);
	if (stat(jail, &sb) < 0) {
		free(from);
		from = xstrdup("/etc/fail2ban/.");
	}
	char *argv[] = {"cp", "-a", "--", from, (char *)stage, NULL};
	int rc = ok(argv) == 0 ? 0 : mc_fail(err, MC_EIO, "cannot copy '%s' to check it", from);
	free(jail);
	free(from);
	return rc;
}

/* Copy what service 's' needs from 'dir' into 'stage', then every file
 * the plan has for it below 'dir', at the same relative path. */
static int stage(const struct apply_plan *p, const struct svc *s, const char *dir,
                 const char *stage_dir, struct mc_error *err)
{
	size_t len = strlen(dir);
	int rc = s->needed ? 0 : copy_tree(dir, stage_dir, err);
	for (const char *const *f = s->needed; rc == 0 && f && *f; f++) {
		struct strbuf sb = STRBUF_INIT;
		char *live = xasprintf("%s/%s", dir, *f), *dst = xasprintf("%s/%s", stage_dir, *f);
		if (apply_read_file(live, &sb) == 0)
			rc = apply_write_atomic(dst, sb.buf, sb.len, 0644, getuid(), getgid(), err);
		strbuf_release(&sb);
		free(live);
		free(dst);
	}
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		const struct apply_item *it = &p->v[i];
		if (strcmp(it->service, s->name) || strncmp(it->dest, dir, len) ||
		    it->dest[len] != '/')
			continue;
		char *dst = xasprintf("%s%s", stage_dir, it->dest + len);
		rc = apply_make_parents(dst, err) < 0
		         ? -1
		         : apply_write_atomic(dst, it->content.buf, it->content.len, 0644, getuid(),
		                              getgid(), err);
		free(dst);
	}
	return rc;
}

static int validate_one(const struct apply_plan *p, const struct svc *s, struct mc_error *err)
{
	char *stage_dir = apply_scratch(err);
	if (!stage_dir)
		return -1;
	char *dir = s->dir(p);
	int rc = stage(p, s, dir, stage_dir, err);
	if (rc == 0)
		rc = s->check(p, stage_dir, err);
	free(dir);
	apply_rm_tree(stage_dir);
	return rc;
}

int apply_validate(const struct apply_plan *p, struct mc_error *err)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (changes(p, &services[i]) && validate_one(p, &services[i], err) < 0)
			return -1;
	return 0;
}

int apply_reload(const struct apply_plan *p, char **reloaded, struct mc_error *err)
{
	struct strbuf done = STRBUF_INIT;
	int rc = 0;
	/* Every changed service gets its reload; the first failure is kept. */
	for (size_t i = 0; i < NSERVICES; i++) {
		struct mc_error e = {0};
		if (!changes(p, &services[i]))
			continue;
		int r = services[i].reload(p, &e);
		if (r > 0)
			strbuf_addf(&done, "%s%s", done.len ? "," : "", services[i].name);
		else if (r < 0 && rc == 0)
			rc = -1, *err = e;
	}
	*reloaded = strbuf_detach(&done);
	return rc;
}
