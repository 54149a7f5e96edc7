/* The health report: planning the rows, running the checks, network ones
 * in threads, and handing each row over as it is final (see status.h). */
#include "status.h"
#include "domain.h"
#include "service.h"
#include "status_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *status_level_name(enum status_level l)
{
	static const char *const names[] = {"pending", "skipped", "ok", "warning", "error"};
	return l <= STATUS_ERROR ? names[l] : "?";
}

void status_set(struct status_row *r, enum status_level level, const char *fix, const char *fmt,
                ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(r->finding);
	free(r->fix);
	r->level = level;
	r->finding = strbuf_detach(&sb);
	r->fix = xstrdup(fix ? fix : "");
}

long long status_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum status_level status_worst(const struct status_report *r)
{
	enum status_level w = STATUS_SKIPPED;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].level > w)
			w = r->v[i].level;
	return w;
}

void status_report_release(struct status_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].subject);
		free(r->v[i].finding);
		free(r->v[i].fix);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static size_t add_row(struct status_report *rep, const char *check, const char *subject,
                      int network)
{
	rep->v = xgrow(rep->v, &rep->alloc, rep->n + 1, sizeof(*rep->v));
	rep->v[rep->n] = (struct status_row){check,          xstrdup(subject), network,
	                                     STATUS_PENDING, xstrdup(""),      xstrdup("")};
	return rep->n++;
}

/* ---- the plan: every row, and what the checks need ---- */

struct plan {
	struct domain_list doms;
	char *db_error; /* the domains could not be read */
	struct netaddr_list v4, v6;
	size_t svc, queue, disk, mem, tls, alias, nalias;
	size_t dns, ndns, bl, p25, rdns, nrdns;
};

/* Rows for each domain (or one with an empty subject). */
static size_t add_per_domain(struct status_report *rep, const struct plan *p, const char *check,
                             int network, size_t *n)
{
	size_t first = rep->n;
	for (size_t i = 0; i < p->doms.n; i++)
		add_row(rep, check, p->doms.v[i].name, network);
	if (!p->doms.n)
		add_row(rep, check, "", network);
	*n = rep->n - first;
	return first;
}

static void plan_rows(struct mc_ctx *ctx, struct plan *p, struct status_report *rep)
{
	struct mc_error err;
	if (!ctx->st)
		p->db_error = xstrdup("the database is not open");
	else if (domain_list(ctx, &p->doms, &err) < 0)
		p->db_error = xstrdup(err.msg);
	/* Finding no address is the rdns row's finding, not a failure. */
	if (netaddr_server(ctx->cfg->ipv4, ctx->cfg->ipv6, &p->v4, &p->v6, &err) < 0)
		netaddr_list_release(&p->v4), netaddr_list_release(&p->v6);
	p->svc = rep->n;
	for (int i = 0; i < SERVICE_COUNT; i++)
		add_row(rep, "service", service_names[i], 0);
	p->queue = add_row(rep, "queue", "postfix", 0);
	p->disk = add_row(rep, "disk", ctx->cfg->mail_root, 0);
	p->mem = add_row(rep, "memory", "ram", 0);
	p->tls = add_row(rep, "tls", ctx->cfg->tls_cert_file, 0);
	p->alias = add_per_domain(rep, p, "aliases", 0, &p->nalias);
	p->dns = add_per_domain(rep, p, "dns", 1, &p->ndns);
	p->bl = add_row(rep, "blacklist", "all", 1);
	p->p25 = add_row(rep, "port25", ctx->cfg->status_port25_probe, 1);
	p->rdns = rep->n;
	for (size_t i = 0; i < p->v4.n; i++)
		add_row(rep, "rdns", p->v4.v[i], 1);
	for (size_t i = 0; i < p->v6.n; i++)
		add_row(rep, "rdns", p->v6.v[i], 1);
	if (rep->n == p->rdns)
		add_row(rep, "rdns", "", 1);
	p->nrdns = rep->n - p->rdns;
}

static void plan_release(struct plan *p)
{
	domain_list_release(&p->doms);
	netaddr_list_release(&p->v4);
	netaddr_list_release(&p->v6);
	free(p->db_error);
}

struct progress {
	status_progress_fn fn;
	void *arg;
	const struct status_report *rep;
};

static void tell(const struct progress *pr, size_t i)
{
	if (pr->fn)
		pr->fn(pr->rep, i, pr->arg);
}

/* ---- local checks, on the calling thread ---- */

