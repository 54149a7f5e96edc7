/* Unit tests for lib/mailqueue.c: 'postqueue -j' output as Postfix 3.7
 * prints it (canned), queue ids, and the tools' failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mailqueue.h"

/* What 'postqueue -j' printed for a queue with a deferred message (two
 * recipients, one of them with a reason), a bounce (null sender) on hold,
 * a message just dropped in, and the warning Postfix adds on standard
 * error when the mail system is down. */
static const char canned[] =
    "{\"queue_name\": \"deferred\", \"queue_id\": \"4F2A1C0123\", \"arrival_time\": 1700000000, "
    "\"message_size\": 2817, \"forced_expire\": false, \"sender\": \"alice@example.org\", "
    "\"recipients\": [{\"address\": \"bob@example.net\", \"delay_reason\": \"connect to "
    "mx.example.net[192.0.2.25]:25: Connection timed out\"}, {\"address\": "
    "\"carol@example.net\"}]}\n"
    "{\"queue_name\": \"hold\", \"queue_id\": \"4XbLpF3dBNz1Ys6\", \"arrival_time\": 1700000100, "
    "\"message_size\": 900, \"forced_expire\": true, \"sender\": \"\", \"recipients\": "
    "[{\"address\": \"j\\u00fcrgen@b\\u00fccher.example\", \"delay_reason\": \"host "
    "mx.b\\u00fccher.example said: 452 4.2.2 \\\"mailbox full\\\"\"}]}\n"
    "postqueue: warning: Mail system is down -- accessing queue directly\n"
    "{\"queue_name\": \"maildrop\", \"queue_id\": \"8C007A823B3\", \"arrival_time\": "
    "1700000200, \"message_size\": 111, \"sender\": \"root@mail.example.org\", \"recipients\": "
    "[{\"address\": \"dave@example.com\"}]}\n";

static void test_parse(void **state)
{
	struct mailqueue q;
	(void)state;
	mailqueue_parse(canned, strlen(canned), &q);
	assert_int_equal(q.n, 3);
	assert_int_equal(q.skipped, 0);
	assert_false(q.truncated);
	assert_string_equal(q.notes, "postqueue: warning: Mail system is down -- accessing queue "
	                             "directly");

	const struct mailqueue_msg *m = &q.v[0];
	assert_string_equal(m->id, "4F2A1C0123");
	assert_string_equal(m->queue, "deferred");
	assert_int_equal(m->arrival, 1700000000);
	assert_int_equal(m->size, 2817);
	assert_false(m->forced_expire);
	assert_string_equal(m->sender, "alice@example.org");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt[0].address, "bob@example.net");
	assert_string_equal(m->rcpt[0].reason,
	                    "connect to mx.example.net[192.0.2.25]:25: Connection timed out");
	assert_string_equal(m->rcpt[1].address, "carol@example.net");
	assert_string_equal(m->rcpt[1].reason, "");

	m = &q.v[1];
	assert_string_equal(m->id, "4XbLpF3dBNz1Ys6");
	assert_string_equal(m->queue, "hold");
	assert_true(m->forced_expire);
	assert_string_equal(m->sender, "");
	assert_string_equal(m->rcpt[0].address, "jürgen@bücher.example");
	assert_string_equal(m->rcpt[0].reason,
	                    "host mx.bücher.example said: 452 4.2.2 \"mailbox full\"");

	m = &q.v[2];
	assert_string_equal(m->queue, "maildrop");
	assert_string_equal(m->rcpt[0].address, "dave@example.com");
	assert_ptr_equal(mailqueue_find(&q, "8C007A823B3"), m);
	assert_null(mailqueue_find(&q, "8C007A823B"));
	mailqueue_release(&q);
	assert_null(q.v);
}

static void test_parse_empty(void **state)
{
	struct mailqueue q;
	(void)state;
	mailqueue_parse("", 0, &q);
	assert_int_equal(q.n, 0);
	assert_string_equal(q.notes, "");
	mailqueue_release(&q);
	mailqueue_parse("\n\n", 2, &q);
	assert_int_equal(q.n, 0);
	assert_string_equal(q.notes, "");
	mailqueue_release(&q);
}

/* Objects that are no usable message are skipped; a line cut short (the
 * 64 KiB limit) and JSON that is not an object are notes, not messages. */
