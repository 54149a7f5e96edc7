/*
 * jobs - mailctld's periodic work, in one thread beside the milter:
 *
 *   blocklists  every blacklist.interval_hours after the last stored
 *               check (at start when there is none or it is older), and
 *               within seconds after Postfix logs an outbound delivery
 *               refused with a reply naming a blocklist (at most once per
 *               REFUSAL_GAP), and at once on SIGUSR1: one round of
 *               lib/dnsbl_monitor.h, stored;
 *               when a listing appears or goes, one alert message to the
 *               postmaster, and a log line.
 *   cert        when the last answer said the certificate is due (at
 *               least every 12 hours, 10 s after start, and after each
 *               reload, e.g. when 'cert request' wrote the database): the root
 *               helper (privsep.c) renews it when a third of its lifetime
 *               is left (or the CA's renewal window says so), and moves a
 *               key rollover under way to the new key once DNS has shown
 *               its TLSA for dns.ttl; when renewal keeps failing within 14
 *               days of expiry, one message to the postmaster.
 *   dkim        every hour, dkim_rotate_step() for each domain without
 *               starting anything: a pending rotation switches once its
 *               records are in DNS, retired keys go after their grace.
 *
 * Postfix's log (paths.mail_log) is opened before the privileges are
 * dropped and followed from its end; when it is rotated it is opened
 * again if the daemon's user may (lib/maillog.h, which also reads what was
 * written to the old file last), else that is logged once and tried again.
 */
#include "jobs.h"
#include "cert.h"
#include "privsep.h"
#include "dkim_rotate.h"
#include "dnsbl_monitor.h"
#include "domain.h"
#include "maillog.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define TICK_S        2
#define REFUSAL_GAP_S 600
#define DKIM_EVERY_S  3600
#define CERT_MIN_S    10           /* between two renewal checks, at least */
#define CERT_MAX_S    (12 * 3600)  /* and at most */
#define CERT_ALERT_S  (14 * 86400) /* expiry this close and failing: alert */

extern char **environ;

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping, started, kicked, cert_kicked;
static struct maillog mail_log; /* Postfix's log, followed from its end */
static int mail_log_ok;         /* readable at the last look (a change is logged once) */

void jobs_open_log(const char *path)
{
	struct maillog_lines none = {0};
	struct mc_error err;
	mail_log_ok = maillog_open(&mail_log, path, 0, &none, &err) == 0;
	if (!mail_log_ok)
		log_msg(LOG_WARNING, "not watching '%s' for blocklist refusals: %s", path, err.msg);
	maillog_lines_release(&none);
}

/* New lines of Postfix's log (across rotation, lib/maillog.h): 1 when one
 * is a refusal naming a blocklist. A rotated log the daemon's user cannot
 * open is said once, and read again once it can. */
static int refusal_logged(void)
{
	struct maillog_lines l = {0};
	struct mc_error err;
	int restarted, found = 0;
	if (!mail_log.path)
		return 0;
	int n = maillog_poll(&mail_log, &l, &restarted, &err);
	if (n < 0 && mail_log_ok)
		log_msg(LOG_WARNING, "not watching the mail log for blocklist refusals: %s",
		        err.msg);
	else if (n >= 0 && !mail_log_ok)
		log_msg(LOG_INFO, "watching '%s' for blocklist refusals again", mail_log.path);
	mail_log_ok = n >= 0;
	for (size_t i = 0; i < l.n; i++)
		if (dnsbl_refusal_names_list(l.v[i])) {
			log_msg(LOG_NOTICE, "a delivery was refused naming a blocklist: %.300s",
			        l.v[i]);
			found = 1;
		}
	maillog_lines_release(&l);
	return found;
}

