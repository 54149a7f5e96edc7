/*
 * mailctld - the milter Postfix calls on port 25 and on submission: it
 * DKIM-signs outbound mail and checks SPF, DKIM and DMARC on inbound mail
 * (lib/msgauth.h does the work; milter.c speaks libmilter).
 *
 * Started as root: it makes the socket's directory (inside Postfix's
 * queue directory, group postfix, mode 0750), binds the socket, writes
 * its pid file, then drops to the 'mailctl' user for good before it reads
 * the database or a key. The main thread handles the signals - SIGHUP
 * reloads the configuration and keys, SIGTERM/SIGINT stop cleanly - and
 * reloads by itself when the database file changes; libmilter's threads
 * serve the connections, and one more runs the periodic jobs (jobs.c:
 * blocklist monitoring, DKIM rotation).
 */
#include "mailctld.h"
#include "jobs.h"
#include "privsep.h"
#include "service.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <paths.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int log_stderr;
static FILE *log_file;

/* Syslog always; stderr in the foreground; and 'file' (appended) when set,
 * opened now, before the privileges go. */
static void log_open(int foreground, const char *file)
{
	log_stderr = foreground;
	openlog("mailctld", LOG_PID, LOG_MAIL);
	if (file) {
		char *dir = xstrdup(file), *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			mkdir(dir, 0750);
		}
		free(dir);
		if (!(log_file = fopen(file, "ae")))
			fprintf(stderr, "mailctld: cannot open '%s': %s\n", file, strerror(errno));
		else
			setvbuf(log_file, NULL, _IOLBF, 0);
	}
}

/* Whether syslog has a socket to write to. Without one (a container or a
 * test bed with no syslog daemon) each syslog() call would try to connect
 * again - three system calls a line for nothing, as nothing else (no
 * LOG_CONS) receives the line then. Looked at again every few seconds, so
 * a syslog daemon that starts later is used. */
#define SYSLOG_RECHECK_S 5

static int syslog_reachable(void)
{
	static _Atomic long long checked; /* 0: never */
	static atomic_int ok;
	long long now = (long long)time(NULL);
	if (now - atomic_load(&checked) >= SYSLOG_RECHECK_S) {
		atomic_store(&ok, access(_PATH_LOG, W_OK) == 0);
		atomic_store(&checked, now);
	}
	return atomic_load(&ok);
}

/* The line is formatted once and each destination gets it in one write:
 * stderr is unbuffered, and a line in pieces costs a system call each
 * (and may interleave with another thread's). */
void log_msg(int priority, const char *fmt, ...)
{
	char buf[1024], *line = buf;
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(buf)) {
		va_start(ap, fmt);
		if (vasprintf(&line, fmt, ap) < 0)
			line = NULL;
		va_end(ap);
		if (!line)
			return;
	}
	if (log_stderr && priority != LOG_DEBUG)
		fprintf(stderr, "mailctld: %s\n", line); /* one write: fprintf buffers the call */
	if (log_file && priority != LOG_DEBUG) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		fprintf(log_file, "%s mailctld[%ld]: %s\n", stamp, (long)getpid(), line);
	}
	if (syslog_reachable())
		syslog(priority, "%s", line);
	if (line != buf)
		free(line);
}

struct opts {
	const char *config;
	const char *user;
	const char *log_file;
	int foreground, check;
};

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: mailctld [-f] [-t] [-c CONFIG] [-l FILE] [-u USER]\n"
	        "  -c CONFIG  the configuration file (default: $MAILCTL_CONFIG, or %s)\n"
	        "  -f         stay in the foreground and log to stderr too (systemd runs it so)\n"
	        "  -l FILE    log to FILE too (appended), besides syslog\n"
	        "  -t         load the configuration and keys, report, and exit\n"
	        "  -u USER    the user to run as after binding the socket (default: mailctl)\n"
	        "  -h         this help;  -V  the version\n",
	        MAILCTL_DEFAULT_CONFIG);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;
	*o = (struct opts){.config = config_default_path(), .user = "mailctl"};
	while ((c = getopt(argc, argv, "c:fl:tu:hV")) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'l':
			o->log_file = optarg;
			break;
		case 't':
			o->check = 1;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("mailctld %s\n", MAILCTL_VERSION);
			exit(EX_OK);
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mailctld: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	return EX_OK;
}

