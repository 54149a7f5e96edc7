/* Certificates from an ACME CA: request, renew, install (see cert.h). */
#include "cert.h"
#include "acme.h"
#include "address.h"
#include "cert_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Renewal pauses after failures: 1 h, doubled per failure, up to a day. */
#define BACKOFF_FIRST_S 3600L
#define BACKOFF_MAX_S   86400L
#define ACCOUNT_KEY     "acme-account.pem"

static const char *const action_names[] = {
    [CERT_ISSUED] = "issued",   [CERT_UNVERIFIED] = "unverified", [CERT_NOT_DUE] = "not-due",
    [CERT_WAITING] = "waiting", [CERT_NO_CA] = "no-ca",           [CERT_FAILED] = "failed",
};
static const char *const state_names[] = {
    [CERT_PORT_NEW] = "new",       [CERT_PORT_OLD] = "old",     [CERT_PORT_OTHER] = "other",
    [CERT_PORT_CLOSED] = "closed", [CERT_PORT_ERROR] = "error",
};

const char *cert_action_name(enum cert_action a)
{
	return action_names[a];
}

const char *cert_port_state_name(enum cert_port_state s)
{
	return state_names[s];
}

/* ---- names ---- */

void cert_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Append 'name' (taken over) unless it is there already. */
static void names_add(char ***v, size_t *n, char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name)) {
			free(name);
			return;
		}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = name;
}

int cert_default_names(struct mc_ctx *ctx, char ***names, size_t *n, struct mc_error *err)
{
	struct domain_list l;
	*names = NULL;
	*n = 0;
	if (!ctx->cfg->hostname || !*ctx->cfg->hostname)
		return mc_fail(err, MC_ECONFIG,
		               "no 'hostname' in the configuration: run 'mailctl setup' or set it");
	if (store_domain_list(ctx->st, &l, err) < 0)
		return -1;
	names_add(names, n, xstrdup(ctx->cfg->hostname));
	for (size_t i = 0; i < l.n; i++) {
		names_add(names, n, xasprintf("mta-sts.%s", l.v[i].name));
		names_add(names, n, xasprintf("autoconfig.%s", l.v[i].name));
	}
	domain_list_release(&l);
	return 0;
}

int cert_names_parse(const char *list, char ***names, size_t *n, struct mc_error *err)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	struct mc_error e;
	int rc = 0;
	*names = NULL;
	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); rc == 0 && tok; tok = strtok_r(NULL, ", ", &save)) {
		char *norm = NULL;
		if (tok[0] == '*')
			rc = mc_fail(
			    err, MC_EUSAGE,
			    "invalid name '%s': wildcards need DNS-01, this client does HTTP-01",
			    tok);
		else if (addr_domain_normalize(tok, &norm, &e) < 0)
			rc = mc_fail(err, MC_EUSAGE, "%s", e.msg);
		else
			names_add(names, n, norm);
	}
	free(copy);
	if (rc == 0 && *n == 0)
		rc = mc_fail(err, MC_EUSAGE, "no names given");
	if (rc < 0) {
		cert_names_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

static char *names_join(char *const *names, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", names[i]);
	return strbuf_detach(&sb);
}

/* ---- files ---- */

/* Exclusive lock beside the database: one request at a time. */
static int lock_take(const struct config *cfg, struct mc_error *err)
{
	char *db = xstrdup(cfg->database), *path = xasprintf("%s/cert.lock", dirname(db));
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		mc_fail(err, MC_EIO, "cannot open '%s': %s", path, mc_strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		mc_fail(err, MC_ETEMP, "another certificate request is under way (lock '%s')",
		        path);
		close(fd);
		fd = -1;
	}
	free(db);
	free(path);
	return fd;
}

/* The directory holding 'path' exists (made with 'mode' when missing). */
static int parent_dir(const char *path, mode_t mode, struct mc_error *err)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	int rc = 0;
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		rc = mc_fail(err, MC_EIO, "cannot create '%s': %s", dir, mc_strerror(errno));
	free(copy);
	return rc;
}

/* Write the chain to tls.cert_file through a rename, mode 0644. With
 * 'next_key' (a rollover) that key is moved to 'key_file' between the
 * write and the rename, so a failed write leaves the old pair in place. */
