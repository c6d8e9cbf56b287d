/*
 * table.c -- aligned tables sized to their content and to the terminal.
 *
 * Fixed printf widths shifted every column after a pool key longer than
 * its field and made lines of 130 to 230 characters.  Here each column is
 * as wide as its widest cell (or header), columns are separated by two
 * spaces, and when a width limit is known (table_width) the columns the
 * command marked as least important go first, then the last column, when
 * marked so, wraps onto continuation lines that start under it.  A
 * column that cannot go is never cut: an overlong line is better than a
 * wrong value.
 *
 * A table of every pool of a fleet (a run's report with -v, plan) would
 * hold every cell in memory until it prints; table_spool keeps the rows
 * in an unlinked temporary file instead, with the widest cell of each
 * column, and table_print reads them back: the same output for a memory
 * that does not grow with the rows.
 *
 * A bounded spool (table_spool_upto: `list`, `history`) past 16 MiB
 * (SPOOL_WHOLE), or half its bound when that is less, keeps each cell as
 * what it adds to the same column's cell of the row before: the lengths
 * of the prefix and of the suffix they share and what is between, or one
 * byte when it is the same.  A fleet's rows repeat their neighbours' pool
 * key, versions and states, and their times differ in a digit or two:
 * `history --changes` of a year at 10,000 pools (555,000 rows) spooled
 * 78 MB of cells, 28 MB so.  Past its bound a table is read from the
 * store twice (twice the instructions).  Below SPOOL_WHOLE, a cell is
 * kept whole and read back where it lies: the comparisons cost a list of
 * 130,000 rows (17 MB) a tenth of its instructions, and a spool that
 * small needs to be no smaller.
 */
#include "job/base/table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "job/base/log.h"
#include "job/base/util.h"

#define SEP 2
#define WRAP_MIN 30 /* narrower than this, drop more columns instead */
#define MAX_COLS 16
#define SPOOL_BUF (64 * 1024)
/* A bounded spool's cells are kept whole up to half its bound or this,
 * the smaller: then as what they add to the row before's. */
#define SPOOL_WHOLE ((size_t)16 * 1024 * 1024)

/* The held cells' texts, one after the other in chunks (a strdup a
 * cell was a fifth of baseline's instructions at 10,000 pools). */
struct cell_chunk {
	struct cell_chunk *next;
	size_t used, cap;
	char text[];
};

#define CELL_CHUNK 65536

struct table {
	const struct table_col *cols;
	size_t ncols;
	char **cells; /* nrows * ncols, into chunks */
	struct cell_chunk *chunks; /* the newest first */
	size_t nrows, cap;
	FILE *spool; /* table_spool: the rows, each cell NUL-ended */
	char *spool_buf; /* its stdio buffer */
	/* the rows not yet written: put together where they are written
	 * out from (spool_row), SPOOL_BUF at a time -- where an fwrite a
	 * row was a seventh of spooling `list`'s 130,000 rows; NULL: an
	 * fwrite a row */
	char *wbuf;
	size_t wlen;
	size_t nspooled;
	size_t spool_max, spool_bytes; /* table_spool_upto: 0 unbounded */
	int spool_dropped; /* past spool_max: rows measured, none held */
	/* the widest cell of each column not held: spooled or measured */
	size_t spool_w[MAX_COLS];
	/* the last spooled row's cells (what the next one's share) */
	char *prev[MAX_COLS];
	size_t prev_len[MAX_COLS], prev_cap[MAX_COLS];
	/* table_print_head: the layout every later row is printed in */
	size_t w[MAX_COLS], last, wrap_w;
	int shown[MAX_COLS];
};

struct table *
table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t;

	if (ncols == 0 || ncols > MAX_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		log_err(NULL, "table: out of memory");
		return NULL;
	}
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

int
table_spool(struct table *t)
{
	return table_spool_upto(t, 0);
}

int
table_spool_upto(struct table *t, size_t max)
{
	if (t->nrows > 0 || t->spool != NULL || t->spool_dropped)
		return -1;
	t->spool = util_tmpfile();
	if (t->spool == NULL)
		return -1;
	/* Written and read back SPOOL_BUF at a time, not 4 KiB. */
	t->spool_buf = malloc(SPOOL_BUF);
	if (t->spool_buf != NULL)
		(void)setvbuf(t->spool, t->spool_buf, _IOFBF, SPOOL_BUF);
	t->wbuf = malloc(SPOOL_BUF);
	t->wlen = 0;
	t->spool_max = max;
	return 0;
}

