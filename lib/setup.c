/* One-command setup of a mail server (see setup.h). */
#include "setup.h"
#include "run.h"
#include "address.h"
#include "apply.h"
#include "domain.h"
#include "store.h"
#include "tls.h"
#include "user.h"
#include "xalloc.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Top-level domains that never name a public host (RFC 2606, RFC 6761,
 * RFC 6762, RFC 8375 and common private use). */
static const char *const private_tlds[] = {
    "test", "example",  "invalid", "localhost", "local", "localdomain", "lan",
    "home", "internal", "corp",    "intranet",  "arpa",  NULL,
};

#define DEMO_DOMAIN "example.test"
#define DEMO_HOST   "mail." DEMO_DOMAIN

__attribute__((format(printf, 2, 3))) static void note(struct setup_report *r, const char *fmt, ...)
{
	va_list ap;
	char buf[1200];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strbuf_addf(&r->log, "%s\n", buf);
	r->changes++;
}

/* A host name others can reach: a dot, and no private top-level domain. */
static int is_public_fqdn(const char *host)
{
	const char *tld = strrchr(host, '.');
	if (!tld || tld == host)
		return 0;
	for (const char *const *p = private_tlds; *p; p++)
		if (!strcmp(tld + 1, *p))
			return 0;
	return 1;
}

/* addr_domain_normalize()'s message without its "invalid domain 'x': ". */
static const char *reason(const struct mc_error *why)
{
	const char *p = strstr(why->msg, "': ");
	return p ? p + 3 : why->msg;
}

static int host_normalize(const char *in, char **out, struct mc_error *err)
{
	struct mc_error why;
	if (addr_domain_normalize(in, out, &why) < 0)
		return mc_fail(err, MC_EUSAGE, "invalid host name '%s': %s", in, reason(&why));
	if (!strchr(*out, '.')) {
		free(*out);
		*out = NULL;
		return mc_fail(err, MC_EUSAGE, "invalid host name '%s': not fully qualified", in);
	}
	return 0;
}

/* The host name: given, configured, or this machine's (else the demo). */
static int resolve_host(const struct config *cfg, const struct setup_request *req,
                        struct setup_plan *out, struct mc_error *err)
{
	char machine[256];
	if (req->hostname)
		return host_normalize(req->hostname, &out->hostname, err);
	if (cfg->hostname && *cfg->hostname)
		return host_normalize(cfg->hostname, &out->hostname, err);
	if (gethostname(machine, sizeof(machine)) < 0)
		machine[0] = '\0';
	machine[sizeof(machine) - 1] = '\0';
	if (is_public_fqdn(machine) && host_normalize(machine, &out->hostname, NULL) == 0)
		return 0;
	out->hostname = xstrdup(DEMO_HOST);
	out->demo = 1;
	return 0;
}

/* The domain: given, else the host name without its first label. */
static int resolve_domain(const struct setup_request *req, struct setup_plan *out,
                          struct mc_error *err)
{
	struct mc_error why;
	if (req->domain) {
		if (addr_domain_normalize(req->domain, &out->domain, &why) < 0)
			return mc_fail(err, MC_EUSAGE, "invalid domain '%s': %s", req->domain,
			               reason(&why));
		return 0;
	}
	const char *rest = strchr(out->hostname, '.') + 1;
	out->derived = 1;
	out->domain = xstrdup(out->demo ? DEMO_DOMAIN : strchr(rest, '.') ? rest : out->hostname);
	return 0;
}

static int resolve_admin(const struct config *cfg, const struct setup_request *req,
                         struct setup_plan *out, struct mc_error *err)
{
	struct mc_error why;
	char *domain = NULL, *def = xasprintf("admin@%s", out->domain);
	const char *in = req->admin                                  ? req->admin
	                 : cfg->admin_address && *cfg->admin_address ? cfg->admin_address
	                                                             : def;
	int rc = addr_normalize(in, &out->admin, NULL, &domain, &why);
	if (rc < 0)
		mc_fail(err, MC_EUSAGE, "invalid admin address '%s': %s", in, reason(&why));
	else
		out->admin_local = !strcmp(domain, out->domain);
	free(domain);
	free(def);
	return rc;
}

