/*
 * cert - the server certificate from an ACME certificate authority:
 * request, renew, list and show; install and verify.
 *
 * cert_request() gets a certificate for the chosen names (default: the
 * mail host name, then mta-sts.<domain> and autoconfig.<domain> of every
 * hosted domain) from the CA at a directory URL (default acme.directory)
 * with acme.h: the account (key <paths.key_dir>/acme-account.pem, its URL
 * kept in the database per CA) is reused; HTTP-01 token files go under
 * paths.acme_webroot. The CSR is made with the existing TLS key: the key
 * is kept across renewals, so a DANE TLSA 3 1 1 record stays right
 * (a new P-256 key is made only when tls.key_file does not exist).
 *
 * The chain is checked (leaf for our key, every name in it, not expired)
 * and written to tls.cert_file with a rename, so a reader never sees half
 * of it. Postfix and Dovecot (and nginx, when it runs) are reloaded; then
 * every TLS port (25 and 587 after STARTTLS, 465, 993, 995, 443; 143 and
 * 110 after STARTTLS with mail.plaintext_ports) is asked for its
 * certificate, a few times with a short pause, until all serve the new
 * one. A port still serving another certificate is an error (MC_ETEMP)
 * after the install; a port where nothing listens is reported, not an
 * error.
 *
 * cert_renew_due() is what mailctld calls: it renews when less than a
 * third of the certificate's lifetime is left (or the default names
 * changed, or 'force', or earlier when the CA's renewal information, RFC
 * 9773, puts the time picked in its suggested window in the past; the
 * renewal's order then names the certificate it replaces), with the CA and names of the last
 * certificate installed. Every attempt that reached the CA is recorded in the database with its
 * outcome; with 'backoff', a renewal after failures waits 1, 2, 4... up to 24 hours from the last
 * one.
 *
 * Only one request runs at a time (a lock beside the database; a second
 * one fails with MC_ETEMP). Errors as in acme.h, plus MC_EUSAGE for bad
 * names, MC_ECONFIG for a missing host name. Reports own their strings:
 * cert_report_release(), cert_info_release().
 */
#ifndef MAILCTL_CERT_H
#define MAILCTL_CERT_H

#include <stddef.h>
#include <time.h>

#include "account.h"
#include "dnsq.h"
#include "error.h"

#define CERT_LE_PRODUCTION "https://acme-v02.api.letsencrypt.org/directory"
#define CERT_LE_STAGING    "https://acme-staging-v02.api.letsencrypt.org/directory"

struct cert_options {
	const char *const *names; /* NULL: the defaults (renew: as last time) */
	size_t nnames;
	const char *directory; /* NULL: acme.directory (renew: the last CA) */
	const char *ca_file;   /* CA bundle for the CA's HTTPS; NULL: as kept, else system */
	const char *eab_kid;   /* external account binding, or NULL */
	const char *eab_hmac;
	int force;               /* renew even when not due */
	int backoff;             /* renew: keep the pause after failures (mailctld) */
	const char *verify_host; /* where the ports are asked; NULL: 127.0.0.1 */
	int verify_tries;        /* rounds of port checks; 0: 5 */
};

enum cert_port_state {
	CERT_PORT_NEW,    /* serves the new certificate */
	CERT_PORT_OLD,    /* still serves the one replaced */
	CERT_PORT_OTHER,  /* serves some other certificate */
	CERT_PORT_CLOSED, /* nothing listens */
	CERT_PORT_ERROR,  /* no TLS session */
};

struct cert_port {
	int port;
	const char *service; /* "smtp", "imaps"... */
	enum cert_port_state state;
	char *detail; /* what went wrong, or "" */
};

#define CERT_MAX_PORTS 8

enum cert_action {
	CERT_ISSUED,     /* installed and served on every open port */
	CERT_UNVERIFIED, /* installed, but a port serves another certificate */
	CERT_NOT_DUE,    /* renew: nothing to do yet */
	CERT_WAITING,    /* renew: due, but pausing after failures */
	CERT_NO_CA,      /* renew: no certificate from a CA was ever installed */
	CERT_FAILED,     /* the CA did not issue, or the install failed */
};

struct cert_report {
	enum cert_action action;
	char *reason; /* renew: why (not) now */
	time_t next;  /* renew: when it is due (or may try again) */
	char **names; /* asked for */
	size_t nnames;
	char *directory; /* the CA asked */
	char *account;   /* the account URL */
	int account_new; /* registered now */
	int key_new;     /* no TLS key existed: one was made */
	char *serial;    /* of the installed certificate (hex) */
	char *issuer;
	time_t not_after;
	char tlsa[65];  /* SHA-256 of the key's SubjectPublicKeyInfo (TLSA 3 1 1) */
	char *reloaded; /* "postfix,dovecot,nginx" */
	struct cert_port ports[CERT_MAX_PORTS];
	size_t nports;
	long acme_ms, install_ms, verify_ms, total_ms;
	unsigned requests, bad_nonces; /* to the CA; nonces it rejected */
};

/* The name of an action or port state ("issued", "not-due"; "new"...). */
const char *cert_action_name(enum cert_action a);
const char *cert_port_state_name(enum cert_port_state s);

/* The default names: host name, mta-sts.D and autoconfig.D per domain. */
int cert_default_names(struct mc_ctx *ctx, char ***names, size_t *n, struct mc_error *err);
void cert_names_free(char **names, size_t n);

/* Validate and normalise names given by an admin (A-labels, no
 * wildcards, no repeats): MC_EUSAGE. */
