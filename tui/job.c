/* Background operations for the screens; see job.h. */
#include "job.h"
#include "tui.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->lock, NULL);
	atomic_init(&j->done, 0);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	j->rc = j->fn(j);
	atomic_store(&j->done, 1);
	tui_wake();
	return NULL;
}

int job_start(struct job *j, int (*fn)(struct job *j), void *arg)
{
	if (j->running)
		return -1;
	j->fn = fn;
	j->arg = arg;
	j->rc = 0;
	mc_error_clear(&j->err);
	j->progress[0] = '\0';
	atomic_store(&j->done, 0);
	if (pthread_create(&j->thread, NULL, job_main, j) != 0)
		return -1;
	j->running = 1;
	return 0;
}

int job_done(struct job *j)
{
	return j->running && atomic_load(&j->done);
}

int job_finish(struct job *j)
{
	if (!j->running)
		return j->rc;
	pthread_join(j->thread, NULL);
	j->running = 0;
	return j->rc;
}

void job_progress(struct job *j, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&j->lock);
	va_start(ap, fmt);
	vsnprintf(j->progress, sizeof(j->progress), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&j->lock);
	tui_wake();
}

void job_progress_get(struct job *j, char *buf, size_t size)
{
	pthread_mutex_lock(&j->lock);
	snprintf(buf, size, "%s", j->progress);
	pthread_mutex_unlock(&j->lock);
}

void job_release(struct job *j)
{
	job_finish(j);
	pthread_mutex_destroy(&j->lock);
}
