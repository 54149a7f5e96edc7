/* ACME Renewal Information (RFC 9773): certIDs, renewalInfo documents,
 * the fetch and the pick (see acme.h). */
#include "acme.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Bounds on Retry-After (RFC 9773 4.3.2) and the interval after a
 * long-term error or without the header (4.3.3). */
#define ARI_RETRY_MIN_S     60L
#define ARI_RETRY_MAX_S     86400L
#define ARI_RETRY_DEFAULT_S 21600L
/* Longest explanationURL kept for the operator. */
#define ARI_EXPLANATION_MAX 2048

/* ---- certID (RFC 9773 4.1) ---- */

/* base64url of the serial's DER content octets (tag and length cut). */
static char *serial_b64url(const ASN1_INTEGER *serial)
{
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER(serial, &der);
	const unsigned char *p = der;
	long len;
	int tag, cls;
	char *out = NULL;
	if (n > 0 && !(ASN1_get_object(&p, &len, &tag, &cls, n) & 0x80) && len == n - (p - der) &&
	    len > 0)
		out = acme_b64url(p, (size_t)len);
	OPENSSL_free(der);
	return out;
}

int acme_ari_cert_id(const char *chain_pem, char **cert_id, struct mc_error *err)
{
	*cert_id = NULL;
	BIO *b = BIO_new_mem_buf(chain_pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!x)
		return mc_fail(err, MC_EDATA, "no PEM certificate to name for renewal information");
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	char *serial = serial_b64url(X509_get0_serialNumber(x));
	int rc = 0;
	if (!aki || ASN1_STRING_length(aki) <= 0)
		rc = mc_fail(err, MC_EDATA,
		             "the certificate has no authority key identifier: it has no certID");
	else if (!serial)
		rc = mc_fail(err, MC_EDATA, "the certificate's serial number cannot be encoded");
	if (rc == 0) {
		char *key_id =
		    acme_b64url(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
		*cert_id = xasprintf("%s.%s", key_id, serial);
		free(key_id);
	}
	free(serial);
	X509_free(x);
	return rc;
}

/* ---- renewalInfo documents (RFC 9773 4.2) ---- */

/* The number written with exactly 'n' decimal digits at 's', or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* The time zone at 's' ("Z" or "+hh:mm"), in seconds east of UTC; 'p'
 * points past it. -1 when it is not one. */
static int zone(const char **p, long *east)
{
	const char *s = *p;
	if (*s == 'Z' || *s == 'z') {
		*east = 0;
		*p = s + 1;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	int h = digits(s + 1, 2), m = h >= 0 && s[3] == ':' ? digits(s + 4, 2) : -1;
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*east = (*s == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	*p = s + 6;
	return 0;
}

/* An RFC 3339 date-time (section 5.6), fraction dropped. */
static int rfc3339(const char *s, time_t *out)
{
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		size_t n = strspn(++p, "0123456789");
		if (n == 0)
			return -1;
		p += n;
	}
	long east;
	if (zone(&p, &east) < 0 || *p)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	*out = timegm(&tm) - east;
	return 0;
}

static int invalid(struct mc_error *err, const char *why, const char *value)
{
	return mc_fail(err, MC_EUNAVAIL, "the CA's renewal information is invalid: %s%s%.64s%s",
	               why, value ? " ('" : "", value ? value : "", value ? "')" : "");
}

/* suggestedWindow.<key> as a time. */
static int window_time(json_t *window, const char *key, time_t *out, struct mc_error *err)
{
	json_t *v = json_object_get(window, key);
	char what[64];
	snprintf(what, sizeof(what), "'suggestedWindow.%s' is %s", key,
	         v ? "not an RFC 3339 time" : "missing");
	if (!json_is_string(v) || rfc3339(json_string_value(v), out) < 0)
		return invalid(err, what, json_string_value(v));
	return 0;
}

/* A URL fit to show an operator: printable ASCII, no spaces. */
static char *explanation(json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || !*s || json_string_length(v) > ARI_EXPLANATION_MAX)
		return NULL;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p > '~')
			return NULL;
	return xstrdup(s);
}

int acme_ari_parse(const char *json, size_t len, struct acme_ari *out, struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	json_t *doc = json_loadb(json, len, 0, NULL);
	json_t *window = json_object_get(doc, "suggestedWindow");
	int rc = 0;
	if (!doc)
		rc = invalid(err, "not JSON", NULL);
	else if (!json_is_object(window))
		rc = invalid(err, "no 'suggestedWindow' object", NULL);
	else if (window_time(window, "start", &out->start, err) < 0 ||
	         window_time(window, "end", &out->end, err) < 0)
		rc = -1;
	else if (out->end <= out->start)
		rc = mc_fail(err, MC_EUNAVAIL,
		             "the CA's renewal information is invalid: the window ends ('%.40s') "
		             "before it starts ('%.40s')",
		             json_string_value(json_object_get(window, "end")),
		             json_string_value(json_object_get(window, "start")));
	if (rc == 0)
		out->explanation = explanation(json_object_get(doc, "explanationURL"));
	else
		memset(out, 0, sizeof(*out));
	json_decref(doc);
	return rc;
}

