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
 */
#include "job/base/table.h"

#include <stdarg.h>
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
	size_t nspooled;
	size_t spool_max, spool_bytes; /* table_spool_upto: 0 unbounded */
	int spool_dropped; /* past spool_max: rows measured, none held */
	/* the widest cell of each column not held: spooled or measured */
	size_t spool_w[MAX_COLS];
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
	t->spool_max = max;
	return 0;
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
	t->nspooled = 0;
	t->spool_dropped = 1;
}

size_t
table_rows_in_memory(const struct table *t)
{
	return t->nrows;
}

/*
 * Append a row to the spool: each cell and its NUL, in one fwrite when
 * the row fits a line (a call a cell cost 8 locked stdio calls a row).
 * Past the bound, measured only.
 */
static int
spool_row(struct table *t, va_list ap)
{
	const char *cell[MAX_COLS];
	size_t len[MAX_COLS], total = 0;
	char row[1024];

	for (size_t i = 0; i < t->ncols; i++) {
		cell[i] = va_arg(ap, const char *);
		if (cell[i] == NULL)
			cell[i] = "-";
		len[i] = strlen(cell[i]);
		if (len[i] > t->spool_w[i])
			t->spool_w[i] = len[i];
		total += len[i] + 1;
	}
	if (t->spool == NULL)
		return 0;
	if (t->spool_max > 0 && t->spool_bytes + total > t->spool_max) {
		spool_drop(t);
		return 0;
	}
	if (total <= sizeof(row)) {
		size_t n = 0;

		for (size_t i = 0; i < t->ncols; i++) {
			memcpy(row + n, cell[i], len[i] + 1);
			n += len[i] + 1;
		}
		if (fwrite(row, 1, n, t->spool) != n)
			goto fail;
	} else {
		for (size_t i = 0; i < t->ncols; i++)
			if (fwrite(cell[i], 1, len[i] + 1, t->spool) !=
			    len[i] + 1)
				goto fail;
	}
	t->spool_bytes += total;
	t->nspooled++;
	return 0;
fail:
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

int
table_add(struct table *t, ...)
{
	va_list ap;
	size_t base;

	if (t->spool != NULL || t->spool_dropped) {
		int rc;

		va_start(ap, t);
		rc = spool_row(t, ap);
		va_end(ap);
		return rc;
	}
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
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *v = va_arg(ap, const char *);

		t->cells[base + i] = cell_keep(t, v != NULL ? v : "-");
		if (t->cells[base + i] == NULL) {
			va_end(ap);
			log_err(NULL, "table: out of memory");
			return -1;
		}
	}
	va_end(ap);
	t->nrows++;
	return 0;
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

/* Print ${text} in lines of at most ${w}, breaking at spaces. */
static void
print_wrapped(FILE *out, const char *text, size_t w, size_t indent)
{
	size_t len = strlen(text);
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
 * A row is assembled in a line buffer and written with one fwrite: a list
 * of 100,000 rows made 16 locked stdio calls a row (a printf "%-*s%*s"
 * a cell), most of the cost of printing it.
 */
struct line {
	FILE *out;
	size_t n;
	char b[1024];
};

static void
line_flush(struct line *l)
{
	if (l->n > 0)
		fwrite(l->b, 1, l->n, l->out);
	l->n = 0;
}

static void
line_put(struct line *l, const char *s, size_t len)
{
	if (l->n + len > sizeof(l->b)) {
		line_flush(l);
		if (len > sizeof(l->b)) {
			fwrite(s, 1, len, l->out);
			return;
		}
	}
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

/* ${cell} left-aligned in ${w} columns, then the separator. */
static void
line_pad(struct line *l, const char *cell, size_t w)
{
	static const char spaces[] = "                                ";
	size_t len = strlen(cell), pad = (len < w ? w - len : 0) + SEP;

	if (l->n + len + pad <= sizeof(l->b)) {
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

static void
print_row(FILE *out, const struct table *t, const char *const *row,
    const size_t *w, const int *shown, size_t last, size_t wrap_w)
{
	struct line l;
	size_t col = 0;

	l.out = out;
	l.n = 0;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!shown[i])
			continue;
		if (i == last) {
			if (wrap_w > 0) {
				line_flush(&l);
				print_wrapped(out, row[i], wrap_w, col);
			} else {
				line_put(&l, row[i], strlen(row[i]));
			}
			break;
		}
		line_pad(&l, row[i], w[i]);
		col += w[i] + SEP;
	}
	line_put(&l, "\n", 1);
	line_flush(&l);
}

/*
 * The spooled rows, read back SPOOL_BUF at a time: a row is its ncols
 * NUL-ended cells (getdelim a cell cost a locked stdio call each).  A
 * row longer than the buffer grows it.
 */
static void
print_spooled(FILE *out, const struct table *t, const size_t *w,
    const int *shown, size_t last, size_t wrap_w)
{
	const char *row[MAX_COLS];
	size_t cap = SPOOL_BUF, have = 0, at = 0, r = 0;
	char *buf = malloc(cap);

	if (buf == NULL) {
		log_err(NULL, "table: out of memory");
		return;
	}
	if (fflush(t->spool) != 0 || fseek(t->spool, 0, SEEK_SET) != 0) {
		log_err(NULL, "table: cannot read its spool file back");
		goto done;
	}
	while (r < t->nspooled) {
		size_t p = at, i;

		/* the row's cells, if the buffer holds them all */
		for (i = 0; i < t->ncols; i++) {
			char *nul = memchr(buf + p, '\0', have - p);

			if (nul == NULL)
				break;
			row[i] = buf + p;
			p = (size_t)(nul - buf) + 1;
		}
		if (i == t->ncols) {
			print_row(out, t, row, w, shown, last, wrap_w);
			at = p;
			r++;
			continue;
		}
		/* else more of the file behind what is left */
		memmove(buf, buf + at, have - at);
		have -= at;
		at = 0;
		if (have == cap) {
			char *n = realloc(buf, cap * 2);

			if (n == NULL) {
				log_err(NULL, "table: out of memory");
				goto done;
			}
			buf = n;
			cap *= 2;
		}
		p = fread(buf + have, 1, cap - have, t->spool);
		if (p == 0) {
			log_err(NULL, "table: its spool file is short");
			goto done;
		}
		have += p;
	}
done:
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

	layout(t, out);
	for (size_t i = 0; i < t->ncols; i++)
		header[i] = t->cols[i].header;
	print_row(out, t, header, t->w, t->shown, t->last, t->wrap_w);
}

void
table_print_row(const struct table *t, FILE *out, ...)
{
	const char *row[MAX_COLS];
	va_list ap;

	va_start(ap, out);
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = va_arg(ap, const char *);
		if (row[i] == NULL)
			row[i] = "-";
	}
	va_end(ap);
	print_row(out, t, row, t->w, t->shown, t->last, t->wrap_w);
}

void
table_print(struct table *t, FILE *out)
{
	table_print_head(t, out);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(out, t, (const char *const *)&t->cells[r * t->ncols],
		    t->w, t->shown, t->last, t->wrap_w);
	if (t->spool != NULL)
		print_spooled(out, t, t->w, t->shown, t->last, t->wrap_w);
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
	if (t->spool != NULL)
		fclose(t->spool);
	free(t->spool_buf);
	free(t);
}
