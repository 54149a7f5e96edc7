/* Reload the TLS servers and ask each port which certificate it serves
 * (see cert.h). */
#include "cert.h"
#include "run.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Seconds one connection (connect, dialogue, handshake) may take. */
#define PORT_TIMEOUT_S 5
/* Where Debian's nginx names its master process. */
#define NGINX_PIDFILE "/run/nginx.pid"

/* ---- reload ---- */

/* The live nginx master named by its pid file, or 0. */
static pid_t nginx_pid(void)
{
	FILE *f = fopen(NGINX_PIDFILE, "re");
	long pid = 0;
	char comm[32] = "";
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0)
		return 0;
	char *path = xasprintf("/proc/%ld/comm", pid);
	f = fopen(path, "re");
	free(path);
	if (!f)
		return 0;
	int ok = fgets(comm, sizeof(comm), f) && !strncmp(comm, "nginx", 5);
	fclose(f);
	return ok ? (pid_t)pid : 0;
}

int cert_reload(const struct config *cfg, char **reloaded, struct mc_error *err)
{
	struct strbuf done = STRBUF_INIT, out = STRBUF_INIT;
	char *conf = xasprintf("%s/dovecot.conf", cfg->dovecot_dir);
	char *pf_status[] = {"postfix", "-c", cfg->postfix_dir, "status", NULL};
	char *pf_reload[] = {"postfix", "-c", cfg->postfix_dir, "reload", NULL};
	char *dc_reload[] = {"doveadm", "-c", conf, "reload", NULL};
	int rc = 0;
	if (run_capture(pf_status, NULL) == 0) {
		if (run_capture(pf_reload, &out) == 0)
			strbuf_addstr(&done, "postfix");
		else
			rc = mc_fail(err, MC_ETEMP, "postfix did not reload: run 'postfix reload'");
	}
	/* doveadm fails when Dovecot does not run: nothing to reload then */
	if (run_capture(dc_reload, &out) == 0)
		strbuf_addf(&done, "%sdovecot", done.len ? "," : "");
	pid_t ng = nginx_pid();
	if (ng > 0) { /* SIGHUP is what 'nginx -s reload' and its unit send */
		if (kill(ng, SIGHUP) == 0)
			strbuf_addf(&done, "%snginx", done.len ? "," : "");
		else if (rc == 0)
			rc = mc_fail(err, MC_ETEMP, "nginx (pid %ld) did not reload: %s", (long)ng,
			             mc_strerror(errno));
	}
	strbuf_release(&out);
	free(conf);
	*reloaded = strbuf_detach(&done);
	return rc;
}

/* ---- the ports ---- */

enum dialogue { PLAIN_TLS, STARTTLS_SMTP, STARTTLS_IMAP, STARTTLS_POP3 };

static const struct {
	int port;
	const char *service;
	enum dialogue how;
	int plaintext_only; /* only with mail.plaintext_ports */
} port_table[] = {
    {25, "smtp", STARTTLS_SMTP, 0},        {465, "submissions", PLAIN_TLS, 0},
    {587, "submission", STARTTLS_SMTP, 0}, {993, "imaps", PLAIN_TLS, 0},
    {995, "pop3s", PLAIN_TLS, 0},          {443, "https", PLAIN_TLS, 0},
    {143, "imap", STARTTLS_IMAP, 1},       {110, "pop3", STARTTLS_POP3, 1},
};

/* What to send and the reply to wait for, per dialogue (NULL: only read). */
static const struct step {
	const char *send, *expect;
} steps[][3] = {
    [PLAIN_TLS] = {{NULL, NULL}},
    [STARTTLS_SMTP] = {{NULL, "220"}, {"EHLO mailctl.invalid\r\n", "250"}, {"STARTTLS\r\n", "220"}},
    [STARTTLS_IMAP] = {{NULL, "* OK"}, {"a STARTTLS\r\n", "a OK"}, {NULL, NULL}},
    [STARTTLS_POP3] = {{NULL, "+OK"}, {"STLS\r\n", "+OK"}, {NULL, NULL}},
};

