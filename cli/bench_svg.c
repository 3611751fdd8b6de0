/*
 * bench_svg.c - the chart of `ipckit bench --svg FILE`: one self-contained
 * SVG (no script, no external font or style).  Left: round trip p50 on a
 * log scale; right: one-way throughput in MB/s on a log scale.  One band
 * per target, ordered by the round trip at the first size, one bar per
 * size in the colour of the legend; the title names the machine.
 */
#include "bench.h"
#include <math.h>
#include <string.h>

#define W 1000
#define LABEL_W 190
#define GAP 70
#define RIGHT 40
#define PANEL_W ((W - LABEL_W - GAP - RIGHT) / 2)
#define TOP 110
#define BAR_H 6

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
				      "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

struct axis { double lo, hi; int x0; };   /* decades lo..hi (log10) from x0 */

static void xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
}

/* Decades covering every positive value of field (an offset into the row). */
static struct axis make_axis(const struct brows *b, size_t off, int x0)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < b->n; i++) {
		double v = *(const double *)((const char *)&b->v[i] + off);
		if (v > 0) {
			lo = fmin(lo, floor(log10(v)));
			hi = fmax(hi, ceil(log10(v)));
		}
	}
	if (!isfinite(lo))
		lo = 0, hi = 1;
	if (hi <= lo)
		hi = lo + 1;
	return (struct axis){lo, hi, x0};
}

static double ax_x(const struct axis *a, double v)
{
	return a->x0 + (log10(v) - a->lo) / (a->hi - a->lo) * PANEL_W;
}

static void tick_label(char *buf, size_t cap, double v, bool time)
{
	static const char *const t[] = {"ns", "us", "ms", "s"};
	static const char *const r[] = {"", "k", "M", "G", "T"};
	int k = 0;
	double div = 1;
	while (v / div >= 1000 && k < (time ? 3 : 4))
		div *= 1000, k++;
	if (time)
		snprintf(buf, cap, "%g %s", v / div, t[k]);
	else
		snprintf(buf, cap, "%g%s MB/s", v / div, r[k]);
}

static void draw_axis(FILE *f, const struct axis *a, int h, bool time, const char *title)
{
	char lab[32];
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n", a->x0, TOP - 28, title);
	for (double d = a->lo; d <= a->hi + 1e-9; d++) {
		double x = ax_x(a, pow(10, d));
		tick_label(lab, sizeof(lab), pow(10, d), time);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n"
			   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
			x, TOP - 6, x, TOP + h, x, TOP - 9, lab);
	}
}

/* Targets in order of first appearance in the sorted rows (smallest size first). */
static size_t targets(const struct brows *b, const struct ipck_bench_row **t, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) {
		size_t k = 0;
		while (k < n && (strcmp(t[k]->scheme, b->v[i].scheme) || strcmp(t[k]->wait, b->v[i].wait)))
			k++;
		if (k == n && n < cap)
			t[n++] = &b->v[i];
	}
	return n;
}

static void draw_bar(FILE *f, const struct axis *a, double v, double y, const char *c)
{
	if (v <= 0)
		return;
	double x = ax_x(a, v);
	fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n",
		a->x0, y, x - a->x0 > 1 ? x - a->x0 : 1, BAR_H, c);
}

static void draw_band(FILE *f, const struct brows *b, const struct ipck_bench_row *t,
		      double y, const struct axis *rt, const struct axis *tp)
{
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 8,
		y + (double)b->nsizes * (BAR_H + 1) / 2 + 4);
	xml_str(f, t->scheme);
	if (strcmp(t->wait, "kernel") && strcmp(t->wait, "none")) {
		fputs(" (", f);
		xml_str(f, t->wait);
		fputc(')', f);
	}
	fputs("</text>\n", f);
	for (size_t s = 0; s < b->nsizes; s++) {
		const char *c = colours[s % 8];
		double yy = y + (double)s * (BAR_H + 1);
		for (size_t i = 0; i < b->n; i++) {
			const struct ipck_bench_row *r = &b->v[i];
			if (r->size != b->sizes[s] || strcmp(r->scheme, t->scheme) || strcmp(r->wait, t->wait))
				continue;
			draw_bar(f, rt, r->rtt_p50_ns, yy, c);
			draw_bar(f, tp, r->mb_per_s, yy, c);
		}
	}
}

static void draw_legend(FILE *f, const struct brows *b)
{
	char s[32];
	int x = LABEL_W;
	fprintf(f, "<text x=\"%d\" y=\"62\">sizes:</text>\n", x - 50);
	for (size_t i = 0; i < b->nsizes; i++, x += 90)
		fprintf(f, "<rect x=\"%d\" y=\"53\" width=\"12\" height=\"10\" fill=\"%s\"/>"
			   "<text x=\"%d\" y=\"62\">%s</text>\n", x, colours[i % 8], x + 16,
			bench_size_str(b->sizes[i], s, sizeof(s)));
}

void bench_svg(FILE *f, const struct brows *b)
{
	const struct ipck_bench_row *t[256];
	char m[256];
	size_t nt = targets(b, t, 256);
	double band = (double)b->nsizes * (BAR_H + 1) + 8;
	int h = (int)(band * (double)nt) + 4, total = TOP + h + 30;
	struct axis rt = make_axis(b, offsetof(struct ipck_bench_row, rtt_p50_ns), LABEL_W);
	struct axis tp = make_axis(b, offsetof(struct ipck_bench_row, mb_per_s), LABEL_W + PANEL_W + GAP);
	bench_machine(m, sizeof(m));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		   "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">ipckit bench: "
		   "round trip and throughput per scheme</text>\n<text x=\"10\" y=\"38\">",
		W, total, W, total);
	xml_str(f, m);
	xml_str(f, bench_placement(b));
	fputs("</text>\n", f);
	draw_legend(f, b);
	draw_axis(f, &rt, h, true, "round trip p50 (log scale, shorter is better)");
	draw_axis(f, &tp, h, false, "one-way throughput (log scale, longer is better)");
	for (size_t i = 0; i < nt; i++)
		draw_band(f, b, t[i], TOP + 4 + band * (double)i, &rt, &tp);
	fprintf(f, "<text x=\"10\" y=\"%d\" fill=\"#555\">each bar: median of the repetitions; "
		   "raw-*: the same system calls without the library; bare-ring, cacheline: "
		   "the hardware's limits</text>\n</svg>\n", total - 10);
}
