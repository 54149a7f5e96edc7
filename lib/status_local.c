/* The local checks of the health report: services and their ports, the
 * mail queue, disk, memory, the certificate, the required aliases (see
 * status.h). Each reads the machine, then hands what it read to a pure
 * evaluator that the unit tests call directly. */
#include "alias.h"
#include "cert.h"
#include "run.h"
#include "service.h"
#include "status_int.h"
#include "mailqueue.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_FIX "start it: mailctl service start"

void status_human_size(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, size, "%llu bytes", bytes);
	else
		snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* A file of /proc, whole ("" when it cannot be read). */
static char *read_text(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	size_t got;
	FILE *f = fopen(path, "re");
	while (f && (got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, got);
	if (f)
		fclose(f);
	return strbuf_detach(&sb);
}

/* ---- services ---- */

size_t status_service_ports(const struct config *cfg, const char *name, unsigned ports[8],
                            const char **unix_path)
{
	static const struct {
		const char *name;
		unsigned ports[4];
	} table[] = {
	    {"postfix", {25, 587, 465}},
	    {"dovecot", {993, 995}},
	    {"nginx", {80, 443}},
	};
	size_t n = 0;
	*unix_path = !strcmp(name, "mailctld") ? cfg->milter_socket : NULL;
	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++)
		for (size_t k = 0; !strcmp(table[t].name, name) && k < 4 && table[t].ports[k]; k++)
			ports[n++] = table[t].ports[k];
	if (!strcmp(name, "dovecot") && cfg->plaintext_ports)
		ports[n++] = 143, ports[n++] = 110;
	return n;
}

int status_tcp_listening(const char *text, unsigned port)
{
	const char *line = strchr(text, '\n'); /* after the header */
	while (line && *++line) {
		unsigned lport, state;
		char local[64];
		if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &lport,
		           &state) == 3 &&
		    lport == port && state == 0x0A) /* TCP_LISTEN */
			return 1;
		line = strchr(line, '\n');
	}
	return 0;
}

int status_unix_listening(const char *text, const char *path)
{
	size_t plen = strlen(path);
	const char *line = strchr(text, '\n');
	while (line && *++line) {
		unsigned long flags;
		int off = 0;
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &off) == 1 && off > 0 &&
		    (size_t)off + plen == len && !memcmp(line + off, path, plen) &&
		    (flags & 0x10000)) /* __SO_ACCEPTCON: listening */
			return 1;
		line = end;
	}
	return 0;
}

void status_sockets_release(struct status_sockets *s)
{
	free(s->tcp4);
	free(s->tcp6);
	free(s->unx);
	memset(s, 0, sizeof(*s));
}

/* The ports of 'ports' nothing listens on, as "465, 587" ("" all do). */
static char *closed_ports(const unsigned *ports, size_t n, const char *unix_path,
                          struct status_sockets *s)
{
	struct strbuf sb = STRBUF_INIT;
	if (!s->tcp4) {
		s->tcp4 = read_text("/proc/net/tcp");
		s->tcp6 = read_text("/proc/net/tcp6");
		s->unx = read_text("/proc/net/unix");
	}
	for (size_t i = 0; i < n; i++)
		if (!status_tcp_listening(s->tcp4, ports[i]) &&
		    !status_tcp_listening(s->tcp6, ports[i]))
			strbuf_addf(&sb, "%s%u", sb.len ? ", " : "", ports[i]);
	if (unix_path && !status_unix_listening(s->unx, unix_path))
		strbuf_addf(&sb, "%s'%s'", sb.len ? ", " : "", unix_path);
	return strbuf_detach(&sb);
}

static void ports_text(const unsigned *ports, size_t n, const char *unix_path, struct strbuf *sb)
{
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%u", i ? ", " : "", ports[i]);
	if (unix_path)
		strbuf_addf(sb, "%s'%s'", n ? ", " : "", unix_path);
}

void status_check_service(const struct config *cfg, int i, struct status_sockets *s,
                          struct status_row *r)
{
	const char *name = service_names[i], *unix_path;
	unsigned ports[8];
	size_t n = status_service_ports(cfg, name, ports, &unix_path);
	if (!service_running(cfg, i)) {
		status_set(r, STATUS_ERROR, START_FIX, "%s is not running", name);
		return;
	}
	char *closed = closed_ports(ports, n, unix_path, s);
	struct strbuf all = STRBUF_INIT;
	ports_text(ports, n, unix_path, &all);
	if (*closed)
		status_set(
		    r, STATUS_ERROR,
		    "see its log (paths.log_file, /var/log/mail.log); 'mailctl apply' rewrites "
		    "its configuration, then restart it",
		    "%s runs, but nothing listens on %s", name, closed);
	else if (all.len)
		status_set(r, STATUS_OK, "", "running, listening on %s", all.buf);
	else
		status_set(r, STATUS_OK, "", "running");
	strbuf_release(&all);
	free(closed);
}

/* ---- the mail queue ---- */

struct queue_count {
	size_t total, deferred, hold;
	long long oldest_deferred; /* arrival time, 0: none */
	char reason[200];          /* of the oldest deferred message */
};

