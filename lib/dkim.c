/* DKIM keys: OpenSSL generation, key files and DNS records; see dkim.h. */
#include "dkim.h"
#include "address.h"
#include "domain.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The user the signer runs as: it must be able to read the keys. */
#define DKIM_KEY_OWNER "mailctl"
/* The longest DNS name in presentation form, without the final dot. */
#define DNS_NAME_MAX 253

static int rsa_public(EVP_PKEY *pkey, unsigned char **out, size_t *len);
static int ed25519_public(EVP_PKEY *pkey, unsigned char **out, size_t *len);

/* What each algorithm needs: its OpenSSL name, its sizes, its p= form. */
static const struct dkim_alg {
	const char *name; /* k= and the database */
	const char *ossl; /* OpenSSL key type */
	int sizes[4];     /* allowed sizes, the default first, 0-terminated */
	const char *sizes_hint;
	int (*public_key)(EVP_PKEY *pkey, unsigned char **out, size_t *len);
} algs[] = {
    {"rsa", "RSA", {2048, 3072, 4096, 0}, "use 2048, 3072 or 4096", rsa_public},
    {"ed25519", "ED25519", {256, 0}, "ed25519 keys are always 256 bits", ed25519_public},
};

/* ---- generation ---- */

static int ssl_fail(struct mc_error *err, const char *what)
{
	char buf[256] = "unknown OpenSSL error";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return mc_fail(err, MC_EINTERNAL, "cannot %s: %s", what, buf);
}

static int find_alg(const char *name, const struct dkim_alg **out, struct mc_error *err)
{
	char buf[64];
	name = name ? name : "rsa";
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strcasecmp(name, algs[i].name) == 0) {
			*out = &algs[i];
			return 0;
		}
	}
	return mc_fail(err, MC_EDATA, "unknown DKIM algorithm '%s': use rsa or ed25519",
	               addr_printable(name, buf, sizeof(buf)));
}

/* 0 means the default size. */
static int check_bits(const struct dkim_alg *a, int *bits, struct mc_error *err)
{
	if (*bits == 0)
		*bits = a->sizes[0];
	for (const int *s = a->sizes; *s; s++)
		if (*bits == *s)
			return 0;
	return mc_fail(err, MC_EDATA, "unsupported %s key size %d: %s", a->name, *bits,
	               a->sizes_hint);
}

/* RSA: the DER SubjectPublicKeyInfo (RFC 6376 3.6.1). */
static int rsa_public(EVP_PKEY *pkey, unsigned char **out, size_t *len)
{
	int n = i2d_PUBKEY(pkey, out);
	if (n <= 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* Ed25519: the bare 32-byte key, without the SPKI wrapping (RFC 8463 4.2). */
static int ed25519_public(EVP_PKEY *pkey, unsigned char **out, size_t *len)
{
	if (EVP_PKEY_get_raw_public_key(pkey, NULL, len) != 1)
		return -1;
	*out = OPENSSL_malloc(*len);
	if (*out && EVP_PKEY_get_raw_public_key(pkey, *out, len) == 1)
		return 0;
	OPENSSL_free(*out);
	*out = NULL;
	return -1;
}

static char *base64(const unsigned char *in, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

/* The private key as PKCS#8 PEM, through a BIO that wipes its memory. */
static char *private_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data, *pem = NULL;
	long n;
	if (bio && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		pem = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return pem;
}

int dkim_new_generate(struct dkim_new *k, const char *algorithm, int bits, struct mc_error *err)
{
	const struct dkim_alg *a;
	unsigned char *pub = NULL;
	size_t len;
	memset(k, 0, sizeof(*k));
	if (find_alg(algorithm, &a, err) < 0 || check_bits(a, &bits, err) < 0)
		return -1;
	/* The size argument is read for RSA only. */
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, a->ossl, (size_t)bits);
	if (!pkey)
		return ssl_fail(err, "generate a DKIM key");
	int rc = 0;
	if (a->public_key(pkey, &pub, &len) < 0 || !(k->pem = private_pem(pkey)))
		rc = ssl_fail(err, "encode the DKIM key");
	if (rc == 0) {
		k->algorithm = a->name;
		k->bits = bits;
		k->public_key = base64(pub, len);
	}
	OPENSSL_free(pub);
	EVP_PKEY_free(pkey);
	return rc;
}

int dkim_public_from_file(const char *path, char **public_key, struct mc_error *err)
{
	unsigned char *pub = NULL;
	size_t len;
	*public_key = NULL;
	FILE *f = fopen(path, "re");
	if (!f)
		return mc_fail(err, MC_EIO, "cannot read key file '%s': %s", path,
		               mc_strerror(errno));
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey) {
		ERR_clear_error();
		return mc_fail(err, MC_EDATA, "key file '%s' holds no private key", path);
	}
	int rc = mc_fail(err, MC_EDATA, "key file '%s' holds a key of another algorithm", path);
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (!EVP_PKEY_is_a(pkey, algs[i].ossl))
			continue;
		if (algs[i].public_key(pkey, &pub, &len) < 0)
			rc = ssl_fail(err, "derive the public DKIM key");
		else {
			*public_key = base64(pub, len);
			rc = 0;
		}
		break;
	}
	OPENSSL_free(pub);
	EVP_PKEY_free(pkey);
	return rc;
}

