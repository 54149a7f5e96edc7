/* Asynchronous stub resolver client on ldns; see dnsq.h. */
#include "dnsq.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define EDNS_UDP_SIZE   1232
#define FIRST_RESEND_MS 500
/* Sockets open at once: well under the usual limit of 1024 descriptors,
 * however many domains are checked. */
#define MAX_INFLIGHT 256

const char *dnsq_status_name(enum dnsq_status s)
{
	static const char *const names[] = {
	    [DNSQ_PENDING] = "pending",   [DNSQ_ANSWER] = "answer",     [DNSQ_NODATA] = "nodata",
	    [DNSQ_NXDOMAIN] = "nxdomain", [DNSQ_SERVFAIL] = "servfail", [DNSQ_REFUSED] = "refused",
	    [DNSQ_TIMEOUT] = "timeout",   [DNSQ_ERROR] = "error",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

/* ---- server addresses ---- */

static int server_set(struct dnsq_server *out, const char *addr, const char *port)
{
	struct addrinfo hints = {0}, *ai;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(addr, port, &hints, &ai) != 0)
		return -1;
	memcpy(&out->sa, ai->ai_addr, ai->ai_addrlen);
	out->salen = ai->ai_addrlen;
	snprintf(out->text, sizeof(out->text), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	         addr, port);
	freeaddrinfo(ai);
	return 0;
}

/* A port: 1-65535, digits only. */
static int valid_port(const char *p)
{
	return *p && strlen(p) <= 5 && strspn(p, "0123456789") == strlen(p) && atoi(p) > 0 &&
	       atoi(p) <= 65535;
}

int dnsq_server_parse(const char *spec, struct dnsq_server *out, struct mc_error *err)
{
	char addr[64];
	const char *port = "53", *colon = strchr(spec, ':');
	memset(out, 0, sizeof(*out));
	if (spec[0] == '[') { /* [v6] or [v6]:port */
		const char *end = strchr(spec, ']');
		if (!end || (end[1] && (end[1] != ':' || !valid_port(end + 2))) ||
		    (size_t)(end - spec) >= sizeof(addr))
			goto bad;
		snprintf(addr, sizeof(addr), "%.*s", (int)(end - spec - 1), spec + 1);
		port = end[1] ? end + 2 : port;
	} else if (colon && !strchr(colon + 1, ':')) { /* v4:port */
		if (!valid_port(colon + 1) || (size_t)(colon - spec) >= sizeof(addr))
			goto bad;
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	} else if (strlen(spec) < sizeof(addr)) { /* v4 or bare v6 */
		snprintf(addr, sizeof(addr), "%s", spec);
	} else
		goto bad;
	if (server_set(out, addr, port) == 0)
		return 0;
bad:
	return mc_fail(err, MC_EUSAGE,
	               "invalid resolver address '%s': use ADDR, ADDR:PORT or [IPV6]:PORT", spec);
}

int dnsq_server_system(const char *path, struct dnsq_server *out, struct mc_error *err)
{
	char line[512], word[64];
	path = path ? path : "/etc/resolv.conf";
	FILE *f = fopen(path, "re");
	if (!f)
		return mc_fail(err, MC_ECONFIG,
		               "cannot open '%s': %s: set dns.resolver or use --resolver", path,
		               mc_strerror(errno));
	int rc = -1;
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " nameserver %63s", word) == 1)
			rc = server_set(out, word, "53") == 0 ? 0 : -2;
	}
	fclose(f);
	if (rc == -2)
		return mc_fail(err, MC_ECONFIG, "'%s': invalid nameserver '%s'", path, word);
	if (rc < 0)
		return mc_fail(err, MC_ECONFIG,
		               "'%s' names no nameserver: set dns.resolver or use --resolver",
		               path);
	return 0;
}

/* ---- queries ---- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dnsq_init(struct dnsq *d, const struct dnsq_server *server)
{
	memset(d, 0, sizeof(*d));
	d->server = *server;
	d->timeout_ms = DNSQ_TIMEOUT_MS;
}

/* Names compare without case and without regard to the final dot. */
static int same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && strncasecmp(a, b, la) == 0;
}

long dnsq_find(const struct dnsq *d, const char *name, ldns_rr_type type, int cd)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].type == type && d->v[i].cd == !!cd && same_name(d->v[i].name, name))
			return (long)i;
	return -1;
}

size_t dnsq_add(struct dnsq *d, const char *name, ldns_rr_type type, int cd)
{
	long i = dnsq_find(d, name, type, cd);
	if (i >= 0)
		return (size_t)i;
	d->v = xgrow(d->v, &d->alloc, d->n + 1, sizeof(*d->v));
	struct dnsq_query *q = &d->v[d->n];
	size_t len = strlen(name);
	memset(q, 0, sizeof(*q));
	/* ldns reads a name without the final dot as relative. */
	q->name = len && name[len - 1] == '.' ? xstrdup(name) : xasprintf("%s.", name);
	q->type = type;
	q->cd = !!cd;
	q->fd = -1;
	return d->n++;
}