/* Hand 'text' to sendmail; 0 when it took it. */
static int send_mail(const char *from, const char *text)
{
	int pipefd[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	char *argv[] = {"/usr/sbin/sendmail", "-i", "-t", "-f", (char *)from, NULL};
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[0]);
	if (rc != 0) {
		close(pipefd[1]);
		return -1;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(pipefd[1], text + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(pipefd[1]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return off == len && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* admin_address, else postmaster@ the first hosted domain. */
static char *postmaster(struct mc_ctx *ctx)
{
	struct domain_list doms = {0};
	struct mc_error err;
	if (ctx->cfg->admin_address && ctx->cfg->admin_address[0])
		return xstrdup(ctx->cfg->admin_address);
	char *to = NULL;
	if (domain_list(ctx, &doms, &err) == 0 && doms.n)
		to = xasprintf("postmaster@%s", doms.v[0].name);
	domain_list_release(&doms);
	return to;
}

static void alert(struct mc_ctx *ctx, const struct state *st, const struct dnsbl_changes *c,
                  time_t now)
{
	for (size_t i = 0; i < c->n; i++)
		log_msg(LOG_WARNING, "blocklist: %s %s %s (was %s)%s%s", c->v[i].subject,
		        strcmp(c->v[i].to, "listed") ? "no longer listed on" : "LISTED on",
		        c->v[i].zone, c->v[i].from, c->v[i].delist[0] ? "; delisting: " : "",
		        c->v[i].delist);
	char *to = postmaster(ctx);
	if (!to) {
		log_msg(LOG_ERR, "blocklist alert not sent: no admin_address and no hosted domain");
		return;
	}
	char *text = dnsbl_alert_text(c, st->hostname, to, to, now);
	if (send_mail(to, text) < 0)
		log_msg(LOG_ERR, "blocklist alert to %s could not be handed to sendmail", to);
	else
		log_msg(LOG_INFO, "blocklist alert sent to %s (%zu change(s))", to, c->n);
	free(text);
	free(to);
}

/* Open the store read-write as the job's context. */
static int job_ctx(const struct state *st, struct mc_ctx *ctx, struct mc_error *err)
{
	*ctx = (struct mc_ctx){.cfg = &st->cfg, .actor = "mailctld"};
	return store_open(&ctx->st, st->cfg.database, STORE_WRITE, err);
}

static void blacklist_job(time_t now)
{
	struct state *st = state_acquire();
	struct mc_ctx ctx;
	struct mc_error err = {0};
	struct dnsbl_table t = {0};
	struct dnsbl_changes c = {0};
	if (job_ctx(st, &ctx, &err) == 0 && dnsbl_table_load(&t, st->cfg.dnsbl_file, &err) == 0 &&
	    dnsbl_monitor_round(&ctx, &t, &st->resolver, 0, now, &c, &err) == 0) {
		log_msg(LOG_INFO, "blocklist check: %zu result(s), %zu change(s)", c.checked, c.n);
		if (c.n)
			alert(&ctx, st, &c, now);
	} else {
		log_msg(LOG_ERR, "blocklist check failed: %s", err.msg);
	}
	dnsbl_changes_release(&c);
	dnsbl_table_release(&t);
	store_close(ctx.st);
	state_release(st);
}

static void dkim_job(time_t now)
{
	struct state *st = state_acquire();
	struct mc_ctx ctx;
	struct mc_error err = {0};
	struct domain_list doms = {0};
	if (job_ctx(st, &ctx, &err) < 0 || domain_list(&ctx, &doms, &err) < 0)
		log_msg(LOG_ERR, "dkim rotation job: %s", err.msg);
	for (size_t i = 0; i < doms.n; i++) {
		struct dnsq d;
		struct dkim_rotate_report rep = {0};
		dnsq_init(&d, &st->resolver);
		if (dkim_rotate_step(&ctx, doms.v[i].name, now, dnsq_lookup_now, &d, 0, &rep,
		                     &err) < 0)
			log_msg(LOG_ERR, "dkim rotation of %s: %s", doms.v[i].name, err.msg);
		else if (rep.action == DKIM_ROTATE_SWITCHED || rep.action == DKIM_ROTATE_REMOVED)
			log_msg(LOG_INFO, "dkim rotation of %s: %s", doms.v[i].name,
			        dkim_rotate_action_name(rep.action));
		dkim_rotate_report_release(&rep);
		dnsq_release(&d);
	}
	domain_list_release(&doms);
	store_close(ctx.st);
	state_release(st);
}

static int cert_alerted; /* the expiry alert went out; reset by a renewal */

/* Failing renewals with the certificate close to expiry: one message. */
static void cert_alert(const char *text, time_t now)
{
	struct state *st = state_acquire();
	struct cert_info ci = {0};
	struct mc_error err;
	if (!cert_alerted && cert_info_read(st->cfg.tls_cert_file, NULL, &ci, &err) == 0 &&
	    !ci.self_signed && ci.not_after - now < CERT_ALERT_S) {
		struct mc_ctx ctx = {.cfg = &st->cfg, .actor = "mailctld"};
		char *to = NULL;
		if (store_open(&ctx.st, st->cfg.database, STORE_READ, &err) == 0)
			to = postmaster(&ctx);
		store_close(ctx.st);
		char date[64], when[64];
		struct tm tm;
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &tm));
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&ci.not_after, &tm));
		char *msg =
		    to ? xasprintf("From: mailctl on %s <%s>\nTo: %s\nDate: %s\n"
		                   "Subject: [%s] the TLS certificate expires %s and renewal "
		                   "fails\nAuto-Submitted: auto-generated\n\n"
		                   "mailctld could not renew the certificate of %s, which "
		                   "expires %s.\nLast attempt: %s\n\nRun 'mailctl cert renew' "
		                   "to see the error, and 'mailctl cert list'.\n",
		                   st->hostname, to, to, date, st->hostname, when, st->hostname,
		                   when, text)
		       : NULL;
		if (msg && send_mail(to, msg) == 0) {
			cert_alerted = 1;
			log_msg(LOG_WARNING, "certificate expiry alert sent to %s", to);
		} else {
			log_msg(LOG_ERR, "certificate expiry alert could not be sent");
		}
		free(msg);
		free(to);
	}
	cert_info_release(&ci);
	state_release(st);
}

