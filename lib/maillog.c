/* Reading the mail log; see maillog.h. */
#include "maillog.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_READ (1024 * 1024)

static int open_file(struct maillog *m, struct mc_error *err)
{
	struct stat st;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mc_fail(err, MC_EIO, "cannot open '%s': %s", m->path, mc_strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return mc_fail(err, MC_EIO, "cannot read '%s': %s", m->path, mc_strerror(e));
	}
	m->fd = fd;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->off = 0;
	strbuf_reset(&m->part);
	return 0;
}

/* Append the complete lines of 'buf' (after what 'part' holds) to 'out'. */
static int split(struct maillog *m, const char *buf, size_t len, struct maillog_lines *out)
{
	int n = 0;
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			strbuf_add(&m->part, p, (size_t)(end - p));
			break;
		}
		strbuf_add(&m->part, p, (size_t)(nl - p));
		strbuf_rtrim(&m->part);
		out->v = xgrow(out->v, &out->alloc, out->n + 2, sizeof(*out->v));
		out->v[out->n++] = strbuf_detach(&m->part);
		out->v[out->n] = NULL;
		n++;
		p = nl + 1;
	}
	return n;
}

/* Read what was added to the open file, up to the per-poll limit. */
static int read_new(struct maillog *m, struct maillog_lines *out, struct mc_error *err)
{
	char buf[65536];
	size_t total = 0;
	int lines = 0;
	while (total < m->max_read) {
		ssize_t k = pread(m->fd, buf, sizeof(buf), m->off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return mc_fail(err, MC_EIO, "cannot read '%s': %s", m->path,
			               mc_strerror(errno));
		if (k == 0)
			break;
		m->off += k;
		total += (size_t)k;
		lines += split(m, buf, (size_t)k, out);
	}
	return lines;
}

/* Skip to the last 'tail' bytes, and past the line that cut. */
static int seek_tail(struct maillog *m, size_t tail, struct mc_error *err)
{
	struct stat st;
	char buf[4096];
	ssize_t k;
	if (fstat(m->fd, &st) < 0)
		return mc_fail(err, MC_EIO, "cannot read '%s': %s", m->path, mc_strerror(errno));
	if ((size_t)st.st_size <= tail)
		return 0;
	/* From the byte before, so a cut right after a line end loses nothing. */
	m->off = st.st_size - (off_t)tail - 1;
	while ((k = pread(m->fd, buf, sizeof(buf), m->off)) > 0) {
		const char *nl = memchr(buf, '\n', (size_t)k);
		if (nl) {
			m->off += nl - buf + 1;
			return 0;
		}
		m->off += k;
	}
	if (k < 0)
		return mc_fail(err, MC_EIO, "cannot read '%s': %s", m->path, mc_strerror(errno));
	return 0;
}

/* Open the file; the first time only its tail is read. */
static int open_at_tail(struct maillog *m, struct mc_error *err)
{
	if (open_file(m, err) < 0)
		return -1;
	if (!m->opened) {
		m->opened = 1;
		return seek_tail(m, m->tail, err);
	}
	return 0;
}

int maillog_open(struct maillog *m, const char *path, size_t tail, struct maillog_lines *out,
                 struct mc_error *err)
{
	memset(m, 0, sizeof(*m));
	m->path = xstrdup(path);
	m->fd = -1;
	m->max_read = MAX_READ;
	m->tail = tail;
	strbuf_init(&m->part);
	if (open_at_tail(m, err) < 0)
		return -1;
	return read_new(m, out, err) < 0 ? -1 : 0;
}

/* 1 when the path names another file than the open one, or none. */
static int rotated(const struct maillog *m)
{
	struct stat st;
	return stat(m->path, &st) < 0 || st.st_ino != m->ino || st.st_dev != m->dev;
}

int maillog_poll(struct maillog *m, struct maillog_lines *out, int *restarted, struct mc_error *err)
{
	struct stat st;
	int n = 0;
	*restarted = 0;
	if (m->fd >= 0 && rotated(m)) {
		/* What was written to the old file before it moved, then the new. */
		n = read_new(m, out, err);
		if (access(m->path, F_OK) < 0)
			return n; /* the new file is not there yet */
		close(m->fd);
		m->fd = -1;
	}
	if (m->fd < 0) {
		int first = !m->opened;
		if (open_at_tail(m, err) < 0)
			return -1;
		*restarted = !first;
	} else if (fstat(m->fd, &st) == 0 && st.st_size < m->off) {
		m->off = 0; /* truncated in place (copytruncate) */
		strbuf_reset(&m->part);
		*restarted = 1;
	}
	int k = read_new(m, out, err);
	return k < 0 ? -1 : n + k;
}

void maillog_close(struct maillog *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m->path);
	strbuf_release(&m->part);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void maillog_lines_release(struct maillog_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- queue ids and the trace ---- */

/* The alphabet of Postfix's long queue ids (safe_ultostr(): no vowels);
 * the time part may hold 'z', the inode part after the last 'z' may not. */
static const char safe_chars[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/* 1 when s[0..len) is a queue id: short (upper-case hex, from 6 digits)
 * or long ("<time, 10 or more>z<inode>"). */
static int is_queue_id(const char *s, size_t len)
{
	size_t hex = 0, safe = 0, z = 0;
	if (len < 6 || len >= 32)
		return 0;
	for (size_t i = 0; i < len; i++) {
		hex += (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F');
		safe += s[i] && strchr(safe_chars, s[i]) != NULL;
		if (s[i] == 'z')
			z = i;
	}
	return hex == len || (safe == len && z >= 10 && z < len - 1);
}

/* How long the queue id at 'p' may be: the run of characters ids use. */
static size_t id_span(const char *p)
{
	size_t n = 0;
	while (p[n] && (strchr(safe_chars, p[n]) || (p[n] >= 'A' && p[n] <= 'F')))
		n++;
	return n;
}

int maillog_queue_id(const char *line, char id[32])
{
	const char *p = strstr(line, "]: ");
	if (!p)
		return 0;
	p += 3;
	size_t len = id_span(p);
	if (p[len] != ':' || !is_queue_id(p, len))
		return 0;
	memcpy(id, p, len);
	id[len] = '\0';
	return 1;
}

/* The id after "queued as " in 'line', if any. */
static int queued_as(const char *line, char id[32])
{
	const char *p = strstr(line, "queued as ");
	if (!p)
		return 0;
	p += strlen("queued as ");
	size_t len = id_span(p);
	if (!is_queue_id(p, len))
		return 0;
	memcpy(id, p, len);
	id[len] = '\0';
	return 1;
}

struct idset {
	char (*v)[32];
	size_t n, alloc;
	int sorted;
};

static int idcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int idset_has(struct idset *s, const char *id)
{
	if (!s->n)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), idcmp);
		s->sorted = 1;
	}
	return bsearch(id, s->v, s->n, sizeof(*s->v), idcmp) != NULL;
}

static int idset_add(struct idset *s, const char *id)
{
	if (idset_has(s, id))
		return 0;
	s->v = xgrow(s->v, &s->alloc, s->n + 1, sizeof(*s->v));
	memcpy(s->v[s->n++], id, 32);
	s->sorted = 0;
	return 1;
}

void maillog_trace(const char *const *lines, size_t n, const char *needle, unsigned char *keep)
{
	struct idset ids = {0};
	char(*qid)[32] = xcalloc(n + 1, sizeof(*qid));
	char next[32];
	for (size_t i = 0; i < n; i++) {
		if (!maillog_queue_id(lines[i], qid[i]))
			qid[i][0] = '\0';
		keep[i] = !*needle || strcasestr(lines[i], needle) != NULL;
		if (keep[i] && *needle && qid[i][0])
			idset_add(&ids, qid[i]);
	}
	/* Follow messages handed on, a few hops at most. */
	for (int round = 0, grew = *needle != '\0'; grew && round < 4; round++) {
		grew = 0;
		for (size_t i = 0; i < n; i++)
			if (qid[i][0] && idset_has(&ids, qid[i]) && queued_as(lines[i], next))
				grew |= idset_add(&ids, next);
	}
	for (size_t i = 0; *needle && i < n; i++)
		if (!keep[i] && qid[i][0] && idset_has(&ids, qid[i]))
			keep[i] = 1;
	free(ids.v);
	free(qid);
}
