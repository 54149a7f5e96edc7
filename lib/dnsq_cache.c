/* The shared DNS answer cache of dnsq.h: a hash table of immutable,
 * reference-counted answers with an LRU list, under one mutex. */
#include "dnsq.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What an entry costs besides its records: the struct, the key, malloc's
 * bookkeeping. Each record costs its wire size plus RR_OVERHEAD. */
#define ENTRY_OVERHEAD 160
#define RR_OVERHEAD    96

struct entry {
	struct dnsq_cached pub; /* first: dnsq_cached pointers are entries */
	ldns_rr_list *rrs;      /* owned; pub.rrs points at it */
	char *name;             /* lowercase, no final dot */
	ldns_rr_type type;
	int cd;
	uint32_t hash;
	long long expires_ms;
	size_t bytes;
	unsigned refs;       /* the table's (while in it) and each user's */
	struct entry *hnext; /* hash chain */
	struct entry *newer, *older;
};

struct dnsq_cache {
	pthread_mutex_t lock;
	struct entry **table;
	size_t mask; /* table size - 1 */
	struct entry *newest, *oldest;
	size_t max_entries, max_bytes;
	struct dnsq_cache_stats st;
};

struct dnsq_cache *dnsq_cache_new(size_t max_entries, size_t max_bytes)
{
	struct dnsq_cache *c = xcalloc(1, sizeof(*c));
	size_t size = 16;
	c->max_entries = max_entries ? max_entries : DNSQ_CACHE_ENTRIES;
	c->max_bytes = max_bytes ? max_bytes : DNSQ_CACHE_BYTES;
	while (size < c->max_entries && size < ((size_t)1 << 24))
		size <<= 1;
	c->table = xcalloc(size, sizeof(*c->table));
	c->mask = size - 1;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void entry_free(struct entry *e)
{
	ldns_rr_list_deep_free(e->rrs);
	free(e->name);
	free(e);
}

/* The key's name: lowercase ASCII, without the final dot. */
static char *key_name(const char *name)
{
	size_t len = strlen(name);
	len -= len && name[len - 1] == '.';
	char *k = xstrndup(name, len);
	for (char *p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return k;
}

/* FNV-1a over the name, the type and cd. */
static uint32_t key_hash(const char *name, ldns_rr_type type, int cd)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (uint32_t)type) * 16777619u;
	return (h ^ (uint32_t)(cd != 0)) * 16777619u;
}

/* Take 'e' out of the table and the LRU list; the table's reference goes. */
static void unlink_entry(struct dnsq_cache *c, struct entry *e)
{
	struct entry **pp = &c->table[e->hash & c->mask];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	c->st.entries--;
	c->st.bytes -= e->bytes;
	if (--e->refs == 0)
		entry_free(e);
}

static void make_newest(struct dnsq_cache *c, struct entry *e)
{
	if (c->newest == e)
		return;
	if (e->newer) { /* linked already: take it out of its place */
		e->newer->older = e->older;
		if (e->older)
			e->older->newer = e->newer;
		else
			c->oldest = e->newer;
	}
	e->newer = NULL;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

static struct entry *find(struct dnsq_cache *c, const char *key, ldns_rr_type type, int cd,
                          uint32_t hash)
{
	for (struct entry *e = c->table[hash & c->mask]; e; e = e->hnext)
		if (e->hash == hash && e->type == type && e->cd == cd && !strcmp(e->name, key))
			return e;
	return NULL;
}

const struct dnsq_cached *dnsq_cache_get(struct dnsq_cache *c, const char *name, ldns_rr_type type,
                                         int cd, long long now_ms)
{
	char *key = key_name(name);
	uint32_t hash = key_hash(key, type, cd);
	pthread_mutex_lock(&c->lock);
	struct entry *e = find(c, key, type, !!cd, hash);
	if (e && e->expires_ms <= now_ms) {
		c->st.expired++;
		unlink_entry(c, e);
		e = NULL;
	}
	if (e) {
		e->refs++;
		make_newest(c, e);
		c->st.hits++;
	} else {
		c->st.misses++;
	}
	pthread_mutex_unlock(&c->lock);
	free(key);
	return e ? &e->pub : NULL;
}

void dnsq_cache_drop(struct dnsq_cache *c, const struct dnsq_cached *answer)
{
	struct entry *e = (struct entry *)(void *)answer;
	if (!c || !e)
		return;
	pthread_mutex_lock(&c->lock);
	int unused = --e->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (unused)
		entry_free(e);
}

static uint32_t min_ttl(const ldns_rr_list *l, uint32_t ttl)
{
	for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_ttl(ldns_rr_list_rr(l, i)) < ttl)
			ttl = ldns_rr_ttl(ldns_rr_list_rr(l, i));
	return ttl;
}

