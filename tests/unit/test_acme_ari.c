/*
 * Unit tests for lib/acme_ari.c (ACME Renewal Information, RFC 9773) and
 * the newOrder "replaces" field: the certID of the RFC's example
 * certificate and of certificates made here (a serial with the high bit
 * set needs its 0x00), refusals; renewalInfo documents (fractions,
 * offsets, missing or reversed windows, not JSON); the pick in the window;
 * and acme_ari_fetch() against a real HTTPS server on 127.0.0.1,
 * 'openssl s_server -HTTP' (files hold whole responses, headers too) with
 * a certificate made here as the CA file: windows and Retry-After bounds,
 * no renewalInfo, 404, a problem document, 503, an invalid answer and a
 * refused connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "acme.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* RFC 9773 appendix A; its certID is given in section 4.1. */
static const char rfc_cert[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt\n"
                               "cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS\n"
                               "BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu\n"
                               "7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf\n"
                               "qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B\n"
                               "yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb\n"
                               "+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK\n"
                               "-----END CERTIFICATE-----\n";
static const char rfc_cert_id[] = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

static char dir[] = "/tmp/mailctl-ari.XXXXXX";

/* ---- certificates made here ---- */

/* A PEM certificate with serial 'serial_hex' and, when 'aki' is given, an
 * Authority Key Identifier whose keyIdentifier is those bytes ('aki_len'
 * 0: an AKI naming only the issuer's serial). Caller frees. */
static char *make_cert(const char *serial_hex, const unsigned char *aki, size_t aki_len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = NULL;
	assert_true(BN_hex2bn(&bn, serial_hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)"ari", -1, -1, 0);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_issuer_name(x, name);
	X509_set_subject_name(x, name);
	X509_set_pubkey(x, key);
	if (aki) {
		AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
		if (aki_len) {
			ak->keyid = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(ak->keyid, aki, (int)aki_len);
		} else {
			ak->serial = ASN1_INTEGER_new();
			ASN1_INTEGER_set(ak->serial, 7);
		}
		assert_int_equal(X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, 0), 1);
		AUTHORITY_KEYID_free(ak);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *pem = xstrndup(data, (size_t)n);
	BIO_free(b);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return pem;
}

static void test_cert_id_rfc9773(void **state)
{
	(void)state;
	struct mc_error err;
	char *id;
	assert_int_equal(acme_ari_cert_id(rfc_cert, &id, &err), 0);
	assert_string_equal(id, rfc_cert_id);
	free(id);
}

static void test_cert_id_made(void **state)
{
	(void)state;
	static const unsigned char aki[] = {0xfb, 0xff, 0x01, 0x02, 0x03};
	static const struct {
		const char *serial, *want;
	} v[] = {
	    {"8001", "-_8BAgM.AIAB"},        /* high bit: 00 80 01 */
	    {"42", "-_8BAgM.Qg"},            /* one byte, no 0x00 */
	    {"7FFF", "-_8BAgM.f_8"},         /* highest without the 0x00 */
	    {"FF00FF00", "-_8BAgM.AP8A_wA"}, /* 00 ff 00 ff 00 */
	    {"0", "-_8BAgM.AA"},             /* zero is one 0x00 byte */
	};
	struct mc_error err;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *pem = make_cert(v[i].serial, aki, sizeof(aki)), *id;
		assert_int_equal(acme_ari_cert_id(pem, &id, &err), 0);
		assert_string_equal(id, v[i].want);
		free(id);
		free(pem);
	}
	/* a chain: the first certificate is the one named */
	char *leaf = make_cert("8001", aki, sizeof(aki)), *id;
	char *chain = xasprintf("%s%s", leaf, rfc_cert);
	assert_int_equal(acme_ari_cert_id(chain, &id, &err), 0);
	assert_string_equal(id, "-_8BAgM.AIAB");
	free(id);
	free(chain);
	chain = xasprintf("%s%s", rfc_cert, leaf);
	assert_int_equal(acme_ari_cert_id(chain, &id, &err), 0);
	assert_string_equal(id, rfc_cert_id);
	free(id);
	free(chain);
	free(leaf);
}