void dkim_new_release(struct dkim_new *k)
{
	if (k->pem) {
		OPENSSL_cleanse(k->pem, strlen(k->pem));
		free(k->pem);
	}
	free(k->public_key);
	free(k->key_file);
	memset(k, 0, sizeof(*k));
}

/* ---- key files ---- */

/* The user to hand keys to: the signer's, when it exists and we may. */
static const struct passwd *key_owner(void)
{
	return geteuid() == 0 ? getpwnam(DKIM_KEY_OWNER) : NULL;
}

static int ensure_key_dir(const char *dir, int *made, struct mc_error *err)
{
	const struct passwd *pw;
	*made = 0;
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		return mc_fail(err, MC_EIO, "cannot create key directory '%s': %s", dir,
		               mc_strerror(errno));
	}
	*made = 1;
	if ((pw = key_owner()) && chown(dir, pw->pw_uid, pw->pw_gid) < 0)
		return mc_fail(err, MC_EIO, "cannot give '%s' to user '%s': %s", dir,
		               DKIM_KEY_OWNER, mc_strerror(errno));
	return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write 'pem' to a new temporary file 'tmp' (a mkstemp template): mode
 * 0600 whatever the umask, owned by the signer. */
static int write_temp(const char *pem, char *tmp, const char *path, struct mc_error *err)
{
	const struct passwd *pw = key_owner();
	int fd = mkostemp(tmp, O_CLOEXEC), e;
	if (fd < 0)
		return mc_fail(err, MC_EIO, "cannot create key file '%s': %s", path,
		               mc_strerror(errno));
	if (fchmod(fd, 0600) < 0 || (pw && fchown(fd, pw->pw_uid, pw->pw_gid) < 0) ||
	    write_all(fd, pem, strlen(pem)) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return mc_fail(err, MC_EIO, "cannot write key file '%s': %s", tmp, mc_strerror(e));
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		return mc_fail(err, MC_EIO, "cannot write key file '%s': %s", tmp, mc_strerror(e));
	}
	return 0;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Write under a temporary name, then link() into place: unlike rename()
 * that never replaces a key file already there. */
static int write_key(const char *pem, const char *path, const char *dir, struct mc_error *err)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	int rc = write_temp(pem, tmp, path, err);
	if (rc == 0) {
		int e = link(tmp, path) < 0 ? errno : 0;
		unlink(tmp);
		sync_dir(dir);
		if (e == EEXIST)
			rc = mc_fail(err, MC_EDATA,
			             "key file '%s' already exists: move it away first", path);
		else if (e)
			rc = mc_fail(err, MC_EIO, "cannot create key file '%s': %s", path,
			             mc_strerror(e));
	}
	free(tmp);
	return rc;
}

/* A key's record name must fit in DNS. */
static int check_record_name(const char *selector, const char *domain, struct mc_error *err)
{
	size_t n = strlen(selector) + strlen("._domainkey.") + strlen(domain);
	if (n <= DNS_NAME_MAX)
		return 0;
	return mc_fail(err, MC_EDATA,
	               "record name '%s._domainkey.%s' is longer than %d bytes: choose a "
	               "shorter selector",
	               selector, domain, DNS_NAME_MAX);
}

/* 'active' unless the domain already signs with this algorithm. */
static int new_state(struct mc_ctx *ctx, const char *domain, const char *algorithm,
                     const char **state, struct mc_error *err)
{
	struct dkim_list l;
	if (store_dkim_list(ctx->st, domain, &l, err) < 0)
		return -1;
	*state = "active";
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].algorithm, algorithm) && !strcmp(l.v[i].state, "active"))
			*state = "published";
	dkim_list_release(&l);
	return 0;
}

/* Insert the row and the audit entry, then write the file: the last step,
 * so only a failed commit is left to undo. */
