/*
 * report_html.c -- `aksnap report --html`: the report as one page.
 *
 * The page must open anywhere, offline, years later, from an attachment
 * to a change review: so it is one file with its CSS inline, its pictures
 * as inline SVG, no script and no URL at all.  What would need a script
 * is done by HTML itself: <details> collapses a cluster's timelines,
 * <title> inside SVG gives a mark its tooltip, a title attribute gives
 * every date its UTC form.
 *
 * Everything that came from the store or the configuration -- pool
 * names, versions, reasons, errors -- goes through esc(), in text and in
 * attributes alike.
 *
 * Size: each pool costs its own rows (a matrix row, one SVG, a table of
 * promotions) and nothing else: the styles are shared classes, the
 * version colours are computed, not looked up in a per-page table, and
 * the tick labels are drawn once per cluster.  So the page grows linearly
 * with the fleet, and a 1,000-pool fleet stays readable because every
 * cluster's timelines fold away (closed by default past 40 pools).
 *
 * The layout arithmetic (time to x, lanes for crowded marks, tick
 * spacing) is job/rules/timeline.c.
 */
#include "job/cmd/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/base/version.h"
#include "job/rules/timeline.h"

#define W 900.0 /* the timeline's drawing width, px */
#define IMG_Y 4
#define IMG_H 18
#define K8S_Y 25
#define K8S_H 13
#define MARKS_Y 53 /* the first lane's centre */
#define LANE_H 13
#define MARK_W 11.0 /* marks closer than this go to another lane */
#define MAX_LANES 4
#define OPEN_UP_TO 40 /* clusters start open when the page has <= pools */
#define OPEN_DRIFTING_UP_TO 200 /* else those drifting, up to so many */

/* ---- text ---- */

/*
 * The page is written through struct out: a buffer over the stream,
 * written out by one fwrite when full or at a pool's end, and numbers
 * put in by hand, not by printf.  At 10,000 pools the page is 221 MB in
 * some 20 million pieces; stdio's lock and call a piece and printf's
 * parsing of its format (its floats most: __printf_fp) were 7.7 G of
 * 14 G instructions.
 */
#define OUT_BUF 16384

/* A time as the page writes it, wall clock and UTC (when_of). */
struct when_slot {
	time_t t;
	int set;
	char local[32], utc[32];
};

/* The pools' times repeat (a run's marks share its time): each is
 * formatted once while it stays in a direct-mapped cache of this many
 * (tz_localtime and the two texts: 0.6 G instructions at 10,000
 * pools). */
#define WHEN_SLOTS 512

struct out {
	FILE *f;
	size_t len;
	int failed; /* a write failed */
	struct when_slot *when; /* WHEN_SLOTS, or NULL: formatted each time */
	struct when_slot one; /* the last one, without the cache */
	char buf[OUT_BUF];
};

/* A new buffer over ${f} (may be set later).  NULL when out of memory
 * (logged). */
static struct out *
out_new(FILE *f)
{
	struct out *o = malloc(sizeof(*o));

	if (o == NULL) {
		log_err(NULL, "report: out of memory");
		return NULL;
	}
	o->f = f;
	o->len = 0;
	o->failed = 0;
	o->when = NULL;
	o->one.set = 0;
	return o;
}

/* Write what ${o} holds to its stream.  0, or -1 when a write failed
 * (this one or one before). */
static int
o_flush(struct out *o)
{
	if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = 1;
	o->len = 0;
	return o->failed ? -1 : 0;
}

