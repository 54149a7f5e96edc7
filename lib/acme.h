/*
 * acme - a client for ACME certificate authorities (RFC 8555).
 *
 * Three layers, one file each, and renewal information beside them:
 *  - acme_jws.c: base64url, the account key and its JWK (RFC 7517) and
 *    thumbprint (RFC 7638), JWS signing (RFC 7515: ES256 for P-256 keys,
 *    ES384 for P-384, RS256 for RSA), external account binding (HS256),
 *    and the CSR (PKCS#10, names in subjectAltName). All with OpenSSL.
 *  - acme_http.c: HTTPS with libcurl (https only, bounded time and size,
 *    the CA file the caller names), RFC 7807 problem documents, the
 *    directory document and Retry-After.
 *  - acme.c: the protocol: nonces (a rejected nonce, badNonce, is retried
 *    with a fresh one), the account (new, or the one whose URL the caller
 *    kept), orders, HTTP-01 authorizations, polling with backoff that
 *    honours Retry-After, finalization and the certificate chain; a
 *    renewal's order may name the certificate it replaces (RFC 9773).
 *  - acme_ari.c: ACME Renewal Information (RFC 9773): a certificate's
 *    certID, the CA's suggested renewal window (an unauthenticated GET)
 *    and the time to renew picked in it.
 *
 * HTTP-01 token files are written as <webroot>/.well-known/acme-challenge/
 * <token> (mode 0644, directories 0755 made when missing) and removed once
 * the authorization is settled, whatever the outcome.
 *
 * A refusal by the CA becomes an error that says what was refused and
 * why, in the CA's words: "the CA refused the order: <detail>
 * (rateLimited; retry after 3600 s)". Kinds: MC_ETEMP for rate limits,
 * nonces, server errors and timeouts; MC_EUNAVAIL when the CA cannot be
 * reached or its documents are not ACME; MC_EDATA for a validation that
 * failed or names the CA will not issue for; MC_ECONFIG when the CA wants
 * an external account binding that was not given; MC_EUSAGE for a URL
 * that is not https; MC_EIO for files; MC_EINTERNAL for OpenSSL.
 *
 * Strings and buffers returned are owned by the caller (free()); structs
 * are released with their *_release(). Nothing here prints.
 */
#ifndef MAILCTL_ACME_H
#define MAILCTL_ACME_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <openssl/types.h>

#include "error.h"
#include "strbuf.h"

/* ---- acme_jws.c ---- */

/* base64url without padding (RFC 7515 section 2). */
char *acme_b64url(const void *data, size_t len);
/* Decode base64url (padding optional); -1 on invalid input. */
int acme_b64url_decode(const char *s, unsigned char **out, size_t *len);

/* Load the PEM private key at 'path', or make an EC P-256 key there (0600,
 * linked into place so a reader never sees half of it, and an existing
 * file is never replaced). '*created' says which. */
int acme_key_load_or_create(const char *path, EVP_PKEY **out, int *created, struct mc_error *err);
/* Load a PEM private key. */
EVP_PKEY *acme_key_load(const char *path, struct mc_error *err);

/* "ES256", "ES384" or "RS256" for a key we can sign with, else NULL. */
const char *acme_jws_alg(EVP_PKEY *key);
/* The public JWK of 'key' (new reference). */
json_t *acme_jwk(EVP_PKEY *key, struct mc_error *err);
/* base64url(SHA-256(canonical JWK)): the account's thumbprint. */
char *acme_thumbprint(EVP_PKEY *key, struct mc_error *err);
/* The key authorization of an HTTP-01 token: "<token>.<thumbprint>". */
char *acme_key_authorization(EVP_PKEY *key, const char *token, struct mc_error *err);

/* A flattened JWS (JSON text) of 'payload' for 'url'. 'kid' NULL puts the
 * JWK in the protected header (new account), else the account URL;
 * 'payload' NULL is POST-as-GET (empty payload). */
char *acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
               const char *payload, struct mc_error *err);

/* External account binding (RFC 8555 7.3.4): the HS256 JWS over the
 * account's JWK, keyed by the CA's base64url MAC key. */
json_t *acme_eab(EVP_PKEY *account_key, const char *eab_kid, const char *hmac_b64url,
                 const char *url, struct mc_error *err);

/* A DER CSR for 'names' (first = subject CN when it fits), signed by
 * 'key' with SHA-256. */
