/* clock: the one monotonic clock of ipcbox and its deadline arithmetic.
 *
 * A deadline is a CLOCK_MONOTONIC time in milliseconds; CLOCK_NO_DEADLINE
 * (-1) means none.  Every wait in ipcbox turns its deadline into a poll(2)
 * timeout through clock_poll_ms, so all of them round and cap alike. */
#ifndef IPCBOX_CLOCK_H
#define IPCBOX_CLOCK_H

#include <stdint.h>

#define CLOCK_NO_DEADLINE (-1)

/* Milliseconds on CLOCK_MONOTONIC since an arbitrary epoch. */
int64_t clock_now_ms(void);
/* The deadline timeout_ms from now; CLOCK_NO_DEADLINE when timeout_ms < 0. */
int64_t clock_deadline(int64_t timeout_ms);
/* What is left before deadline_ms as a poll(2) timeout: -1 for no deadline,
 * 0 once it has passed, otherwise the milliseconds left (capped at INT_MAX;
 * callers loop and look again). */
int clock_poll_ms(int64_t deadline_ms);
/* The milliseconds left before deadline_ms, 0 once it has passed;
 * CLOCK_NO_DEADLINE for none.  For the calls that take a time left
 * (semtimedop, SO_SNDTIMEO) rather than a poll timeout. */
int64_t clock_left_ms(int64_t deadline_ms);
/* 1 if the deadline has passed (never for CLOCK_NO_DEADLINE). */
int clock_expired(int64_t deadline_ms);

#endif
