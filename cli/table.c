/*
 * table.c - aligned text tables for people (ls, limits): cells are added
 * row by row, widths are measured once all are in, numbers align right.
 */
#include "cli.h"
#include <stdlib.h>
#include <string.h>

void cli_table_init(struct cli_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

int cli_table_cell(struct cli_table *t, const char *s)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64 * t->ncols;
		char **v = realloc(t->cells, cap * sizeof(*v));
		if (!v)
			return -1;
		t->cells = v;
		t->cap = cap;
	}
	if (!(t->cells[t->n] = strdup(s && *s ? s : "-")))
		return -1;
	t->n++;
	return 0;
}

void cli_table_print(FILE *f, const struct cli_table *t, const bool *right)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	if (!w || !t->ncols)
		goto out;
	for (size_t i = 0; i < t->n; i++) {
		size_t len = strlen(t->cells[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t c = i % t->ncols;
		bool last = c == t->ncols - 1;
		if (right && right[c] && i >= t->ncols)
			fprintf(f, "%*s", (int)w[c], t->cells[i]);
		else
			fprintf(f, "%-*s", last ? 0 : (int)w[c], t->cells[i]);
		fputs(last ? "\n" : " ", f);
	}
out:
	free(w);
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

const char *cli_human(unsigned long long v, char buf[16])
{
	static const char units[] = "KMGTPE";
	if (v < 1024) {
		snprintf(buf, 16, "%llu", v);
		return buf;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (d < 10 && d != (double)(long long)d)
		snprintf(buf, 16, "%.1f%c", d, units[u]);
	else
		snprintf(buf, 16, "%.0f%c", d, units[u]);
	return buf;
}
