/*
 * tests/bench/milter_load.c - load driver for one milter: the MTA side of
 * the Sendmail milter protocol (version 6, as libmilter implements it and
 * Postfix drives it) over a UNIX socket or a loopback TCP socket.
 *
 *   milter_load [options] unix:PATH|inet:PORT@LOOPBACK-ADDR
 *
 * Each of the -c connections is a thread: option negotiation, CONNECT and
 * HELO once, then per message MAIL, RCPT, DATA, the header fields, EOH,
 * body chunks of at most 65535 bytes and BODYEOB, each after the macros
 * Postfix sends at that stage (--auth: an authenticated submission); it
 * reads the modification actions up to the final answer, sends ABORT and
 * reuses the connection (QUIT and a new one after -m messages). As
 * Postfix's milter client does, commands are buffered (4 KiB) and sent
 * when the buffer is full or a reply is awaited, and a reply is waited
 * for in poll() before it is read. It stops
 * after -n messages or -d seconds, whichever comes first; a read or write
 * waits at most -t seconds. tests/bench/README.md lists every option.
 *
 * A message counts only when the final answer is accept or continue and,
 * with --expect-header NAME, the filter added or changed a header NAME
 * (containing --expect-text). Output: one line of KEY=VALUE pairs (counts,
 * msgs_per_s, p50/p99/max latency in ms, the CPU seconds of the filter -p
 * from /proc/PID/stat and msgs_per_cpu_s); each connection's first error
 * on stderr. Exit 0 when every message counted, 1 if not, 64 on misuse.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libmilter/mfdef.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLY (4 * 1024 * 1024) /* longest filter reply accepted */

struct header {
	char *name;
	char *value; /* as after the colon; continuation lines joined by "\n" */
};

struct message {
	struct header *hdrs;
	char *body;                   /* CRLF line ends, as on the wire */
	size_t nhdrs, body_len, size; /* size: for MAIL's SIZE= */
};

struct options {
	const char *socket, *file, *expect_name, *expect_text, *client_addr, *from, *rcpt;
	int conns, timeout, auth, show, unique_id;
	long total, per_conn, pid;
	double duration;
};

enum outcome { OK, REJECTED, TEMPFAILED, DISCARDED, MISSING, FAILED, NOUTCOMES };
static const char *const outcome_names[NOUTCOMES] = {"ok",        "rejected", "tempfail",
                                                     "discarded", "missing",  "failed"};

struct macro {
	const char *name, *value;
};

struct buf {
	char *p;
	size_t len, cap;
};

struct conn {
	int fd;
	uint32_t prot; /* the filter's protocol flags: steps it skips, replies it omits */
	char rb[16384];
	size_t roff, rlen;
	struct buf reply;
	struct buf out, macros; /* a command's data; SMFIC_MACRO's */
	struct buf wb;          /* commands written but not sent yet */
};

/* Commands are buffered as Postfix's VSTREAM does (4 KiB) and go out when
 * the buffer is full or a reply is awaited: with the replies a filter
 * omits (SMFIP_NR_*), a message's header fields travel in a few writes. */
#define WRITE_BUF 4096

struct worker {
	pthread_t thread;
	int id;
	long count[NOUTCOMES];
	double *lat; /* milliseconds, of every message with a final answer */
	size_t nlat, latcap;
	char error[256];
};

static struct options opt = {.conns = 4,
                             .timeout = 30,
                             .pid = -1,
                             .client_addr = "192.0.2.1",
                             .from = "alice@example.org",
                             .rcpt = "bob@example.net"};
static struct message msg;
static struct sockaddr_storage addr; /* of the filter */
static socklen_t addr_len;
static atomic_long next_seq;
static atomic_int shown;
static double deadline;

static __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("milter_load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(64);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		die("out of memory");
	return q;
}

static void buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* buf_str: S and its terminating NUL, as the protocol's strings are sent. */
static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s) + 1);
}