/* RFC 2308 5: a negative answer lives as long as the SOA of its
 * authority section says - the lesser of its TTL and its MINIMUM - and
 * is not cached without one. */
static uint32_t negative_ttl(const ldns_pkt *pkt)
{
	const ldns_rr_list *auth = pkt ? ldns_pkt_authority(pkt) : NULL;
	for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		return ldns_rr_ttl(rr) < minimum ? ldns_rr_ttl(rr) : minimum;
	}
	return 0;
}

uint32_t dnsq_cache_ttl(enum dnsq_status status, const ldns_pkt *pkt, const ldns_rr_list *rrs)
{
	uint32_t ttl = 0;
	switch (status) {
	case DNSQ_ANSWER:
		/* The whole answer section: a CNAME on the way lives no longer. */
		ttl = min_ttl(pkt ? ldns_pkt_answer(pkt) : NULL, min_ttl(rrs, DNSQ_CACHE_MAX_TTL));
		break;
	case DNSQ_NXDOMAIN:
	case DNSQ_NODATA:
		ttl = negative_ttl(pkt);
		ttl = ttl < DNSQ_CACHE_MAX_NEGATIVE_TTL ? ttl : DNSQ_CACHE_MAX_NEGATIVE_TTL;
		break;
	case DNSQ_SERVFAIL:
	case DNSQ_REFUSED:
		ttl = DNSQ_CACHE_FAILURE_TTL;
		break;
	default: /* a timeout or a local error says nothing of the name */
		break;
	}
	return ttl < DNSQ_CACHE_MAX_TTL ? ttl : DNSQ_CACHE_MAX_TTL;
}

static size_t entry_size(const struct entry *e)
{
	size_t n = ENTRY_OVERHEAD + strlen(e->name);
	for (size_t i = 0; e->rrs && i < ldns_rr_list_rr_count(e->rrs); i++)
		n += RR_OVERHEAD + ldns_rr_uncompressed_size(ldns_rr_list_rr(e->rrs, i));
	return n;
}

/* Make room: the least recently used go first. */
static void evict(struct dnsq_cache *c)
{
	while (c->oldest && (c->st.entries > c->max_entries || c->st.bytes > c->max_bytes)) {
		c->st.evictions++;
		unlink_entry(c, c->oldest);
	}
}

static void insert(struct dnsq_cache *c, struct entry *e)
{
	struct entry *old = find(c, e->name, e->type, e->cd, e->hash);
	if (old) /* another thread asked the same meanwhile: the newer answer wins */
		unlink_entry(c, old);
	e->hnext = c->table[e->hash & c->mask];
	c->table[e->hash & c->mask] = e;
	make_newest(c, e);
	c->st.entries++;
	c->st.bytes += e->bytes;
	c->st.stores++;
	evict(c);
}

const struct dnsq_cached *dnsq_cache_add(struct dnsq_cache *c, const char *name, ldns_rr_type type,
                                         int cd, enum dnsq_status status, int ad,
                                         const ldns_pkt *pkt, ldns_rr_list **rrs, long long now_ms)
{
	uint32_t ttl = dnsq_cache_ttl(status, pkt, rrs ? *rrs : NULL);
	if (!c || ttl == 0 || (status == DNSQ_ANSWER && (!rrs || !*rrs)))
		return NULL;
	struct entry *e = xcalloc(1, sizeof(*e));
	e->name = key_name(name);
	e->type = type;
	e->cd = !!cd;
	e->hash = key_hash(e->name, type, e->cd);
	e->expires_ms = now_ms + (long long)ttl * 1000;
	if (status == DNSQ_ANSWER) {
		e->rrs = *rrs; /* taken: the caller's pointer now reads the entry's */
		*rrs = NULL;
	}
	e->pub = (struct dnsq_cached){status, e->rrs, ad};
	e->bytes = entry_size(e);
	e->refs = 2; /* the table's and the caller's */
	pthread_mutex_lock(&c->lock);
	if (e->bytes > c->max_bytes) { /* would evict everything and itself */
		e->refs = 1;
	} else {
		insert(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return &e->pub;
}

void dnsq_cache_stats(struct dnsq_cache *c, struct dnsq_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	pthread_mutex_unlock(&c->lock);
}

void dnsq_cache_free(struct dnsq_cache *c)
{
	if (!c)
		return;
	while (c->oldest)
		unlink_entry(c, c->oldest);
	pthread_mutex_destroy(&c->lock);
	free(c->table);
	free(c);
}
