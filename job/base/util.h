#ifndef AKSNAP_UTIL_H
#define AKSNAP_UTIL_H

/*
 * util.h -- small parsers and helpers shared by every module: durations,
 * booleans, integers, RFC 3339 times, bounded string copies, capped file
 * reads, request ids.  Nothing here logs; failures return -1 (and, where a
 * caller needs it, say why in a caller's buffer).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/*
 * util_parse_duration(s, out):
 * Parse "90", "90s", "15m", "6h", "2d", "1w" (also combined: "1d12h") into
 * seconds.  A bare number means seconds.  Return 0, or -1 if ${s} is not a
 * duration or overflows.
 */
int util_parse_duration(const char *s, long long *out);

/*
 * util_format_duration(secs, buf, len):
 * Write the shortest exact form ("7d", "36h", "90s") into ${buf}.
 */
void util_format_duration(long long secs, char *buf, size_t len);

/* util_parse_bool(s, out): yes/no/true/false/on/off/1/0 (any case). 0 or -1. */
int util_parse_bool(const char *s, int *out);

/* util_parse_int(s, min, max, out): a whole decimal number in [min, max]. 0 or
 * -1. */
int util_parse_int(const char *s, long long min, long long max, long long *out);

/*
 * util_parse_time(s, out):
 * Parse an RFC 3339 time ("2026-03-16T03:00:00Z", "...+01:00", fractional
 * seconds allowed and dropped, "T" or space) into a time_t.  0 or -1.
 */
int util_parse_time(const char *s, time_t *out);

/*
 * util_format_lld(v, buf): ${v} in decimal as printf's "%lld" writes it,
 * into ${buf} (UTIL_LLD_MAX bytes) and NUL-terminated; its length.
 * Without printf: the report and history write millions of numbers.
 */
#define UTIL_LLD_MAX 21
size_t util_format_lld(long long v, char *buf);

/*
 * util_format_time(t, buf, len):
 * "YYYY-mm-ddTHH:MM:SSZ" in UTC.  ${len} should be at least 21.
 */
void util_format_time(time_t t, char *buf, size_t len);

/*
 * util_strlcpy(dst, src, size):
 * Copy with truncation, always NUL-terminated; return strlen(src) so that a
 * result >= size means truncation.
 */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/*
 * util_fnv1a32(s), util_fnv1a64(s):
 * The FNV-1a hash of the string ${s}, 32 or 64 bits: stable across runs
 * and machines (snapshot names, colours), cheap (hash tables).  Not for
 * anything an adversary chooses to collide.
 */
uint32_t util_fnv1a32(const char *s);
uint64_t util_fnv1a64(const char *s);

/*
 * util_read_file(path, max, out, outlen, err, errlen):
 * Read a whole file of at most ${max} bytes into a NUL-terminated malloc'd
 * buffer (caller frees).  Return 0, or -1 with the reason in ${err}.
 */
int util_read_file(const char *path, size_t max, char **out, size_t *outlen,
    char *err, size_t errlen);

/*
 * util_tmpfile():
 * A new, already unlinked temporary file open for reading and writing, in
 * $TMPDIR when it is set and not empty, else in /tmp (glibc's tmpfile()
 * never looks at TMPDIR).  Return it, or NULL with errno set.
 */
FILE *util_tmpfile(void);

/* util_uuid4(buf): a random RFC 4122 version 4 UUID, lower case, 37 bytes. */
void util_uuid4(char buf[37]);

/* util_now(): the current time; the one place that reads the clock. */
time_t util_now(void);

/* util_monotonic_ms(): monotonic milliseconds, for timeouts and backoff. */
int64_t util_monotonic_ms(void);

/* util_sleep_ms(ms): sleep, restarting on EINTR. */
void util_sleep_ms(int64_t ms);

/*
 * A growable byte buffer with a hard cap: appending past ${max} fails and
 * sets ${overflow}, so a body is never silently truncated.
 */
struct buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

/* buf_init(b, max): empty buffer that will hold at most ${max} bytes. */
void buf_init(struct buf *b, size_t max);
/* buf_append(b, p, n): 0, or -1 when it would exceed max (overflow set) or on
 * ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
/* buf_printf(b, fmt, ...): append formatted text. 0 or -1. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* buf_free(b): release the data; the struct may be reused after buf_init. */
void buf_free(struct buf *b);

#endif
