/* Unit tests for the account policy: domains, users, aliases, loops. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias.h"
#include "domain.h"
#include "user.h"
#include "xalloc.h"

#include "instance.h"

static const char *pw = "correct-Horse-battery-9";

static void add_domain(const char *name)
{
	struct domain_added d;
	struct mc_error err;
	assert_int_equal(domain_add(&ctx, name, NULL, &d, &err), 0);
	domain_added_release(&d);
}

static int add_user(const char *address, struct mc_error *err)
{
	struct user_spec s = {address, NULL, -1, pw, 0};
	char *canon = NULL;
	int rc = user_add(&ctx, &s, &canon, err);
	free(canon);
	return rc;
}

static int add_alias(const char *src, const char *t1, const char *t2, struct mc_error *err)
{
	const char *t[] = {t1, t2};
	char *canon = NULL;
	int rc = alias_add(&ctx, src, t, t2 ? 2 : 1, &canon, err);
	free(canon);
	return rc;
}

static void test_domain_add_idn_and_required_aliases(void **state)
{
	struct domain_added d;
	struct alias_row a;
	struct mc_error err;
	(void)state;
	assert_int_equal(domain_add(&ctx, "Bücher.Example", NULL, &d, &err), 0);
	assert_string_equal(d.name, "xn--bcher-kva.example");
	assert_string_equal(d.postmaster_target, "admin@example.org");
	domain_added_release(&d);
	assert_int_equal(store_alias_get(ctx.st, "postmaster@xn--bcher-kva.example", &a, &err), 1);
	assert_true(a.required);
	assert_string_equal(a.targets[0], "admin@example.org");
	alias_row_release(&a);
	assert_int_equal(domain_add(&ctx, "xn--bcher-kva.example", NULL, &d, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
}

static void test_first_admin_user_gets_postmaster(void **state)
{
	struct domain_added d;
	struct mc_error err;
	struct user_spec s = {"boss@example.org", "Boss", -1, pw, 1};
	char *canon;
	(void)state;
	add_domain("example.org");
	assert_int_equal(user_add(&ctx, &s, &canon, &err), 0);
	free(canon);
	assert_int_equal(domain_add(&ctx, "example.net", NULL, &d, &err), 0);
	assert_string_equal(d.postmaster_target, "boss@example.org");
	domain_added_release(&d);
}

static void test_user_rules(void **state)
{
	struct mc_error err;
	struct user_row u;
	(void)state;
	assert_int_equal(add_user("a@example.org", &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
	add_domain("example.org");
	assert_int_equal(add_user("Alice@Example.ORG", &err), 0);
	assert_int_equal(add_user("alice@example.org", &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_int_equal(user_show(&ctx, "alice@example.org", &u, &err), 0);
	assert_null(u.password_hash);
	assert_int_equal(u.quota_bytes, cfg.default_quota);
	user_row_release(&u);
	assert_int_equal(user_passwd(&ctx, "alice@example.org", "short", &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_int_equal(user_set_quota(&ctx, "nobody@example.org", 1, &err), -1);
	assert_int_equal(err.kind, MC_ENOUSER);
	/* A user may take over the required postmaster alias. */
	assert_int_equal(add_user("postmaster@example.org", &err), 0);
}