static void test_parse_bad(void **state)
{
	static const char text[] =
	    "{\"queue_name\": \"active\", \"queue_id\": \"ALL\", \"recipients\": []}\n"
	    "{\"queue_name\": \"active\", \"queue_id\": \"-d\"}\n"
	    "{\"queue_name\": \"active\", \"queue_id\": \"../../etc\"}\n"
	    "{\"queue_name\": \"active\", \"queue_id\": 12345}\n"
	    "{\"queue_name\": \"active\"}\n"
	    "{\"queue_id\": \"AB12\", \"queue_id\": \"CD34\"}\n"
	    "[\"queue_id\", \"AB12\"]\n"
	    "{\"queue_name\": \"active\", \"queue_id\": \"ABCDEF123\", \"arrival_time\": \"soon\", "
	    "\"message_size\": -5, \"sender\": 7, \"recipients\": [{\"address\": 1}, "
	    "{\"delay_reason\": \"x\"}, 3, {\"address\": \"ok@example.org\"}]}\r\n"
	    "{\"queue_name\": \"deferred\", \"queue_id\": \"1234567890\", \"sender\": \"a@b";
	struct mailqueue q;
	(void)state;
	mailqueue_parse(text, strlen(text), &q);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.skipped, 5);
	const struct mailqueue_msg *m = &q.v[0];
	assert_string_equal(m->id, "ABCDEF123");
	assert_int_equal(m->arrival, 0);
	assert_int_equal(m->size, -5);
	assert_string_equal(m->sender, "");
	assert_int_equal(m->nrcpt, 1);
	assert_string_equal(m->rcpt[0].address, "ok@example.org");
	/* the array, the duplicate key and the cut line */
	assert_non_null(strstr(q.notes, "[\"queue_id\""));
	assert_non_null(strstr(q.notes, "\"CD34\"}"));
	assert_non_null(strstr(q.notes, "\"sender\": \"a@b"));
	mailqueue_release(&q);
}

/* Bytes that are not text at all, and a NUL inside a line. */
static void test_parse_binary(void **state)
{
	static const char text[] = "\xff\xfe{\x01\n{\"queue_id\": \"AB\\u0000CD\"}\n{\0}\n";
	struct mailqueue q;
	(void)state;
	mailqueue_parse(text, sizeof(text) - 1, &q);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.skipped, 0); /* jansson refuses \u0000 */
	assert_memory_equal(q.notes, "\xff\xfe{\x01\n{\"queue_id\"", 16);
	mailqueue_release(&q);
}

static void test_id_valid(void **state)
{
	(void)state;
	assert_true(mailqueue_id_valid("4F2A1C0123"));
	assert_true(mailqueue_id_valid("4XbLpF3dBNz1Ys6"));
	assert_false(mailqueue_id_valid(""));
	assert_false(mailqueue_id_valid("ALL"));
	assert_false(mailqueue_id_valid("-"));
	assert_false(mailqueue_id_valid("-d"));
	assert_false(mailqueue_id_valid("4F2A 1C0123"));
	assert_false(mailqueue_id_valid("4F2A1C0123*"));
	assert_false(mailqueue_id_valid("../deferred/4F2A1C0123"));
	assert_false(mailqueue_id_valid("123456789012345678901234567890123"));
	assert_true(mailqueue_id_valid("12345678901234567890123456789012"));
}

/* A queue id is checked before any tool runs. */
static void test_bad_id_refused(void **state)
{
	struct config cfg = {0};
	struct mc_error err;
	struct strbuf out = STRBUF_INIT;
	(void)state;
	cfg.postfix_dir = "/nonexistent";
	assert_int_equal(mailqueue_delete(&cfg, "ALL", &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_string_equal(err.msg, "invalid queue id 'ALL'");
	assert_int_equal(mailqueue_flush(&cfg, "-f", &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_int_equal(mailqueue_show(&cfg, "a b", &out, NULL, &err), -1);
	assert_int_equal(err.kind, MC_EUSAGE);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

/* The real tools, given a configuration directory that does not exist:
 * their own words, after what could not be done. */
static void test_tool_errors(void **state)
{
	struct config cfg = {0};
	struct mailqueue q;
	struct mc_error err;
	(void)state;
	cfg.postfix_dir = "/nonexistent/postfix";
	assert_int_equal(mailqueue_list(&cfg, &q, &err), -1);
	assert_int_equal(err.kind, MC_EUNAVAIL);
	assert_non_null(strstr(err.msg, "cannot read the queue: postqueue: fatal: "));
	assert_non_null(strstr(err.msg, "/nonexistent/postfix"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(mailqueue_delete(&cfg, "4F2A1C0123", &err), -1);
	assert_int_equal(err.kind, MC_EUNAVAIL);
	assert_non_null(strstr(err.msg, "cannot delete queued message '4F2A1C0123': postsuper: "));
	assert_int_equal(mailqueue_flush(&cfg, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot flush the queue: postqueue: fatal: "));
	mailqueue_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),       cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_parse_bad),   cmocka_unit_test(test_parse_binary),
	    cmocka_unit_test(test_id_valid),    cmocka_unit_test(test_bad_id_refused),
	    cmocka_unit_test(test_tool_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
