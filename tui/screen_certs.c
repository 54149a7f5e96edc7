/*
 * Certs: the server certificate (tls.cert_file) as 'mailctl cert list'
 * and 'cert show' read it (lib/cert.h: cert_info_read): names, issuer,
 * self-signed or from a CA, days left, the key, TLSA and fingerprint,
 * the CA of the last install and the newest attempts, and the next key's
 * TLSA while a 'mailctl cert rollover' is under way. A certificate is
 * requested from the CA (acme.directory, the default names) or renewed
 * in the background, as 'mailctl cert request' and 'cert renew' do it,
 * with the time taken so far on the status line and the outcome in a
 * box; the database is opened for writing only for that.
 */
#include "cert.h"
#include "dnsrec.h"
#include "job.h"
#include "list.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct list_col cols[] = {
    {"FIELD", 13, 0},
    {"VALUE", 0, 20},
};

enum op { OP_REQUEST, OP_RENEW, OP_RENEW_FORCE };

/* A request or renewal on the job thread, with its own store. */
struct c_work {
	enum op op;
	struct mc_ctx ctx;
	struct cert_report rep;
	time_t started;
};

static struct list lst;
static struct job job;
static struct c_work *work;
static int ready, have_info;
static struct cert_info info;
static char head[1200];

static void fmt_time(time_t t, char buf[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

static void row(const char *field, const char *value, enum role role)
{
	const char *cells[] = {field, value};
	char key[32];
	snprintf(key, sizeof(key), "%zu", lst.n);
	size_t k = list_add_row(&lst, key, cells);
	lst.v[k].role = role;
	lst.v[k].role_col = 1;
}

/* A key rollover under way ('mailctl cert rollover'): the next key's TLSA. */
static void next_key_row(const struct tui *t)
{
	char hex[65], *next = cert_next_key_file(&t->cfg), *s;
	struct mc_error err;
	if (access(next, F_OK) == 0) {
		s = dnsrec_tlsa_from_key(next, hex, &err) == 0
		        ? xasprintf("TLSA 3 1 1 %s: publish it beside the current one, then run "
		                    "'mailctl cert rollover' again (or let mailctld switch)",
		                    hex)
		        : xasprintf("under way (%s)", err.msg);
		row("next key", s, ROLE_WARN);
		free(s);
	}
	free(next);
}

static void info_rows(const struct tui *t, time_t now)
{
	char when[32], *s;
	struct strbuf names = STRBUF_INIT;
	for (size_t i = 0; i < info.nnames; i++)
		strbuf_addf(&names, "%s%s", i ? ", " : "", info.names[i]);
	long long days = (long long)(info.not_after - now) / 86400;
	row("names", names.buf, ROLE_NORMAL);
	row("issuer", info.issuer, ROLE_NORMAL);
	row("kind", info.self_signed ? "self-signed" : "from a CA",
	    info.self_signed ? ROLE_WARN : ROLE_OK);
	fmt_time(info.not_after, when);
	s = xasprintf("%s (%lld days left)", when, days);
	row("expires", s, info.not_after <= now ? ROLE_FAIL : days < 14 ? ROLE_WARN : ROLE_OK);
	free(s);
	if (!info.self_signed) {
		fmt_time(info.renew_after, when);
		row("renews after", when, ROLE_NORMAL);
	}
	row("subject", info.subject, ROLE_NORMAL);
	row("serial", info.serial, ROLE_NORMAL);
	row("file", t->cfg.tls_cert_file, ROLE_NORMAL);
	row("key", t->cfg.tls_key_file, ROLE_NORMAL);
	row("key matches",
	    info.key_matches < 0 ? "unknown (the key is not readable)"
	    : info.key_matches   ? "yes"
	                         : "no",
	    info.key_matches == 0 ? ROLE_FAIL : ROLE_NORMAL);
	row("TLSA 3 1 1", info.tlsa, ROLE_NORMAL);
	if (info.chain_broken) {
		s = xasprintf("broken: certificate %d is not issued and signed by certificate %d",
		              info.chain_broken, info.chain_broken + 1);
		row("chain", s, ROLE_FAIL);
		free(s);
	}
	next_key_row(t);
	row("SHA-256", info.sha256, ROLE_NORMAL);
	strbuf_release(&names);
}

/* The CA of the last install and the newest attempts, from the store. */
static void attempt_rows(struct mc_ctx *ctx)
{
	struct cert_attempt_list l = {0};
	struct cert_attempt_row last;
	struct mc_error err;
	int found = store_cert_attempt_last_installed(ctx->st, &last, &err);
	if (found > 0) {
		row("CA", last.directory, ROLE_NORMAL);
		cert_attempt_row_release(&last);
	} else {
		row("CA",
		    found < 0          ? err.msg
		    : info.self_signed ? "none (self-signed)"
		                       : "",
		    found < 0 ? ROLE_FAIL : ROLE_NORMAL);
	}
	if (store_cert_attempt_list(ctx->st, 5, &l, &err) < 0) {
		row("attempts", err.msg, ROLE_FAIL);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct cert_attempt_row *a = &l.v[i];
		char *s = xasprintf("%s %s %s%s%s", a->started, a->kind, a->result,
		                    *a->detail ? ": " : "", a->detail);
		row("attempt", s, strcmp(a->result, "failed") ? ROLE_NORMAL : ROLE_FAIL);
		free(s);
	}
	if (!l.n)
		row("attempts", "none yet", ROLE_DIM);
	cert_attempt_list_release(&l);
}

/* Read the certificate and the attempts again. */
static void load(struct tui *t)
{
	struct mc_ctx ctx;
	struct mc_error err;
	time_t now = time(NULL);
	char *keep = list_selected_key(&lst) ? xstrdup(list_selected_key(&lst)) : NULL;
	if (have_info)
		cert_info_release(&info);
	list_clear(&lst);
	have_info = cert_info_read(t->cfg.tls_cert_file, t->cfg.tls_key_file, &info, &err) == 0;
	if (!have_info) {
		snprintf(head, sizeof(head), "No certificate: %s", err.msg);
		tui_error(t, &err);
	} else {
		char *status = cert_status_text(&info, now, "R requests one");
		snprintf(head, sizeof(head), "Certificate: %s", status);
		row("status", status, info.self_signed ? ROLE_WARN : ROLE_NORMAL);
		free(status);
		info_rows(t, now);
	}
	if (tui_store_open(t, &ctx, NULL, &err) < 0)
		row("attempts", err.msg, ROLE_FAIL);
	else
		attempt_rows(&ctx);
	tui_store_close(&ctx);
	list_refilter(&lst, keep);
	free(keep);
}

static int cert_job(struct job *j)
{
	struct c_work *w = j->arg;
	struct cert_options o = {0};
	if (w->op == OP_REQUEST) {
		job_progress(j, "requesting a certificate from %s", w->ctx.cfg->acme_directory);
		return cert_request(&w->ctx, &o, &w->rep, &j->err);
	}
	o.force = w->op == OP_RENEW_FORCE;
	job_progress(j, "renewing the certificate%s", o.force ? " now" : " if due");
	return cert_renew_due(&w->ctx, time(NULL), &o, &w->rep, &j->err);
}

/* Ask before a request: the default names go on the line above the
 * list, the CA's host into the question. 1 for yes. */
static int ask_request(struct tui *t, struct mc_error *err)
{
	struct mc_ctx ctx;
	char **names = NULL;
	size_t n = 0;
	struct strbuf sb = STRBUF_INIT;
	int rc = tui_store_open(t, &ctx, NULL, err);
	if (rc == 0)
		rc = cert_default_names(&ctx, &names, &n, err);
	tui_store_close(&ctx);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "To request: ", names[i]);
	snprintf(head, sizeof(head), "%s", sb.buf);
	strbuf_release(&sb);
	cert_names_free(names, n);
	const char *dir = t->cfg.acme_directory, *host = strstr(dir, "://");
	host = host ? host + 3 : dir;
	char *q = xasprintf("Ask %.*s for a certificate for these %zu names?",
	                    (int)strcspn(host, "/"), host, n);
	tui_redraw(t);
	int yes = tui_confirm(t, q);
	free(q);
	load(t);
	return yes;
}

static void start(struct tui *t, enum op op)
{
	struct mc_error err;
	if (job.running) {
		tui_message(t, "a certificate request is running already");
		return;
	}
	if (op == OP_REQUEST) {
		int yes = ask_request(t, &err);
		if (yes < 0)
			tui_error(t, &err);
		if (yes <= 0)
			return;
	}
	work = xcalloc(1, sizeof(*work));
	work->op = op;
	work->started = time(NULL);
	int rc =
	    tui_store_open(t, &work->ctx, op == OP_REQUEST ? "cert request" : "cert renew", &err);
	if (rc == 0 && job_start(&job, cert_job, work) < 0)
		rc = mc_fail(&err, MC_EINTERNAL, "cannot start the certificate request");
	if (rc < 0) {
		tui_error(t, &err);
		tui_store_close(&work->ctx);
		free(work);
		work = NULL;
	}
}

static void enter(struct tui *t)
{
	if (!ready) {
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]), "");
		job_init(&job);
		ready = 1;
	}
	load(t);
}