static void run_local(struct mc_ctx *ctx, const struct plan *p, struct status_report *rep,
                      const struct progress *pr)
{
	const struct config *cfg = ctx->cfg;
	time_t now = time(NULL);
	struct status_sockets sockets = {0};
	for (int i = 0; i < SERVICE_COUNT; i++) {
		status_check_service(cfg, i, &sockets, &rep->v[p->svc + (size_t)i]);
		tell(pr, p->svc + (size_t)i);
	}
	status_sockets_release(&sockets);
	status_check_queue(cfg, now, &rep->v[p->queue]);
	tell(pr, p->queue);
	status_check_disk(cfg->mail_root, &rep->v[p->disk]);
	tell(pr, p->disk);
	status_check_memory(&rep->v[p->mem]);
	tell(pr, p->mem);
	status_check_tls(cfg, now, &rep->v[p->tls]);
	tell(pr, p->tls);
	for (size_t i = 0; i < p->nalias; i++) {
		struct status_row *r = &rep->v[p->alias + i];
		if (p->db_error)
			status_set(r, STATUS_ERROR, "check paths.database and its permissions",
			           "cannot read the domains: %s", p->db_error);
		else if (!p->doms.n)
			status_set(r, STATUS_SKIPPED, "", "no hosted domains");
		else
			status_check_aliases(ctx, p->doms.v[i].name, r);
		tell(pr, p->alias + i);
	}
}

/* ---- network checks, each in a thread ---- */

struct job {
	void (*fn)(const struct status_net *, struct status_row *);
	size_t first, n;
	struct status_row *out;
	struct runner *run;
	pthread_t tid;
	int done, reported;
};

struct runner {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct status_net *net;
	struct job jobs[4];
	size_t njobs;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	j->fn(j->run->net, j->out);
	pthread_mutex_lock(&j->run->mu);
	j->done = 1;
	pthread_cond_broadcast(&j->run->cv);
	pthread_mutex_unlock(&j->run->mu);
	return NULL;
}

static void add_job(struct runner *run, void (*fn)(const struct status_net *, struct status_row *),
                    size_t first, size_t n)
{
	struct job *j = &run->jobs[run->njobs++];
	*j = (struct job){.fn = fn, .first = first, .n = n, .run = run};
	j->out = xcalloc(n, sizeof(*j->out));
}

/* Move a finished job's rows into the report, telling each. */
static void job_report(struct job *j, struct status_report *rep, const struct progress *pr)
{
	for (size_t k = 0; k < j->n; k++) {
		struct status_row *r = &rep->v[j->first + k];
		free(r->finding);
		free(r->fix);
		r->level = j->out[k].level;
		r->finding = j->out[k].finding ? j->out[k].finding : xstrdup("");
		r->fix = j->out[k].fix ? j->out[k].fix : xstrdup("");
		j->out[k].finding = j->out[k].fix = NULL;
		tell(pr, j->first + k);
	}
	j->reported = 1;
}

/* Report jobs as they finish, until all have; then join them. */
static void wait_jobs(struct runner *run, struct status_report *rep, const struct progress *pr)
{
	size_t left = run->njobs;
	while (left) {
		struct job *ready = NULL;
		pthread_mutex_lock(&run->mu);
		for (;;) {
			for (size_t i = 0; !ready && i < run->njobs; i++)
				if (run->jobs[i].done && !run->jobs[i].reported)
					ready = &run->jobs[i];
			if (ready)
				break;
			pthread_cond_wait(&run->cv, &run->mu);
		}
		pthread_mutex_unlock(&run->mu);
		job_report(ready, rep, pr);
		left--;
	}
	for (size_t i = 0; i < run->njobs; i++) {
		pthread_join(run->jobs[i].tid, NULL);
		free(run->jobs[i].out);
	}
}

/* Give rows first..first+n-1 the finding of the first. */
static void copy_rows(struct status_report *rep, size_t first, size_t n)
{
	const struct status_row *r = &rep->v[first];
	for (size_t i = 1; i < n; i++)
		status_set(&rep->v[first + i], r->level, r->fix, "%s", r->finding);
}

/* Rows the network checks cannot look at, set here; the others become
 * jobs. */
static void plan_jobs(const struct plan *p, const struct status_net *n, struct status_report *rep,
                      struct runner *run)
{
	const char *resolver_fix = "set dns.resolver to a working recursive resolver";
	struct status_row *dns = &rep->v[p->dns], *bl = &rep->v[p->bl], *rd = &rep->v[p->rdns];
	if (p->db_error)
		status_set(dns, STATUS_ERROR, "check paths.database and its permissions",
		           "cannot read the domains: %s", p->db_error);
	else if (!p->doms.n)
		status_set(dns, STATUS_SKIPPED, "", "no hosted domains");
	else if (n->dns_error)
		status_set(dns, STATUS_ERROR, "", "cannot build the expected records: %s",
		           n->dns_error);
	else if (n->server_error)
		status_set(dns, STATUS_WARNING, resolver_fix, "not checked: %s", n->server_error);
	else
		add_job(run, status_net_dns, p->dns, p->ndns);
	if (dns->level != STATUS_PENDING)
		copy_rows(rep, p->dns, p->ndns);
	if (!n->subjects.n)
		status_set(bl, STATUS_SKIPPED, "",
		           "no public address and no hosted domain to check");
	else if (n->server_error)
		status_set(bl, STATUS_WARNING, resolver_fix, "not checked: %s", n->server_error);
	else
		add_job(run, status_net_blacklist, p->bl, 1);
	if (!*n->probe)
		status_set(&rep->v[p->p25], STATUS_SKIPPED, "",
		           "not checked: status.port25_probe is empty");
	else
		add_job(run, status_net_port25, p->p25, 1);
	if (!p->v4.n && !p->v6.n)
		status_set(rd, STATUS_WARNING, "set network.ipv4 or network.ipv6",
		           "no public address found on this machine");
	else if (n->server_error)
		status_set(rd, STATUS_WARNING, resolver_fix, "not checked: %s", n->server_error);
	else
		add_job(run, status_net_rdns, p->rdns, p->nrdns);
	if (rd->level != STATUS_PENDING)
		copy_rows(rep, p->rdns, p->nrdns);
}

