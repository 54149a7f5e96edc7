/* DNS blocklist table, query names, one-round check and health; see dnsbl.h. */
#include "dnsbl.h"
#include "strbuf.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* A table is a few KiB; anything this big is a mistake. */
#define TABLE_MAX_BYTES (1024 * 1024)

/* ---- the table ---- */

struct parse {
	yaml_document_t doc;
	const char *file;
	struct mc_error *err;
};

__attribute__((format(printf, 3, 4))) static int bad(struct parse *p, const yaml_node_t *n,
                                                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mc_fail(p->err, MC_ECONFIG, "'%s':%lu: %s", p->file,
	               n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct parse *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

int dnsbl_parse_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	char a[16], b[16];
	struct in_addr x, y;
	const char *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : strlen(s);
	if (n >= sizeof(a) || (dash && strlen(dash + 1) >= sizeof(b)))
		return -1;
	snprintf(a, sizeof(a), "%.*s", (int)n, s);
	snprintf(b, sizeof(b), "%s", dash ? dash + 1 : a);
	if (inet_pton(AF_INET, a, &x) != 1 || inet_pton(AF_INET, b, &y) != 1)
		return -1;
	*lo = ntohl(x.s_addr);
	*hi = ntohl(y.s_addr);
	return *lo <= *hi ? 0 : -1;
}

/* A sequence of {value|range, meaning} into 'out'. */
static int parse_codes(struct parse *p, yaml_node_t *seq, const char *field,
                       struct dnsbl_code **out, size_t *n)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(p, seq, "'%s' must be a list", field);
	*out = xcalloc((size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) + 1,
	               sizeof(**out));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(p, *it);
		const char *range = NULL, *meaning = NULL;
		if (!m || m->type != YAML_MAPPING_NODE)
			return bad(p, m, "each of '%s' must be {value or range, meaning}", field);
		for (yaml_node_pair_t *kv = m->data.mapping.pairs.start;
		     kv < m->data.mapping.pairs.top; kv++) {
			const char *k = scalar(node(p, kv->key)), *v = scalar(node(p, kv->value));
			if (k && (!strcmp(k, "value") || !strcmp(k, "range")))
				range = v;
			else if (k && !strcmp(k, "meaning"))
				meaning = v;
			else
				return bad(p, m, "unknown field '%s' in '%s'", k ? k : "?", field);
		}
		struct dnsbl_code *c = &(*out)[*n];
		if (!range || dnsbl_parse_range(range, &c->lo, &c->hi) < 0)
			return bad(p, m, "'%s': invalid code '%s': use A.B.C.D or A.B.C.D-A.B.C.D",
			           field, range ? range : "");
		if (!meaning || !*meaning)
			return bad(p, m, "'%s': code '%s' has no meaning", field, range);
		c->meaning = xstrdup(meaning);
		(*n)++;
	}
	return 0;
}