static int install(const char *path, const char *chain, const char *next_key, const char *key_file,
                   struct mc_error *err)
{
	if (parent_dir(path, 0755, err) < 0)
		return -1;
	char *tmp = xasprintf("%s.mailctl-new", path);
	const char *failed = path;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t len = strlen(chain);
	int ok = fd >= 0 && write(fd, chain, len) == (ssize_t)len && fchmod(fd, 0644) == 0 &&
	         fsync(fd) == 0;
	int saved = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && next_key && rename(next_key, key_file) < 0) {
		ok = 0;
		saved = errno;
		failed = key_file;
	}
	if (ok && rename(tmp, path) < 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : mc_fail(err, MC_EIO, "cannot write '%s': %s", failed, mc_strerror(saved));
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- the ACME part ---- */

struct job {
	struct mc_ctx *ctx;
	const struct cert_options *o;
	const char *kind; /* "request", "renew" or "rollover" */
	int names_given;
	EVP_PKEY *tls_key;
	struct cert_report *r;
	const char *next_key; /* rollover: the new key, moved to tls.key_file on install */
	char *replaces;       /* renew, rollover: the certID of the served certificate */
};

/* Keep the account (URL, key file, CA file) for the next time. */
static int account_save(struct mc_ctx *ctx, const struct acme_account_row *a, struct mc_error *err)
{
	if (store_begin(ctx->st, err) < 0)
		return -1;
	if (store_acme_account_put(ctx->st, a, err) < 0 ||
	    store_audit(ctx->st, ctx->actor, "acme.account", a->directory, a->url, err) < 0 ||
	    store_commit(ctx->st, err) < 0) {
		store_rollback(ctx->st);
		return -1;
	}
	return 0;
}

/* The account for 'c': kept, or registered now (and kept). c->key is the
 * account key afterwards, for the caller to free. */
static int account(struct job *j, struct acme_client *c, struct acme_account_row *kept, int found,
                   const char *ca_file, struct mc_error *err)
{
	const struct config *cfg = j->ctx->cfg;
	char *key_file =
	    found ? xstrdup(kept->key_file) : xasprintf("%s/%s", cfg->key_dir, ACCOUNT_KEY);
	int created = 0;
	int rc = parent_dir(key_file, 0700, err) < 0 ||
	                 acme_key_load_or_create(key_file, &c->key, &created, err) < 0
	             ? -1
	             : 0;
	struct acme_account_request req = {c->key, found && !created ? kept->url : NULL,
	                                   cfg->admin_address, j->o->eab_kid, j->o->eab_hmac};
	if (rc == 0)
		rc = acme_account(c, &req, err);
	if (rc == 0) {
		j->r->account = xstrdup(c->kid);
		j->r->account_new = !found || strcmp(kept->url, c->kid) != 0;
		struct acme_account_row row = {c->directory_url,
		                               c->kid,
		                               key_file,
		                               cfg->admin_address,
		                               (char *)(ca_file ? ca_file : ""),
		                               NULL};
		if (j->r->account_new || strcmp(found ? kept->ca_file : "", row.ca_file))
			rc = account_save(j->ctx, &row, err);
	}
	free(key_file);
	return rc;
}

/* Account, order, chain. */
static int obtain(struct job *j, const unsigned char *csr, size_t csr_len, char **chain,
                  struct mc_error *err)
{
	struct acme_account_row kept;
	struct acme_client c;
	int found = store_acme_account_get(j->ctx->st, j->r->directory, &kept, err);
	if (found < 0)
		return -1;
	const char *ca_file = j->o->ca_file            ? j->o->ca_file
	                      : found && *kept.ca_file ? kept.ca_file
	                                               : NULL;
	int rc = acme_client_init(&c, j->r->directory, ca_file, NULL, err);
	if (rc == 0)
		rc = account(j, &c, &kept, found, ca_file, err);
	struct acme_webroot w = {j->ctx->cfg->acme_webroot};
	if (rc == 0)
		rc = acme_issue_replacing(&c, (const char *const *)j->r->names, j->r->nnames, csr,
		                          csr_len, j->replaces, &w, chain, err);
	j->r->requests = c.requests;
	j->r->bad_nonces = c.bad_nonces;
	EVP_PKEY_free(c.key);
	c.key = NULL;
	acme_client_release(&c);
	if (found)
		acme_account_row_release(&kept);
	return rc;
}

/* ---- install, reload, verify ---- */

/* Check the chain, write it, reload the servers, ask the ports. */
static int put_in_place(struct job *j, const char *chain, const char *old_sha256,
                        struct mc_error *err)
{
	const struct config *cfg = j->ctx->cfg;
	struct cert_report *r = j->r;
	struct cert_info info;
	long t0 = now_ms();
	if (cert_info_parse(chain, strlen(chain), j->tls_key, &info, err) < 0)
		return mc_fail(err, MC_EUNAVAIL, "the CA's certificate chain holds no certificate");
	int rc = cert_chain_check(&info, (const char *const *)r->names, r->nnames, time(NULL), err);
	if (rc == 0) {
		r->serial = xstrdup(info.serial);
		r->issuer = xstrdup(info.issuer);
		r->not_after = info.not_after;
		memcpy(r->tlsa, info.tlsa, sizeof(r->tlsa));
		rc = install(cfg->tls_cert_file, chain, j->next_key, cfg->tls_key_file, err);
	}
	if (rc == 0) {
		r->action = CERT_UNVERIFIED; /* installed; issued once the ports serve it */
		rc = cert_reload(cfg, &r->reloaded, err);
	}
	r->install_ms = now_ms() - t0;
	if (rc == 0) {
		t0 = now_ms();
		int bad = cert_verify_ports(
		    cfg, j->o->verify_host ? j->o->verify_host : "127.0.0.1", info.sha256,
		    old_sha256, j->o->verify_tries ? j->o->verify_tries : 5, r->ports, &r->nports);
		r->verify_ms = now_ms() - t0;
		for (size_t i = 0; bad && i < r->nports; i++)
			if (r->ports[i].state != CERT_PORT_NEW &&
			    r->ports[i].state != CERT_PORT_CLOSED)
				rc = mc_fail(err, MC_ETEMP,
				             "installed the new certificate, but port %d (%s) %s",
				             r->ports[i].port, r->ports[i].service,
				             r->ports[i].detail);
		r->action = bad ? CERT_UNVERIFIED : CERT_ISSUED;
	}
	cert_info_release(&info);
	return rc;
}

/* One row in cert_attempts (and the audit log when installed). */
static int record(struct job *j, const char *started, int rc, const struct mc_error *failure,
                  struct mc_error *err)
{
	struct cert_report *r = j->r;
	char until[21] = "";
	if (r->not_after)
		cert_time_format(r->not_after, until);
	char *names = names_join(r->names, r->nnames);
	char *detail = rc < 0      ? xstrdup(failure->msg)
	               : r->issuer ? xasprintf("issuer %s", r->issuer)
	                           : xstrdup("");
	struct cert_attempt_row row = {0,
	                               (char *)started,
	                               NULL,
	                               (char *)j->kind,
	                               (char *)j->ctx->actor,
	                               r->directory,
	                               names,
	                               j->names_given,
	                               (char *)cert_action_name(r->action),
	                               detail,
	                               r->serial,
	                               until,
	                               r->total_ms};
	int ok = store_begin(j->ctx->st, err) == 0;
	ok = ok && store_cert_attempt_insert(j->ctx->st, &row, NULL, err) == 0;
	if (ok && r->serial)
		ok = store_audit(j->ctx->st, j->ctx->actor, "cert.install", names, r->serial,
		                 err) == 0;
	ok = ok && store_commit(j->ctx->st, err) == 0;
	if (!ok)
		store_rollback(j->ctx->st);
	free(names);
	free(detail);
	return ok ? 0 : -1;
}

/* The whole request with 'r->names' and 'r->directory' chosen. */
static int issue(struct job *j, struct mc_error *err)
{
	const struct config *cfg = j->ctx->cfg;
	struct cert_report *r = j->r;
	struct cert_info old;
	char started[21], old_sha256[65] = "";
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	char *chain = NULL;
	long t0 = now_ms();
	cert_time_format(time(NULL), started);
	r->action = CERT_FAILED;
	int lock = lock_take(cfg, err);
	if (lock < 0)
		return -1;
	if (cert_info_read(cfg->tls_cert_file, NULL, &old, NULL) == 0) {
		memcpy(old_sha256, old.sha256, sizeof(old_sha256));
		cert_info_release(&old);
	}
	const char *key_file = j->next_key ? j->next_key : cfg->tls_key_file;
	int rc = parent_dir(key_file, 0755, err) < 0 ||
	                 acme_key_load_or_create(key_file, &j->tls_key, &r->key_new, err) < 0 ||
	                 acme_csr(j->tls_key, (const char *const *)r->names, r->nnames, &csr,
	                          &csr_len, err) < 0
	             ? -1
	             : 0;
	if (rc == 0) { /* from here on the CA is asked: every outcome is recorded */
		rc = obtain(j, csr, csr_len, &chain, err);
		r->acme_ms = now_ms() - t0;
		if (rc == 0)
			rc = put_in_place(j, chain, *old_sha256 ? old_sha256 : NULL, err);
		r->total_ms = now_ms() - t0;
		struct mc_error rec;
		if (record(j, started, rc, err, &rec) < 0 && rc == 0)
			rc = mc_fail(err, rec.kind, "installed the certificate, but %s", rec.msg);
	}
	free(csr);
	free(chain);
	EVP_PKEY_free(j->tls_key);
	j->tls_key = NULL;
	close(lock);
	return rc;
}

int cert_request(struct mc_ctx *ctx, const struct cert_options *o, struct cert_report *r,
                 struct mc_error *err)
{
	struct job j = {ctx, o, "request", o->names != NULL, NULL, r, NULL, NULL};
	memset(r, 0, sizeof(*r));
	r->action = CERT_FAILED;
	if (o->names) {
		r->names = xcalloc(o->nnames ? o->nnames : 1, sizeof(*r->names));
		for (size_t i = 0; i < o->nnames; i++)
			r->names[r->nnames++] = xstrdup(o->names[i]);
	} else if (cert_default_names(ctx, &r->names, &r->nnames, err) < 0) {
		return -1;
	}
	r->directory = xstrdup(o->directory ? o->directory : ctx->cfg->acme_directory);
	if (acme_url_check(r->directory, err) < 0)
		return -1;
	return issue(&j, err);
}

/* ---- renewal ---- */

static time_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end && !*end ? timegm(&tm) : 0;
}

