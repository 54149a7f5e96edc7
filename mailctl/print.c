/* Table and JSON output; see print.h. */
#include "print.h"
#include "address.h"
#include "strbuf.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

void print_begin(struct printer *p, int json, int record)
{
	memset(p, 0, sizeof(*p));
	p->json = json;
	p->record = record;
}

void print_col(struct printer *p, const char *key, const char *title, enum cell_type type)
{
	if (p->ncols == sizeof(p->cols) / sizeof(p->cols[0]))
		abort(); /* BUG: a command declares more columns than the printer holds */
	p->cols[p->ncols++] = (struct print_col){key, title, type};
}

void print_summary(struct printer *p, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(p->message);
	p->message = strbuf_detach(&sb);
}

static struct print_cell *next_cell(struct printer *p, enum cell_type type)
{
	p->cells = xgrow(p->cells, &p->alloc, p->ncells + 1, sizeof(*p->cells));
	struct print_cell *c = &p->cells[p->ncells++];
	memset(c, 0, sizeof(*c));
	c->type = type;
	return c;
}

void print_str(struct printer *p, const char *s)
{
	next_cell(p, CELL_STR)->s = xstrdup(s ? s : "");
}

void print_int(struct printer *p, long long v)
{
	struct print_cell *c = next_cell(p, CELL_INT);
	c->i = v;
	c->s = xasprintf("%lld", v);
}

void print_bool(struct printer *p, int v)
{
	struct print_cell *c = next_cell(p, CELL_BOOL);
	c->i = !!v;
	c->s = xstrdup(v ? "yes" : "no");
}

void print_list(struct printer *p, char *const *v, size_t n)
{
	struct print_cell *c = next_cell(p, CELL_LIST);
	struct strbuf sb = STRBUF_INIT;
	c->list = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		c->list[i] = xstrdup(v[i]);
		strbuf_addf(&sb, "%s%s", i ? ", " : "", v[i]);
	}
	c->nlist = n;
	c->s = strbuf_detach(&sb);
}

/* Terminal columns a UTF-8 string takes (invalid bytes count as one). */
static size_t display_width(const char *s)
{
	mbstate_t st;
	size_t w = 0, len = strlen(s);
	memset(&st, 0, sizeof(st));
	while (len) {
		wchar_t wc;
		if ((unsigned char)*s < 0x80) { /* the common case, without mbrtowc */
			w += *s >= 0x20 && *s < 0x7f;
			s++;
			len--;
			continue;
		}
		size_t n = mbrtowc(&wc, s, len, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			n = 1;
			w++;
		} else {
			int cw = wcwidth(wc);
			w += cw > 0 ? (size_t)cw : 0;
		}
		s += n;
		len -= n;
	}
	return w;
}

static void pad(size_t n)
{
	printf("%*s", (int)n, "");
}

static void print_table(struct printer *p)
{
	size_t width[16] = {0}, nrows = p->ncols ? p->ncells / p->ncols : 0;
	size_t *cw = xcalloc(p->ncells + 1, sizeof(size_t));
	for (size_t c = 0; c < p->ncols; c++)
		width[c] = display_width(p->cols[c].title);
	for (size_t i = 0; i < p->ncells; i++) {
		cw[i] = display_width(p->cells[i].s);
		if (cw[i] > width[i % p->ncols])
			width[i % p->ncols] = cw[i];
	}
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < p->ncols; c++) {
			size_t i = (r - 1) * p->ncols + c;
			fputs(r ? p->cells[i].s : p->cols[c].title, stdout);
			if (c + 1 < p->ncols)
				pad(width[c] - (r ? cw[i] : display_width(p->cols[c].title)) + 2);
		}
		putchar('\n');
	}
	free(cw);
}

static void print_record(struct printer *p)
{
	size_t width = 0;
	for (size_t c = 0; c < p->ncols && c < p->ncells; c++)
		if (strlen(p->cols[c].key) > width)
			width = strlen(p->cols[c].key);
	for (size_t c = 0; c < p->ncols && c < p->ncells; c++) {
		printf("%s:", p->cols[c].key);
		pad(width - strlen(p->cols[c].key) + 1);
		printf("%s\n", p->cells[c].s);
	}
}

static json_t *cell_json(const struct print_cell *c)
{
	switch (c->type) {
	case CELL_INT:
		return json_integer(c->i);
	case CELL_BOOL:
		return json_boolean(c->i);
	case CELL_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nlist; i++)
			json_array_append_new(a, json_string(c->list[i]));
		return a;
	}
	default: {
		/* Stored text is validated UTF-8; anything else is shown escaped. */
		json_t *j = json_string(c->s);
		char buf[1024];
		return j ? j : json_string(addr_printable(c->s, buf, sizeof(buf)));
	}
	}
}

static json_t *row_json(struct printer *p, size_t first)
{
	json_t *o = json_object();
	for (size_t c = 0; c < p->ncols && first + c < p->ncells; c++)
		json_object_set_new(o, p->cols[c].key, cell_json(&p->cells[first + c]));
	return o;
}

static void print_json(struct printer *p)
{
	json_t *root;
	if (p->record) {
		root = row_json(p, 0);
		if (p->message)
			json_object_set_new(root, "message", json_string(p->message));
	} else {
		root = json_array();
		for (size_t i = 0; p->ncols && i < p->ncells; i += p->ncols)
			json_array_append_new(root, row_json(p, i));
	}
	/* One buffer, one write: json_dumpf() calls fwrite() per token. */
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		abort(); /* jansson fails only on allocation */
	fputs(text, stdout);
	putchar('\n');
	free(text);
	json_decref(root);
}

int print_end(struct printer *p)
{
	if (p->json)
		print_json(p);
	else {
		if (p->message)
			printf("%s\n", p->message);
		else if (p->record)
			print_record(p);
		else if (p->ncols)
			print_table(p);
	}
	for (size_t i = 0; i < p->ncells; i++) {
		for (size_t j = 0; j < p->cells[i].nlist; j++)
			free(p->cells[i].list[j]);
		free(p->cells[i].list);
		free(p->cells[i].s);
	}
	free(p->cells);
	free(p->message);
	memset(p, 0, sizeof(*p));
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}