static void draw(struct tui *t, int top, int rows)
{
	(void)t;
	if (lst.filtering || lst.filter[0]) {
		list_caption(&lst, top, "Fields");
	} else {
		tui_fill(top, 0, ROLE_NORMAL);
		tui_put(top, 0, COLS, ROLE_NORMAL, head);
	}
	list_draw(&lst, top + 1, rows - 1);
}

/* What an install did, as 'mailctl cert request' reports it. */
static char *report_text(const struct cert_report *r)
{
	struct strbuf sb = STRBUF_INIT;
	char until[32];
	fmt_time(r->not_after, until);
	strbuf_addstr(&sb, r->action == CERT_ISSUED ? "installed a certificate for "
	                                            : "installed (not yet served everywhere) a "
	                                              "certificate for ");
	for (size_t i = 0; i < r->nnames; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", r->names[i]);
	strbuf_addf(&sb, "\nfrom: %s%s\nissuer: %s\nserial: %s\nexpires: %s\n", r->directory,
	            r->account_new ? " (new account)" : "", r->issuer ? r->issuer : "",
	            r->serial ? r->serial : "", until);
	strbuf_addf(&sb, "key: %s; TLSA 3 1 1 %s\n",
	            r->key_new ? "made a new one" : "kept (DNS TLSA records stay right)", r->tlsa);
	strbuf_addf(&sb, "reloaded: %s\n",
	            r->reloaded && *r->reloaded ? r->reloaded : "nothing was running");
	for (size_t i = 0; i < r->nports; i++)
		strbuf_addf(&sb, "port %d %s: %s%s%s\n", r->ports[i].port, r->ports[i].service,
		            cert_port_state_name(r->ports[i].state),
		            r->ports[i].detail && *r->ports[i].detail ? " - " : "",
		            r->ports[i].detail ? r->ports[i].detail : "");
	strbuf_addf(&sb, "took: %.1f s", (double)r->total_ms / 1000);
	return strbuf_detach(&sb);
}

/* The outcome of a request or renewal, as the CLI words it. */
static void outcome(struct tui *t, int rc, struct c_work *w)
{
	const struct cert_report *r = &w->rep;
	char next[32] = "";
	if (r->next)
		fmt_time(r->next, next);
	if (r->action == CERT_ISSUED || r->action == CERT_UNVERIFIED) {
		char *text = report_text(r);
		if (rc < 0)
			tui_error(t, &job.err);
		else
			tui_message(t, "installed the new certificate");
		tui_box(t, "Certificate", text);
		free(text);
	} else if (rc < 0) {
		tui_error(t, &job.err);
	} else if (r->action == CERT_NO_CA) {
		struct mc_error err;
		mc_fail(&err, MC_EDATA, "nothing to renew: %s", r->reason);
		tui_error(t, &err);
	} else if (r->action == CERT_NOT_DUE) {
		tui_message(t, "not renewed: %s (from %s)", r->reason, next);
	} else if (r->action == CERT_WAITING) {
		tui_message(t,
		            "not renewed: due (%s), but the last attempt failed; the next one is "
		            "after %s (or U renews now)",
		            r->reason, next);
	}
}

static int tick(struct tui *t)
{
	char progress[256];
	if (!ready || !job.running)
		return 0;
	if (!job_done(&job)) {
		job_progress_get(&job, progress, sizeof(progress));
		if (t->current == tui_screen_index("Certs") && !t->message_error)
			tui_message(t, "%s... %lld s", progress,
			            (long long)(time(NULL) - work->started));
		return 1;
	}
	int rc = job_finish(&job);
	struct c_work *w = work;
	work = NULL;
	tui_store_close(&w->ctx);
	t->message[0] = '\0';
	t->message_error = 0;
	load(t);
	outcome(t, rc, w);
	cert_report_release(&w->rep);
	free(w);
	return 1;
}

static void show(struct tui *t)
{
	long i = list_selected(&lst);
	if (i >= 0)
		tui_box(t, lst.v[i].cell[0], lst.v[i].cell[1]);
}

static void copy(struct tui *t)
{
	long i = list_selected(&lst);
	if (i < 0) {
		tui_message(t, "no field selected");
		return;
	}
	tui_copy(lst.v[i].cell[1]);
	tui_message(t, "copied the %s (%zu bytes) to the clipboard", lst.v[i].cell[0],
	            strlen(lst.v[i].cell[1]));
}

static void request(struct tui *t)
{
	start(t, OP_REQUEST);
}

static void renew(struct tui *t)
{
	start(t, OP_RENEW);
}

static void renew_force(struct tui *t)
{
	start(t, OP_RENEW_FORCE);
}

static const struct list_handler handlers[] = {
    {ACT_REQUEST, request}, {ACT_RENEW, renew}, {ACT_RENEW_FORCE, renew_force},
    {ACT_OPEN, show},       {ACT_COPY, copy},   {ACT_RELOAD, load},
    {ACT_NONE, NULL},
};

static void release(void)
{
	if (!ready)
		return;
	job_release(&job);
	if (work) {
		tui_store_close(&work->ctx);
		cert_report_release(&work->rep);
		free(work);
	}
	if (have_info)
		cert_info_release(&info);
	list_release(&lst);
}

static const enum action actions[] = {ACT_REQUEST, ACT_RENEW, ACT_RENEW_FORCE,
                                      ACT_COPY,    ACT_OPEN,  ACT_NONE};

const struct screen screen_certs = {
    "Certs",  "the TLS certificate; request or renew it from the CA (ACME)",
    actions,  enter,
    draw,     NULL,
    NULL,     tick,
    release,  &lst,
    handlers,
};