/* Is the served certificate due? '*reason' says why (not), '*next' when. */
static int due(const struct config *cfg, time_t now, char *const *names, size_t n, char **reason,
               time_t *next)
{
	struct cert_info info;
	struct mc_error e;
	*next = now;
	if (cert_info_read(cfg->tls_cert_file, NULL, &info, &e) < 0) {
		*reason = xasprintf("the served certificate is unusable: %s", e.msg);
		return 1;
	}
	int is_due = 1;
	long life = (long)(info.not_after - info.not_before), left = (long)(info.not_after - now);
	size_t missing = n;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < info.nnames; k++)
			if (!strcasecmp(names[i], info.names[k])) {
				missing--;
				break;
			}
	if (info.self_signed)
		*reason = xstrdup("the served certificate is self-signed");
	else if (now >= info.renew_after)
		*reason = xasprintf("%ld of %ld days left", left / 86400, life / 86400);
	else if (missing)
		*reason = xasprintf("%zu name(s) not in the served certificate", missing);
	else {
		is_due = 0;
		*next = info.renew_after;
		*reason = xasprintf("%ld of %ld days left; renews when a third is left",
		                    left / 86400, life / 86400);
	}
	cert_info_release(&info);
	return is_due;
}

/* Not due by its lifetime: does the CA's renewal information (RFC 9773)
 * say otherwise? 1 when it is due now; else r->next may come earlier and
 * the reason says what the CA said. */
