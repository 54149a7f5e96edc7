/*
 * setup - turn an empty machine (or a temporary directory) into a
 * configured mail server: configuration file, database, TLS certificate,
 * the first domain, its admin user, and the rendered Postfix/Dovecot
 * configuration (apply.h).
 *
 * setup_resolve() validates every input before anything is written and
 * fills the gaps: no host name means this machine's; a name that is not a
 * public, fully-qualified one means a local demo (mail.example.test for
 * example.test). Each later step checks before it changes anything and
 * appends one line per change to the report, so a second run reports no
 * change. The admin user's generated password is returned once, in the
 * report, and stored only as a hash. Strings are owned by their struct.
 */
#ifndef MAILCTL_SETUP_H
#define MAILCTL_SETUP_H

#include <stddef.h>

#include "account.h"
#include "config.h"
#include "error.h"
#include "strbuf.h"

struct setup_request {
	const char *hostname; /* NULL = the config's, else this machine's */
	const char *domain;   /* NULL = from the host name */
	const char *admin;    /* NULL = admin@DOMAIN */
};

struct setup_plan {
	char *hostname;  /* normalised */
	char *domain;    /* normalised */
	char *admin;     /* normalised */
	int demo;        /* the machine has no public name: a local demo */
	int admin_local; /* the admin address is in 'domain': it gets a mailbox */
	int derived;     /* 'domain' was not given: a database that already has a
	                    domain keeps it, and no domain or admin is added */
};

/* Validate 'req' against 'cfg' (the existing configuration, or defaults)
 * and fill 'out'. MC_EUSAGE for bad input, MC_EDATA when it contradicts
 * the existing configuration. */
int setup_resolve(const struct config *cfg, const struct setup_request *req, struct setup_plan *out,
                  struct mc_error *err);
void setup_plan_release(struct setup_plan *p);

struct setup_report {
	struct strbuf log; /* one line per change, "\n"-terminated */
	size_t changes;
	char *password; /* the admin user's generated password, or NULL */
};

void setup_report_init(struct setup_report *r);
void setup_report_release(struct setup_report *r);

/* Write the configuration file at 'path' if it does not exist; in one that
 * exists, add 'hostname' and 'admin_address' when they are missing, and
 * change nothing else. */
int setup_config(const char *path, const struct config *cfg, const struct setup_plan *p,
                 struct setup_report *r, struct mc_error *err);

/* Everything after the configuration: 'ctx->cfg' is the loaded file;
 * 'ctx->st' must be NULL and is opened (and left open) here. With a
 * derived domain and a database that has domains, 'p->domain' becomes the
 * first of them and nothing is added. */
int setup_run(struct mc_ctx *ctx, struct setup_plan *p, struct setup_report *r,
              struct mc_error *err);

#endif