/* A TCP connection to host:port within the timeout; -1 with errno. */
static int tcp_connect(const char *host, int port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && fd >= 0 && errno == EINPROGRESS) {
		struct pollfd p = {fd, POLLOUT, 0};
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		rc = poll(&p, 1, PORT_TIMEOUT_S * 1000);
		if (rc == 0)
			errno = ETIMEDOUT;
		else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr)
			errno = soerr;
		rc = rc > 0 && !soerr ? 0 : -1;
	}
	struct timeval tv = {PORT_TIMEOUT_S, 0};
	if (rc == 0 && (fcntl(fd, F_SETFL, 0) < 0 ||
	                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0))
		rc = -1;
	if (rc < 0 && fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Read one line (CRLF stripped) byte by byte: nothing of what follows the
 * STARTTLS reply may be consumed. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;
	for (;;) {
		ssize_t got = recv(fd, &c, 1, 0);
		if (got <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 < size && c != '\r')
			buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

/* Read the reply 'want' starts; SMTP continuation lines ("250-") and IMAP
 * untagged lines before a tagged reply are skipped. */
static int expect_reply(int fd, const char *want, char *line, size_t size)
{
	for (;;) {
		if (read_line(fd, line, size) < 0)
			return -1;
		int smtp_more =
		    strlen(line) > 3 && line[3] == '-' && line[0] >= '0' && line[0] <= '9';
		int untagged = want[0] != '*' && line[0] == '*';
		if (!smtp_more && !untagged)
			return strncmp(line, want, strlen(want)) ? -1 : 0;
	}
}

/* The plaintext part of a STARTTLS dialogue; 'detail' says what failed. */
static int starttls(int fd, enum dialogue how, char **detail)
{
	char line[512];
	for (size_t i = 0; i < 3 && steps[how][i].expect; i++) {
		const struct step *s = &steps[how][i];
		if (s->send && send(fd, s->send, strlen(s->send), MSG_NOSIGNAL) < 0) {
			*detail = xasprintf("cannot send: %s", mc_strerror(errno));
			return -1;
		}
		line[0] = '\0';
		if (expect_reply(fd, s->expect, line, sizeof(line)) < 0) {
			*detail =
			    xasprintf("no '%s' reply to STARTTLS (got '%.80s')", s->expect, line);
			return -1;
		}
	}
	return 0;
}

/* Hex SHA-256 of a certificate's DER. */
static void fingerprint(X509 *x, char hex[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	hex[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &len))
		return;
	for (unsigned int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The TLS handshake on a connected socket; the leaf's fingerprint. */
static int handshake(int fd, const char *sni, char hex[65], char **detail)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	X509 *peer = NULL;
	int rc = -1;
	if (ssl) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); /* compared below, not trusted */
		SSL_set_fd(ssl, fd);
		SSL_set_tlsext_host_name(ssl, sni);
		if (SSL_connect(ssl) == 1 && (peer = SSL_get1_peer_certificate(ssl))) {
			fingerprint(peer, hex);
			rc = 0;
		}
	}
	if (rc < 0) {
		char buf[256] = "no certificate";
		unsigned long e = ERR_get_error();
		if (e)
			ERR_error_string_n(e, buf, sizeof(buf));
		*detail = xasprintf("TLS handshake failed: %s", buf);
	}
	ERR_clear_error();
	X509_free(peer);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

/* Ask one port; fill state and detail. */
static void check_port(const char *host, const char *sni, size_t i, const char *new_fp,
                       const char *old_fp, struct cert_port *p)
{
	char hex[65] = "";
	char *detail = NULL;
	free(p->detail);
	p->detail = NULL;
	int fd = tcp_connect(host, port_table[i].port);
	if (fd < 0) {
		p->state = errno == ECONNREFUSED ? CERT_PORT_CLOSED : CERT_PORT_ERROR;
		p->detail = xasprintf("%s", p->state == CERT_PORT_CLOSED ? "nothing listens"
		                                                         : mc_strerror(errno));
		return;
	}
	if (starttls(fd, port_table[i].how, &detail) == 0)
		handshake(fd, sni, hex, &detail);
	close(fd);
	if (detail) {
		p->state = CERT_PORT_ERROR;
		p->detail = detail;
	} else if (!strcmp(hex, new_fp)) {
		p->state = CERT_PORT_NEW;
	} else if (old_fp && !strcmp(hex, old_fp)) {
		p->state = CERT_PORT_OLD;
		p->detail = xstrdup("still serves the old certificate");
	} else {
		p->state = CERT_PORT_OTHER;
		p->detail = xasprintf("serves another certificate (SHA-256 %.16s...)", hex);
	}
}

static int port_bad(const struct cert_port *p)
{
	return p->state != CERT_PORT_NEW && p->state != CERT_PORT_CLOSED;
}

int cert_verify_ports(const struct config *cfg, const char *host, const char *new_sha256,
                      const char *old_sha256, int tries, struct cert_port *out, size_t *n)
{
	const char *sni = cfg->hostname && *cfg->hostname ? cfg->hostname : "localhost";
	struct timespec pause = {1, 0};
	int bad = 0;
	*n = 0;
	for (size_t i = 0; i < sizeof(port_table) / sizeof(port_table[0]); i++) {
		if (port_table[i].plaintext_only && !cfg->plaintext_ports)
			continue;
		out[*n] = (struct cert_port){port_table[i].port, port_table[i].service,
		                             CERT_PORT_ERROR, NULL};
		(*n)++;
	}
	for (int round = 0; round < (tries > 0 ? tries : 1); round++) {
		if (round > 0) /* a reloaded server may take a moment */
			nanosleep(&pause, NULL);
		bad = 0;
		for (size_t k = 0, i = 0; i < sizeof(port_table) / sizeof(port_table[0]); i++) {
			if (port_table[i].plaintext_only && !cfg->plaintext_ports)
				continue;
			if (round == 0 || port_bad(&out[k]))
				check_port(host, sni, i, new_sha256, old_sha256, &out[k]);
			bad += port_bad(&out[k++]);
		}
		if (!bad)
			break;
	}
	return bad;
}
