/* UTF-8 decoding; see utf8.h. */
#include "utf8.h"

/* Length of the UTF-8 sequence at 's' (at most 'n' bytes) and its code
 * point, or 0 when it is malformed, overlong, a surrogate or out of range. */
size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	static const unsigned long minimum[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len, i;
	unsigned long c;

	if (s[0] < 0x80)
		len = 1, c = s[0];
	else if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < minimum[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}
