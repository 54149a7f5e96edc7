/*
 * msgauth - what mailctld does to one message: the milter's logic as a
 * library, so that `mailctl check` runs exactly the same code on a saved
 * file.
 *
 * Outbound mail (the client authenticated with SASL, or the message was
 * submitted on this machine) is DKIM-signed with every active key of its
 * From domain (rsa-sha256, plus ed25519-sha256 when the domain has such a
 * key). Nothing else is done to it.
 *
 * Inbound mail (anything else) is checked: SPF (lib/spf.h) for the MAIL
 * FROM identity (or the HELO one for the null reverse-path), and for the
 * HELO name; every DKIM signature (lib/dkim_msg.h); DMARC (lib/dmarc.h)
 * for the From domain. The result is one Authentication-Results field
 * (RFC 8601) with our host name as authserv-id - any incoming field that
 * claims that id is removed first - and an action:
 *   - REJECT (550 5.7.1) when DMARC fails for a domain whose policy is
 *     reject, after pct sampling, and milter.dmarc_reject is on; also
 *     (with milter.dmarc_reject on) when the message has no From field or
 *     several (RFC 5322 3.6 asks for exactly one), or one whose authors
 *     are in several domains or none (RFC 7489 6.6.1: no domain may hide
 *     behind another's);
 *   - QUARANTINE: the same for policy quarantine with
 *     milter.dmarc_quarantine on: an X-Mailctl-Quarantine field is added
 *     and the Sieve before-script files the message into Junk;
 *   - TEMPFAIL (451 4.7.1) when a DNS failure could change that verdict:
 *     the DMARC record could not be fetched (unless enforcement is off, or
 *     SPF or DKIM passed for exactly the From domain, when any record
 *     would pass it), or DMARC failed under an enforced policy while an
 *     SPF or DKIM check of an identity in the From domain's organisational
 *     domain had a temporary error. Never a silent accept;
 *   - ACCEPT otherwise. SPF fail alone never rejects: DMARC decides.
 * Incoming X-Mailctl-Quarantine fields are always removed, and so are
 * Authentication-Results fields claiming our authserv-id, outbound too
 * (RFC 8601 5). Outbound, a message that can never be signed (its header
 * is over dkim_msg.h's limits) is refused (550 5.7.0) and any other
 * signing failure deferred (451 4.7.0): nothing leaves unsigned.
 *
 * Feed a message as the milter sees it: msgauth_header() per field,
 * msgauth_eoh(), msgauth_body() chunks, then msgauth_finish() with the
 * DNS to use (one dnsq per message gives one time budget).
 */
#ifndef MAILCTL_MSGAUTH_H
#define MAILCTL_MSGAUTH_H

#include <stddef.h>
#include <time.h>

#include "dkim_msg.h"
#include "dmarc.h"
#include "dnsq.h"
#include "error.h"
#include "spf.h"
#include "store.h"
#include "strbuf.h"

/* The signing keys: the active DKIM keys of every domain, loaded from the
 * store with their private keys. Shared read-only between messages. */
struct msgauth_keys;

/* Load every active key. A key whose file cannot be used is left out
 * and described in '*problems' (one line each, caller frees; NULL when
 * none). Errors: the store's. */
int msgauth_keys_load(struct store *st, struct msgauth_keys **out, char **problems,
                      struct mc_error *err);
size_t msgauth_keys_count(const struct msgauth_keys *k);
void msgauth_keys_free(struct msgauth_keys *k);

struct msgauth_policy {
	const char *authserv_id; /* our host name */
	int dmarc_reject;        /* milter.dmarc_reject */
	int dmarc_quarantine;    /* milter.dmarc_quarantine */
};

/* What Postfix told us about the message's way in. */
struct msgauth_env {
	const char *ip;        /* the client's address; "" or NULL when local */
	const char *helo;      /* HELO/EHLO name, may be NULL */
	const char *mail_from; /* MAIL FROM without <>, "" for the null path */
	const char *auth_user; /* SASL login name, NULL or "" when none */
	int local;             /* submitted on this machine (sendmail, pickup) */
	const char *receiver;  /* our host name for SPF's %{r} */
};

enum msgauth_action { MSGAUTH_ACCEPT, MSGAUTH_QUARANTINE, MSGAUTH_REJECT, MSGAUTH_TEMPFAIL };
/* "accept", "quarantine", "reject", "tempfail" */
const char *msgauth_action_name(enum msgauth_action a);

#define MSGAUTH_QUARANTINE_FIELD "X-Mailctl-Quarantine"

struct msgauth_result {
	int outbound; /* signed (or would have been) rather than checked */
	enum msgauth_action action;
	char smtp_code[4];         /* "550", "451" for REJECT and TEMPFAIL, else "" */
	char smtp_xcode[8];        /* "5.7.1", "4.7.1" */
	char smtp_text[512];       /* the reply text */
	char *authres;             /* inbound: the Authentication-Results value, leading space */
	char *quarantine;          /* QUARANTINE: the X-Mailctl-Quarantine value */
	size_t *remove_authres;    /* 1-based indexes among the Authentication-Results fields */
	size_t nremove_authres;    /*   to delete (they claim our authserv-id) */
	size_t nremove_quarantine; /* X-Mailctl-Quarantine fields to delete (all of them) */
	char **signatures;         /* outbound: DKIM-Signature values, in insertion order */
	size_t nsignatures;
	struct spf_outcome spf, spf_helo;
	struct dkim_verdict *dkim;
	size_t ndkim;
	struct dmarc_outcome dmarc;
	struct strbuf report; /* one line per method and decision, for humans and logs */
};

struct msgauth;

/* 'env', 'pol' and 'keys' (NULL: sign nothing) must outlive the message. */
struct msgauth *msgauth_new(const struct msgauth_env *env, const struct msgauth_policy *pol,
                            const struct msgauth_keys *keys);
void msgauth_free(struct msgauth *m);

/* 1 when the message is outbound (will be signed, not checked). */
int msgauth_outbound(const struct msgauth *m);

void msgauth_header(struct msgauth *m, const char *name, const char *value);
void msgauth_eoh(struct msgauth *m);
void msgauth_body(struct msgauth *m, const void *data, size_t len);

/* Decide. 'sample' (0-99) is compared with the DMARC pct= tag. */
void msgauth_finish(struct msgauth *m, dnsq_lookup_fn fn, void *ctx, time_t now, unsigned sample,
                    struct msgauth_result *out);
void msgauth_result_release(struct msgauth_result *r);

/* Whether an Authentication-Results value claims 'authserv_id' (RFC 8601
 * 2.2: the first token, after any comments, compared without case). */
int msgauth_authres_claims(const char *value, const char *authserv_id);

#endif
