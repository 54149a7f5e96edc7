/*
 * Users: every mailbox user, filtered as you type; add (with a generated
 * password shown once), delete (the mailbox is archived, never purged
 * here), reset the password, set the quota, enable or disable. Each
 * change is the CLI's lib/user.h call with the CLI's messages.
 */
#include "address.h"
#include "list.h"
#include "password.h"
#include "size.h"
#include "tui.h"
#include "user.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct list_col cols[] = {
    {"ADDRESS", 0, 16}, {"NAME", 0, 8},  {"QUOTA", 9, 0},
    {"ENABLED", 7, 0},  {"ADMIN", 5, 0}, {"CREATED", 10, 0},
};
static struct list lst;
static struct user_list users;
static int ready;

/* Reload from the database, keeping the selection on 'keep'. */
static void load(struct tui *t, const char *keep)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *k = keep ? xstrdup(keep) : NULL;
	if (!ready)
		list_init(&lst, cols, sizeof(cols) / sizeof(cols[0]),
		          "no users yet: press a to add one");
	ready = 1;
	list_clear(&lst);
	user_list_release(&users);
	memset(&users, 0, sizeof(users));
	if (tui_store_open(t, &ctx, NULL, &err) < 0 || user_list(&ctx, NULL, &users, &err) < 0)
		tui_error(t, &err);
	tui_store_close(&ctx);
	for (size_t i = 0; i < users.n; i++) {
		const struct user_row *u = &users.v[i];
		char quota[32], date[11];
		size_format(u->quota_bytes, quota, sizeof(quota));
		snprintf(date, sizeof(date), "%s", u->created);
		char *addr = tui_unicode(u->address);
		const char *cells[] = {
		    addr, u->display_name, quota, u->enabled ? "yes" : "no", u->admin ? "yes" : "",
		    date};
		size_t r = list_add_row(&lst, u->address, cells);
		if (!u->enabled) {
			lst.v[r].role = ROLE_WARN;
			lst.v[r].role_col = 3;
		}
		free(addr);
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
	list_caption(&lst, top, "Users");
	list_draw(&lst, top + 1, rows - 1);
}

static const struct user_row *selected(struct tui *t)
{
	long i = list_selected(&lst);
	if (i < 0)
		tui_message(t, "no user selected");
	return i < 0 ? NULL : &users.v[i];
}

/* Ask for the address and name, generate a password, add. */
static void add(struct tui *t)
{
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *address = tui_prompt(t, "New user's address:", NULL), *canon = NULL, *name = NULL;
	char *pw = NULL, *stored = NULL;
	int rc = -1;
	if (!address || !*address)
		goto out;
	if (addr_normalize(address, &canon, NULL, NULL, &err) < 0)
		goto fail;
	if (!(name = tui_prompt(t, "Display name (Enter for none):", NULL)))
		goto out;
	if (password_generate(&pw, &err) < 0)
		goto fail;
	struct user_spec spec = {address, name, -1, pw, 0};
	tui_busy(t, "adding the user...");
	if (tui_store_open(t, &ctx, "user add", &err) == 0)
		rc = user_add(&ctx, &spec, &stored, &err);
	tui_store_close(&ctx);
	if (rc < 0)
		goto fail;
	char *msg =
	    xasprintf("added user '%s' with password: %s\n\nIt is shown only now.", stored, pw);
	load(t, stored);
	tui_message(t, "added user '%s'", stored);
	tui_box(t, "New user", msg);
	password_free(msg);
	goto out;
fail:
	tui_error(t, &err);
out:
	password_free(pw);
	free(address);
	free(canon);
	free(name);
	free(stored);
}

static void del(struct tui *t)
{
	const struct user_row *u = selected(t);
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *archived = NULL;
	if (!u)
		return;
	char *addr = xstrdup(u->address), *q = xasprintf("Delete user '%s'? Its mailbox is "
	                                                 "archived, not deleted.",
	                                                 addr);
	int rc = -1;
	if (tui_confirm(t, q)) {
		if (tui_store_open(t, &ctx, "user del", &err) == 0)
			rc = user_del(&ctx, addr, 0, &archived, &err);
		tui_store_close(&ctx);
		load(t, NULL);
		if (rc < 0)
			tui_error(t, &err);
		else if (archived)
			tui_message(t, "deleted user '%s'; its mailbox is archived in '%s'", addr,
			            archived);
		else
			tui_message(t, "deleted user '%s' (it had no mailbox yet)", addr);
	}
	free(archived);
	free(addr);
	free(q);
}

