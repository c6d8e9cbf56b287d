#ifndef AKSNAP_FUZZ_H
#define AKSNAP_FUZZ_H

/*
 * fuzz.h -- what every fuzz target shares.
 *
 * Each tests/fuzz/fuzz_X.c defines LLVMFuzzerTestOneInput and is built two
 * ways: with clang -fsanitize=fuzzer (`make fuzz`, libFuzzer supplies
 * main), and with the project's compiler and tests/fuzz/driver.c as main
 * (`make check`, which replays the corpus as a regression test).  The
 * helpers are static inline so each target stays one translation unit plus
 * the driver.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_strndup(data, size):
 * A malloc'd NUL-terminated copy of the ${size} bytes at ${data} (which may
 * hold NULs of their own: the parsers then see a shorter string).  Exits on
 * ENOMEM: a fuzz run cannot go on without memory.
 */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(1);
	}
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * fuzz_fail(target, what):
 * An invariant the code promises does not hold: say which and abort, so
 * libFuzzer (and the driver) report the input as a crash.
 */
static inline void
fuzz_fail(const char *target, const char *what)
{
	fprintf(stderr, "%s: invariant violated: %s\n", target, what);
	abort();
}

static inline void
fuzz_discard_log(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/* fuzz_quiet(): drop log lines; parsers that log would flood the run. */
static inline void
fuzz_quiet(void)
{
	log_set_sink(fuzz_discard_log, NULL);
}

#endif
