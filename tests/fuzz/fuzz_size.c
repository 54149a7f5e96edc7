/*
 * fuzz_size - libFuzzer harness for lib/size.c.
 *
 * size_parse() on the input; when it succeeds the value is within
 * [0, 2^53], and size_format() then size_parse() gives the same number
 * back. size_format() also runs into buffers of every small size, each
 * exactly that big on the heap so that ASan sees a write past its end.
 */
#include "size.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SIZE_MAX_BYTES (1LL << 53)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_format_sizes(long long bytes)
{
	char full[64];

	size_format(bytes, full, sizeof(full));
	for (size_t n = 1; n <= strlen(full) + 1; n++) {
		char *buf = malloc(n);

		size_format(bytes, buf, n);
		check(strlen(buf) == n - 1 || !strcmp(buf, full));
		check(!strncmp(buf, full, strlen(buf)));
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_error err;
	char *s = malloc(size + 1), buf[64];
	long long v = -1, again = -1;

	memcpy(s, data, size);
	s[size] = '\0';

	if (size_parse(s, &v, &err) == 0) {
		check(v >= 0 && v <= SIZE_MAX_BYTES);
		size_format(v, buf, sizeof(buf));
		check(size_parse(buf, &again, &err) == 0);
		check(again == v);
		check_format_sizes(v);
	} else {
		check(err.kind == MC_EDATA && err.msg[0]);
	}
	/* any 8 bytes as a value: size_format must not misbehave on them */
	if (size == sizeof(v)) {
		memcpy(&v, data, sizeof(v));
		check_format_sizes(v);
	}
	free(s);
	return 0;
}
