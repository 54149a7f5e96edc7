/* Error reporting; see error.h. */
#include "error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mc_fail(struct mc_error *err, enum mc_errkind kind, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void mc_error_clear(struct mc_error *err)
{
	err->kind = MC_OK;
	err->msg[0] = '\0';
}

const char *mc_strerror(int errnum)
{
	static __thread char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(errnum));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}
