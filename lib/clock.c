/* clock: see clock.h. */
#include "clock.h"

#include <limits.h>
#include <time.h>

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_deadline(int64_t timeout_ms)
{
	return timeout_ms < 0 ? CLOCK_NO_DEADLINE : clock_now_ms() + timeout_ms;
}

int clock_poll_ms(int64_t deadline_ms)
{
	int64_t left = clock_left_ms(deadline_ms);

	if (left < 0)
		return -1;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int64_t clock_left_ms(int64_t deadline_ms)
{
	int64_t left;

	if (deadline_ms < 0)
		return CLOCK_NO_DEADLINE;
	left = deadline_ms - clock_now_ms();
	return left > 0 ? left : 0;
}

int clock_expired(int64_t deadline_ms)
{
	return deadline_ms >= 0 && clock_now_ms() >= deadline_ms;
}

struct timespec clock_wall(int64_t after_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(after_ms / 1000);
	ts.tv_nsec += (long)(after_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	} else if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}
