/*
 * fuzz_password_verify - libFuzzer harness for password_verify() in
 * lib/password.c: the input is a stored hash string, as read from the
 * database, checked against a fixed password.
 *
 * The harness has its own reading of the cost parameters, following the
 * grammar libargon2's decoder accepts:
 *   [{ARGON2ID}]$argon2id[$v=N]$m=N,t=N,p=N...
 * and from it knows what password_verify() must do:
 *  - costs libargon2 could decode but out of the bounds password.c sets:
 *    rejected (-1) before argon2 runs. A hash that slips through would
 *    make argon2 allocate up to 4 TiB; the ctest run sets -malloc_limit_mb
 *    so that shows up as a failure rather than a slow run.
 *  - no costs libargon2 could decode at all: -1 (malformed).
 *  - costs within the bounds but above a few KiB and passes: skipped, as
 *    accepting them is correct and running them would make every
 *    execution slow.
 * Everything else runs argon2 for real and may return -1, 0 or 1.
 */
#include "password.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "correct horse battery staple"

/* password.c's bounds on hashes it verifies */
#define T_MIN 1
#define T_MAX 64
#define M_MIN 8
#define M_MAX (4LL * 1024 * 1024)
#define P_MIN 1
#define P_MAX 64

/* what the harness lets argon2 run: about a millisecond */
#define T_CHEAP 2
#define M_CHEAP 64
#define P_CHEAP 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct costs {
	unsigned long long m, t, p;
};

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Skip 'lit' at '*s'; 0 when it is not there. */
static int lit(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n))
		return 0;
	*s += n;
	return 1;
}

/* Decimal digits at '*s', saturating at ULLONG_MAX; 0 when there are none. */
static int num(const char **s, unsigned long long *v)
{
	const char *p = *s;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		*v = *v > (~0ULL - d) / 10 ? ~0ULL : *v * 10 + d;
	}
	if (p == *s)
		return 0;
	*s = p;
	return 1;
}

/* The costs libargon2 would read from 'h', or 0 when its decoder would
 * fail before getting them. Accepts a little more than libargon2 does
 * (leading zeros, any version), never less. */
static int read_costs(const char *h, struct costs *c)
{
	unsigned long long v;

	lit(&h, "{ARGON2ID}"); /* password_verify() strips it once */
	if (!lit(&h, "$argon2id"))
		return 0;
	if (lit(&h, "$v=") && !num(&h, &v))
		return 0;
	return lit(&h, "$m=") && num(&h, &c->m) && lit(&h, ",t=") && num(&h, &c->t) &&
	       lit(&h, ",p=") && num(&h, &c->p);
}

static int in_bounds(const struct costs *c)
{
	return c->t >= T_MIN && c->t <= T_MAX && c->m >= M_MIN && c->m <= M_MAX && c->p >= P_MIN &&
	       c->p <= P_MAX && c->m >= 8 * c->p;
}

static int cheap(const struct costs *c)
{
	return c->t <= T_CHEAP && c->m <= M_CHEAP && c->p <= P_CHEAP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_error err;
	struct costs c;
	char *h = malloc(size + 1);
	int decodable, rc;

	memcpy(h, data, size);
	h[size] = '\0';

	decodable = read_costs(h, &c);
	if (decodable && in_bounds(&c) && !cheap(&c)) {
		free(h);
		return 0;
	}
	rc = password_verify(h, PASSWORD, &err);
	if (!decodable || !in_bounds(&c))
		check(rc == -1);
	check(rc >= -1 && rc <= 1);
	if (rc < 0)
		check(err.kind == MC_EDATA && err.msg[0]);
	free(h);
	return 0;
}
