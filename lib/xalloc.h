/*
 * xalloc - allocators that never return NULL.
 *
 * Out of memory is not an error a mail server can handle usefully at a call
 * site, so these abort with a message on failure and call sites stay clean.
 * Memory returned is owned by the caller and released with free().
 */
#ifndef MAILCTL_XALLOC_H
#define MAILCTL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array to hold at least 'need' elements of 'size' bytes. */
void *xgrow(void *ptr, size_t *alloc, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