static void passwd(struct tui *t)
{
	const struct user_row *u = selected(t);
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char *pw = NULL;
	if (!u)
		return;
	char *addr = xstrdup(u->address), *q = xasprintf("Generate a new password for '%s'?", addr);
	int rc = -1;
	if (tui_confirm(t, q) && password_generate(&pw, &err) == 0) {
		tui_busy(t, "setting the password...");
		if (tui_store_open(t, &ctx, "user passwd", &err) == 0)
			rc = user_passwd(&ctx, addr, pw, &err);
		tui_store_close(&ctx);
		if (rc < 0) {
			tui_error(t, &err);
		} else {
			char *msg = xasprintf("changed the password of '%s' to: %s\n\nIt is shown "
			                      "only now.",
			                      addr, pw);
			tui_message(t, "changed the password of '%s'", addr);
			tui_box(t, "New password", msg);
			password_free(msg);
		}
	}
	password_free(pw);
	free(addr);
	free(q);
}

static void quota(struct tui *t)
{
	const struct user_row *u = selected(t);
	struct mc_ctx ctx = {0};
	struct mc_error err;
	char now[32], *q, *in, *addr;
	long long bytes;
	int rc = -1;
	if (!u)
		return;
	size_format(u->quota_bytes, now, sizeof(now));
	addr = xstrdup(u->address);
	q = xasprintf("Quota of '%s' (500M, 2G, unlimited):", addr);
	if ((in = tui_prompt(t, q, now))) {
		if (size_parse(in, &bytes, &err) == 0 &&
		    tui_store_open(t, &ctx, "user quota", &err) == 0)
			rc = user_set_quota(&ctx, addr, bytes, &err);
		tui_store_close(&ctx);
		load(t, addr);
		size_format(rc == 0 ? bytes : 0, now, sizeof(now));
		if (rc < 0)
			tui_error(t, &err);
		else
			tui_message(t, "set the quota of '%s' to %s", addr, now);
	}
	free(in);
	free(q);
	free(addr);
}

static void toggle(struct tui *t)
{
	const struct user_row *u = selected(t);
	struct mc_ctx ctx = {0};
	struct mc_error err;
	int rc = -1;
	if (!u)
		return;
	int enable = !u->enabled;
	char *addr = xstrdup(u->address);
	if (tui_store_open(t, &ctx, enable ? "user enable" : "user disable", &err) == 0)
		rc = user_set_enabled(&ctx, addr, enable, &err);
	tui_store_close(&ctx);
	load(t, addr);
	if (rc < 0)
		tui_error(t, &err);
	else
		tui_message(t, "%s user '%s'", enable ? "enabled" : "disabled", addr);
	free(addr);
}

static void show(struct tui *t)
{
	const struct user_row *u = selected(t);
	char quota[32];
	if (!u)
		return;
	size_format(u->quota_bytes, quota, sizeof(quota));
	char *addr = tui_unicode(u->address);
	char *text = xasprintf("address: %s\nstored as: %s\nname: %s\nquota: %s\nenabled: %s\n"
	                       "admin: %s\ncreated: %s",
	                       addr, u->address, u->display_name, quota, u->enabled ? "yes" : "no",
	                       u->admin ? "yes" : "no", u->created);
	tui_box(t, "User", text);
	free(text);
	free(addr);
}

/* Load again, keeping the selection. */
static void reload(struct tui *t)
{
	load(t, list_selected_key(&lst));
}

static const struct list_handler handlers[] = {
    {ACT_ADD, add},       {ACT_DELETE, del}, {ACT_PASSWD, passwd}, {ACT_QUOTA, quota},
    {ACT_TOGGLE, toggle}, {ACT_OPEN, show},  {ACT_RELOAD, reload}, {ACT_NONE, NULL},
};

static void release(void)
{
	list_release(&lst);
	user_list_release(&users);
}

static const enum action actions[] = {ACT_ADD,    ACT_DELETE, ACT_PASSWD, ACT_QUOTA,
                                      ACT_TOGGLE, ACT_OPEN,   ACT_NONE};

const struct screen screen_users = {
    "Users",  "mailbox users: add, delete (archived), password, quota, enable/disable",
    actions,  enter,
    draw,     NULL,
    NULL,     NULL,
    release,  &lst,
    handlers,
};