static int ari_due(struct mc_ctx *ctx, time_t now, struct cert_report *r)
{
	time_t when = 0, ask_again = 0;
	char *why = NULL;
	int offered = cert_ari_when(ctx, r->directory, now, &when, &ask_again, &why);
	int now_due = offered && when <= now;
	if (why) {
		char *reason = now_due ? xstrdup(why) : xasprintf("%s; %s", r->reason, why);
		free(r->reason);
		r->reason = reason;
	}
	if (offered && !now_due && when < r->next)
		r->next = when;
	if (!now_due && ask_again > now && ask_again < r->next)
		r->next = ask_again; /* the CA may move the window: ask when it said */
	free(why);
	return now_due;
}

/* With failures since the last install: 1 (and '*until') while pausing. */
static int pausing(struct mc_ctx *ctx, time_t now, time_t *until, struct mc_error *err)
{
	struct cert_attempt_list l;
	if (store_cert_attempt_list(ctx->st, 16, &l, err) < 0)
		return -1;
	size_t k = 0;
	while (k < l.n && !strcmp(l.v[k].result, "failed"))
		k++;
	long wait = BACKOFF_FIRST_S;
	for (size_t i = 1; i < k && wait < BACKOFF_MAX_S; i++)
		wait *= 2;
	wait = wait > BACKOFF_MAX_S ? BACKOFF_MAX_S : wait;
	*until = k ? parse_time(l.v[0].finished) + wait : 0;
	cert_attempt_list_release(&l);
	return k && now < *until;
}

