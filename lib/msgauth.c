/* One message through the milter's logic; see msgauth.h. */
#include "msgauth.h"
#include "msgauth_int.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FROM 8 /* From fields kept; more is as bad as two */

struct msgauth {
	const struct msgauth_env *env;
	const struct msgauth_policy *pol;
	const struct msgauth_keys *keys;
	int outbound;
	struct dkim_msg *dkim;
	char *from[MAX_FROM];
	size_t nfrom;    /* From fields seen (may exceed MAX_FROM) */
	size_t nauthres; /* Authentication-Results fields seen */
	size_t *claims;  /* which of them claim our authserv-id */
	size_t nclaims;
	size_t nquarantine;
};

const char *msgauth_action_name(enum msgauth_action a)
{
	static const char *const names[] = {"accept", "quarantine", "reject", "tempfail"};
	return (unsigned)a < 4 ? names[a] : "?";
}

struct msgauth *msgauth_new(const struct msgauth_env *env, const struct msgauth_policy *pol,
                            const struct msgauth_keys *keys)
{
	struct msgauth *m = xcalloc(1, sizeof(*m));
	m->env = env;
	m->pol = pol;
	m->keys = keys;
	m->outbound = (env->auth_user && env->auth_user[0]) || env->local;
	m->dkim = dkim_msg_new();
	return m;
}

void msgauth_free(struct msgauth *m)
{
	if (!m)
		return;
	dkim_msg_free(m->dkim);
	for (size_t i = 0; i < m->nfrom && i < MAX_FROM; i++)
		free(m->from[i]);
	free(m->claims);
	free(m);
}

int msgauth_outbound(const struct msgauth *m)
{
	return m->outbound;
}

void msgauth_header(struct msgauth *m, const char *name, const char *value)
{
	if (!strcasecmp(name, "From")) {
		if (m->nfrom < MAX_FROM)
			m->from[m->nfrom] = xstrdup(value);
		m->nfrom++;
	} else if (!strcasecmp(name, "Authentication-Results")) {
		m->nauthres++;
		if (msgauth_authres_claims(value, m->pol->authserv_id)) {
			m->claims = xrealloc(m->claims, (m->nclaims + 1) * sizeof(*m->claims));
			m->claims[m->nclaims++] = m->nauthres;
		}
	} else if (!strcasecmp(name, MSGAUTH_QUARANTINE_FIELD)) {
		m->nquarantine++;
	}
	dkim_msg_header(m->dkim, name, value);
}

void msgauth_eoh(struct msgauth *m)
{
	dkim_msg_eoh(m->dkim, m->outbound);
}

void msgauth_body(struct msgauth *m, const void *data, size_t len)
{
	dkim_msg_body(m->dkim, data, len);
}

static void set_reply(struct msgauth_result *r, enum msgauth_action a, const char *code,
                      const char *xcode, const char *text)
{
	r->action = a;
	snprintf(r->smtp_code, sizeof(r->smtp_code), "%s", code);
	snprintf(r->smtp_xcode, sizeof(r->smtp_xcode), "%s", xcode);
	snprintf(r->smtp_text, sizeof(r->smtp_text), "%s", text);
}

/* The one From domain of the message, or NULL (with the reason); 'doms'
 * has room for DMARC_MAX_AUTHORS. */
static const char *from_domain(struct msgauth *m, char (*doms)[256], const char **why)
{
	if (m->nfrom != 1) {
		*why = m->nfrom ? "several From fields" : "no From field";
		return NULL;
	}
	size_t n = dmarc_from_domains((const char *const *)m->from, 1, doms, DMARC_MAX_AUTHORS);
	if (n == 0) {
		*why = "no address in the From field";
		return NULL;
	}
	if (n > DMARC_MAX_AUTHORS) {
		*why = "too many From addresses";
		return NULL;
	}
	for (size_t i = 1; i < n; i++)
		if (strcasecmp(doms[0], doms[i]) != 0) {
			*why = "From addresses of several domains";
			return NULL;
		}
	return doms[0];
}