static void
o_write(struct out *o, const char *s, size_t n)
{
	if (n > OUT_BUF - o->len) {
		(void)o_flush(o);
		if (n > OUT_BUF) {
			if (fwrite(s, 1, n, o->f) != n)
				o->failed = 1;
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
o_puts(struct out *o, const char *s)
{
	o_write(o, s, strlen(s));
}

static void
o_putc(struct out *o, int c)
{
	if (o->len == OUT_BUF)
		(void)o_flush(o);
	o->buf[o->len++] = (char)c;
}

/* printf into ${o}, for what is written once a page or a cluster. */
static void o_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
o_printf(struct out *o, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->failed = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		o_write(o, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		o->failed = 1;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o_write(o, big, (size_t)n);
	free(big);
}

/* An integer, as printf's %lld (%d, %zu, %u of values in range). */
static void
o_int(struct out *o, long long v)
{
	char digits[UTIL_LLD_MAX];

	o_write(o, digits, util_format_lld(v, digits));
}

/*
 * report_tenths: tenths counted in an integer, rounded as printf rounds
 * the exact binary value (to nearest, ties to even).  |v| * 10 is |v| * 8
 * + |v| * 2, both exact, so the sum's rounding error is exact too (Fast
 * TwoSum): the integer part and fraction of the rounded product, and the
 * sign of that error where the fraction is one half, say which way the
 * exact product rounds -- the page's x are a multiple of 1.25 at every
 * hour, ties printf breaks to even ("1.2" for 1.25).  A fraction's
 * distance from one half is 0 or at least the product's ulp, larger
 * than the error, below 2^52.  Large values, infinities and NaN go to
 * printf.  printf signs a negative value that rounds to 0 ("-0.0"), as
 * signbit does here.
 */
size_t
report_tenths(double v, char *buf, size_t len)
{
	double a = v < 0 ? -v : v, a8, a2, t, err, frac;
	unsigned long long n, whole;
	char digits[24];
	size_t k = sizeof(digits), out = 0;
	int w;

	if (a < 1e14 && len >= 32) {
		a8 = a * 8.0;
		a2 = a * 2.0;
		t = a8 + a2;
		err = a2 - (t - a8); /* a * 10 - t, exactly */
		n = (unsigned long long)t;
		frac = t - (double)n;
		if (frac > 0.5 ||
		    (frac == 0.5 && (err > 0 || (err == 0 && n % 2 == 1))))
			n++;
		whole = n / 10;
		do {
			digits[--k] = (char)('0' + whole % 10);
			whole /= 10;
		} while (whole != 0);
		if (signbit(v))
			buf[out++] = '-';
		memcpy(buf + out, digits + k, sizeof(digits) - k);
		out += sizeof(digits) - k;
		buf[out++] = '.';
		buf[out++] = (char)('0' + n % 10);
		buf[out] = '\0';
		return out;
	}
	w = snprintf(buf, len, "%.1f", v);
	return w < 0 ? 0 : (size_t)w < len ? (size_t)w : len - 1;
}

/* ${v} as printf's %.1f (the SVG's coordinates). */
static void
o_f1(struct out *o, double v)
{
	char buf[512]; /* %.1f of DBL_MAX: 309 digits */

	o_write(o, buf, report_tenths(v, buf, sizeof(buf)));
}

/* ${s} HTML-escaped: the runs between the characters to escape written
 * whole (a character at a time, fputc was a quarter of the page's CPU
 * at 10,000 pools). */
static void
esc(struct out *f, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "&<>\"'");

		if (n > 0)
			o_write(f, s, n);
		s += n;
		switch (*s) {
		case '\0':
			return;
		case '&':
			o_puts(f, "&amp;");
			break;
		case '<':
			o_puts(f, "&lt;");
			break;
		case '>':
			o_puts(f, "&gt;");
			break;
		case '"':
			o_puts(f, "&quot;");
			break;
		default:
			o_puts(f, "&#39;");
			break;
		}
		s++;
	}
}

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* ${a}${kind}${b}${x}${c}${y}${d}: a glyph's element at (x, y). */
static void
at2(struct out *f, const char *a, const char *kind, const char *b, double x,
    const char *c, double y, const char *d)
{
	o_puts(f, a);
	o_puts(f, kind);
	o_puts(f, b);
	o_f1(f, x);
	o_puts(f, c);
	o_f1(f, y);
	o_puts(f, d);
}

/* ${t} as the reader's wall clock and in UTC, from ${f}'s cache. */
static const struct when_slot *
when_of(struct out *f, const struct report *r, time_t t)
{
	struct when_slot *w =
	    f->when != NULL ? &f->when[(uint64_t)t % WHEN_SLOTS] : &f->one;

	if (!w->set || w->t != t) {
		report_format_local(t, r->tz, w->local, sizeof(w->local));
		util_format_time(t, w->utc, sizeof(w->utc));
		w->t = t;
		w->set = 1;
	}
	return w;
}

/* A date as the reader's wall clock, with UTC on hover. */
static void
when(struct out *f, const struct report *r, time_t t)
{
	const struct when_slot *w;

	if (t == 0) {
		o_puts(f, "-");
		return;
	}
	w = when_of(f, r, t);
	o_puts(f, "<time datetime=\"");
	o_puts(f, w->utc);
	o_puts(f, "\" title=\"");
	o_puts(f, w->utc);
	o_puts(f, "\">");
	o_puts(f, w->local);
	o_puts(f, "</time>");
}

/* The same, for a tooltip (plain text). */
static void
when_text(struct out *f, const struct report *r, time_t t)
{
	const struct when_slot *w = when_of(f, r, t);

	o_puts(f, w->local);
	o_puts(f, " (");
	o_puts(f, w->utc);
	o_putc(f, ')');
}

/* ${v} >= 0 in decimal at ${p}; the end. */
static char *
decimal(char *p, long long v)
{
	char digits[24];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(p, digits + n, sizeof(digits) - n);
	return p + (sizeof(digits) - n);
}

/* "12d 3h", "5h", "40m", "-" for < 0 (digits by hand, not snprintf:
 * two a mark) */
#define SPAN_LEN 48 /* two long longs' digits and "d h" */
static void
span_text(long long secs, char buf[SPAN_LEN])
{
	char *p = buf;

	if (secs < 0) {
		util_strlcpy(buf, "-", SPAN_LEN);
		return;
	}
	if (secs >= 86400) {
		p = decimal(p, secs / 86400);
		*p++ = 'd';
		if (secs % 86400 >= 3600) {
			*p++ = ' ';
			p = decimal(p, secs % 86400 / 3600);
			*p++ = 'h';
		}
	} else if (secs >= 3600) {
		p = decimal(p, secs / 3600);
		*p++ = 'h';
	} else {
		p = decimal(p, secs / 60);
		*p++ = 'm';
	}
	*p = '\0';
}

/* A stable colour per version string: FNV-1a to a hue. */
static unsigned
hue_of(const char *s)
{
	return (unsigned)(util_fnv1a32(s) % 360u);
}

/* The part of a node image version that tells images apart at a glance:
 * the date suffix ("202611.01.0"), else the whole string. */
static const char *
image_short(const char *image)
{
	const char *dash_at = strrchr(image, '-');

	return dash_at != NULL && dash_at[1] != '\0' ? dash_at + 1 : image;
}

/* A verdict as a CSS class (v-NAME): letters, digits and '-' only. */
static void
verdict_cell(struct out *f, const char *verdict)
{
	o_puts(f, "v-");
	for (const char *p = verdict; *p != '\0'; p++)
		o_putc(f,
		    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p
		                                                         : '-');
}

/* The same, as a pill. */
static void
verdict_class(struct out *f, const char *verdict)
{
	o_puts(f, "v ");
	verdict_cell(f, verdict);
}

/* ---- the page frame ---- */

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;color:#1f2328;background:#f6f8fa;margin:0}"
    "main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}"
    "h1{font-size:22px;margin:8px 0 2px}"
    "h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;"
    "padding-bottom:4px}"
    ".sub{color:#59636e;font-size:13px}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}"
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;"
    "padding:10px 14px;min-width:150px;flex:1}"
    ".card b{display:block;font-size:24px}"
    ".card.warn{border-color:#d4a72c;background:#fff8c5}"
    ".card.bad{border-color:#cf222e;background:#ffebe9}"
    ".card ul{margin:4px 0 0;padding-left:18px;font-size:12px}"
    "table{border-collapse:collapse;background:#fff;width:100%;"
    "font-size:12.5px}"
    "th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;"
    "vertical-align:top}"
    "th{background:#eaeef2;position:sticky;top:0}"
    "tr.cl td{background:#eaeef2;font-weight:600}"
    "td.mono small{color:#59636e;font-size:10.5px}"
    ".matrix td:first-child{white-space:nowrap}"
    "td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,"
    "Consolas,monospace;font-size:12px}"
    ".v{display:inline-block;border-radius:10px;padding:0 8px;"
    "font-size:12px;font-weight:600;white-space:nowrap}"
    ".v-in-baseline{background:#dafbe1;color:#116329}"
    ".v-ahead{background:#ddf4ff;color:#0550ae}"
    ".v-behind{background:#fff1e5;color:#953800}"
    ".v-differs{background:#fbefff;color:#8250df}"
    ".v-no-baseline{background:#eaeef2;color:#59636e}"
    ".v-missing{background:#ffebe9;color:#cf222e}"
    ".v-unknown{background:#f6f8fa;color:#59636e;border:1px dashed "
    "#8c959f}"
    ".v-channel-will-drift{background:#fff8c5;color:#7d4e00}"
    "td.v-in-baseline,td.v-ahead,td.v-behind,td.v-differs,"
    "td.v-no-baseline,td.v-missing,td.v-unknown,"
    "td.v-channel-will-drift{font-weight:600;white-space:nowrap}"
    ".old{color:#9a6700;font-weight:600}"
    "details.cluster{background:#fff;border:1px solid #d0d7de;"
    "border-radius:8px;margin:10px 0;padding:0 12px}"
    "details.cluster>summary{cursor:pointer;padding:8px 0;"
    "font-weight:600}"
    "details.cluster>summary span:not(.v){font-weight:400;color:#59636e}"
    "details.cluster>summary span.v{margin-left:4px}"
    "details.cluster>table{margin-bottom:10px}"
    ".pool{display:grid;grid-template-columns:210px 900px;gap:8px;"
    "padding:6px 0;border-top:1px solid #eaeef2}"
    ".pl{font-size:12.5px;overflow-wrap:anywhere}"
    ".pl b{font-size:13.5px}"
    ".axis{display:grid;grid-template-columns:210px 900px;gap:8px}"
    "svg{display:block;overflow:visible}"
    "svg text{font:10.5px ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;fill:#1f2328}"
    "svg .tk{font:10px system-ui,sans-serif;fill:#59636e}"
    "svg .sk{font:9px system-ui,sans-serif;fill:#1a7f37}"
    ".grid{stroke:#d0d7de;stroke-width:1}"
    ".seg{stroke:#fff;stroke-width:1}"
    ".seg.miss{fill:#eaeef2;stroke:#cf222e;stroke-dasharray:3 2}"
    ".by-aksnap{fill:#1a7f37}.by-auto-upgrade{fill:#8250df}"
    ".by-outside{fill:#cf222e}"
    ".m-taken{fill:#57606a}.m-promoted{fill:#1a7f37}"
    ".m-demoted{fill:#bc4c00}.m-pruned{stroke:#8c959f;stroke-width:2}"
    ".m-pinned{fill:#0969da}.m-unpinned{fill:#fff;stroke:#0969da}"
    ".m-failed{stroke:#cf222e;stroke-width:2.5}"
    ".m-missing{fill:#fff;stroke:#cf222e;stroke-width:1.5}"
    ".m-adopted{fill:#fff;stroke:#57606a;stroke-width:1.5}"
    ".soak{stroke:#1a7f37;stroke-width:2;opacity:.35}"
    ".legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;"
    "color:#59636e;margin:6px 0}"
    ".legend svg{display:inline-block;vertical-align:middle}"
    "details.prom{margin:2px 0 6px 218px;font-size:12px}"
    "details.prom summary{cursor:pointer;color:#0969da}"
    "footer{margin-top:32px;color:#59636e;font-size:12px}";

/* ---- summary ---- */

/* The pools of a summary card: 0 old baselines, 1 to be re-imaged, 2
 * failed in the window; at most REPORT_NAMED named (report.c kept
 * those). */
static void
list_pools(struct out *f, const struct report *r, int which, size_t total)
{
	size_t shown = total < REPORT_NAMED ? total : REPORT_NAMED;

	for (size_t i = 0; i < shown; i++) {
		const struct report_named *n = &r->named[which][i];

		if (i == 0)
			o_puts(f, "<ul>");
		if (which == 1) {
			o_puts(f, "<li title=\"");
			esc(f, n->title);
			o_puts(f, "\">");
		} else {
			o_puts(f, "<li>");
		}
		esc(f, n->key);
		if (which == 2)
			o_printf(f, " (%zu failure%s)", n->failures,
			    n->failures == 1 ? "" : "s");
		o_puts(f, "</li>");
	}
	if (total > shown)
		o_printf(f, "<li>and %zu more</li>", total - shown);
	if (shown > 0)
		o_puts(f, "</ul>");
}

static void
summary(struct out *f, const struct report *r)
{
	o_puts(f, "<section class=\"cards\" id=\"summary\">");
	o_printf(f,
	    "<div class=\"card\"><b>%zu</b>pools in %zu clusters"
	    "<br><span class=\"sub\">%zu seen by a run</span></div>",
	    r->npools, r->nclusters, r->nseen);
	o_puts(f, "<div class=\"card\"><b>");
	o_printf(f, "%zu", r->verdicts[0]);
	o_puts(f, "</b>in baseline<br>");
	for (size_t k = 1; k < REPORT_NVERDICTS; k++) {
		if (r->verdicts[k] == 0)
			continue;
		o_puts(f, "<span class=\"");
		verdict_class(f, report_verdicts[k]);
		o_printf(
		    f, "\">%zu %s</span> ", r->verdicts[k], report_verdicts[k]);
	}
	o_puts(f, "</div>");
	o_printf(f,
	    "<div class=\"card%s\"><b>%zu</b>baselines older than "
	    "warn_baseline_age",
	    r->baselines_old ? " warn" : "", r->baselines_old);
	list_pools(f, r, 0, r->baselines_old);
	o_puts(f, "</div>");
	o_printf(f,
	    "<div class=\"card%s\"><b>%zu</b>pools with a baseline that AKS's "
	    "upgrade channels will re-image",
	    r->will_reimage ? " warn" : "", r->will_reimage);
	if (r->will_reimage)
		o_puts(f,
		    "<br><span class=\"sub\">hover a pool for the channel "
		    "and the fix</span>");
	list_pools(f, r, 1, r->will_reimage);
	o_puts(f, "</div>");
	o_printf(f,
	    "<div class=\"card%s\"><b>%zu</b>failed runs of %zu"
	    "<br><span class=\"sub\">%zu promotions</span>",
	    r->nfailed_runs ? " bad" : "", r->nfailed_runs, r->nruns,
	    r->promotions);
	list_pools(f, r, 2, r->failing);
	o_puts(f, "</div>");
	o_puts(f, "</section>\n");
}

/* ---- the drift matrix ---- */

static void
cluster_title(struct out *f, const struct report_pool *rp)
{
	esc(f, rp->p.cluster);
	o_puts(f, " <span class=\"sub\">");
	esc(f, rp->p.resource_group);
	o_puts(f, " &middot; ");
	esc(f, rp->p.subscription);
	if (rp->p.location[0] != '\0') {
		o_puts(f, " &middot; ");
		esc(f, rp->p.location);
	}
	o_puts(f, "</span>");
}

/*
 * Whether a cluster's group starts open: always on a small page; on a
 * large one only a cluster with pools out of their baseline, and only
 * while those are few enough to read (else everything starts folded and
 * the summaries say where to look).
 */
static int
cluster_open(const struct report *r, const struct report_cluster *c)
{
	if (r->npools <= OPEN_UP_TO)
		return 1;
	if (c->drifting == 0)
		return 0;
	return r->drifting <= OPEN_DRIFTING_UP_TO;
}

/* One pill per verdict with its count, for a cluster's summary line. */
static void
cluster_pills(struct out *f, const struct report_cluster *c)
{
	for (size_t k = 0; k < REPORT_NVERDICTS; k++) {
		if (c->verdicts[k] == 0)
			continue;
		o_puts(f, " <span class=\"");
		verdict_class(f, report_verdicts[k]);
		o_printf(
		    f, "\">%zu %s</span>", c->verdicts[k], report_verdicts[k]);
	}
}

/* A node image in a table cell: its family and the part that differs
 * (date and build), "AKSUbuntu… 202611.01.0"; the whole version on hover
 * and in the DOM. */
static void
image_cell(struct out *f, const char *image)
{
	const char *tail = image_short(image);
	char family[64];
	size_t n = strcspn(image, "-");

	if (image[0] == '\0') {
		o_puts(f, "-");
		return;
	}
	o_puts(f, "<span title=\"");
	esc(f, image);
	o_puts(f, "\">");
	if (tail != image) {
		if (n >= sizeof(family))
			n = sizeof(family) - 1;
		memcpy(family, image, n);
		family[n] = '\0';
		o_puts(f, "<small>");
		esc(f, family);
		o_puts(f, "&hellip;</small> ");
	}
	esc(f, tail);
	o_puts(f, "</span>");
}

static void
matrix_row(struct out *f, const struct report_pool *rp)
{
	char age[SPAN_LEN];

	o_puts(f, "<tr data-pool=\"");
	esc(f, rp->p.key);
	o_puts(f, "\"><td>");
	esc(f, rp->p.key);
	o_puts(f, "</td><td class=\"");
	verdict_cell(f, rp->verdict);
	o_puts(f, "\">");
	esc(f, rp->verdict);
	o_puts(f, "</td><td class=\"mono\">");
	if (rp->have_live)
		image_cell(f, rp->live.v.node_image_version);
	else if (strcmp(rp->verdict, "missing") == 0)
		o_puts(f, "(missing)");
	else
		o_puts(f, "-");
	o_puts(f, "</td><td class=\"mono\">");
	esc(f, rp->have_live ? dash(rp->live.v.kubernetes_version) : "-");
	o_puts(f, "</td><td class=\"mono\">");
	if (rp->have_base) {
		esc(f, rp->base.name);
		o_puts(f, " (");
		esc(f, rp->channel);
		o_puts(f, ")");
	} else {
		o_puts(f, "-");
	}
	o_puts(f, "</td><td class=\"mono\">");
	image_cell(f, rp->have_base ? rp->base.v.node_image_version : "");
	o_puts(f, "</td><td class=\"mono\">");
	esc(f, rp->have_base ? dash(rp->base.v.kubernetes_version) : "-");
	span_text(rp->have_base ? rp->baseline_age : -1, age);
	o_puts(f, rp->baseline_old ? "</td><td class=\"old\">" : "</td><td>");
	o_puts(f, age);
	o_puts(f, "</td><td class=\"mono\">");
	image_cell(f, rp->have_newest ? rp->newest.v.node_image_version : "");
	o_puts(f, "</td><td class=\"mono\">");
	esc(f, rp->have_newest ? dash(rp->newest.v.kubernetes_version) : "-");
	o_puts(f, "</td></tr>\n");
}

/* Pool ${i}'s row of the matrix, opening its cluster's table when it is
 * the cluster's first (and closing it when the last). */
static void
matrix_pool(struct out *f, const struct report *r,
    const struct report_cluster *cl, size_t i, const struct report_pool *rp)
{
	if (i == cl->first) {
		o_printf(f, "<details class=\"cluster\"%s><summary>",
		    cluster_open(r, cl) ? " open" : "");
		cluster_title(f, rp);
		o_printf(f, " <span>&middot; %zu pool%s</span>", cl->n,
		    cl->n == 1 ? "" : "s");
		cluster_pills(f, cl);
		o_puts(f,
		    "</summary>\n<table class=\"matrix\">"
		    "<thead><tr><th>pool</th><th>verdict</th>"
		    "<th>live node image</th><th>k8s</th>"
		    "<th>baseline (channel)</th><th>baseline "
		    "image</th><th>k8s</th><th>baseline "
		    "age</th><th>newest snapshot image</th>"
		    "<th>k8s</th></tr></thead><tbody>\n");
	}
	matrix_row(f, rp);
	if (i + 1 == cl->first + cl->n)
		o_puts(f, "</tbody></table></details>\n");
}

/* ---- timelines ---- */

/* The frame every pool's timeline is drawn in. */
struct frame {
	struct timeline_axis a;
	long long step;
	time_t tk[128];
	size_t ntk;
	char tkx[128][32]; /* each tick's x, %.1f */
};

/* The tick times of the window: local midnights (or hours) a step apart. */
static size_t
ticks(const struct report *r, long long step, time_t *out, size_t max)
{
	struct tm tm;
	time_t t;
	size_t n = 0;

	if (tz_localtime(r->tz, r->since, &tm) != 0)
		(void)tz_localtime(NULL, r->since, &tm);
	if (step >= 86400)
		t = r->since - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	else
		t = r->since - (tm.tm_min * 60 + tm.tm_sec);
	while (t < r->since)
		t += step >= 86400 ? 86400 : 3600;
	for (; t <= r->as_of && n < max; t += (time_t)step)
		out[n++] = t;
	return n;
}

static void
axis(struct out *f, const struct report *r, const struct timeline_axis *a,
    const time_t *tk, size_t ntk, long long step)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

	o_puts(f,
	    "<div class=\"axis\"><div></div><svg width=\"900\" "
	    "height=\"16\" role=\"img\" aria-label=\"time axis\">");
	for (size_t i = 0; i < ntk; i++) {
		struct tm tm;
		double x = timeline_x(a, tk[i]);

		if (tz_localtime(r->tz, tk[i], &tm) != 0)
			(void)tz_localtime(NULL, tk[i], &tm);
		if (x > W - 20)
			continue;
		if (step >= 86400)
			o_printf(f,
			    "<text class=\"tk\" x=\"%.1f\" y=\"12\">%s "
			    "%d</text>",
			    x + 2, mon[tm.tm_mon % 12], tm.tm_mday);
		else
			o_printf(f,
			    "<text class=\"tk\" x=\"%.1f\" y=\"12\">%02d "
			    "%02d:00</text>",
			    x + 2, tm.tm_mday, tm.tm_hour);
	}
	o_puts(f, "</svg></div>\n");
}

/* A mark's glyph at (x, y). */
static void
glyph(struct out *f, const char *kind, double x, double y)
{
	if (strcmp(kind, "taken") == 0 || strcmp(kind, "adopted") == 0 ||
	    strcmp(kind, "missing") == 0)
		at2(f, "<circle class=\"m-", kind, "\" cx=\"", x, "\" cy=\"", y,
		    "\" r=\"3.5\">");
	else if (strcmp(kind, "promoted") == 0)
		at2(f, "<path class=\"m-promoted\" d=\"M", "", "", x, " ",
		    y - 5, "l5 5-5 5-5-5z\">");
	else if (strcmp(kind, "demoted") == 0)
		at2(f, "<path class=\"m-demoted\" d=\"M", "", "", x - 4.5, " ",
		    y - 4, "h9l-4.5 8z\">");
	else if (strcmp(kind, "pinned") == 0 || strcmp(kind, "unpinned") == 0)
		at2(f, "<rect class=\"m-", kind, "\" x=\"", x - 3.5, "\" y=\"",
		    y - 3.5, "\" width=\"7\" height=\"7\">");
	else /* pruned, failed: a cross */
		at2(f, "<path class=\"m-", kind, "\" d=\"M", x - 3.5, " ",
		    y - 3.5, "l7 7m0-7l-7 7\">");
}

static const char *
glyph_end(const char *kind)
{
	if (strcmp(kind, "taken") == 0 || strcmp(kind, "adopted") == 0 ||
	    strcmp(kind, "missing") == 0)
		return "</circle>";
	if (strcmp(kind, "pinned") == 0 || strcmp(kind, "unpinned") == 0)
		return "</rect>";
	return "</path>";
}

/* One band of version segments (node image or Kubernetes). */
static void
band(struct out *f, const struct report *r, const struct report_pool *rp,
    const struct timeline_axis *a, int k8s)
{
	int y = k8s ? K8S_Y : IMG_Y, h = k8s ? K8S_H : IMG_H;

	for (size_t i = 0; i < rp->nobs; i++) {
		const struct db_observation *o = &rp->obs[i];
		time_t end =
		    i + 1 < rp->nobs ? rp->obs[i + 1].observed_at : r->as_of;
		double x0 = timeline_x(a, o->observed_at);
		double x1 = timeline_x(a, end);
		int missing = strcmp(o->provisioning_state, "missing") == 0;
		const char *v =
		    k8s ? o->v.kubernetes_version : o->v.node_image_version;
		const char *label = k8s ? v : image_short(v);
		const char *by = report_changed_by(o);

		/* What the pool runs now stays visible even when it was
		 * first seen at the window's very end. */
		if (i + 1 == rp->nobs && x1 - x0 < 4)
			x0 = x1 - 4;
		if (x1 - x0 < 0.5)
			continue;
		o_puts(f,
		    missing ? "<rect class=\"seg miss\" x=\""
		            : "<rect class=\"seg\" x=\"");
		o_f1(f, x0);
		o_puts(f, "\" y=\"");
		o_int(f, y);
		o_puts(f, "\" width=\"");
		o_f1(f, x1 - x0);
		o_puts(f, "\" height=\"");
		o_int(f, h);
		if (missing) {
			o_puts(f, "\"><title>missing from ");
		} else {
			o_puts(f, "\" fill=\"hsl(");
			o_int(f, hue_of(v));
			o_puts(f,
			    k8s ? ",35%,86%)\"><title>"
			        : ",60%,80%)\"><title>");
		}
		if (!missing) {
			o_puts(f, k8s ? "Kubernetes " : "");
			esc(f, dash(v));
			o_puts(f, " from ");
		}
		when_text(f, r, o->observed_at);
		if (by[0] != '\0') {
			o_puts(f, ", changed by ");
			esc(f, by);
		}
		o_puts(f, "</title></rect>");
		if (!missing && v[0] != '\0' &&
		    (double)strlen(label) * 6.4 + 6 < x1 - x0) {
			o_puts(f, "<text x=\"");
			o_f1(f, x0 + 3);
			o_puts(f, "\" y=\"");
			o_int(f, y + h - (k8s ? 3 : 5));
			o_puts(f, "\">");
			esc(f, label);
			o_puts(f, "</text>");
		}
		/* Who made the change, as a notch at its start. */
		if (by[0] != '\0' && o->observed_at > r->since) {
			o_puts(f, "<path class=\"by-");
			esc(f, by);
			o_puts(f, "\" d=\"M");
			o_f1(f, x0);
			o_putc(f, ' ');
			o_int(f, y);
			o_puts(f, "l4-5h-8z\"/>");
		}
	}
}

/* A mark's tooltip. */
static void
mark_title(struct out *f, const struct report *r, const struct report_mark *m)
{
	char soak[SPAN_LEN];

	o_puts(f, "<title>");
	esc(f, m->kind);
	if (m->channel[0] != '\0') {
		o_puts(
		    f, strcmp(m->kind, "promoted") == 0 ? " into " : " from ");
		esc(f, m->channel);
	}
	o_puts(f, ": ");
	esc(f, dash(m->snapshot));
	o_puts(f, ", ");
	when_text(f, r, m->at);
	if (m->soak >= 0) {
		span_text(m->soak, soak);
		o_puts(f, ", soaked ");
		o_puts(f, soak);
	}
	if (m->reasons[0] != '\0') {
		o_puts(f, " -- ");
		esc(f, m->reasons);
	}
	o_puts(f, "</title>");
}

static int
by_lo(const void *va, const void *vb)
{
	const double *a = va, *b = vb; /* {lo, hi, index} */

	return a[0] < b[0] ? -1
	    : a[0] > b[0]  ? 1
	                   : (a[2] > b[2]) - (a[2] < b[2]);
}

/* At most this many marks of a pool are drawn (all are listed). */
#define MAX_DRAWN 256

/*
 * Where a pool's marks go: the point marks (taken, demoted, pruned,
 * pinned, failed) at their x in lanes, the promotions as bars from where
 * their soak began, in lanes below, sorted by start.
 */
struct mark_lanes {
	double plo[MAX_DRAWN], qlo[MAX_DRAWN], qhi[MAX_DRAWN];
	int plane[MAX_DRAWN], qlane[MAX_DRAWN];
	size_t idx_p[MAX_DRAWN], idx_q[MAX_DRAWN];
	int np, nq, pl, ql; /* marks and lanes of each kind */
};

static void
lay_marks(const struct report_pool *rp, const struct timeline_axis *a,
    struct mark_lanes *L)
{
	double sorted[MAX_DRAWN][3];
	size_t first = rp->nmarks > MAX_DRAWN ? rp->nmarks - MAX_DRAWN : 0;

	L->np = L->nq = 0;
	for (size_t i = first; i < rp->nmarks; i++) {
		const struct report_mark *m = &rp->marks[i];
		double x = timeline_x(a, m->at);

		if (strcmp(m->kind, "promoted") == 0) {
			sorted[L->nq][0] = m->soak > 0
			    ? timeline_x(a, m->at - (time_t)m->soak)
			    : x;
			sorted[L->nq][1] = x;
			sorted[L->nq][2] = (double)i;
			L->nq++;
		} else {
			L->plo[L->np] = x;
			L->idx_p[L->np++] = i;
		}
	}
	qsort(sorted, (size_t)L->nq, sizeof(sorted[0]), by_lo);
	for (int i = 0; i < L->nq; i++) {
		L->qlo[i] = sorted[i][0];
		L->qhi[i] = sorted[i][1];
		L->idx_q[i] = (size_t)sorted[i][2];
	}
	L->pl = timeline_spread(
	    L->plo, L->plo, (size_t)L->np, MARK_W, MAX_LANES, L->plane);
	L->ql = timeline_spread(
	    L->qlo, L->qhi, (size_t)L->nq, 6.0, MAX_LANES, L->qlane);
}

/* The pool's label left of its timeline: name, node pool, verdict. */
static void
pool_label(struct out *f, const struct report_pool *rp)
{
	o_puts(f, "<div class=\"pool\" data-pool=\"");
	esc(f, rp->p.key);
	o_puts(f, "\"><div class=\"pl\"><b>");
	esc(f, rp->p.key);
	o_puts(f, "</b><br>");
	esc(f, rp->p.nodepool);
	if (!rp->configured)
		o_puts(f, " &middot; not configured");
	if (rp->p.id == 0)
		o_puts(f, " &middot; not seen by a run yet");
	o_puts(f, "<br><span class=\"");
	verdict_class(f, rp->verdict);
	o_puts(f, "\">");
	esc(f, rp->verdict);
	o_puts(f, "</span> ");
	o_int(f, (long long)rp->nsnapshots);
	o_puts(f, rp->nsnapshots == 1 ? " snapshot" : " snapshots");
	if (rp->npinned > 0) {
		o_puts(f, ", ");
		o_int(f, (long long)rp->npinned);
		o_puts(f, " pinned");
	}
	o_puts(f, "</div>");
}

/* The promotions: each a soak bar ending in the promotion's glyph. */
static void
draw_promotions(struct out *f, const struct report *r,
    const struct report_pool *rp, const struct mark_lanes *L)
{
	for (int i = 0; i < L->nq; i++) {
		const struct report_mark *m = &rp->marks[L->idx_q[i]];
		double lo = L->qlo[i], hi = L->qhi[i];
		double y = MARKS_Y + (L->pl + L->qlane[i]) * LANE_H;
		char soak[SPAN_LEN];

		o_puts(f, "<g>");
		mark_title(f, r, m);
		if (hi - lo >= 1) {
			at2(f, "<path class=\"soak\" d=\"M", "", "", lo, " ", y,
			    "H");
			o_f1(f, hi);
			at2(f, "\"/><circle class=\"m-taken\" cx=\"", "", "",
			    lo, "\" cy=\"", y, "\" r=\"2\"/>");
		}
		if (hi - lo > 44) {
			span_text(m->soak, soak);
			at2(f, "<text class=\"sk\" x=\"", "", "",
			    (lo + hi) / 2 - 16, "\" y=\"", y - 2.5, "\">soak ");
			o_puts(f, soak);
			o_puts(f, "</text>");
		}
		glyph(f, "promoted", hi, y);
		o_puts(f, "</path></g>");
	}
}

/*
 * One pool's row: its name and verdict, then the SVG: the node image
 * band, the Kubernetes band, the lanes of point marks (taken, demoted,
 * pruned, pinned, failed) and below them the lanes of promotions, each a
 * bar from where its soak began to the promotion.
 */
static void
pool_timeline(struct out *f, const struct report *r,
    const struct report_pool *rp, const struct frame *fr)
{
	const struct timeline_axis *a = &fr->a;
	struct mark_lanes L;
	int height;

	lay_marks(rp, a, &L);
	height = MARKS_Y + (L.pl + L.ql > 0 ? L.pl + L.ql : 1) * LANE_H - 4;
	pool_label(f, rp);
	o_puts(f, "<svg width=\"900\" height=\"");
	o_int(f, height);
	o_puts(f, "\" role=\"img\" aria-label=\"timeline of ");
	esc(f, rp->p.key);
	o_puts(f, "\"><path class=\"grid\" d=\"");
	/* the ticks' x as the frame printed them once */
	for (size_t i = 0; i < fr->ntk; i++) {
		o_putc(f, 'M');
		o_puts(f, fr->tkx[i]);
		o_puts(f, " 0v");
		o_int(f, height);
	}
	o_puts(f, "\"/>");
	band(f, r, rp, a, 0);
	band(f, r, rp, a, 1);
	for (int i = 0; i < L.np; i++) {
		const struct report_mark *m = &rp->marks[L.idx_p[i]];

		glyph(f, m->kind, L.plo[i], MARKS_Y + L.plane[i] * LANE_H);
		mark_title(f, r, m);
		o_puts(f, glyph_end(m->kind));
	}
	draw_promotions(f, r, rp, &L);
	o_puts(f, "</svg></div>\n");
}

/* The pool's promotions (and the other marks) as a table, folded. */
static void
pool_marks(struct out *f, const struct report *r, const struct report_pool *rp)
{
	if (rp->nmarks == 0)
		return;
	o_puts(f, "<details class=\"prom\"><summary>");
	o_int(f, (long long)rp->promotions);
	o_puts(f, rp->promotions == 1 ? " promotion, " : " promotions, ");
	o_int(f, (long long)rp->nmarks);
	o_puts(f, rp->nmarks == 1 ? " event" : " events");
	o_puts(f,
	    "</summary><table><thead><tr><th>when</th><th>what</th>"
	    "<th>snapshot</th><th>channel</th><th>soak</th><th>by</th>"
	    "<th>reasons</th></tr></thead><tbody>");
	for (size_t i = 0; i < rp->nmarks; i++) {
		const struct report_mark *m = &rp->marks[i];
		char soak[SPAN_LEN];

		span_text(m->soak, soak);
		o_puts(f, "<tr class=\"");
		o_puts(f, m->kind);
		o_putc(f, '"');
		if (strcmp(m->kind, "promoted") == 0) {
			o_puts(f, " data-promotion=\"");
			esc(f, m->snapshot);
			o_puts(f, "\"");
		}
		o_puts(f, "><td>");
		when(f, r, m->at);
		o_puts(f, "</td><td>");
		o_puts(f, m->kind);
		o_puts(f, "</td><td class=\"mono\">");
		esc(f, dash(m->snapshot));
		o_puts(f, "</td><td>");
		esc(f, dash(m->channel));
		o_puts(f, "</td><td>");
		o_puts(f, soak);
		o_puts(f, "</td><td>");
		esc(f, dash(m->mode));
		o_puts(f, "</td><td>");
		esc(f, m->reasons);
		o_puts(f, "</td></tr>");
	}
	o_puts(f, "</tbody></table></details>\n");
}

static void
legend(struct out *f, int with_by)
{
	static const char *const kinds[] = {
	    "taken", "promoted", "demoted", "pruned", "pinned", "failed"};

	o_puts(f, "<div class=\"legend\">");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		o_puts(f, "<span><svg width=\"12\" height=\"12\">");
		glyph(f, kinds[i], 6, 6);
		o_puts(f, glyph_end(kinds[i]));
		o_printf(f, "</svg> %s</span>", kinds[i]);
	}
	o_puts(f,
	    "<span><svg width=\"24\" height=\"12\"><path class=\"soak\" "
	    "d=\"M0 6H24\"/></svg> soak before promotion</span>"
	    "<span>upper band: node image, lower band: Kubernetes "
	    "version (hover for details)</span>");
	if (with_by)
		o_puts(f,
		    "<span><svg width=\"30\" height=\"12\"><path "
		    "class=\"by-aksnap\" d=\"M4 12l4-5H0z\"/><path "
		    "class=\"by-auto-upgrade\" d=\"M15 12l4-5h-8z\"/><path "
		    "class=\"by-outside\" d=\"M26 12l4-5h-8z\"/></svg> "
		    "changed by aksnap, auto-upgrade, outside</span>");
	o_puts(f, "</div>\n");
}

