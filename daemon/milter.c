/* The libmilter callbacks: each message goes through lib/msgauth.h and
 * its result becomes header changes and the SMTP reply. Any failure of
 * our own tempfails the message (never accepted unsigned or unchecked).
 *
 * We decide nothing before the end of the message, so we ask the MTA not
 * to wait for our reply to CONNECT, HELO, MAIL, each header field, the
 * end of the header and each body chunk (the SMFIP_NR_* steps Postfix
 * and Sendmail offer): one round trip per message instead of one per
 * step. A failure in such a step is remembered and tempfails the message
 * at its end. Nor do we need the steps RCPT, DATA, unknown commands and
 * the end of the header (SMFIP_NO*): the header is over when the first
 * body chunk or the end of the message comes. */
#include "mailctld.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

struct msg {
	struct state *st;
	struct msgauth_env env;
	char mail_from[512];
	char auth_user[256];
	struct msgauth *ma;
};

/* The steps whose reply we ask the MTA not to wait for. */
#define NO_REPLY                                                                                   \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH |             \
	 SMFIP_NR_BODY)

struct conn {
	char ip[INET6_ADDRSTRLEN];
	char helo[256];
	int local;
	int leadspc;           /* header values come with their leading space */
	unsigned long noreply; /* the NO_REPLY steps the MTA agreed to */
	int failed;            /* a step without reply failed: tempfail at the end */
	struct msg *msg;
};

/* Go on after a step: without a word when the MTA waits for none. */
static sfsistat go_on(const struct conn *c, unsigned long step)
{
	return c->noreply & step ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* A step failed: tempfail now, or at the end of the message when the MTA
 * waits for no reply to this step. */
static sfsistat step_failed(struct conn *c, unsigned long step)
{
	if (!c || !(c->noreply & step))
		return SMFIS_TEMPFAIL;
	c->failed = 1;
	return SMFIS_NOREPLY;
}

static void msg_end(struct conn *c)
{
	if (!c || !c->msg)
		return;
	msgauth_free(c->msg->ma);
	state_release(c->msg->st);
	free(c->msg);
	c->msg = NULL;
}

static const char *qid(SMFICTX *ctx)
{
	const char *i = smfi_getsymval(ctx, "i");
	return i && *i ? i : "NOQUEUE";
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	struct conn *c = xcalloc(1, sizeof(*c));
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	             SMFIP_NOEOH | NO_REPLY);
	*pf2 = *pf3 = 0;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->noreply = *pf1 & NO_REPLY;
	if ((*pf0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) != (SMFIF_ADDHDRS | SMFIF_CHGHDRS)) {
		log_msg(LOG_ERR, "the MTA does not let us add and change header fields");
		free(c);
		return SMFIS_REJECT;
	}
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static int is_loopback(const char *ip)
{
	return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1");
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	struct conn *c = smfi_getpriv(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	c->failed = 0;
	c->ip[0] = 0;
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, c->ip,
		          sizeof(c->ip));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)(void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], c->ip, sizeof(c->ip));
		else
			inet_ntop(AF_INET6, a, c->ip, sizeof(c->ip));
	}
	/* No address (the sendmail command) or loopback: mail made here. */
	c->local = !c->ip[0] || is_loopback(c->ip);
	return go_on(c, SMFIP_NR_CONN);
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	snprintf(c->helo, sizeof(c->helo), "%s", helo ? helo : "");
	return go_on(c, SMFIP_NR_HELO);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c)
		return SMFIS_TEMPFAIL;
	msg_end(c);
	c->failed = 0;
	struct msg *m = c->msg = xcalloc(1, sizeof(*m));
	const char *from = argv && argv[0] ? argv[0] : "";
	size_t n = strlen(from);
	if (n >= 2 && from[0] == '<' && from[n - 1] == '>')
		snprintf(m->mail_from, sizeof(m->mail_from), "%.*s", (int)(n - 2), from + 1);
	else
		snprintf(m->mail_from, sizeof(m->mail_from), "%s", from);
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");
	snprintf(m->auth_user, sizeof(m->auth_user), "%s", auth ? auth : "");
	m->st = state_acquire();
	m->env = (struct msgauth_env){.ip = c->ip,
	                              .helo = c->helo,
	                              .mail_from = m->mail_from,
	                              .auth_user = m->auth_user,
	                              .local = c->local,
	                              .receiver = m->st->hostname};
	m->ma = msgauth_new(&m->env, &m->st->policy, m->st->keys);
	return go_on(c, SMFIP_NR_MAIL);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c || !c->msg)
		return step_failed(c, SMFIP_NR_HDR);
	if (c->leadspc) {
		msgauth_header(c->msg->ma, name, value);
	} else {
		char *v = xasprintf(" %s", value);
		msgauth_header(c->msg->ma, name, v);
		free(v);
	}
	return go_on(c, SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c || !c->msg)
		return step_failed(c, SMFIP_NR_EOH);
	msgauth_eoh(c->msg->ma);
	return go_on(c, SMFIP_NR_EOH);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c || !c->msg)
		return step_failed(c, SMFIP_NR_BODY);
	msgauth_eoh(c->msg->ma); /* the end of the header, when the MTA skips EOH */
	msgauth_body(c->msg->ma, data, len);
	return go_on(c, SMFIP_NR_BODY);
}