int setup_resolve(const struct config *cfg, const struct setup_request *req, struct setup_plan *out,
                  struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = resolve_host(cfg, req, out, err) < 0 || resolve_domain(req, out, err) < 0 ||
	                 resolve_admin(cfg, req, out, err) < 0
	             ? -1
	             : 0;
	if (rc == 0 && cfg->file && cfg->hostname && *cfg->hostname &&
	    strcmp(cfg->hostname, out->hostname))
		rc = mc_fail(err, MC_EDATA,
		             "'%s' sets hostname '%s', not '%s': change it there or leave out "
		             "--hostname",
		             cfg->file, cfg->hostname, out->hostname);
	if (rc < 0)
		setup_plan_release(out);
	return rc;
}

void setup_plan_release(struct setup_plan *p)
{
	free(p->hostname);
	free(p->domain);
	free(p->admin);
	memset(p, 0, sizeof(*p));
}

void setup_report_init(struct setup_report *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->log);
}

void setup_report_release(struct setup_report *r)
{
	strbuf_release(&r->log);
	password_free(r->password);
	r->password = NULL;
}

/* Append 'text' to 'path', or create it (0640, group mailctl when that
 * group exists: mailctld and the group's admins read it) when 'create'. */
static int write_text(const char *path, const char *text, int create, struct mc_error *err)
{
	int fd =
	    open(path,
	         create ? O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC : O_WRONLY | O_APPEND | O_CLOEXEC,
	         0640);
	if (fd < 0)
		return mc_fail(err, MC_EIO, "cannot %s '%s': %s", create ? "create" : "open", path,
		               mc_strerror(errno));
	struct group *gr = create && geteuid() == 0 ? getgrnam("mailctl") : NULL;
	if (gr && fchown(fd, (uid_t)-1, gr->gr_gid) < 0) {
		close(fd);
		return mc_fail(err, MC_EIO, "cannot give '%s' to group mailctl: %s", path,
		               mc_strerror(errno));
	}
	size_t len = strlen(text);
	int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 || !ok)
		return mc_fail(err, MC_EIO, "cannot write '%s': %s", path,
		               mc_strerror(ok ? errno : saved));
	return 0;
}

/* A new configuration: what setup was told, the vmail ids, defaults. */
static char *new_config(const struct setup_plan *p)
{
	struct strbuf sb = STRBUF_INIT;
	struct passwd *vmail = getpwnam("vmail");
	strbuf_addf(&sb,
	            "# mailctl configuration, written by 'mailctl setup'.\n"
	            "# 'mailctl config show' lists every key and its default.\n"
	            "hostname: %s\nadmin_address: %s\n",
	            p->hostname, p->admin);
	if (vmail)
		strbuf_addf(&sb, "mail:\n  vmail_uid: %u\n  vmail_gid: %u\n",
		            (unsigned)vmail->pw_uid, (unsigned)vmail->pw_gid);
	return strbuf_detach(&sb);
}

/* Does the file end in a newline (or is it empty)? */
static int ends_in_newline(const char *path)
{
	FILE *f = fopen(path, "re");
	int c = '\n';
	if (f && fseek(f, -1, SEEK_END) == 0)
		c = fgetc(f);
	if (f)
		fclose(f);
	return c == '\n';
}

int setup_config(const char *path, const struct config *cfg, const struct setup_plan *p,
                 struct setup_report *r, struct mc_error *err)
{
	if (!cfg->file) {
		char *text = new_config(p);
		int rc = write_text(path, text, 1, err);
		free(text);
		if (rc == 0)
			note(r, "wrote the configuration '%s'", path);
		return rc;
	}
	struct strbuf add = STRBUF_INIT;
	if (*cfg->hostname && *cfg->admin_address)
		return 0;
	strbuf_addf(&add, "%s# added by 'mailctl setup'\n", ends_in_newline(path) ? "" : "\n");
	if (!*cfg->hostname)
		strbuf_addf(&add, "hostname: %s\n", p->hostname);
	if (!*cfg->admin_address)
		strbuf_addf(&add, "admin_address: %s\n", p->admin);
	int rc = write_text(path, add.buf, 0, err);
	if (rc == 0)
		note(r, "added %s to '%s'",
		     !*cfg->hostname && !*cfg->admin_address ? "hostname and admin_address"
		     : !*cfg->hostname                       ? "hostname"
		                                             : "admin_address",
		     path);
	strbuf_release(&add);
	return rc;
}

