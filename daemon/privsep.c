/*
 * privsep - the one thing mailctld still does as root after it dropped
 * its privileges: certificate renewal, which writes the TLS key's
 * directory and reloads Postfix, Dovecot and nginx.
 *
 * Before the drop, privsep_start() forks a helper that stays root and
 * serves a socketpair. It knows one request, 'R' (renew when due), runs
 * lib/cert.h's cert_renew_due() with the configuration file (read again
 * each time), then advances a key rollover an admin started (cert.h's
 * cert_rollover_step(), never starting one), and answers one line:
 * "ACTION|NOT_AFTER|NEXT|TEXT", ACTION a cert_action_name() or
 * "rolled-over", "rolled-over-unverified", "rollover-failed". Nothing
 * the unprivileged side sends can make it do anything else. It exits when
 * the daemon's end closes or the daemon dies.
 */
#include "privsep.h"
#include "cert.h"
#include "dnsq.h"
#include "store.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int priv_fd = -1;
static pid_t priv_pid;

/* "ACTION|NOT_AFTER|NEXT|TEXT" into 'out', on one line. */
static void answer(char *out, size_t len, const char *action, time_t not_after, time_t next,
                   const char *text)
{
	int n = snprintf(out, len, "%s|%lld|%lld|", action, (long long)not_after, (long long)next);
	if (n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, "%.*s", (int)(len - (size_t)n - 1), text);
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/* A key rollover an admin started ('mailctl cert rollover'): advanced
 * when DNS shows the new TLSA and dns.ttl has passed, never started. 1
 * when it switched or failed ('out' says so); else 0, with '*next' moved
 * up to when the wait for caches ends. */
static int rollover(struct mc_ctx *ctx, time_t now, time_t *next, char *out, size_t len)
{
	struct cert_options o = {0};
	struct cert_rollover_report r = {0};
	struct mc_error err = {0};
	struct dnsq_server server;
	struct dnsq dq;
	if (dnsq_server_choose(ctx->cfg->dns_resolver, &server, &err) < 0)
		return 0;
	dnsq_init(&dq, &server);
	int rc = cert_rollover_step(ctx, now, &o, 0, dnsq_lookup_now, &dq, &r, &err);
	dnsq_release(&dq);
	int acted = r.action == CERT_ROLL_SWITCHED || (rc < 0 && r.action != CERT_ROLL_IDLE);
	if (r.action == CERT_ROLL_SWITCHED)
		answer(out, len, rc == 0 ? "rolled-over" : "rolled-over-unverified",
		       r.cert.not_after, 0, rc == 0 ? r.tlsa_next : err.msg);
	else if (acted)
		answer(out, len, "rollover-failed", 0, 0, err.msg);
	else if (r.action == CERT_ROLL_WAITING) {
		time_t again = r.switch_after > now ? r.switch_after : now + 3600;
		if (!*next || again < *next)
			*next = again;
	}
	cert_rollover_report_release(&r);
	return acted;
}

/* The helper's answer to one 'R'. */
static void renew(const char *config_path, char *out, size_t len)
{
	struct config cfg;
	struct mc_ctx ctx = {.cfg = &cfg, .actor = "mailctld"};
	struct mc_error err = {0};
	struct cert_report r = {0};
	struct cert_options o = {.backoff = 1};
	int rc = config_load(&cfg, config_path, 0, &err);
	if (rc == 0)
		rc = store_open(&ctx.st, cfg.database, STORE_WRITE, &err);
	if (rc == 0)
		rc = cert_renew_due(&ctx, time(NULL), &o, &r, &err);
	if (rc < 0 && !err.msg[0])
		snprintf(err.msg, sizeof(err.msg), "renewal failed");
	int renewed = rc == 0 && (r.action == CERT_ISSUED || r.action == CERT_UNVERIFIED);
	if (ctx.st && (renewed || !rollover(&ctx, time(NULL), &r.next, out, len)))
		answer(out, len, rc < 0 ? "failed" : cert_action_name(r.action), r.not_after,
		       r.next, rc < 0 ? err.msg : (r.reason ? r.reason : ""));
	else if (!ctx.st)
		answer(out, len, "failed", 0, 0, err.msg);
	cert_report_release(&r);
	store_close(ctx.st);
	config_release(&cfg);
}

static void helper_main(int fd, const char *config_path)
{
	char req, reply[1024];
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	while (read(fd, &req, 1) == 1) {
		if (req != 'R')
			break;
		renew(config_path, reply, sizeof(reply));
		if (write(fd, reply, strlen(reply)) < 0)
			break;
	}
	_exit(0);
}

int privsep_start(const char *config_path, int keep_fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		/* Only the request socket and the log stay open in the helper. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sv[1] && fd != keep_fd)
				close(fd);
		helper_main(sv[1], config_path);
	}
	close(sv[1]);
	priv_fd = sv[0];
	priv_pid = pid;
	return 0;
}

int privsep_renew(int timeout_s, char *reply, size_t len)
{
	if (priv_fd < 0 || write(priv_fd, "R", 1) != 1) {
		snprintf(reply, len, "failed|0|0|the renewal helper is gone");
		return -1;
	}
	struct pollfd p = {.fd = priv_fd, .events = POLLIN};
	int ready = poll(&p, 1, timeout_s * 1000);
	ssize_t n = ready > 0 ? read(priv_fd, reply, len - 1) : -1;
	if (n <= 0) {
		/* A helper that does not answer in time is not asked again. */
		close(priv_fd);
		priv_fd = -1;
		snprintf(reply, len, "failed|0|0|the renewal helper did not answer");
		return -1;
	}
	reply[n] = 0;
	return 0;
}

void privsep_stop(void)
{
	if (priv_fd >= 0)
		close(priv_fd);
	priv_fd = -1;
	if (priv_pid > 0) {
		/* The helper may be mid-renewal: give it time, then end it. */
		for (int i = 0; i < 50 && waitpid(priv_pid, NULL, WNOHANG) == 0; i++)
			usleep(100000);
		if (waitpid(priv_pid, NULL, WNOHANG) == 0) {
			kill(priv_pid, SIGTERM);
			waitpid(priv_pid, NULL, 0);
		}
	}
	priv_pid = 0;
}
