/* Archive and purge of mail directories; see mailbox.h. */
#include "mailbox.h"
#include "xalloc.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *mailbox_path(const struct config *cfg, const char *domain, const char *local)
{
	if (local)
		return xasprintf("%s/%s/%s", cfg->mail_root, domain, local);
	return xasprintf("%s/%s", cfg->mail_root, domain);
}

static int mkdir_p(const char *path, struct mc_error *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			mc_fail(err, MC_EIO, "cannot create directory '%s': %s", p,
			        mc_strerror(errno));
			free(p);
			return -1;
		}
		if (c == '\0')
			break;
		*s = c;
	}
	free(p);
	return 0;
}

static char *archive_target(const struct config *cfg, const char *domain, const char *local)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (local)
		return xasprintf("%s/%s/%s.%s", cfg->archive_root, domain, local, stamp);
	return xasprintf("%s/%s.%s", cfg->archive_root, domain, stamp);
}

/* The same mailbox archived twice in one second gets "<name>-1", "-2"...;
 * an existing archive is never replaced. */
static int unique_name(char **dst, struct mc_error *err)
{
	char *base = *dst;
	for (int n = 1; access(*dst, F_OK) == 0; n++) {
		if (n > 99) {
			mc_fail(err, MC_ETEMP, "archive '%s' and 99 numbered ones exist", base);
			if (*dst != base)
				free(base);
			return -1;
		}
		if (*dst != base)
			free(*dst);
		*dst = xasprintf("%s-%d", base, n);
	}
	if (*dst != base)
		free(base);
	return 0;
}

int mailbox_archive(const struct config *cfg, const char *domain, const char *local,
                    char **archived, struct mc_error *err)
{
	struct stat sb;
	char *src = mailbox_path(cfg, domain, local), *dst = NULL, *dir = NULL;
	int rc = -1;
	*archived = NULL;
	if (lstat(src, &sb) < 0) {
		rc = errno == ENOENT
		         ? 0
		         : mc_fail(err, MC_EIO, "cannot examine '%s': %s", src, mc_strerror(errno));
		goto out;
	}
	dst = archive_target(cfg, domain, local);
	dir = local ? xasprintf("%s/%s", cfg->archive_root, domain) : xstrdup(cfg->archive_root);
	if (mkdir_p(dir, err) < 0)
		goto out;
	if (unique_name(&dst, err) < 0)
		goto out;
	if (rename(src, dst) < 0) {
		mc_fail(
		    err, MC_EIO, "cannot archive '%s' to '%s': %s%s", src, dst, mc_strerror(errno),
		    errno == EXDEV ? " (archive_root must be on the mail_root filesystem)" : "");
		goto out;
	}
	*archived = dst;
	dst = NULL;
	rc = 0;
out:
	free(src);
	free(dst);
	free(dir);
	return rc;
}

int mailbox_unarchive(const struct config *cfg, const char *domain, const char *local,
                      const char *archived, struct mc_error *err)
{
	char *dst = mailbox_path(cfg, domain, local);
	int rc = 0;
	if (rename(archived, dst) < 0)
		rc = mc_fail(err, MC_EIO, "cannot move '%s' back to '%s': %s", archived, dst,
		             mc_strerror(errno));
	free(dst);
	return rc;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int mailbox_purge(const struct config *cfg, const char *domain, const char *local,
                  struct mc_error *err)
{
	struct stat sb;
	char *path = mailbox_path(cfg, domain, local);
	int rc = 0;
	if (lstat(path, &sb) < 0) {
		if (errno != ENOENT)
			rc = mc_fail(err, MC_EIO, "cannot examine '%s': %s", path,
			             mc_strerror(errno));
	} else if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
		rc = mc_fail(err, MC_EIO, "cannot delete '%s': %s", path, mc_strerror(errno));
	}
	free(path);
	return rc;
}
