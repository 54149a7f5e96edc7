/* Rendering templates/ onto the system; see apply.h. The services
 * (staging, validation, reload) are in apply_service.c. */
#include "apply.h"
#include "apply_int.h"
#include "run.h"
#include "template.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int apply_read_file(const char *path, struct strbuf *sb)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(sb, buf, n);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : 0;
}

int apply_write_atomic(const char *path, const char *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct mc_error *err)
{
	char *tmp = xasprintf("%s.mailctl-new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600), rc = -1;
	if (fd < 0) {
		mc_fail(err, MC_EIO, "cannot write '%s': %s", tmp, mc_strerror(errno));
		goto out;
	}
	if (write(fd, data, len) != (ssize_t)len || fchown(fd, uid, gid) < 0 ||
	    fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		mc_fail(err, MC_EIO, "cannot write '%s': %s", tmp, mc_strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		mc_fail(err, MC_EIO, "cannot install '%s': %s", path, mc_strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int apply_make_parents(const char *path, struct mc_error *err)
{
	char *dir = xstrdup(path);
	int rc = 0;
	for (char *p = strchr(dir + 1, '/'); rc == 0 && p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			rc =
			    mc_fail(err, MC_EIO, "cannot create '%s': %s", dir, mc_strerror(errno));
		*p = '/';
	}
	free(dir);
	return rc;
}

/* Owner and group by name ("root:postfix"). */
static int parse_owner(const char *s, uid_t *uid, gid_t *gid, struct mc_error *err)
{
	char user[64], group[64];
	if (sscanf(s, "%63[^:]:%63s", user, group) != 2)
		return mc_fail(err, MC_EDATA, "manifest: owner '%s' is not USER:GROUP", s);
	struct passwd *pw = getpwnam(user);
	struct group *gr = getgrnam(group);
	if (!pw || !gr)
		return mc_fail(err, MC_EDATA, "manifest: no such %s '%s' on this system",
		               pw ? "group" : "user", pw ? group : user);
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
	return 0;
}

/* Compare the rendered item with what is installed. */
static void compare(struct apply_item *it)
{
	struct strbuf cur = STRBUF_INIT;
	struct stat sb;
	it->exists = stat(it->dest, &sb) == 0 && S_ISREG(sb.st_mode);
	it->changed =
	    !it->exists || apply_read_file(it->dest, &cur) < 0 || cur.len != it->content.len ||
	    memcmp(cur.buf, it->content.buf, cur.len) != 0 || (sb.st_mode & 07777) != it->mode ||
	    sb.st_uid != it->uid || sb.st_gid != it->gid;
	strbuf_release(&cur);
}

/* One manifest line into an item. 1 = item made, 0 = blank or comment. */
static int plan_line(const struct config *cfg, const struct template_vars *vars, char *line,
                     int lineno, struct apply_plan *p, struct mc_error *err)
{
	char tmpl[256], dest[512], mode[16], owner[128], service[32];
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	int n = sscanf(line, "%255s %511s %15s %127s %31s", tmpl, dest, mode, owner, service);
	if (n <= 0)
		return 0;
	if (n != 5 || strstr(tmpl, ".."))
		return mc_fail(err, MC_EDATA,
		               "manifest:%d: want TEMPLATE DEST MODE OWNER:GROUP SERVICE", lineno);
	if (!apply_service_known(service))
		return mc_fail(err, MC_EDATA, "manifest:%d: unknown service '%s'", lineno, service);
	p->v = xgrow(p->v, &p->alloc, p->n + 1, sizeof(*p->v));
	struct apply_item *it = &p->v[p->n++];
	memset(it, 0, sizeof(*it));
	strbuf_init(&it->content);
	it->template = xstrdup(tmpl);
	it->service = xstrdup(service);
	it->mode = (mode_t)strtol(mode, NULL, 8);
	struct strbuf d = STRBUF_INIT;
	char *path = xasprintf("%s/%s", cfg->template_dir, tmpl);
	int rc = parse_owner(owner, &it->uid, &it->gid, err);
	if (rc == 0)
		rc = template_render("manifest", dest, strlen(dest), vars, &d, err);
	if (rc == 0)
		rc = template_render_file(path, vars, &it->content, err);
	it->dest = strbuf_detach(&d);
	free(path);
	if (rc == 0 && it->dest[0] != '/')
		rc = mc_fail(err, MC_EDATA, "manifest:%d: destination '%s' is not absolute", lineno,
		             it->dest);
	if (rc == 0)
		compare(it);
	return rc < 0 ? -1 : 1;
}

/* The directory holding 'path' ("/" for "/x"); caller frees. */
static char *parent_dir(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	return dir;
}

char *apply_etc_dir(const struct config *cfg)
{
	return parent_dir(cfg->postfix_dir);
}

/* Every variable a template may name (see apply.h). */
static void plan_vars(const struct config *cfg, const char *mailhost, struct template_vars *vars)
{
	char *etc = apply_etc_dir(cfg), *log = parent_dir(cfg->log_file);
	template_vars_init(vars);
	template_vars_from_config(vars, cfg);
	template_vars_set(vars, "mailhost", mailhost);
	template_vars_set(vars, "etc_dir", etc);
	template_vars_set(vars, "log_dir", log);
	free(etc);
	free(log);
}

int apply_plan(const struct config *cfg, const char *mailhost, struct apply_plan *out,
               struct mc_error *err)
{
	struct template_vars vars;
	char *manifest = xasprintf("%s/manifest", cfg->template_dir), line[1024];
	FILE *f = fopen(manifest, "re");
	int rc = 0, lineno = 0;
	memset(out, 0, sizeof(*out));
	if (!f) {
		rc = mc_fail(err, MC_EIO, "cannot open '%s': %s", manifest, mc_strerror(errno));
		free(manifest);
		return rc;
	}
	plan_vars(cfg, mailhost, &vars);
	while (rc >= 0 && fgets(line, sizeof(line), f))
		rc = plan_line(cfg, &vars, line, ++lineno, out, err);
	fclose(f);
	template_vars_release(&vars);
	free(manifest);
	char *db = parent_dir(cfg->database);
	out->backup_dir = xasprintf("%s/previous", db);
	out->postfix_dir = xstrdup(cfg->postfix_dir);
	out->dovecot_dir = xstrdup(cfg->dovecot_dir);
	out->nginx_dir = xstrdup(cfg->nginx_dir);
	out->etc_dir = apply_etc_dir(cfg);
	free(db);
	if (rc < 0)
		apply_plan_release(out);
	return rc < 0 ? -1 : 0;
}

void apply_plan_release(struct apply_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].template);
		free(p->v[i].dest);
		free(p->v[i].service);
		strbuf_release(&p->v[i].content);
	}
	free(p->v);
	free(p->backup_dir);
	free(p->postfix_dir);
	free(p->dovecot_dir);
	free(p->nginx_dir);
	free(p->etc_dir);
	memset(p, 0, sizeof(*p));
}

char *apply_changed_services(const struct apply_plan *p)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < p->n; i++) {
		const char *s = p->v[i].service;
		if (!p->v[i].changed || !strcmp(s, "none"))
			continue;
		size_t len = strlen(s);
		const char *at = strstr(sb.buf, s);
		if (at && (at[len] == ',' || at[len] == '\0'))
			continue;
		strbuf_addf(&sb, "%s%s", sb.len ? "," : "", s);
	}
	return strbuf_detach(&sb);
}

