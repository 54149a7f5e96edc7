/*
 * dnsrec - every DNS record a hosted mail domain needs, built with ldns.
 *
 * Records are ldns resource records assembled field by field (owner, TTL,
 * type, typed rdata), so what is printed is valid zone-file syntax by
 * construction; TXT data longer than 255 bytes is split into several
 * character-strings, as zone files and the wire format need. Each record
 * carries a one-line purpose for people and for --json.
 *
 * Inputs are plain values the caller gathers (configuration, database,
 * key files); nothing here reads files or the network. The list owns its
 * records: dnsrec_list_release() frees them.
 */
#ifndef MAILCTL_DNSREC_H
#define MAILCTL_DNSREC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

struct dnsrec_dkim {
	const char *selector;
	const char *txt; /* "v=DKIM1; k=rsa; p=..." */
};

struct dnsrec_input {
	const char *domain;      /* A-label, no final dot */
	const char *mailhost;    /* FQDN of this server */
	const char *const *ipv4; /* NULL-terminated; may be empty */
	const char *const *ipv6;
	uint32_t ttl;
	const char *dmarc_policy;   /* none | quarantine | reject */
	const char *report_address; /* rua= for DMARC and TLS-RPT */
	const char *mta_sts_mode;   /* testing | enforce */
	const struct dnsrec_dkim *dkim;
	size_t ndkim;
	const char *caa_issuer;            /* "letsencrypt.org" */
	const char *caa_accounturi;        /* RFC 8657, or NULL */
	const char *tlsa_spki_sha256;      /* hex SHA-256 of the served key's SPKI, or NULL */
	const char *tlsa_next_spki_sha256; /* of the key 'cert rollover' switches to, or NULL */
	int host_records;                  /* also the mail host's own: A, AAAA, HELO SPF, null MX,
	                                      TLSA, PTR (once, when several domains are printed) */
};

struct dnsrec {
	char *name; /* owner, absolute, with the final dot */
	char *type; /* "MX", "TXT", ... */
	uint32_t ttl;
	char *value; /* rdata in presentation form (TXT strings joined, unsplit) */
	char *zone;  /* the whole record as a zone-file line, via ldns */
	const char *purpose;
	int provider; /* set at the hosting provider (PTR), not in the zone */
};

struct dnsrec_list {
	struct dnsrec *v;
	size_t n, alloc;
};

/* The MTA-STS policy file (RFC 8461) served at
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, and its id for the
 * _mta-sts TXT record (changes whenever the policy text does). */
void dnsrec_mta_sts_policy(const struct dnsrec_input *in, struct strbuf *policy);
void dnsrec_mta_sts_id(const char *policy, char id[21]);

/* Build every record for 'in' into 'out' (appended). MC_EDATA when an
 * input does not make a valid record (names, addresses, hex). */
int dnsrec_build(const struct dnsrec_input *in, struct dnsrec_list *out, struct mc_error *err);

/* Append one TXT record for 'owner' (absolute, final dot optional), split
 * into character-strings of at most 255 bytes (RFC 1035 3.3.14); its
 * 'value' keeps the text whole, for web DNS panels. */
int dnsrec_txt(struct dnsrec_list *out, const char *owner, uint32_t ttl, const char *txt,
               const char *purpose, struct mc_error *err);

/* The DANE-EE SPKI SHA-256 (TLSA 3 1 1) of the key in 'key_file' (PEM,
 * private or public), as 64 hex digits. MC_EIO when it cannot be read,
 * MC_EDATA when it holds no key. */
int dnsrec_tlsa_from_key(const char *key_file, char hex[65], struct mc_error *err);

void dnsrec_list_release(struct dnsrec_list *l);

#endif