static __attribute__((format(printf, 2, 3))) void worker_error(struct worker *w, const char *fmt,
                                                               ...)
{
	va_list ap;
	if (w->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
}

/* ---- the message file ------------------------------------------------ */

static void message_add_line(struct message *m, char *line, int *in_body, size_t lineno)
{
	if (*in_body) {
		size_t n = strlen(line);
		m->body = xrealloc(m->body, m->body_len + n + 2);
		memcpy(m->body + m->body_len, line, n);
		memcpy(m->body + m->body_len + n, "\r\n", 2);
		m->body_len += n + 2;
	} else if (*line == '\0') {
		*in_body = 1;
	} else if ((*line == ' ' || *line == '\t') && m->nhdrs > 0) {
		struct header *h = &m->hdrs[m->nhdrs - 1];
		size_t old = strlen(h->value);
		h->value = xrealloc(h->value, old + strlen(line) + 2);
		h->value[old] = '\n'; /* Sendmail and Postfix join the lines so */
		strcpy(h->value + old + 1, line);
	} else {
		char *colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			die("%s: line %zu is not a header field", opt.file, lineno);
		m->hdrs = xrealloc(m->hdrs, (m->nhdrs + 1) * sizeof(*m->hdrs));
		m->hdrs[m->nhdrs].name = strndup(line, (size_t)(colon - line));
		m->hdrs[m->nhdrs].value = strdup(colon + 1);
		m->nhdrs++;
	}
}

/* message_load: split PATH (LF or CRLF lines) into header fields and body. */
static void message_load(const char *path, struct message *m)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int in_body = 0;

	if (f == NULL)
		die("cannot open '%s': %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		m->size += (size_t)n;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		message_add_line(m, line, &in_body, ++lineno);
	}
	free(line);
	fclose(f);
	if (m->nhdrs == 0)
		die("%s: no header fields", path);
}

/* ---- the wire -------------------------------------------------------- */

static int write_all(struct conn *c, struct iovec *iov, int n)
{
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
	while (mh.msg_iovlen > 0) {
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov->iov_len) {
			w -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* flush: send the buffered commands. */
static int flush(struct conn *c)
{
	struct iovec iov = {.iov_base = c->wb.p, .iov_len = c->wb.len};
	int rc = c->wb.len ? write_all(c, &iov, 1) : 0;
	c->wb.len = 0;
	return rc;
}

/* send_cmd: one packet: 4-byte length (command byte included), command,
 * data; into the buffer, or (a body chunk larger than it) straight out. */
static int send_cmd(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);
	char head[5];
	struct iovec iov[2];

	memcpy(head, &n, 4);
	head[4] = cmd;
	if (c->wb.len + 5 + len > WRITE_BUF && flush(c) < 0)
		return -1;
	if (5 + len <= WRITE_BUF) {
		buf_add(&c->wb, head, 5);
		if (len)
			buf_add(&c->wb, data, len);
		return 0;
	}
	iov[0] = (struct iovec){.iov_base = head, .iov_len = 5};
	iov[1] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
	return write_all(c, iov, len ? 2 : 1);
}

static int read_exact(struct conn *c, void *dst, size_t n)
{
	char *d = dst;
	while (n > 0) {
		if (c->roff == c->rlen) {
			if (flush(c) < 0) /* what the filter must see before it answers */
				return -1;
			/* ACK at once: a filter's reply in two small writes (libmilter
			 * does not set TCP_NODELAY) would wait for a delayed ACK */
			if (addr.ss_family != AF_UNIX)
				setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){1},
				           sizeof(int));
			/* Wait in poll() for input, as Postfix's timed_read() does: a
			 * reader blocked in recv() is also woken each time the filter
			 * drains what we wrote (the socket's write-space wakeup),
			 * which would cost the filter a context switch per read. */
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			int pr = poll(&p, 1, opt.timeout * 1000);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr == 0)
				errno = ETIMEDOUT;
			if (pr <= 0)
				return -1;
			ssize_t r = recv(c->fd, c->rb, sizeof(c->rb), 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				errno = ECONNRESET; /* the filter closed the connection */
			if (r <= 0)
				return -1;
			c->roff = 0;
			c->rlen = (size_t)r;
		}
		size_t k = c->rlen - c->roff < n ? c->rlen - c->roff : n;
		memcpy(d, c->rb + c->roff, k);
		c->roff += k;
		d += k;
		n -= k;
	}
	return 0;
}