static void test_cert_id_refused(void **state)
{
	(void)state;
	struct mc_error err;
	char *id = (char *)"untouched";
	char *no_aki = make_cert("8001", NULL, 0);
	assert_int_equal(acme_ari_cert_id(no_aki, &id, &err), -1);
	assert_null(id);
	assert_int_equal(err.kind, MC_EDATA);
	assert_string_equal(err.msg,
	                    "the certificate has no authority key identifier: it has no certID");
	/* an AKI naming the issuer by serial, without a keyIdentifier */
	char *serial_only = make_cert("8001", (const unsigned char *)"", 0);
	assert_int_equal(acme_ari_cert_id(serial_only, &id, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_int_equal(acme_ari_cert_id("not a certificate", &id, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	assert_string_equal(err.msg, "no PEM certificate to name for renewal information");
	assert_int_equal(acme_ari_cert_id("", &id, &err), -1);
	free(serial_only);
	free(no_aki);
}

/* ---- renewalInfo documents ---- */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = s};
	return timegm(&tm);
}

static int parse(const char *json, struct acme_ari *a, struct mc_error *err)
{
	return acme_ari_parse(json, strlen(json), a, err);
}

static void test_parse_valid(void **state)
{
	(void)state;
	struct acme_ari a;
	struct mc_error err;
	const char *doc = "{\"suggestedWindow\":{\"start\":\"2021-01-03T00:00:00Z\","
	                  "\"end\":\"2021-01-07T00:00:00Z\",\"note\":1},"
	                  "\"explanationURL\":\"https://example.com/docs/ari\","
	                  "\"future\":{\"member\":[1,2]}}";
	assert_int_equal(parse(doc, &a, &err), 0);
	assert_int_equal(a.start, utc(2021, 1, 3, 0, 0, 0));
	assert_int_equal(a.end, utc(2021, 1, 7, 0, 0, 0));
	assert_int_equal(a.retry_after, 0);
	assert_string_equal(a.explanation, "https://example.com/docs/ari");
	acme_ari_release(&a);
	assert_null(a.explanation);

	/* fractions are dropped; offsets are east of UTC; 't' and 'z' */
	doc = "{\"suggestedWindow\":{\"start\":\"2024-02-29T23:59:59.999999Z\","
	      "\"end\":\"2024-03-01t02:30:00.5+02:00\"}}";
	assert_int_equal(parse(doc, &a, &err), 0);
	assert_int_equal(a.start, utc(2024, 2, 29, 23, 59, 59));
	assert_int_equal(a.end, utc(2024, 3, 1, 0, 30, 0));
	assert_null(a.explanation);
	acme_ari_release(&a);
	doc = "{\"suggestedWindow\":{\"start\":\"2025-06-30T20:00:00-05:30\","
	      "\"end\":\"2025-07-01T01:30:01z\"},\"explanationURL\":7}";
	assert_int_equal(parse(doc, &a, &err), 0);
	assert_int_equal(a.start, utc(2025, 7, 1, 1, 30, 0));
	assert_int_equal(a.end - a.start, 1);
	assert_null(a.explanation); /* not a string: ignored */
	acme_ari_release(&a);
	/* an explanation with a control character is not shown to anyone */
	doc = "{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\","
	      "\"end\":\"2025-01-02T00:00:00Z\"},\"explanationURL\":\"https://x/\\u001b[2J\"}";
	assert_int_equal(parse(doc, &a, &err), 0);
	assert_null(a.explanation);
	acme_ari_release(&a);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *why;
	} v[] = {
	    {"<html>", "not JSON"},
	    {"", "not JSON"},
	    {"[1]", "no 'suggestedWindow' object"},
	    {"{}", "no 'suggestedWindow' object"},
	    {"{\"suggestedWindow\":\"2025-01-01T00:00:00Z\"}", "no 'suggestedWindow' object"},
	    {"{\"suggestedWindow\":{\"end\":\"2025-01-02T00:00:00Z\"}}",
	     "'suggestedWindow.start' is missing"},
	    {"{\"suggestedWindow\":{\"start\":\"2025-01-02T00:00:00Z\"}}",
	     "'suggestedWindow.end' is missing"},
	    {"{\"suggestedWindow\":{\"start\":1735689600,\"end\":\"2025-01-02T00:00:00Z\"}}",
	     "'suggestedWindow.start' is not an RFC 3339 time"},
	    {"{\"suggestedWindow\":{\"start\":\"2025-01-01T00:00:00Z\","
	     "\"end\":\"2024-12-31T23:00:00Z\"}}",
	     "the window ends ('2024-12-31T23:00:00Z') before it starts ('2025-01-01T00:00:00Z')"},
	    /* equal times: no window at all */
	    {"{\"suggestedWindow\":{\"start\":\"2025-01-01T01:00:00+01:00\","
	     "\"end\":\"2025-01-01T00:00:00Z\"}}",
	     "the window ends ('2025-01-01T00:00:00Z') before it starts "
	     "('2025-01-01T01:00:00+01:00')"},
	};
	static const char *const bad_times[] = {
	    "2025-02-29T00:00:00Z",     "2025-13-01T00:00:00Z",      "2025-04-31T00:00:00Z",
	    "2025-01-01T24:00:00Z",     "2025-01-01T00:60:00Z",      "2025-01-01T00:00:61Z",
	    "2025-01-01T00:00:00",      "2025-01-01 00:00:00Z",      "2025-01-01T00:00:00.Z",
	    "2025-01-01T00:00:00+0200", "2025-01-01T00:00:00+24:00", "2025-01-01T00:00:00Zx",
	    "25-01-01T00:00:00Z",       "2025-1-01T00:00:00Z",       "+025-01-01T00:00:00Z",
	    "2025-01-01T00:00:00+02:",  "2025-01-01T00:00:00-",      "",
	};
	struct acme_ari a;
	struct mc_error err;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(parse(v[i].doc, &a, &err), -1);
		assert_int_equal(err.kind, MC_EUNAVAIL);
		char *want = xasprintf("the CA's renewal information is invalid: %s", v[i].why);
		assert_true(!strncmp(err.msg, want, strlen(want)));
		free(want);
		assert_int_equal(a.start, 0);
		assert_int_equal(a.end, 0);
	}
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		char *doc = xasprintf("{\"suggestedWindow\":{\"start\":\"2020-01-01T00:00:00Z\","
		                      "\"end\":\"%s\"}}",
		                      bad_times[i]);
		if (parse(doc, &a, &err) != -1)
			fail_msg("'%s' was taken for a time", bad_times[i]);
		char *want = xasprintf("the CA's renewal information is invalid: "
		                       "'suggestedWindow.end' is not an RFC 3339 time ('%s')",
		                       bad_times[i]);
		assert_string_equal(err.msg, want);
		free(want);
		free(doc);
	}
}

