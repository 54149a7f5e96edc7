/* cert_rollover - a new TLS key, switched to once DNS shows its TLSA (cert.h) */
#include "acme.h"
#include "cert.h"
#include "cert_int.h"
#include "dnsrec.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

const char *cert_rollover_action_name(enum cert_rollover_action a)
{
	static const char *const n[] = {"started", "waiting", "switched",
	                                "failed",  "aborted", "idle"};
	return a <= CERT_ROLL_IDLE ? n[a] : "?";
}

char *cert_next_key_file(const struct config *cfg)
{
	return xasprintf("%s.next", cfg->tls_key_file);
}

static char *seen_file(const struct config *cfg)
{
	return xasprintf("%s.next-seen", cfg->tls_key_file);
}

/* When DNS first showed the next record: 0 when not yet recorded. */
static time_t seen_read(const struct config *cfg)
{
	char *path = seen_file(cfg), line[64] = "";
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return 0;
	int got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	struct tm tm = {0};
	const char *end = got ? strptime(line, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end && (!*end || *end == '\n') ? timegm(&tm) : 0;
}

static int seen_write(const struct config *cfg, time_t t, struct mc_error *err)
{
	char *path = seen_file(cfg), when[22];
	cert_time_format(t, when);
	strcat(when, "\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ok = fd >= 0 && write(fd, when, strlen(when)) == (ssize_t)strlen(when);
	int saved = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	int rc = ok ? 0 : mc_fail(err, MC_EIO, "cannot write '%s': %s", path, mc_strerror(saved));
	free(path);
	return rc;
}

/* Both files of a rollover gone (after a switch or an abort). */
static void forget(const struct config *cfg)
{
	char *next = cert_next_key_file(cfg), *seen = seen_file(cfg);
	unlink(next);
	unlink(seen);
	free(next);
	free(seen);
}

/* Does the TLSA RRset hold '3 1 1 <hex>'? '*shown' lists what it holds. */
static int tlsa_has(const ldns_rr_list *rrs, const char *hex, char **shown)
{
	int found = 0;
	size_t len = 0;
	FILE *f = open_memstream(shown, &len);
	for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA || ldns_rr_rd_count(rr) != 4)
			continue;
		char *data = ldns_rdf2str(ldns_rr_rdf(rr, 3));
		int u = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0)),
		    s = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
		    m = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
		fprintf(f, "%s%d %d %d %s", i ? ", " : "", u, s, m, data ? data : "?");
		if (u == 3 && s == 1 && m == 1 && data && !strcasecmp(data, hex))
			found = 1;
		free(data);
	}
	fclose(f);
	return found;
}

/* Is the next key's record in DNS? Sets r->detail; 1 yes, 0 no. */
static int in_dns(const char *host, dnsq_lookup_fn lookup, void *lctx,
                  struct cert_rollover_report *r)
{
	struct dnsq_answer a = {DNSQ_ERROR, NULL, 0};
	r->tlsa_name = xasprintf("_25._tcp.%s.", host);
	lookup(lctx, r->tlsa_name, LDNS_RR_TYPE_TLSA, &a);
	if (a.status != DNSQ_ANSWER && a.status != DNSQ_NODATA && a.status != DNSQ_NXDOMAIN) {
		r->detail = xasprintf("DNS did not answer for %s TLSA (%s)", r->tlsa_name,
		                      dnsq_status_name(a.status));
		return 0;
	}
	char *shown = NULL;
	int found = a.status == DNSQ_ANSWER && tlsa_has(a.rrs, r->tlsa_next, &shown);
	if (!found)
		r->detail = a.status == DNSQ_ANSWER
		                ? xasprintf("%s TLSA holds %s, not the next key's 3 1 1 %s",
		                            r->tlsa_name, shown, r->tlsa_next)
		                : xasprintf("%s has no TLSA record yet", r->tlsa_name);
	free(shown);
	return found;
}

static void start(struct mc_ctx *ctx, const char *next, struct cert_rollover_report *r,
                  struct mc_error *err, int *rc)
{
	EVP_PKEY *k = NULL;
	int created = 0;
	*rc = acme_key_load_or_create(next, &k, &created, err);
	EVP_PKEY_free(k);
	if (*rc == 0)
		*rc = dnsrec_tlsa_from_key(next, r->tlsa_next, err);
	if (*rc == 0)
		*rc = store_audit(ctx->st, ctx->actor, "cert.rollover", next, "started", err);
	if (*rc < 0)
		forget(ctx->cfg);
	r->action = CERT_ROLL_STARTED;
	r->detail = xasprintf("publish the next key's TLSA beside the current one, then run "
	                      "'mailctl cert rollover' again");
}