int cert_names_parse(const char *list, char ***names, size_t *n, struct mc_error *err);

/* Request, install, reload, verify. On failure '*r' still says how far it
 * got (r->action CERT_FAILED or CERT_UNVERIFIED). */
int cert_request(struct mc_ctx *ctx, const struct cert_options *o, struct cert_report *r,
                 struct mc_error *err);

/* Renew when due at 'now' (see above). Returns 0 when nothing was due as
 * well; r->action says what happened. */
int cert_renew_due(struct mc_ctx *ctx, time_t now, const struct cert_options *o,
                   struct cert_report *r, struct mc_error *err);

void cert_report_release(struct cert_report *r);

/* The served certificate as 'cert list' and 'cert show' see it. */
struct cert_info {
	char *subject, *issuer, *serial;
	char **names; /* subjectAltName DNS names */
	size_t nnames;
	time_t not_before, not_after;
	int self_signed;
	int chain;          /* certificates in the file */
	int chain_broken;   /* 0, or N: certificate N is not issued and signed by N + 1 */
	int key_matches;    /* the leaf is for tls.key_file: 1, 0, -1 unknown (unreadable) */
	char tlsa[65];      /* of the leaf's key */
	char sha256[65];    /* fingerprint of the leaf */
	time_t renew_after; /* two thirds into its lifetime */
};

int cert_info_read(const char *cert_file, const char *key_file, struct cert_info *out,
                   struct mc_error *err);
void cert_info_release(struct cert_info *i);

/* The state of the served certificate in words, as 'cert list' and
 * mailtui say it ("from a CA; renews after 2027-01-02"); 'to_request'
 * ends the self-signed case ("'mailctl cert request' gets one"). Caller
 * frees. */
char *cert_status_text(const struct cert_info *in, time_t now, const char *to_request);

/* ---- cert_verify.c ---- */

/* Reload the servers that run and read tls.* ("postfix,dovecot" into
 * '*reloaded', caller frees). */
int cert_reload(const struct config *cfg, char **reloaded, struct mc_error *err);

/* Ask every TLS port at 'host' for its certificate, 'tries' rounds 1 s
 * apart until none serves another than 'new_sha256' (hex SHA-256 of the
 * leaf's DER); 'old_sha256' (or NULL) tells the old one apart. Returns
 * how many ports serve another certificate or no TLS. */
int cert_verify_ports(const struct config *cfg, const char *host, const char *new_sha256,
                      const char *old_sha256, int tries, struct cert_port *out, size_t *n);

/* The RFC 9773 certID of the served certificate (how the CA names it for
 * renewal information), or NULL (none, or not from a CA). Caller frees. */
char *cert_served_id(const struct config *cfg);

/* ---- cert_rollover.c ----
 *
 * A new TLS key without breaking DANE (RFC 7671 8.1: publish the new
 * TLSA beside the old one, switch once the world sees it). The rollover
 * lives in files beside tls.key_file: '<key>.next' is the new key (0600)
 * while one is under way, '<key>.next-seen' the time DNS first showed its
 * record. cert_rollover_step() does the one thing that is due:
 *
 *   STARTED   nothing under way: the next key is made; 'dns records'
 *             shows its TLSA beside the current one.
 *   WAITING   DNS (TLSA _25._tcp.<host>, through 'lookup') does not show
 *             the next key's record yet, or did not answer, or showed it
 *             less than dns.ttl ago (resolvers may still hold the old set).
 *   SWITCHED  the record has been visible for dns.ttl (or 'force'): a
 *             certificate for the next key, with the names and CA of the
 *             last one installed (a CA certificate must exist: MC_EUSAGE),
 *             is issued, and key and chain are installed, reloaded and
 *             verified as cert_request() does; the old TLSA can go.
 *   FAILED    the CA did not issue: the current key and certificate stay,
 *             the rollover stays under way ('cert' says why).
 *   IDLE      nothing under way and 'may_start' is not set (mailctld, which
 *             advances a rollover an admin started but never starts one).
 *
 * cert_rollover_abort() deletes the next key (MC_EUSAGE when none). */
enum cert_rollover_action {
	CERT_ROLL_STARTED,
	CERT_ROLL_WAITING,
	CERT_ROLL_SWITCHED,
	CERT_ROLL_FAILED,
	CERT_ROLL_ABORTED,
	CERT_ROLL_IDLE,
};

struct cert_rollover_report {
	enum cert_rollover_action action;
	char *tlsa_name;         /* _25._tcp.<host>. */
	char tlsa_current[65];   /* of tls.key_file ("" when it has none) */
	char tlsa_next[65];      /* of the next key */
	char *detail;            /* what DNS shows, or why it waits */
	time_t seen;             /* when DNS first showed the next record, or 0 */
	time_t switch_after;     /* seen + dns.ttl */
	struct cert_report cert; /* SWITCHED/FAILED: the certificate */
};

const char *cert_rollover_action_name(enum cert_rollover_action a);

/* '<tls.key_file>.next' (caller frees). */
char *cert_next_key_file(const struct config *cfg);

int cert_rollover_step(struct mc_ctx *ctx, time_t now, const struct cert_options *o, int may_start,
                       dnsq_lookup_fn lookup, void *lookup_ctx, struct cert_rollover_report *r,
                       struct mc_error *err);
int cert_rollover_abort(struct mc_ctx *ctx, struct cert_rollover_report *r, struct mc_error *err);
void cert_rollover_report_release(struct cert_rollover_report *r);

#endif
