/*
 * mtasts - the MTA-STS policy file (RFC 8461): its parser, MX matching,
 * and fetching it over HTTPS.
 *
 * mtasts_parse() reads the policy text of RFC 8461 3.2: "key: value"
 * lines ended by CRLF or LF (the last one may end without), at most
 * MTASTS_MAX_SIZE bytes. "version: STSv1" comes first; "mode" (enforce,
 * testing or none) and "max_age" (0..MTASTS_MAX_AGE seconds) once each;
 * one or more "mx" patterns (a host name, or "*." and a host name: the
 * wildcard stands for exactly one left-most label). Keys and the fixed
 * values are case-sensitive, as the RFC's ABNF says; other keys are
 * extensions and ignored, but their lines must still be well-formed.
 * It is pure: no I/O. Errors are MC_EDATA, with a lowercase message
 * naming the line ("line 2: unknown mode 'Enforce'").
 *
 * mtasts_mx_match() is RFC 8461 4.1: host names compare without case
 * and without regard to a final dot, and "*.example.net" matches
 * "mx1.example.net" but neither "example.net" nor "a.b.example.net".
 *
 * mtasts_fetch_all() fetches https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 * of several domains at once with libcurl. The addresses of mta-sts.DOMAIN
 * come from the caller (its own resolver's answers) and are pinned, so
 * the system resolver is never asked and no proxy is used. TLS 1.2 at
 * least, the peer's certificate and host name verified against the
 * system's CAs or the caller's CA file. Redirects are not followed (RFC
 * 8461 3.3: a 3xx is an error naming it), only 200 counts, the
 * Content-Type must be text/plain (parameters may follow), and a body
 * over MTASTS_MAX_SIZE is an error. One timeout covers every transfer
 * together. Each fetch ends in one 'enum mtasts_fetch_error' with a
 * lowercase message in its own struct mc_error; only a local failure
 * (libcurl cannot start) fails the call itself (MC_EINTERNAL).
 *
 * Ownership: a parsed policy owns its mx strings (mtasts_policy_release());
 * a fetch owns its text and policy (mtasts_fetch_release()).
 */
#ifndef MAILCTL_MTASTS_H
#define MAILCTL_MTASTS_H

#include <stddef.h>

#include "error.h"

#define MTASTS_MAX_SIZE   65536    /* bytes of policy text (RFC 8461 3.2) */
#define MTASTS_MAX_AGE    31557600 /* seconds: a year */
#define MTASTS_TIMEOUT_MS 5000     /* the fetches' budget unless told otherwise */

enum mtasts_mode { MTASTS_ENFORCE, MTASTS_TESTING, MTASTS_NONE };

/* "enforce", "testing", "none" */
const char *mtasts_mode_name(enum mtasts_mode m);

struct mtasts_policy {
	enum mtasts_mode mode;
	unsigned long max_age;
	char **mx; /* the patterns as written */
	size_t nmx;
};

int mtasts_parse(const char *text, size_t len, struct mtasts_policy *out, struct mc_error *err);
void mtasts_policy_release(struct mtasts_policy *p);

/* 1 when the MX host 'host' matches the policy pattern 'pattern'. */
int mtasts_mx_match(const char *pattern, const char *host);

/* The index of the first pattern of 'p' that matches 'host', or -1. */
long mtasts_policy_match(const struct mtasts_policy *p, const char *host);

/* ---- fetching ---- */

enum mtasts_fetch_error {
	MTASTS_FETCH_OK,
	MTASTS_FETCH_NOADDR,   /* no address given for mta-sts.DOMAIN */
	MTASTS_FETCH_CONNECT,  /* no connection (refused, unreachable, reset) */
	MTASTS_FETCH_TIMEOUT,  /* the budget ran out */
	MTASTS_FETCH_TLS,      /* handshake or certificate */
	MTASTS_FETCH_REDIRECT, /* a 3xx */
	MTASTS_FETCH_HTTP,     /* another status than 200, or not HTTP */
	MTASTS_FETCH_TYPE,     /* not text/plain */
	MTASTS_FETCH_SIZE,     /* over MTASTS_MAX_SIZE */
	MTASTS_FETCH_SYNTAX,   /* fetched, but not a valid policy */
};

/* "ok", "no address", "connect", "timeout", "tls", "redirect", "http",
 * "content type", "size", "syntax" */
const char *mtasts_fetch_error_name(enum mtasts_fetch_error e);

struct mtasts_fetch {
	/* in */
	const char *domain;       /* the policy domain, an A-label, no final dot */
	const char *const *addrs; /* addresses of mta-sts.DOMAIN, NULL-terminated */

	/* out */
	enum mtasts_fetch_error error;
	struct mc_error err;         /* why, when 'error' is not MTASTS_FETCH_OK */
	long http_status;            /* 0 when no HTTP answer came */
	char *text;                  /* a 200's text/plain body (also on SYNTAX), else NULL */
	size_t len;                  /* of 'text' */
	struct mtasts_policy policy; /* MTASTS_FETCH_OK: the parsed policy */
};

struct mtasts_fetch_options {
	const char *ca_file; /* PEM CA certificates to trust; NULL: the system's */
	int timeout_ms;      /* for every transfer together; 0: MTASTS_TIMEOUT_MS */
};

/* The policy URL of 'domain' (caller frees). */
char *mtasts_url(const char *domain);

/* Fetch the 'n' policies of 'v' at once; each gets its own result. The
 * out fields start zeroed ({0} with 'domain' and 'addrs' set) or hold an
 * earlier fetch's result, which is released first. */
int mtasts_fetch_all(struct mtasts_fetch *v, size_t n, const struct mtasts_fetch_options *o,
                     struct mc_error *err);

/* Fetch one: 0 when the policy was fetched and parsed, else -1 with
 * 'err' (also in f->err). */
int mtasts_fetch(struct mtasts_fetch *f, const struct mtasts_fetch_options *o,
                 struct mc_error *err);

void mtasts_fetch_release(struct mtasts_fetch *f);

#endif
