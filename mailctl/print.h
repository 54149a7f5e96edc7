/*
 * print - command output as an aligned table or as JSON (jansson).
 *
 * A command declares columns, then adds cells row by row; print_end()
 * writes everything to stdout. In list mode the table has a header line
 * and JSON is an array of objects; in record mode (one result) the table
 * is "key: value" lines and JSON a single object. A message (for changes:
 * "added user 'a@b'") replaces a record's fields in text, and goes under
 * "message" beside them in JSON.
 * Strings are copied; the printer owns its memory until print_end().
 */
#ifndef MAILCTL_PRINT_H
#define MAILCTL_PRINT_H

#include <stdio.h>

enum cell_type { CELL_STR, CELL_INT, CELL_BOOL, CELL_LIST };

struct print_col {
	const char *key;   /* JSON key */
	const char *title; /* table header */
	enum cell_type type;
};

struct print_cell {
	enum cell_type type;
	char *s;     /* CELL_STR, and the text form of every type */
	long long i; /* CELL_INT, CELL_BOOL */
	char **list; /* CELL_LIST */
	size_t nlist;
};

struct printer {
	int json;
	int record; /* one record rather than a list */
	char *message;
	struct print_col cols[24];
	size_t ncols;
	struct print_cell *cells;
	size_t ncells, alloc;
};

void print_begin(struct printer *p, int json, int record);
void print_col(struct printer *p, const char *key, const char *title, enum cell_type type);
void print_summary(struct printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void print_str(struct printer *p, const char *s);
void print_int(struct printer *p, long long v);
void print_bool(struct printer *p, int v);
void print_list(struct printer *p, char *const *v, size_t n);
/* Write the output and free the printer. Returns 0, or -1 on a write error. */
int print_end(struct printer *p);

#endif
