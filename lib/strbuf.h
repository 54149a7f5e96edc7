/*
 * strbuf - a growable string buffer.
 *
 * A strbuf is never NULL-buffered: after strbuf_init() 'buf' points at a
 * NUL-terminated string (possibly a shared empty one), so it can be printed
 * at any time. strbuf_release() frees the memory and re-initialises the
 * buffer; strbuf_detach() hands the string to the caller, who frees it.
 * Allocation failure aborts (see xalloc.h).
 */
#ifndef MAILCTL_STRBUF_H
#define MAILCTL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_empty[];
#define STRBUF_INIT                                                                                \
	{                                                                                          \
		0, 0, strbuf_empty                                                                 \
	}

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Remove trailing white space (including a final newline). */
void strbuf_rtrim(struct strbuf *sb);

#endif