/* ---- the pick ---- */

static void test_pick(void **state)
{
	(void)state;
	struct acme_ari a = {utc(2025, 3, 1, 0, 0, 0), utc(2025, 3, 3, 0, 0, 0), 0, NULL};
	time_t before = a.start - 86400, span = a.end - a.start;
	unsigned quarter[4] = {0};
	time_t first = acme_ari_pick(&a, before, 0);
	int differ = 0;
	for (unsigned long seed = 0; seed < 4000; seed++) {
		time_t t = acme_ari_pick(&a, before, seed);
		assert_true(t >= a.start && t < a.end);
		assert_int_equal(acme_ari_pick(&a, before, seed), t); /* stable */
		quarter[(t - a.start) * 4 / span]++;
		differ |= t != first;
	}
	assert_true(differ);
	for (int i = 0; i < 4; i++) /* uniform: 1000 expected in each */
		assert_true(quarter[i] > 880 && quarter[i] < 1120);
	/* past the end: now */
	time_t now = a.end + 5;
	assert_int_equal(acme_ari_pick(&a, now, 42), now);
	assert_int_equal(acme_ari_pick(&a, a.end, 42), a.end);
	/* inside the window: the pick, or now when the pick is already past */
	now = a.start + span / 2;
	for (unsigned long seed = 0; seed < 200; seed++) {
		time_t t = acme_ari_pick(&a, now, seed), early = acme_ari_pick(&a, before, seed);
		assert_int_equal(t, early < now ? now : early);
	}
	/* the seed's every bit counts */
	assert_int_not_equal(acme_ari_pick(&a, before, 1UL << 40),
	                     acme_ari_pick(&a, before, 1UL << 41));
}

