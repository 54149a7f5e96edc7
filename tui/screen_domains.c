/*
 * Domains: the hosted domains with their user and alias counts; add (with
 * postmaster@, abuse@ and a DKIM key, as 'domain add'), delete (refused
 * while it holds users unless confirmed a second time, and then its mail
 * is archived, as 'domain del --force'); Enter shows its DNS records.
 */
#include "domain.h"
#include "list.h"
#include "tui.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct list_col cols[] = {
    {"DOMAIN", 0, 16},
    {"USERS", 7, 0},
    {"ALIASES", 7, 0},
    {"CREATED", 10, 0},
};
static struct list lst;
static struct domain_list doms;
static int ready;

static void load(struct tui *t, const char *keep)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *k = keep ? xstrdup(keep) : NULL;
	if (!ready)
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]),
		          "no domains yet: press a to add one");
	ready = 1;
	list_clear(&lst);
	domain_list_release(&doms);
	memset(&doms, 0, sizeof(doms));
	if (tui_store_open(t, &ctx, NULL, &err) < 0 || domain_list(&ctx, &doms, &err) < 0)
		tui_error(t, &err);
	tui_store_close(&ctx);
	for (size_t i = 0; i < doms.n; i++) {
		const struct domain_row *d = &doms.v[i];
		char users[24], aliases[24], date[11];
		snprintf(users, sizeof(users), "%lld", d->users);
		snprintf(aliases, sizeof(aliases), "%lld", d->aliases);
		snprintf(date, sizeof(date), "%s", d->created);
		char *name = tui_unicode(d->name);
		const char *cells[] = {name, users, aliases, date};
		list_add_row(&lst, d->name, cells);
		free(name);
	}
	list_refilter(&lst, k);
	free(k);
}

static void enter(struct tui *t)
{
	load(t, list_selected_key(&lst));
}

static void draw(struct tui *t, int top, int rows)
{
	(void)t;
	list_caption(&lst, top, "Domains");
	list_draw(&lst, top + 1, rows - 1);
}

static void add(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	struct domain_added added = {0};
	char *name = tui_prompt(t, "New domain:", NULL);
	int rc = -1;
	if (!name || !*name) {
		free(name);
		return;
	}
	tui_busy(t, "adding the domain and making its DKIM key...");
	if (tui_store_open(t, &ctx, "domain add", &err) == 0)
		rc = domain_add(&ctx, name, NULL, &added, &err);
	tui_store_close(&ctx);
	load(t, rc == 0 ? added.name : NULL);
	if (rc < 0)
		tui_error(t, &err);
	else
		tui_message(
		    t,
		    "added domain '%s'; postmaster@ and abuse@ go to '%s'; publish its DKIM "
		    "key '%s' in DNS: see 'mailctl dkim show %s'",
		    added.name, added.postmaster_target, added.dkim_selector, added.name);
	if (rc == 0)
		domain_added_release(&added);
	free(name);
}

/* domain_del(); 1 when it was refused for holding users or aliases. */
static int try_del(struct tui *t, const char *name, int force, struct mc_error *err)
{
	struct mc_ctx ctx = {0};
	struct domain_deleted del = {0};
	int rc = -1;
	tui_busy(t, "deleting the domain...");
	if (tui_store_open(t, &ctx, "domain del", err) == 0)
		rc = domain_del(&ctx, name, force, &del, err);
	tui_store_close(&ctx);
	if (rc < 0)
		return !force && err->kind == MC_EDATA ? 1 : -1;
	char *mail =
	    del.archived ? xasprintf("; its mail is archived in '%s'", del.archived) : xstrdup("");
	char *keys_gone = del.dkim_keys
	                      ? xasprintf("; its %zu DKIM key(s) were deleted", del.dkim_keys)
	                      : xstrdup("");
	tui_message(t, "deleted domain '%s'%s%s", name, mail, keys_gone);
	free(mail);
	free(keys_gone);
	domain_deleted_release(&del);
	return 0;
}

static void del(struct tui *t)
{
	struct mc_error err;
	const char *key = list_selected_key(&lst);
	if (!key) {
		tui_message(t, "no domain selected");
		return;
	}
	char *name = xstrdup(key), *q = xasprintf("Delete domain '%s' and its DKIM keys?", name);
	int rc = tui_confirm(t, q) ? try_del(t, name, 0, &err) : 0;
	if (rc == 1) {
		free(q);
		q = xasprintf("%s. Delete its users and aliases too (mailboxes are archived)?",
		              err.msg);
		rc = tui_confirm(t, q) ? try_del(t, name, 1, &err) : 0;
	}
	load(t, NULL);
	if (rc != 0)
		tui_error(t, &err);
	free(name);
	free(q);
}

/* Enter: the DNS records of the selected domain. */
static void open_dns(struct tui *t)
{
	const char *key = list_selected_key(&lst);
	if (!key)
		return;
	free(t->domain);
	t->domain = xstrdup(key);
	tui_switch(t, tui_screen_index("DNS"));
}

/* Load again, keeping the selection. */
static void reload(struct tui *t)
{
	load(t, list_selected_key(&lst));
}

static const struct list_handler handlers[] = {
    {ACT_ADD, add}, {ACT_DELETE, del}, {ACT_OPEN, open_dns}, {ACT_RELOAD, reload}, {ACT_NONE, NULL},
};

static void release(void)
{
	list_release(&lst);
	domain_list_release(&doms);
}

static const enum action actions[] = {ACT_ADD, ACT_DELETE, ACT_OPEN, ACT_NONE};

const struct screen screen_domains = {
    "Domains", "hosted domains: add, delete (mail archived); Enter shows the DNS records",
    actions,   enter,
    draw,      NULL,
    NULL,      NULL,
    release,   &lst,
    handlers,
};