static void sign(struct msgauth *m, time_t now, struct msgauth_result *r)
{
	char doms[DMARC_MAX_AUTHORS][256];
	const char *why = NULL, *dom = from_domain(m, doms, &why);
	if (!dom) {
		strbuf_addf(&r->report, "dkim: not signed: %s\n", why);
		return;
	}
	for (size_t i = 0; m->keys && i < m->keys->n; i++) {
		const struct msgauth_key *k = &m->keys->v[i];
		struct mc_error err = {0};
		char *value = NULL;
		if (strcasecmp(k->domain, dom) != 0)
			continue;
		if (dkim_msg_sign(m->dkim, k->domain, k->selector, k->key, now, &value, &err) < 0) {
			strbuf_addf(&r->report, "dkim: signing with %s of %s failed: %s\n",
			            k->selector, k->domain, err.msg);
			/* Never out unsigned: a message that can never be signed (a
			 * header over the limits) is refused, anything else deferred. */
			if (err.kind == MC_EDATA)
				set_reply(
				    r, MSGAUTH_REJECT, "550", "5.7.0",
				    "the message cannot be DKIM-signed: its header is too large");
			else if (r->action != MSGAUTH_REJECT)
				set_reply(r, MSGAUTH_TEMPFAIL, "451", "4.7.0",
				          "the message could not be DKIM-signed; try again later");
			continue;
		}
		r->signatures = xrealloc(r->signatures, (r->nsignatures + 1) * sizeof(char *));
		r->signatures[r->nsignatures++] = value;
		strbuf_addf(&r->report, "dkim: signed as %s with selector %s (%s)\n", k->domain,
		            k->selector, dkim_key_algorithm(k->key));
	}
	if (r->nsignatures == 0 && r->action == MSGAUTH_ACCEPT)
		strbuf_addf(&r->report, "dkim: not signed: %s has no active key\n", dom);
}

static void check_spf(struct msgauth *m, dnsq_lookup_fn fn, void *ctx, time_t now,
                      struct msgauth_result *r)
{
	struct spf_request req = {.ip = m->env->ip,
	                          .helo = m->env->helo,
	                          .sender = m->env->mail_from ? m->env->mail_from : "",
	                          .receiver = m->env->receiver,
	                          .now = now};
	if (!m->env->ip || !m->env->ip[0]) {
		/* Only 'mailctl check' without --ip: nothing to check against. */
		r->spf.result = r->spf_helo.result = SPF_NONE;
		snprintf(r->spf.why, sizeof(r->spf.why), "no client address to check");
		snprintf(r->spf_helo.why, sizeof(r->spf_helo.why), "no client address to check");
	} else {
		spf_check_mailfrom(&req, fn, ctx, &r->spf);
		spf_check_helo(&req, fn, ctx, &r->spf_helo);
	}
	strbuf_addf(&r->report, "spf: %s for %s (%s)\n", spf_result_name(r->spf.result),
	            r->spf.sender[0] ? r->spf.sender : "<>", r->spf.why);
	strbuf_addf(&r->report, "spf (helo): %s for %s (%s)\n", spf_result_name(r->spf_helo.result),
	            r->spf_helo.domain[0] ? r->spf_helo.domain : "-", r->spf_helo.why);
}

static void check_dkim(struct msgauth *m, dnsq_lookup_fn fn, void *ctx, time_t now,
                       struct msgauth_result *r)
{
	r->ndkim = dkim_msg_verify(m->dkim, fn, ctx, now, &r->dkim);
	if (r->ndkim == 0)
		strbuf_addstr(&r->report, "dkim: none (the message is not signed)\n");
	for (size_t i = 0; i < r->ndkim; i++)
		strbuf_addf(&r->report, "dkim: %s for d=%s s=%s%s%s%s\n",
		            dkim_result_name(r->dkim[i].result), r->dkim[i].domain,
		            r->dkim[i].selector, r->dkim[i].why[0] ? " (" : "", r->dkim[i].why,
		            r->dkim[i].why[0] ? ")" : "");
}

static void check_dmarc(struct msgauth *m, dnsq_lookup_fn fn, void *ctx, unsigned sample,
                        struct msgauth_result *r)
{
	struct dmarc_dkim_input *dk = xcalloc(r->ndkim + 1, sizeof(*dk));
	for (size_t i = 0; i < r->ndkim; i++)
		dk[i] =
		    (struct dmarc_dkim_input){r->dkim[i].domain, r->dkim[i].result == DKIM_PASS};
	struct dmarc_input in = {.from_values = (const char *const *)m->from,
	                         .nfrom = m->nfrom < MAX_FROM ? m->nfrom : MAX_FROM,
	                         .spf_domain = r->spf.domain,
	                         .spf_pass = r->spf.result == SPF_PASS,
	                         .dkim = dk,
	                         .ndkim = r->ndkim,
	                         .sample = sample};
	dmarc_evaluate(&in, fn, ctx, &r->dmarc);
	free(dk);
	strbuf_addf(&r->report, "dmarc: %s for %s (%s)\n", dmarc_result_name(r->dmarc.result),
	            r->dmarc.header_from[0] ? r->dmarc.header_from : "-", r->dmarc.why);
}

/* Same organisational domain (relaxed alignment, the loosest a policy
 * can ask for). */
static int may_align(const char *a, const char *b)
{
	char oa[256], ob[256];
	return a && b && a[0] && b[0] && dmarc_org_domain(a, oa, sizeof(oa)) == 0 &&
	       dmarc_org_domain(b, ob, sizeof(ob)) == 0 && strcasecmp(oa, ob) == 0;
}

/* Whether a temporary SPF or DKIM error could have turned DMARC to pass:
 * only a check of an identity that may align with the From domain. */