/* ---- the newOrder payload ---- */

static void test_order_payload(void **state)
{
	(void)state;
	const char *names[] = {"mail.example.org", "mta-sts.example.org"};
	char *p = acme_order_payload(names, 2, NULL);
	assert_string_equal(p,
	                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"mail.example.org\"},"
	                    "{\"type\":\"dns\",\"value\":\"mta-sts.example.org\"}]}");
	free(p);
	p = acme_order_payload(names, 1, rfc_cert_id);
	assert_string_equal(p,
	                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"mail.example.org\"}],"
	                    "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}");
	free(p);
}

/* ---- a real HTTPS server: openssl s_server -HTTP ---- */

static struct {
	pid_t pid;
	int port;
	char *www, *ca_file, *base;
} srv;

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Serve 'body' at <www>/<path> after 'head' (status line and headers). */
static void serve(const char *path, const char *head, const char *body)
{
	char *file = xasprintf("%s/%s", srv.www, path);
	char *slash = strrchr(file, '/');
	*slash = '\0';
	mkdir(file, 0755);
	*slash = '/';
	char *text = xasprintf("%s\r\n\r\n%s", head, body);
	write_file(file, text);
	free(text);
	free(file);
}

/* The port s_server reports on its "ACCEPT 127.0.0.1:<port>" line. */
static int wait_port(const char *out)
{
	for (int i = 0; i < 1000; i++) {
		char line[256];
		FILE *f = fopen(out, "r");
		while (f && fgets(line, sizeof(line), f)) {
			const char *p = strstr(line, "ACCEPT 127.0.0.1:");
			if (p) {
				fclose(f);
				return atoi(p + strlen("ACCEPT 127.0.0.1:"));
			}
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	return -1;
}

static int server_start(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	srv.www = xasprintf("%s/www", dir);
	srv.ca_file = xasprintf("%s/server.pem", dir);
	char *key = xasprintf("%s/server.key", dir), *out = xasprintf("%s/s_server.out", dir);
	char *cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	                      "-nodes -keyout %s -out %s -subj /CN=127.0.0.1 -addext "
	                      "subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null",
	                      key, srv.ca_file);
	int rc = mkdir(srv.www, 0755) == 0 && system(cmd) == 0 ? 0 : -1;
	if (rc == 0 && (srv.pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || chdir(srv.www) < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-HTTP", "-cert",
		       srv.ca_file, "-key", key, (char *)NULL);
		_exit(127);
	}
	if (rc == 0 && (srv.pid < 0 || (srv.port = wait_port(out)) <= 0))
		rc = -1;
	srv.base = xasprintf("https://127.0.0.1:%d", srv.port);
	free(cmd);
	free(out);
	free(key);
	return rc;
}

static int server_stop(void **state)
{
	(void)state;
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd) == 0 ? 0 : -1;
	free(cmd);
	free(srv.www);
	free(srv.ca_file);
	free(srv.base);
	return rc;
}

#define JSON_200 "HTTP/1.0 200 OK\r\nContent-Type: application/json"

