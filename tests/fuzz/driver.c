/*
 * driver.c -- run a fuzz target over a corpus without libFuzzer.
 *
 * `make check` links each tests/fuzz/fuzz_X.c with this file and the
 * project's usual compiler and flags, then runs it as
 *
 *     fuzz_X DIR...
 *
 * Every regular file under each DIR (not recursing) is read whole and handed
 * to LLVMFuzzerTestOneInput once, in name order so that a failure is
 * reproducible.  A target that crashes or aborts on an input takes the
 * process with it (the name was printed first, so the log says which);
 * under ASan/UBSan (check-sanitize) a memory error does the same.  A plain
 * file argument is run by itself, which is how a crash found by libFuzzer is
 * replayed under gdb.  Exit 0 after all inputs, 2 on a usage or I/O error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Inputs larger than this are not corpus files; libFuzzer's default cap. */
#define DRIVER_MAX_INPUT (1024 * 1024)

/* run_file(path): feed one file to the target; 0, or -1 on an I/O error. */
static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *data = NULL;
	size_t len = 0;
	long sz;
	int rc = -1;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		goto err0;
	}
	if (fseek(f, 0, SEEK_END) != 0) {
		fprintf(stderr, "driver: %s: cannot seek\n", path);
		goto err1;
	}
	sz = ftell(f);
	if (sz < 0 || sz > DRIVER_MAX_INPUT) {
		fprintf(
		    stderr, "driver: %s: size %ld out of range\n", path, sz);
		goto err1;
	}
	rewind(f);
	/* Exactly sz bytes, so ASan sees a target reading past the input. */
	data = malloc(sz > 0 ? (size_t)sz : 1);
	if (data == NULL) {
		fprintf(stderr, "driver: out of memory\n");
		goto err1;
	}
	len = fread(data, 1, (size_t)sz, f);
	if (len != (size_t)sz) {
		fprintf(stderr, "driver: %s: short read\n", path);
		goto err2;
	}
	fprintf(stderr, "driver: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	rc = 0;

err2:
	free(data);
err1:
	fclose(f);
err0:
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * run_dir(dir, count): every regular file of ${dir} in name order; add how
 * many ran to ${*count}.  0, or -1 on an I/O error.
 */
static int
run_dir(const char *dir, size_t *count)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, **tmp, *path;
	size_t n = 0, cap = 0, i;
	int rc = -1;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "driver: %s: %s\n", dir, strerror(errno));
		goto err0;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			tmp = realloc(names, cap * sizeof(*names));
			if (tmp == NULL)
				goto err1;
			names = tmp;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			goto err1;
		n++;
	}
	if (errno != 0) {
		fprintf(stderr, "driver: %s: %s\n", dir, strerror(errno));
		goto err1;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			goto err1;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (run_file(path) != 0) {
			free(path);
			goto err1;
		}
		free(path);
		(*count)++;
	}
	rc = 0;

err1:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
err0:
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "driver: %s: %s\n", argv[i],
			    strerror(errno));
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				return 2;
		} else {
			if (run_file(argv[i]) != 0)
				return 2;
			count++;
		}
	}
	fprintf(stderr, "driver: %zu inputs ran\n", count);
	return 0;
}
