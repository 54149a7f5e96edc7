/* DNS records for a mail domain, built with ldns; see dnsrec.h. */
#include "dnsrec.h"
#include "xalloc.h"

#include <ldns/ldns.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One typed rdata field. */
struct field {
	ldns_rdf_type type;
	const char *text;
};

static void push(struct dnsrec_list *out, ldns_rr *rr, const char *value, const char *purpose,
                 int provider)
{
	out->v = xgrow(out->v, &out->alloc, out->n + 1, sizeof(*out->v));
	struct dnsrec *r = &out->v[out->n++];
	char *owner = ldns_rdf2str(ldns_rr_owner(rr)),
	     *type = ldns_rr_type2str(ldns_rr_get_type(rr));
	char *zone = ldns_rr2str(rr);
	r->name = xstrdup(owner);
	r->type = xstrdup(type);
	r->ttl = ldns_rr_ttl(rr);
	r->zone = xstrndup(zone, strcspn(zone, "\n"));
	r->value = xstrdup(value);
	r->purpose = purpose;
	r->provider = provider;
	free(owner);
	free(type);
	free(zone);
}

/* Presentation form of the rdata: the fields joined by spaces. */
static char *rdata_text(const ldns_rr *rr)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, i));
		strbuf_addf(&sb, "%s%s", i ? " " : "", s);
		free(s);
	}
	return strbuf_detach(&sb);
}

/* Build one record from typed fields; 'value' NULL means the presentation
 * rdata. */
static int add(struct dnsrec_list *out, const char *owner, uint32_t ttl, ldns_rr_type type,
               const struct field *f, size_t n, const char *value, const char *purpose,
               int provider, struct mc_error *err)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_dname_new_frm_str(owner);
	if (!o) {
		ldns_rr_free(rr);
		return mc_fail(err, MC_EDATA, "invalid DNS name '%s'", owner);
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	for (size_t i = 0; i < n; i++) {
		ldns_rdf *rd = ldns_rdf_new_frm_str(f[i].type, f[i].text);
		if (!rd) {
			ldns_rr_free(rr);
			return mc_fail(err, MC_EDATA, "invalid value '%s' in a record for '%s'",
			               f[i].text, owner);
		}
		ldns_rr_push_rdf(rr, rd);
	}
	char *text = value ? NULL : rdata_text(rr);
	push(out, rr, value ? value : text, purpose, provider);
	free(text);
	ldns_rr_free(rr);
	return 0;
}

/* 'n' raw bytes as ldns's presentation parser reads them back: it takes
 * '\\' as an escape, so quotes and backslashes are escaped first. */
static char *txt_chunk(const char *p, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, p[i]);
	}
	return strbuf_detach(&sb);
}

int dnsrec_txt(struct dnsrec_list *out, const char *owner, uint32_t ttl, const char *txt,
               const char *purpose, struct mc_error *err)
{
	size_t len = strlen(txt), n = len ? (len + 254) / 255 : 1;
	struct field *f = xcalloc(n, sizeof(*f));
	char **chunks = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		chunks[i] = txt_chunk(txt + i * 255, len - i * 255 < 255 ? len - i * 255 : 255);
		f[i] = (struct field){LDNS_RDF_TYPE_STR, chunks[i]};
	}
	int rc = add(out, owner, ttl, LDNS_RR_TYPE_TXT, f, n, txt, purpose, 0, err);
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	free(chunks);
	free(f);
	return rc;
}

void dnsrec_mta_sts_policy(const struct dnsrec_input *in, struct strbuf *policy)
{
	strbuf_addf(policy, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: 604800\r\n",
	            in->mta_sts_mode, in->mailhost);
}

void dnsrec_mta_sts_id(const char *policy, char id[21])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(policy, strlen(policy), md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 10; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
}

/* MX, the mail host's addresses, and SPF for the domain and the host. */
static int mail_host(const struct dnsrec_input *in, const char *dom, const char *host,
                     struct dnsrec_list *out, struct mc_error *err)
{
	struct strbuf spf = STRBUF_INIT;
	struct field mx[] = {{LDNS_RDF_TYPE_INT16, "10"}, {LDNS_RDF_TYPE_DNAME, host}};
	struct field nullmx[] = {{LDNS_RDF_TYPE_INT16, "0"}, {LDNS_RDF_TYPE_DNAME, "."}};
	int rc = add(out, dom, in->ttl, LDNS_RR_TYPE_MX, mx, 2, NULL,
	             "mail for the domain goes to this server", 0, err);
	const char *const *v4 = in->host_records ? in->ipv4 : NULL;
	const char *const *v6 = in->host_records ? in->ipv6 : NULL;
	for (const char *const *a = v4; rc == 0 && a && *a; a++)
		rc = add(out, host, in->ttl, LDNS_RR_TYPE_A, &(struct field){LDNS_RDF_TYPE_A, *a},
		         1, NULL, "IPv4 address of the mail host", 0, err);
	for (const char *const *a = v6; rc == 0 && a && *a; a++)
		rc = add(out, host, in->ttl, LDNS_RR_TYPE_AAAA,
		         &(struct field){LDNS_RDF_TYPE_AAAA, *a}, 1, NULL,
		         "IPv6 address of the mail host", 0, err);
	/* Explicit addresses cost no DNS lookups at the receiver. */
	strbuf_addstr(&spf, "v=spf1 mx");
	for (const char *const *a = in->ipv4; *a; a++)
		strbuf_addf(&spf, " ip4:%s", *a);
	for (const char *const *a = in->ipv6; *a; a++)
		strbuf_addf(&spf, " ip6:%s", *a);
	strbuf_addstr(&spf, " -all");
	if (rc == 0)
		rc = dnsrec_txt(out, dom, in->ttl, spf.buf,
		                "SPF: only this server sends mail for the domain", err);
	if (rc == 0 && in->host_records)
		rc = dnsrec_txt(out, host, in->ttl, "v=spf1 a -all",
		                "SPF for the host name used in HELO", err);
	if (rc == 0 && in->host_records)
		rc = add(out, host, in->ttl, LDNS_RR_TYPE_MX, nullmx, 2, NULL,
		         "null MX (RFC 7505): the host name itself receives no mail", 0, err);
	strbuf_release(&spf);
	return rc;
}

