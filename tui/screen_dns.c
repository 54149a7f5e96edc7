/*
 * DNS: the records of one domain as 'mailctl dns records' builds them,
 * each marked with the result of a live check ('dns check') that runs in
 * the background when the screen opens and again on request. A key copies
 * the selected value to the clipboard (OSC 52) for a provider's DNS panel.
 */
#include "dnsplan.h"
#include "domain.h"
#include "job.h"
#include "list.h"
#include "strbuf.h"
#include "tui.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct list_col cols[] = {
    {"CHECK", 9, 0},
    {"NAME", 0, 12},
    {"TYPE", 5, 0},
    {"VALUE", 0, 12},
};

/* What the background check works on, owned by it until it finishes. */
struct dns_work {
	struct dnsplan plan;
	const struct config *cfg;
	struct dnscheck_report rep;
};

static struct list lst;
static struct dnsplan plan; /* what is shown */
static struct job job;
static struct dns_work *work;
static struct dnscheck_report rep; /* the last finished check of 'plan' */
static int ready, checked, have_plan;
static char summary[256];
static const struct dnsrec_list no_records;

/* The records shown: the plan's one domain, or none. */
static const struct dnsrec_list *records(void)
{
	return have_plan && plan.n ? &plan.v[0].recs : &no_records;
}

static const enum role level_role[] = {
    [DNSCHECK_LOK] = ROLE_OK,     [DNSCHECK_LINFO] = ROLE_INFO, [DNSCHECK_LWARN] = ROLE_WARN,
    [DNSCHECK_LTEMP] = ROLE_WARN, [DNSCHECK_LFAIL] = ROLE_FAIL,
};

static int check_job(struct job *j)
{
	struct dns_work *w = j->arg;
	struct dnsq_server server = {0};
	job_progress(j, "asking DNS about %s...", w->plan.v[0].name);
	if (dnsq_server_choose(w->cfg->dns_resolver, &server, &j->err) < 0)
		return -1;
	job_progress(j, "asking %s about %s...", server.text, w->plan.v[0].name);
	return dnscheck_run(&w->plan.in, &server, 0, &w->rep, &j->err);
}

/* The finding about record 'r': same owner and type, our value first. */
static const struct dnscheck_finding *finding_for(const struct dnsrec *r)
{
	const struct dnscheck_finding *any = NULL;
	for (size_t i = 0; i < rep.n; i++) {
		const struct dnscheck_finding *f = &rep.v[i];
		if (strcmp(f->check, "record") || strcasecmp(f->name, r->name) ||
		    strcmp(f->type, r->type))
			continue;
		if (f->expected && !strcmp(f->expected, r->value))
			return f;
		any = any ? any : f;
	}
	return any;
}

/* One row per record, then one per finding that is no record's. */
static void rebuild(void)
{
	char *keep = list_selected_key(&lst) ? xstrdup(list_selected_key(&lst)) : NULL;
	list_clear(&lst);
	for (size_t i = 0; i < records()->n; i++) {
		const struct dnsrec *r = &records()->v[i];
		const struct dnscheck_finding *f = checked ? finding_for(r) : NULL;
		const char *mark = f ? dnscheck_status_name(f->status) : job.running ? "..." : "";
		char key[32];
		snprintf(key, sizeof(key), "r%zu", i);
		const char *cells[] = {mark, r->name, r->type, r->value};
		size_t k = list_add_row(&lst, key, cells);
		lst.v[k].role = f ? level_role[f->level] : ROLE_DIM;
		lst.v[k].role_col = 0;
	}
	for (size_t i = 0; checked && i < rep.n; i++) {
		const struct dnscheck_finding *f = &rep.v[i];
		if (!strcmp(f->check, "record"))
			continue;
		char key[32];
		snprintf(key, sizeof(key), "f%zu", i);
		const char *cells[] = {dnscheck_status_name(f->status), f->name, f->check,
		                       f->detail};
		size_t k = list_add_row(&lst, key, cells);
		lst.v[k].role = level_role[f->level];
		lst.v[k].role_col = 0;
	}
	list_refilter(&lst, keep);
	free(keep);
}

