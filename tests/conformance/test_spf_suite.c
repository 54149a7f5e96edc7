/* The SPF test suites of RFC 7208 and RFC 4408 (the openspf.org YAML
 * suites shipped by python3-spf), run through spf_check_mailfrom() and
 * spf_check_helo().
 *
 * Each YAML document has tests and the zone data they run against; the
 * zone is served by an in-process dnsq_lookup_fn the way the suite's own
 * driver (testspf.py) serves it:
 *   - a type SPF record also appears as TXT when its name has no TXT
 *     record at all (RFC 7208 dropped type SPF: the suite relies on this
 *     copy to test TXT lookups with one zone), "TXT: NONE" stops the copy;
 *   - the entry TIMEOUT makes every type not answered before it time out,
 *     a value TIMEOUT makes that type time out, and a name missing from the
 *     zone whose first label is "error" times out too;
 *   - CNAMEs are followed, a CNAME loop is a SERVFAIL.
 * A test with an empty mailfrom is a HELO test (postmaster@helo); the
 * receiver is "unknown" (the driver passes none). A test passes when our
 * result is one of its results and, when it gives an explanation, ours is
 * that text; the driver's default explanation is "DEFAULT", which stands
 * for "no exp= explanation". Every test runs; none is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "spf.h"
#include "strbuf.h"
#include "xalloc.h"

#include "../unit/fake_dns.h"

#define SUITE_DIR "/usr/share/doc/python3-spf/"

/* ---- the zone ---- */

struct entry {
	char type[8]; /* "A", "TXT", ... or "TIMEOUT" for the bare entry */
	int timeout;  /* the value was TIMEOUT */
	char **strs;  /* TXT/SPF strings; A/AAAA/PTR/CNAME: one; MX: prio, host */
	size_t *lens;
	size_t nstrs;
};

struct name {
	char *name;
	struct entry *v;
	size_t n, alloc;
};

static void add_str(struct entry *e, const char *s, size_t len)
{
	e->strs = xrealloc(e->strs, (e->nstrs + 1) * sizeof(*e->strs));
	e->lens = xrealloc(e->lens, (e->nstrs + 1) * sizeof(*e->lens));
	e->strs[e->nstrs] = xstrndup(s, len);
	e->lens[e->nstrs++] = len;
}

static void name_release(struct name *n)
{
	for (size_t j = 0; j < n->n; j++) {
		struct entry *e = &n->v[j];
		for (size_t k = 0; k < e->nstrs; k++)
			free(e->strs[k]);
		free(e->strs);
		free(e->lens);
	}
	free(n->v);
	free(n->name);
}

/* ---- answers ---- */

static ldns_rdf *str_rdf(const char *s, size_t len)
{
	uint8_t buf[256];
	buf[0] = (uint8_t)len;
	memcpy(buf + 1, s, len);
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, len + 1, buf);
}

static ldns_rdf *dname_rdf(const char *s)
{
	ldns_rdf *rd = NULL;
	char *abs = *s ? xasprintf("%s%s", s, s[strlen(s) - 1] == '.' ? "" : ".") : xstrdup(".");
	assert_int_equal(ldns_str2rdf_dname(&rd, abs), LDNS_STATUS_OK);
	free(abs);
	return rd;
}

/* The record of zone entry 'e' (of type 't'). */
static ldns_rr *make_rr(const struct entry *e, ldns_rr_type t)
{
	ldns_rr *rr = ldns_rr_new_frm_type(t);
	ldns_rdf *rd = NULL;
	/* the rr was made with room for the type's fields: fill them in */
	while (ldns_rr_rd_count(rr))
		ldns_rdf_deep_free(ldns_rr_pop_rdf(rr));
	switch (t) {
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		rd = ldns_rdf_new_frm_str(
		    t == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, e->strs[0]);
		assert_non_null(rd);
		ldns_rr_push_rdf(rr, rd);
		break;
	case LDNS_RR_TYPE_MX:
		ldns_rr_push_rdf(
		    rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, (uint16_t)atoi(e->strs[0])));
		ldns_rr_push_rdf(rr, dname_rdf(e->nstrs > 1 ? e->strs[1] : ""));
		break;
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_CNAME:
		ldns_rr_push_rdf(rr, dname_rdf(e->strs[0]));
		break;
	default: /* TXT, SPF: strings of at most 255 octets */
		for (size_t i = 0; i < e->nstrs; i++)
			for (size_t off = 0; off < e->lens[i] || (off == 0 && e->lens[i] == 0);) {
				size_t n = e->lens[i] - off > 255 ? 255 : e->lens[i] - off;
				ldns_rr_push_rdf(rr, str_rdf(e->strs[i] + off, n));
				if ((off += n) == e->lens[i])
					break;
			}
		break;
	}
	return rr;
}