void acme_ari_release(struct acme_ari *a)
{
	free(a->explanation);
	memset(a, 0, sizeof(*a));
}

/* ---- the fetch (RFC 9773 4.1, 4.3) ---- */

/* Seconds until the next fetch, from a Retry-After value. */
static long retry_seconds(const char *value, time_t now)
{
	long s = acme_retry_after(value, now);
	if (s < 0)
		return ARI_RETRY_DEFAULT_S;
	return s < ARI_RETRY_MIN_S ? ARI_RETRY_MIN_S : s > ARI_RETRY_MAX_S ? ARI_RETRY_MAX_S : s;
}

/* GET 'url'; a failure to get any answer is temporary. */
static int get(struct acme_http *h, const char *url, struct acme_response *resp,
               struct mc_error *err)
{
	if (acme_http_request(h, url, NULL, 0, resp, err) == 0)
		return 0;
	if (err)
		err->kind = MC_ETEMP;
	return -1;
}

/* A non-200 answer as an error: its problem document's words if any. */
static int answer_fail(const struct acme_response *resp, const char *what, struct mc_error *err)
{
	struct acme_problem p;
	if (resp->status < 500 && acme_problem_parse(resp->body.buf, resp->body.len, &p) == 0) {
		acme_problem_fail(&p, what, acme_retry_after(resp->retry_after, time(NULL)), err);
		acme_problem_release(&p);
		return -1;
	}
	return mc_fail(err, resp->status >= 500 ? MC_ETEMP : MC_EUNAVAIL, "%s: HTTP status %ld",
	               what, resp->status);
}

/* The directory at 'url', read with 'h'. */
static int directory_get(struct acme_http *h, const char *url, struct acme_directory *dir,
                         struct mc_error *err)
{
	struct acme_response resp;
	if (get(h, url, &resp, err) < 0)
		return -1;
	int rc = resp.status == 200
	             ? acme_directory_parse(url, resp.body.buf, resp.body.len, dir, err)
	             : mc_fail(err, resp.status >= 500 ? MC_ETEMP : MC_EUNAVAIL,
	                       "'%s' is not an ACME directory: HTTP status %ld", url, resp.status);
	acme_response_release(&resp);
	return rc;
}

/* GET <renewalInfo>/<certID> and parse the answer. */
static int renewal_get(struct acme_http *h, const char *base, const char *cert_id,
                       struct acme_ari *out, struct mc_error *err)
{
	struct acme_response resp;
	size_t n = strlen(base);
	char *url = xasprintf("%.*s/%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, cert_id);
	char *what = xasprintf("the CA refused renewal information for '%s'", cert_id);
	int rc = get(h, url, &resp, err);
	if (rc == 0 && resp.status != 200)
		rc = answer_fail(&resp, what, err);
	else if (rc == 0)
		rc = acme_ari_parse(resp.body.buf, resp.body.len, out, err);
	if (rc == 0)
		out->retry_after = time(NULL) + retry_seconds(resp.retry_after, time(NULL));
	acme_response_release(&resp); /* also after a failed request: empty then */
	free(what);
	free(url);
	return rc;
}

int acme_ari_fetch(const char *directory, const char *ca_file, const char *chain_pem,
                   struct acme_ari *out, struct mc_error *err)
{
	struct acme_directory dir;
	struct mc_error local;
	char *cert_id = NULL;
	memset(out, 0, sizeof(*out));
	memset(&dir, 0, sizeof(dir));
	if (!err)
		err = &local;
	if (acme_url_check(directory, err) < 0 || acme_ari_cert_id(chain_pem, &cert_id, err) < 0) {
		out->retry_after = time(NULL) + ARI_RETRY_DEFAULT_S;
		return -1;
	}
	struct acme_http *h = acme_http_new(ca_file, err);
	int rc = h ? directory_get(h, directory, &dir, err) : -1;
	if (rc == 0 && !dir.renewal_info)
		rc = 1;
	else if (rc == 0)
		rc = renewal_get(h, dir.renewal_info, cert_id, out, err);
	acme_directory_release(&dir);
	if (rc < 0)
		out->retry_after = err->kind == MC_ETEMP ? 0 : time(NULL) + ARI_RETRY_DEFAULT_S;
	acme_http_free(h);
	free(cert_id);
	return rc;
}

/* ---- the pick (RFC 9773 4.2) ---- */

/* splitmix64: every bit of the seed moves every bit of the result. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

time_t acme_ari_pick(const struct acme_ari *a, time_t now, unsigned long seed)
{
	if (a->end <= a->start)
		return a->start > now ? a->start : now;
	/* a window of years is under 2^38 s: the modulo's bias stays below
	 * 2^-26 */
	uint64_t span = (uint64_t)a->end - (uint64_t)a->start;
	time_t t = (time_t)((uint64_t)a->start + mix(seed) % span);
	return t < now ? now : t;
}
