#ifndef AKSNAP_EXIT_H
#define AKSNAP_EXIT_H

/*
 * exit.h -- the exit codes of DESIGN.md section 3, shared by every layer
 * that decides one (the run, the commands).
 */

enum exit_code {
	EXIT_DONE = 0, /* all done, or nothing was due */
	EXIT_FAILED = 1, /* at least one pool failed (the others were done) */
	EXIT_USAGE = 2, /* usage or configuration error, nothing done */
	EXIT_TEMP = 75, /* EX_TEMPFAIL: lock held, ARM/AAD unreachable */
};

/* Nagios plugin codes, for `check`. */
enum check_code {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

#endif