static int parse_names(struct parse *p, yaml_node_t *seq, const char *field, char ***out)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(p, seq, "'%s' must be a list", field);
	size_t n = 0;
	*out = xcalloc((size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) + 1,
	               sizeof(char *));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		const char *s = scalar(node(p, *it));
		if (!s || dnsbl_subject_kind(s) == DNSBL_SUBJECT_BAD)
			return bad(p, node(p, *it), "'%s': invalid name '%s'", field, s ? s : "");
		(*out)[n++] = xstrdup(s);
	}
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
	                                                                       "off"};
	for (size_t i = 0; s && i < 3; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

/* One scalar field of a list entry. */
static int zone_scalar(struct parse *p, yaml_node_t *n, const char *k, const char *v,
                       struct dnsbl_zone *z)
{
	if (!v)
		return bad(p, n, "'%s' must be a single value", k);
	if (!strcmp(k, "zone") && dnsbl_subject_kind(v) == DNSBL_SUBJECT_DOMAIN)
		z->zone = xstrdup(v);
	else if (!strcmp(k, "kind") && (!strcmp(v, "ip") || !strcmp(v, "domain")))
		z->kind = !strcmp(v, "ip") ? DNSBL_IP : DNSBL_DOMAIN;
	else if (!strcmp(k, "weight") && (!strcmp(v, "major") || !strcmp(v, "minor")))
		z->weight = !strcmp(v, "major") ? DNSBL_MAJOR : DNSBL_MINOR;
	else if (!strcmp(k, "ipv6") && parse_bool(v, &z->ipv6) == 0)
		;
	else if (!strcmp(k, "delist"))
		z->delist = xstrdup(v);
	else if (!strcmp(k, "why"))
		z->why = xstrdup(v);
	else if (!strcmp(k, "zone") || !strcmp(k, "kind") || !strcmp(k, "weight") ||
	         !strcmp(k, "ipv6"))
		return bad(p, n, "invalid %s '%s'%s", k, v,
		           !strcmp(k, "kind")     ? ": ip or domain"
		           : !strcmp(k, "weight") ? ": major or minor"
		           : !strcmp(k, "ipv6")   ? ": true or false"
		                                  : "");
	else
		return bad(p, n, "unknown field '%s'", k);
	return 0;
}

static int parse_zone(struct parse *p, yaml_node_t *m, struct dnsbl_zone *z)
{
	int has_kind = 0, has_weight = 0;
	if (m->type != YAML_MAPPING_NODE)
		return bad(p, m, "each list must be a mapping of fields");
	for (yaml_node_pair_t *kv = m->data.mapping.pairs.start; kv < m->data.mapping.pairs.top;
	     kv++) {
		yaml_node_t *vn = node(p, kv->value);
		const char *k = scalar(node(p, kv->key));
		int rc;
		if (!k)
			return bad(p, vn, "field names must be words");
		if (!strcmp(k, "codes"))
			rc = parse_codes(p, vn, k, &z->codes, &z->ncodes);
		else if (!strcmp(k, "refused"))
			rc = parse_codes(p, vn, k, &z->refused, &z->nrefused);
		else if (!strcmp(k, "test_listed"))
			rc = parse_names(p, vn, k, &z->test_listed);
		else if (!strcmp(k, "test_clean"))
			rc = parse_names(p, vn, k, &z->test_clean);
		else
			rc = zone_scalar(p, vn, k, scalar(vn), z);
		if (rc < 0)
			return -1;
		has_kind |= !strcmp(k, "kind");
		has_weight |= !strcmp(k, "weight");
	}
	if (!z->zone || !has_kind || !has_weight || !z->delist || !z->ncodes)
		return bad(p, m, "list '%s' lacks %s", z->zone ? z->zone : "?",
		           !z->zone      ? "'zone'"
		           : !has_kind   ? "'kind'"
		           : !has_weight ? "'weight'"
		           : !z->delist  ? "'delist'"
		                         : "'codes'");
	if (z->kind == DNSBL_DOMAIN && !z->test_listed)
		return bad(p, m, "domain list '%s' lacks 'test_listed' for its health check",
		           z->zone);
	return 0;
}

static int parse_doc(struct parse *p, struct dnsbl_table *t)
{
	yaml_node_t *root = yaml_document_get_root_node(&p->doc), *lists = NULL;
	if (!root || root->type != YAML_MAPPING_NODE)
		return bad(p, root, "expected a mapping with 'lists'");
	for (yaml_node_pair_t *kv = root->data.mapping.pairs.start;
	     kv < root->data.mapping.pairs.top; kv++) {
		const char *k = scalar(node(p, kv->key));
		if (!k || strcmp(k, "lists"))
			return bad(p, node(p, kv->key), "unknown key '%s'", k ? k : "?");
		lists = node(p, kv->value);
	}
	if (!lists || lists->type != YAML_SEQUENCE_NODE)
		return bad(p, lists ? lists : root, "'lists' must be a list of lists");
	for (yaml_node_item_t *it = lists->data.sequence.items.start;
	     it < lists->data.sequence.items.top; it++) {
		t->v = xgrow(t->v, &t->alloc, t->n + 1, sizeof(*t->v));
		memset(&t->v[t->n], 0, sizeof(*t->v));
		t->n++;
		if (parse_zone(p, node(p, *it), &t->v[t->n - 1]) < 0)
			return -1;
		for (size_t i = 0; i + 1 < t->n; i++)
			if (!strcasecmp(t->v[i].zone, t->v[t->n - 1].zone))
				return bad(p, node(p, *it), "list '%s' appears twice",
				           t->v[i].zone);
	}
	return 0;
}

int dnsbl_table_parse(struct dnsbl_table *t, const char *file, const char *text, size_t len,
                      struct mc_error *err)
{
	yaml_parser_t parser;
	struct parse p = {.file = file, .err = err};
	memset(t, 0, sizeof(*t));
	t->file = xstrdup(file);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &p.doc)) {
		int rc = mc_fail(err, MC_ECONFIG, "'%s':%lu: %s", file,
		                 (unsigned long)parser.problem_mark.line + 1,
		                 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return rc;
	}
	int rc = parse_doc(&p, t);
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&parser);
	return rc;
}