size_t
table_spool_bytes(const struct table *t)
{
	return t->spool != NULL ? t->spool_bytes : 0;
}

int
table_spool_complete(const struct table *t)
{
	return !t->spool_dropped;
}

/* Past table_spool_upto's bound: the spool goes, the rows are measured. */
static void
spool_drop(struct table *t)
{
	fclose(t->spool);
	t->spool = NULL;
	free(t->spool_buf);
	t->spool_buf = NULL;
	free(t->wbuf);
	t->wbuf = NULL;
	t->wlen = 0;
	t->nspooled = 0;
	t->spool_dropped = 1;
}

size_t
table_rows_in_memory(const struct table *t)
{
	return t->nrows;
}

/* The first of the 8 bytes at ${a} and ${b} that differ (0 to 8). */
static size_t
first_diff8(const char *a, const char *b)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x == y)
		return 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(x ^ y) / 8;
#else
	return (size_t)__builtin_clzll(x ^ y) / 8;
#endif
}

/* The length of the prefix ${a} and ${b} share, at most ${max} (both
 * hold that many bytes): eight bytes a step, the last eight where they
 * end, where a byte a step was three times the spool's other work. */
static size_t
shared(const char *a, const char *b, size_t max)
{
	size_t k = 0, d;

	if (max < 8) {
		while (k < max && a[k] == b[k])
			k++;
		return k;
	}
	for (; k + 8 <= max; k += 8) {
		d = first_diff8(a + k, b + k);
		if (d < 8)
			return k + d;
	}
	/* the bytes before k are equal: the first difference of the last
	 * eight is at k or after */
	return max - 8 + first_diff8(a + max - 8, b + max - 8);
}

/* Keep ${cell} (${len} bytes), sharing ${k} with the last one, as
 * column ${i}'s last spooled cell.  0/-1 (out of memory). */
static int
prev_keep(struct table *t, size_t i, const char *cell, size_t len, size_t k)
{
	if (len + 1 > t->prev_cap[i]) {
		size_t cap = t->prev_cap[i] != 0 ? t->prev_cap[i] : 64;
		char *p;

		while (cap < len + 1)
			cap *= 2;
		p = realloc(t->prev[i], cap);
		if (p == NULL)
			return -1;
		if (t->prev[i] == NULL)
			p[0] = '\0';
		t->prev[i] = p;
		t->prev_cap[i] = cap;
	}
	if (k != len || len != t->prev_len[i]) {
		memcpy(t->prev[i] + k, cell + k, len - k + 1);
		t->prev_len[i] = len;
	}
	return 0;
}

/* The length of the suffix ${a} and ${b} (each ending at its pointer)
 * share, at most ${max}: eight bytes a step, as shared. */
static size_t
shared_back(const char *a, const char *b, size_t max)
{
	size_t j = 0;

	for (; j + 8 <= max; j += 8) {
		uint64_t x, y;

		memcpy(&x, a - j - 8, 8);
		memcpy(&y, b - j - 8, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return j + (size_t)__builtin_clzll(x ^ y) / 8;
#else
			return j + (size_t)__builtin_ctzll(x ^ y) / 8;
#endif
		}
	}
	while (j < max && a[-1 - (ptrdiff_t)j] == b[-1 - (ptrdiff_t)j])
		j++;
	return j;
}

/* A cell's first byte: whole (its length and its bytes follow), the
 * same as the column's cell of the row before, or else 1 + the length
 * of the prefix they share (at most SHARED_MAX). */
#define WHOLE 0
#define SAME 255
#define SHARED_MAX 253

/* ${v} into ${dst}, 7 bits a byte, the low ones first.  Its length. */
static size_t
put_count(char *dst, size_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v & 127;

		v >>= 7;
		dst[n++] = (char)(v != 0 ? b | 128 : b);
	} while (v != 0);
	return n;
}

/* The count put_count wrote at ${buf}[${q}] into ${v}, read before
 * ${have}: where it ends, or 0 when it does not (more to read). */