int dkim_new_store(struct mc_ctx *ctx, struct dkim_new *k, long long domain_id, const char *domain,
                   const char *selector, struct mc_error *err)
{
	const char *state;
	long long id;
	char *path = xasprintf("%s/%s._domainkey.%s.pem", ctx->cfg->key_dir, selector, domain);
	char *detail = xasprintf("selector %s, %s %d", selector, k->algorithm, k->bits);
	struct dkim_row r = {.domain_id = domain_id,
	                     .selector = (char *)selector,
	                     .algorithm = (char *)k->algorithm,
	                     .bits = k->bits,
	                     .public_key = k->public_key,
	                     .key_file = path};
	int rc = check_record_name(selector, domain, err);
	if (rc == 0 && (rc = new_state(ctx, domain, k->algorithm, &state, err)) == 0) {
		r.state = (char *)state;
		if (store_dkim_insert(ctx->st, &r, &id, err) < 0 ||
		    store_audit(ctx->st, ctx->actor, "dkim.keygen", domain, detail, err) < 0 ||
		    ensure_key_dir(ctx->cfg->key_dir, &k->made_dir, err) < 0 ||
		    write_key(k->pem, path, ctx->cfg->key_dir, err) < 0)
			rc = -1;
	}
	free(detail);
	if (rc == 0)
		k->key_file = path;
	else
		free(path);
	return rc;
}

void dkim_new_unstore(const struct mc_ctx *ctx, struct dkim_new *k)
{
	if (k->key_file) {
		unlink(k->key_file);
		free(k->key_file);
		k->key_file = NULL;
	}
	if (k->made_dir)
		rmdir(ctx->cfg->key_dir);
	k->made_dir = 0;
}

int dkim_remove_files(const struct dkim_list *keys, struct mc_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < keys->n; i++)
		if (unlink(keys->v[i].key_file) < 0 && errno != ENOENT && rc == 0)
			rc = mc_fail(err, MC_EIO,
			             "cannot delete DKIM key file '%s': %s; its key is gone from "
			             "the database, delete the file by hand",
			             keys->v[i].key_file, mc_strerror(errno));
	return rc;
}

/* ---- selectors ---- */

/* Why 's' is not a selector (RFC 6376 3.1: dot-separated sub-domain
 * labels), or NULL when it is one. */
static const char *selector_problem(const char *s)
{
	static const char ldh[] = "abcdefghijklmnopqrstuvwxyz"
	                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
	if (!*s)
		return "it is empty";
	for (;;) {
		size_t n = strspn(s, ldh);
		if (n == 0 && (*s == '.' || *s == '\0'))
			return "it has an empty label";
		if (n == 0 || (s[n] != '.' && s[n] != '\0'))
			return "only letters, digits, hyphens and dots are allowed";
		if (n > 63)
			return "a label is longer than 63 characters";
		if (s[0] == '-' || s[n - 1] == '-')
			return "a label starts or ends with a hyphen";
		if (s[n] == '\0')
			return NULL;
		s += n + 1;
	}
}