/* Serve the entries of 'n' as the driver does: in order, up to a bare
 * TIMEOUT that makes every type not served yet time out; a value TIMEOUT
 * makes its type time out whatever else it has. The name exists (NODATA
 * for the other types) even when nothing of it is served. */
static void publish(struct fake_dns *f, const struct name *n)
{
	fake_dns_set(f, n->name, LDNS_RR_TYPE_ANY, DNSQ_NODATA);
	for (size_t i = 0; i < n->n; i++) {
		const struct entry *e = &n->v[i];
		if (!strcmp(e->type, "TIMEOUT")) {
			fake_dns_set(f, n->name, LDNS_RR_TYPE_ANY, DNSQ_TIMEOUT);
			return;
		}
		ldns_rr_type t = ldns_get_rr_type_by_name(e->type);
		const struct fake_dns_entry *had = fake_dns_find(f, n->name, t);
		if (!t || (had && had->status == DNSQ_TIMEOUT))
			continue;
		if (e->timeout)
			fake_dns_set(f, n->name, t, DNSQ_TIMEOUT);
		else
			fake_dns_add_rr(f, n->name, make_rr(e, t));
	}
}

/* The zone; a name missing from it whose first label is "error" times out. */
static void zone_lookup(void *ctx, const char *name, ldns_rr_type type, struct dnsq_answer *out)
{
	fake_dns_lookup(ctx, name, type, out);
	if (out->status == DNSQ_NXDOMAIN && !strncasecmp(name, "error.", 6))
		out->status = DNSQ_TIMEOUT;
}

/* ---- reading the YAML ---- */

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* One item of a name's list: {TYPE: value} or the scalar TIMEOUT. */
static void read_entry(yaml_document_t *doc, yaml_node_t *item, struct name *n)
{
	n->v = xgrow(n->v, &n->alloc, n->n + 1, sizeof(*n->v));
	struct entry *e = &n->v[n->n++];
	memset(e, 0, sizeof(*e));
	if (item->type == YAML_SCALAR_NODE) {
		assert_string_equal(scalar(item), "TIMEOUT");
		strcpy(e->type, "TIMEOUT");
		return;
	}
	assert_int_equal(item->type, YAML_MAPPING_NODE);
	yaml_node_pair_t *p = item->data.mapping.pairs.start;
	snprintf(e->type, sizeof(e->type), "%s", scalar(yaml_document_get_node(doc, p->key)));
	yaml_node_t *v = yaml_document_get_node(doc, p->value);
	if (v->type == YAML_SCALAR_NODE) {
		e->timeout = !strcmp(scalar(v), "TIMEOUT");
		add_str(e, scalar(v), v->data.scalar.length);
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *s = yaml_document_get_node(doc, *i);
		add_str(e, scalar(s), s->data.scalar.length);
	}
}

/* testspf.py's getrdata(): SPF records are served as TXT too when the
 * name has no TXT entry; "TXT: NONE" entries are not served. */
static void copy_spf_to_txt(struct name *n)
{
	size_t orig = n->n, w = 0;
	int has_txt = 0;
	for (size_t i = 0; i < orig; i++)
		has_txt |= !strcmp(n->v[i].type, "TXT");
	for (size_t i = 0; !has_txt && i < orig; i++) {
		if (strcmp(n->v[i].type, "SPF"))
			continue;
		n->v = xgrow(n->v, &n->alloc, n->n + 1, sizeof(*n->v));
		struct entry *e = &n->v[n->n++], *spf = &n->v[i];
		memset(e, 0, sizeof(*e));
		strcpy(e->type, "TXT");
		e->timeout = spf->timeout;
		for (size_t k = 0; k < spf->nstrs; k++)
			add_str(e, spf->strs[k], spf->lens[k]);
	}
	for (size_t i = 0; i < n->n; i++) {
		struct entry *e = &n->v[i];
		if (!strcmp(e->type, "TXT") && e->nstrs == 1 && !strcmp(e->strs[0], "NONE")) {
			free(e->strs[0]);
			free(e->strs);
			free(e->lens);
			continue;
		}
		n->v[w++] = *e;
	}
	n->n = w;
}

static void read_zone(yaml_document_t *doc, yaml_node_t *zd, struct fake_dns *z)
{
	assert_non_null(zd);
	for (yaml_node_pair_t *p = zd->data.mapping.pairs.start; p < zd->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *list = yaml_document_get_node(doc, p->value);
		struct name n = {xstrndup(scalar(k), k->data.scalar.length), NULL, 0, 0};
		for (yaml_node_item_t *i = list->data.sequence.items.start;
		     list->type == YAML_SEQUENCE_NODE && i < list->data.sequence.items.top; i++)
			read_entry(doc, yaml_document_get_node(doc, *i), &n);
		copy_spf_to_txt(&n);
		publish(z, &n);
		name_release(&n);
	}
}

