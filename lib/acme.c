/* The ACME protocol flow (RFC 8555 section 7); see acme.h. */
#include "acme.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

/* How often one request is sent again after the CA rejected its nonce
 * (badNonce, RFC 8555 6.5). Each retry carries a fresh nonce; more than
 * one keeps a busy CA that drops nonces now and then from failing a whole
 * order of twenty-odd requests. */
#define ACME_NONCE_RETRIES  3
#define ACME_POLL_TIMEOUT_S 300L
#define ACME_POLL_MAX_S     10L

int acme_client_init(struct acme_client *c, const char *url, const char *ca_file,
                     const struct acme_limits *limits, struct mc_error *err)
{
	struct acme_response resp;
	memset(c, 0, sizeof(*c));
	if (acme_url_check(url, err) < 0)
		return -1;
	c->limits.poll_timeout_s =
	    limits && limits->poll_timeout_s > 0 ? limits->poll_timeout_s : ACME_POLL_TIMEOUT_S;
	c->limits.poll_max_s =
	    limits && limits->poll_max_s > 0 ? limits->poll_max_s : ACME_POLL_MAX_S;
	c->directory_url = xstrdup(url);
	if (!(c->http = acme_http_new(ca_file, err)))
		return -1;
	if (acme_http_request(c->http, url, NULL, 0, &resp, err) < 0)
		return -1;
	c->requests++;
	int rc = resp.status == 200
	             ? acme_directory_parse(url, resp.body.buf, resp.body.len, &c->dir, err)
	             : mc_fail(err, MC_EUNAVAIL, "'%s' is not an ACME directory: HTTP status %ld",
	                       url, resp.status);
	acme_response_release(&resp);
	return rc;
}

void acme_client_release(struct acme_client *c)
{
	acme_http_free(c->http);
	acme_directory_release(&c->dir);
	free(c->directory_url);
	free(c->kid);
	free(c->nonce);
	memset(c, 0, sizeof(*c));
}

/* A fresh nonce from newNonce (HEAD, RFC 8555 7.2). */
static int new_nonce(struct acme_client *c, struct mc_error *err)
{
	struct acme_response resp;
	if (acme_http_request(c->http, c->dir.new_nonce, NULL, 1, &resp, err) < 0)
		return -1;
	c->requests++;
	int rc = 0;
	if (resp.nonce && *resp.nonce) {
		c->nonce = resp.nonce;
		resp.nonce = NULL;
	} else {
		rc = mc_fail(err, MC_EUNAVAIL, "the CA gave no nonce at '%s' (HTTP status %ld)",
		             c->dir.new_nonce, resp.status);
	}
	acme_response_release(&resp);
	return rc;
}

/* A failed answer without a problem document. */
static int status_fail(const struct acme_response *resp, const char *what, struct mc_error *err)
{
	return mc_fail(err, resp->status >= 500 ? MC_ETEMP : MC_EUNAVAIL,
	               "%s: HTTP status %ld without an ACME problem document", what, resp->status);
}

/* One signed request and its answer; 1 when it should be sent again. */
static int post_once(struct acme_client *c, const char *url, const char *payload, const char *what,
                     int retries_left, struct acme_response *resp, struct mc_error *err)
{
	struct acme_problem p;
	if (!c->nonce && new_nonce(c, err) < 0)
		return -1;
	char *jws = acme_jws(c->key, c->kid, c->nonce, url, payload, err);
	free(c->nonce);
	c->nonce = NULL;
	if (!jws)
		return -1;
	int rc = acme_http_request(c->http, url, jws, 0, resp, err);
	free(jws);
	if (rc < 0)
		return -1;
	c->requests++;
	c->nonce = resp->nonce; /* every answer carries the next nonce */
	resp->nonce = NULL;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (acme_problem_parse(resp->body.buf, resp->body.len, &p) < 0) {
		status_fail(resp, what, err);
		acme_response_release(resp);
		return -1;
	}
	snprintf(c->problem, sizeof(c->problem), "%s", acme_problem_name(&p));
	int bad_nonce = !strcmp(c->problem, "badNonce");
	c->bad_nonces += (unsigned)bad_nonce;
	rc =
	    bad_nonce && retries_left > 0
	        ? 1
	        : acme_problem_fail(&p, what, acme_retry_after(resp->retry_after, time(NULL)), err);
	acme_problem_release(&p);
	acme_response_release(resp);
	return rc;
}

