/*
 * job - one long operation (a DNS or blocklist check, service status, a
 * queue tool, a certificate request) run on its own thread so the screen
 * keeps answering keys.
 *
 * The job's function sees only the data handed to it, never a store the
 * main thread uses: a job that needs the database is handed a connection
 * of its own (the status checks, a certificate request). It may report
 * progress with job_progress(); the screen polls job_done() from its
 * tick() and then calls job_finish(), which joins the thread. A job is
 * started again only once finished.
 */
#ifndef MAILTUI_JOB_H
#define MAILTUI_JOB_H

#include <pthread.h>
#include <stdatomic.h>

#include "error.h"

struct job {
	pthread_t thread;
	pthread_mutex_t lock;
	int (*fn)(struct job *j);
	void *arg;
	atomic_int done;
	int running; /* started and not yet finished (main thread only) */
	int rc;
	struct mc_error err;
	char progress[256];
};

void job_init(struct job *j);
/* Run 'fn' on a new thread; -1 when it is still running or cannot start. */
int job_start(struct job *j, int (*fn)(struct job *j), void *arg);
/* 1 when the function has returned (the thread may still be exiting). */
int job_done(struct job *j);
/* Join; returns the function's result (its error in j->err). */
int job_finish(struct job *j);
/* From the job: what it is doing now, for the status line. */
void job_progress(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy the progress text into 'buf'. */
void job_progress_get(struct job *j, char *buf, size_t size);
/* Wait for a running job and free the lock. */
void job_release(struct job *j);

#endif