static void summarise(void)
{
	size_t n[DNSCHECK_LFAIL + 1] = {0};
	for (size_t i = 0; i < rep.n; i++)
		n[rep.v[i].level]++;
	snprintf(summary, sizeof(summary), "%zu ok, %zu warnings, %zu not answered, %zu failed",
	         n[DNSCHECK_LOK] + n[DNSCHECK_LINFO], n[DNSCHECK_LWARN], n[DNSCHECK_LTEMP],
	         n[DNSCHECK_LFAIL]);
}

/* Start a check of the shown domain, unless one is running. */
static void start_check(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	if (job.running || !have_plan)
		return;
	work = xcalloc(1, sizeof(*work));
	work->cfg = &t->cfg;
	int rc = tui_store_open(t, &ctx, NULL, &err);
	if (rc == 0)
		rc = dnsplan_build(&ctx, plan.v[0].name, &work->plan, &err);
	tui_store_close(&ctx);
	if (rc < 0 || job_start(&job, check_job, work) < 0) {
		if (rc == 0)
			mc_fail(&err, MC_EINTERNAL, "cannot start the DNS check");
		tui_error(t, &err);
		dnsplan_release(&work->plan);
		free(work);
		work = NULL;
		return;
	}
	snprintf(summary, sizeof(summary), "checking...");
	rebuild();
}

/* Load the records of t->domain (or the first domain). */
static void load(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	struct domain_list doms = {0};
	dnsplan_release(&plan);
	dnscheck_report_release(&rep);
	memset(&rep, 0, sizeof(rep));
	checked = have_plan = 0;
	summary[0] = '\0';
	int rc = tui_store_open(t, &ctx, NULL, &err);
	if (rc == 0 && !t->domain) {
		rc = domain_list(&ctx, &doms, &err);
		if (rc == 0 && doms.n)
			t->domain = xstrdup(doms.v[0].name);
		else if (rc == 0)
			rc = mc_fail(&err, MC_EDATA, "no hosted domains: add one on screen 2");
	}
	if (rc == 0)
		rc = dnsplan_build(&ctx, t->domain, &plan, &err);
	tui_store_close(&ctx);
	domain_list_release(&doms);
	have_plan = rc == 0;
	if (rc < 0) {
		dnsplan_release(&plan);
		tui_error(t, &err);
	}
	rebuild();
	start_check(t);
}

static void enter(struct tui *t)
{
	if (!ready) {
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]), "no records");
		job_init(&job);
		ready = 1;
	}
	if (!have_plan || !t->domain || strcmp(t->domain, plan.v[0].name))
		load(t);
}

static void draw(struct tui *t, int top, int rows)
{
	char line[512], *name = tui_unicode(have_plan   ? plan.v[0].name
	                                    : t->domain ? t->domain
	                                                : "-");
	snprintf(line, sizeof(line), "DNS records of %s%s%s", name, summary[0] ? ": " : "",
	         summary);
	tui_fill(top, 0, ROLE_NORMAL);
	tui_put(top, 0, COLS, ROLE_NORMAL, line);
	free(name);
	list_draw(&lst, top + 1, rows - 1);
}

static int tick(struct tui *t)
{
	char progress[256];
	if (!ready || !job.running)
		return 0;
	if (!job_done(&job)) {
		job_progress_get(&job, progress, sizeof(progress));
		if (t->current == tui_screen_index("DNS") && !t->message_error)
			tui_message(t, "%s", progress);
		return 1;
	}
	int rc = job_finish(&job);
	if (rc < 0) {
		tui_error(t, &job.err);
		dnscheck_report_release(&work->rep);
	} else if (have_plan && !strcmp(work->plan.v[0].name, plan.v[0].name)) {
		dnscheck_report_release(&rep);
		rep = work->rep;
		checked = 1;
		summarise();
		if (!t->message_error)
			t->message[0] = '\0';
	} else {
		dnscheck_report_release(&work->rep);
	}
	dnsplan_release(&work->plan);
	free(work);
	work = NULL;
	rebuild();
	if (rc == 0 && !checked)
		start_check(t); /* the result was for a domain no longer shown */
	return 1;
}

