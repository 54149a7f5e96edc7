/* Password hashing, verification, policy and generation; see password.h. */
#include "password.h"
#include "address.h"
#include "xalloc.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pwquality.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_PREFIX   "{ARGON2ID}"
#define SALT_LEN      16
#define TAG_LEN       32
#define CORE_MIN_LEN  6 /* cracklib's own minimum */
#define GEN_GROUPS    4
#define GEN_GROUP_LEN 6
#define GEN_TRIES     100

/* Bounds on argon2 parameters, for policies and for hashes we are asked
 * to verify: a stored hash must not make us allocate gigabytes or spin
 * for minutes. */
static const struct argon2_bound {
	const char *name;
	const char *unit;
	long long min, max;
} bounds[] = {
    {"time cost", "", 1, 64},
    {"memory cost", " KiB", 8, 4 * 1024 * 1024},
    {"parallelism", "", 1, 64},
};

/* The policy password_generate() output must satisfy. */
static const struct password_policy default_policy = {
    .min_length = 12,
    .dictionary_check = 1,
    .time_cost = 3,
    .memory_kib = 65536,
    .parallelism = 1,
};

/* No 0/O/o, 1/l/I: generated passwords get read aloud and typed by hand. */
static const char gen_alphabet[] = "abcdefghijkmnpqrstuvwxyz"
                                   "ABCDEFGHJKLMNPQRSTUVWXYZ"
                                   "23456789";

void password_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* The limits that hold even when the policy is not applied. */
static int check_length(const char *pw, struct mc_error *err)
{
	if (!pw || !*pw)
		return mc_fail(err, MC_EDATA, "password is empty");
	if (strlen(pw) > PASSWORD_MAX_LEN)
		return mc_fail(err, MC_EDATA, "password is too long: at most %d characters",
		               PASSWORD_MAX_LEN);
	return 0;
}