static int dkim_dmarc(const struct dnsrec_input *in, const char *dom, struct dnsrec_list *out,
                      struct mc_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < in->ndkim; i++) {
		char *name = xasprintf("%s._domainkey.%s", in->dkim[i].selector, dom);
		rc = dnsrec_txt(out, name, in->ttl, in->dkim[i].txt,
		                "DKIM public key: receivers check our signatures with it", err);
		free(name);
	}
	char *name = xasprintf("_dmarc.%s", dom);
	char *txt =
	    xasprintf("v=DMARC1; p=%s; rua=mailto:%s", in->dmarc_policy, in->report_address);
	if (rc == 0)
		rc = dnsrec_txt(out, name, in->ttl, txt,
		                "DMARC: what receivers do with mail failing SPF and DKIM", err);
	free(name);
	free(txt);
	return rc;
}

static int mta_sts_tlsrpt(const struct dnsrec_input *in, const char *dom, const char *host,
                          struct dnsrec_list *out, struct mc_error *err)
{
	struct strbuf policy = STRBUF_INIT;
	char id[21];
	dnsrec_mta_sts_policy(in, &policy);
	dnsrec_mta_sts_id(policy.buf, id);
	char *sts = xasprintf("_mta-sts.%s", dom), *sts_txt = xasprintf("v=STSv1; id=%s", id);
	char *web = xasprintf("mta-sts.%s", dom), *rpt = xasprintf("_smtp._tls.%s", dom);
	char *rpt_txt = xasprintf("v=TLSRPTv1; rua=mailto:%s", in->report_address);
	int rc = dnsrec_txt(out, sts, in->ttl, sts_txt,
	                    "MTA-STS: senders must use TLS; the id changes with the policy", err);
	if (rc == 0)
		rc = add(out, web, in->ttl, LDNS_RR_TYPE_CNAME,
		         &(struct field){LDNS_RDF_TYPE_DNAME, host}, 1, NULL,
		         "serves the MTA-STS policy over HTTPS", 0, err);
	if (rc == 0)
		rc = dnsrec_txt(out, rpt, in->ttl, rpt_txt,
		                "TLS-RPT: where senders report TLS failures", err);
	free(sts);
	free(sts_txt);
	free(web);
	free(rpt);
	free(rpt_txt);
	strbuf_release(&policy);
	return rc;
}

/* RFC 6186 and RFC 8314 service records; port 0 target "." = not offered. */
static const struct {
	const char *service, *prio, *weight, *port;
	int offered;
	const char *purpose;
} srv_table[] = {
    {"_submissions._tcp", "0", "1", "465", 1, "mail clients send over implicit TLS"},
    {"_submission._tcp", "0", "1", "587", 1, "mail clients send with STARTTLS"},
    {"_imaps._tcp", "0", "1", "993", 1, "mail clients read over IMAP with TLS"},
    {"_pop3s._tcp", "0", "1", "995", 1, "mail clients read over POP3 with TLS"},
    {"_imap._tcp", "0", "0", "0", 0, "plaintext IMAP is not offered"},
    {"_pop3._tcp", "0", "0", "0", 0, "plaintext POP3 is not offered"},
};

static int services(const struct dnsrec_input *in, const char *dom, const char *host,
                    struct dnsrec_list *out, struct mc_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(srv_table) / sizeof(srv_table[0]); i++) {
		struct field f[] = {{LDNS_RDF_TYPE_INT16, srv_table[i].prio},
		                    {LDNS_RDF_TYPE_INT16, srv_table[i].weight},
		                    {LDNS_RDF_TYPE_INT16, srv_table[i].port},
		                    {LDNS_RDF_TYPE_DNAME, srv_table[i].offered ? host : "."}};
		char *name = xasprintf("%s.%s", srv_table[i].service, dom);
		rc = add(out, name, in->ttl, LDNS_RR_TYPE_SRV, f, 4, NULL, srv_table[i].purpose, 0,
		         err);
		free(name);
	}
	static const char *const auto_names[] = {"autoconfig", "autodiscover"};
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		char *name = xasprintf("%s.%s", auto_names[i], dom);
		rc = add(out, name, in->ttl, LDNS_RR_TYPE_CNAME,
		         &(struct field){LDNS_RDF_TYPE_DNAME, host}, 1, NULL,
		         "mail clients find their settings here", 0, err);
		free(name);
	}
	return rc;
}