/* Pool ${i}'s timeline and marks, opening cluster ${c}'s group when it is
 * the cluster's first (closing the group before). */
static void
timeline_pool(struct out *f, const struct report *r, const struct frame *fr,
    size_t c, size_t i, const struct report_pool *rp)
{
	const struct report_cluster *cl = &r->clusters[c];

	if (i == cl->first) {
		if (c > 0)
			o_puts(f, "</details>\n");
		o_printf(f, "<details class=\"cluster\"%s><summary>",
		    cluster_open(r, cl) ? " open" : "");
		cluster_title(f, rp);
		o_printf(f,
		    " <span>&middot; %zu pool%s, %zu "
		    "promotion%s, %zu not in baseline</span>"
		    "</summary>\n",
		    cl->n, cl->n == 1 ? "" : "s", cl->promotions,
		    cl->promotions == 1 ? "" : "s", cl->drifting);
		axis(f, r, &fr->a, fr->tk, fr->ntk, fr->step);
	}
	pool_timeline(f, r, rp, fr);
	pool_marks(f, r, rp);
}

/* The timelines' heading and legend. */
static void
timelines_heading(struct out *f, const struct report *r)
{
	o_puts(f, "<h2 id=\"timelines\">Timelines</h2>\n");
	legend(f, r->with_by);
}