static int check_text(const char *pw, const struct password_policy *pol, struct mc_error *err)
{
	if (check_length(pw, err) < 0)
		return -1;
	for (const char *p = pw; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return mc_fail(err, MC_EDATA, "password contains control characters");
	if (!addr_is_clean_utf8(pw))
		return mc_fail(err, MC_EDATA,
		               "password is not valid UTF-8 or contains control characters");
	if ((long long)strlen(pw) < pol->min_length)
		return mc_fail(err, MC_EDATA, "password is too short: at least %lld characters",
		               pol->min_length);
	return 0;
}

/* Library messages ("Decoding failed", "The password is ...") start with a
 * capital and may end with a period; ours do neither. */
static const char *tidy(const char *in, char *buf, size_t size)
{
	size_t len;

	snprintf(buf, size, "%s", in ? in : "unknown error");
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	len = strlen(buf);
	if (len && buf[len - 1] == '.')
		buf[len - 1] = '\0';
	return buf;
}

static int weak(int rc, void *aux, struct mc_error *err)
{
	char buf[256], msg[256];

	tidy(pwquality_strerror(buf, sizeof(buf), rc, aux), msg, sizeof(msg));
	return mc_fail(err, MC_EDATA, "password is too weak: %s", msg);
}

/* Settings built from scratch: pwquality_read_config() is never called, so
 * /etc/security/pwquality.conf cannot change what we accept. */
static pwquality_settings_t *quality_settings(long long min_length, int dict, int user)
{
	pwquality_settings_t *s = pwquality_default_settings();

	if (!s)
		return NULL;
	if (min_length > 1024)
		min_length = 1024;
	pwquality_set_int_value(s, PWQ_SETTING_MIN_LENGTH, (int)min_length);
	pwquality_set_int_value(s, PWQ_SETTING_DICT_CHECK, dict);
	pwquality_set_int_value(s, PWQ_SETTING_USER_CHECK, user);
	return s;
}

/* The name pwquality compares against: the local part of an address,
 * which catches "alice2024!" for alice@example.org. */
static char *user_name(const char *user)
{
	const char *at;

	if (!user || !*user)
		return NULL;
	at = strchr(user, '@');
	if (at == user)
		return NULL; /* a catch-all has no name */
	return at ? xstrndup(user, (size_t)(at - user)) : xstrdup(user);
}

static int quality_check(const struct password_policy *pol, const char *pw, const char *user,
                         struct mc_error *err)
{
	pwquality_settings_t *s = quality_settings(pol->min_length, pol->dictionary_check, 1);
	char *name = user_name(user);
	void *aux = NULL;
	int rc;

	if (!s) {
		free(name);
		return mc_fail(err, MC_EINTERNAL, "cannot set up the password quality check");
	}
	rc = pwquality_check(s, pw, NULL, name, &aux);
	pwquality_free_settings(s);
	free(name);
	return rc < 0 ? weak(rc, aux, err) : 0;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* cracklib only strips a character or two when it looks for a dictionary
 * word, so "password1234" passes it. Check the core left after removing
 * leading and trailing non-letters as well. */
static int core_check(const char *pw, struct mc_error *err)
{
	const char *start = pw, *end = pw + strlen(pw);
	pwquality_settings_t *s;
	char *core;
	void *aux = NULL;
	int rc;

	while (start < end && !is_letter(*start))
		start++;
	while (end > start && !is_letter(end[-1]))
		end--;
	if ((start == pw && !*end) || end - start < CORE_MIN_LEN)
		return 0;
	if (!(s = quality_settings(CORE_MIN_LEN, 1, 0)))
		return mc_fail(err, MC_EINTERNAL, "cannot set up the password quality check");
	core = xstrndup(start, (size_t)(end - start));
	rc = pwquality_check(s, core, NULL, NULL, &aux);
	password_free(core);
	pwquality_free_settings(s);
	if (rc == PWQ_ERROR_CRACKLIB_CHECK)
		return weak(rc, aux, err);
	if (rc < 0) {
		char buf[256];
		pwquality_strerror(buf, sizeof(buf), rc, aux); /* releases 'aux' */
	}
	return 0;
}

int password_check(const struct password_policy *pol, const char *pw, const char *user,
                   struct mc_error *err)
{
	if (check_text(pw, pol, err) < 0)
		return -1;
	if (quality_check(pol, pw, user, err) < 0)
		return -1;
	if (pol->dictionary_check && core_check(pw, err) < 0)
		return -1;
	return 0;
}

static int check_params(long long t, long long m, long long p, struct mc_error *err)
{
	const long long v[] = {t, m, p};

	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (v[i] < bounds[i].min || v[i] > bounds[i].max)
			return mc_fail(err, MC_EDATA,
			               "invalid argon2 %s %lld: must be between %lld and %lld",
			               bounds[i].name, v[i], bounds[i].min, bounds[i].max);
	if (m < 8 * p)
		return mc_fail(err, MC_EDATA,
		               "invalid argon2 memory cost %lld KiB: needs at least 8 KiB per "
		               "lane (%lld)",
		               m, 8 * p);
	return 0;
}

/* Run argon2id into a fresh "{ARGON2ID}..." string. */
static int encode(const struct password_policy *pol, const char *pw, const unsigned char *salt,
                  char **out, struct mc_error *err)
{
	uint32_t t = (uint32_t)pol->time_cost, m = (uint32_t)pol->memory_kib,
	         p = (uint32_t)pol->parallelism;
	size_t plen = strlen(HASH_PREFIX),
	       len = argon2_encodedlen(t, m, p, SALT_LEN, TAG_LEN, Argon2_id);
	char *enc = xmalloc(plen + len), msg[128];
	int rc;

	memcpy(enc, HASH_PREFIX, plen);
	rc = argon2id_hash_encoded(t, m, p, pw, strlen(pw), salt, SALT_LEN, TAG_LEN, enc + plen,
	                           len);
	if (rc != ARGON2_OK) {
		password_free(enc);
		return mc_fail(err, MC_EINTERNAL, "cannot hash the password: %s",
		               tidy(argon2_error_message(rc), msg, sizeof(msg)));
	}
	*out = enc;
	return 0;
}

int password_hash(const struct password_policy *pol, const char *pw, char **out,
                  struct mc_error *err)
{
	unsigned char salt[SALT_LEN];
	int rc;

	if (check_length(pw, err) < 0)
		return -1;
	if (check_params(pol->time_cost, pol->memory_kib, pol->parallelism, err) < 0)
		return -1;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return mc_fail(err, MC_EINTERNAL, "cannot get random bytes for a salt");
	rc = encode(pol, pw, salt, out, err);
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc;
}

/* Read the cost parameters from "$argon2id$v=19$m=M,t=T,p=P$..." so that a
 * hostile or corrupt hash is refused before argon2 allocates or spins. */
static int check_hash_params(const char *h, struct mc_error *err)
{
	unsigned long long m, t, p;
	int n = 0;

	if (sscanf(h, "$argon2id$v=19$m=%llu,t=%llu,p=%llu$%n", &m, &t, &p, &n) != 3 || !n)
		return mc_fail(err, MC_EDATA, "malformed password hash: not an ARGON2ID hash");
	/* values past LLONG_MAX turn negative and fail the bounds too */
	if (check_params((long long)t, (long long)m, (long long)p, NULL) < 0)
		return mc_fail(err, MC_EDATA,
		               "malformed password hash: argon2 costs out of range "
		               "(m=%llu, t=%llu, p=%llu)",
		               m, t, p);
	return 0;
}

int password_verify(const char *hash, const char *pw, struct mc_error *err)
{
	char msg[128];
	int rc;

	if (!hash || !pw)
		return mc_fail(err, MC_EUSAGE, "no hash or password to verify");
	if (!strncmp(hash, HASH_PREFIX, strlen(HASH_PREFIX)))
		hash += strlen(HASH_PREFIX);
	if (check_hash_params(hash, err) < 0)
		return -1;
	rc = argon2id_verify(hash, pw, strlen(pw));
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return mc_fail(err, MC_EDATA, "malformed password hash: %s",
	               tidy(argon2_error_message(rc), msg, sizeof(msg)));
}

/* One uniformly chosen alphabet index; bytes past the largest multiple of
 * the alphabet size are thrown away so no character is favoured. */
static int random_index(size_t n, size_t *out)
{
	const unsigned limit = 256 - 256 % (unsigned)n;
	unsigned char b;

	do {
		if (RAND_bytes(&b, 1) != 1)
			return -1;
	} while (b >= limit);
	*out = b % n;
	return 0;
}

static int has_classes(const char *s)
{
	int lower = 0, upper = 0, digit = 0;

	for (; *s; s++) {
		lower |= *s >= 'a' && *s <= 'z';
		upper |= *s >= 'A' && *s <= 'Z';
		digit |= *s >= '0' && *s <= '9';
	}
	return lower && upper && digit;
}

/* Fill 'buf' with "xxxxxx-xxxxxx-xxxxxx-xxxxxx". */
static int generate_once(char *buf)
{
	size_t idx, pos = 0;

	for (int g = 0; g < GEN_GROUPS; g++) {
		if (g)
			buf[pos++] = '-';
		for (int i = 0; i < GEN_GROUP_LEN; i++) {
			if (random_index(sizeof(gen_alphabet) - 1, &idx) < 0)
				return -1;
			buf[pos++] = gen_alphabet[idx];
		}
	}
	buf[pos] = '\0';
	return 0;
}

int password_generate(char **out, struct mc_error *err)
{
	char *buf = xmalloc(GEN_GROUPS * (GEN_GROUP_LEN + 1));

	for (int tries = 0; tries < GEN_TRIES; tries++) {
		if (generate_once(buf) < 0) {
			password_free(buf);
			return mc_fail(err, MC_EINTERNAL, "cannot get random bytes for a password");
		}
		if (has_classes(buf) && password_check(&default_policy, buf, NULL, NULL) == 0) {
			*out = buf;
			return 0;
		}
	}
	password_free(buf);
	return mc_fail(err, MC_EINTERNAL, "cannot generate a password that passes the policy");
}
