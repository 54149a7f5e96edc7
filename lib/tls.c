/* Self-signed server certificates with OpenSSL 3 (see tls.h). */
#include "tls.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int ossl_fail(struct mc_error *err, const char *what)
{
	char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	ERR_clear_error();
	return mc_fail(err, MC_EINTERNAL, "cannot %s: %s", what, buf);
}

/* Write 'len' bytes to a new temporary file next to 'path', mode 'mode';
 * returns its name (caller frees) or NULL. */
static char *write_temp(const char *path, const char *data, size_t len, mode_t mode,
                        struct mc_error *err)
{
	char *tmp = xasprintf("%s.mailctl-new", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		mc_fail(err, MC_EIO, "cannot create '%s': %s", tmp, mc_strerror(errno));
		free(tmp);
		return NULL;
	}
	ssize_t n = write(fd, data, len);
	int ok = n == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 || !ok) {
		mc_fail(err, MC_EIO, "cannot write '%s': %s", tmp, mc_strerror(ok ? errno : saved));
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	return tmp;
}

/* The PEM text of 'key' or 'cert' (exactly one non-NULL) into a file. A key
 * is linked into place, so an existing one is never replaced. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, struct mc_error *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	int ok = b && (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
	                   : PEM_write_bio_X509(b, cert));
	long len = ok ? BIO_get_mem_data(b, &data) : 0;
	if (!ok) {
		BIO_free(b);
		return ossl_fail(err, "encode PEM");
	}
	char *tmp = write_temp(path, data, (size_t)len, key ? 0600 : 0644, err);
	BIO_free(b);
	if (!tmp)
		return -1;
	int rc = 0;
	if (key ? link(tmp, path) < 0 : rename(tmp, path) < 0)
		rc = mc_fail(err, MC_EIO, "cannot create '%s': %s", path, mc_strerror(errno));
	unlink(tmp);
	free(tmp);
	return rc;
}

static EVP_PKEY *read_key(const char *path, struct mc_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		mc_fail(err, MC_EIO, "cannot open '%s': %s", path, mc_strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		ERR_clear_error();
		mc_fail(err, MC_EDATA, "'%s' is not a PEM private key", path);
	}
	return k;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* Fill and sign the certificate: random 127-bit serial, a year, CN + SAN. */
static int fill_cert(X509 *x, EVP_PKEY *key, const char *host)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
	         X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
	         X509_gmtime_adj(X509_getm_notAfter(x), 86400L * TLS_SELF_SIGNED_DAYS) &&
	         X509_set_pubkey(x, key);
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(x);
	char *san = xasprintf("DNS:%s", host);
	ok = ok &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)host, -1,
	                                -1, 0) &&
	     X509_set_issuer_name(x, name) && add_ext(x, NID_subject_alt_name, san) &&
	     add_ext(x, NID_ext_key_usage, "serverAuth") &&
	     add_ext(x, NID_subject_key_identifier, "hash") && X509_sign(x, key, EVP_sha256()) > 0;
	free(san);
	return ok;
}

static int make_cert(const char *path, EVP_PKEY *key, const char *host, struct mc_error *err)
{
	X509 *x = X509_new();
	int rc = x && fill_cert(x, key, host) ? write_pem(path, NULL, x, err)
	                                      : ossl_fail(err, "make a certificate");
	X509_free(x);
	return rc;
}

/* The directory holding 'path' exists (made 0755 when missing). */
static int parent_dir(const char *path, struct mc_error *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			rc =
			    mc_fail(err, MC_EIO, "cannot create '%s': %s", dir, mc_strerror(errno));
	}
	free(dir);
	return rc;
}

int tls_ensure(const char *key_file, const char *cert_file, const char *host, int *made_key,
               int *made_cert, struct mc_error *err)
{
	int have_key = access(key_file, F_OK) == 0, have_cert = access(cert_file, F_OK) == 0;
	EVP_PKEY *key = NULL;
	*made_key = *made_cert = 0;
	if (have_cert && have_key)
		return 0;
	if (have_cert)
		return mc_fail(err, MC_EDATA,
		               "certificate '%s' exists but its key '%s' does not: restore the key "
		               "or remove the certificate",
		               cert_file, key_file);
	if (parent_dir(key_file, err) < 0 || parent_dir(cert_file, err) < 0)
		return -1;
	if (have_key) {
		key = read_key(key_file, err);
	} else if (!(key = EVP_EC_gen("P-256"))) {
		ossl_fail(err, "make an EC P-256 key");
	} else if (write_pem(key_file, key, NULL, err) < 0) {
		EVP_PKEY_free(key);
		key = NULL;
	} else {
		*made_key = 1;
	}
	int rc = key ? make_cert(cert_file, key, host, err) : -1;
	*made_cert = rc == 0;
	EVP_PKEY_free(key);
	return rc;
}
