/* Fetching MTA-STS policies over HTTPS with libcurl, several at once
 * (RFC 8461 3.3); see mtasts.h. */
#include "mtasts.h"
#include "strbuf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

const char *mtasts_fetch_error_name(enum mtasts_fetch_error e)
{
	static const char *const names[] = {
	    [MTASTS_FETCH_OK] = "ok",           [MTASTS_FETCH_NOADDR] = "no address",
	    [MTASTS_FETCH_CONNECT] = "connect", [MTASTS_FETCH_TIMEOUT] = "timeout",
	    [MTASTS_FETCH_TLS] = "tls",         [MTASTS_FETCH_REDIRECT] = "redirect",
	    [MTASTS_FETCH_HTTP] = "http",       [MTASTS_FETCH_TYPE] = "content type",
	    [MTASTS_FETCH_SIZE] = "size",       [MTASTS_FETCH_SYNTAX] = "syntax",
	};
	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "http";
}

char *mtasts_url(const char *domain)
{
	return xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", domain);
}

/* One transfer under way. */
struct xfer {
	struct mtasts_fetch *f;
	CURL *curl;
	struct curl_slist *resolve;
	char *url;
	char *addrs; /* "192.0.2.10, 2001:db8::10", for messages */
	struct strbuf body;
	int too_big;
	int timeout_ms;
	char errbuf[CURL_ERROR_SIZE];
};

__attribute__((format(printf, 3, 4))) static void
set_error(struct mtasts_fetch *f, enum mtasts_fetch_error e, const char *fmt, ...)
{
	va_list ap;
	f->error = e;
	va_start(ap, fmt);
	vsnprintf(f->err.msg, sizeof(f->err.msg), fmt, ap);
	va_end(ap);
	f->err.kind = e == MTASTS_FETCH_TIMEOUT                            ? MC_ETEMP
	              : e == MTASTS_FETCH_CONNECT || e == MTASTS_FETCH_TLS ? MC_EUNAVAIL
	                                                                   : MC_EDATA;
}

/* The CURLOPT_RESOLVE entry pinning mta-sts.DOMAIN:443 to the given
 * addresses, or NULL when none is a valid address. */
static char *resolve_entry(const struct mtasts_fetch *f, struct strbuf *shown)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char buf[sizeof(struct in6_addr)];
	for (const char *const *a = f->addrs; a && *a; a++) {
		int v6 = inet_pton(AF_INET6, *a, buf) == 1;
		if (!v6 && inet_pton(AF_INET, *a, buf) != 1)
			continue;
		if (!sb.len)
			strbuf_addf(&sb, "mta-sts.%s:443:", f->domain);
		else
			strbuf_addch(&sb, ',');
		strbuf_addf(&sb, v6 ? "[%s]" : "%s", *a);
		strbuf_addf(shown, "%s%s", shown->len ? ", " : "", *a);
	}
	return sb.len ? strbuf_detach(&sb) : NULL;
}

/* Only letters, digits, '-' and '.': the name goes into a URL. */
static int plain_domain(const char *d)
{
	return *d &&
	       strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
	           strlen(d);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	long code = 0;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return size * n; /* not read: only a 200's body is a policy */
	if (x->body.len + size * n > MTASTS_MAX_SIZE) {
		x->too_big = 1;
		return 0;
	}
	strbuf_add(&x->body, data, size * n);
	return size * n;
}

static void set_options(struct xfer *x, const struct mtasts_fetch_options *o)
{
	CURL *c = x->curl;
	curl_easy_setopt(c, CURLOPT_URL, x->url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, x->resolve);
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never through a proxy from the environment */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)x->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mailctl/" MAILCTL_VERSION);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o && o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MTASTS_MAX_SIZE);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
}

/* Prepare the transfer of 'f'; 0 when there is nothing to send (the
 * result is already set), 1 when 'x' is ready, -1 on a local failure. */
static int xfer_init(struct xfer *x, struct mtasts_fetch *f, const struct mtasts_fetch_options *o,
                     struct mc_error *err)
{
	struct strbuf shown = STRBUF_INIT;
	char *entry = plain_domain(f->domain) ? resolve_entry(f, &shown) : NULL;
	memset(x, 0, sizeof(*x));
	strbuf_init(&x->body);
	x->f = f;
	if (!entry) {
		strbuf_release(&shown);
		set_error(f, MTASTS_FETCH_NOADDR, "mta-sts.%s has no address to connect to",
		          f->domain);
		return 0;
	}
	x->addrs = strbuf_detach(&shown);
	x->url = mtasts_url(f->domain);
	x->resolve = curl_slist_append(NULL, entry);
	free(entry);
	x->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : MTASTS_TIMEOUT_MS;
	x->curl = curl_easy_init();
	if (!x->curl || !x->resolve)
		return mc_fail(err, MC_EINTERNAL, "cannot start libcurl");
	set_options(x, o);
	return 1;
}

static void xfer_release(struct xfer *x)
{
	if (x->curl)
		curl_easy_cleanup(x->curl);
	curl_slist_free_all(x->resolve);
	free(x->url);
	free(x->addrs);
	strbuf_release(&x->body);
}

/* ---- the outcome ---- */

