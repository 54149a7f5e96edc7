/*
 * size - byte sizes as people write them: "500M", "2G", "1.5G", "0".
 *
 * Suffixes K, M, G, T (optionally followed by "B" or "iB", any case) are
 * powers of 1024. "0", "none" and "unlimited" mean 0 (no limit).
 */
#ifndef MAILCTL_SIZE_H
#define MAILCTL_SIZE_H

#include "error.h"

/* Parse 's' into '*out' bytes. Rejects negatives, garbage and values over
 * 2^53 with MC_EDATA and a message quoting the input. */
int size_parse(const char *s, long long *out, struct mc_error *err);

/* Format 'bytes' into 'buf' as the shortest exact form ("2G", "1536M",
 * "1000", "unlimited" for 0). */
void size_format(long long bytes, char *buf, unsigned long bufsize);

#endif