/* ---- running ---- */

struct tally {
	int tests, passed;
};

/* Whether 'got' is among the results of 'want' (a word or a list);
 * 'expected' gets them as text. */
static int result_ok(yaml_document_t *doc, yaml_node_t *want, const char *got,
                     struct strbuf *expected)
{
	int ok = 0;
	if (want->type == YAML_SCALAR_NODE) {
		strbuf_addstr(expected, scalar(want));
		return !strcmp(scalar(want), got);
	}
	for (yaml_node_item_t *i = want->data.sequence.items.start;
	     i < want->data.sequence.items.top; i++) {
		const char *w = scalar(yaml_document_get_node(doc, *i));
		strbuf_addf(expected, "%s%s", expected->len ? " or " : "", w);
		ok |= !strcmp(w, got);
	}
	return ok;
}

static void run_one(yaml_document_t *doc, const char *name, yaml_node_t *t, struct fake_dns *z,
                    struct tally *tally)
{
	const char *spec = scalar(get(doc, t, "spec")),
	           *want_exp = scalar(get(doc, t, "explanation"));
	yaml_node_t *want = get(doc, t, "result");
	struct spf_request req = {.ip = scalar(get(doc, t, "host")),
	                          .helo = scalar(get(doc, t, "helo")),
	                          .sender = scalar(get(doc, t, "mailfrom")),
	                          .now = 1700000000};
	struct spf_outcome o;
	struct strbuf expected = STRBUF_INIT;
	assert_non_null(want);
	assert_non_null(req.ip);
	if (!req.sender || !*req.sender)
		spf_check_helo(&req, zone_lookup, z, &o);
	else
		spf_check_mailfrom(&req, zone_lookup, z, &o);
	const char *got = spf_result_name(o.result);
	const char *exp = o.explanation[0] ? o.explanation : "DEFAULT";
	int ok = result_ok(doc, want, got, &expected);
	ok &= !want_exp || !strcmp(want_exp, exp);
	tally->tests++;
	tally->passed += ok;
	if (!ok) {
		printf("FAIL %s (spec %s): expected %s", name, spec ? spec : "?", expected.buf);
		if (want_exp)
			printf(" with explanation '%s'", want_exp);
		printf(", got %s", got);
		if (want_exp)
			printf(" with explanation '%s'", exp);
		printf(" (%s)\n", o.why);
	}
	strbuf_release(&expected);
}

static void run_document(yaml_document_t *doc, struct tally *tally)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *tests = get(doc, root, "tests");
	struct fake_dns z = {0};
	assert_non_null(tests);
	read_zone(doc, get(doc, root, "zonedata"), &z);
	for (yaml_node_pair_t *p = tests->data.mapping.pairs.start;
	     p < tests->data.mapping.pairs.top; p++)
		run_one(doc, scalar(yaml_document_get_node(doc, p->key)),
		        yaml_document_get_node(doc, p->value), &z, tally);
	fake_dns_release(&z);
}

/* The suite file, decompressed (caller frees). */
static char *read_suite(const char *file, size_t *len)
{
	char path[256], cmd[300], buf[65536];
	struct strbuf sb = STRBUF_INIT;
	size_t n;
	snprintf(path, sizeof(path), "%s%s", SUITE_DIR, file);
	FILE *probe = fopen(path, "r");
	if (!probe) {
		fprintf(stderr, "%s is missing: install python3-spf, whose test suites this runs\n",
		        path);
		fail();
	}
	fclose(probe);
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	assert_int_equal(pclose(f), 0);
	*len = sb.len;
	return strbuf_detach(&sb);
}

static void run_suite(const char *file, int at_least)
{
	size_t len;
	char *text = read_suite(file, &len);
	yaml_parser_t parser;
	yaml_document_t doc;
	struct tally tally = {0, 0};
	int docs = 0;
	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc))
			fail_msg("%s: YAML error: %s at line %zu", file, parser.problem,
			         parser.problem_mark.line + 1);
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		run_document(&doc, &tally);
		yaml_document_delete(&doc);
		docs++;
	}
	yaml_parser_delete(&parser);
	free(text);
	printf("%s: %d documents, %d tests, %d passed, %d failed\n", file, docs, tally.tests,
	       tally.passed, tally.tests - tally.passed);
	assert_true(tally.tests >= at_least);
	assert_int_equal(tally.passed, tally.tests);
}

static void test_rfc7208_suite(void **state)
{
	(void)state;
	run_suite("rfc7208-tests.yml.gz", 203);
}

static void test_rfc4408_suite(void **state)
{
	(void)state;
	run_suite("rfc4408-tests.yml.gz", 191);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7208_suite),
	    cmocka_unit_test(test_rfc4408_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
