/* ACME over HTTPS with libcurl; problem documents, the directory and
 * Retry-After (see acme.h). */
#include "acme.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

/* Longest response body we read: a chain is a few KiB. */
#define ACME_HTTP_MAX          (1024 * 1024)
#define ACME_CONNECT_TIMEOUT_S 10L
#define ACME_REQUEST_TIMEOUT_S 30L

#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

/* ---- problem documents (RFC 7807, RFC 8555 section 6.7) ---- */

static char *json_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return xstrdup(s ? s : "");
}

/* One subproblem as "<identifier>: <detail> (<type>)". */
static char *subproblem_text(json_t *sp)
{
	const char *type = json_string_value(json_object_get(sp, "type"));
	const char *detail = json_string_value(json_object_get(sp, "detail"));
	const char *id =
	    json_string_value(json_object_get(json_object_get(sp, "identifier"), "value"));
	if (type && !strncmp(type, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)))
		type += strlen(PROBLEM_PREFIX);
	return xasprintf("%s%s%s (%s)", id ? id : "", id ? ": " : "", detail ? detail : "",
	                 type ? type : "unknown");
}

int acme_problem_parse(const char *body, size_t len, struct acme_problem *out)
{
	memset(out, 0, sizeof(*out));
	json_t *doc = json_loadb(body, len, 0, NULL);
	if (!json_is_object(doc) || (!json_is_string(json_object_get(doc, "type")) &&
	                             !json_is_string(json_object_get(doc, "detail")))) {
		json_decref(doc);
		return -1;
	}
	out->type = json_str(doc, "type");
	out->detail = json_str(doc, "detail");
	json_t *status = json_object_get(doc, "status");
	out->status = json_is_integer(status) ? (long)json_integer_value(status) : 0;
	json_t *subs = json_object_get(doc, "subproblems"), *sp;
	size_t i;
	if (json_is_array(subs) && json_array_size(subs) > 0) {
		out->sub = xcalloc(json_array_size(subs), sizeof(*out->sub));
		json_array_foreach(subs, i, sp)
		{
			if (json_is_object(sp))
				out->sub[out->nsub++] = subproblem_text(sp);
		}
	}
	json_decref(doc);
	return 0;
}

void acme_problem_release(struct acme_problem *p)
{
	free(p->type);
	free(p->detail);
	for (size_t i = 0; i < p->nsub; i++)
		free(p->sub[i]);
	free(p->sub);
	memset(p, 0, sizeof(*p));
}

const char *acme_problem_name(const struct acme_problem *p)
{
	const char *t = p->type ? p->type : "";
	return strncmp(t, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)) ? t : t + strlen(PROBLEM_PREFIX);
}

/* What each ACME error type means for the caller. */
static const struct {
	const char *name;
	enum mc_errkind kind;
} problem_kinds[] = {
    {"rateLimited", MC_ETEMP},    {"badNonce", MC_ETEMP},
    {"serverInternal", MC_ETEMP}, {"externalAccountRequired", MC_ECONFIG},
    {"malformed", MC_EINTERNAL},  {"badSignatureAlgorithm", MC_EINTERNAL},
    {"badCSR", MC_EINTERNAL},
};