static int caa_tlsa(const struct dnsrec_input *in, const char *dom, const char *host,
                    struct dnsrec_list *out, struct mc_error *err)
{
	char *issuer = in->caa_accounturi
	                   ? xasprintf("%s; accounturi=%s", in->caa_issuer, in->caa_accounturi)
	                   : xstrdup(in->caa_issuer);
	struct field caa[] = {{LDNS_RDF_TYPE_INT8, "0"},
	                      {LDNS_RDF_TYPE_TAG, "issue"},
	                      {LDNS_RDF_TYPE_LONG_STR, issuer}};
	int rc = add(out, dom, in->ttl, LDNS_RR_TYPE_CAA, caa, 3, NULL,
	             "only this certificate authority may issue for the domain", 0, err);
	free(issuer);
	if (rc == 0 && in->tlsa_spki_sha256 && in->host_records) {
		struct field tlsa[] = {{LDNS_RDF_TYPE_INT8, "3"},
		                       {LDNS_RDF_TYPE_INT8, "1"},
		                       {LDNS_RDF_TYPE_INT8, "1"},
		                       {LDNS_RDF_TYPE_HEX, in->tlsa_spki_sha256}};
		char *name = xasprintf("_25._tcp.%s", host);
		rc = add(out, name, in->ttl, LDNS_RR_TYPE_TLSA, tlsa, 4, NULL,
		         "DANE: the key our SMTP server presents (stays across renewals)", 0, err);
		if (rc == 0 && in->tlsa_next_spki_sha256) {
			tlsa[3].text = in->tlsa_next_spki_sha256;
			rc = add(out, name, in->ttl, LDNS_RR_TYPE_TLSA, tlsa, 4, NULL,
			         "DANE: the next key ('mailctl cert rollover'); publish it beside "
			         "the current one",
			         0, err);
		}
		free(name);
	}
	return rc;
}

/* The PTR for each address: set in the hosting provider's panel. */
static int reverse(const struct dnsrec_input *in, const char *host, struct dnsrec_list *out,
                   struct mc_error *err)
{
	const char *const *lists[] = {in->ipv4, in->ipv6};
	ldns_rdf_type types[] = {LDNS_RDF_TYPE_A, LDNS_RDF_TYPE_AAAA};
	int rc = 0;
	for (int l = 0; l < 2; l++)
		for (const char *const *a = lists[l]; rc == 0 && *a; a++) {
			ldns_rdf *addr = ldns_rdf_new_frm_str(types[l], *a), *rev;
			if (!addr || !(rev = ldns_rdf_address_reverse(addr))) {
				ldns_rdf_deep_free(addr);
				return mc_fail(err, MC_EDATA, "invalid address '%s'", *a);
			}
			char *owner = ldns_rdf2str(rev);
			rc = add(out, owner, in->ttl, LDNS_RR_TYPE_PTR,
			         &(struct field){LDNS_RDF_TYPE_DNAME, host}, 1, NULL,
			         "reverse DNS: ask your hosting provider to set this", 1, err);
			free(owner);
			ldns_rdf_deep_free(rev);
			ldns_rdf_deep_free(addr);
		}
	return rc;
}

int dnsrec_build(const struct dnsrec_input *in, struct dnsrec_list *out, struct mc_error *err)
{
	char *dom = xasprintf("%s.", in->domain), *host = xasprintf("%s.", in->mailhost);
	int rc = mail_host(in, dom, host, out, err);
	if (rc == 0)
		rc = dkim_dmarc(in, dom, out, err);
	if (rc == 0)
		rc = mta_sts_tlsrpt(in, dom, host, out, err);
	if (rc == 0)
		rc = services(in, dom, host, out, err);
	if (rc == 0)
		rc = caa_tlsa(in, dom, host, out, err);
	if (rc == 0 && in->host_records)
		rc = reverse(in, host, out, err);
	free(dom);
	free(host);
	return rc;
}

void dnsrec_list_release(struct dnsrec_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].type);
		free(l->v[i].value);
		free(l->v[i].zone);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int dnsrec_tlsa_from_key(const char *key_file, char hex[65], struct mc_error *err)
{
	FILE *f = fopen(key_file, "re");
	if (!f)
		return mc_fail(err, MC_EIO, "cannot read TLS key '%s': %s", key_file,
		               mc_strerror(errno));
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (!key) {
		rewind(f);
		key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!key)
		return mc_fail(err, MC_EDATA, "'%s' holds no PEM key", key_file);
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len = i2d_PUBKEY(key, &der);
	EVP_PKEY_free(key);
	if (len <= 0 || !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		return mc_fail(err, MC_EINTERNAL, "cannot hash the public key of '%s'", key_file);
	}
	OPENSSL_free(der);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