static void test_alias_loops_refused(void **state)
{
	struct mc_error err;
	(void)state;
	add_domain("example.org");
	assert_int_equal(add_user("alice@example.org", &err), 0);
	assert_int_equal(add_alias("a@example.org", "alice@example.org", NULL, &err), 0);
	assert_int_equal(add_alias("b@example.org", "a@example.org", NULL, &err), 0);
	assert_int_equal(add_alias("a@example.org", "b@example.org", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "loop"));
	assert_int_equal(add_alias("c@example.org", "c@example.org", NULL, &err), -1);
	/* catch-all to an address only the catch-all itself covers */
	assert_int_equal(add_alias("@example.org", "ghost@example.org", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "loop"));
	assert_int_equal(add_alias("@example.org", "alice@example.org", NULL, &err), 0);
	/* now ghost@ resolves through the catch-all, and forwarding to it is fine */
	assert_int_equal(add_alias("d@example.org", "ghost@example.org", NULL, &err), 0);
	assert_int_equal(add_alias("alice@example.org", "a@example.org", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is a user"));
	assert_int_equal(add_alias("x@example.org", "nobody@example.net", NULL, &err), 0);
	assert_int_equal(add_alias("y@nowhere.example", "alice@example.org", NULL, &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
}

static void test_long_chain_limited(void **state)
{
	struct mc_error err;
	char src[64], dst[64];
	(void)state;
	add_domain("example.org");
	assert_int_equal(add_user("end@example.org", &err), 0);
	snprintf(dst, sizeof(dst), "end@example.org");
	for (int i = 0; i <= ALIAS_MAX_DEPTH; i++) {
		snprintf(src, sizeof(src), "hop%d@example.org", i);
		assert_int_equal(add_alias(src, dst, NULL, &err), 0);
		snprintf(dst, sizeof(dst), "%s", src);
	}
	/* one more hop than Postfix follows is refused */
	assert_int_equal(add_alias("toolong@example.org", dst, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "deeper"));
	/* closing the chain is found at the far end */
	assert_int_equal(add_alias("hop0@example.org", dst, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "loop"));
}

static void test_required_alias_kept(void **state)
{
	struct mc_error err;
	char *archived;
	struct domain_added d;
	(void)state;
	add_domain("example.org");
	assert_int_equal(add_user("ops@example.org", &err), 0);
	assert_int_equal(domain_add(&ctx, "example.net", "ops@example.org", &d, &err), 0);
	domain_added_release(&d);
	assert_int_equal(alias_del(&ctx, "postmaster@example.net", NULL, &err), -1);
	assert_int_equal(user_del(&ctx, "ops@example.org", 0, &archived, &err), -1);
	assert_non_null(strstr(err.msg, "@example.net', which must always reach"));
	assert_int_equal(add_alias("postmaster@example.net", "boss@elsewhere.example", NULL, &err),
	                 0);
	assert_int_equal(alias_del(&ctx, "abuse@example.net", "ops@example.org", &err), -1);
	assert_int_equal(add_alias("abuse@example.net", "boss@elsewhere.example", NULL, &err), 0);
	assert_int_equal(user_del(&ctx, "ops@example.org", 0, &archived, &err), 0);
	assert_null(archived); /* no mailbox directory existed */
}

static void test_domain_del_archives(void **state)
{
	struct mc_error err;
	struct domain_row d;
	struct domain_deleted del;
	struct dkim_list keys;
	char *path;
	(void)state;
	add_domain("example.org");
	assert_int_equal(store_dkim_list(ctx.st, "example.org", &keys, &err), 0);
	assert_int_equal(keys.n, 1);
	assert_int_equal(access(keys.v[0].key_file, R_OK), 0);
	assert_int_equal(add_user("alice@example.org", &err), 0);
	assert_int_equal(domain_del(&ctx, "example.org", 0, &del, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_int_equal(access(keys.v[0].key_file, R_OK), 0); /* refused: the key stays */
	path = xasprintf("%s/example.org/alice/Maildir", cfg.mail_root);
	char *cmd = xasprintf("mkdir -p '%s' && echo hi > '%s/msg'", path, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(domain_del(&ctx, "example.org", 1, &del, &err), 0);
	assert_non_null(del.archived);
	assert_int_equal(del.dkim_keys, 1);
	assert_int_equal(access(path, F_OK), -1);
	char *kept = xasprintf("%s/alice/Maildir/msg", del.archived);
	assert_int_equal(access(kept, R_OK), 0);
	assert_int_equal(domain_show(&ctx, "example.org", &d, &err), -1);
	assert_int_equal(err.kind, MC_ENODOMAIN);
	/* keys are secrets, not mail: deleted with their domain */
	assert_int_equal(access(keys.v[0].key_file, F_OK), -1);
	dkim_list_release(&keys);
	assert_int_equal(store_dkim_list(ctx.st, NULL, &keys, &err), 0);
	assert_int_equal(keys.n, 0);
	dkim_list_release(&keys);
	free(kept);
	free(cmd);
	free(path);
	domain_deleted_release(&del);
}

static long long audit_rows(void)
{
	struct audit_list l;
	struct mc_error err;
	assert_int_equal(store_audit_list(ctx.st, 100000, &l, &err), 0);
	long long n = (long long)l.n;
	audit_list_release(&l);
	return n;
}

static void test_alias_changes_keep_targets_reachable(void **state)
{
	struct mc_error err;
	struct domain_deleted del;
	struct domain_added d;
	(void)state;
	add_domain("example.org");
	assert_int_equal(add_user("admin@example.org", &err), 0);
	assert_int_equal(add_user("alice@example.org", &err), 0);
	assert_int_equal(add_alias("a@example.org", "far@off.example", NULL, &err), 0);
	assert_int_equal(add_alias("b@example.org", "a@example.org", NULL, &err), 0);
	/* re-adding a target it already has changes nothing, not even the log */
	long long before = audit_rows();
	assert_int_equal(add_alias("b@example.org", "a@example.org", NULL, &err), 1);
	assert_int_equal(audit_rows(), before);
	/* a@ cannot go while b@ forwards to it */
	assert_int_equal(alias_del(&ctx, "a@example.org", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "alias 'b@example.org' forwards to 'a@example.org'"));
	/* a catch-all cannot go while an alias relies on it */
	assert_int_equal(add_alias("@example.org", "alice@example.org", NULL, &err), 0);
	assert_int_equal(add_alias("c@example.org", "ghost@example.org", NULL, &err), 0);
	assert_int_equal(alias_del(&ctx, "@example.org", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "'ghost@example.org'"));
	assert_int_equal(alias_del(&ctx, "c@example.org", NULL, &err), 0);
	assert_int_equal(alias_del(&ctx, "@example.org", NULL, &err), 0);
	/* a domain cannot go while another domain forwards into it */
	assert_int_equal(domain_add(&ctx, "example.net", "boss@off.example", &d, &err), 0);
	domain_added_release(&d);
	assert_int_equal(add_alias("fw@example.net", "a@example.org", NULL, &err), 0);
	assert_int_equal(domain_del(&ctx, "example.org", 1, &del, &err), -1);
	assert_non_null(
	    strstr(err.msg, "alias 'fw@example.net' forwards into domain 'example.org'"));
	assert_int_equal(alias_del(&ctx, "fw@example.net", NULL, &err), 0);
	assert_int_equal(domain_del(&ctx, "example.org", 1, &del, &err), 0);
	domain_deleted_release(&del);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, instance_setup, instance_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_domain_add_idn_and_required_aliases),
	    T(test_first_admin_user_gets_postmaster),
	    T(test_user_rules),
	    T(test_alias_loops_refused),
	    T(test_long_chain_limited),
	    T(test_required_alias_kept),
	    T(test_domain_del_archives),
	    T(test_alias_changes_keep_targets_reachable),
	};
	return run_in_tmpdir(tests);
}