static size_t
get_count(const char *buf, size_t q, size_t have, size_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (q < have && shift <= 56) {
		unsigned char b = (unsigned char)buf[q++];

		*v |= (size_t)(b & 127) << shift;
		shift += 7;
		if (!(b & 128))
			return q;
	}
	return 0;
}

/*
 * Cell ${i} of a spooled row (${c}, ${len} bytes), as the essay says,
 * into ${dst} (room for ${len} + 13): WHOLE, its length (put_count)
 * and its bytes; SAME; or 1 + the length of the prefix it shares with
 * the row before's, that of the suffix, that of what is between
 * (put_count) and what is between.  Its length.  The cell becomes the
 * one the next row's shares with.  Out of memory: ${*oom} set.
 */
static size_t
cell_code(
    struct table *t, size_t i, const char *c, size_t len, char *dst, int *oom)
{
	size_t k = 0, j = 0, mid, n = 0;

	if (t->prev[i] != NULL) {
		size_t max = len < t->prev_len[i] ? len : t->prev_len[i], back;

		k = shared(c, t->prev[i], max < SHARED_MAX ? max : SHARED_MAX);
		if (k == len && len == t->prev_len[i]) {
			dst[0] = (char)SAME;
			return 1;
		}
		back = max - k < 255 ? max - k : 255;
		j = shared_back(c + len, t->prev[i] + t->prev_len[i], back);
	}
	if (prev_keep(t, i, c, len, k)) {
		*oom = 1;
		return 0;
	}
	if (k == 0 && j == 0) {
		dst[0] = WHOLE;
		n = 1 + put_count(dst + 1, len);
		memcpy(dst + n, c, len);
		return n + len;
	}
	dst[n++] = (char)(k + 1);
	dst[n++] = (char)j;
	mid = len - k - j;
	n += put_count(dst + n, mid);
	memcpy(dst + n, c + k, mid);
	return n + mid;
}

/*
 * ${n} bytes at ${p} written to the spool.  With t->wbuf, by write(2)
 * on its descriptor (the rows are put together where they are written
 * from: stdio's copy into its buffer would be one more; print_spooled's
 * fflush and fseek read the file from its start), else by stdio (the
 * spool is the table's alone: no lock to take).  0/-1.
 */
static int
spool_write(struct table *t, const char *p, size_t n)
{
	int fd = fileno(t->spool);

	if (t->wbuf == NULL)
		return fwrite_unlocked(p, 1, n, t->spool) == n ? 0 : -1;
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The rows put together in t->wbuf written to the spool.  0/-1. */
static int
wbuf_flush(struct table *t)
{
	if (t->wlen > 0 && spool_write(t, t->wbuf, t->wlen))
		return -1;
	t->wlen = 0;
	return 0;
}

/*
 * Append a row to the spool: put together in t->wbuf, written out with
 * the rows before it when it is full (an fwrite a row without it; a
 * call a cell cost 8 locked stdio calls a row): its cells whole, or
 * past half the bound coded by cell_code.  Past the bound, measured
 * only.
 */
static int
spool_row(struct table *t, const char *const *cell, const size_t *len)
{
	size_t need = 0, n = 0;
	char stack[1024], *row = stack;
	int shrink, oom = 0, in_wbuf = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		if (len[i] > t->spool_w[i])
			t->spool_w[i] = len[i];
		need += len[i] + 13;
	}
	if (t->spool == NULL)
		return 0;
	stack[0] = '\0'; /* (GCC cannot tell cell_code writes it) */
	if (t->wbuf != NULL && need <= SPOOL_BUF) {
		if (t->wlen + need > SPOOL_BUF && wbuf_flush(t))
			goto fail;
		row = t->wbuf + t->wlen;
		in_wbuf = 1;
	} else if (need > sizeof(stack)) {
		row = malloc(need);
		if (row == NULL)
			goto fail;
	}
	shrink = t->spool_max > 0 &&
	    t->spool_bytes > (t->spool_max / 2 < SPOOL_WHOLE ? t->spool_max / 2
	                                                     : SPOOL_WHOLE);
	for (size_t i = 0; i < t->ncols && !oom; i++) {
		if (shrink) {
			n += cell_code(t, i, cell[i], len[i], row + n, &oom);
			continue;
		}
		row[n++] = WHOLE;
		n += put_count(row + n, len[i]);
		memcpy(row + n, cell[i], len[i]);
		n += len[i];
	}
	if (oom)
		goto fail;
	if (t->spool_max > 0 && t->spool_bytes + n > t->spool_max) {
		if (row != stack && !in_wbuf)
			free(row);
		spool_drop(t);
		return 0;
	}
	if (in_wbuf) {
		t->wlen += n;
	} else {
		/* after the rows before it */
		if (wbuf_flush(t) || spool_write(t, row, n))
			goto fail;
		if (row != stack)
			free(row);
	}
	t->spool_bytes += n;
	t->nspooled++;
	return 0;
fail:
	if (row != stack && !in_wbuf)
		free(row);
	/* A bounded spool is an economy: its rows are read again. */
	if (t->spool_max > 0) {
		spool_drop(t);
		return 0;
	}
	log_err(NULL, "table: cannot write its spool file");
	return -1;
}

