/* Unit tests for lib/maillog.c: the tail of a log file, new lines as they
 * come (whole lines only), rotation and truncation, a log that appears
 * later; queue ids of Postfix lines; the trace of an address or message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maillog.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_maillog.XXXXXX";
static char path[256];

static void append(const char *text)
{
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_tail_and_follow(void **state)
{
	struct maillog m;
	struct maillog_lines l = {0};
	struct mc_error err;
	int restarted;
	(void)state;
	unlink(path);
	append("first line, cut by the tail limit\nsecond\nthird\n");
	/* 10 bytes end inside "second": that line is dropped as well. */
	assert_int_equal(maillog_open(&m, path, 10, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "third");
	maillog_lines_release(&l);

	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 0);
	append("fourth\nfif");
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 1);
	assert_false(restarted);
	assert_string_equal(l.v[0], "fourth");
	append("th\r\n");
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 1);
	assert_string_equal(l.v[1], "fifth");
	maillog_lines_release(&l);
	maillog_close(&m);

	/* A cut right after a line end keeps that whole next line. */
	assert_int_equal(maillog_open(&m, path, 14, &l, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "fourth");
	maillog_lines_release(&l);
	maillog_close(&m);
}

static void test_rotation(void **state)
{
	struct maillog m;
	struct maillog_lines l = {0};
	struct mc_error err;
	char old[300];
	int restarted;
	(void)state;
	unlink(path);
	append("a\n");
	assert_int_equal(maillog_open(&m, path, 4096, &l, &err), 0);
	assert_int_equal(l.n, 1);
	/* written just before the rotation, then moved away */
	append("b\n");
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 1);
	assert_string_equal(l.v[1], "b");
	append("c\nd\n");
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 2);
	assert_true(restarted);
	assert_string_equal(l.v[2], "c");
	assert_string_equal(l.v[3], "d");

	/* truncated in place */
	assert_int_equal(truncate(path, 0), 0);
	append("e\n");
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 1);
	assert_true(restarted);
	assert_string_equal(l.v[4], "e");
	maillog_lines_release(&l);
	maillog_close(&m);
	unlink(old);
}

static void test_missing_then_there(void **state)
{
	struct maillog m;
	struct maillog_lines l = {0};
	struct mc_error err;
	int restarted;
	(void)state;
	unlink(path);
	assert_int_equal(maillog_open(&m, path, 6, &l, &err), -1);
	assert_int_equal(err.kind, MC_EIO);
	assert_non_null(strstr(err.msg, "cannot open '"));
	assert_non_null(strstr(err.msg, "mail.log': no such file or directory"));
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), -1);
	/* the first open reads the tail only, however late it comes */
	append("older line\nnew\n");
	assert_int_equal(maillog_poll(&m, &l, &restarted, &err), 1);
	assert_false(restarted);
	assert_string_equal(l.v[0], "new");
	maillog_lines_release(&l);
	maillog_close(&m);
}

/* A flood is read a slice per poll, nothing lost. */
static void test_flood(void **state)
{
	struct maillog m;
	struct maillog_lines l = {0};
	struct mc_error err;
	int restarted, total = 0, polls = 0;
	(void)state;
	unlink(path);
	append("");
	assert_int_equal(maillog_open(&m, path, 100, &l, &err), 0);
	FILE *fp = fopen(path, "a");
	for (int i = 0; i < 50000; i++)
		fprintf(fp, "line %05d of a log that grows faster than it is read\n", i);
	fclose(fp);
	m.max_read = 1 << 20;
	for (int k; (k = maillog_poll(&m, &l, &restarted, &err)) > 0; polls++)
		total += k;
	assert_int_equal(total, 50000);
	assert_true(polls >= 2);
	assert_string_equal(l.v[49999], "line 49999 of a log that grows faster than it is read");
	maillog_lines_release(&l);
	maillog_close(&m);
}