int acme_problem_fail(const struct acme_problem *p, const char *what, long retry_after,
                      struct mc_error *err)
{
	const char *name = acme_problem_name(p);
	enum mc_errkind kind = p->status >= 500 ? MC_ETEMP : MC_EDATA;
	for (size_t i = 0; i < sizeof(problem_kinds) / sizeof(problem_kinds[0]); i++)
		if (!strcmp(name, problem_kinds[i].name))
			kind = problem_kinds[i].kind;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s: %s (%s", what, *p->detail ? p->detail : "no detail given",
	            *name ? name : "no type given");
	if (retry_after >= 0)
		strbuf_addf(&sb, "; retry after %ld s", retry_after);
	strbuf_addch(&sb, ')');
	for (size_t i = 0; i < p->nsub; i++)
		strbuf_addf(&sb, "; %s", p->sub[i]);
	if (!strcmp(name, "externalAccountRequired"))
		strbuf_addstr(&sb, "; give --eab-kid and --eab-hmac-key from the CA");
	mc_fail(err, kind, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

/* ---- the directory (RFC 8555 section 7.1.1) ---- */

/* A URL member: NULL when absent; '*bad' set when present but invalid. */
static char *dir_url(json_t *doc, const char *key, int *bad)
{
	json_t *v = json_object_get(doc, key);
	if (!v)
		return NULL;
	if (!json_is_string(v) || acme_url_check(json_string_value(v), NULL) < 0) {
		*bad = 1;
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

int acme_directory_parse(const char *url, const char *body, size_t len, struct acme_directory *out,
                         struct mc_error *err)
{
	static const char *const required[] = {"newNonce", "newAccount", "newOrder"};
	char **slots[] = {&out->new_nonce, &out->new_account, &out->new_order};
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return mc_fail(err, MC_EUNAVAIL, "'%s' is not an ACME directory: %s", url,
		               doc ? "not a JSON object" : "not JSON");
	}
	int bad = 0;
	for (size_t i = 0; i < 3; i++) {
		*slots[i] = dir_url(doc, required[i], &bad);
		if (!*slots[i]) {
			json_decref(doc);
			acme_directory_release(out);
			return mc_fail(err, MC_EUNAVAIL, "'%s' is not an ACME directory: '%s' %s",
			               url, required[i],
			               bad ? "is not an https URL" : "is missing");
		}
	}
	out->revoke_cert = dir_url(doc, "revokeCert", &bad);
	out->key_change = dir_url(doc, "keyChange", &bad);
	out->renewal_info = dir_url(doc, "renewalInfo", &bad);
	json_t *meta = json_object_get(doc, "meta");
	const char *s;
	if ((s = json_string_value(json_object_get(meta, "termsOfService"))))
		out->terms = xstrdup(s);
	if ((s = json_string_value(json_object_get(meta, "website"))))
		out->website = xstrdup(s);
	out->eab_required = json_is_true(json_object_get(meta, "externalAccountRequired"));
	json_decref(doc);
	return 0;
}

void acme_directory_release(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms);
	free(d->website);
	memset(d, 0, sizeof(*d));
}

long acme_retry_after(const char *value, time_t now)
{
	if (!value || !*value)
		return -1;
	const char *p = value;
	while (isdigit((unsigned char)*p))
		p++;
	if (p != value && *p == '\0' && p - value < 10)
		return strtol(value, NULL, 10);
	time_t at = curl_getdate(value, NULL);
	if (at < 0)
		return -1;
	return at > now ? (long)(at - now) : 0;
}

int acme_url_check(const char *url, struct mc_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	         curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	         !strcasecmp(scheme, "https") && *host;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok ? 0 : mc_fail(err, MC_EUSAGE, "'%s' is not an https URL", url);
}

/* ---- HTTP ---- */

struct acme_http {
	CURL *curl;
	struct curl_slist *post_headers;
	char errbuf[CURL_ERROR_SIZE];
	int too_large;
};

void acme_response_release(struct acme_response *r)
{
	strbuf_release(&r->body);
	free(r->location);
	free(r->nonce);
	free(r->retry_after);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->body);
}

struct acme_http *acme_http_new(const char *ca_file, struct mc_error *err)
{
	struct acme_http *h = xcalloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		mc_fail(err, MC_EINTERNAL, "cannot start libcurl");
		return NULL;
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ACME_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, ACME_REQUEST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mailctl/" MAILCTL_VERSION);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	/* no "Expect: 100-continue" round trip for a large finalize */
	h->post_headers = curl_slist_append(NULL, "Content-Type: application/jose+json");
	h->post_headers = curl_slist_append(h->post_headers, "Expect:");
	return h;
}

void acme_http_free(struct acme_http *h)
{
	if (!h)
		return;
	curl_slist_free_all(h->post_headers);
	curl_easy_cleanup(h->curl);
	free(h);
}

struct sink {
	struct acme_http *h;
	struct acme_response *resp;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	if (s->resp->body.len + size * n > ACME_HTTP_MAX) {
		s->h->too_large = 1;
		return 0;
	}
	strbuf_add(&s->resp->body, data, size * n);
	return size * n;
}

/* The value of header 'name' in 'line', trimmed, or NULL. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static void set_header(char **slot, char *value)
{
	if (!value)
		return;
	free(*slot);
	*slot = value;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	struct acme_response *r = ((struct sink *)ctx)->resp;
	size_t len = size * n;
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) { /* a new response: forget 1xx headers */
		acme_response_release(r);
		return len;
	}
	set_header(&r->location, header_value(line, len, "Location"));
	set_header(&r->nonce, header_value(line, len, "Replay-Nonce"));
	set_header(&r->retry_after, header_value(line, len, "Retry-After"));
	char *ct = header_value(line, len, "Content-Type");
	if (ct) {
		ct[strcspn(ct, "; ")] = '\0';
		for (char *p = ct; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		set_header(&r->content_type, ct);
	}
	return len;
}

/* "failed to connect to ..." from curl's error buffer or code. */
static int curl_fail(struct acme_http *h, CURLcode rc, const char *url, struct mc_error *err)
{
	if (h->too_large)
		return mc_fail(err, MC_EUNAVAIL, "the answer of '%s' is larger than %d bytes", url,
		               ACME_HTTP_MAX);
	char msg[CURL_ERROR_SIZE];
	snprintf(msg, sizeof(msg), "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	if (!isupper((unsigned char)msg[1])) /* "Failed to", not "SSL" */
		msg[0] = (char)tolower((unsigned char)msg[0]);
	enum mc_errkind kind = rc == CURLE_OPERATION_TIMEDOUT ? MC_ETEMP : MC_EUNAVAIL;
	return mc_fail(err, kind, "cannot reach the CA at '%s': %s", url, msg);
}

int acme_http_request(struct acme_http *h, const char *url, const char *body, int head,
                      struct acme_response *resp, struct mc_error *err)
{
	CURL *c = h->curl;
	struct sink s = {h, resp};
	memset(resp, 0, sizeof(*resp));
	strbuf_init(&resp->body);
	h->errbuf[0] = '\0';
	h->too_large = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->post_headers);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		if (head)
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		acme_response_release(resp);
		return curl_fail(h, rc, url, err);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	return 0;
}
