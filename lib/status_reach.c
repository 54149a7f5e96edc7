/* Can the world be reached, and does it know us: outbound port 25 and
 * the reverse DNS of the public addresses, for the health report (see
 * status.h). */
#include "status_int.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PROBE_ADDRS 8

/* ---- port 25 ---- */

int status_probe_parse(const char *spec, char *host, size_t size, unsigned *port)
{
	const char *colon, *end;
	*port = 25;
	if (*spec == '[') {
		end = strchr(spec, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		colon = end[1] ? end + 1 : NULL;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (colon && strchr(spec, ':') != colon)
			colon = NULL, end = spec + strlen(spec); /* a bare IPv6 address */
		else
			end = colon ? colon : spec + strlen(spec);
	}
	if (end == spec || (size_t)(end - spec) >= size)
		return -1;
	memcpy(host, spec, (size_t)(end - spec));
	host[end - spec] = '\0';
	if (colon) {
		char *stop;
		unsigned long p = strtoul(colon + 1, &stop, 10);
		if (!colon[1] || *stop || p == 0 || p > 65535)
			return -1;
		*port = (unsigned)p;
	}
	return 0;
}

/* 'host' as an address literal into 'ss'; 0 when it is not one. */
static int literal(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 1;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 1;
	}
	return 0;
}

/* Close every socket still open in 'pfd'. */
static void close_all(struct pollfd *pfd, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd), pfd[i].fd = -1;
}

/* Start a non-blocking connect; returns 1 connected, 0 in progress, -1
 * failed (errno set). */
static int start_connect(const struct sockaddr_storage *sa, socklen_t len, int *fd)
{
	*fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -1;
	if (connect(*fd, (const struct sockaddr *)sa, len) == 0)
		return 1;
	if (errno == EINPROGRESS)
		return 0;
	int e = errno;
	close(*fd);
	*fd = -1;
	errno = e;
	return -1;
}

int status_connect_any(const struct sockaddr_storage *addrs, const socklen_t *lens, size_t n,
                       int timeout_ms, size_t *which)
{
	struct pollfd pfd[MAX_PROBE_ADDRS];
	int failure = 0;
	size_t live = 0;
	n = n > MAX_PROBE_ADDRS ? MAX_PROBE_ADDRS : n;
	for (size_t i = 0; i < n; i++) {
		int rc = start_connect(&addrs[i], lens[i], &pfd[i].fd);
		pfd[i].events = POLLOUT;
		if (rc == 1) {
			*which = i;
			close_all(pfd, i + 1);
			return 0;
		}
		if (rc < 0)
			failure = failure == ECONNREFUSED ? failure : errno;
		live += rc == 0;
	}
	long long deadline = status_now_ms() + timeout_ms;
	while (live) {
		long long left = deadline - status_now_ms();
		int got = left > 0 ? poll(pfd, n, (int)left) : 0;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			close_all(pfd, n);
			return ETIMEDOUT;
		}
		for (size_t i = 0; i < n; i++) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    !soerr) {
				*which = i;
				close_all(pfd, n);
				return 0;
			}
			failure = failure == ECONNREFUSED ? failure : soerr ? soerr : EIO;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			live--;
		}
	}
	return failure ? failure : ETIMEDOUT;
}

/* The addresses of 'host' through the resolver (A and AAAA at once). */
static size_t resolve(const struct status_net *n, const char *host, unsigned port,
                      struct sockaddr_storage *out, socklen_t *lens, struct status_row *r)
{
	struct dnsq d;
	struct mc_error err;
	size_t got = 0;
	dnsq_init(&d, &n->server);
	d.timeout_ms = status_remaining_ms(n);
	size_t qa = dnsq_add(&d, host, LDNS_RR_TYPE_A, 0),
	       qaaaa = dnsq_add(&d, host, LDNS_RR_TYPE_AAAA, 0);
	if (dnsq_run(&d, &err) < 0) {
		status_set(r, STATUS_WARNING, "", "not checked: %s", err.msg);
		dnsq_release(&d);
		return 0;
	}
	size_t qs[] = {qa, qaaaa};
	for (int k = 0; k < 2; k++) {
		const struct dnsq_query *q = &d.v[qs[k]];
		for (size_t i = 0;
		     q->rrs && i < ldns_rr_list_rr_count(q->rrs) && got < MAX_PROBE_ADDRS; i++) {
			char *a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(q->rrs, i), 0));
			got += a && literal(a, port, &out[got], &lens[got]);
			free(a);
		}
	}
	if (!got)
		status_set(r, STATUS_WARNING, "check status.port25_probe and dns.resolver",
		           "not checked: cannot resolve '%s' (A %s, AAAA %s)", host,
		           dnsq_status_name(d.v[qa].status), dnsq_status_name(d.v[qaaaa].status));
	dnsq_release(&d);
	return got;
}