/* The names to renew: given, else those asked last time, else defaults. */
static int renew_names(struct mc_ctx *ctx, const struct cert_options *o,
                       const struct cert_attempt_row *last, struct cert_report *r,
                       struct mc_error *err)
{
	if (o->names) {
		r->names = xcalloc(o->nnames ? o->nnames : 1, sizeof(*r->names));
		for (size_t i = 0; i < o->nnames; i++)
			r->names[r->nnames++] = xstrdup(o->names[i]);
		return 0;
	}
	if (last->names_given)
		return cert_names_parse(last->names, &r->names, &r->nnames, err);
	return cert_default_names(ctx, &r->names, &r->nnames, err);
}

/* Names and CA as the last installed certificate had them (or as 'o'
 * says): 0, or 1 when no certificate from a CA was ever installed. */
static int as_last_time(struct mc_ctx *ctx, const struct cert_options *o, struct cert_report *r,
                        int *names_given, struct mc_error *err)
{
	struct cert_attempt_row last;
	memset(r, 0, sizeof(*r));
	r->action = CERT_FAILED;
	int found = store_cert_attempt_last_installed(ctx->st, &last, err);
	if (found <= 0)
		return found < 0 ? -1 : 1;
	*names_given = o->names ? 1 : last.names_given;
	int rc = renew_names(ctx, o, &last, r, err);
	r->directory = xstrdup(o->directory ? o->directory : last.directory);
	cert_attempt_row_release(&last);
	return rc;
}

int cert_renew_due(struct mc_ctx *ctx, time_t now, const struct cert_options *o,
                   struct cert_report *r, struct mc_error *err)
{
	struct job j = {ctx, o, "renew", 0, NULL, r, NULL, NULL};
	int rc = as_last_time(ctx, o, r, &j.names_given, err);
	if (rc != 0) {
		if (rc < 0)
			return -1;
		r->action = CERT_NO_CA;
		r->reason = xstrdup("no certificate from a CA was installed yet: 'mailctl cert "
		                    "request' gets one");
		return 0;
	}
	if (!due(ctx->cfg, now, r->names, r->nnames, &r->reason, &r->next) && !o->force &&
	    !ari_due(ctx, now, r)) {
		r->action = CERT_NOT_DUE;
		return 0;
	}
	if (o->force && !strstr(r->reason, "self-signed")) {
		free(r->reason);
		r->reason = xstrdup("forced");
	}
	if (o->backoff && !o->force && (rc = pausing(ctx, now, &r->next, err)) != 0) {
		r->action = CERT_WAITING;
		return rc < 0 ? -1 : 0;
	}
	j.replaces = cert_served_id(ctx->cfg);
	rc = issue(&j, err);
	free(j.replaces);
	return rc;
}

int cert_reissue_with(struct mc_ctx *ctx, const struct cert_options *o, const char *next_key,
                      struct cert_report *r, struct mc_error *err)
{
	struct job j = {ctx, o, "rollover", 0, NULL, r, next_key, NULL};
	int rc = as_last_time(ctx, o, r, &j.names_given, err);
	if (rc > 0)
		return mc_fail(err, MC_EUSAGE,
		               "no certificate from a CA was installed yet: 'mailctl cert request' "
		               "gets one (with the key in place there is nothing to roll over)");
	if (rc < 0)
		return -1;
	j.replaces = cert_served_id(ctx->cfg);
	rc = issue(&j, err);
	free(j.replaces);
	return rc;
}

void cert_report_release(struct cert_report *r)
{
	free(r->reason);
	cert_names_free(r->names, r->nnames);
	free(r->directory);
	free(r->account);
	free(r->serial);
	free(r->issuer);
	free(r->reloaded);
	for (size_t i = 0; i < r->nports; i++)
		free(r->ports[i].detail);
	memset(r, 0, sizeof(*r));
}