int dnsbl_table_load(struct dnsbl_table *t, const char *path, struct mc_error *err)
{
	FILE *fp = fopen(path, "r");
	struct strbuf sb = STRBUF_INIT;
	char buf[8192];
	size_t n;
	memset(t, 0, sizeof(*t));
	if (!fp)
		return mc_fail(err, errno == ENOENT ? MC_ECONFIG : MC_EIO, "cannot open '%s': %s",
		               path, mc_strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 && sb.len <= TABLE_MAX_BYTES)
		strbuf_add(&sb, buf, n);
	int failed = ferror(fp), rc;
	fclose(fp);
	if (failed)
		rc = mc_fail(err, MC_EIO, "cannot read '%s'", path);
	else if (sb.len > TABLE_MAX_BYTES)
		rc = mc_fail(err, MC_ECONFIG, "'%s' is too large for a list table", path);
	else
		rc = dnsbl_table_parse(t, path, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return rc;
}

static void free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void dnsbl_table_release(struct dnsbl_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct dnsbl_zone *z = &t->v[i];
		for (size_t j = 0; j < z->ncodes; j++)
			free(z->codes[j].meaning);
		for (size_t j = 0; j < z->nrefused; j++)
			free(z->refused[j].meaning);
		free(z->codes);
		free(z->refused);
		free_names(z->test_listed);
		free_names(z->test_clean);
		free(z->zone);
		free(z->delist);
		free(z->why);
	}
	free(t->v);
	free(t->file);
	memset(t, 0, sizeof(*t));
}

/* ---- names and codes ---- */