int dkim_selector_normalize(const char *in, char **out, struct mc_error *err)
{
	char buf[80];
	const char *why = selector_problem(in);
	*out = NULL;
	if (why)
		return mc_fail(err, MC_EDATA, "invalid selector '%s': %s",
		               addr_printable(in, buf, sizeof(buf)), why);
	*out = xstrdup(in);
	for (char *p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int selector_taken(struct mc_ctx *ctx, const char *domain, const char *selector,
                          struct mc_error *err)
{
	struct dkim_row r;
	int rc = store_dkim_get(ctx->st, domain, selector, &r, err);
	dkim_row_release(&r);
	return rc;
}

int dkim_selector_default(struct mc_ctx *ctx, const char *domain, time_t now, char **out,
                          struct mc_error *err)
{
	char base[16], cand[16];
	struct tm tm;
	*out = NULL;
	gmtime_r(&now, &tm);
	size_t n = strftime(base, sizeof(base) - 1, "s%Y%m", &tm);
	for (char c = 'a'; c <= 'z'; c++) {
		memcpy(cand, base, n + 1);
		if (c != 'a') { /* s202611, s202611b, s202611c... */
			cand[n] = c;
			cand[n + 1] = '\0';
		}
		int rc = selector_taken(ctx, domain, cand, err);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*out = xstrdup(cand);
			return 0;
		}
	}
	return mc_fail(err, MC_EDATA,
	               "selectors '%s' to '%sz' of domain '%s' are all taken: choose one with "
	               "--selector",
	               base, base, domain);
}

/* The selector asked for, if it is free, or the default. */
static int choose_selector(struct mc_ctx *ctx, const char *domain, const char *asked, char **out,
                           struct mc_error *err)
{
	int rc;
	if (!asked)
		rc = dkim_selector_default(ctx, domain, time(NULL), out, err);
	else if ((rc = dkim_selector_normalize(asked, out, err)) == 0 &&
	         (rc = selector_taken(ctx, domain, *out, err)) > 0)
		rc = mc_fail(err, MC_EDATA, "domain '%s' already has a DKIM key with selector '%s'",
		             domain, *out);
	if (rc == 0)
		rc = check_record_name(*out, domain, err);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc < 0 ? -1 : 0;
}

/* ---- operations ---- */

/* Everything about a request that needs no database, checked first. */
static int check_request(const char *algorithm, int bits, const char *selector,
                         struct mc_error *err)
{
	const struct dkim_alg *a;
	char *sel = NULL;
	int rc = find_alg(algorithm, &a, err);
	if (rc == 0)
		rc = check_bits(a, &bits, err);
	if (rc == 0 && selector)
		rc = dkim_selector_normalize(selector, &sel, err);
	free(sel);
	return rc;
}

/* Store 'k' for 'domain' in one transaction; undo the file on failure. */
static int keygen_tx(struct mc_ctx *ctx, const struct domain_row *d, const char *selector,
                     struct dkim_new *k, struct mc_error *err)
{
	if (store_begin(ctx->st, err) < 0)
		return -1;
	if (dkim_new_store(ctx, k, d->id, d->name, selector, err) < 0 ||
	    store_commit(ctx->st, err) < 0) {
		store_rollback(ctx->st);
		dkim_new_unstore(ctx, k);
		return -1;
	}
	return 0;
}

int dkim_keygen(struct mc_ctx *ctx, const char *domain, const char *algorithm, int bits,
                const char *selector, struct dkim_row *out, struct mc_error *err)
{
	struct dkim_new k = {0};
	struct domain_row d;
	char *sel = NULL;
	memset(out, 0, sizeof(*out));
	if (check_request(algorithm, bits, selector, err) < 0 ||
	    domain_require(ctx, domain, &d, err) < 0)
		return -1;
	int rc = choose_selector(ctx, d.name, selector, &sel, err);
	if (rc == 0)
		rc = dkim_new_generate(&k, algorithm, bits, err);
	if (rc == 0)
		rc = keygen_tx(ctx, &d, sel, &k, err);
	if (rc == 0 && (rc = store_dkim_get(ctx->st, d.name, sel, out, err)) == 0)
		rc = mc_fail(err, MC_EINTERNAL, "the new DKIM key of '%s' is not in the database",
		             d.name);
	dkim_new_release(&k);
	free(sel);
	domain_row_release(&d);
	return rc < 0 ? -1 : 0;
}

int dkim_list(struct mc_ctx *ctx, const char *domain, struct dkim_list *out, struct mc_error *err)
{
	struct domain_row d;
	memset(out, 0, sizeof(*out));
	if (!domain)
		return store_dkim_list(ctx->st, NULL, out, err);
	if (domain_require(ctx, domain, &d, err) < 0)
		return -1;
	int rc = store_dkim_list(ctx->st, d.name, out, err);
	domain_row_release(&d);
	return rc;
}

/* The key to show without a selector: the active rsa key (what every
 * verifier understands), else the first other active one. */
static int show_active(struct mc_ctx *ctx, const char *domain, struct dkim_row *out,
                       struct mc_error *err)
{
	struct dkim_list l;
	size_t pick = (size_t)-1;
	if (store_dkim_list(ctx->st, domain, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.v[i].state, "active") != 0)
			continue;
		if (!strcmp(l.v[i].algorithm, "rsa")) {
			pick = i;
			break;
		}
		if (pick == (size_t)-1)
			pick = i;
	}
	int rc = 0;
	if (pick == (size_t)-1) {
		rc = mc_fail(err, MC_EDATA,
		             "domain '%s' has no active DKIM key: create one with 'mailctl dkim "
		             "keygen %s'",
		             domain, domain);
	} else { /* the row moves to the caller */
		*out = l.v[pick];
		memset(&l.v[pick], 0, sizeof(l.v[pick]));
	}
	dkim_list_release(&l);
	return rc;
}

int dkim_show(struct mc_ctx *ctx, const char *domain, const char *selector, struct dkim_row *out,
              struct mc_error *err)
{
	struct domain_row d;
	char *sel = NULL;
	int rc;
	memset(out, 0, sizeof(*out));
	if (selector && dkim_selector_normalize(selector, &sel, err) < 0)
		return -1;
	if ((rc = domain_require(ctx, domain, &d, err)) == 0) {
		if (!sel)
			rc = show_active(ctx, d.name, out, err);
		else if ((rc = store_dkim_get(ctx->st, d.name, sel, out, err)) == 0)
			rc = mc_fail(err, MC_EDATA,
			             "domain '%s' has no DKIM key with selector '%s'", d.name, sel);
		domain_row_release(&d);
	}
	free(sel);
	return rc < 0 ? -1 : 0;
}

/* ---- records ---- */

char *dkim_record_name(const char *selector, const char *domain)
{
	return xasprintf("%s._domainkey.%s", selector, domain);
}

char *dkim_record_value(const char *algorithm, const char *public_key)
{
	return xasprintf("v=DKIM1; k=%s; p=%s", algorithm, public_key);
}