int acme_csr(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der, size_t *len,
             struct mc_error *err);

/* ---- acme_http.c ---- */

/* An RFC 7807 problem document as ACME servers send them. */
struct acme_problem {
	char *type;   /* "urn:ietf:params:acme:error:rateLimited", or "" */
	char *detail; /* "" when absent */
	long status;  /* 0 when absent */
	char **sub;   /* subproblems, "<identifier>: <detail> (<type>)" */
	size_t nsub;
};

/* Parse a problem document; -1 when 'body' is not one. */
int acme_problem_parse(const char *body, size_t len, struct acme_problem *out);
void acme_problem_release(struct acme_problem *p);
/* The type without "urn:ietf:params:acme:error:" ("rateLimited"). */
const char *acme_problem_name(const struct acme_problem *p);
/* mc_fail() with "<what>: <detail> (<name>[; retry after N s])" and the
 * kind the type calls for. 'retry_after' < 0: no Retry-After. */
int acme_problem_fail(const struct acme_problem *p, const char *what, long retry_after,
                      struct mc_error *err);

struct acme_directory {
	char *new_nonce, *new_account, *new_order; /* required */
	char *revoke_cert, *key_change;            /* NULL when absent */
	char *renewal_info;                        /* RFC 9773 renewalInfo, or NULL */
	char *terms;                               /* meta.termsOfService or NULL */
	char *website;                             /* meta.website or NULL */
	int eab_required;                          /* meta.externalAccountRequired */
};

/* Parse the directory fetched from 'url': MC_EUNAVAIL when it is not
 * JSON or lacks a required https URL. */
int acme_directory_parse(const char *url, const char *body, size_t len, struct acme_directory *out,
                         struct mc_error *err);
void acme_directory_release(struct acme_directory *d);

/* Seconds a Retry-After value asks for (delay-seconds or an HTTP date,
 * counted from 'now'), 0 for a date past, -1 when absent or invalid. */
long acme_retry_after(const char *value, time_t now);

struct acme_response {
	long status;
	struct strbuf body;
	char *location;
	char *nonce;        /* Replay-Nonce */
	char *retry_after;  /* raw header */
	char *content_type; /* without parameters, lowercase */
};

void acme_response_release(struct acme_response *r);

struct acme_http;

/* A client for one CA; 'ca_file' NULL trusts the system's CAs. */
struct acme_http *acme_http_new(const char *ca_file, struct mc_error *err);
void acme_http_free(struct acme_http *h);
/* GET ('body' NULL) or POST 'body' as application/jose+json ('head' set:
 * HEAD). Any HTTP status is a success here; the caller reads 'status'. */
int acme_http_request(struct acme_http *h, const char *url, const char *body, int head,
                      struct acme_response *resp, struct mc_error *err);
/* Reject anything but an absolute https URL (MC_EUSAGE). */
int acme_url_check(const char *url, struct mc_error *err);

/* ---- acme.c ---- */

struct acme_limits {
	long poll_timeout_s; /* per authorization or order, 0 = 300 */
	long poll_max_s;     /* longest single wait between polls, 0 = 10 */
};

struct acme_client {
	struct acme_http *http;
	char *directory_url;
	struct acme_directory dir;
	EVP_PKEY *key; /* the account key, not owned */
	char *kid;     /* the account URL once known */
	char *nonce;
	struct acme_limits limits;
	char problem[64]; /* the type name of the last problem document */
	/* the problem for which the CA refused the last order's "replaces"
	 * (the order then went without it), or "" */
	char replaces_refused[64];
	/* counters, for reports and tests */
	unsigned requests, bad_nonces;
};

/* Fetch and parse the directory at 'url'. */
int acme_client_init(struct acme_client *c, const char *url, const char *ca_file,
                     const struct acme_limits *limits, struct mc_error *err);
void acme_client_release(struct acme_client *c);

struct acme_account_request {
	EVP_PKEY *key;
	const char *kid;      /* the account URL kept from before, or NULL */
	const char *contact;  /* an email address, or NULL */
	const char *eab_kid;  /* external account binding, or NULL */
	const char *eab_hmac; /* its base64url MAC key */
};

/* Make sure the account exists: reuse 'req->kid' if set, else register
 * (newAccount returns the existing account of a known key). Afterwards
 * c->kid is the account URL. */
