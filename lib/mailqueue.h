/*
 * mailqueue - Postfix's mail queue: list it, show one message, retry
 * delivery, delete a message.
 *
 * Everything goes through Postfix's own tools (lib/run.h), each given
 * '-c paths.postfix_dir': 'postqueue -j' lists, 'postcat -q ID' shows,
 * 'postqueue -i ID' (or -f, the whole queue) asks the queue manager to
 * retry now, 'postsuper -d ID' deletes. Nothing here reads or writes the
 * queue files itself.
 *
 * mailqueue_parse() reads 'postqueue -j' output: one JSON object per line
 * (Postfix 3.1 and later). Lines that are not JSON objects (the tool's
 * warnings: its standard error is captured too) are kept in 'notes'; an
 * object without a valid queue_id is skipped and counted. The tools'
 * output is read up to 64 KiB (run.h): 'truncated' says a longer listing
 * was cut, so the list holds the first messages only.
 *
 * Queue ids are checked before they reach a tool (mailqueue_id_valid()):
 * letters and digits only, so an id is never an option, '-' (standard
 * input) or postsuper's 'ALL'.
 *
 * Lists own their strings: mailqueue_release(). Errors: MC_EUSAGE for an
 * invalid queue id; MC_EUNAVAIL when a tool cannot run or fails, with its
 * first line of output ("postqueue: fatal: ..."); MC_ENOUSER when
 * postsuper deleted nothing (no such message, or already delivered).
 */
#ifndef MAILCTL_MAILQUEUE_H
#define MAILCTL_MAILQUEUE_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "strbuf.h"

struct mailqueue_rcpt {
	char *address;
	char *reason; /* why delivery was deferred, or "" */
};

struct mailqueue_msg {
	char *id;
	char *queue; /* "maildrop", "incoming", "active", "deferred", "hold", ... */
	time_t arrival;
	long long size; /* bytes; -1 unknown */
	char *sender;   /* "" for the null sender (bounces) */
	int forced_expire;
	struct mailqueue_rcpt *rcpt;
	size_t nrcpt;
};

struct mailqueue {
	struct mailqueue_msg *v;
	size_t n, alloc;
	size_t skipped; /* JSON objects that were not messages */
	char *notes;    /* lines that were not JSON, joined with '\n'; "" when none */
	int truncated;  /* the output was cut: more messages than listed */
};

/* 1 when 'id' may be passed to postcat, postqueue and postsuper. */
int mailqueue_id_valid(const char *id);

/* Parse 'len' bytes of 'postqueue -j' output into 'q' (initialised here;
 * release it). Never fails: what cannot be read is skipped or a note. */
void mailqueue_parse(const char *text, size_t len, struct mailqueue *q);

/* 'postqueue -j': the messages in the queue. */
int mailqueue_list(const struct config *cfg, struct mailqueue *q, struct mc_error *err);

/* 'postcat -q ID': envelope, headers and body, appended to 'out' (cut at
 * 64 KiB; '*truncated' says so, may be NULL). */
int mailqueue_show(const struct config *cfg, const char *id, struct strbuf *out, int *truncated,
                   struct mc_error *err);

/* 'postqueue -i ID', or 'postqueue -f' when 'id' is NULL: deliver now.
 * Needs the mail system to run. */
int mailqueue_flush(const struct config *cfg, const char *id, struct mc_error *err);

/* 'postsuper -d ID': the message is gone for good. Needs root. */
int mailqueue_delete(const struct config *cfg, const char *id, struct mc_error *err);

void mailqueue_release(struct mailqueue *q);

/* The first message of 'q' with 'id', or NULL. */
const struct mailqueue_msg *mailqueue_find(const struct mailqueue *q, const char *id);

#endif
