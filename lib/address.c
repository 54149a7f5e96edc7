/* Address and domain validation and normalisation; see address.h. */
#include "address.h"
#include "utf8.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOMAIN_MAX_INPUT 255 /* octets of raw input, before conversion */
#define DOMAIN_MAX       253 /* characters of the A-label form, no final dot */
#define LABEL_MAX        63
#define LOCAL_MAX        64
#define ADDRESS_MAX      254
#define QUOTE_MAX        80 /* how much of a bad input a message quotes */

/* A reason is written into a fixed buffer and prefixed by the caller with
 * "invalid address 'X': " or "invalid domain 'X': ". */
#define REASON_MAX 256

/* Fill 'why' and return -1. */
__attribute__((format(printf, 2, 3))) static int reason(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, REASON_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_ascii_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static int has_ascii_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

int addr_is_clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long c;
	size_t n, left;

	if (!s)
		return 0;
	for (left = strlen(s); *p; left -= n) {
		n = utf8_decode(p, left, &c);
		/* C0 controls, DEL and the C1 controls U+0080..U+009F */
		if (!n || c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return 0;
		p += n;
	}
	return 1;
}

const char *addr_printable(const char *s, char *buf, unsigned long bufsize)
{
	static const char hex[] = "0123456789abcdef";
	size_t cap, pos = 0, keep = 0, n;
	char unit[4];

	if (!bufsize)
		return buf;
	cap = bufsize - 1;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f) {
			unit[0] = '\\', unit[1] = 'x', unit[2] = hex[c >> 4], unit[3] = hex[c & 15];
			n = 4;
		} else {
			unit[0] = (char)c;
			n = 1;
		}
		if (pos + 3 <= cap)
			keep = pos; /* the last point where "..." still fits */
		if (pos + n > cap) {
			if (cap >= 3) {
				memcpy(buf + keep, "...", 3);
				pos = keep + 3;
			}
			break;
		}
		memcpy(buf + pos, unit, n);
		pos += n;
	}
	buf[pos] = '\0';
	return buf;
}

/* The first raw checks shared by domains and addresses: 'what' names the
 * subject in the reason ("domain", "address"). */
static int check_clean(const char *s, const char *what, char *why)
{
	if (has_ascii_control(s))
		return reason(why, "%s contains control characters", what);
	if (!addr_is_clean_utf8(s))
		return reason(why, "%s is not valid UTF-8 or contains control characters", what);
	return 0;
}

/* Describe a character that is not allowed, for "contains X" reasons. */
static const char *char_name(char c, char *buf, size_t size)
{
	char tmp[2] = {c, '\0'};
	char pr[8];

	if (c == ' ')
		return "a space";
	snprintf(buf, size, "'%s'", addr_printable(tmp, pr, sizeof(pr)));
	return buf;
}

static int label_reason(const char *label, size_t len, const char *q, char *why)
{
	char cn[16];
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_ascii_lower(label[i]) && !is_digit(label[i]) && label[i] != '-')
			return reason(why, "label '%s' contains %s", q,
			              char_name(label[i], cn, sizeof(cn)));
	if (len > LABEL_MAX)
		return reason(why, "label '%s' is longer than %d characters", q, LABEL_MAX);
	if (label[0] == '-')
		return reason(why, "label '%s' starts with a hyphen", q);
	if (label[len - 1] == '-')
		return reason(why, "label '%s' ends with a hyphen", q);
	return 0;
}

static int check_label(const char *label, size_t len, char *why)
{
	char q[QUOTE_MAX];
	char *copy = xstrndup(label, len);
	int rc = label_reason(label, len, addr_printable(copy, q, sizeof(q)), why);

	free(copy);
	return rc;
}

static int all_digits(const char *s)
{
	for (; *s; s++)
		if (!is_digit(*s))
			return 0;
	return 1;
}

/* Check the lowercase ASCII form, trailing dot already removed. */
static int check_structure(const char *d, char *why)
{
	struct in_addr a4;
	const char *label = d, *dot, *tld = d;
	size_t len;
	int labels = 0;

	if (inet_pton(AF_INET, d, &a4) == 1)
		return reason(why, "IP addresses are not supported");
	for (;; label = dot + 1) {
		dot = strchr(label, '.');
		len = dot ? (size_t)(dot - label) : strlen(label);
		if (!len)
			return reason(why, "domain has an empty label");
		if (check_label(label, len, why) < 0)
			return -1;
		labels++;
		tld = label;
		if (!dot)
			break;
	}
	if (labels < 2)
		return reason(why, "domain needs at least two labels");
	if (strlen(d) > DOMAIN_MAX)
		return reason(why, "domain is longer than %d characters", DOMAIN_MAX);
	if (all_digits(tld))
		return reason(why, "top-level domain '%s' is all-numeric", tld);
	return 0;
}

/* Convert with libidn2 (IDNA 2008, UTS#46 non-transitional); ASCII input
 * is also run through it so bad "xn--" labels and "ab--c" are caught. */