/* A private scratch directory; caller removes it with apply_rm_tree(). */
char *apply_scratch(struct mc_error *err)
{
	char *dir = xstrdup("/tmp/mailctl-apply.XXXXXX");
	if (!mkdtemp(dir)) {
		mc_fail(err, MC_EIO, "cannot make a scratch directory: %s", mc_strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

void apply_rm_tree(char *dir)
{
	struct strbuf ignored = STRBUF_INIT;
	char *argv[] = {"rm", "-rf", "--", dir, NULL};
	run_capture(argv, &ignored);
	strbuf_release(&ignored);
	free(dir);
}

int apply_diff(const struct apply_plan *p, struct strbuf *out, struct mc_error *err)
{
	char *dir = apply_scratch(err);
	if (!dir)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		const struct apply_item *it = &p->v[i];
		if (!it->changed)
			continue;
		char *tmp = xasprintf("%s/new", dir);
		char *label_new = xasprintf("%s (new)", it->dest);
		char *argv[] = {"diff",
		                "-u",
		                "--label",
		                it->dest,
		                "--label",
		                label_new,
		                it->exists ? it->dest : "/dev/null",
		                tmp,
		                NULL};
		if (apply_write_atomic(tmp, it->content.buf, it->content.len, 0600, getuid(),
		                       getgid(), err) < 0 ||
		    run_capture(argv, out) < 0)
			rc = rc ? rc : mc_fail(err, MC_EIO, "cannot run diff for '%s'", it->dest);
		if (it->exists) {
			struct stat sb;
			if (stat(it->dest, &sb) == 0 &&
			    ((sb.st_mode & 07777) != it->mode || sb.st_uid != it->uid ||
			     sb.st_gid != it->gid))
				strbuf_addf(out, "mode/owner of %s: %04o %u:%u -> %04o %u:%u\n",
				            it->dest, (unsigned)(sb.st_mode & 07777),
				            (unsigned)sb.st_uid, (unsigned)sb.st_gid,
				            (unsigned)it->mode, (unsigned)it->uid,
				            (unsigned)it->gid);
		}
		free(tmp);
		free(label_new);
	}
	apply_rm_tree(dir);
	return rc;
}

/* Save what the changed files replace: <backup>/<k> and an index line
 * "<k> <existed> <dest>" each. */
static int backup(const struct apply_plan *p, struct mc_error *err)
{
	struct strbuf index = STRBUF_INIT;
	char *old = xstrdup(p->backup_dir);
	apply_rm_tree(old);
	if (mkdir(p->backup_dir, 0700) < 0)
		return mc_fail(err, MC_EIO, "cannot create '%s': %s", p->backup_dir,
		               mc_strerror(errno));
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		const struct apply_item *it = &p->v[i];
		struct strbuf cur = STRBUF_INIT;
		struct stat sb;
		if (!it->changed)
			continue;
		strbuf_addf(&index, "%zu %d %s\n", i, it->exists, it->dest);
		if (it->exists && stat(it->dest, &sb) == 0 &&
		    apply_read_file(it->dest, &cur) == 0) {
			char *copy = xasprintf("%s/%zu", p->backup_dir, i);
			rc = apply_write_atomic(copy, cur.buf, cur.len, sb.st_mode & 07777,
			                        sb.st_uid, sb.st_gid, err);
			free(copy);
		} else if (it->exists) {
			rc = mc_fail(err, MC_EIO, "cannot read '%s' to keep it: %s", it->dest,
			             mc_strerror(errno));
		}
		strbuf_release(&cur);
	}
	char *path = xasprintf("%s/index", p->backup_dir);
	if (rc == 0)
		rc = apply_write_atomic(path, index.buf, index.len, 0600, getuid(), getgid(), err);
	free(path);
	strbuf_release(&index);
	return rc;
}

int apply_install(const struct apply_plan *p, struct mc_error *err)
{
	size_t changed = 0;
	for (size_t i = 0; i < p->n; i++)
		changed += p->v[i].changed;
	/* Nothing to write: keep the last real change's copies for rollback. */
	if (changed == 0)
		return 0;
	if (backup(p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		const struct apply_item *it = &p->v[i];
		if (it->changed && (apply_make_parents(it->dest, err) < 0 ||
		                    apply_write_atomic(it->dest, it->content.buf, it->content.len,
		                                       it->mode, it->uid, it->gid, err) < 0))
			return -1;
	}
	return 0;
}

int apply_rollback(const struct config *cfg, size_t *restored, struct mc_error *err)
{
	char *db = xstrdup(cfg->database), *bdir = xasprintf("%s/previous", dirname(db));
	char *index = xasprintf("%s/index", bdir), line[1100], dest[1024];
	FILE *f = fopen(index, "re");
	size_t k;
	int existed, rc = 0;
	*restored = 0;
	if (!f) {
		rc = mc_fail(err, MC_EDATA,
		             "nothing to roll back: no earlier apply is kept in '%s'", bdir);
		goto out;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		struct strbuf sb = STRBUF_INIT;
		struct stat st;
		if (sscanf(line, "%zu %d %1023[^\n]", &k, &existed, dest) != 3)
			continue;
		char *copy = xasprintf("%s/%zu", bdir, k);
		if (!existed)
			rc = unlink(dest) == 0 || errno == ENOENT
			         ? 0
			         : mc_fail(err, MC_EIO, "cannot remove '%s': %s", dest,
			                   mc_strerror(errno));
		else if (stat(copy, &st) < 0 || apply_read_file(copy, &sb) < 0)
			rc = mc_fail(err, MC_EIO, "cannot read the kept copy '%s'", copy);
		else
			rc = apply_write_atomic(dest, sb.buf, sb.len, st.st_mode & 07777, st.st_uid,
			                        st.st_gid, err);
		*restored += rc == 0;
		strbuf_release(&sb);
		free(copy);
	}
	fclose(f);
	if (rc == 0)
		apply_rm_tree(xstrdup(bdir));
out:
	free(index);
	free(bdir);
	free(db);
	return rc;
}