/* read_reply: the next packet from the filter; its data is in c->reply. */
static int read_reply(struct conn *c, char *cmd)
{
	uint32_t n;
	if (read_exact(c, &n, 4) < 0)
		return -1;
	n = ntohl(n);
	if (n < 1 || n > MAX_REPLY)
		return errno = EPROTO, -1;
	if (read_exact(c, cmd, 1) < 0)
		return -1;
	c->reply.len = 0;
	if (c->reply.cap < n)
		c->reply.p = xrealloc(c->reply.p, c->reply.cap = n);
	if (read_exact(c, c->reply.p, n - 1) < 0)
		return -1;
	c->reply.len = n - 1;
	return 0;
}

/* await: the filter's answer to a command ('c' when it omits it), or 0 on
 * a read error. */
static char await(struct conn *c, uint32_t no_reply)
{
	char cmd;
	if (c->prot & no_reply)
		return SMFIR_CONTINUE;
	do {
		if (read_reply(c, &cmd) < 0)
			return 0;
	} while (cmd == SMFIR_PROGRESS);
	return cmd;
}

/* step: send one command unless the filter skips it, then its answer. */
static char step(struct conn *c, char cmd, const void *data, size_t len, uint32_t no,
                 uint32_t no_reply)
{
	if (c->prot & no)
		return SMFIR_CONTINUE;
	if (send_cmd(c, cmd, data, len) < 0)
		return 0;
	return await(c, no_reply);
}

/* send_macros: SMFIC_MACRO for STAGE with the first N of M. */
static int send_macros(struct conn *c, char stage, const struct macro *m, size_t n)
{
	c->macros.len = 0;
	buf_add(&c->macros, &stage, 1);
	for (size_t i = 0; i < n; i++) {
		buf_str(&c->macros, m[i].name);
		buf_str(&c->macros, m[i].value);
	}
	return send_cmd(c, SMFIC_MACRO, c->macros.p, c->macros.len);
}

/* ---- a connection ---------------------------------------------------- */

