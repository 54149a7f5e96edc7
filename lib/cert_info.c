/* Reading and checking certificate chains (see cert.h, cert_int.h). */
#include "cert_int.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

void cert_time_format(time_t t, char buf[21])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	return ASN1_TIME_to_tm(t, &tm) ? timegm(&tm) : 0;
}

static void hex(const unsigned char *md, unsigned int len, char out[65])
{
	out[0] = '\0';
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* SHA-256 of the leaf's SubjectPublicKeyInfo (TLSA 3 1 1) and of its DER. */
static void digests(X509 *x, struct cert_info *out)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int len = 0;
	int dlen = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (dlen > 0 && EVP_Digest(der, (size_t)dlen, md, &len, EVP_sha256(), NULL))
		hex(md, len, out->tlsa);
	OPENSSL_free(der);
	if (X509_digest(x, EVP_sha256(), md, &len))
		hex(md, len, out->sha256);
}

static void san_names(X509 *x, struct cert_info *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	out->names = xcalloc((size_t)n + 1, sizeof(*out->names));
	for (int i = 0; i < n; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		out->names[out->nnames++] =
		    xstrndup((const char *)s, (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
}

static char *name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len = 0;
	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		len = BIO_get_mem_data(b, &data);
	char *out = xstrndup(data ? data : "", (size_t)(len > 0 ? len : 0));
	BIO_free(b);
	return out;
}

static void leaf_info(X509 *x, EVP_PKEY *key, struct cert_info *out)
{
	out->subject = name_text(X509_get_subject_name(x));
	out->issuer = name_text(X509_get_issuer_name(x));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *s = bn ? BN_bn2hex(bn) : NULL;
	out->serial = xstrdup(s ? s : "");
	for (char *p = out->serial; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	OPENSSL_free(s);
	BN_free(bn);
	out->not_before = asn1_time(X509_get0_notBefore(x));
	out->not_after = asn1_time(X509_get0_notAfter(x));
	out->renew_after = out->not_after - (out->not_after - out->not_before) / 3;
	out->self_signed = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0;
	out->key_matches = key ? X509_check_private_key(x, key) == 1 : -1;
	digests(x, out);
	san_names(x, out);
	ERR_clear_error();
}

int cert_info_parse(const char *pem, size_t len, EVP_PKEY *key, struct cert_info *out,
                    struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x, *prev = NULL;
	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (out->chain++ == 0)
			leaf_info(x, key, out);
		/* each certificate is issued and signed by the one after it */
		else if (!out->chain_broken && (X509_check_issued(x, prev) != X509_V_OK ||
		                                X509_verify(prev, X509_get0_pubkey(x)) != 1))
			out->chain_broken = out->chain - 1;
		X509_free(prev);
		prev = x;
	}
	X509_free(prev);
	BIO_free(b);
	ERR_clear_error();
	if (out->chain == 0)
		return mc_fail(err, MC_EDATA, "no PEM certificate in it");
	return 0;
}

int cert_chain_check(const struct cert_info *info, const char *const *names, size_t n, time_t now,
                     struct mc_error *err)
{
	if (info->key_matches != 1)
		return mc_fail(err, MC_EDATA, "the CA's certificate is not for our key");
	if (info->chain_broken)
		return mc_fail(err, MC_EDATA,
		               "the CA's certificate chain is broken: certificate %d is not "
		               "issued and signed by certificate %d",
		               info->chain_broken, info->chain_broken + 1);
	if (info->self_signed)
		return mc_fail(err, MC_EDATA, "the CA's certificate is self-signed");
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < info->nnames && strcasecmp(info->names[j], names[i]))
			j++;
		if (j == info->nnames)
			return mc_fail(err, MC_EDATA, "the CA's certificate lacks the name '%s'",
			               names[i]);
	}
	if (info->not_after <= now || info->not_before > now + 86400)
		return mc_fail(err, MC_EDATA, "the CA's certificate is not valid now");
	return 0;
}

int cert_info_read(const char *cert_file, const char *key_file, struct cert_info *out,
                   struct mc_error *err)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(cert_file, "re");
	if (!f)
		return mc_fail(err, MC_EIO, "cannot open '%s': %s", cert_file, mc_strerror(errno));
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len < 1024 * 1024)
		strbuf_add(&sb, buf, got);
	fclose(f);
	EVP_PKEY *key = NULL;
	FILE *kf = key_file ? fopen(key_file, "re") : NULL;
	if (kf) {
		key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
		fclose(kf);
		ERR_clear_error();
	}
	int rc = cert_info_parse(sb.buf, sb.len, key, out, err);
	if (rc < 0)
		mc_fail(err, MC_EDATA, "'%s' holds no PEM certificate", cert_file);
	EVP_PKEY_free(key);
	strbuf_release(&sb);
	return rc;
}

void cert_info_release(struct cert_info *i)
{
	free(i->subject);
	free(i->issuer);
	free(i->serial);
	for (size_t k = 0; k < i->nnames; k++)
		free(i->names[k]);
	free(i->names);
	memset(i, 0, sizeof(*i));
}

char *cert_status_text(const struct cert_info *in, time_t now, const char *to_request)
{
	char when[21];
	cert_time_format(in->renew_after, when);
	if (in->self_signed)
		return xasprintf("self-signed (from setup): no certificate from a CA yet; %s",
		                 to_request);
	if (in->key_matches == 0)
		return xstrdup("not for tls.key_file: servers cannot use it");
	if (in->chain_broken)
		return xasprintf("the chain is broken: certificate %d is not issued and signed by "
		                 "certificate %d",
		                 in->chain_broken, in->chain_broken + 1);
	if (in->not_after <= now)
		return xstrdup("expired: renew it");
	if (now >= in->renew_after)
		return xstrdup("from a CA; renewal due");
	return xasprintf("from a CA; renews after %.10s", when);
}
