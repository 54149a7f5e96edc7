/*
 * mailctld - shared state of the daemon's threads.
 *
 * The state (configuration, policy, resolver and signing keys) is built
 * whole by state_load() and swapped in by state_install(); each message
 * holds a reference from MAIL FROM to its end, so a reload never changes
 * what a message in flight sees, and the old state is freed when the
 * last such message ends. Each state has its own DNS answer cache (for
 * its resolver), so a reload starts with an empty one.
 */
#ifndef MAILCTLD_H
#define MAILCTLD_H

#include "config.h"
#include "dnsq.h"
#include "msgauth.h"

struct state {
	struct config cfg;
	struct msgauth_policy policy;
	struct msgauth_keys *keys;
	struct dnsq_server resolver;
	struct dnsq_cache *dns_cache; /* shared by every message of this state */
	char hostname[256];
	int refs; /* under the state lock */
};

/* Load the configuration at 'config_path' and the keys of its database. */
struct state *state_load(const char *config_path, struct mc_error *err);
/* Make 'st' the current state (the old one goes when unused). */
void state_install(struct state *st);
/* The current state with a reference taken, and giving it back. */
struct state *state_acquire(void);
void state_release(struct state *st);

/* Logging: syslog (LOG_MAIL, "mailctld"), stderr in the foreground, and
 * the -l file. LOG_DEBUG lines go to syslog only. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Register the milter callbacks with libmilter. */
int milter_register(void);

#endif