/* POST a JWS of 'payload' ('NULL': POST-as-GET) to 'url'. Any 2xx answer
 * is a success; a problem document becomes "<what>: <detail> (<type>)". */
static int post(struct acme_client *c, const char *url, const char *payload, const char *what,
                struct acme_response *resp, struct mc_error *err)
{
	int rc;
	c->problem[0] = '\0';
	for (int left = ACME_NONCE_RETRIES;
	     (rc = post_once(c, url, payload, what, left, resp, err)) == 1; left--)
		;
	return rc;
}

/* The answer's body as a JSON object (new reference). */
static json_t *body_json(const struct acme_response *resp, const char *what, struct mc_error *err)
{
	json_t *j = json_loadb(resp->body.buf, resp->body.len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		mc_fail(err, MC_EUNAVAIL, "%s: the CA's answer is not a JSON object", what);
	}
	return json_is_object(j) ? j : NULL;
}

/* post() and body_json() in one; '*location' (may be NULL) gets the
 * Location header. */
static json_t *post_json(struct acme_client *c, const char *url, const char *payload,
                         const char *what, char **location, struct mc_error *err)
{
	struct acme_response resp;
	if (post(c, url, payload, what, &resp, err) < 0)
		return NULL;
	json_t *j = body_json(&resp, what, err);
	if (j && location) {
		*location = resp.location;
		resp.location = NULL;
	}
	acme_response_release(&resp);
	return j;
}

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* The problem embedded at obj.error as an error "<what>: ...". */
static int embedded_fail(json_t *obj, const char *what, struct mc_error *err)
{
	struct acme_problem p;
	char *text = json_dumps(json_object_get(obj, "error"), JSON_COMPACT);
	int parsed = text && acme_problem_parse(text, strlen(text), &p) == 0;
	free(text);
	if (!parsed)
		return mc_fail(err, MC_EDATA, "%s: status '%s', the CA says no more", what,
		               jstr(obj, "status"));
	acme_problem_fail(&p, what, -1, err);
	acme_problem_release(&p);
	return -1;
}

/* ---- account (RFC 8555 7.3) ---- */

static int new_account(struct acme_client *c, const struct acme_account_request *req,
                       struct mc_error *err)
{
	const char *what = "the CA refused to register the account";
	if (c->dir.eab_required && !req->eab_kid)
		return mc_fail(err, MC_ECONFIG,
		               "the CA at '%s' requires an external account binding: give "
		               "--eab-kid and --eab-hmac-key from the CA",
		               c->directory_url);
	json_t *p = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	if (req->contact && *req->contact)
		json_object_set_new(p, "contact", json_pack("[s+]", "mailto:", req->contact));
	if (req->eab_kid) {
		json_t *eab = acme_eab(req->key, req->eab_kid, req->eab_hmac ? req->eab_hmac : "",
		                       c->dir.new_account, err);
		if (!eab) {
			json_decref(p);
			return -1;
		}
		json_object_set_new(p, "externalAccountBinding", eab);
	}
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	free(c->kid);
	c->kid = NULL; /* newAccount is signed with the JWK */
	char *location = NULL;
	json_t *acct = post_json(c, c->dir.new_account, payload, what, &location, err);
	free(payload);
	int rc = 0;
	if (acct && (!location || !*location))
		rc = mc_fail(err, MC_EUNAVAIL, "%s: no account URL in the answer", what);
	else if (acct && strcmp(jstr(acct, "status"), "valid"))
		rc = mc_fail(err, MC_EDATA, "%s: the account is '%s'", what, jstr(acct, "status"));
	else if (!acct)
		rc = -1;
	if (rc == 0)
		c->kid = location;
	else
		free(location);
	json_decref(acct);
	return rc;
}

int acme_account(struct acme_client *c, const struct acme_account_request *req,
                 struct mc_error *err)
{
	c->key = req->key;
	if (!req->kid)
		return new_account(c, req, err);
	/* POST-as-GET to the account URL (RFC 8555 7.3): is it still there and
	 * valid? */
	free(c->kid);
	c->kid = xstrdup(req->kid);
	json_t *acct = post_json(c, req->kid, NULL, "the CA refused the kept account", NULL, err);
	if (!acct && !strcmp(c->problem, "accountDoesNotExist"))
		return new_account(c, req, err); /* the CA forgot it: register the key again */
	if (!acct)
		return -1;
	int valid = !strcmp(jstr(acct, "status"), "valid");
	json_decref(acct);
	if (!valid)
		return new_account(c, req, err);
	return 0;
}