static void count_message(const struct mailqueue_msg *m, struct queue_count *q)
{
	q->total++;
	if (!strcmp(m->queue, "hold"))
		q->hold++;
	if (strcmp(m->queue, "deferred") != 0 || !m->arrival)
		return;
	q->deferred++;
	if (q->oldest_deferred && m->arrival >= q->oldest_deferred)
		return;
	q->oldest_deferred = m->arrival;
	snprintf(q->reason, sizeof(q->reason), "%s", m->nrcpt ? m->rcpt[0].reason : "");
}

static void age_text(long long s, char *buf, size_t size)
{
	if (s >= 2 * 86400)
		snprintf(buf, size, "%lld days", s / 86400);
	else if (s >= 2 * 3600)
		snprintf(buf, size, "%lld hours", s / 3600);
	else
		snprintf(buf, size, "%lld minutes", s / 60);
}

static void eval_queue(const struct mailqueue *mq, time_t now, struct status_row *r)
{
	struct queue_count q = {0};
	for (size_t i = 0; i < mq->n; i++)
		count_message(&mq->v[i], &q);
	if (!q.total) {
		status_set(r, STATUS_OK, "", "the queue is empty");
		return;
	}
	long long age = q.oldest_deferred ? (long long)now - q.oldest_deferred : 0;
	char age_s[32];
	age_text(age < 0 ? 0 : age, age_s, sizeof(age_s));
	enum status_level l =
	    q.total >= STATUS_QUEUE_ERROR || age >= STATUS_DEFERRED_ERROR_S ? STATUS_ERROR
	    : q.total >= STATUS_QUEUE_WARN || age >= STATUS_DEFERRED_WARN_S ? STATUS_WARNING
	                                                                    : STATUS_OK;
	const char *fix = l == STATUS_OK ? ""
	                                 : "see why with 'postqueue -p' and /var/log/mail.log; "
	                                   "'postqueue -f' retries once the cause is gone";
	if (q.deferred)
		status_set(r, l, fix,
		           "%zu message%s queued, %zu deferred; the oldest deferred is %s "
		           "old%s%s",
		           q.total, q.total == 1 ? "" : "s", q.deferred, age_s,
		           *q.reason ? ": " : "", q.reason);
	else
		status_set(r, l, fix, "%zu message%s queued (%zu on hold), none deferred", q.total,
		           q.total == 1 ? "" : "s", q.hold);
}

void status_eval_queue(const char *jsonl, time_t now, struct status_row *r)
{
	struct mailqueue mq;
	mailqueue_parse(jsonl, strlen(jsonl), &mq);
	eval_queue(&mq, now, r);
	mailqueue_release(&mq);
}

void status_check_queue(const struct config *cfg, time_t now, struct status_row *r)
{
	struct mailqueue mq;
	struct mc_error err;
	if (mailqueue_list(cfg, &mq, &err) < 0)
		status_set(r, STATUS_WARNING, "start Postfix: mailctl service start", "%s",
		           err.msg);
	else
		eval_queue(&mq, now, r);
	mailqueue_release(&mq);
}

/* ---- disk and memory ---- */

static int percent(unsigned long long part, unsigned long long whole)
{
	return whole ? (int)(part * 100 / whole) : 100;
}

void status_eval_disk(const struct statvfs *sv, struct status_row *r)
{
	unsigned long long frsize = sv->f_frsize ? sv->f_frsize : sv->f_bsize;
	unsigned long long avail = (unsigned long long)sv->f_bavail * frsize;
	unsigned long long total = (unsigned long long)sv->f_blocks * frsize;
	int pct = percent(sv->f_bavail, sv->f_blocks);
	int ipct = sv->f_files ? percent(sv->f_favail, sv->f_files) : 100;
	int worst = pct < ipct ? pct : ipct;
	char a[32], t[32];
	status_human_size(avail, a, sizeof(a));
	status_human_size(total, t, sizeof(t));
	enum status_level l = worst < STATUS_DISK_ERROR_PCT  ? STATUS_ERROR
	                      : worst < STATUS_DISK_WARN_PCT ? STATUS_WARNING
	                                                     : STATUS_OK;
	const char *fix = l == STATUS_OK ? ""
	                                 : "free space where the mail root is: remove old archives "
	                                   "(paths.archive_root) or logs, or grow the disk";
	if (ipct < pct)
		status_set(r, l, fix, "%d%% of inodes free (%s of %s free)", ipct, a, t);
	else
		status_set(r, l, fix, "%s free of %s (%d%%)", a, t, pct);
}

void status_check_disk(const char *path, struct status_row *r)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		status_set(r, STATUS_ERROR, "create it: mailctl setup", "cannot look at '%s': %s",
		           path, mc_strerror(errno));
	else
		status_eval_disk(&sv, r);
}

/* The value in kB of 'key' in /proc/meminfo text, or -1. */
static long long meminfo_kb(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		long long v;
		if (!strncmp(p, key, klen) && p[klen] == ':' &&
		    sscanf(p + klen + 1, "%lld", &v) == 1)
			return v;
	}
	return -1;
}