/* A directory at <path> whose renewalInfo is <base>/<ari> (NULL: none). */
static char *directory(const char *path, const char *ari)
{
	char *extra = ari ? xasprintf(",\"renewalInfo\":\"%s/%s\"", srv.base, ari) : xstrdup("");
	char *doc = xasprintf("{\"newNonce\":\"%s/nonce\",\"newAccount\":\"%s/account\","
	                      "\"newOrder\":\"%s/order\"%s}",
	                      srv.base, srv.base, srv.base, extra);
	serve(path, JSON_200, doc);
	free(doc);
	free(extra);
	return xasprintf("%s/%s", srv.base, path);
}

static const char window[] = "{\"suggestedWindow\":{\"start\":\"2026-05-01T00:00:00Z\","
                             "\"end\":\"2026-05-03T12:00:00.25Z\"},"
                             "\"explanationURL\":\"https://ca.test/why\"}";

/* Fetch the window of the RFC's certificate through 'url'; assert the
 * window and that retry_after is now + 'retry' seconds. */
static void fetch_window(const char *url, long retry)
{
	struct acme_ari a;
	struct mc_error err;
	time_t t0 = time(NULL);
	if (acme_ari_fetch(url, srv.ca_file, rfc_cert, &a, &err) != 0)
		fail_msg("%s", err.msg);
	time_t t1 = time(NULL);
	assert_int_equal(a.start, utc(2026, 5, 1, 0, 0, 0));
	assert_int_equal(a.end, utc(2026, 5, 3, 12, 0, 0));
	assert_string_equal(a.explanation, "https://ca.test/why");
	assert_true(a.retry_after >= t0 + retry && a.retry_after <= t1 + retry);
	acme_ari_release(&a);
}

static void test_fetch_window(void **state)
{
	(void)state;
	/* no Retry-After: six hours */
	char *url = directory("dir-a.json", "ari-a");
	serve("ari-a/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", JSON_200, window);
	fetch_window(url, 21600);
	free(url);
	/* a trailing slash on renewalInfo is not doubled */
	url = directory("dir-slash.json", "ari-a/");
	fetch_window(url, 21600);
	free(url);
	static const struct {
		const char *value;
		long seconds;
	} retry[] = {{"3600", 3600}, {"5", 60}, {"0", 60}, {"999999", 86400}, {"soon", 21600}};
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		char *path = xasprintf("ari-r%zu/%s", i, rfc_cert_id);
		char *head = xasprintf(JSON_200 "\r\nRetry-After: %s", retry[i].value);
		char *ari = xasprintf("ari-r%zu", i), *dpath = xasprintf("dir-r%zu.json", i);
		serve(path, head, window);
		url = directory(dpath, ari);
		fetch_window(url, retry[i].seconds);
		free(url);
		free(dpath);
		free(ari);
		free(head);
		free(path);
	}
}

static void test_fetch_no_renewal_info(void **state)
{
	(void)state;
	struct acme_ari a;
	struct mc_error err;
	char *url = directory("dir-none.json", NULL);
	assert_int_equal(acme_ari_fetch(url, srv.ca_file, rfc_cert, &a, &err), 1);
	assert_int_equal(a.start, 0);
	assert_int_equal(a.retry_after, 0);
	assert_null(a.explanation);
	free(url);
}

/* acme_ari_fetch() of the RFC's certificate through the directory at
 * 'url' fails with 'kind' and 'msg'; retry_after is 0 for MC_ETEMP, else
 * six hours from now. */
static void fetch_fails(const char *url, enum mc_errkind kind, const char *msg)
{
	struct acme_ari a;
	struct mc_error err;
	time_t t0 = time(NULL);
	assert_int_equal(acme_ari_fetch(url, srv.ca_file, rfc_cert, &a, &err), -1);
	time_t t1 = time(NULL);
	if (strncmp(err.msg, msg, strlen(msg)))
		fail_msg("'%s' does not start with '%s'", err.msg, msg);
	assert_int_equal(err.kind, kind);
	assert_int_equal(a.start, 0);
	assert_null(a.explanation);
	if (kind == MC_ETEMP)
		assert_int_equal(a.retry_after, 0);
	else
		assert_true(a.retry_after >= t0 + 21600 && a.retry_after <= t1 + 21600);
}

