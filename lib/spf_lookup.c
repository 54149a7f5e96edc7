/* The DNS side of an SPF evaluation: the client address and the sender,
 * asking through the lookup callback, target names, macro variables, and
 * the client's validated PTR names for ptr and %{p}; see spf_eval.h. */
#include "spf_eval.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The client address, with IPv4-mapped IPv6 taken as IPv4 (RFC 7208 5). */
static void set_ip(struct spf_eval *ev, const char *text)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char b[16];
	ev->family = 0;
	if (!text)
		return;
	if (inet_pton(AF_INET, text, b) == 1)
		ev->family = AF_INET;
	else if (inet_pton(AF_INET6, text, b) == 1) {
		ev->family = memcmp(b, mapped, 12) ? AF_INET6 : AF_INET;
		if (ev->family == AF_INET)
			memmove(b, b + 12, 4);
	} else
		return;
	memcpy(ev->ip, b, ev->family == AF_INET ? 4 : 16);
	inet_ntop(ev->family, ev->ip, ev->c, sizeof(ev->c));
	ev->v = ev->family == AF_INET ? "in-addr" : "ip6";
	if (ev->family == AF_INET) {
		snprintf(ev->i, sizeof(ev->i), "%s", ev->c);
		return;
	}
	for (int k = 0; k < 32; k++) /* nibbles, upper case as the RFC test suite has them */
		snprintf(ev->i + 2 * k, sizeof(ev->i) - 2 * (size_t)k, k < 31 ? "%X." : "%X",
		         (ev->ip[k / 2] >> (k % 2 ? 0 : 4)) & 15);
}

/* <sender>: the local part before the last '@', "postmaster" when there
 * is none (RFC 7208 4.3); no sender at all means postmaster@<domain>. */
static void set_sender(struct spf_eval *ev, const char *domain, const char *sender)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	if (!sender)
		ev->local = xstrdup("postmaster"), ev->odomain = xstrdup(domain);
	else if (!at)
		ev->local = xstrdup("postmaster"), ev->odomain = xstrdup(sender);
	else {
		ev->local =
		    at == sender ? xstrdup("postmaster") : xstrndup(sender, (size_t)(at - sender));
		ev->odomain = xstrdup(at + 1);
	}
	ev->sender = xasprintf("%s@%s", ev->local, ev->odomain);
}

void spf_eval_init(struct spf_eval *ev, const struct spf_request *req, const char *domain,
                   const char *sender, dnsq_lookup_fn fn, void *ctx, struct spf_outcome *out)
{
	memset(ev, 0, sizeof(*ev));
	ev->req = req;
	ev->fn = fn;
	ev->ctx = ctx;
	ev->out = out;
	set_ip(ev, req->ip);
	set_sender(ev, domain, sender);
}

void spf_eval_release(struct spf_eval *ev)
{
	for (size_t i = 0; i < ev->nptr; i++)
		free(ev->ptr[i]);
	free(ev->ptr);
	free(ev->valid);
	free(ev->sender);
	free(ev->local);
	free(ev->odomain);
	ev->ptr = NULL;
	ev->valid = NULL;
	ev->sender = ev->local = ev->odomain = NULL;
	ev->nptr = 0;
}

ldns_rr_type spf_addr_type(const struct spf_eval *ev)
{
	return ev->family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
}

static const char *type_name(ldns_rr_type t)
{
	switch (t) {
	case LDNS_RR_TYPE_A:
		return "A";
	case LDNS_RR_TYPE_AAAA:
		return "AAAA";
	case LDNS_RR_TYPE_MX:
		return "MX";
	case LDNS_RR_TYPE_PTR:
		return "PTR";
	default:
		return "TXT";
	}
}

/* A name a query can be made of: labels of 1..63 octets, 253 in all. */
static int name_queryable(const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0, l = 0; i <= n; i++, l++) {
		if (i < n && name[i] != '.')
			continue;
		if (l == 0 || l > 63)
			return 0;
		l = (size_t)-1;
	}
	return 1;
}

int spf_ask(struct spf_eval *ev, const char *name, ldns_rr_type type, const ldns_rr_list **rrs)
{
	struct dnsq_answer a = {0};
	size_t len = strlen(name);
	*rrs = NULL;
	if (!name_queryable(name))
		return 0;
	char *abs = len && name[len - 1] == '.' ? xstrdup(name) : xasprintf("%s.", name);
	ev->fn(ev->ctx, abs, type, &a);
	free(abs);
	switch (a.status) {
	case DNSQ_ANSWER:
		*rrs = a.rrs;
		return a.rrs && ldns_rr_list_rr_count(a.rrs) ? 1 : 0;
	case DNSQ_NODATA:
	case DNSQ_NXDOMAIN:
		return 0;
	case DNSQ_PENDING:
		return spf_stop(ev, SPF_PENDING, "waiting for the %s records of %s",
		                type_name(type), name);
	default:
		return spf_stop(ev, SPF_TEMPERROR, "%s looking up the %s records of %s",
		                dnsq_status_name(a.status), type_name(type), name);
	}
}