/* dial: a connected socket with the read and write timeouts, or -1. */
static int dial(struct worker *w)
{
	struct timeval tv = {.tv_sec = opt.timeout};
	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len) < 0) {
		worker_error(w, "cannot connect to '%s': %s", opt.socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (addr.ss_family != AF_UNIX) /* small commands go out at once, as Postfix's do */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	return fd;
}

/* negotiate: offer every action and protocol step of version 6; keep the
 * filter's choice of steps to skip and replies to omit. */
static int negotiate(struct conn *c, struct worker *w)
{
	char cmd;
	uint32_t v[3];

	uint32_t offer[3] = {htonl(SMFI_PROT_VERSION), htonl(SMFI_CURR_ACTS),
	                     htonl(SMFI_CURR_PROT)};

	if (send_cmd(c, SMFIC_OPTNEG, offer, sizeof(offer)) < 0 || read_reply(c, &cmd) < 0) {
		worker_error(w, "option negotiation: %s", strerror(errno));
		return -1;
	}
	if (cmd != SMFIC_OPTNEG || c->reply.len < 12) {
		worker_error(w, "option negotiation: filter answered '%c' (%zu bytes)", cmd,
		             c->reply.len);
		return -1;
	}
	memcpy(v, c->reply.p, 12);
	c->prot = ntohl(v[2]);
	if (ntohl(v[0]) < 2 || (c->prot & ~(uint32_t)SMFI_CURR_PROT) != 0) {
		worker_error(w, "option negotiation: version %u, protocol 0x%x not offered",
		             ntohl(v[0]), c->prot);
		return -1;
	}
	return 0;
}

static void step_error(struct worker *w, const char *step_name, char answer)
{
	if (answer)
		worker_error(w, "%s: filter answered '%c'", step_name, answer);
	else
		worker_error(w, "%s: %s", step_name, strerror(errno));
}

/* greet: CONNECT and HELO with their macros; both must be answered continue. */
static int greet(struct conn *c, struct worker *w)
{
	char client[300];
	snprintf(client, sizeof(client), "client.example.net [%s]", opt.client_addr);
	const struct macro conn_macros[] = {
	    {"j", "mail.example.org"},
	    {"{daemon_name}", opt.auth ? "ORIGINATING" : "mail.example.org"},
	    {"{client_addr}", opt.client_addr},
	    {"{client_name}", "client.example.net"},
	    {"{client_ptr}", "client.example.net"},
	    {"{client_port}", "50312"},
	    {"_", client},
	    {"v", "Postfix 3.7.11"},
	};
	const struct macro helo_macros[] = {
	    {"{tls_version}", "TLSv1.3"},
	    {"{cipher}", "TLS_AES_256_GCM_SHA384"},
	    {"{cipher_bits}", "256"},
	};
	char ch = 0;

	c->out.len = 0;
	buf_str(&c->out, "client.example.net");
	ch = strchr(opt.client_addr, ':') ? SMFIA_INET6 : SMFIA_INET;
	buf_add(&c->out, &ch, 1);
	buf_add(&c->out, "\xc4\xb8", 2); /* port 50312 */
	buf_str(&c->out, opt.client_addr);
	if (send_macros(c, SMFIC_CONNECT, conn_macros, 8) < 0 ||
	    (ch = step(c, SMFIC_CONNECT, c->out.p, c->out.len, SMFIP_NOCONNECT, SMFIP_NR_CONN)) !=
	        'c')
		return step_error(w, "CONNECT", ch), -1;
	if (send_macros(c, SMFIC_HELO, helo_macros, 3) < 0 ||
	    (ch = step(c, SMFIC_HELO, "client.example.net", sizeof("client.example.net"),
	               SMFIP_NOHELO, SMFIP_NR_HELO)) != 'c')
		return step_error(w, "HELO", ch), -1;
	return 0;
}

static void conn_close(struct conn *c, int quit)
{
	if (c->fd < 0)
		return;
	if (quit && send_cmd(c, SMFIC_QUIT, NULL, 0) == 0)
		flush(c);
	c->wb.len = 0;
	close(c->fd);
	c->fd = -1;
	c->roff = c->rlen = 0;
}

static int conn_open(struct conn *c, struct worker *w)
{
	c->roff = c->rlen = 0;
	if ((c->fd = dial(w)) < 0)
		return -1;
	if (negotiate(c, w) < 0 || greet(c, w) < 0) {
		conn_close(c, 0);
		return -1;
	}
	return 0;
}

/* ---- a message ------------------------------------------------------- */

/* verdict: the outcome a final answer means. */
static enum outcome verdict(struct conn *c, char cmd, int added)
{
	switch (cmd) {
	case SMFIR_ACCEPT:
	case SMFIR_CONTINUE:
		return added || opt.expect_name == NULL ? OK : MISSING;
	case SMFIR_REJECT:
		return REJECTED;
	case SMFIR_TEMPFAIL:
		return TEMPFAILED;
	case SMFIR_DISCARD:
		return DISCARDED;
	case SMFIR_REPLYCODE:
		return c->reply.len > 0 && c->reply.p[0] == '4' ? TEMPFAILED : REJECTED;
	default:
		return FAILED;
	}
}

/* show_header: one header action on stderr, its value unfolded. */
static void show_header(char cmd, const char *name, const char *value)
{
	char flat[1024];
	size_t k = 0;
	for (; *value && k < sizeof(flat) - 1; value++)
		if (*value != '\r' && *value != '\n')
			flat[k++] = *value == '\t' ? ' ' : *value;
	flat[k] = '\0';
	fprintf(stderr, "milter_load: filter %s header: %s: %s\n",
	        cmd == SMFIR_CHGHEADER ? "changed" : "added", name, flat + (flat[0] == ' '));
}

/* header_action: check one ADDHEADER/INSHEADER/CHGHEADER against
 * --expect-header; 1 when it matches. */
static int header_action(struct conn *c, char cmd)
{
	const char *p = c->reply.p, *end = c->reply.p + c->reply.len;
	if (cmd != SMFIR_ADDHEADER)
		p += 4; /* the index */
	if (p >= end || memchr(p, '\0', (size_t)(end - p)) == NULL)
		return 0;
	const char *name = p, *value = p + strlen(p) + 1;
	if (value >= end || memchr(value, '\0', (size_t)(end - value)) == NULL)
		return 0;
	if (opt.show && atomic_fetch_add(&shown, 1) < 4)
		show_header(cmd, name, value);
	return opt.expect_name && strcasecmp(name, opt.expect_name) == 0 &&
	       (opt.expect_text == NULL || strstr(value, opt.expect_text) != NULL);
}

/* finish: BODYEOB's answer: modification actions, then the final one. */
static enum outcome finish(struct conn *c, struct worker *w)
{
	static const char other_actions[] = {
	    SMFIR_PROGRESS, SMFIR_ADDRCPT, SMFIR_DELRCPT,    SMFIR_ADDRCPT_PAR,
	    SMFIR_REPLBODY, SMFIR_CHGFROM, SMFIR_QUARANTINE, '\0'};
	char cmd;
	int added = 0;

	for (;;) {
		if (read_reply(c, &cmd) < 0)
			return worker_error(w, "end of message: %s", strerror(errno)), FAILED;
		if (cmd == SMFIR_ADDHEADER || cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER)
			added |= header_action(c, cmd);
		else if (cmd == '\0' || strchr(other_actions, cmd) == NULL)
			break;
	}
	enum outcome o = verdict(c, cmd, added);
	if (o == FAILED)
		worker_error(w, "unexpected answer '%c' at end of message", cmd);
	else if (o == MISSING)
		worker_error(w, "the filter did not add a %s header%s%s", opt.expect_name,
		             opt.expect_text ? " containing " : "",
		             opt.expect_text ? opt.expect_text : "");
	return o;
}

/* envelope: MAIL, RCPT and DATA with their macros; 'c' to go on. */
static char envelope(struct conn *c, const char *qid)
{
	char from[320], rcpt[320], size[32];
	const struct macro mail_macros[] = {
	    {"i", qid},
	    {"{mail_addr}", opt.from},
	    {"{mail_mailer}", "smtp"},
	    {"{auth_type}", "PLAIN"},
	    {"{auth_authen}", opt.from},
	};
	const struct macro rcpt_macros[] = {{"{rcpt_addr}", opt.rcpt}, {"{rcpt_mailer}", "smtp"}};
	const struct macro data_macros[] = {{"i", qid}};
	char r;

	snprintf(from, sizeof(from), "<%s>", opt.from);
	snprintf(rcpt, sizeof(rcpt), "<%s>", opt.rcpt);
	snprintf(size, sizeof(size), "SIZE=%zu", msg.size);
	c->out.len = 0;
	buf_str(&c->out, from);
	buf_str(&c->out, size);
	buf_str(&c->out, "BODY=8BITMIME");
	if (send_macros(c, SMFIC_MAIL, mail_macros, opt.auth ? 5 : 3) < 0)
		return 0;
	r = step(c, SMFIC_MAIL, c->out.p, c->out.len, SMFIP_NOMAIL, SMFIP_NR_MAIL);
	if (r != 'c' || send_macros(c, SMFIC_RCPT, rcpt_macros, 2) < 0)
		return r;
	r = step(c, SMFIC_RCPT, rcpt, strlen(rcpt) + 1, SMFIP_NORCPT, SMFIP_NR_RCPT);
	if (r != 'c' || send_macros(c, SMFIC_DATA, data_macros, 1) < 0)
		return r;
	return step(c, SMFIC_DATA, NULL, 0, SMFIP_NODATA, SMFIP_NR_DATA);
}

/* content: the header fields, EOH and the body chunks; 'c' to go on. */
static char content(struct conn *c, const char *qid)
{
	const struct macro eoh_macros[] = {{"i", qid}};
	char r = 'c', mid[96];

	for (size_t i = 0; i < msg.nhdrs && r == 'c'; i++) {
		const char *v = msg.hdrs[i].value;
		if (!(c->prot & SMFIP_HDR_LEADSPC) && *v == ' ')
			v++; /* Sendmail eats the first space after the colon */
		if (opt.unique_id && strcasecmp(msg.hdrs[i].name, "Message-ID") == 0) {
			snprintf(mid, sizeof(mid), "%s<%s.load@mail.example.org>",
			         (c->prot & SMFIP_HDR_LEADSPC) ? " " : "", qid);
			v = mid;
		}
		c->out.len = 0;
		buf_str(&c->out, msg.hdrs[i].name);
		buf_str(&c->out, v);
		r = step(c, SMFIC_HEADER, c->out.p, c->out.len, SMFIP_NOHDRS, SMFIP_NR_HDR);
	}
	if (r != 'c' || send_macros(c, SMFIC_EOH, eoh_macros, 1) < 0)
		return r;
	r = step(c, SMFIC_EOH, NULL, 0, SMFIP_NOEOH, SMFIP_NR_EOH);
	for (size_t off = 0; r == 'c' && off < msg.body_len; off += MILTER_CHUNK_SIZE) {
		size_t n = msg.body_len - off;
		n = n > MILTER_CHUNK_SIZE ? MILTER_CHUNK_SIZE : n;
		r = step(c, SMFIC_BODY, msg.body + off, n, SMFIP_NOBODY, SMFIP_NR_BODY);
	}
	return r == SMFIR_SKIP ? 'c' : r;
}

static void record(struct worker *w, enum outcome o, double ms)
{
	w->count[o]++;
	if (o == FAILED)
		return;
	if (w->nlat == w->latcap) {
		w->latcap = w->latcap * 2 + 256;
		w->lat = xrealloc(w->lat, w->latcap * sizeof(double));
	}
	w->lat[w->nlat++] = ms;
}

/* message: one message on an open connection; its outcome. */
static enum outcome message(struct conn *c, struct worker *w, long seq)
{
	char qid[32], r;
	double t0 = now();
	enum outcome o;

	snprintf(qid, sizeof(qid), "%X%07lX", w->id + 1, (unsigned long)seq);
	const struct macro eom_macros[] = {{"i", qid}};
	r = envelope(c, qid);
	if (r == 'c')
		r = content(c, qid);
	if (r == 'c') {
		if (send_macros(c, SMFIC_BODYEOB, eom_macros, 1) < 0 ||
		    send_cmd(c, SMFIC_BODYEOB, NULL, 0) < 0)
			r = 0;
		else
			o = finish(c, w);
	}
	if (r != 'c') {
		o = r ? verdict(c, r, 0) : FAILED;
		if (r == 0)
			worker_error(w, "write or read: %s", strerror(errno));
		else if (o != OK)
			worker_error(w, "filter answered '%c' before the end of the message", r);
	}
	record(w, o, (now() - t0) * 1000.0);
	return o;
}

/* ---- the run --------------------------------------------------------- */

static int claim(long *seq)
{
	if (now() >= deadline)
		return 0;
	*seq = atomic_fetch_add(&next_seq, 1);
	return *seq < opt.total;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct conn c = {.fd = -1};
	long seq, in_conn = 0;
	int dial_failures = 0;

	while (claim(&seq)) {
		if (c.fd < 0 && conn_open(&c, w) < 0) {
			w->count[FAILED]++;
			if (++dial_failures >= 3)
				break; /* the filter is not there: stop, do not spin */
			usleep(100000);
			continue;
		}
		dial_failures = 0;
		if (message(&c, w, seq) == FAILED) {
			conn_close(&c, 0); /* its state is unknown: start afresh */
			in_conn = 0;
			continue;
		}
		send_cmd(&c, SMFIC_ABORT, NULL, 0);
		if (opt.per_conn > 0 && ++in_conn >= opt.per_conn) {
			conn_close(&c, 1);
			in_conn = 0;
		}
	}
	conn_close(&c, 1);
	free(c.reply.p);
	free(c.out.p);
	free(c.macros.p);
	free(c.wb.p);
	return NULL;
}

/* cpu_seconds: user + system time of PID and its reaped children; -1 when
 * /proc does not tell. */
static double cpu_seconds(long pid)
{
	char path[64], line[1024];
	unsigned long ut, st;
	long cut, cst;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	const char *p = strrchr(line, ')'); /* the command name may hold spaces */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld", &ut, &st,
	           &cut, &cst) != 4)
		return -1;
	return (double)(ut + st + (unsigned long)cut + (unsigned long)cst) /
	       (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* percentile: nearest rank of sorted V. */
static double percentile(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	double rank = p / 100.0 * (double)n;
	size_t k = (size_t)rank + ((double)(size_t)rank < rank);
	return v[k ? k - 1 : 0];
}

static void usage(void)
{
	fputs("usage: milter_load [-c CONNS] [-n MESSAGES] [-d SECONDS] [-m PER-CONNECTION]\n"
	      "         [-t TIMEOUT] [-p FILTER-PID] -f MESSAGE-FILE [--auth]\n"
	      "         [--expect-header NAME [--expect-text TEXT]] [--client ADDR]\n"
	      "         [--from ADDR] [--rcpt ADDR] [--unique-id] [--show]\n"
	      "         unix:PATH|inet:PORT@ADDR\n",
	      stderr);
	exit(64);
}

/* resolve_socket: S as the address to dial; only a UNIX socket or a
 * loopback address. */
static void resolve_socket(const char *s)
{
	const char *at = strchr(s, '@');
	const char *path = strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0
	                       ? strchr(s, ':') + 1
	                       : (s[0] == '/' ? s : NULL);
	long port = at ? atol(strchr(s, ':') + 1) : 0;
	struct sockaddr_un *su = (void *)&addr;
	struct sockaddr_in *s4 = (void *)&addr;
	struct sockaddr_in6 *s6 = (void *)&addr;

	if (path) {
		if (strlen(path) >= sizeof(su->sun_path))
			die("socket path '%s' is too long", path);
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, path);
		addr_len = sizeof(*su);
	} else if (strncmp(s, "inet", 4) != 0 || at == NULL || port <= 0 || port > 65535) {
		die("socket '%s' is neither unix:PATH nor inet:PORT@ADDR", s);
	} else if (inet_pton(AF_INET, at + 1, &s4->sin_addr) == 1 &&
	           ntohl(s4->sin_addr.s_addr) >> 24 == 127) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		addr_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, at + 1, &s6->sin6_addr) == 1 &&
	           IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		addr_len = sizeof(*s6);
	} else {
		die("'%s' is not a loopback address: this driver loads local filters only", at + 1);
	}
}