static int to_alabel(const char *in, char **out, char *why)
{
	char *res = NULL;
	int rc = idn2_to_ascii_8z(in, &res, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

	if (rc != IDN2_OK)
		return reason(why, "IDNA conversion failed: %s", idn2_strerror(rc));
	*out = xstrdup(res);
	idn2_free(res);
	return 0;
}

static void strip_final_dot(char *s)
{
	size_t len = strlen(s);

	if (len && s[len - 1] == '.')
		s[len - 1] = '\0';
}

/* Normalise a domain, or fill 'why' with the reason it is invalid. ASCII
 * input is checked before libidn2 sees it so that the common mistakes get
 * our precise messages rather than libidn2's generic ones. */
static int domain_norm(const char *in, char **out, char *why)
{
	char *d = NULL, *check = NULL;
	int ascii = !has_non_ascii(in);

	if (!*in)
		return reason(why, "domain is empty");
	if (strlen(in) > DOMAIN_MAX_INPUT)
		return reason(why, "domain is longer than %d octets", DOMAIN_MAX_INPUT);
	if (check_clean(in, "domain", why) < 0)
		return -1;
	if (in[0] == '[')
		return reason(why, "IP address literals are not supported");
	if (ascii)
		d = xstrdup(in);
	else if (to_alabel(in, &d, why) < 0)
		return -1;
	ascii_lower(d);
	strip_final_dot(d);
	if (check_structure(d, why) < 0 || (ascii && to_alabel(d, &check, why) < 0)) {
		free(d);
		return -1;
	}
	free(check);
	*out = d;
	return 0;
}

int addr_domain_normalize(const char *in, char **out, struct mc_error *err)
{
	char why[REASON_MAX], q[QUOTE_MAX];

	if (domain_norm(in ? in : "", out, why) < 0)
		return mc_fail(err, MC_EDATA, "invalid domain '%s': %s",
		               addr_printable(in, q, sizeof(q)), why);
	return 0;
}

static int is_atext(char c)
{
	return is_ascii_lower(c) || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Check a dot-atom local part (RFC 5322 atext, ASCII only). */
static int check_local(const char *l, size_t len, char *why)
{
	char cn[16];
	size_t i;

	if (!len)
		return reason(why, "local part is empty");
	for (i = 0; i < len; i++)
		if ((unsigned char)l[i] >= 0x80)
			return reason(why, "non-ASCII local parts are not supported");
	for (i = 0; i < len; i++)
		if (l[i] != '.' && !is_atext(l[i]))
			return reason(why, "local part contains %s",
			              char_name(l[i], cn, sizeof(cn)));
	if (len > LOCAL_MAX)
		return reason(why, "local part is longer than %d characters", LOCAL_MAX);
	if (l[0] == '.')
		return reason(why, "local part starts with a dot");
	if (l[len - 1] == '.')
		return reason(why, "local part ends with a dot");
	for (i = 1; i < len; i++)
		if (l[i] == '.' && l[i - 1] == '.')
			break;
	if (i < len)
		return reason(why, "local part has consecutive dots");
	return 0;
}

/* Split and check the address text before the domain is converted. */
static int check_shape(const char *in, const char **at, char *why)
{
	if (!*in)
		return reason(why, "address is empty");
	if (check_clean(in, "address", why) < 0)
		return -1;
	if (in[0] == '"')
		return reason(why, "quoted local parts are not supported");
	*at = strchr(in, '@');
	if (!*at)
		return reason(why, "missing '@'");
	if (strchr(*at + 1, '@'))
		return reason(why, "more than one '@'");
	return 0;
}

struct addr_parts {
	char *local;
	char *domain;
};

static int address_norm(const char *in, int catchall, struct addr_parts *p, char *why)
{
	const char *at = NULL;
	size_t llen;

	if (check_shape(in, &at, why) < 0)
		return -1;
	llen = (size_t)(at - in);
	if ((llen || !catchall) && check_local(in, llen, why) < 0)
		return -1;
	if (domain_norm(at + 1, &p->domain, why) < 0)
		return -1;
	p->local = xstrndup(in, llen);
	ascii_lower(p->local);
	if (strlen(p->local) + 1 + strlen(p->domain) > ADDRESS_MAX) {
		free(p->local);
		free(p->domain);
		return reason(why, "address is longer than %d characters", ADDRESS_MAX);
	}
	return 0;
}

static int normalize(const char *in, int catchall, char **out, char **local, char **domain,
                     struct mc_error *err)
{
	struct addr_parts p;
	char why[REASON_MAX], q[QUOTE_MAX];

	if (address_norm(in ? in : "", catchall, &p, why) < 0)
		return mc_fail(err, MC_EDATA, "invalid address '%s': %s",
		               addr_printable(in, q, sizeof(q)), why);
	if (out)
		*out = xasprintf("%s@%s", p.local, p.domain);
	if (local)
		*local = p.local;
	else
		free(p.local);
	if (domain)
		*domain = p.domain;
	else
		free(p.domain);
	return 0;
}

int addr_normalize(const char *in, char **out, char **local, char **domain, struct mc_error *err)
{
	return normalize(in, 0, out, local, domain, err);
}

int addr_normalize_source(const char *in, char **out, char **local, char **domain,
                          struct mc_error *err)
{
	return normalize(in, 1, out, local, domain, err);
}
