/* Byte sizes as people write them; see size.h. */
#include "size.h"
#include "address.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SIZE_MAX_BYTES (1LL << 53) /* exact in a double, so in JSON too */
#define FRAC_DIGITS    18          /* keeps 10^digits inside 64 bits */
#define QUOTE_MAX      64
#define TOO_LARGE      "too large (at most 8192T)"

struct size_unit {
	char letter;
	int shift;
};

static const struct size_unit units[] = {
    {'T', 40},
    {'G', 30},
    {'M', 20},
    {'K', 10},
};

static const char *const unlimited_words[] = {"none", "unlimited"};

struct size_num {
	unsigned long long whole; /* digits before the point */
	unsigned long long frac;  /* digits after it, as an integer */
	unsigned long long denom; /* 10^(number of digits after it) */
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse "123" or "1.5" at '*p'; NULL reason on success. */
static const char *parse_number(const char **p, struct size_num *n)
{
	const char *s = *p;

	n->whole = 0, n->frac = 0, n->denom = 1;
	if (!is_digit(*s))
		return "not a number";
	for (; is_digit(*s); s++) {
		if (n->whole > (unsigned long long)SIZE_MAX_BYTES)
			return TOO_LARGE;
		n->whole = n->whole * 10 + (unsigned long long)(*s - '0');
	}
	if (*s == '.') {
		if (!is_digit(*++s))
			return "expected digits after '.'";
		for (int digits = 0; is_digit(*s); s++, digits++) {
			if (digits == FRAC_DIGITS)
				return "too many decimal places";
			n->frac = n->frac * 10 + (unsigned long long)(*s - '0');
			n->denom *= 10;
		}
	}
	*p = s;
	return NULL;
}

/* Parse the unit after the number: "", "B", or K/M/G/T with an optional
 * "B" or "iB". Returns the power-of-two shift, or -1. */
static int parse_unit(const char *s)
{
	int shift = 0;
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if ((*s | 0x20) == (units[i].letter | 0x20))
			break;
	if (i < sizeof(units) / sizeof(units[0])) {
		shift = units[i].shift;
		s++;
		if (!strcasecmp(s, "ib"))
			return shift;
	}
	if (!*s || !strcasecmp(s, "b"))
		return shift;
	return -1;
}

/* floor(frac / denom * 2^shift) by binary long division, so "1.1T" is
 * exact to the byte without floating point; frac < denom <= 10^18. */
static unsigned long long scale_fraction(unsigned long long frac, unsigned long long denom,
                                         int shift)
{
	unsigned long long q = 0, rem = frac;

	for (int i = 0; i < shift; i++) {
		rem *= 2;
		q *= 2;
		if (rem >= denom) {
			rem -= denom;
			q++;
		}
	}
	return q;
}

static const char *parse_size(const char *s, long long *out)
{
	struct size_num n;
	const char *why;
	unsigned long long bytes;
	int shift;

	for (const char *p = s; *p; p++)
		if (strchr(" \t\n\v\f\r", *p))
			return "contains white space";
	if (*s == '-')
		return "negative sizes are not allowed";
	if ((why = parse_number(&s, &n)))
		return why;
	if ((shift = parse_unit(s)) < 0)
		return "unknown unit (use K, M, G or T)";
	if (n.denom > 1 && shift == 0)
		return "a fraction of a byte needs a unit (K, M, G or T)";
	if (n.whole > (unsigned long long)SIZE_MAX_BYTES >> shift)
		return TOO_LARGE;
	bytes = (n.whole << shift) + scale_fraction(n.frac, n.denom, shift);
	if (bytes > (unsigned long long)SIZE_MAX_BYTES)
		return TOO_LARGE;
	/* 0 means "no limit": a tiny size must not silently become that */
	if (bytes == 0 && (n.whole || n.frac))
		return "rounds down to 0 bytes (use 0 for no limit)";
	*out = (long long)bytes;
	return NULL;
}

int size_parse(const char *s, long long *out, struct mc_error *err)
{
	char q[QUOTE_MAX];
	const char *why;

	if (!s || !*s)
		return mc_fail(err, MC_EDATA, "invalid size '': empty");
	for (size_t i = 0; i < sizeof(unlimited_words) / sizeof(unlimited_words[0]); i++)
		if (!strcasecmp(s, unlimited_words[i])) {
			*out = 0;
			return 0;
		}
	if ((why = parse_size(s, out)))
		return mc_fail(err, MC_EDATA, "invalid size '%s': %s",
		               addr_printable(s, q, sizeof(q)), why);
	return 0;
}

void size_format(long long bytes, char *buf, unsigned long bufsize)
{
	size_t i;

	if (bytes == 0) {
		snprintf(buf, bufsize, "unlimited");
		return;
	}
	for (i = 0; bytes > 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (bytes % (1LL << units[i].shift) == 0) {
			snprintf(buf, bufsize, "%lld%c", bytes >> units[i].shift, units[i].letter);
			return;
		}
	snprintf(buf, bufsize, "%lld", bytes);
}