void status_eval_memory(const char *meminfo, struct status_row *r)
{
	long long total = meminfo_kb(meminfo, "MemTotal"),
	          avail = meminfo_kb(meminfo, "MemAvailable");
	if (total <= 0 || avail < 0) {
		status_set(r, STATUS_WARNING, "", "cannot read MemTotal and MemAvailable");
		return;
	}
	int pct = percent((unsigned long long)avail, (unsigned long long)total);
	char a[32], t[32];
	status_human_size((unsigned long long)avail * 1024, a, sizeof(a));
	status_human_size((unsigned long long)total * 1024, t, sizeof(t));
	enum status_level l = pct < STATUS_MEM_ERROR_PCT  ? STATUS_ERROR
	                      : pct < STATUS_MEM_WARN_PCT ? STATUS_WARNING
	                                                  : STATUS_OK;
	status_set(r, l,
	           l == STATUS_OK ? ""
	                          : "find what uses the memory (ps aux --sort=-rss) or add memory "
	                            "or swap",
	           "%s available of %s (%d%%)", a, t, pct);
}

void status_check_memory(struct status_row *r)
{
	char *text = read_text("/proc/meminfo");
	status_eval_memory(text, r);
	free(text);
}

/* ---- the certificate ---- */

void status_eval_tls(const struct cert_info *info, time_t now, struct status_row *r)
{
	char until[32];
	struct tm tm;
	gmtime_r(&info->not_after, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	double secs = difftime(info->not_after, now);
	long days = (long)(secs / 86400);
	const char *kind = info->self_signed ? "self-signed" : "CA-issued";
	const char *what = info->nnames ? info->names[0] : info->subject;
	const char *get = "'mailctl cert request' gets one from a CA (Let's Encrypt by default)";
	const char *renew = info->self_signed ? get
	                                      : "'mailctl cert renew --force'; 'mailctl cert show' "
	                                        "lists the last attempts";
	if (secs <= 0)
		status_set(r, STATUS_ERROR, renew, "%s certificate for %s expired on %s", kind,
		           what, until);
	else if (info->key_matches == 0 || info->chain_broken) {
		char *why = cert_status_text(info, now, "");
		status_set(r, STATUS_ERROR, "'mailctl cert renew --force' installs a good one",
		           "%s certificate for %s: %s", kind, what, why);
		free(why);
	} else if (days < STATUS_TLS_WARN_DAYS)
		status_set(r, STATUS_WARNING, renew,
		           "%s certificate for %s expires on %s, in %ld day%s", kind, what, until,
		           days, days == 1 ? "" : "s");
	else if (info->self_signed)
		status_set(r, STATUS_WARNING, get,
		           "self-signed certificate for %s, valid until %s: mail programs warn and "
		           "MTA-STS senders refuse it",
		           what, until);
	else
		status_set(r, STATUS_OK, "",
		           "%s certificate for %s from %s, valid until %s (%ld days left)", kind,
		           what, info->issuer, until, days);
}

void status_check_tls(const struct config *cfg, time_t now, struct status_row *r)
{
	struct cert_info info;
	struct mc_error err;
	if (cert_info_read(cfg->tls_cert_file,
	                   access(cfg->tls_key_file, R_OK) == 0 ? cfg->tls_key_file : NULL, &info,
	                   &err) < 0) {
		status_set(
		    r, STATUS_ERROR,
		    "'mailctl setup' makes a self-signed one; 'mailctl cert request' gets one "
		    "from a CA",
		    "no usable certificate: %s", err.msg);
		cert_info_release(&info);
		return;
	}
	status_eval_tls(&info, now, r);
	cert_info_release(&info);
}

/* ---- required aliases ---- */

void status_check_aliases(struct mc_ctx *ctx, const char *domain, struct status_row *r)
{
	static const char *const locals[] = {"postmaster", "abuse"};
	struct strbuf missing = STRBUF_INIT;
	struct mc_error err, other = {MC_OK, ""};
	const char *first = NULL;
	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		char *addr = xasprintf("%s@%s", locals[i], domain);
		mc_error_clear(&err);
		if (alias_target_check(ctx, addr, &err) < 0 && err.kind == MC_ENOUSER) {
			strbuf_addf(&missing, "%s%s", missing.len ? " and " : "", addr);
			first = first ? first : locals[i];
		} else if (err.kind != MC_OK) {
			other = err;
		}
		free(addr);
	}
	if (first) {
		char *fix = xasprintf("mailctl alias add %s@%s ADMIN-ADDRESS", first, domain);
		status_set(r, STATUS_ERROR, fix, "%s cannot receive mail", missing.buf);
		free(fix);
	} else if (other.kind != MC_OK) {
		status_set(r, STATUS_WARNING, "", "cannot check postmaster@ and abuse@: %s",
		           other.msg);
	} else {
		status_set(r, STATUS_OK, "", "postmaster@ and abuse@ receive mail");
	}
	strbuf_release(&missing);
}
