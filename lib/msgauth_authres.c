/* Authentication-Results (RFC 8601): reading who a field claims to be,
 * and writing ours. */
#include "msgauth_int.h"
#include "xalloc.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Skip white space and (nested) comments. */
static const char *skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			return s;
		int depth = 0;
		do {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			s++;
		} while (*s && depth > 0);
	}
}

int msgauth_authres_claims(const char *value, const char *authserv_id)
{
	const char *s = skip_cfws(value);
	size_t n;
	if (*s == '"') { /* a quoted-string authserv-id (RFC 8601 2.2 "value") */
		s++;
		n = strcspn(s, "\"");
		if (memchr(s, '\\', n))
			return 0; /* no host name needs quoted-pairs */
	} else {
		n = strcspn(s, " \t\r\n;(");
	}
	size_t want = strlen(authserv_id);
	if (want && authserv_id[want - 1] == '.')
		want--;
	if (n && s[n - 1] == '.')
		n--; /* a trailing dot names the same host */
	return n > 0 && n == want && strncasecmp(s, authserv_id, n) == 0;
}

/* A property value as RFC 8601 allows it: a dot-atom address or domain
 * as is, anything else as a quoted string. */
static void add_pvalue(struct strbuf *sb, const char *v)
{
	int plain = *v != 0;
	for (const char *p = v; *p && plain; p++)
		plain = isalnum((unsigned char)*p) || strchr(".-_@+=!#$%&'*/?^`{|}~", *p);
	if (plain) {
		strbuf_addstr(sb, v);
		return;
	}
	strbuf_addch(sb, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addch(sb, '\\');
		if ((unsigned char)*p >= 0x20)
			strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '"');
}

static void add_spf(struct strbuf *sb, const struct msgauth_env *env,
                    const struct msgauth_result *r)
{
	strbuf_addf(sb, ";\r\n\tspf=%s", spf_result_name(r->spf.result));
	if (env->mail_from && env->mail_from[0]) {
		strbuf_addstr(sb, " smtp.mailfrom=");
		add_pvalue(sb, env->mail_from);
	} else if (env->helo && env->helo[0]) {
		strbuf_addstr(sb, " smtp.helo=");
		add_pvalue(sb, env->helo);
	}
}

static void add_dkim(struct strbuf *sb, const struct msgauth_result *r)
{
	if (r->ndkim == 0)
		strbuf_addstr(sb, ";\r\n\tdkim=none");
	for (size_t i = 0; i < r->ndkim; i++) {
		const struct dkim_verdict *v = &r->dkim[i];
		strbuf_addf(sb, ";\r\n\tdkim=%s", dkim_result_name(v->result));
		if (v->domain[0]) {
			strbuf_addstr(sb, " header.d=");
			add_pvalue(sb, v->domain);
		}
		if (v->selector[0]) {
			strbuf_addstr(sb, " header.s=");
			add_pvalue(sb, v->selector);
		}
		if (v->algorithm[0]) {
			strbuf_addstr(sb, " header.a=");
			add_pvalue(sb, v->algorithm);
		}
		if (v->b_prefix[0]) {
			strbuf_addstr(sb, " header.b=");
			add_pvalue(sb, v->b_prefix);
		}
	}
}

char *msgauth_authres_build(const char *authserv_id, const struct msgauth_env *env,
                            const struct msgauth_result *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, " %s", authserv_id);
	add_spf(&sb, env, r);
	add_dkim(&sb, r);
	strbuf_addf(&sb, ";\r\n\tdmarc=%s", dmarc_result_name(r->dmarc.result));
	if (r->dmarc.policy[0])
		strbuf_addf(&sb, " (p=%s dis=%s)", r->dmarc.policy,
		            r->dmarc.disposition[0] ? r->dmarc.disposition : "none");
	if (r->dmarc.header_from[0]) {
		strbuf_addstr(&sb, " header.from=");
		add_pvalue(&sb, r->dmarc.header_from);
	}
	return strbuf_detach(&sb);
}