static int auth_temperror(const struct msgauth_result *r)
{
	const char *from = r->dmarc.header_from;
	if (r->spf.result == SPF_TEMPERROR && may_align(r->spf.domain, from))
		return 1;
	for (size_t i = 0; i < r->ndkim; i++)
		if (r->dkim[i].result == DKIM_TEMPERROR && may_align(r->dkim[i].domain, from))
			return 1;
	return 0;
}

/* SPF or DKIM passed for exactly the From domain: DMARC passes whatever
 * the record says, so not getting the record changes nothing. */
static int exact_pass(const struct msgauth_result *r)
{
	const char *from = r->dmarc.header_from;
	if (!from[0])
		return 0;
	if (r->spf.result == SPF_PASS && !strcasecmp(r->spf.domain, from))
		return 1;
	for (size_t i = 0; i < r->ndkim; i++)
		if (r->dkim[i].result == DKIM_PASS && !strcasecmp(r->dkim[i].domain, from))
			return 1;
	return 0;
}

static void decide(struct msgauth *m, struct msgauth_result *r)
{
	const struct msgauth_policy *p = m->pol;
	char text[512];
	if (m->nfrom != 1 && p->dmarc_reject) {
		set_reply(r, MSGAUTH_REJECT, "550", "5.7.1",
		          "message rejected: it must have exactly one From field (RFC 5322 3.6)");
		return;
	}
	char doms[DMARC_MAX_AUTHORS][256];
	const char *why = NULL;
	if (!from_domain(m, doms, &why) && m->nfrom == 1 && p->dmarc_reject) {
		/* No author domain may hide behind another's (RFC 7489 6.6.1). */
		snprintf(text, sizeof(text), "message rejected: %s in the From field", why);
		set_reply(r, MSGAUTH_REJECT, "550", "5.7.1", text);
		return;
	}
	if (r->dmarc.result == DMARC_TEMPERROR && (p->dmarc_reject || p->dmarc_quarantine) &&
	    !exact_pass(r)) {
		snprintf(text, sizeof(text),
		         "the DMARC policy of %s could not be looked up; try again later",
		         r->dmarc.header_from);
		set_reply(r, MSGAUTH_TEMPFAIL, "451", "4.7.1", text);
		return;
	}
	if (r->dmarc.result != DMARC_FAIL)
		return;
	const char *dis = r->dmarc.disposition;
	int reject = !strcmp(dis, "reject") && p->dmarc_reject;
	int quarantine = !reject && (!strcmp(dis, "reject") || !strcmp(dis, "quarantine")) &&
	                 p->dmarc_quarantine;
	if ((reject || quarantine) && auth_temperror(r)) {
		set_reply(r, MSGAUTH_TEMPFAIL, "451", "4.7.1",
		          "SPF or DKIM could not be checked for now (DNS); try again later");
	} else if (reject) {
		snprintf(text, sizeof(text),
		         "message rejected: it fails the DMARC policy of %s "
		         "(neither SPF nor DKIM authenticates the From domain)",
		         r->dmarc.policy_domain[0] ? r->dmarc.policy_domain : r->dmarc.header_from);
		set_reply(r, MSGAUTH_REJECT, "550", "5.7.1", text);
	} else if (quarantine) {
		r->action = MSGAUTH_QUARANTINE;
		r->quarantine =
		    xasprintf(" dmarc=fail policy=%s header.from=%s", dis, r->dmarc.header_from);
	}
}

void msgauth_finish(struct msgauth *m, dnsq_lookup_fn fn, void *ctx, time_t now, unsigned sample,
                    struct msgauth_result *out)
{
	memset(out, 0, sizeof(*out));
	strbuf_init(&out->report);
	out->outbound = m->outbound;
	out->nremove_quarantine = m->nquarantine;
	if (m->outbound) {
		sign(m, now, out);
	} else {
		check_spf(m, fn, ctx, now, out);
		check_dkim(m, fn, ctx, now, out);
		check_dmarc(m, fn, ctx, sample, out);
		decide(m, out);
		out->authres = msgauth_authres_build(m->pol->authserv_id, m->env, out);
	}
	/* Claims of our authserv-id go, outbound too (RFC 8601 5): a user must
	 * not hand a local recipient a verdict in our name. */
	if (m->nclaims) {
		out->remove_authres = xcalloc(m->nclaims, sizeof(size_t));
		memcpy(out->remove_authres, m->claims, m->nclaims * sizeof(size_t));
		out->nremove_authres = m->nclaims;
	}
	strbuf_addf(&out->report, "action: %s%s%s%s%s\n", msgauth_action_name(out->action),
	            out->smtp_code[0] ? " " : "", out->smtp_code, out->smtp_code[0] ? " " : "",
	            out->smtp_text);
}

void msgauth_result_release(struct msgauth_result *r)
{
	free(r->authres);
	free(r->quarantine);
	free(r->remove_authres);
	for (size_t i = 0; i < r->nsignatures; i++)
		free(r->signatures[i]);
	free(r->signatures);
	free(r->dkim);
	strbuf_release(&r->report);
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->report);
}