/* ---- HTTP-01 token files ---- */

/* Make 'dir' (0755) unless it exists. */
static int make_dir(const char *dir, struct mc_error *err)
{
	if (mkdir(dir, 0755) == 0)
		return chmod(dir, 0755) == 0
		           ? 0
		           : mc_fail(err, MC_EIO, "cannot chmod '%s': %s", dir, mc_strerror(errno));
	return errno == EEXIST
	           ? 0
	           : mc_fail(err, MC_EIO, "cannot create '%s': %s", dir, mc_strerror(errno));
}

static char *token_path(const struct acme_webroot *w, const char *token)
{
	return xasprintf("%s/.well-known/acme-challenge/%s", w->dir, token);
}

/* A token is base64url (RFC 8555 8.3): never a path. */
static int token_ok(const char *token)
{
	size_t n = strlen(token);
	return n > 0 && n <= 256 &&
	       strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                     "0123456789-_") == n;
}

static int write_file(const char *path, const char *data, struct mc_error *err)
{
	char *tmp = xasprintf("%s.mailctl-new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t len = strlen(data);
	int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fchmod(fd, 0644) == 0;
	int saved = errno;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, path) < 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : mc_fail(err, MC_EIO, "cannot write '%s': %s", path, mc_strerror(saved));
}

int acme_webroot_publish(const struct acme_webroot *w, const char *token, const char *keyauth,
                         struct mc_error *err)
{
	if (!token_ok(token))
		return mc_fail(err, MC_EDATA, "the CA sent an invalid challenge token");
	char *wk = xasprintf("%s/.well-known", w->dir);
	char *ch = xasprintf("%s/acme-challenge", wk);
	char *path = token_path(w, token);
	int rc = make_dir(w->dir, err) < 0 || make_dir(wk, err) < 0 || make_dir(ch, err) < 0
	             ? -1
	             : write_file(path, keyauth, err);
	free(wk);
	free(ch);
	free(path);
	return rc;
}

void acme_webroot_withdraw(const struct acme_webroot *w, const char *token)
{
	if (!token_ok(token))
		return;
	char *path = token_path(w, token);
	unlink(path);
	free(path);
}

/* ---- polling ---- */