/* curl's message, lowercase unless it opens with an acronym ("SSL"). */
static void curl_text(const struct xfer *x, CURLcode rc, char *out, size_t size)
{
	snprintf(out, size, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	if (out[0] && !isupper((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
}

static enum mtasts_fetch_error kind_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return MTASTS_FETCH_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
		return MTASTS_FETCH_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return MTASTS_FETCH_SIZE;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return MTASTS_FETCH_HTTP;
	default: /* refused, unreachable, reset, nothing sent back */
		return MTASTS_FETCH_CONNECT;
	}
}

static void failed(struct xfer *x, CURLcode rc)
{
	struct mtasts_fetch *f = x->f;
	enum mtasts_fetch_error e = x->too_big ? MTASTS_FETCH_SIZE : kind_of(rc);
	char text[CURL_ERROR_SIZE];
	long oserr = 0;
	curl_text(x, rc, text, sizeof(text));
	curl_easy_getinfo(x->curl, CURLINFO_OS_ERRNO, &oserr);
	if (e == MTASTS_FETCH_SIZE)
		set_error(f, e, "%s is larger than %d bytes", x->url, MTASTS_MAX_SIZE);
	else if (e == MTASTS_FETCH_TIMEOUT)
		set_error(f, e, "no answer from mta-sts.%s (%s) within %d ms", f->domain, x->addrs,
		          x->timeout_ms);
	else if (e == MTASTS_FETCH_TLS)
		set_error(f, e, "tls with mta-sts.%s failed: %s", f->domain, text);
	else if (e == MTASTS_FETCH_HTTP)
		set_error(f, e, "%s: not a usable HTTP answer: %s", x->url, text);
	else
		set_error(f, e, "cannot connect to mta-sts.%s port 443 (%s): %s", f->domain,
		          x->addrs, oserr ? mc_strerror((int)oserr) : text);
}

/* The media type of a Content-Type value is text/plain (parameters such
 * as charset may follow). */
static int plain_text(const char *ct)
{
	const char *s = ct + strspn(ct, " \t");
	size_t n = strcspn(s, ";");
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 10 && !strncasecmp(s, "text/plain", 10);
}

static void answered(struct xfer *x)
{
	struct mtasts_fetch *f = x->f;
	char *ct = NULL, *location = NULL;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &f->http_status);
	curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(x->curl, CURLINFO_REDIRECT_URL, &location);
	if (f->http_status >= 300 && f->http_status < 400) {
		set_error(f, MTASTS_FETCH_REDIRECT,
		          "%s answers %ld with a redirect to '%s': redirect not followed (RFC 8461 "
		          "3.3)",
		          x->url, f->http_status, location ? location : "");
		return;
	}
	if (f->http_status != 200) {
		set_error(f, MTASTS_FETCH_HTTP, "%s answers %ld, not 200", x->url, f->http_status);
		return;
	}
	if (!ct || !plain_text(ct)) {
		set_error(f, MTASTS_FETCH_TYPE, "%s is served as '%s', not text/plain", x->url,
		          ct ? ct : "no content type");
		return;
	}
	f->len = x->body.len;
	f->text = strbuf_detach(&x->body);
	struct mc_error perr;
	if (mtasts_parse(f->text, f->len, &f->policy, &perr) < 0)
		set_error(f, MTASTS_FETCH_SYNTAX, "the policy at %s is invalid: %s", x->url,
		          perr.msg);
}

static void done(struct xfer *x, CURLcode rc)
{
	if (rc == CURLE_OK)
		answered(x);
	else
		failed(x, rc);
}

/* ---- all at once ---- */

/* Run every transfer of 'm' to its end (each has its own timeout). */
static int run_multi(CURLM *m, struct mc_error *err)
{
	int running = 1;
	while (running) {
		CURLMcode mc = curl_multi_perform(m, &running);
		if (mc == CURLM_OK && running)
			mc = curl_multi_poll(m, NULL, 0, 100, NULL);
		if (mc != CURLM_OK)
			return mc_fail(err, MC_EINTERNAL, "libcurl: %s", curl_multi_strerror(mc));
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left))) {
		struct xfer *x = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		done(x, msg->data.result);
	}
	return 0;
}

int mtasts_fetch_all(struct mtasts_fetch *v, size_t n, const struct mtasts_fetch_options *o,
                     struct mc_error *err)
{
	struct xfer *x = xcalloc(n + 1, sizeof(*x));
	CURLM *m = curl_multi_init();
	int rc = m ? 0 : mc_fail(err, MC_EINTERNAL, "cannot start libcurl");
	size_t added = 0;
	for (size_t i = 0; i < n; i++) {
		mtasts_fetch_release(&v[i]);
		strbuf_init(&x[i].body);
		if (rc < 0)
			continue;
		int ready = xfer_init(&x[i], &v[i], o, err);
		if (ready < 0)
			rc = -1;
		else if (ready && curl_multi_add_handle(m, x[i].curl) != CURLM_OK)
			rc = mc_fail(err, MC_EINTERNAL, "cannot start libcurl");
		else
			added += (size_t)ready;
	}
	if (rc == 0 && added)
		rc = run_multi(m, err);
	for (size_t i = 0; i < n; i++) {
		if (m && x[i].curl)
			curl_multi_remove_handle(m, x[i].curl);
		xfer_release(&x[i]);
	}
	curl_multi_cleanup(m);
	free(x);
	return rc;
}

int mtasts_fetch(struct mtasts_fetch *f, const struct mtasts_fetch_options *o, struct mc_error *err)
{
	if (mtasts_fetch_all(f, 1, o, err) < 0)
		return -1;
	if (f->error == MTASTS_FETCH_OK)
		return 0;
	if (err)
		*err = f->err;
	return -1;
}

void mtasts_fetch_release(struct mtasts_fetch *f)
{
	free(f->text);
	mtasts_policy_release(&f->policy);
	f->text = NULL;
	f->len = 0;
	f->http_status = 0;
	f->error = MTASTS_FETCH_OK;
	mc_error_clear(&f->err);
}