static void finish(struct dnsq_query *q, enum dnsq_status st)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	q->io = DNSQ_IO_NONE;
	q->status = st;
	free(q->buf);
	q->buf = NULL;
}

__attribute__((format(printf, 2, 3))) static void fail_q(struct dnsq_query *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->why, sizeof(q->why), fmt, ap);
	va_end(ap);
	finish(q, DNSQ_ERROR);
}

/* The query in wire form, with room for TCP's 2-byte length in front. */
static int encode(struct dnsq_query *q)
{
	ldns_rdf *name = ldns_dname_new_frm_str(q->name);
	if (!name)
		return -1;
	ldns_pkt *pkt = ldns_pkt_query_new(name, q->type, LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *wire = NULL;
	size_t len = 0;
	if (getrandom(&q->id, sizeof(q->id), 0) != sizeof(q->id))
		q->id = (uint16_t)(now_ms() ^ (long long)getpid());
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_cd(pkt, q->cd);
	ldns_pkt_set_edns_udp_size(pkt, EDNS_UDP_SIZE);
	ldns_pkt_set_edns_do(pkt, 1);
	ldns_status st = ldns_pkt2wire(&wire, pkt, &len);
	ldns_pkt_free(pkt);
	if (st != LDNS_STATUS_OK)
		return -1;
	q->wire = xmalloc(len + 2);
	q->wire[0] = (uint8_t)(len >> 8);
	q->wire[1] = (uint8_t)len;
	memcpy(q->wire + 2, wire, len);
	q->wirelen = len;
	free(wire);
	return 0;
}

static int open_socket(const struct dnsq_server *s, int type)
{
	int fd = socket(s->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&s->sa, s->salen) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void udp_send(struct dnsq_query *q, long long now)
{
	if (send(q->fd, q->wire + 2, q->wirelen, 0) < 0 && errno != EAGAIN && errno != EINTR &&
	    errno != ENOBUFS) {
		fail_q(q, "cannot send: %s", mc_strerror(errno));
		return;
	}
	/* 0.5 s, then 1 s, 2 s... between sends. */
	q->next_send_ms = now + ((long long)FIRST_RESEND_MS << (q->sends < 4 ? q->sends : 4));
	q->sends++;
}

static void start(struct dnsq *d, struct dnsq_query *q, long long now)
{
	if (!q->wire && encode(q) < 0) {
		fail_q(q, "invalid query name '%s'", q->name);
		return;
	}
	q->fd = open_socket(&d->server, SOCK_DGRAM);
	if (q->fd < 0) {
		fail_q(q, "cannot reach %s: %s", d->server.text, mc_strerror(errno));
		return;
	}
	q->io = DNSQ_IO_UDP;
	udp_send(q, now);
}

/* Truncated over UDP: ask again over TCP (RFC 7766). */
static void to_tcp(struct dnsq *d, struct dnsq_query *q)
{
	close(q->fd);
	q->fd = open_socket(&d->server, SOCK_STREAM);
	if (q->fd < 0) {
		fail_q(q, "cannot connect over TCP to %s: %s", d->server.text, mc_strerror(errno));
		return;
	}
	q->io = DNSQ_IO_TCP_CONNECT;
	q->tcp = 1;
	q->off = q->got = 0;
}

/* 1 when 'pkt' answers 'q': our ID, a response, the same question. */
static int matches(const struct dnsq_query *q, const ldns_pkt *pkt)
{
	if (ldns_pkt_id(pkt) != q->id || !ldns_pkt_qr(pkt) || ldns_pkt_qdcount(pkt) != 1)
		return 0;
	const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	ldns_rdf *want = ldns_dname_new_frm_str(q->name);
	int ok = qr && want && ldns_rr_get_type(qr) == q->type &&
	         ldns_dname_compare(ldns_rr_owner(qr), want) == 0;
	ldns_rdf_deep_free(want);
	return ok;
}

/* Classify a reply and keep it. */
static void accept_reply(struct dnsq_query *q, ldns_pkt *pkt)
{
	ldns_rr_list *rrs = NULL;
	enum dnsq_status st;
	switch (ldns_pkt_get_rcode(pkt)) {
	case LDNS_RCODE_NOERROR:
		rrs = ldns_pkt_rr_list_by_type(pkt, q->type, LDNS_SECTION_ANSWER);
		if (rrs && ldns_rr_list_rr_count(rrs) == 0) {
			ldns_rr_list_deep_free(rrs);
			rrs = NULL;
		}
		st = rrs ? DNSQ_ANSWER : DNSQ_NODATA;
		break;
	case LDNS_RCODE_NXDOMAIN:
		st = DNSQ_NXDOMAIN;
		break;
	case LDNS_RCODE_SERVFAIL:
		st = DNSQ_SERVFAIL;
		break;
	case LDNS_RCODE_REFUSED:
		st = DNSQ_REFUSED;
		break;
	default:
		snprintf(q->why, sizeof(q->why), "the resolver answered with rcode %d",
		         (int)ldns_pkt_get_rcode(pkt));
		st = DNSQ_ERROR;
	}
	q->pkt = pkt;
	q->rrs = rrs;
	q->ad = ldns_pkt_ad(pkt);
	finish(q, st);
}

static void udp_read(struct dnsq *d, struct dnsq_query *q)
{
	uint8_t buf[65536];
	ldns_pkt *pkt;
	for (;;) {
		ssize_t n = recv(q->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) { /* ICMP: port or host unreachable */
			fail_q(q, "no DNS service at %s: %s", d->server.text, mc_strerror(errno));
			return;
		}
		if (ldns_wire2pkt(&pkt, buf, (size_t)n) != LDNS_STATUS_OK)
			continue;
		if (!matches(q, pkt)) {
			ldns_pkt_free(pkt);
			continue;
		}
		if (ldns_pkt_tc(pkt)) {
			ldns_pkt_free(pkt);
			to_tcp(d, q);
		} else
			accept_reply(q, pkt);
		return;
	}
}

static void tcp_send(struct dnsq *d, struct dnsq_query *q)
{
	if (q->io == DNSQ_IO_TCP_CONNECT) {
		int e = 0;
		socklen_t len = sizeof(e);
		getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e) {
			fail_q(q, "cannot connect over TCP to %s: %s", d->server.text,
			       mc_strerror(e));
			return;
		}
		q->io = DNSQ_IO_TCP_SEND;
	}
	ssize_t n = send(q->fd, q->wire + q->off, q->wirelen + 2 - q->off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		fail_q(q, "cannot send over TCP to %s: %s", d->server.text, mc_strerror(errno));
		return;
	}
	q->off += (size_t)n;
	if (q->off == q->wirelen + 2) {
		q->io = DNSQ_IO_TCP_RECV;
		q->buf = xmalloc(65535 + 2);
	}
}

static void tcp_read(struct dnsq *d, struct dnsq_query *q)
{
	size_t want = q->got < 2 ? 2 : 2 + (((size_t)q->buf[0] << 8) | q->buf[1]);
	ssize_t n = recv(q->fd, q->buf + q->got, want - q->got, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail_q(q, "TCP connection to %s %s", d->server.text,
		       n == 0 ? "closed before the answer" : mc_strerror(errno));
		return;
	}
	q->got += (size_t)n;
	if (q->got < 2 || q->got < (want = 2 + (((size_t)q->buf[0] << 8) | q->buf[1])))
		return;
	ldns_pkt *pkt;
	if (ldns_wire2pkt(&pkt, q->buf + 2, want - 2) != LDNS_STATUS_OK) {
		fail_q(q, "unreadable answer over TCP from %s", d->server.text);
		return;
	}
	if (!matches(q, pkt)) {
		ldns_pkt_free(pkt);
		fail_q(q, "the answer over TCP from %s does not match the question",
		       d->server.text);
		return;
	}
	accept_reply(q, pkt);
}

static short wanted_events(const struct dnsq_query *q)
{
	return q->io == DNSQ_IO_TCP_CONNECT || q->io == DNSQ_IO_TCP_SEND ? POLLOUT : POLLIN;
}

/* Start queries not sent yet, up to MAX_INFLIGHT under way. */
static void start_more(struct dnsq *d, long long now)
{
	size_t busy = 0;
	for (size_t i = 0; i < d->n; i++)
		busy += d->v[i].io != DNSQ_IO_NONE;
	for (size_t i = 0; i < d->n && busy < MAX_INFLIGHT; i++)
		if (d->v[i].status == DNSQ_PENDING && d->v[i].io == DNSQ_IO_NONE) {
			start(d, &d->v[i], now);
			busy += d->v[i].io != DNSQ_IO_NONE;
		}
}

/* One poll() round: wait for I/O or the next resend, then handle it. */
static int step(struct dnsq *d, struct pollfd *pfd, size_t *idx, struct mc_error *err)
{
	long long now = now_ms(), wake = d->deadline_ms;
	nfds_t n = 0;
	start_more(d, now);
	for (size_t i = 0; i < d->n; i++) {
		struct dnsq_query *q = &d->v[i];
		if (q->io == DNSQ_IO_NONE)
			continue;
		if (q->io == DNSQ_IO_UDP && q->next_send_ms <= now)
			udp_send(q, now);
		if (q->io == DNSQ_IO_UDP && q->next_send_ms < wake)
			wake = q->next_send_ms;
		if (q->io == DNSQ_IO_NONE)
			continue;
		pfd[n] = (struct pollfd){.fd = q->fd, .events = wanted_events(q)};
		idx[n++] = i;
	}
	if (n == 0)
		return 0;
	int rc = poll(pfd, n, wake > now ? (int)(wake - now) : 0);
	if (rc < 0 && errno != EINTR)
		return mc_fail(err, MC_EINTERNAL, "poll: %s", mc_strerror(errno));
	for (nfds_t i = 0; rc > 0 && i < n; i++) {
		struct dnsq_query *q = &d->v[idx[i]];
		if (!pfd[i].revents)
			continue;
		if (q->io == DNSQ_IO_UDP)
			udp_read(d, q);
		else if (q->io == DNSQ_IO_TCP_RECV)
			tcp_read(d, q);
		else
			tcp_send(d, q);
	}
	return 1;
}

/* Answer from the cache what it holds; 1 when something is left to send. */
static int from_cache(struct dnsq *d, long long now)
{
	int left = 0;
	for (size_t i = 0; i < d->n; i++) {
		struct dnsq_query *q = &d->v[i];
		if (q->status != DNSQ_PENDING)
			continue;
		const struct dnsq_cached *e =
		    d->cache && q->io == DNSQ_IO_NONE && !q->sends
		        ? dnsq_cache_get(d->cache, q->name, q->type, q->cd, now)
		        : NULL;
		if (!e) {
			left = 1;
			continue;
		}
		q->entry = e;
		q->rrs = (ldns_rr_list *)e->rrs; /* read only, as dnsq.h says */
		q->ad = e->ad;
		q->cached = 1;
		finish(q, e->status);
	}
	return left;
}

/* Keep what the resolver answered in this run. */
static void to_cache(struct dnsq *d)
{
	long long now = now_ms();
	for (size_t i = 0; d->cache && i < d->n; i++) {
		struct dnsq_query *q = &d->v[i];
		if (q->offered || !q->pkt)
			continue;
		q->offered = 1;
		q->entry = dnsq_cache_add(d->cache, q->name, q->type, q->cd, q->status, q->ad,
		                          q->pkt, &q->rrs, now);
		if (q->entry && q->entry->rrs)
			q->rrs = (ldns_rr_list *)q->entry->rrs;
	}
}

int dnsq_run(struct dnsq *d, struct mc_error *err)
{
	long long now = now_ms();
	if (!d->deadline_ms)
		d->deadline_ms = now + (d->timeout_ms > 0 ? d->timeout_ms : DNSQ_TIMEOUT_MS);
	if (!from_cache(d, now))
		return 0;
	struct pollfd *pfd = xcalloc(d->n + 1, sizeof(*pfd));
	size_t *idx = xcalloc(d->n + 1, sizeof(*idx));
	int rc = 0;
	while (now_ms() < d->deadline_ms && (rc = step(d, pfd, idx, err)) > 0)
		;
	free(pfd);
	free(idx);
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].status == DNSQ_PENDING)
			finish(&d->v[i], DNSQ_TIMEOUT);
	to_cache(d);
	return rc < 0 ? -1 : 0;
}