/* Is the served certificate from a CA (not setup's self-signed one)? */
static int from_ca(const struct config *cfg)
{
	struct cert_info served;
	struct mc_error unreadable;
	int yes = cert_info_read(cfg->tls_cert_file, NULL, &served, &unreadable) == 0 &&
	          !served.self_signed;
	cert_info_release(&served);
	return yes;
}

/* The record is visible: wait dns.ttl from when it was first seen. */
static int ripe(struct mc_ctx *ctx, time_t now, int force, struct cert_rollover_report *r,
                struct mc_error *err)
{
	if (force)
		return 1;
	r->seen = seen_read(ctx->cfg);
	if (!r->seen) {
		if (seen_write(ctx->cfg, now, err) < 0)
			return -1;
		r->seen = now;
	}
	r->switch_after = r->seen + (time_t)ctx->cfg->dns_ttl;
	if (force || now >= r->switch_after)
		return 1;
	char when[21];
	cert_time_format(r->switch_after, when);
	r->detail = xasprintf("%s shows the next key; resolvers may cache the old set for "
	                      "dns.ttl (%llds): it switches from %s",
	                      r->tlsa_name, ctx->cfg->dns_ttl, when);
	return 0;
}

int cert_rollover_step(struct mc_ctx *ctx, time_t now, const struct cert_options *o, int may_start,
                       dnsq_lookup_fn lookup, void *lookup_ctx, struct cert_rollover_report *r,
                       struct mc_error *err)
{
	const struct config *cfg = ctx->cfg;
	memset(r, 0, sizeof(*r));
	r->action = CERT_ROLL_FAILED;
	if (!cfg->hostname || !*cfg->hostname)
		return mc_fail(err, MC_ECONFIG,
		               "no 'hostname' in the configuration: run 'mailctl setup' or set it");
	struct mc_error no_key;
	if (dnsrec_tlsa_from_key(cfg->tls_key_file, r->tlsa_current, &no_key) < 0)
		return mc_fail(err, MC_EUSAGE,
		               "there is no TLS key to roll over (%s): 'mailctl cert request' "
		               "makes one",
		               no_key.msg);
	char *next = cert_next_key_file(cfg);
	int rc = 0, pending = access(next, F_OK) == 0;
	if (!pending && !may_start) {
		r->action = CERT_ROLL_IDLE;
	} else if (!pending && !from_ca(cfg)) {
		rc = mc_fail(err, MC_EUSAGE,
		             "the served certificate is not from a CA: 'mailctl cert request' "
		             "first (a new key needs a new certificate)");
	} else if (!pending) {
		start(ctx, next, r, err, &rc);
		r->tlsa_name = xasprintf("_25._tcp.%s.", cfg->hostname);
	} else if ((rc = dnsrec_tlsa_from_key(next, r->tlsa_next, err)) == 0) {
		int shown = in_dns(cfg->hostname, lookup, lookup_ctx, r);
		int go = shown || o->force ? ripe(ctx, now, o->force, r, err) : 0;
		r->action = CERT_ROLL_WAITING;
		if (go < 0)
			rc = -1;
		else if (go) {
			rc = cert_reissue_with(ctx, o, next, &r->cert, err);
			r->action = rc == 0 || r->cert.action == CERT_UNVERIFIED
			                ? CERT_ROLL_SWITCHED
			                : CERT_ROLL_FAILED;
			if (r->action == CERT_ROLL_SWITCHED)
				forget(cfg);
		}
	}
	free(next);
	return rc;
}

int cert_rollover_abort(struct mc_ctx *ctx, struct cert_rollover_report *r, struct mc_error *err)
{
	char *next = cert_next_key_file(ctx->cfg);
	struct mc_error unreadable;
	memset(r, 0, sizeof(*r));
	r->action = CERT_ROLL_ABORTED;
	int rc = access(next, F_OK) == 0
	             ? store_audit(ctx->st, ctx->actor, "cert.rollover", next, "aborted", err)
	             : mc_fail(err, MC_EUSAGE, "no key rollover is under way");
	if (rc == 0) {
		if (dnsrec_tlsa_from_key(next, r->tlsa_next, &unreadable) < 0)
			r->tlsa_next[0] = 0;
		forget(ctx->cfg);
		r->detail = xstrdup("the next key is deleted; remove its TLSA record if you "
		                    "published it");
	}
	free(next);
	return rc;
}

void cert_rollover_report_release(struct cert_rollover_report *r)
{
	free(r->tlsa_name);
	free(r->detail);
	cert_report_release(&r->cert);
	memset(r, 0, sizeof(*r));
}
