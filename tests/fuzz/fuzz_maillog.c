/*
 * fuzz_maillog - libFuzzer harness for the line functions of
 * lib/maillog.c: the mail log holds addresses, names and replies that
 * other servers chose.
 *
 * The input is cut into lines; the first line is the search text.
 * Checks: a queue id found is 6 to 31 letters and digits, stands right
 * after the first "]: " and before a ':'; the trace keeps every line
 * that contains the text (ASCII case ignored), keeps nothing else that
 * has no queue id, keeps every line for an empty text, and gives 0 or 1.
 */
#include "maillog.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_id(const char *line)
{
	char id[32];
	if (!maillog_queue_id(line, id))
		return;
	size_t n = strlen(id);
	check(n >= 6 && n < 32);
	for (size_t i = 0; i < n; i++)
		check((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= 'a' && id[i] <= 'z'));
	const char *at = strstr(line, "]: ");
	check(at && !strncmp(at + 3, id, n) && at[3 + n] == ':');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), **lines = calloc(size + 2, sizeof(char *));
	size_t n = 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text, *nl; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lines[n++] = p;
	}
	const char *needle = lines[0];
	unsigned char *keep = malloc(n);
	for (size_t i = 1; i < n; i++)
		check_id(lines[i]);
	maillog_trace((const char *const *)lines + 1, n - 1, needle, keep);
	for (size_t i = 1; i < n; i++) {
		char id[32];
		unsigned char k = keep[i - 1];
		check(k == 0 || k == 1);
		if (!*needle || strcasestr(lines[i], needle))
			check(k);
		else if (!maillog_queue_id(lines[i], id))
			check(!k);
	}
	free(keep);
	free(lines);
	free(text);
	return 0;
}