static void test_queue_id(void **state)
{
	char id[32];
	(void)state;
	assert_true(maillog_queue_id("Nov 23 05:07:19 mail postfix/qmgr[812]: 4F2A1C0123: "
	                             "from=<alice@example.org>, size=2817, nrcpt=1 (queue active)",
	                             id));
	assert_string_equal(id, "4F2A1C0123");
	assert_true(
	    maillog_queue_id("2026-11-23T05:07:19.1+00:00 mail postfix/submission/smtpd[9]: "
	                     "4XbLpF3dBNz1Ys6: client=unknown[192.0.2.7]",
	                     id));
	assert_string_equal(id, "4XbLpF3dBNz1Ys6");
	/* the time part of a long id may hold a 'z'; the inode part follows the last */
	assert_true(maillog_queue_id("x postfix/smtp[1]: 4Xbzp3dBNFz1Ys6: to=<a@b>", id));
	assert_string_equal(id, "4Xbzp3dBNFz1Ys6");
	assert_false(maillog_queue_id("x postfix/smtpd[1]: NOQUEUE: reject: RCPT from x", id));
	assert_false(
	    maillog_queue_id("x postfix/smtpd[1]: warning: hostname x does not resolve", id));
	assert_false(maillog_queue_id("x postfix/anvil[1]: statistics: max connection rate", id));
	assert_false(maillog_queue_id("x postfix/smtpd[1]: connect from unknown[192.0.2.7]", id));
	assert_false(maillog_queue_id("x postfix/smtpd[1]: DEAD: short", id));
	assert_false(maillog_queue_id("no bracket at all: 4F2A1C0123: x", id));
	assert_false(maillog_queue_id("x dovecot[7]: lmtp(alice@example.org): saved", id));
	assert_false(maillog_queue_id("x postfix/smtp[1]: 4F2A1C0123 to=<a@b>", id));
}

static const char *const story[] = {
    /* 0 */ "postfix/smtpd[10]: 4F2A1C0123: client=unknown[192.0.2.7]",
    /* 1 */ "postfix/cleanup[11]: 4F2A1C0123: message-id=<1@example.net>",
    /* 2 */ "postfix/qmgr[12]: 4F2A1C0123: from=<ext@example.net>, size=900, nrcpt=1",
    /* 3 */ "postfix/smtpd[10]: NOQUEUE: reject: RCPT from x: 554 <Alice@Example.org>: denied",
    /* 4 */ "postfix/qmgr[12]: 5A0B1C2D3E: from=<bob@example.org>, size=100, nrcpt=1",
    /* 5 */
    ("postfix/lmtp[13]: 4F2A1C0123: to=<alice@example.org>, status=sent (250 2.0.0 "
     "Ok: queued as 4XbLpF3dBNz1Ys6)"),
    /* 6 */ "postfix/qmgr[12]: 4XbLpF3dBNz1Ys6: from=<>, size=1200, nrcpt=1",
    /* 7 */ "postfix/smtp[14]: 4XbLpF3dBNz1Ys6: to=<far@example.com>, status=deferred",
    /* 8 */ "postfix/smtp[14]: 5A0B1C2D3E: to=<carol@example.com>, status=sent",
    /* 9 */ "postfix/qmgr[12]: 4F2A1C0123: removed",
};
#define NSTORY (sizeof(story) / sizeof(story[0]))

static void expect_kept(const char *needle, const char *want)
{
	unsigned char keep[NSTORY];
	char got[NSTORY + 1];
	maillog_trace(story, NSTORY, needle, keep);
	for (size_t i = 0; i < NSTORY; i++)
		got[i] = keep[i] ? 'x' : '.';
	got[NSTORY] = '\0';
	if (strcmp(got, want))
		fail_msg("trace '%s': kept %s, want %s", needle, got, want);
}

static void test_trace(void **state)
{
	(void)state;
	/* the address: its reject, its message (any case), and what that
	 * message was handed on as */
	expect_kept("alice@example.org", "xxxx.xxx.x");
	/* a queue id: that message, and its successor */
	expect_kept("4F2A1C0123", "xxx..xxx.x");
	/* the successor's id: named in its parent's line, so the parent too */
	expect_kept("4XbLpF3dBNz1Ys6", "xxx..xxx.x");
	expect_kept("carol@", "....x...x.");
	expect_kept("", "xxxxxxxxxx");
	expect_kept("nobody@nowhere", "..........");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tail_and_follow),    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_missing_then_there), cmocka_unit_test(test_flood),
	    cmocka_unit_test(test_queue_id),           cmocka_unit_test(test_trace),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