/* The selected row: a record ('*f' its finding) or a finding alone. */
static const struct dnsrec *selected(const struct dnscheck_finding **f)
{
	const char *key = list_selected_key(&lst);
	*f = NULL;
	if (!key)
		return NULL;
	size_t i = strtoul(key + 1, NULL, 10);
	if (key[0] == 'f') {
		*f = i < rep.n ? &rep.v[i] : NULL;
		return NULL;
	}
	if (i >= records()->n)
		return NULL;
	*f = checked ? finding_for(&records()->v[i]) : NULL;
	return &records()->v[i];
}

static void show(struct tui *t)
{
	const struct dnscheck_finding *f;
	const struct dnsrec *r = selected(&f);
	struct strbuf text = STRBUF_INIT;
	if (r)
		strbuf_addf(&text, "%s\n\n%s%s\n", r->purpose,
		            r->provider ? "set at your provider: " : "", r->zone);
	if (f) {
		strbuf_addf(&text, "\ncheck: %s (%s)\n%s", dnscheck_status_name(f->status),
		            dnscheck_level_name(f->level), f->detail);
		if (f->fix && *f->fix)
			strbuf_addf(&text, "\nfix: %s", f->fix);
		for (size_t i = 0; i < f->nfound; i++)
			strbuf_addf(&text, "\nfound: %s", f->found[i]);
	} else if (r) {
		strbuf_addstr(&text, job.running ? "\ncheck: running" : "\ncheck: not run");
	}
	if (text.len)
		tui_box(t, r ? r->type : "Check", text.buf);
	strbuf_release(&text);
}

static void copy(struct tui *t)
{
	const struct dnscheck_finding *f;
	const struct dnsrec *r = selected(&f);
	if (!r) {
		tui_message(t, "no record selected");
		return;
	}
	tui_copy(r->value);
	tui_message(t, "copied the %s value of %s (%zu bytes) to the clipboard", r->type, r->name,
	            strlen(r->value));
}

/* Show the next hosted domain (wrapping). */
static void next_domain(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	struct domain_list doms = {0};
	int rc = tui_store_open(t, &ctx, NULL, &err);
	if (rc == 0)
		rc = domain_list(&ctx, &doms, &err);
	tui_store_close(&ctx);
	if (rc < 0) {
		tui_error(t, &err);
		return;
	}
	size_t i = 0;
	while (i < doms.n && t->domain && strcmp(doms.v[i].name, t->domain))
		i++;
	if (doms.n) {
		free(t->domain);
		t->domain = xstrdup(doms.v[(i + 1) % doms.n].name);
	}
	domain_list_release(&doms);
	load(t);
}

static const struct list_handler handlers[] = {
    {ACT_OPEN, show},   {ACT_COPY, copy}, {ACT_CHECK, start_check}, {ACT_NEXT_DOMAIN, next_domain},
    {ACT_RELOAD, load}, {ACT_NONE, NULL},
};

static void release(void)
{
	if (!ready)
		return;
	job_release(&job);
	if (work) {
		dnscheck_report_release(&work->rep);
		dnsplan_release(&work->plan);
		free(work);
	}
	dnscheck_report_release(&rep);
	dnsplan_release(&plan);
	list_release(&lst);
}

static const enum action actions[] = {ACT_COPY, ACT_CHECK, ACT_NEXT_DOMAIN, ACT_OPEN, ACT_NONE};

const struct screen screen_dns = {
    "DNS",    "a domain's DNS records with their live check; copy a value (OSC 52)",
    actions,  enter,
    draw,     NULL,
    NULL,     tick,
    release,  &lst,
    handlers,
};
