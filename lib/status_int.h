/*
 * status_int - what the parts of the status module share (status.c runs
 * the checks, status_local.c and status_net.c hold them), and the pure
 * evaluators behind each check, which the unit tests feed directly.
 *
 * Every check fills a struct status_row's level, finding and fix through
 * status_set(); none fails: what goes wrong is the finding. Strings passed
 * in are copied.
 */
#ifndef MAILCTL_STATUS_INT_H
#define MAILCTL_STATUS_INT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <time.h>

#include "dnsbl.h"
#include "dnscheck.h"
#include "dnsplan.h"
#include "dnsq.h"
#include "netaddr.h"
#include "status.h"
#include "cert.h"

/* Replace r's level, fix and finding (printf-style). */
void status_set(struct status_row *r, enum status_level level, const char *fix, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* "12 KiB", "3.4 GiB" */
void status_human_size(unsigned long long bytes, char *buf, size_t size);

/* ---- local checks (status_local.c) ---- */

/* What /proc/net says about sockets, read by the first service check
 * that needs it (walking the kernel's TCP tables is not free), then kept
 * for the others. */
struct status_sockets {
	char *tcp4, *tcp6, *unx;
};
void status_sockets_release(struct status_sockets *s);

void status_check_service(const struct config *cfg, int i, struct status_sockets *s,
                          struct status_row *r);
void status_check_queue(const struct config *cfg, time_t now, struct status_row *r);
void status_check_disk(const char *path, struct status_row *r);
void status_check_memory(struct status_row *r);
void status_check_tls(const struct config *cfg, time_t now, struct status_row *r);
/* postmaster@ and abuse@ of 'domain' receive mail. */
void status_check_aliases(struct mc_ctx *ctx, const char *domain, struct status_row *r);

/* The TCP ports a service of that name listens on ('n' set; 0 for a name
 * without ports) and the UNIX socket, or NULL. */
size_t status_service_ports(const struct config *cfg, const char *name, unsigned ports[8],
                            const char **unix_path);

/* 1 when /proc/net/tcp{,6}-format 'text' has a socket listening on 'port'. */
int status_tcp_listening(const char *text, unsigned port);
/* 1 when /proc/net/unix-format 'text' has a socket listening at 'path'. */
int status_unix_listening(const char *text, const char *path);

/* 'postqueue -j' output (JSON lines, other lines ignored) into 'r'. */
void status_eval_queue(const char *jsonl, time_t now, struct status_row *r);
/* statvfs of the mail root. */
void status_eval_disk(const struct statvfs *sv, struct status_row *r);
/* /proc/meminfo text. */
void status_eval_memory(const char *meminfo, struct status_row *r);
void status_eval_tls(const struct cert_info *info, time_t now, struct status_row *r);

/* ---- network checks (status_net.c: dns, blacklist; status_reach.c:
 * port25, rdns) ---- */

/* What the network checks need, gathered from the database and the
 * configuration on the calling thread before they start, so that they
 * touch neither from their threads. */
struct status_net {
	struct dnsq_server server;
	char *server_error; /* the resolver could not be chosen: why, else NULL */
	long long deadline_ms;
	int connect_ms;

	/* dns */
	struct dnsplan plan; /* built when there are domains */
	int have_plan;
	char *dns_error; /* the plan could not be built: why, else NULL */
	char **domains;  /* the rows' subjects */
	size_t ndomains;

	/* blacklist */
	char *zones_file;
	struct netaddr_list subjects; /* addresses, then domains */

	/* port25 */
	char *probe;

	/* rdns */
	char *mailhost;             /* "" when unknown */
	struct netaddr_list v4, v6; /* the public addresses */
};

void status_net_release(struct status_net *n);

/* The network checks; each fills its rows 'out' (as many as it has
 * subjects: one per domain for dns, one per address for rdns, one for
 * blacklist and port25) and returns within n->deadline_ms. */
void status_net_dns(const struct status_net *n, struct status_row *out);
void status_net_blacklist(const struct status_net *n, struct status_row *out);
void status_net_port25(const struct status_net *n, struct status_row *out);
void status_net_rdns(const struct status_net *n, struct status_row *out);

/* Per-domain rows from one dnscheck report: a finding belongs to the
 * domain its owner name is in (the longest match), else to the first. */
void status_eval_dns(const struct dnscheck_report *rep, char *const *domains, size_t n,
                     struct status_row *out);
void status_eval_blacklist(const struct dnsbl_report *rep, struct status_row *r);

/* "host:port", "[v6]:port", "v4:port"; a bare host means port 25. */
int status_probe_parse(const char *spec, char *host, size_t size, unsigned *port);

/* Connect to any of 'addrs' at once (non-blocking), waiting at most
 * 'timeout_ms'. 0 connected ('*which' the index), else the errno of the
 * last failure (ETIMEDOUT when nothing answered). */
int status_connect_any(const struct sockaddr_storage *addrs, const socklen_t *lens, size_t n,
                       int timeout_ms, size_t *which);

/* The rdns row of 'addr'. Returns 1 when 'fn' answered DNSQ_PENDING (ask
 * again after the next round), 0 when the row is final. */
int status_eval_rdns(const char *addr, const char *mailhost, dnsq_lookup_fn fn, void *ctx,
                     struct status_row *r);

long long status_now_ms(void);
/* Time left before n->deadline_ms, at least 1 ms (0 would mean "the
 * default" to dnsq and dnscheck). */
int status_remaining_ms(const struct status_net *n);

#endif
