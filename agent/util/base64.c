/* SPDX-License-Identifier: MIT */
#include "util/base64.h"

#include <errno.h>

/* The character maps below are arithmetic instead of table lookups: the
 * bytes are key material, and a table indexed by a secret leaks it through
 * the cache to a neighbour on the same core.  Inputs are 0..255, so the
 * sign bit of an int difference answers "is a below b" without a branch. */

/* 1 if a < b, else 0 (0 <= a, b < 2^16). */
static unsigned lt(int a, int b)
{
	return (unsigned)(a - b) >> 31;
}

/* All ones if lo <= c <= hi, else 0. */
static int in_range(int c, int lo, int hi)
{
	return -(int)((1 - lt(c, lo)) & (1 - lt(hi, c)));
}

static char enc_char(int v)
{
	int c = v + 'A';

	c += (int)lt(25, v) * ('a' - 26 - 'A');
	c += (int)lt(51, v) * ('0' - 52 - ('a' - 26));
	c += (int)lt(61, v) * ('+' - 62 - ('0' - 52));
	c += (int)lt(62, v) * ('/' - 63 - ('+' - 62));
	return (char)c;
}

/* 0..63, or -1 for a character outside the alphabet ('=' included). */
static int dec_char(unsigned char ch)
{
	int c = ch, v = -1;

	v += in_range(c, 'A', 'Z') & (c - 'A' + 1);
	v += in_range(c, 'a', 'z') & (c - 'a' + 27);
	v += in_range(c, '0', '9') & (c - '0' + 53);
	v += in_range(c, '+', '+') & 63;
	v += in_range(c, '/', '/') & 64;
	return v;
}

void xg_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;
	uint32_t w;

	for (i = 0; i + 3 <= n; i += 3) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = enc_char((int)(w >> 18));
		*out++ = enc_char((int)(w >> 12 & 63));
		*out++ = enc_char((int)(w >> 6 & 63));
		*out++ = enc_char((int)(w & 63));
	}
	if (n - i == 1) {
		w = (uint32_t)in[i] << 16;
		*out++ = enc_char((int)(w >> 18));
		*out++ = enc_char((int)(w >> 12 & 63));
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = enc_char((int)(w >> 18));
		*out++ = enc_char((int)(w >> 12 & 63));
		*out++ = enc_char((int)(w >> 6 & 63));
		*out++ = '=';
	}
	*out = '\0';
}

int xg_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
		  size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pad = 0, n, i, o = 0;
	int bad = 0, v[4], k;

	if (in_len % 4 != 0)
		return -EINVAL;
	if (in_len > 0 && s[in_len - 1] == '=')
		pad = s[in_len - 2] == '=' ? 2 : 1;
	n = in_len / 4 * 3 - pad;
	if (n > cap)
		return -ENOBUFS;
	for (i = 0; i < in_len; i += 4) {
		int last = i + 4 == in_len;

		for (k = 0; k < 4; k++) {
			/* Only the padding of the final quad is not data; an '='
			 * anywhere else decodes as -1 and fails below. */
			if (last && k >= 4 - (int)pad)
				v[k] = 0;
			else
				v[k] = dec_char(s[i + k]);
			bad |= v[k];
		}
		if (bad < 0)
			return -EINVAL;
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (last && pad == 2) {
			/* The 4 low bits of the second character carry no data:
			 * non-zero would be a second spelling of the same bytes. */
			if (v[1] & 15)
				return -EINVAL;
			break;
		}
		out[o++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (last && pad == 1) {
			if (v[2] & 3)
				return -EINVAL;
			break;
		}
		out[o++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	*out_len = o;
	return 0;
}
