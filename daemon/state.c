/* The daemon's state and its reloads; see mailctld.h. */
#include "mailctld.h"
#include "store.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct state *current;

static void state_free(struct state *st)
{
	if (!st)
		return;
	msgauth_keys_free(st->keys);
	dnsq_cache_free(st->dns_cache);
	config_release(&st->cfg);
	free(st);
}

static int load_keys(struct state *st, struct mc_error *err)
{
	struct store *db = NULL;
	char *problems = NULL;
	if (store_open(&db, st->cfg.database, STORE_READ, err) < 0)
		return -1;
	int rc = msgauth_keys_load(db, &st->keys, &problems, err);
	store_close(db);
	if (problems) {
		/* One line each: a key that cannot sign is logged, the rest work. */
		for (char *line = strtok(problems, "\n"); line; line = strtok(NULL, "\n"))
			log_msg(LOG_ERR, "%s", line);
		free(problems);
	}
	return rc;
}

struct state *state_load(const char *config_path, struct mc_error *err)
{
	struct state *st = xcalloc(1, sizeof(*st));
	if (config_load(&st->cfg, config_path, 0, err) < 0) {
		state_free(st);
		return NULL;
	}
	snprintf(st->hostname, sizeof(st->hostname), "%s", st->cfg.hostname);
	if (!st->hostname[0] && gethostname(st->hostname, sizeof(st->hostname)) < 0)
		snprintf(st->hostname, sizeof(st->hostname), "localhost");
	st->policy = (struct msgauth_policy){.authserv_id = st->hostname,
	                                     .dmarc_reject = st->cfg.milter_dmarc_reject,
	                                     .dmarc_quarantine = st->cfg.milter_dmarc_quarantine};
	memset(&st->resolver, 0, sizeof(st->resolver));
	if (dnsq_server_choose(st->cfg.dns_resolver, &st->resolver, err) < 0 ||
	    load_keys(st, err) < 0) {
		state_free(st);
		return NULL;
	}
	st->dns_cache = dnsq_cache_new(0, 0);
	return st;
}

void state_install(struct state *st)
{
	pthread_mutex_lock(&lock);
	struct state *old = current;
	current = st;
	st->refs++;
	int unused = old && --old->refs == 0;
	pthread_mutex_unlock(&lock);
	if (unused)
		state_free(old);
}

struct state *state_acquire(void)
{
	pthread_mutex_lock(&lock);
	struct state *st = current;
	st->refs++;
	pthread_mutex_unlock(&lock);
	return st;
}

void state_release(struct state *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&lock);
	int unused = --st->refs == 0;
	pthread_mutex_unlock(&lock);
	if (unused)
		state_free(st);
}