/* The cluster of pool ${i} (report order): clusters are runs of it. */
static size_t
cluster_of(const struct report *r, size_t i)
{
	size_t lo = 0, hi = r->nclusters;

	/* the last cluster whose first pool is at or before i */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->clusters[mid].first <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct pools_ctx {
	struct report *r;
	const struct frame *fr;
	struct out *o[2]; /* the parts' buffers, over the spool's files */
	int with_by; /* an observation of a window says who changed */
};

/* Pool ${i}'s matrix row into parts[0], its timeline into parts[1]
 * (report_pools_spooled); whether its window's observations say who
 * changed a version, for the legend. */
static int
pool_parts(
    void *vctx, FILE *const *parts, size_t i, const struct report_pool *rp)
{
	struct pools_ctx *pc = vctx;
	size_t c = cluster_of(pc->r, i);

	for (size_t k = 0; k < rp->nobs && !pc->with_by; k++)
		pc->with_by = report_changed_by(&rp->obs[k])[0] != '\0';
	pc->o[0]->f = parts[0];
	pc->o[1]->f = parts[1];
	matrix_pool(pc->o[0], pc->r, &pc->r->clusters[c], i, rp);
	timeline_pool(pc->o[1], pc->r, pc->fr, c, i, rp);
	return o_flush(pc->o[0]) || o_flush(pc->o[1]) ? -1 : 0;
}

/* Between the matrix and the timelines (report_pools_spooled): their
 * heading and the legend, now that every window has been read. */
static int
pools_between(void *vctx, size_t part, FILE *out)
{
	struct pools_ctx *pc = vctx;

	if (part != 1)
		return 0;
	pc->r->with_by = pc->with_by;
	pc->o[1]->f = out;
	timelines_heading(pc->o[1], pc->r);
	return o_flush(pc->o[1]);
}

/*
 * The matrix, then the timelines, a cluster at a time: each pool read
 * once (with its marks) for both, in the store's order
 * (report_pools_spooled), its matrix row and its timeline written to
 * temporary files; then the matrix rows to ${f}, the timelines after
 * them, in the report's order; each pool dropped when written.  0/-1.
 */
static int
pools(struct out *f, struct report *r)
{
	struct frame fr;
	struct pools_ctx pc;
	struct when_slot *when;
	FILE *outs[2];
	int rc = -1;

	memset(&fr, 0, sizeof(fr));
	fr.a.t0 = r->since;
	fr.a.t1 = r->as_of;
	fr.a.x0 = 0;
	fr.a.x1 = W;
	fr.step = timeline_tick_step((long long)(r->as_of - r->since), W, 56);
	fr.ntk = ticks(r, fr.step, fr.tk, 128);
	for (size_t i = 0; i < fr.ntk; i++)
		snprintf(fr.tkx[i], sizeof(fr.tkx[i]), "%.1f",
		    timeline_x(&fr.a, fr.tk[i]));
	o_puts(f, "<h2 id=\"drift\">Drift: live, baseline, newest</h2>\n");
	if (r->npools == 0)
		timelines_heading(f, r);
	if (o_flush(f))
		return -1;
	pc.r = r;
	pc.fr = &fr;
	pc.with_by = 0;
	pc.o[0] = out_new(NULL);
	pc.o[1] = out_new(NULL);
	when = calloc(WHEN_SLOTS, sizeof(*when));
	if (pc.o[0] != NULL && pc.o[1] != NULL && when != NULL) {
		pc.o[0]->when = when;
		pc.o[1]->when = when;
	} else {
		log_err(NULL, "report: out of memory");
	}
	outs[0] = f->f;
	outs[1] = f->f;
	if (pc.o[0] != NULL && pc.o[1] != NULL && when != NULL &&
	    report_pools_spooled(r, 2, pool_parts, pools_between, &pc, outs) ==
	        0) {
		if (r->npools > 0)
			o_puts(f, "</details>\n");
		rc = 0;
	}
	free(pc.o[0]);
	free(pc.o[1]);
	free(when);
	return rc;
}

/* ---- runs ---- */

static void
runs(struct out *f, const struct report *r)
{
	o_printf(f, "<h2 id=\"runs\">Failed runs (%zu of %zu)</h2>\n",
	    r->nfailed_runs, r->nruns);
	if (r->nfailed_runs == 0) {
		o_puts(f,
		    "<p class=\"sub\">Every run of the window exited 0.</p>\n");
		return;
	}
	o_puts(f,
	    "<table><thead><tr><th>run</th><th>as of</th><th>mode</th>"
	    "<th>exit</th><th>pools failed</th><th>taken</th>"
	    "<th>deleted</th><th>promoted</th></tr></thead><tbody>");
	for (size_t i = 0; i < r->nfailed_runs; i++) {
		const struct db_run *run = &r->failed_runs[i];

		o_printf(f, "<tr><td>#%lld</td><td>", (long long)run->id);
		when(f, r, run->as_of);
		o_puts(f, "</td><td>");
		esc(f, run->mode);
		o_printf(f,
		    "</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>"
		    "<td>%d</td></tr>",
		    run->exit_code, run->failed, run->taken, run->deleted,
		    run->promoted);
	}
	o_puts(f, "</tbody></table>\n");
}

/* The page to ${f}.  0/-1. */
static int
page(struct out *f, struct report *r)
{
	o_puts(f,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width\">\n<title>aksnap report ");
	when_text(f, r, r->as_of);
	o_printf(f, "</title>\n<style>%s</style>\n</head><body><main>\n", css);
	o_puts(f,
	    "<h1>aksnap: the fleet's node images</h1>\n<div class=\"sub\">"
	    "From ");
	when(f, r, r->since);
	o_puts(f, " to ");
	when(f, r, r->as_of);
	o_puts(f, " (the newest run), times in ");
	esc(f, r->timezone);
	o_puts(f, " (hover a date for UTC) &middot; store ");
	esc(f, r->database);
	o_puts(f, "</div>\n");
	summary(f, r);
	if (pools(f, r))
		return -1;
	runs(f, r);
	o_puts(f,
	    "<footer>Written by aksnap " AKSNAP_VERSION
	    " from its store alone. Every date is wall time in the "
	    "configured time zone; its title holds UTC.</footer>\n"
	    "</main></body></html>\n");
	return o_flush(f);
}

int
report_html(FILE *f, struct report *r)
{
	struct out *o = out_new(f);
	int rc;

	if (o == NULL)
		return -1;
	rc = page(o, r);
	free(o);
	return rc || ferror(f) ? -1 : 0;
}