/* The socket's directory: 0750, owned by the daemon's user, group postfix
 * (whose smtpd and cleanup connect) when that group exists. */
static int make_socket_dir(const char *sock, const struct passwd *pw, gid_t gid)
{
	char *dir = xstrdup(sock), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir)
		*slash = 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		rc = -1;
	if (rc == 0 && pw && (chown(dir, pw->pw_uid, gid) < 0 || chmod(dir, 0750) < 0))
		rc = -1;
	if (rc < 0)
		log_msg(LOG_ERR, "cannot make the socket directory '%s': %s", dir, strerror(errno));
	free(dir);
	return rc;
}

static int open_socket(const struct config *cfg, const struct passwd *pw)
{
	struct group *pf = getgrnam("postfix");
	gid_t gid = pf ? pf->gr_gid : pw ? pw->pw_gid : getgid();
	char *conn = xasprintf("unix:%s", cfg->milter_socket);
	int rc = make_socket_dir(cfg->milter_socket, pw, gid);
	if (rc == 0 && (smfi_setconn(conn) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS)) {
		log_msg(LOG_ERR, "cannot listen on '%s'", cfg->milter_socket);
		rc = -1;
	}
	if (rc == 0 && ((pw && chown(cfg->milter_socket, pw->pw_uid, gid) < 0) ||
	                chmod(cfg->milter_socket, 0660) < 0)) {
		log_msg(LOG_ERR, "cannot set the owner of '%s': %s", cfg->milter_socket,
		        strerror(errno));
		rc = -1;
	}
	free(conn);
	return rc;
}