/* Ask the root helper to renew when due; returns when to ask next. */
static time_t cert_job(time_t now)
{
	char reply[1024], action[32] = "";
	long long not_after = 0, next = 0;
	int text_at = 0;
	privsep_renew(600, reply, sizeof(reply));
	if (sscanf(reply, "%31[^|]|%lld|%lld|%n", action, &not_after, &next, &text_at) < 3)
		text_at = 0;
	const char *text = reply + text_at;
	if (!strcmp(action, "issued") || !strcmp(action, "unverified")) {
		cert_alerted = 0;
		log_msg(LOG_INFO, "certificate renewed (%s)%s%s", action, text[0] ? ": " : "",
		        text);
	} else if (!strncmp(action, "rolled-over", 11)) {
		cert_alerted = 0;
		log_msg(action[11] ? LOG_ERR : LOG_INFO, "TLS key rolled over%s: %s%s",
		        action[11] ? " (not served everywhere)" : "",
		        action[11] ? "" : "new TLSA 3 1 1 ", text);
	} else if (!strcmp(action, "rollover-failed")) {
		log_msg(LOG_ERR, "TLS key rollover failed: %s", text);
	} else if (!strcmp(action, "failed") || !strcmp(action, "waiting")) {
		log_msg(LOG_ERR, "certificate renewal %s: %s", action, text);
		cert_alert(text, now);
	}
	if (next <= now)
		next = now + (strcmp(action, "failed") ? CERT_MAX_S : 3600);
	if (next < now + CERT_MIN_S)
		next = now + CERT_MIN_S;
	if (next > now + CERT_MAX_S)
		next = now + CERT_MAX_S;
	return (time_t)next;
}

/* When the last stored blocklist check was made (0: never). */
static time_t last_blacklist_check(void)
{
	struct state *st = state_acquire();
	struct store *db = NULL;
	struct blacklist_list l = {0};
	struct mc_error err;
	time_t t = 0;
	if (store_open(&db, st->cfg.database, STORE_READ, &err) == 0 &&
	    store_blacklist_history(db, NULL, 0, 1, &l, &err) == 0 && l.n) {
		struct tm tm = {0};
		if (strptime(l.v[0].checked, "%Y-%m-%dT%H:%M:%SZ", &tm))
			t = timegm(&tm);
	}
	blacklist_list_release(&l);
	store_close(db);
	state_release(st);
	return t;
}

static long long interval_s(void)
{
	struct state *st = state_acquire();
	long long s = st->cfg.blacklist_interval_hours * 3600;
	state_release(st);
	return s;
}

static void *jobs_main(void *arg)
{
	(void)arg;
	time_t last_bl = last_blacklist_check(), last_refusal = 0, last_dkim = 0;
	time_t cert_next = time(NULL) + CERT_MIN_S;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		pthread_mutex_unlock(&lock);
		time_t now = time(NULL);
		int refused = refusal_logged();
		pthread_mutex_lock(&lock);
		int kick = kicked;
		kicked = 0;
		if (cert_kicked)
			cert_next = now;
		cert_kicked = 0;
		pthread_mutex_unlock(&lock);
		if (kick || now - last_bl >= interval_s() ||
		    (refused && now - last_refusal >= REFUSAL_GAP_S)) {
			if (refused)
				last_refusal = now;
			blacklist_job(now);
			last_bl = now;
		}
		if (now >= cert_next)
			cert_next = cert_job(now);
		if (now - last_dkim >= DKIM_EVERY_S) {
			dkim_job(now);
			last_dkim = now;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += TICK_S;
		pthread_mutex_lock(&lock);
		if (!stopping && !kicked)
			pthread_cond_timedwait(&wake, &lock, &until);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int jobs_start(void)
{
	if (pthread_create(&thread, NULL, jobs_main, NULL) != 0)
		return -1;
	started = 1;
	return 0;
}

void jobs_kick_blacklist(void)
{
	pthread_mutex_lock(&lock);
	kicked = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

void jobs_kick_cert(void)
{
	pthread_mutex_lock(&lock);
	cert_kicked = 1;
	pthread_mutex_unlock(&lock);
}

void jobs_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = 0;
	maillog_close(&mail_log);
}