/* What the jobs read, copied from the plan and the configuration. */
static void net_prepare(struct mc_ctx *ctx, const struct plan *p, int timeout_ms,
                        struct status_net *n)
{
	const struct config *cfg = ctx->cfg;
	struct mc_error err;
	n->deadline_ms = status_now_ms() + timeout_ms;
	n->connect_ms = timeout_ms < STATUS_CONNECT_MS ? timeout_ms : STATUS_CONNECT_MS;
	if (dnsq_server_choose(cfg->dns_resolver, &n->server, &err) < 0)
		n->server_error = xstrdup(err.msg);
	/* The plan reads the database: here, not in the dns thread. It
	 * also knows the mail host name, domains or not. */
	if (ctx->st && !p->db_error) {
		if (dnsplan_build(ctx, NULL, &n->plan, &err) == 0)
			n->have_plan = 1;
		else
			n->dns_error = xstrdup(err.msg);
	}
	n->mailhost = xstrdup(n->have_plan ? n->plan.host : cfg->hostname);
	n->domains = xcalloc(p->doms.n + 1, sizeof(char *));
	for (n->ndomains = 0; n->ndomains < p->doms.n; n->ndomains++)
		n->domains[n->ndomains] = xstrdup(p->doms.v[n->ndomains].name);
	for (size_t i = 0; i < p->v4.n; i++)
		netaddr_list_add(&n->v4, p->v4.v[i]), netaddr_list_add(&n->subjects, p->v4.v[i]);
	for (size_t i = 0; i < p->v6.n; i++)
		netaddr_list_add(&n->v6, p->v6.v[i]), netaddr_list_add(&n->subjects, p->v6.v[i]);
	for (size_t i = 0; i < p->doms.n; i++)
		netaddr_list_add(&n->subjects, p->doms.v[i].name);
	n->zones_file = xstrdup(cfg->dnsbl_file);
	n->probe = xstrdup(cfg->status_port25_probe);
}

static int start_jobs(struct runner *run, struct mc_error *err)
{
	for (size_t i = 0; i < run->njobs; i++) {
		if (pthread_create(&run->jobs[i].tid, NULL, job_main, &run->jobs[i]) != 0) {
			/* The started ones finish within the deadline. */
			for (size_t k = 0; k < i; k++)
				pthread_join(run->jobs[k].tid, NULL);
			for (size_t k = 0; k < run->njobs; k++) {
				for (size_t r = 0; r < run->jobs[k].n; r++) {
					free(run->jobs[k].out[r].finding);
					free(run->jobs[k].out[r].fix);
				}
				free(run->jobs[k].out);
			}
			return mc_fail(err, MC_EINTERNAL,
			               "cannot start a thread for the network checks");
		}
	}
	return 0;
}

static void skip_network(const struct plan *p, struct status_report *rep, const struct progress *pr)
{
	for (size_t i = p->dns; i < rep->n; i++) {
		status_set(&rep->v[i], STATUS_SKIPPED, "", "not checked (local checks only)");
		tell(pr, i);
	}
}

int status_run(struct mc_ctx *ctx, unsigned flags, int timeout_ms, struct status_report *out,
               status_progress_fn progress, void *arg, struct mc_error *err)
{
	long long t0 = status_now_ms();
	struct plan p = {0};
	struct status_net n = {0};
	struct runner run = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, &n, {{0}}, 0};
	struct progress pr = {progress, arg, out};
	memset(out, 0, sizeof(*out));
	plan_rows(ctx, &p, out);
	tell(&pr, STATUS_PLANNED);
	int rc = 0;
	if (!(flags & STATUS_LOCAL)) {
		net_prepare(ctx, &p, timeout_ms > 0 ? timeout_ms : STATUS_TIMEOUT_MS, &n);
		plan_jobs(&p, &n, out, &run);
		rc = start_jobs(&run, err);
	}
	if (rc == 0) {
		run_local(ctx, &p, out, &pr);
		if (flags & STATUS_LOCAL)
			skip_network(&p, out, &pr);
		else {
			for (size_t i = p.dns; i < out->n; i++)
				if (out->v[i].level != STATUS_PENDING)
					tell(&pr, i);
			wait_jobs(&run, out, &pr);
		}
	}
	status_net_release(&n);
	plan_release(&p);
	if (rc < 0)
		status_report_release(out);
	else
		out->elapsed_ms = (long)(status_now_ms() - t0);
	return rc;
}