static void connect_row(const char *host, unsigned port, int e, const char *addr, long long ms,
                        int timeout_ms, struct status_row *r)
{
	const char *blocked = "ask your hosting provider to open outbound port 25, or relay "
	                      "through a smarthost";
	if (e == 0)
		status_set(r, STATUS_OK, "", "connected to %s (%s) port %u in %lld ms", host, addr,
		           port, ms);
	else if (e == ETIMEDOUT)
		status_set(r, STATUS_ERROR, blocked,
		           "no answer from %s port %u within %d ms: outbound SMTP looks blocked",
		           host, port, timeout_ms);
	else if (e == ECONNREFUSED)
		status_set(r, STATUS_ERROR, blocked, "%s refused the connection on port %u", host,
		           port);
	else
		status_set(r, STATUS_ERROR, blocked, "cannot connect to %s port %u: %s", host, port,
		           mc_strerror(e));
}

void status_net_port25(const struct status_net *n, struct status_row *out)
{
	struct sockaddr_storage addrs[MAX_PROBE_ADDRS];
	socklen_t lens[MAX_PROBE_ADDRS];
	char host[256], addr[INET6_ADDRSTRLEN] = "";
	unsigned port;
	size_t na, which = 0;
	if (status_probe_parse(n->probe, host, sizeof(host), &port) < 0) {
		status_set(out, STATUS_WARNING, "set status.port25_probe to HOST[:PORT]",
		           "not checked: status.port25_probe '%s' is not HOST[:PORT]", n->probe);
		return;
	}
	if (literal(host, port, &addrs[0], &lens[0]))
		na = 1;
	else if (n->server_error) {
		status_set(out, STATUS_WARNING, "set dns.resolver to a working recursive resolver",
		           "not checked: %s", n->server_error);
		return;
	} else if (!(na = resolve(n, host, port, addrs, lens, out)))
		return;
	int ms = status_remaining_ms(n) < n->connect_ms ? status_remaining_ms(n) : n->connect_ms;
	long long t0 = status_now_ms();
	int e = status_connect_any(addrs, lens, na, ms, &which);
	if (e == 0) {
		const struct sockaddr_storage *ss = &addrs[which];
		const void *raw = ss->ss_family == AF_INET
		                      ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
		                      : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		inet_ntop(ss->ss_family, raw, addr, sizeof(addr));
	}
	connect_row(host, port, e, addr, status_now_ms() - t0, ms, out);
}

/* ---- reverse DNS ---- */

/* "10.2.0.192.in-addr.arpa." for "192.0.2.10" (caller frees), or NULL. */
static char *reverse_name(const char *addr, int *v6)
{
	*v6 = strchr(addr, ':') != NULL;
	ldns_rdf *a = ldns_rdf_new_frm_str(*v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, addr);
	ldns_rdf *rev = a ? ldns_rdf_address_reverse(a) : NULL;
	char *name = rev ? ldns_rdf2str(rev) : NULL;
	ldns_rdf_deep_free(rev);
	ldns_rdf_deep_free(a);
	return name;
}

static int same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '.';
	lb -= lb && b[lb - 1] == '.';
	return la == lb && !strncasecmp(a, b, la);
}

/* The PTR target to judge: the mail host's name when among them. */
static char *pick_ptr(const ldns_rr_list *rrs, const char *mailhost)
{
	char *pick = NULL;
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		char *t = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0));
		if (t && (!pick || same_host(t, mailhost))) {
			free(pick);
			pick = t;
		} else {
			free(t);
		}
	}
	if (pick && *pick && pick[strlen(pick) - 1] == '.')
		pick[strlen(pick) - 1] = '\0';
	return pick;
}

/* 1 when the A/AAAA records 'rrs' hold 'addr'. */
static int holds(const ldns_rr_list *rrs, const char *addr, int v6)
{
	unsigned char want[16], got[16];
	int found = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, want) != 1)
		return 0;
	for (size_t i = 0; rrs && !found && i < ldns_rr_list_rr_count(rrs); i++) {
		char *a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0));
		found = a && inet_pton(v6 ? AF_INET6 : AF_INET, a, got) == 1 &&
		        !memcmp(want, got, v6 ? 16 : 4);
		free(a);
	}
	return found;
}