char *spf_dname(const ldns_rdf *rd)
{
	char *s = rd ? ldns_rdf2str(rd) : NULL;
	size_t n = s ? strlen(s) : 0;
	if (n && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s ? s : xstrdup("");
}

/* ---- PTR names (RFC 7208 5.5) ---- */

static char *reverse_name(const struct spf_eval *ev)
{
	struct strbuf sb = STRBUF_INIT;
	if (ev->family == AF_INET)
		strbuf_addf(&sb, "%u.%u.%u.%u.in-addr.arpa", ev->ip[3], ev->ip[2], ev->ip[1],
		            ev->ip[0]);
	else {
		for (int k = 31; k >= 0; k--)
			strbuf_addf(&sb, "%x.", (ev->ip[k / 2] >> (k % 2 ? 0 : 4)) & 15);
		strbuf_addstr(&sb, "ip6.arpa");
	}
	return strbuf_detach(&sb);
}

/* The first SPF_MAX_NAMES PTR names, asked once; a DNS error leaves none
 * (the ptr term then does not match, %{p} is "unknown"). 0 or -(pending). */
static int ptr_names(struct spf_eval *ev)
{
	const ldns_rr_list *rrs;
	if (ev->ptr_asked)
		return 0;
	char *rev = reverse_name(ev);
	int r = spf_ask(ev, rev, LDNS_RR_TYPE_PTR, &rrs);
	free(rev);
	if (r == -SPF_PENDING)
		return r;
	ev->ptr_asked = 1;
	size_t n = r > 0 ? ldns_rr_list_rr_count(rrs) : 0;
	n = n > SPF_MAX_NAMES ? SPF_MAX_NAMES : n;
	ev->ptr = xcalloc(n ? n : 1, sizeof(*ev->ptr));
	ev->valid = xcalloc(n ? n : 1, sizeof(*ev->valid));
	for (size_t i = 0; i < n; i++) {
		ev->ptr[i] = spf_dname(ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0));
		ev->valid[i] = -1;
	}
	ev->nptr = n;
	return 0;
}

/* Whether PTR name 'k' has an address record equal to the client's:
 * 1, 0 (also on a DNS error: the name is skipped), or -(pending). */
static int validate(struct spf_eval *ev, size_t k)
{
	const ldns_rr_list *rrs;
	if (ev->valid[k] >= 0)
		return ev->valid[k];
	int r = spf_ask(ev, ev->ptr[k], spf_addr_type(ev), &rrs);
	if (r == -SPF_PENDING)
		return r;
	size_t size = ev->family == AF_INET ? 4 : 16;
	ev->valid[k] = 0;
	for (size_t i = 0; r > 0 && i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
		if (rd && ldns_rdf_size(rd) == size && !memcmp(ldns_rdf_data(rd), ev->ip, size))
			ev->valid[k] = 1;
	}
	return ev->valid[k];
}

/* 2 when 'name' is 'domain', 1 when it is a subdomain of it, else 0;
 * without regard to case or a final dot. */
static int under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);
	n -= n && name[n - 1] == '.';
	d -= d && domain[d - 1] == '.';
	if (n == d)
		return d && !strncasecmp(name, domain, d) ? 2 : 0;
	return d && n > d && name[n - d - 1] == '.' && !strncasecmp(name + n - d, domain, d);
}

int spf_ptr_match(struct spf_eval *ev, const char *target)
{
	int r = ptr_names(ev);
	for (size_t k = 0; r == 0 && k < ev->nptr; k++)
		if (under(ev->ptr[k], target))
			r = validate(ev, k);
	return r;
}

/* %{p}: a validated name, preferring 'domain' itself, then its
 * subdomains, then any; "unknown" when none. 0 or -(pending). */
static int validated_name(struct spf_eval *ev, const char *domain, char **out)
{
	int r = ptr_names(ev);
	for (int want = 2; r == 0 && want >= 0; want--)
		for (size_t k = 0; r == 0 && k < ev->nptr; k++)
			if (under(ev->ptr[k], domain) == want && (r = validate(ev, k)) == 1) {
				*out = xstrdup(ev->ptr[k]);
				return 0;
			}
	*out = xstrdup("unknown");
	return r < 0 ? r : 0;
}

/* ---- macros and targets ---- */

int spf_expand_text(struct spf_eval *ev, const char *domain, const char *text, int explanation,
                    struct strbuf *out)
{
	char *p = NULL;
	int r = 0;
	if (spf_macro_check(text, explanation) < 0)
		return spf_stop(ev, SPF_PERMERROR, "invalid macro in '%s'", text);
	if (spf_macro_uses(text, 'p') && (r = validated_name(ev, domain, &p)) < 0) {
		free(p);
		return r;
	}
	const struct spf_request *req = ev->req;
	struct spf_macro_vars v = {
	    .s = ev->sender,
	    .l = ev->local,
	    .o = ev->odomain,
	    .d = domain,
	    .i = ev->i,
	    .p = p,
	    .v = ev->v,
	    .h = req->helo && *req->helo ? req->helo : "unknown",
	    .c = ev->c,
	    .r = req->receiver && *req->receiver ? req->receiver : "unknown",
	    .t = req->now ? req->now : time(NULL),
	};
	r = spf_macro_expand(&v, text, explanation, out) < 0
	        ? spf_stop(ev, SPF_PERMERROR, "invalid macro in '%s'", text)
	        : 0;
	free(p);
	return r;
}

int spf_target(struct spf_eval *ev, const char *domain, const char *spec, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	*out = NULL;
	if (!spec)
		strbuf_addstr(&sb, domain);
	else {
		int r = spf_expand_text(ev, domain, spec, 0, &sb);
		if (r < 0) {
			strbuf_release(&sb);
			return r;
		}
	}
	if (sb.len && sb.buf[sb.len - 1] == '.')
		sb.buf[--sb.len] = '\0';
	const char *s = sb.buf, *dot;
	while (strlen(s) > 253 && (dot = strchr(s, '.'))) /* RFC 7208 7.3: cut on the left */
		s = dot + 1;
	*out = xstrdup(s);
	strbuf_release(&sb);
	return 0;
}
