/*
 * emuutil.c -- the emulator's small helpers: uuids, the real and
 * simulated clocks, RFC 3339 times with fractions, durations, base64url,
 * form decoding, ARM name patterns and node image version bumps.
 *
 * The emulator is built from the tests/armemu sources alone (it does not link
 * the aksnap library), so these are its own, kept deliberately small.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/rand.h>

#include "armemu.h"

void
emu_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	size_t i;

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1) {
		for (i = 0; i < nbytes; i++)
			b[i] = (unsigned char)rand();
	}
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * nbytes] = '\0';
}

void
emu_uuid(char out[37])
{
	unsigned char b[16];
	int i;

	if (RAND_bytes(b, sizeof(b)) != 1) {
		for (i = 0; i < 16; i++)
			b[i] = (unsigned char)rand();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

double
emu_real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
emu_sim_now(void)
{
	if (emu.clock_frozen)
		return emu.frozen_at;
	return emu_real_now() + emu.clock_offset;
}

int64_t
emu_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
emu_format_time(double t, int frac_digits, char *buf, size_t len)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char base[32], fbuf[16];
	double frac = t - (double)secs;
	long scale = 1;
	int i;

	if (frac < 0)
		frac = 0;
	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac_digits <= 0) {
		snprintf(buf, len, "%sZ", base);
		return;
	}
	if (frac_digits > 9)
		frac_digits = 9;
	for (i = 0; i < frac_digits; i++)
		scale *= 10;
	snprintf(fbuf, sizeof(fbuf), "%09ld",
	    ((long)(frac * (double)scale) % scale) * (1000000000L / scale));
	fbuf[frac_digits] = '\0';
	snprintf(buf, len, "%s.%sZ", base, fbuf);
}

int
emu_parse_time(const char *s, double *out)
{
	struct tm tm;
	const char *p;
	double frac = 0;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		double scale = 0.1;

		p++;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int h = atoi(p + 1), m = atoi(p + 4);

		off = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*out = (double)timegm(&tm) - (double)off + frac;
	return 0;
}

int
emu_parse_duration(const char *s, long long *out)
{
	long long total = 0;
	int any = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (*s != '\0') {
		long long n = 0, mul;

		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (*s - '0');
			if (n > 1000000000000LL)
				return -1;
			s++;
		}
		switch (*s) {
		case '\0':
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'w':
			mul = 604800;
			break;
		default:
			return -1;
		}
		if (*s != '\0')
			s++;
		total += n * mul;
		any = 1;
	}
	if (!any)
		return -1;
	*out = neg ? -total : total;
	return 0;
}

static int
b64url_val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-' || ch == '+')
		return 62;
	if (ch == '_' || ch == '/')
		return 63;
	return -1;
}

int
emu_b64url_decode(
    const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
	unsigned char *o;
	size_t i, n = 0;
	unsigned int acc = 0;
	int bits = 0;

	o = malloc(inlen * 3 / 4 + 3);
	if (o == NULL)
		return -1;
	for (i = 0; i < inlen; i++) {
		int v;

		if (in[i] == '=')
			break;
		v = b64url_val((unsigned char)in[i]);
		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	o[n] = '\0';
	*out = o;
	*outlen = n;
	return 0;
}

void
emu_b64url_encode(
    const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789-_";
	size_t i, n = 0;
	unsigned int acc = 0;
	int bits = 0;

	for (i = 0; i < inlen && n + 2 < outlen; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6 && n + 1 < outlen) {
			bits -= 6;
			out[n++] = tab[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0 && n + 1 < outlen)
		out[n++] = tab[(acc << (6 - bits)) & 0x3f];
	out[n] = '\0';
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The decoded value of ${key} in an x-www-form-urlencoded body, or NULL. */
char *
emu_form_value(const char *body, const char *key)
{
	size_t klen = strlen(key);
	const char *p = body;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t vlen = len - klen - 1, i, n = 0;
			char *out = malloc(vlen + 1);

			if (out == NULL)
				return NULL;
			for (i = 0; i < vlen; i++) {
				if (v[i] == '+') {
					out[n++] = ' ';
				} else if (v[i] == '%' && i + 2 < vlen &&
				    hexval((unsigned char)v[i + 1]) >= 0 &&
				    hexval((unsigned char)v[i + 2]) >= 0) {
					out[n++] = (char)(hexval((unsigned char)
					                          v[i + 1]) *
					        16 +
					    hexval((unsigned char)v[i + 2]));
					i += 2;
				} else {
					out[n++] = v[i];
				}
			}
			out[n] = '\0';
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$ */
int
emu_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 1 || n > 63)
		return 0;
	if (!isalnum((unsigned char)name[0]) ||
	    !isalnum((unsigned char)name[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return 0;
	}
	return 1;
}

/* ^[a-z][a-z0-9]{0,11}$ */
int
emu_pool_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 1 || n > 12 || !islower((unsigned char)name[0]))
		return 0;
	for (i = 0; i < n; i++) {
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]))
			return 0;
	}
	return 1;
}

/*
 * The next node image after ${cur}: "...-YYYYMM.DD.N" moves one week
 * ahead (N = 0); anything else gets "-r<k+1>" appended or bumped.
 */
void
emu_bump_image(const char *cur, char *out, size_t len)
{
	const char *dash = strrchr(cur, '-');
	int y, mo, d, n;
	char tail;

	if (dash != NULL &&
	    sscanf(dash + 1, "%4d%2d.%2d.%d%c", &y, &mo, &d, &n, &tail) == 4) {
		struct tm tm;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d + 7;
		tm.tm_hour = 12;
		t = timegm(&tm);
		gmtime_r(&t, &tm);
		snprintf(out, len, "%.*s-%04d%02d.%02d.0", (int)(dash - cur),
		    cur, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		return;
	}
	if (dash != NULL && dash[1] == 'r' && sscanf(dash + 2, "%d", &n) == 1) {
		snprintf(out, len, "%.*s-r%d", (int)(dash - cur), cur, n + 1);
		return;
	}
	snprintf(out, len, "%s-r1", cur);
}

char *
emu_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}
