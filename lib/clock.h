/* clock: the one monotonic clock of ipcbox and its deadline arithmetic, and
 * the one reader of the wall clock.
 *
 * A deadline is a CLOCK_MONOTONIC time in milliseconds; CLOCK_NO_DEADLINE
 * (-1) means none.  Every wait in ipcbox turns its deadline into a poll(2)
 * timeout through clock_poll_ms, so all of them round and cap alike.  The
 * wall clock (clock_wall) can jump, so it never holds a deadline: it dates
 * what is shown to people, and is the form a few calls take a timeout in. */
#ifndef IPCBOX_CLOCK_H
#define IPCBOX_CLOCK_H

#include <stdint.h>
#include <time.h>

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
/* The CLOCK_REALTIME time after_ms from now (0: now), tv_nsec in
 * [0, 1e9): a message's time stamp, or the absolute timeout of a call that
 * takes a wall-clock instant (mq_timedsend, mq_timedreceive). */
struct timespec clock_wall(int64_t after_ms);

#endif