/* 'path' is a directory; made with 'mode' and 'uid':'gid' when missing
 * ('uid' -1: the caller's). */
static int ensure_dir(const char *path, mode_t mode, long long uid, long long gid,
                      struct setup_report *r, struct mc_error *err)
{
	struct stat sb;
	if (stat(path, &sb) == 0)
		return S_ISDIR(sb.st_mode)
		           ? 0
		           : mc_fail(err, MC_EDATA, "'%s' exists and is not a directory", path);
	if (mkdir(path, mode) < 0 || chmod(path, mode) < 0 ||
	    (uid >= 0 && chown(path, (uid_t)uid, (gid_t)gid) < 0))
		return mc_fail(err, MC_EIO, "cannot create '%s': %s", path, mc_strerror(errno));
	note(r, "created directory '%s'", path);
	return 0;
}

/* The directories the database, keys and mail live in. */
static int setup_dirs(const struct config *cfg, struct setup_report *r, struct mc_error *err)
{
	char *db = xstrdup(cfg->database), *slash = strrchr(db, '/');
	if (slash && slash != db)
		*slash = '\0';
	int rc =
	    ensure_dir(db, 0755, -1, -1, r, err) < 0 ||
	            ensure_dir(cfg->key_dir, 0700, -1, -1, r, err) < 0 ||
	            ensure_dir(cfg->mail_root, 0770, cfg->vmail_uid, cfg->vmail_gid, r, err) < 0 ||
	            ensure_dir(cfg->archive_root, 0700, cfg->vmail_uid, cfg->vmail_gid, r, err) < 0
	        ? -1
	        : 0;
	free(db);
	return rc;
}

static int setup_db(struct mc_ctx *ctx, struct setup_report *r, struct mc_error *err)
{
	int from, to;
	if (store_init(ctx->cfg->database, &from, &to, err) < 0)
		return -1;
	if (from != to)
		note(r, "%s the database '%s' (schema %d)", from ? "migrated" : "created",
		     ctx->cfg->database, to);
	return store_open(&ctx->st, ctx->cfg->database, STORE_WRITE, err);
}

/* Postfix (proxymap) and Dovecot (auth) read the database, and only
 * read it: one named ACL entry each on the file, and search on its
 * directory, never the writing group. Users that do not exist are
 * skipped (a machine without that server). */
static int setup_readers(const struct config *cfg, struct setup_report *r, struct mc_error *err)
{
	static const char *const readers[] = {"postfix", "dovecot"};
	char *dir = xstrdup(cfg->database), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir)
		*slash = '\0';
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		struct strbuf out = STRBUF_INIT;
		char *want = xasprintf("user:%s:r--", readers[i]);
		char *on_dir = xasprintf("u:%s:x", readers[i]),
		     *on_db = xasprintf("u:%s:r", readers[i]);
		char *get[] = {"getfacl", "-p", cfg->database, NULL};
		char *set_dir[] = {"setfacl", "-m", on_dir, dir, NULL};
		char *set_db[] = {"setfacl", "-m", on_db, cfg->database, NULL};
		if (getpwnam(readers[i]) &&
		    (run_capture(get, &out) != 0 || !strstr(out.buf, want))) {
			if (run_capture(set_dir, NULL) != 0 || run_capture(set_db, NULL) != 0)
				rc = mc_fail(
				    err, MC_EIO,
				    "cannot let '%s' read '%s' (setfacl; apt-get install acl)",
				    readers[i], cfg->database);
			else
				note(r, "%s may read the database", readers[i]);
		}
		strbuf_release(&out);
		free(want);
		free(on_dir);
		free(on_db);
	}
	free(dir);
	return rc;
}