void dnsq_release(struct dnsq *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dnsq_query *q = &d->v[i];
		if (q->fd >= 0)
			close(q->fd);
		free(q->name);
		free(q->wire);
		free(q->buf);
		ldns_pkt_free(q->pkt);
		if (q->entry)
			dnsq_cache_drop(d->cache, q->entry);
		else
			ldns_rr_list_deep_free(q->rrs);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int dnsq_server_choose(const char *configured, struct dnsq_server *out, struct mc_error *err)
{
	if (out->salen)
		return 0;
	if (!*configured)
		return dnsq_server_system(NULL, out, err);
	if (dnsq_server_parse(configured, out, err) == 0)
		return 0;
	return mc_fail(err, MC_ECONFIG,
	               "key 'dns.resolver': invalid address '%s': use ADDR, ADDR:PORT or "
	               "[IPV6]:PORT",
	               configured);
}

void dnsq_lookup_now(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct dnsq *d = ctx;
	size_t i = dnsq_add(d, name, type, 0);
	if (d->v[i].status == DNSQ_PENDING) {
		struct mc_error err = {0};
		if (dnsq_run(d, &err) < 0) {
			*out = (struct dnsq_answer){DNSQ_ERROR, NULL, 0};
			return;
		}
	}
	const struct dnsq_query *q = &d->v[i];
	*out = (struct dnsq_answer){q->status, q->status == DNSQ_ANSWER ? q->rrs : NULL, q->ad};
}