/* Become 'pw' for good (only when root). */
static int drop_privileges(const struct passwd *pw)
{
	if (!pw)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0 || (pw->pw_uid != 0 && setuid(0) == 0)) {
		log_msg(LOG_ERR, "cannot become user '%s': %s", pw->pw_name, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_pid(const char *path, const struct passwd *pw)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	*slash = 0;
	if (mkdir(dir, 0755) == 0 && pw && chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		log_msg(LOG_WARNING, "cannot give '%s' to %s", dir, pw->pw_name);
	free(dir);
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		log_msg(LOG_ERR, "cannot write the pid file '%s': %s", path, strerror(errno));
		return -1;
	}
	if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		log_msg(LOG_WARNING, "cannot give '%s' to %s", path, pw->pw_name);
	return 0;
}

static volatile sig_atomic_t got_hup, got_term, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void *milter_thread(void *arg)
{
	(void)arg;
	if (smfi_main() != MI_SUCCESS)
		log_msg(LOG_ERR, "the milter stopped with an error");
	got_term = 1;
	kill(getpid(), SIGTERM); /* wake the main thread */
	return NULL;
}

/* What tells us the database changed: its inode, size and mtime. */
static void db_stamp(const char *path, char *out, size_t len)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%lu:%lld:%lld.%09ld", (unsigned long)sb.st_ino,
		         (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
}

static void reload(const char *config_path, const char *why)
{
	struct mc_error err = {0};
	struct state *st = state_load(config_path, &err);
	if (!st) {
		log_msg(LOG_ERR, "reload (%s) failed, keeping the previous state: %s", why,
		        err.msg);
		return;
	}
	log_msg(LOG_INFO, "reloaded (%s): %zu signing key(s)", why, msgauth_keys_count(st->keys));
	state_install(st);
}

/* The main thread: signals and reloads until told to stop. */
static void supervise(const char *config_path)
{
	struct state *st = state_acquire();
	char *db = xstrdup(st->cfg.database);
	state_release(st);
	char seen[128], now[128];
	db_stamp(db, seen, sizeof(seen));
	while (!got_term) {
		sleep(2); /* a signal ends it early */
		if (got_usr1) {
			got_usr1 = 0;
			log_msg(LOG_INFO, "SIGUSR1: checking the blocklists now");
			jobs_kick_blacklist();
		}
		db_stamp(db, now, sizeof(now));
		if (got_hup || strcmp(now, seen) != 0) {
			reload(config_path, got_hup ? "SIGHUP" : "the database changed");
			jobs_kick_cert();
			got_hup = 0;
			snprintf(seen, sizeof(seen), "%s", now);
		}
	}
	free(db);
}

static int serve(const struct opts *o, struct state *st)
{
	struct passwd *pw = NULL;
	if (geteuid() == 0 && !(pw = getpwnam(o->user))) {
		log_msg(LOG_ERR, "no user '%s' to run as (provision/install.sh creates 'mailctl')",
		        o->user);
		return EX_NOUSER;
	}
	char *pidfile = service_mailctld_pidfile(&st->cfg);
	if (milter_register() < 0 || open_socket(&st->cfg, pw) < 0) {
		free(pidfile);
		return EX_OSERR;
	}
	/* In the background only once the socket is there: Postfix can connect. */
	if (!o->foreground && daemon(0, 0) < 0) {
		log_msg(LOG_ERR, "cannot go to the background: %s", strerror(errno));
		free(pidfile);
		return EX_OSERR;
	}
	jobs_open_log(st->cfg.mail_log);
	/* Certificate renewal needs root after the drop: a helper keeps it. */
	if (pw && privsep_start(o->config, -1) < 0)
		log_msg(LOG_ERR, "no renewal helper (%s): certificates will not be renewed",
		        strerror(errno));
	if (write_pid(pidfile, pw) < 0 || drop_privileges(pw) < 0) {
		free(pidfile);
		return EX_OSERR;
	}
	/* Keys are read as the daemon's user: what it cannot read, it cannot use. */
	struct mc_error err = {0};
	struct state *mine = state_load(o->config, &err);
	if (!mine) {
		log_msg(LOG_ERR,
		        "%s (running as %s: the database and the key files must be "
		        "readable by that user)",
		        err.msg, pw ? pw->pw_name : "the current user");
		unlink(pidfile);
		free(pidfile);
		return EX_CONFIG;
	}
	state_install(mine);
	log_msg(LOG_INFO, "listening on %s as %s, %zu signing key(s), authserv-id %s",
	        st->cfg.milter_socket, pw ? pw->pw_name : "the current user",
	        msgauth_keys_count(mine->keys), mine->hostname);

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* the other threads never see them */
	pthread_t t;
	if (jobs_start() < 0 || pthread_create(&t, NULL, milter_thread, NULL) != 0) {
		log_msg(LOG_ERR, "cannot start the milter thread");
		return EX_OSERR;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL); /* this thread takes them all */
	supervise(o->config);
	log_msg(LOG_INFO, "stopping");
	smfi_stop();
	pthread_join(t, NULL);
	jobs_stop();
	privsep_stop();
	unlink(pidfile);
	unlink(st->cfg.milter_socket);
	free(pidfile);
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct mc_error err = {0};
	int code = parse_opts(argc, argv, &o);
	if (code != EX_OK)
		return code;
	log_open(o.foreground || o.check, o.log_file);
	struct state *st = state_load(o.config, &err);
	if (!st) {
		log_msg(LOG_ERR, "%s", err.msg);
		return EX_CONFIG;
	}
	if (o.check) {
		printf("configuration '%s' and %zu signing key(s) loaded; socket %s\n", o.config,
		       msgauth_keys_count(st->keys), st->cfg.milter_socket);
		state_install(st);
		return EX_OK;
	}
	code = serve(&o, st);
	state_install(st); /* keeps it referenced; freed with the process */
	return code;
}