/* A copy of ${v} in ${t}'s chunks (freed with the table), or NULL. */
static char *
cell_keep(struct table *t, const char *v)
{
	size_t len = strlen(v) + 1;
	struct cell_chunk *c = t->chunks;
	char *p;

	if (c == NULL || c->used + len > c->cap) {
		size_t cap = len > CELL_CHUNK ? len : CELL_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = t->chunks;
		c->used = 0;
		c->cap = cap;
		t->chunks = c;
	}
	p = c->text + c->used;
	memcpy(p, v, len);
	c->used += len;
	return p;
}

/* A row of ${cell} (none NULL) held in memory.  0/-1 (logged). */
static int
add_held(struct table *t, const char *const *cell)
{
	size_t base;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));

		if (n == NULL) {
			log_err(NULL, "table: out of memory");
			return -1;
		}
		t->cells = n;
		t->cap = ncap;
	}
	base = t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		t->cells[base + i] = cell_keep(t, cell[i]);
		if (t->cells[base + i] == NULL) {
			log_err(NULL, "table: out of memory");
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

int
table_add(struct table *t, ...)
{
	const char *cell[MAX_COLS];
	size_t len[MAX_COLS];
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		cell[i] = va_arg(ap, const char *);
		if (cell[i] == NULL)
			cell[i] = "-";
	}
	va_end(ap);
	if (t->spool == NULL && !t->spool_dropped)
		return add_held(t, cell);
	for (size_t i = 0; i < t->ncols; i++)
		len[i] = strlen(cell[i]);
	return spool_row(t, cell, len);
}

int
table_add_n(struct table *t, const char *const *cell, const size_t *len)
{
	if (t->spool == NULL && !t->spool_dropped)
		return add_held(t, cell);
	return spool_row(t, cell, len);
}

int
table_measure(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *v = va_arg(ap, const char *);
		size_t l = v != NULL ? strlen(v) : 1; /* "-" */

		if (l > t->spool_w[i])
			t->spool_w[i] = l;
	}
	va_end(ap);
	return 0;
}

size_t
table_width(FILE *out)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long v;

	if (env != NULL && env[0] != '\0') {
		v = strtol(env, &end, 10);
		if (*end == '\0' && v >= 20 && v <= 10000)
			return (size_t)v;
	}
	if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* Width of the shown columns; the last one counted as ${last_w}. */
static size_t
total(const size_t *w, const int *shown, size_t n, size_t last, size_t last_w)
{
	size_t sum = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!shown[i])
			continue;
		sum += (i == last ? last_w : w[i]) + (k++ ? SEP : 0);
	}
	return sum;
}

static size_t
last_shown(const int *shown, size_t n)
{
	size_t last = 0;

	for (size_t i = 0; i < n; i++)
		if (shown[i])
			last = i;
	return last;
}

/* Print ${text} (${len} bytes) in lines of at most ${w}, breaking at
 * spaces. */
static void
print_wrapped(FILE *out, const char *text, size_t len, size_t w, size_t indent)
{
	int first = 1;

	while (len > 0) {
		size_t cut = len;

		if (len > w) {
			cut = w;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = w;
		}
		if (!first)
			fprintf(out, "\n%*s", (int)indent, "");
		fwrite(text, 1, cut, out);
		first = 0;
		text += cut;
		len -= cut;
		while (len > 0 && *text == ' ') {
			text++;
			len--;
		}
	}
}