static void test_fetch_errors(void **state)
{
	(void)state;
	char *url = directory("dir-404.json", "ari-404");
	serve("ari-404/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", "HTTP/1.0 404 Not Found", "");
	fetch_fails(url, MC_EUNAVAIL,
	            "the CA refused renewal information for 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE': "
	            "HTTP status 404");
	free(url);

	url = directory("dir-400.json", "ari-400");
	serve("ari-400/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
	      "HTTP/1.0 400 Bad Request\r\nContent-Type: application/problem+json",
	      "{\"type\":\"urn:ietf:params:acme:error:unauthorized\",\"status\":400,"
	      "\"detail\":\"certificate not issued here\"}");
	fetch_fails(url, MC_EDATA,
	            "the CA refused renewal information for 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE': "
	            "certificate not issued here (unauthorized)");
	free(url);

	url = directory("dir-503.json", "ari-503");
	serve("ari-503/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
	      "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 120", "busy");
	fetch_fails(url, MC_ETEMP,
	            "the CA refused renewal information for 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE': "
	            "HTTP status 503");
	free(url);

	url = directory("dir-bad.json", "ari-bad");
	serve("ari-bad/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", JSON_200,
	      "{\"suggestedWindow\":{\"start\":\"2026-05-03T00:00:00Z\","
	      "\"end\":\"2026-05-01T00:00:00Z\"}}");
	fetch_fails(
	    url, MC_EUNAVAIL,
	    "the CA's renewal information is invalid: the window ends ('2026-05-01T00:00:00Z') "
	    "before it starts ('2026-05-03T00:00:00Z')");
	free(url);

	/* the directory itself */
	serve("dir-html.json", "HTTP/1.0 200 OK\r\nContent-Type: text/html", "<html>It works!");
	url = xasprintf("%s/dir-html.json", srv.base);
	char *msg = xasprintf("'%s' is not an ACME directory: not JSON", url);
	fetch_fails(url, MC_EUNAVAIL, msg);
	free(msg);
	free(url);
	serve("dir-500.json", "HTTP/1.0 500 Internal Server Error", "");
	url = xasprintf("%s/dir-500.json", srv.base);
	msg = xasprintf("'%s' is not an ACME directory: HTTP status 500", url);
	fetch_fails(url, MC_ETEMP, msg);
	free(msg);
	free(url);
	fetch_fails("http://127.0.0.1/dir", MC_EUSAGE,
	            "'http://127.0.0.1/dir' is not an https URL");
}

/* Nobody listens on a port bound without listen(): connection refused. */
static void test_fetch_unreachable(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(sa);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	char *url = xasprintf("https://127.0.0.1:%d/dir", ntohs(sa.sin_port));
	fetch_fails(url, MC_ETEMP, "cannot reach the CA at '");
	free(url);
	close(fd);
	/* a certificate without an AKI: refused before anything is asked */
	struct acme_ari a;
	struct mc_error err;
	char *pem = make_cert("1", NULL, 0);
	url = directory("dir-noaki.json", "ari-a");
	assert_int_equal(acme_ari_fetch(url, srv.ca_file, pem, &a, &err), -1);
	assert_int_equal(err.kind, MC_EDATA);
	free(url);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cert_id_rfc9773),       cmocka_unit_test(test_cert_id_made),
	    cmocka_unit_test(test_cert_id_refused),       cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_invalid),         cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_order_payload),         cmocka_unit_test(test_fetch_window),
	    cmocka_unit_test(test_fetch_no_renewal_info), cmocka_unit_test(test_fetch_errors),
	    cmocka_unit_test(test_fetch_unreachable),
	};
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