/* Judge the forward answer 'fw' for PTR target 'name' of 'addr'. */
static void rdns_row(const char *addr, const char *mailhost, const char *name,
                     const struct dnsq_answer *fw, int v6, struct status_row *r)
{
	char *set_ptr =
	    xasprintf("ask your hosting provider to set the PTR (reverse DNS) of %s to %s", addr,
	              *mailhost ? mailhost : "the mail host name");
	if (fw->status != DNSQ_ANSWER && fw->status != DNSQ_NXDOMAIN && fw->status != DNSQ_NODATA)
		status_set(r, STATUS_WARNING, "check that dns.resolver answers",
		           "PTR %s, but looking it up gave %s", name, dnsq_status_name(fw->status));
	else if (!holds(fw->rrs, addr, v6)) {
		char *fix = xasprintf("publish %s %s for %s, or %s", v6 ? "AAAA" : "A", addr, name,
		                      set_ptr);
		status_set(r, STATUS_WARNING, fix, "PTR %s, which does not lead back to %s", name,
		           addr);
		free(fix);
	} else if (*mailhost && !same_host(name, mailhost))
		status_set(r, STATUS_WARNING, set_ptr, "PTR %s is not the mail host name %s", name,
		           mailhost);
	else
		status_set(r, STATUS_OK, "", "PTR %s, which leads back to %s", name, addr);
	free(set_ptr);
}

int status_eval_rdns(const char *addr, const char *mailhost, dnsq_lookup_fn fn, void *ctx,
                     struct status_row *r)
{
	int v6, pending = 0;
	char *rev = reverse_name(addr, &v6), *name = NULL;
	struct dnsq_answer ptr = {DNSQ_ERROR, NULL, 0}, fw;
	if (rev)
		fn(ctx, rev, LDNS_RR_TYPE_PTR, &ptr);
	if (!rev)
		status_set(r, STATUS_WARNING, "", "'%s' is not an address", addr);
	else if (ptr.status == DNSQ_PENDING)
		pending = 1;
	else if (ptr.status == DNSQ_NXDOMAIN || ptr.status == DNSQ_NODATA) {
		char *fix =
		    xasprintf("ask your hosting provider to set the PTR (reverse DNS) of %s to %s",
		              addr, *mailhost ? mailhost : "the mail host name");
		status_set(r, STATUS_ERROR, fix, "no PTR record for %s (%s)", addr,
		           dnsq_status_name(ptr.status));
		free(fix);
	} else if (ptr.status != DNSQ_ANSWER || !(name = pick_ptr(ptr.rrs, mailhost)))
		status_set(r, STATUS_WARNING, "check that dns.resolver answers",
		           "could not look up the PTR of %s: %s", addr,
		           dnsq_status_name(ptr.status));
	else {
		fn(ctx, name, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, &fw);
		if (fw.status == DNSQ_PENDING)
			pending = 1;
		else
			rdns_row(addr, mailhost, name, &fw, v6, r);
	}
	free(name);
	free(rev);
	return pending;
}

/* A dnsq_lookup_fn for rounds: what a dnsq knows, else queue it and say
 * DNSQ_PENDING. */
static void round_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	struct dnsq *d = ctx;
	long i = dnsq_find(d, name, type, 0);
	if (i < 0) {
		dnsq_add(d, name, type, 0);
		*out = (struct dnsq_answer){DNSQ_PENDING, NULL, 0};
		return;
	}
	const struct dnsq_query *q = &d->v[i];
	*out = (struct dnsq_answer){q->status, q->rrs, q->ad};
}

void status_net_rdns(const struct status_net *n, struct status_row *out)
{
	struct dnsq d;
	struct mc_error err;
	size_t na = n->v4.n + n->v6.n;
	int pending = 1;
	dnsq_init(&d, &n->server);
	d.timeout_ms = status_remaining_ms(n);
	/* Round 1 asks PTRs, round 2 the names they give; a third never
	 * has anything new but is allowed for. */
	for (int round = 0; pending && round < 3; round++) {
		pending = 0;
		for (size_t i = 0; i < na; i++) {
			const char *a = i < n->v4.n ? n->v4.v[i] : n->v6.v[i - n->v4.n];
			pending |= status_eval_rdns(a, n->mailhost, round_lookup, &d, &out[i]);
		}
		if (pending && dnsq_run(&d, &err) < 0)
			break;
	}
	for (size_t i = 0; i < na; i++)
		if (out[i].level == STATUS_PENDING)
			status_set(&out[i], STATUS_WARNING, "check that dns.resolver answers",
			           "not checked: no answer in time");
	dnsq_release(&d);
}