/*
 * Rows are assembled in a line buffer and written with one fwrite: a
 * list of 100,000 rows made 16 locked stdio calls a row (a printf
 * "%-*s%*s" a cell), most of the cost of printing it.  table_print's
 * rows go into one buffer of LINES_BUF, written when full: an fwrite a
 * row was a tenth of printing a history of 555,000.
 */
#define LINES_BUF (64 * 1024)

struct line {
	FILE *out;
	size_t n, cap;
	char *b;
	/* table_print of a table with no wrap: its buffer written by
	 * write(2) on out's descriptor, after out's own (fflush), where
	 * fwrite copied it into out's buffer first (a list of 19 MB: 3 %
	 * of its instructions); -1: by fwrite */
	int fd;
};

/* ${n} bytes at ${p} to ${l}'s output.  A failed write is dropped, as
 * stdio drops it. */
static void
line_out(struct line *l, const char *p, size_t n)
{
	if (l->fd < 0) {
		fwrite(p, 1, n, l->out);
		return;
	}
	if (fflush(l->out) != 0)
		return;
	while (n > 0) {
		ssize_t k = write(l->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

static void
line_flush(struct line *l)
{
	if (l->n > 0)
		line_out(l, l->b, l->n);
	l->n = 0;
}

static void
line_put(struct line *l, const char *s, size_t len)
{
	if (l->n + len > l->cap) {
		line_flush(l);
		if (len > l->cap) {
			line_out(l, s, len);
			return;
		}
	}
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

/* ${cell} (${len} bytes) left-aligned in ${w} columns, then the
 * separator. */
static void
line_pad(struct line *l, const char *cell, size_t len, size_t w)
{
	static const char spaces[] = "                                ";
	size_t pad = (len < w ? w - len : 0) + SEP;

	if (l->n + len + pad <= l->cap) {
		memcpy(l->b + l->n, cell, len);
		memset(l->b + l->n + len, ' ', pad);
		l->n += len + pad;
		return;
	}
	line_put(l, cell, len);
	while (pad > 0) {
		size_t n = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;

		line_put(l, spaces, n);
		pad -= n;
	}
}

/*
 * print_row's usual row, when it has room in ${l}: no wrap, and each
 * cell but the last within its column, so that the columns' blanks are
 * one memset and each cell is copied where its column starts (a memset
 * a cell was a tenth of printing a history).  1 when printed, 0 when
 * the row is not one of those (nothing printed).
 */
static int
print_row_fast(struct line *l, const struct table *t, const char *const *row,
    const size_t *len, const size_t *w, const int *shown, size_t last)
{
	size_t n[MAX_COLS], width = 0, at;
	char *b;

	n[last] = 0; /* (shown, but GCC cannot tell) */
	for (size_t i = 0; i < t->ncols; i++) {
		if (!shown[i])
			continue;
		n[i] = len != NULL ? len[i] : strlen(row[i]);
		if (i == last)
			break;
		if (n[i] > w[i])
			return 0;
		width += w[i] + SEP;
	}
	if (width + n[last] + 1 > l->cap)
		return 0;
	if (l->n + width + n[last] + 1 > l->cap)
		line_flush(l);
	b = l->b + l->n;
	memset(b, ' ', width);
	at = 0;
	for (size_t i = 0; i < last; i++) {
		if (!shown[i])
			continue;
		memcpy(b + at, row[i], n[i]);
		at += w[i] + SEP;
	}
	memcpy(b + at, row[last], n[last]);
	b[at + n[last]] = '\n';
	l->n += at + n[last] + 1;
	return 1;
}

/* A row of ${t} (its cells' lengths ${len}, NULL: strlen) into ${l}. */
static void
print_row(struct line *l, const struct table *t, const char *const *row,
    const size_t *len, const size_t *w, const int *shown, size_t last,
    size_t wrap_w)
{
	size_t col = 0;

	if (wrap_w == 0 && print_row_fast(l, t, row, len, w, shown, last))
		return;

	for (size_t i = 0; i < t->ncols; i++) {
		size_t n;

		if (!shown[i])
			continue;
		n = len != NULL ? len[i] : strlen(row[i]);
		if (i == last) {
			if (wrap_w > 0) {
				line_flush(l);
				print_wrapped(l->out, row[i], n, wrap_w, col);
			} else {
				line_put(l, row[i], n);
			}
			break;
		}
		line_pad(l, row[i], n, w[i]);
		col += w[i] + SEP;
	}
	line_put(l, "\n", 1);
}

/*
 * Up to ${n} bytes of the spool into ${p}: by read(2) when it was
 * written so (t->wbuf: stdio holds nothing of it past print_spooled's
 * fflush and fseek), where fread copied every byte once more from its
 * buffer (a tenth of reading `list`'s back); else by stdio.  0: its
 * end, or an error.
 */
static size_t
spool_read(const struct table *t, char *p, size_t n)
{
	ssize_t k;

	if (t->wbuf == NULL)
		return fread(p, 1, n, t->spool);
	do
		k = read(fileno(t->spool), p, n);
	while (k < 0 && errno == EINTR);
	return k > 0 ? (size_t)k : 0;
}

/*
 * The spooled rows, read back SPOOL_BUF at a time: a row is its ncols
 * cells as cell_code wrote them (getdelim a cell cost a locked stdio call
 * each), a whole one printed where it lies, one that shares with the
 * row before's put together again in a buffer a column as wide as its
 * widest cell.  A row longer than the read buffer grows it.
 */
static void
print_spooled(struct line *out, const struct table *t, const size_t *w,
    const int *shown, size_t last, size_t wrap_w)
{
	const char *row[MAX_COLS];
	char *cur[MAX_COLS] = {0};
	size_t rowlen[MAX_COLS] = {0};
	size_t cap = SPOOL_BUF, have = 0, at = 0, r = 0;
	char *buf = malloc(cap);

	for (size_t i = 0; i < t->ncols; i++) {
		cur[i] = malloc(t->spool_w[i] + 1);
		if (cur[i] == NULL)
			goto oom;
		cur[i][0] = '\0';
		row[i] = cur[i];
	}
	if (buf == NULL)
		goto oom;
	if (fflush(t->spool) != 0 || fseek(t->spool, 0, SEEK_SET) != 0) {
		log_err(NULL, "table: cannot read its spool file back");
		goto done;
	}
	while (r < t->nspooled) {
		size_t p = at, i;

		/* the row's cells, if the buffer holds them all (a cell put
		 * together again before the buffer ran out is put together
		 * the same once it is read further) */
		for (i = 0; i < t->ncols; i++) {
			size_t k, j, mid, q;

			if (p >= have)
				break;
			k = (unsigned char)buf[p];
			if (k == SAME) {
				/* row[i] is the row before's */
				p++;
				continue;
			}
			if (k == WHOLE) {
				/* read where it is */
				q = get_count(buf, p + 1, have, &mid);
				if (q == 0 || have - q < mid)
					break;
				if (mid > t->spool_w[i])
					goto corrupt;
				row[i] = buf + q;
				rowlen[i] = mid;
				p = q + mid;
				continue;
			}
			k--;
			if (p + 1 >= have)
				break;
			j = (unsigned char)buf[p + 1];
			q = get_count(buf, p + 2, have, &mid);
			if (q == 0 || have - q < mid)
				break;
			if (k + mid + j > t->spool_w[i] || k + j > rowlen[i])
				goto corrupt;
			if (row[i] != cur[i])
				memcpy(cur[i], row[i], rowlen[i]);
			memmove(cur[i] + k + mid, cur[i] + rowlen[i] - j, j);
			memcpy(cur[i] + k, buf + q, mid);
			rowlen[i] = k + mid + j;
			cur[i][rowlen[i]] = '\0';
			row[i] = cur[i];
			p = q + mid;
		}
		if (i == t->ncols) {
			print_row(out, t, row, rowlen, w, shown, last, wrap_w);
			at = p;
			r++;
			continue;
		}
		/* else more of the file behind what is left; the last
		 * row's cells read where they were kept first */
		for (i = 0; i < t->ncols; i++)
			if (row[i] != cur[i]) {
				memcpy(cur[i], row[i], rowlen[i]);
				cur[i][rowlen[i]] = '\0';
				row[i] = cur[i];
			}
		memmove(buf, buf + at, have - at);
		have -= at;
		at = 0;
		if (have == cap) {
			char *n = realloc(buf, cap * 2);

			if (n == NULL)
				goto oom;
			buf = n;
			cap *= 2;
		}
		p = spool_read(t, buf + have, cap - have);
		if (p == 0) {
			log_err(NULL, "table: its spool file is short");
			goto done;
		}
		have += p;
	}
	goto done;
corrupt:
	log_err(NULL, "table: its spool file is corrupt");
	goto done;
oom:
	log_err(NULL, "table: out of memory");
done:
	for (size_t i = 0; i < t->ncols; i++)
		free(cur[i]);
	free(buf);
}

/*
 * Fix the layout of ${t} for ${out}: each column as wide as its widest
 * cell (held, spooled or measured) or header, the columns that fit the
 * width, and the wrap of the last one.
 */
static void
layout(struct table *t, FILE *out)
{
	size_t *w = t->w, limit = table_width(out), last;
	int *shown = t->shown;

	t->wrap_w = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		w[i] = strlen(t->cols[i].header);
		if (t->spool_w[i] > w[i])
			w[i] = t->spool_w[i];
		shown[i] = 1;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = strlen(t->cells[r * t->ncols + i]);

			if (l > w[i])
				w[i] = l;
		}
	}
	last = last_shown(shown, t->ncols);
	while (limit > 0) {
		size_t lw = w[last], drop = t->ncols;
		int most = 0;

		if (t->cols[last].wrap && lw > WRAP_MIN)
			lw = WRAP_MIN;
		if (total(w, shown, t->ncols, last, lw) <= limit)
			break;
		for (size_t i = 0; i < t->ncols; i++)
			if (shown[i] && t->cols[i].drop > most) {
				most = t->cols[i].drop;
				drop = i;
			}
		if (drop == t->ncols)
			break;
		shown[drop] = 0;
		last = last_shown(shown, t->ncols);
	}
	if (limit > 0 && t->cols[last].wrap &&
	    total(w, shown, t->ncols, last, w[last]) > limit) {
		size_t others = total(w, shown, t->ncols, last, 0);

		t->wrap_w =
		    limit > others + WRAP_MIN ? limit - others : WRAP_MIN;
	}
	t->last = last;
}

void
table_print_head(struct table *t, FILE *out)
{
	const char *header[MAX_COLS];
	char b[1024];
	struct line l = {out, 0, sizeof(b), b, -1};

	layout(t, out);
	for (size_t i = 0; i < t->ncols; i++)
		header[i] = t->cols[i].header;
	print_row(&l, t, header, NULL, t->w, t->shown, t->last, t->wrap_w);
	line_flush(&l);
}

void
table_print_row(const struct table *t, FILE *out, ...)
{
	const char *row[MAX_COLS];
	char b[1024];
	struct line l = {out, 0, sizeof(b), b, -1};
	va_list ap;

	va_start(ap, out);
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = va_arg(ap, const char *);
		if (row[i] == NULL)
			row[i] = "-";
	}
	va_end(ap);
	print_row(&l, t, row, NULL, t->w, t->shown, t->last, t->wrap_w);
	line_flush(&l);
}

void
table_print(struct table *t, FILE *out)
{
	char small[1024];
	struct line l = {out, 0, LINES_BUF, malloc(LINES_BUF), -1};

	if (l.b == NULL) {
		l.b = small;
		l.cap = sizeof(small);
	}
	table_print_head(t, out);
	/* (print_wrapped writes to out itself) */
	if (t->wrap_w == 0 && l.b != small)
		l.fd = fileno(out);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(&l, t, (const char *const *)&t->cells[r * t->ncols],
		    NULL, t->w, t->shown, t->last, t->wrap_w);
	if (t->spool != NULL && t->wbuf != NULL && wbuf_flush(t))
		log_err(NULL, "table: cannot write its spool file");
	else if (t->spool != NULL)
		print_spooled(&l, t, t->w, t->shown, t->last, t->wrap_w);
	line_flush(&l);
	if (l.b != small)
		free(l.b);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	while (t->chunks != NULL) {
		struct cell_chunk *c = t->chunks;

		t->chunks = c->next;
		free(c);
	}
	free(t->cells);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->prev[i]);
	if (t->spool != NULL)
		fclose(t->spool);
	free(t->spool_buf);
	free(t->wbuf);
	free(t);
}
