#ifndef AKSNAP_SCHEDULE_H
#define AKSNAP_SCHEDULE_H

/*
 * schedule.h -- when a pool's snapshots are due (DESIGN.md section 6).
 *
 * A schedule is a 5-field cron expression (minute hour day-of-month month
 * day-of-week; lists, ranges, steps, month and weekday names; day-of-month
 * and day-of-week combined as cron does: when both are restricted, either
 * matching is enough), one of @hourly @daily @weekly @monthly @yearly
 * (@annually, @midnight), or "@every <duration>" (slots at whole multiples
 * of the duration since the Unix epoch, UTC).
 *
 * Cron slots are wall-clock times in an IANA time zone.  Across daylight
 * saving changes: a wall time that occurs twice (fall back) is one slot, at
 * its first occurrence; a wall time that does not exist (spring forward) is
 * one slot at the instant the clocks jump to.  So a slot is never taken
 * twice nor lost.  Pure: no clock, no store, no network.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

struct schedule {
	char text[128]; /* as written */
	int every; /* 1: @every */
	long long every_secs; /* the @every period */
	uint64_t minutes; /* bit m: minute m matches (0-59) */
	uint32_t hours; /* bit h (0-23) */
	uint32_t mdays; /* bit d (1-31) */
	uint16_t months; /* bit m (1-12) */
	uint8_t wdays; /* bit w (0-6, Sunday = 0; 7 is folded to 0) */
	int mday_restricted; /* day-of-month field was not "*" */
	int wday_restricted; /* day-of-week field was not "*" */
};

/*
 * schedule_parse(expr, out, err, errlen):
 * Parse ${expr} into ${out}.  Return 0, or -1 with the reason in ${err},
 * naming the field and the position (e.g. "field 2 (hour), position 4:
 * 25 is out of range 0-23").
 */
int schedule_parse(
    const char *expr, struct schedule *out, char *err, size_t errlen);

/*
 * schedule_current_slot(s, tz, as_of, slot):
 * The latest slot <= ${as_of}, evaluated in the loaded time zone ${tz}
 * (job/base/tz.h; NULL is UTC).  Return 0, or -1 if the schedule has no
 * slot in the preceding 5 years (e.g. "0 0 30 2 *").
 */
int schedule_current_slot(
    const struct schedule *s, const struct tz *tz, time_t as_of, time_t *slot);

/*
 * schedule_next_slot(s, tz, after, slot):
 * The earliest slot > ${after}.  0 or -1 as above.
 */
int schedule_next_slot(
    const struct schedule *s, const struct tz *tz, time_t after, time_t *slot);

/*
 * schedule_interval(s, tz, as_of):
 * Seconds between the current slot at ${as_of} and the slot before it
 * (the period `check` allows twice over); -1 if there are no such slots.
 */
long long schedule_interval(
    const struct schedule *s, const struct tz *tz, time_t as_of);

#endif
