#ifndef AKSNAP_TABLE_H
#define AKSNAP_TABLE_H

/*
 * table.h -- the aligned tables commands print: columns as wide as their
 * content, and narrow enough for the terminal.
 *
 * A command declares its columns (with which to drop first when the table
 * is too wide, and whether the last one may wrap), adds its rows, and
 * prints.  The width is $COLUMNS when set, else the terminal's when the
 * table goes to one; into a pipe or file, with no $COLUMNS, nothing is
 * dropped or wrapped (scripts see every column).
 */

#include <stddef.h>
#include <stdio.h>

struct table_col {
	const char *header;
	int drop; /* 0: always shown; else dropped to fit, highest first */
	int wrap; /* last column only: wrapped to fit, under itself */
};

struct table;

/*
 * table_new(cols, ncols):
 * An empty table of the ${ncols} columns ${cols} (the array must outlive
 * the table).  NULL when out of memory (logged).
 */
struct table *table_new(const struct table_col *cols, size_t ncols);

/*
 * table_add(t, ...):
 * Append a row: one const char * per column (copied; NULL prints as "-",
 * "" as nothing).  0, or -1 when out of memory (logged).
 */
int table_add(struct table *t, ...);

/*
 * table_add_n(t, cell, len):
 * table_add's row as arrays: ${cell}[i] (not NULL: "-" for none) of
 * ${len}[i] bytes, its strlen, for each column -- a caller that has the
 * lengths spares the table a strlen a cell (a spooled `list` of 130,000
 * rows: a million).  0/-1 as table_add.
 */
int table_add_n(struct table *t, const char *const *cell, const size_t *len);

/*
 * table_spool(t):
 * Keep the rows of ${t} in an unlinked temporary file (tmpfile) instead
 * of memory, so that a table of any length costs the same memory;
 * table_print prints the same.  Before the first table_add.  0, or -1
 * (not spooled: the rows stay in memory).
 */
int table_spool(struct table *t);

/*
 * table_spool_upto(t, max):
 * table_spool, its file at most ${max} bytes (0: no bound; past half
 * of it, or past 16 MiB, a cell is kept as what it adds to the row
 * before's, and rows that repeat their neighbours hold more cells than
 * ${max} bytes): past it (or when the file cannot be written) the spool file
 * goes and every row is only measured, as table_measure does: the caller then
 * prints them with table_print_head and table_print_row, read again.  0, or -1
 * (not spooled).
 *
 * table_spool_bytes(t): the bytes its spool file holds (0 without one).
 *
 * table_spool_complete(t): 1 while every row added is held (spooled or
 * in memory), 0 once table_spool_upto's bound dropped them.
 */
int table_spool_upto(struct table *t, size_t max);
size_t table_spool_bytes(const struct table *t);
int table_spool_complete(const struct table *t);

/*
 * table_measure(t, ...):
 * Widen the columns of ${t} to the cells of a row (one const char * per
 * column, as table_add takes them) without keeping it: a command that
 * can read its rows twice measures them all, calls table_print_head, then
 * prints each with table_print_row as it reads it again -- the output of
 * table_add and table_print for a memory that does not grow with the
 * rows.  0.
 */
int table_measure(struct table *t, ...);

/*
 * table_print_head(t, out), table_print_row(t, out, ...):
 * Fix the layout of ${t} for ${out} from the rows added and measured so
 * far (as table_print would) and print the header; then print a row (one
 * const char * per column, NULL as "-") in that layout.  A row wider than
 * what was measured is printed whole, out of line.
 */
void table_print_head(struct table *t, FILE *out);
void table_print_row(const struct table *t, FILE *out, ...);

/* table_rows_in_memory(t): how many rows of ${t} are held in memory. */
size_t table_rows_in_memory(const struct table *t);

/*
 * table_width(out):
 * The width to fit: $COLUMNS when a number of at least 20, else the
 * terminal's when ${out} is one, else 0 (no limit).
 */
size_t table_width(FILE *out);

/*
 * table_print(t, out):
 * Print the header and the rows to ${out}, fitted to table_width(${out}).
 */
void table_print(struct table *t, FILE *out);

/* table_free(t): free ${t}; NULL is fine. */
void table_free(struct table *t);

#endif