static void parse_options(int argc, char **argv)
{
	/* clang-format off */
	static const struct option longopts[] = {
		{"auth", no_argument, NULL, 'A'}, {"expect-header", required_argument, NULL, 'E'},
		{"expect-text", required_argument, NULL, 'X'}, {"client", required_argument, NULL, 'C'},
		{"from", required_argument, NULL, 'F'}, {"rcpt", required_argument, NULL, 'R'},
		{"show", no_argument, NULL, 'S'}, {"unique-id", no_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	/* clang-format on */
	int ch;
	while ((ch = getopt_long(argc, argv, "c:n:d:m:t:p:f:h", longopts, NULL)) != -1) {
		/* clang-format off */
		switch (ch) {
		case 'c': opt.conns = atoi(optarg); break;
		case 'n': opt.total = atol(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'm': opt.per_conn = atol(optarg); break;
		case 't': opt.timeout = atoi(optarg); break;
		case 'p': opt.pid = atol(optarg); break;
		case 'f': opt.file = optarg; break;
		case 'A': opt.auth = 1; break;
		case 'E': opt.expect_name = optarg; break;
		case 'X': opt.expect_text = optarg; break;
		case 'C': opt.client_addr = optarg; break;
		case 'F': opt.from = optarg; break;
		case 'R': opt.rcpt = optarg; break;
		case 'S': opt.show = 1; break;
		case 'U': opt.unique_id = 1; break;
		default: usage();
		}
		/* clang-format on */
	}
	if (optind != argc - 1 || opt.file == NULL)
		usage();
	opt.socket = argv[optind];
	resolve_socket(opt.socket);
	if (opt.conns < 1 || opt.conns > 1024 || opt.total < 0 || opt.duration < 0 ||
	    opt.timeout < 1 || opt.per_conn < 0)
		die("-c must be 1..1024; -n, -d, -m not negative; -t at least 1");
	if (opt.total == 0)
		opt.total = opt.duration > 0 ? LONG_MAX : 1000;
	if (opt.duration == 0)
		opt.duration = 300; /* a bound even when only -n is given */
}

/* report: merge the workers' figures and print the KEY=VALUE line. */
static int report(struct worker *ws, double elapsed, double cpu0, double cpu1)
{
	long count[NOUTCOMES] = {0}, errors = 0;
	size_t nlat = 0;
	double *lat = NULL, cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	struct rusage ru;

	for (int i = 0; i < opt.conns; i++) {
		for (int k = 0; k < NOUTCOMES; k++)
			count[k] += ws[i].count[k];
		lat = xrealloc(lat, (nlat + ws[i].nlat) * sizeof(double));
		if (ws[i].nlat > 0)
			memcpy(lat + nlat, ws[i].lat, ws[i].nlat * sizeof(double));
		nlat += ws[i].nlat;
		if (ws[i].error[0])
			fprintf(stderr, "milter_load: connection %d, first error: %s\n", i + 1,
			        ws[i].error);
		for (int k = 1; k < NOUTCOMES; k++)
			errors += ws[i].count[k];
	}
	qsort(lat, nlat, sizeof(double), cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("messages=%ld errors=%ld", count[OK], errors);
	for (int k = 1; k < NOUTCOMES; k++)
		printf(" %s=%ld", outcome_names[k], count[k]);
	printf(" elapsed_s=%.3f msgs_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", elapsed,
	       (double)count[OK] / elapsed, percentile(lat, nlat, 50), percentile(lat, nlat, 99),
	       nlat ? lat[nlat - 1] : 0.0);
	if (cpu >= 0)
		printf(" filter_cpu_s=%.2f msgs_per_cpu_s=%.1f", cpu,
		       cpu > 0 ? (double)count[OK] / cpu : 0.0);
	else
		printf(" filter_cpu_s=- msgs_per_cpu_s=-");
	printf(" driver_cpu_s=%.2f\n",
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	free(lat);
	return errors == 0 && count[OK] > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct worker *ws;
	double t0, cpu0, cpu1;

	parse_options(argc, argv);
	message_load(opt.file, &msg);
	if (opt.pid > 0 && cpu_seconds(opt.pid) < 0)
		die("cannot read /proc/%ld/stat: is the filter running?", opt.pid);
	ws = calloc((size_t)opt.conns, sizeof(*ws));
	if (ws == NULL)
		die("out of memory");
	cpu0 = cpu_seconds(opt.pid);
	t0 = now();
	deadline = t0 + opt.duration;
	for (int i = 0; i < opt.conns; i++) {
		ws[i].id = i;
		if (pthread_create(&ws[i].thread, NULL, worker_run, &ws[i]) != 0)
			die("cannot start thread %d", i + 1);
	}
	for (int i = 0; i < opt.conns; i++)
		pthread_join(ws[i].thread, NULL);
	cpu1 = cpu_seconds(opt.pid);
	int rc = report(ws, now() - t0, cpu0, cpu1);
	for (int i = 0; i < opt.conns; i++)
		free(ws[i].lat);
	free(ws);
	return rc;
}