int acme_account(struct acme_client *c, const struct acme_account_request *req,
                 struct mc_error *err);

/* Where HTTP-01 token files go. */
struct acme_webroot {
	const char *dir; /* paths.acme_webroot */
};

/* Write and remove one token file (exposed for tests). */
int acme_webroot_publish(const struct acme_webroot *w, const char *token, const char *keyauth,
                         struct mc_error *err);
void acme_webroot_withdraw(const struct acme_webroot *w, const char *token);

/* The order, from newOrder to the chain: authorize every name over HTTP-01
 * through 'w', finalize with 'csr', download the PEM chain (leaf first). */
int acme_issue(struct acme_client *c, const char *const *names, size_t n, const unsigned char *csr,
               size_t csr_len, const struct acme_webroot *w, char **chain, struct mc_error *err);
/* acme_issue() for a renewal: 'replaces' is the certID (acme_ari_cert_id())
 * of the certificate the new one replaces (RFC 9773 section 5), or NULL.
 * It is sent only to a CA whose directory has renewalInfo; when the CA
 * refuses the order over it, the order is asked again once without it and
 * c->replaces_refused names the problem. */
int acme_issue_replacing(struct acme_client *c, const char *const *names, size_t n,
                         const unsigned char *csr, size_t csr_len, const char *replaces,
                         const struct acme_webroot *w, char **chain, struct mc_error *err);
/* The newOrder payload (compact JSON) for 'names' and an optional
 * 'replaces' certID (exposed for tests). */
char *acme_order_payload(const char *const *names, size_t n, const char *replaces);

/* ---- acme_ari.c ---- */

/*
 * ARI (RFC 9773). A certificate is named by its certID,
 * base64url(AKI keyIdentifier) "." base64url(serial's DER content bytes,
 * leading 0x00 kept), the path under the directory's renewalInfo URL and
 * the value of newOrder's "replaces". The CA answers a GET there with a
 * suggested window and, in Retry-After, when to ask again: that is kept
 * between one minute and one day, and six hours when absent or invalid
 * (RFC 9773 4.3). Times are seconds since the epoch, fractions dropped.
 */

/* The certID of the leaf (the first certificate) of PEM 'chain_pem'.
 * MC_EDATA when there is no certificate or it lacks an Authority Key
 * Identifier with a keyIdentifier. Caller frees '*cert_id'. */
int acme_ari_cert_id(const char *chain_pem, char **cert_id, struct mc_error *err);

/* A suggested renewal window. */
struct acme_ari {
	time_t start, end;  /* the window [start, end); end > start */
	time_t retry_after; /* when to ask again (absolute), see acme_ari_fetch() */
	char *explanation;  /* explanationURL for the operator, or NULL */
};

/* Parse a renewalInfo body: suggestedWindow.start and .end must both be
 * RFC 3339 times ('T' or 't', optional fraction, 'Z', 'z' or +hh:mm /
 * -hh:mm) with end after start; other members are ignored, and so is an
 * explanationURL that is not a string of printable ASCII (at most 2048
 * bytes). 'retry_after' is left 0. MC_EUNAVAIL, "the CA's renewal
 * information is invalid: ...", otherwise, with '*out' empty. */
int acme_ari_parse(const char *json, size_t len, struct acme_ari *out, struct mc_error *err);
void acme_ari_release(struct acme_ari *a);

/* Ask the CA whose directory is at 'directory' ('ca_file' NULL: the
 * system's CAs) for the window of the leaf of 'chain_pem'. 0: '*out'
 * filled, out->retry_after = now + Retry-After (bounded as above). 1: the
 * directory has no renewalInfo; nothing was asked, '*out' is empty. -1:
 * '*out' is empty but for retry_after, when to ask again: 0 after a
 * temporary error (MC_ETEMP: the CA unreachable or timing out, a 5xx,
 * rateLimited: back off as after any failure), now + 6 h after any other
 * (a 4xx, in the words of its problem document; an invalid answer). */
int acme_ari_fetch(const char *directory, const char *ca_file, const char *chain_pem,
                   struct acme_ari *out, struct mc_error *err);

/* When to renew: a time uniformly distributed over [start, end), the
 * same for the same 'seed' and window (so a caller can keep it stable
 * between fetches), or 'now' when that time has passed (renew at once). */
time_t acme_ari_pick(const struct acme_ari *a, time_t now, unsigned long seed);

#endif