static void sleep_s(long s)
{
	struct timespec ts = {s, 0};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* POST-as-GET 'url' until its status leaves 'waiting', waiting what
 * Retry-After asks or else 1, 2, 4... s up to poll_max_s, at most
 * poll_timeout_s in all. Returns the object (new reference). */
static json_t *poll(struct acme_client *c, const char *url, const char *const *waiting,
                    const char *what, struct mc_error *err)
{
	time_t deadline = time(NULL) + c->limits.poll_timeout_s;
	long backoff = 1;
	for (;;) {
		struct acme_response resp;
		if (post(c, url, NULL, what, &resp, err) < 0)
			return NULL;
		json_t *obj = body_json(&resp, what, err);
		long wait = acme_retry_after(resp.retry_after, time(NULL));
		acme_response_release(&resp);
		if (!obj || !in_list(jstr(obj, "status"), waiting))
			return obj;
		if (wait < 1) {
			wait = backoff;
			backoff =
			    backoff * 2 > c->limits.poll_max_s ? c->limits.poll_max_s : backoff * 2;
		}
		if (time(NULL) + wait > deadline) {
			mc_fail(err, MC_ETEMP, "%s: still '%s' after %ld s; try again later", what,
			        jstr(obj, "status"), c->limits.poll_timeout_s);
			json_decref(obj);
			return NULL;
		}
		json_decref(obj);
		sleep_s(wait);
	}
}

/* ---- authorizations (RFC 8555 7.5) ---- */

struct authz {
	char *url;
	char *name;  /* identifier value */
	char *token; /* published token, or NULL */
	int settled;
};

/* The http-01 challenge of an authorization, or NULL. */
static json_t *http01(json_t *authz)
{
	json_t *chs = json_object_get(authz, "challenges"), *ch;
	size_t i;
	json_array_foreach(chs, i, ch)
	{
		if (!strcmp(jstr(ch, "type"), "http-01"))
			return ch;
	}
	return NULL;
}

/* Fetch one authorization; when pending, publish its token and tell the
 * CA to validate. */
static int authz_start(struct acme_client *c, struct authz *a, const struct acme_webroot *w,
                       struct mc_error *err)
{
	json_t *obj = post_json(c, a->url, NULL, "the CA refused an authorization", NULL, err);
	if (!obj)
		return -1;
	a->name = xstrdup(jstr(json_object_get(obj, "identifier"), "value"));
	const char *status = jstr(obj, "status");
	json_t *ch = http01(obj);
	char *what = xasprintf("the CA refused the challenge for '%s'", a->name);
	int rc = 0;
	if (!strcmp(status, "valid")) {
		a->settled = 1; /* validated earlier: reused */
	} else if (strcmp(status, "pending")) {
		rc = embedded_fail(ch && json_object_get(ch, "error") ? ch : obj, what, err);
	} else if (!ch) {
		rc = mc_fail(err, MC_EDATA, "the CA offers no http-01 challenge for '%s'", a->name);
	} else {
		char *ka = acme_key_authorization(c->key, jstr(ch, "token"), err);
		rc = ka ? acme_webroot_publish(w, jstr(ch, "token"), ka, err) : -1;
		if (rc == 0)
			a->token = xstrdup(jstr(ch, "token"));
		json_t *resp =
		    rc == 0 ? post_json(c, jstr(ch, "url"), "{}", what, NULL, err) : NULL;
		rc = resp ? 0 : -1;
		json_decref(resp);
		free(ka);
	}
	free(what);
	json_decref(obj);
	return rc;
}

/* Wait until an authorization is settled; its token file goes then. */
static int authz_finish(struct acme_client *c, struct authz *a, const struct acme_webroot *w,
                        struct mc_error *err)
{
	static const char *const waiting[] = {"pending", NULL};
	char *what = xasprintf("validation of '%s'", a->name);
	json_t *obj = poll(c, a->url, waiting, what, err);
	int rc = -1;
	if (obj && !strcmp(jstr(obj, "status"), "valid")) {
		rc = 0;
	} else if (obj) {
		char *failed = xasprintf("validation of '%s' failed", a->name);
		json_t *ch = http01(obj);
		rc = embedded_fail(ch && json_object_get(ch, "error") ? ch : obj, failed, err);
		free(failed);
	}
	if (a->token)
		acme_webroot_withdraw(w, a->token);
	a->settled = 1;
	json_decref(obj);
	free(what);
	return rc;
}

static int authorize_all(struct acme_client *c, json_t *order, const struct acme_webroot *w,
                         struct mc_error *err)
{
	json_t *urls = json_object_get(order, "authorizations"), *u;
	size_t n = json_array_size(urls), i;
	struct authz *v = xcalloc(n ? n : 1, sizeof(*v));
	int rc = n ? 0 : mc_fail(err, MC_EUNAVAIL, "the CA's order has no authorizations");
	json_array_foreach(urls, i, u)
	{
		v[i].url = xstrdup(json_string_value(u) ? json_string_value(u) : "");
	}
	/* all challenges first, so the CA validates them side by side */
	for (i = 0; rc == 0 && i < n; i++)
		rc = authz_start(c, &v[i], w, err);
	for (i = 0; rc == 0 && i < n; i++)
		if (!v[i].settled)
			rc = authz_finish(c, &v[i], w, err);
	for (i = 0; i < n; i++) {
		if (v[i].token)
			acme_webroot_withdraw(w, v[i].token);
		free(v[i].url);
		free(v[i].name);
		free(v[i].token);
	}
	free(v);
	return rc;
}

/* ---- the order (RFC 8555 7.4) ---- */

char *acme_order_payload(const char *const *names, size_t n, const char *replaces)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids,
		                      json_pack("{s:s, s:s}", "type", "dns", "value", names[i]));
	json_t *p = json_pack("{s:o}", "identifiers", ids);
	if (replaces)
		json_object_set_new(p, "replaces", json_string(replaces));
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return payload;
}

static json_t *order_once(struct acme_client *c, const char *const *names, size_t n,
                          const char *replaces, char **order_url, struct mc_error *err)
{
	char *payload = acme_order_payload(names, n, replaces);
	json_t *order =
	    post_json(c, c->dir.new_order, payload, "the CA refused the order", order_url, err);
	free(payload);
	if (order && (!*order_url || !**order_url)) {
		mc_fail(err, MC_EUNAVAIL, "the CA's new order has no URL");
		json_decref(order);
		return NULL;
	}
	return order;
}

