/*
 * maillog - reading the mail log (paths.mail_log): its last lines, then
 * the lines added since, across log rotation; the Postfix queue id of a
 * line; and the lines about an address or a message, with the whole story
 * of every message they touch.
 *
 * maillog_open() reads at most the last 'tail' bytes (the first line, cut
 * by that limit, is dropped). maillog_poll() returns the lines added
 * since, complete lines only (a line still being written waits for its
 * end); when the file at the path is another one (rotated: a new inode)
 * or shorter than what was read (truncated), reading starts over at its
 * beginning and '*restarted' says so. A log that is missing is retried on
 * every poll.
 *
 * maillog_trace() keeps a line when it contains the text (ASCII case
 * ignored), or when its queue id is one a kept line carries, or one such
 * a message was handed on as ("queued as ID": relayed, or forwarded
 * through an alias to a local delivery), so searching an address shows
 * every step of its messages and searching a queue id shows that message.
 *
 * Lines are owned by the caller (maillog_lines_release()). Errors: MC_EIO
 * naming the file.
 */
#ifndef MAILCTL_MAILLOG_H
#define MAILCTL_MAILLOG_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "strbuf.h"

struct maillog_lines {
	char **v;
	size_t n, alloc;
};

struct maillog {
	char *path;
	int fd; /* -1: not open */
	dev_t dev;
	ino_t ino;
	off_t off;          /* read up to here */
	struct strbuf part; /* a line without its end yet */
	size_t max_read;    /* per poll, so a flood is read over several */
	size_t tail;        /* how much of the file the first open reads */
	int opened;         /* it was open once: later opens read it all */
};

/* Open 'path' and append its last lines (at most 'tail' bytes) to 'out'.
 * On failure 'm' is still set up: maillog_poll() tries again. */
int maillog_open(struct maillog *m, const char *path, size_t tail, struct maillog_lines *out,
                 struct mc_error *err);
/* Append the lines added since; returns how many, or -1 (the file cannot
 * be opened or read). */
int maillog_poll(struct maillog *m, struct maillog_lines *out, int *restarted,
                 struct mc_error *err);
void maillog_close(struct maillog *m);

void maillog_lines_release(struct maillog_lines *l);

/* The queue id of a Postfix log line ("... postfix/qmgr[12]: 4F2A1C0123:
 * from=<...>"), short (hex) or long form, into 'id'; 0 when the line has
 * none (NOQUEUE, warnings, connects). */
int maillog_queue_id(const char *line, char id[32]);

/* Set keep[i] to 1 for the lines about 'needle' (see above), 0 for the
 * rest; an empty needle keeps every line. */
void maillog_trace(const char *const *lines, size_t n, const char *needle, unsigned char *keep);

#endif
