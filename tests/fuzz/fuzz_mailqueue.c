/*
 * fuzz_mailqueue - libFuzzer harness for lib/mailqueue.c.
 *
 * The input is 'postqueue -j' output: senders, recipients and delay
 * reasons in it come from other mail servers. Checks what the header
 * promises: every message has a valid queue id (never one a tool would
 * take for an option or for 'ALL'), recipients have addresses, messages
 * plus skipped objects are no more than the lines, notes are no longer
 * than the input, and mailqueue_find() finds each message by its id.
 */
#include "mailqueue.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailqueue q;
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	mailqueue_parse((const char *)data, size, &q);
	check(q.n + q.skipped <= lines);
	check(q.notes && strlen(q.notes) <= size);
	for (size_t i = 0; i < q.n; i++) {
		const struct mailqueue_msg *m = &q.v[i];
		check(mailqueue_id_valid(m->id) && m->id[0] != '-' && strcmp(m->id, "ALL"));
		check(m->queue && m->sender);
		check(mailqueue_find(&q, m->id) && !strcmp(mailqueue_find(&q, m->id)->id, m->id));
		for (size_t r = 0; r < m->nrcpt; r++)
			check(m->rcpt[r].address && m->rcpt[r].reason);
	}
	mailqueue_release(&q);
	check(!q.v && !q.n);
	return 0;
}
