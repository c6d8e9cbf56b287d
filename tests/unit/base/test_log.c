/*
 * test_log.c -- one line an event: "aksnap: <pool>: <message>", silent
 * below the verbosity asked for, and with the syslog priority in front
 * when stderr is the journal.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "job/base/log.h"

/*
 * Run ${fn} with stderr sent to a temporary file; return what it wrote
 * (caller frees).
 */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/aksnap-test-log-XXXXXX", *out;
	int fd = mkstemp(path), saved = dup(2);
	long n;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	assert_true(dup2(fd, 2) >= 0);
	fn();
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	out = calloc(1, (size_t)n + 1);
	assert_non_null(out);
	assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return out;
}

static void
log_three(void)
{
	log_err("web", "PUT failed: %d", 500);
	log_warn(NULL, "lock held");
	log_info("web", "snapshot taken");
	log_debug("web", "trace");
}

static void
test_log_is_silent_below_the_verbosity(void **state)
{
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init(0);
	out = capture_stderr(log_three);
	assert_string_equal(out,
	    "aksnap: web: PUT failed: 500\n"
	    "aksnap: lock held\n");
	free(out);
	log_init(2);
	out = capture_stderr(log_three);
	assert_non_null(strstr(out, "aksnap: web: snapshot taken\n"));
	assert_non_null(strstr(out, "aksnap: web: trace\n"));
	free(out);
}

static void
test_log_prefixes_syslog_priority_under_journald(void **state)
{
	char *out;

	(void)state;
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_init(1);
	out = capture_stderr(log_three);
	unsetenv("JOURNAL_STREAM");
	assert_string_equal(out,
	    "<3>aksnap: web: PUT failed: 500\n"
	    "<4>aksnap: lock held\n"
	    "<6>aksnap: web: snapshot taken\n");
	free(out);
}

static void
log_multiline(void)
{
	log_err("web", "body: <html>\n<body>502</body>\n</html>\n");
}

static void
test_log_keeps_one_event_on_one_line(void **state)
{
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init(0);
	out = capture_stderr(log_multiline);
	assert_string_equal(
	    out, "aksnap: web: body: <html> <body>502</body> </html>\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_is_silent_below_the_verbosity),
	    cmocka_unit_test(test_log_prefixes_syslog_priority_under_journald),
	    cmocka_unit_test(test_log_keeps_one_event_on_one_line),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