/* A header value for the MTA: line breaks as LF (Postfix adds CRs). */
static char *lf_value(const char *v)
{
	char *out = xstrdup(v), *w = out;
	for (const char *r = v; *r; r++)
		if (!(*r == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = 0;
	return out;
}

static int put_header(SMFICTX *ctx, int insert, const char *name, const char *value)
{
	char *v = lf_value(value);
	int rc =
	    insert ? smfi_insheader(ctx, 0, (char *)name, v) : smfi_addheader(ctx, (char *)name, v);
	free(v);
	return rc == MI_SUCCESS ? 0 : -1;
}

/* Apply the header changes of 'r'; -1 when the MTA refused one. */
static int apply_changes(SMFICTX *ctx, const struct msgauth_result *r)
{
	int rc = 0;
	/* From the last, so earlier indexes stay right whatever the MTA does. */
	for (size_t i = r->nremove_authres; i > 0; i--)
		if (smfi_chgheader(ctx, "Authentication-Results", (int)r->remove_authres[i - 1],
		                   NULL) != MI_SUCCESS)
			rc = -1;
	for (size_t i = r->nremove_quarantine; i > 0; i--)
		if (smfi_chgheader(ctx, MSGAUTH_QUARANTINE_FIELD, (int)i, NULL) != MI_SUCCESS)
			rc = -1;
	for (size_t i = 0; i < r->nsignatures && rc == 0; i++)
		rc = put_header(ctx, 1, "DKIM-Signature", r->signatures[i]);
	if (rc == 0 && r->authres)
		rc = put_header(ctx, 1, "Authentication-Results", r->authres);
	if (rc == 0 && r->quarantine)
		rc = put_header(ctx, 0, MSGAUTH_QUARANTINE_FIELD, r->quarantine);
	return rc;
}

static void log_result(SMFICTX *ctx, const struct conn *c, const struct msgauth_result *r)
{
	if (r->outbound) {
		log_msg(LOG_INFO, "%s: outbound from %s%s: %zu signature(s), %s", qid(ctx),
		        c->msg->auth_user[0] ? "user " : "",
		        c->msg->auth_user[0] ? c->msg->auth_user : "local", r->nsignatures,
		        msgauth_action_name(r->action));
		return;
	}
	log_msg(LOG_INFO, "%s: inbound from %s: spf=%s dkim=%s dmarc=%s (%s): %s%s%s", qid(ctx),
	        c->ip, spf_result_name(r->spf.result),
	        r->ndkim ? dkim_result_name(r->dkim[0].result) : "none",
	        dmarc_result_name(r->dmarc.result), r->dmarc.header_from,
	        msgauth_action_name(r->action), r->smtp_code[0] ? " " : "", r->smtp_text);
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (!c || !c->msg || c->failed) {
		if (c && c->failed)
			log_msg(LOG_ERR, "%s: the message came out of order: tempfail", qid(ctx));
		msg_end(c);
		return SMFIS_TEMPFAIL;
	}
	struct state *st = c->msg->st;
	struct dnsq d;
	struct msgauth_result r;
	msgauth_eoh(c->msg->ma); /* no body chunk came: the header ended here */
	dnsq_init(&d, &st->resolver);
	d.timeout_ms = (int)st->cfg.milter_dns_budget_ms;
	d.cache = st->dns_cache;
	/* The DMARC pct= sample, only for inbound mail (a getrandom() call each). */
	unsigned sample = msgauth_outbound(c->msg->ma) ? 0 : arc4random_uniform(100);
	msgauth_finish(c->msg->ma, dnsq_lookup_now, &d, time(NULL), sample, &r);
	dnsq_release(&d);
	sfsistat rc = SMFIS_CONTINUE;
	if (r.action == MSGAUTH_REJECT || r.action == MSGAUTH_TEMPFAIL) {
		smfi_setreply(ctx, r.smtp_code, r.smtp_xcode, r.smtp_text);
		rc = r.action == MSGAUTH_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	} else if (apply_changes(ctx, &r) < 0) {
		log_msg(LOG_ERR, "%s: the MTA refused a header change: tempfail", qid(ctx));
		rc = SMFIS_TEMPFAIL;
	}
	log_result(ctx, c, &r);
	if (r.action != MSGAUTH_ACCEPT || r.nsignatures == 0)
		log_msg(LOG_DEBUG, "%s: %s", qid(ctx), r.report.buf);
	msgauth_result_release(&r);
	msg_end(c);
	return rc;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	msg_end(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	msg_end(c);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int milter_register(void)
{
	static struct smfiDesc desc = {
	    .xxfi_name = "mailctld",
	    .xxfi_version = SMFI_VERSION,
	    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	    .xxfi_connect = on_connect,
	    .xxfi_helo = on_helo,
	    .xxfi_envfrom = on_envfrom,
	    .xxfi_header = on_header,
	    .xxfi_eoh = on_eoh,
	    .xxfi_body = on_body,
	    .xxfi_eom = on_eom,
	    .xxfi_abort = on_abort,
	    .xxfi_close = on_close,
	    .xxfi_negotiate = on_negotiate,
	};
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