static int setup_tls(const struct config *cfg, const struct setup_plan *p, struct setup_report *r,
                     struct mc_error *err)
{
	int key, cert;
	if (tls_ensure(cfg->tls_key_file, cfg->tls_cert_file, p->hostname, &key, &cert, err) < 0)
		return -1;
	if (key)
		note(r, "made the TLS key '%s'", cfg->tls_key_file);
	if (cert)
		note(r, "made a self-signed certificate '%s' for %s, valid %d days",
		     cfg->tls_cert_file, p->hostname, TLS_SELF_SIGNED_DAYS);
	return 0;
}

static int setup_domain(struct mc_ctx *ctx, const struct setup_plan *p, struct setup_report *r,
                        struct mc_error *err)
{
	struct domain_row row;
	struct domain_added added;
	int found = store_domain_get(ctx->st, p->domain, &row, err);
	if (found < 0)
		return -1;
	if (found) {
		domain_row_release(&row);
		return 0;
	}
	if (domain_add(ctx, p->domain, p->admin, &added, err) < 0)
		return -1;
	note(r, "added domain '%s' (DKIM selector '%s'; postmaster@ and abuse@ -> %s)", added.name,
	     added.dkim_selector, added.postmaster_target);
	domain_added_release(&added);
	return 0;
}

/* The admin's mailbox, with a generated password, if it is ours. */
static int setup_admin(struct mc_ctx *ctx, const struct setup_plan *p, struct setup_report *r,
                       struct mc_error *err)
{
	struct user_row row;
	char *pw = NULL, *address = NULL;
	if (!p->admin_local)
		return 0;
	int found = store_user_get(ctx->st, p->admin, &row, err);
	if (found < 0)
		return -1;
	if (found) {
		user_row_release(&row);
		return 0;
	}
	struct user_spec spec = {p->admin, NULL, -1, NULL, 1};
	if (password_generate(&pw, err) < 0)
		return -1;
	spec.password = pw;
	if (user_add(ctx, &spec, &address, err) < 0) {
		password_free(pw);
		return -1;
	}
	note(r, "added admin user '%s'", address);
	free(address);
	r->password = pw;
	return 0;
}

/* 'mailctl apply': plan, validate, install, reload what runs. */
static int setup_apply(const struct config *cfg, const struct setup_plan *p, struct setup_report *r,
                       struct mc_error *err)
{
	struct apply_plan plan;
	char *reloaded = NULL;
	size_t changed = 0;
	if (apply_plan(cfg, p->hostname, &plan, err) < 0)
		return -1;
	for (size_t i = 0; i < plan.n; i++)
		changed += plan.v[i].changed;
	int rc = changed == 0                     ? 0
	         : apply_validate(&plan, err) < 0 ? -1
	         : apply_install(&plan, err) < 0  ? -1
	                                          : apply_reload(&plan, &reloaded, err);
	if (rc == 0 && changed)
		note(r, "installed %zu of %zu configuration file(s)%s%s", changed, plan.n,
		     reloaded && *reloaded ? "; reloaded " : "", reloaded ? reloaded : "");
	free(reloaded);
	apply_plan_release(&plan);
	return rc;
}

/* A re-run without --domain keeps the domains there are: the first
 * stands for them. */
static int keep_domains(struct mc_ctx *ctx, struct setup_plan *p, struct mc_error *err)
{
	struct domain_list l;
	if (!p->derived)
		return 0;
	if (store_domain_list(ctx->st, &l, err) < 0)
		return -1;
	if (l.n > 0) {
		free(p->domain);
		p->domain = xstrdup(l.v[0].name);
		p->admin_local = 0;
		p->derived = 2;
	}
	domain_list_release(&l);
	return 0;
}

int setup_run(struct mc_ctx *ctx, struct setup_plan *p, struct setup_report *r,
              struct mc_error *err)
{
	if (setup_dirs(ctx->cfg, r, err) < 0 || setup_db(ctx, r, err) < 0 ||
	    setup_readers(ctx->cfg, r, err) < 0 || keep_domains(ctx, p, err) < 0 ||
	    setup_tls(ctx->cfg, p, r, err) < 0 ||
	    (p->derived != 2 && setup_domain(ctx, p, r, err) < 0) ||
	    setup_admin(ctx, p, r, err) < 0)
		return -1;
	return setup_apply(ctx->cfg, p, r, err);
}