/* Problems that say nothing about "replaces": asking again without it
 * would only be refused the same way. */
static int replaces_innocent(const char *problem)
{
	static const char *const innocent[] = {
	    "", "rateLimited", "badNonce", "serverInternal", "externalAccountRequired", NULL};
	return in_list(problem, innocent);
}

/* newOrder; 'replaces' (RFC 9773 section 5) only goes to a CA that
 * advertises renewalInfo, and when the CA refuses the order with it (a
 * predecessor alreadyReplaced, unknown or not this account's), the order
 * is asked for once more without it: renewing matters more than the link. */
static json_t *new_order(struct acme_client *c, const char *const *names, size_t n,
                         const char *replaces, char **order_url, struct mc_error *err)
{
	if (!c->dir.renewal_info)
		replaces = NULL;
	json_t *order = order_once(c, names, n, replaces, order_url, err);
	if (order || !replaces || replaces_innocent(c->problem))
		return order;
	snprintf(c->replaces_refused, sizeof(c->replaces_refused), "%s", c->problem);
	free(*order_url);
	*order_url = NULL;
	return order_once(c, names, n, NULL, order_url, err);
}

/* Send the CSR once the order is ready; wait until it is valid. */
static json_t *finalize(struct acme_client *c, json_t *order, const char *order_url,
                        const unsigned char *csr, size_t csr_len, struct mc_error *err)
{
	static const char *const not_ready[] = {"pending", NULL};
	static const char *const processing[] = {"processing", NULL};
	json_t *o = poll(c, order_url, not_ready, "the order", err);
	if (!o)
		return NULL;
	if (strcmp(jstr(o, "status"), "ready") && strcmp(jstr(o, "status"), "valid")) {
		embedded_fail(o, "the CA refused the order", err);
		json_decref(o);
		return NULL;
	}
	json_decref(o);
	char *b64 = acme_b64url(csr, csr_len);
	json_t *p = json_pack("{s:s}", "csr", b64);
	char *payload = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	free(b64);
	o = post_json(c, jstr(order, "finalize"), payload, "the CA refused the certificate request",
	              NULL, err);
	free(payload);
	if (o && !strcmp(jstr(o, "status"), "processing")) {
		json_decref(o);
		o = poll(c, order_url, processing, "issuance", err);
	}
	if (o && strcmp(jstr(o, "status"), "valid")) {
		embedded_fail(o, "the CA did not issue the certificate", err);
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int download(struct acme_client *c, const char *url, char **chain, struct mc_error *err)
{
	struct acme_response resp;
	if (!*url)
		return mc_fail(err, MC_EUNAVAIL, "the CA's valid order has no certificate URL");
	if (post(c, url, NULL, "the CA refused the certificate download", &resp, err) < 0)
		return -1;
	int rc = 0;
	if (!strstr(resp.body.buf, "-----BEGIN CERTIFICATE-----"))
		rc = mc_fail(err, MC_EUNAVAIL, "the CA's certificate at '%s' is not PEM", url);
	else
		*chain = strbuf_detach(&resp.body);
	acme_response_release(&resp);
	return rc;
}

int acme_issue(struct acme_client *c, const char *const *names, size_t n, const unsigned char *csr,
               size_t csr_len, const struct acme_webroot *w, char **chain, struct mc_error *err)
{
	return acme_issue_replacing(c, names, n, csr, csr_len, NULL, w, chain, err);
}

int acme_issue_replacing(struct acme_client *c, const char *const *names, size_t n,
                         const unsigned char *csr, size_t csr_len, const char *replaces,
                         const struct acme_webroot *w, char **chain, struct mc_error *err)
{
	char *order_url = NULL;
	*chain = NULL;
	c->replaces_refused[0] = '\0';
	json_t *order = new_order(c, names, n, replaces, &order_url, err);
	if (!order) {
		free(order_url);
		return -1;
	}
	json_t *done = NULL;
	int rc = authorize_all(c, order, w, err);
	if (rc == 0 && !(done = finalize(c, order, order_url, csr, csr_len, err)))
		rc = -1;
	if (rc == 0)
		rc = download(c, jstr(done, "certificate"), chain, err);
	json_decref(done);
	json_decref(order);
	free(order_url);
	return rc;
}