static int is_domain(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (!len || len > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (const char *c = s; *c; c++) {
		if (*c == '.') {
			if (!label || c[-1] == '-')
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*c) || *c == '-' || *c == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label || s[len - 1] == '.';
}

enum dnsbl_subject dnsbl_subject_kind(const char *s)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return DNSBL_SUBJECT_V4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return DNSBL_SUBJECT_V6;
	return is_domain(s) ? DNSBL_SUBJECT_DOMAIN : DNSBL_SUBJECT_BAD;
}

/* 'subject' on 'z' without asking whether the list covers it. */
static int build_name(const char *zone, const char *subject, char *buf, size_t size)
{
	unsigned char a[16];
	struct strbuf sb = STRBUF_INIT;
	if (inet_pton(AF_INET, subject, a) == 1)
		strbuf_addf(&sb, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
	else if (inet_pton(AF_INET6, subject, a) == 1) {
		for (int i = 15; i >= 0; i--)
			strbuf_addf(&sb, "%x.%x.", a[i] & 0xf, a[i] >> 4);
		strbuf_addstr(&sb, zone);
	} else if (is_domain(subject)) {
		size_t n = strlen(subject);
		strbuf_addf(&sb, "%.*s.%s", (int)(n - (subject[n - 1] == '.')), subject, zone);
	}
	int ok = sb.len > 0 && sb.len < size && sb.len <= 253;
	if (ok)
		memcpy(buf, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	return ok ? 0 : -1;
}

int dnsbl_query_name(const struct dnsbl_zone *z, const char *subject, char *buf, size_t size)
{
	enum dnsbl_subject k = dnsbl_subject_kind(subject);
	if (k == DNSBL_SUBJECT_BAD)
		return -1;
	if ((k == DNSBL_SUBJECT_DOMAIN) != (z->kind == DNSBL_DOMAIN) ||
	    (k == DNSBL_SUBJECT_V6 && !z->ipv6))
		return 0;
	return build_name(z->zone, subject, buf, size) < 0 ? -1 : 1;
}

static const char *find_code(const struct dnsbl_code *v, size_t n, uint32_t code)
{
	for (size_t i = 0; i < n; i++)
		if (code >= v[i].lo && code <= v[i].hi)
			return v[i].meaning;
	return NULL;
}

const char *dnsbl_decode(const struct dnsbl_zone *z, uint32_t code, int *refused)
{
	const char *m = find_code(z->refused, z->nrefused, code);
	*refused = m != NULL;
	return m ? m : find_code(z->codes, z->ncodes, code);
}

const char *dnsbl_status_name(enum dnsbl_status s)
{
	static const char *const names[] = {"clean",   "listed", "refused",
	                                    "timeout", "error",  "skipped"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

/* ---- classifying answers ---- */

/* The A answers of 'q': an answer outside 127/8 (error) beats a refusal
 * code, which beats a listing; 'detail' says what they mean. */
static enum dnsbl_status classify_a(const struct dnsbl_zone *z, const struct dnsq_query *q,
                                    struct strbuf *detail)
{
	struct strbuf by[DNSBL_ERROR + 1] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
	                                     STRBUF_INIT};
	char text[INET_ADDRSTRLEN];
	for (size_t i = 0; i < ldns_rr_list_rr_count(q->rrs); i++) {
		ldns_rdf *rdf = ldns_rr_a_address(ldns_rr_list_rr(q->rrs, i));
		uint32_t code;
		int refused;
		if (!rdf || ldns_rdf_size(rdf) != 4)
			continue;
		memcpy(&code, ldns_rdf_data(rdf), 4);
		inet_ntop(AF_INET, &code, text, sizeof(text));
		code = ntohl(code);
		const char *m = dnsbl_decode(z, code, &refused);
		enum dnsbl_status st = (code >> 24) != 127 ? DNSBL_ERROR
		                       : refused           ? DNSBL_REFUSED
		                                           : DNSBL_LISTED;
		struct strbuf *sb = &by[st];
		if (sb->len)
			strbuf_addstr(sb, "; ");
		if (st == DNSBL_ERROR)
			strbuf_addf(sb,
			            "answer %s is not in 127.0.0.0/8: the resolver may rewrite "
			            "NXDOMAIN (ads, filtering)",
			            text);
		else if (m)
			strbuf_addf(sb, "%s (%s)", m, text);
		else
			strbuf_addf(sb, "listed (unknown code %s)", text);
	}
	enum dnsbl_status st = by[DNSBL_ERROR].len     ? DNSBL_ERROR
	                       : by[DNSBL_REFUSED].len ? DNSBL_REFUSED
	                       : by[DNSBL_LISTED].len  ? DNSBL_LISTED
	                                               : DNSBL_CLEAN;
	strbuf_addstr(detail, by[st].buf);
	for (size_t i = 0; i <= DNSBL_ERROR; i++)
		strbuf_release(&by[i]);
	return st;
}

/* One query's outcome; 'detail' gets the reason. */
static enum dnsbl_status classify(const struct dnsbl_zone *z, const struct dnsq_query *q,
                                  struct strbuf *detail)
{
	switch (q->status) {
	case DNSQ_ANSWER:
		return classify_a(z, q, detail);
	case DNSQ_NXDOMAIN:
	case DNSQ_NODATA:
		return DNSBL_CLEAN;
	case DNSQ_REFUSED:
		strbuf_addstr(detail, "the resolver refused the query");
		return DNSBL_REFUSED;
	case DNSQ_TIMEOUT:
		strbuf_addstr(detail, "no answer in time");
		return DNSBL_TIMEOUT;
	case DNSQ_SERVFAIL:
		strbuf_addstr(detail, "the resolver answered SERVFAIL: the list's servers failed");
		return DNSBL_ERROR;
	default:
		strbuf_addstr(detail, q->why[0] ? q->why : dnsq_status_name(q->status));
		return DNSBL_ERROR;
	}
}

/* The TXT strings of 'q', joined, non-printable bytes as '?'; NULL if none. */
static char *txt_of(const struct dnsq_query *q)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; q->status == DNSQ_ANSWER && i < ldns_rr_list_rr_count(q->rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(q->rrs, i);
		if (sb.len)
			strbuf_addstr(&sb, " | ");
		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			const uint8_t *d = ldns_rdf_data(ldns_rr_rdf(rr, j));
			size_t n = ldns_rdf_size(ldns_rr_rdf(rr, j));
			for (size_t k = 1; n && k <= d[0] && k < n; k++)
				strbuf_addch(&sb, isprint(d[k]) ? d[k] : '?');
		}
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb);
}

/* ---- the check ---- */

/* A health query: the name, and whether the list must list it. */
struct probe {
	size_t zone, q;
	int must_list;
	const char *subject;
};

struct run {
	const struct dnsbl_table *t;
	struct dnsq q;
	struct probe *probes;
	size_t nprobes, alloc;
};

static void add_probe(struct run *r, size_t zone, const char *subject, int must_list)
{
	char name[300];
	if (build_name(r->t->v[zone].zone, subject, name, sizeof(name)) < 0)
		return;
	r->probes = xgrow(r->probes, &r->alloc, r->nprobes + 1, sizeof(*r->probes));
	r->probes[r->nprobes++] =
	    (struct probe){zone, dnsq_add(&r->q, name, LDNS_RR_TYPE_A, 0), must_list, subject};
}

/* RFC 5782 section 5: 127.0.0.2 (::ffff:127.0.0.2) is listed, 127.0.0.1 is not. */
static void add_probes(struct run *r)
{
	for (size_t z = 0; z < r->t->n; z++) {
		const struct dnsbl_zone *zone = &r->t->v[z];
		if (zone->kind == DNSBL_IP) {
			add_probe(r, z, "127.0.0.2", 1);
			add_probe(r, z, "127.0.0.1", 0);
			if (zone->ipv6)
				add_probe(r, z, "::ffff:7f00:2", 1);
		}
		for (size_t i = 0; zone->test_listed && zone->test_listed[i]; i++)
			add_probe(r, z, zone->test_listed[i], 1);
		for (size_t i = 0; zone->test_clean && zone->test_clean[i]; i++)
			add_probe(r, z, zone->test_clean[i], 0);
	}
}

/* A list's health from its probes: the first that could not be asked or
 * that came out wrong decides. */
static void judge_health(struct run *r, size_t z, struct dnsbl_result *h)
{
	struct strbuf detail = STRBUF_INIT;
	h->zone = &r->t->v[z];
	h->status = DNSBL_CLEAN;
	for (size_t i = 0; i < r->nprobes && h->status == DNSBL_CLEAN && !h->dead; i++) {
		const struct probe *p = &r->probes[i];
		if (p->zone != z)
			continue;
		strbuf_reset(&detail);
		enum dnsbl_status st = classify(h->zone, &r->q.v[p->q], &detail);
		if (st == DNSBL_CLEAN && p->must_list)
			h->dead = 1,
			strbuf_addf(&detail, "test entry '%s' is not listed", p->subject);
		else if (st == DNSBL_LISTED && !p->must_list)
			h->dead = 1, strbuf_addf(&detail,
			                         "'%s' must not be listed: the list answers "
			                         "for everything",
			                         p->subject);
		else if (st != DNSBL_LISTED && st != DNSBL_CLEAN)
			h->status = st;
	}
	h->detail = strbuf_detach(&detail);
	if (h->dead)
		h->status = DNSBL_ERROR;
}

static void add_result(struct dnsbl_report *rep, const char *subject, const struct dnsbl_zone *z,
                       enum dnsbl_status st, char *detail, char *txt)
{
	rep->v = xgrow(rep->v, &rep->alloc, rep->n + 1, sizeof(*rep->v));
	rep->v[rep->n++] = (struct dnsbl_result){xstrdup(subject), z, st, 0, detail, txt};
}

/* Every subject's result on every list that covers it, in table order. */
static void judge_subjects(struct run *r, const char *const *subjects, size_t n,
                           struct dnsbl_report *rep)
{
	char name[300];
	for (size_t s = 0; s < n; s++)
		for (size_t z = 0; z < r->t->n; z++) {
			const struct dnsbl_zone *zone = &r->t->v[z];
			if (dnsbl_query_name(zone, subjects[s], name, sizeof(name)) != 1)
				continue;
			if (rep->health[z].dead) {
				add_result(
				    rep, subjects[s], zone, DNSBL_SKIPPED,
				    xasprintf("list skipped: it failed its health check (%s)",
				              rep->health[z].detail),
				    NULL);
				continue;
			}
			struct strbuf detail = STRBUF_INIT;
			const struct dnsq_query *a =
			    &r->q.v[dnsq_find(&r->q, name, LDNS_RR_TYPE_A, 0)];
			enum dnsbl_status st = classify(zone, a, &detail);
			long t = dnsq_find(&r->q, name, LDNS_RR_TYPE_TXT, 0);
			char *txt = st == DNSBL_LISTED && t >= 0 ? txt_of(&r->q.v[t]) : NULL;
			add_result(rep, subjects[s], zone, st, strbuf_detach(&detail), txt);
		}
}

int dnsbl_check(const struct dnsbl_table *t, const char *const *subjects, size_t nsubjects,
                const struct dnsq_server *server, int timeout_ms, struct dnsbl_report *rep,
                struct mc_error *err)
{
	struct run r = {.t = t};
	char name[300];
	memset(rep, 0, sizeof(*rep));
	for (size_t s = 0; s < nsubjects; s++)
		if (dnsbl_subject_kind(subjects[s]) == DNSBL_SUBJECT_BAD)
			return mc_fail(err, MC_EUSAGE, "'%s' is neither an IP address nor a domain",
			               subjects[s]);
	dnsq_init(&r.q, server);
	r.q.timeout_ms = timeout_ms;
	add_probes(&r);
	for (size_t s = 0; s < nsubjects; s++)
		for (size_t z = 0; z < t->n; z++)
			if (dnsbl_query_name(&t->v[z], subjects[s], name, sizeof(name)) == 1) {
				dnsq_add(&r.q, name, LDNS_RR_TYPE_A, 0);
				dnsq_add(&r.q, name, LDNS_RR_TYPE_TXT, 0);
			}
	int rc = dnsq_run(&r.q, err);
	if (rc == 0) {
		rep->queries = r.q.n;
		rep->health = xcalloc(t->n + 1, sizeof(*rep->health));
		for (size_t z = 0; z < t->n; z++)
			judge_health(&r, z, &rep->health[z]);
		judge_subjects(&r, subjects, nsubjects, rep);
	}
	dnsq_release(&r.q);
	free(r.probes);
	return rc;
}

int dnsbl_verdict(const struct dnsbl_report *rep)
{
	int v = 0;
	for (size_t i = 0; i < rep->n; i++) {
		const struct dnsbl_result *r = &rep->v[i];
		if (r->status == DNSBL_LISTED && r->zone->weight == DNSBL_MAJOR)
			return 1;
		if (r->status == DNSBL_REFUSED || r->status == DNSBL_TIMEOUT ||
		    r->status == DNSBL_ERROR)
			v = 2;
	}
	return v;
}

void dnsbl_report_release(struct dnsbl_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->v[i].subject);
		free(rep->v[i].detail);
		free(rep->v[i].txt);
	}
	for (size_t i = 0; rep->health && rep->health[i].zone; i++)
		free(rep->health[i].detail);
	free(rep->health);
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

const char *dnsbl_public_resolver(const struct dnsq_server *server)
{
	static const struct {
		const char *addr, *name;
	} known[] = {
	    {"8.8.8.8", "Google"},
	    {"8.8.4.4", "Google"},
	    {"2001:4860:4860::8888", "Google"},
	    {"2001:4860:4860::8844", "Google"},
	    {"1.1.1.1", "Cloudflare"},
	    {"1.0.0.1", "Cloudflare"},
	    {"2606:4700:4700::1111", "Cloudflare"},
	    {"2606:4700:4700::1001", "Cloudflare"},
	    {"9.9.9.9", "Quad9"},
	    {"149.112.112.112", "Quad9"},
	    {"2620:fe::fe", "Quad9"},
	    {"2620:fe::9", "Quad9"},
	    {"208.67.222.222", "OpenDNS"},
	    {"208.67.220.220", "OpenDNS"},
	    {"2620:119:35::35", "OpenDNS"},
	    {"2620:119:53::53", "OpenDNS"},
	    {"94.140.14.14", "AdGuard"},
	    {"94.140.15.15", "AdGuard"},
	    {"8.26.56.26", "Comodo"},
	    {"8.20.247.20", "Comodo"},
	    {"64.6.64.6", "Verisign"},
	    {"64.6.65.6", "Verisign"},
	};
	const struct sockaddr *sa = (const struct sockaddr *)&server->sa;
	const void *mine =
	    sa->sa_family == AF_INET
	        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
	        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	size_t len = sa->sa_family == AF_INET ? 4 : 16;
	unsigned char a[16];
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (inet_pton(sa->sa_family, known[i].addr, a) == 1 && !memcmp(a, mine, len))
			return known[i].name;
	return NULL;
}

char *dnsbl_result_detail(const struct dnsbl_result *r)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, r->detail ? r->detail : "");
	if (r->txt)
		strbuf_addf(&sb, "%sTXT: %s", sb.len ? "; " : "", r->txt);
	if (r->status == DNSBL_REFUSED)
		strbuf_addf(&sb, "%s%s", sb.len ? "; " : "", DNSBL_REFUSED_FIX);
	return strbuf_detach(&sb);
}
