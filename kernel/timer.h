/* Plugin timers on the kernel loop. Loop thread only. */
#ifndef KN_TIMER_H
#define KN_TIMER_H

#include "core.h"

struct event_base;

kn_timers *kn_timers_new(struct event_base *base);
/* Cancels every timer still pending. */
void kn_timers_free(kn_timers *ts);
/* repeat 0 = one shot (the handle dies after it fires), else every delay_ms until cancelled.
 * NULL on bad arguments (delay < 0, no fn) or out of memory. */
ez_timer *kn_timer_start(kn_timers *ts, ez_plugin *owner, int64_t delay_ms, int repeat,
                         ez_timer_fn fn, void *ud);
/* Safe from inside the timer's own callback. */
void kn_timer_cancel(ez_timer *t);
/* Cancels every timer of one plugin (before its destroy). */
void kn_timers_cancel_owner(kn_timers *ts, const ez_plugin *owner);
/* Number of pending timers (tests, diagnostics). */
size_t kn_timers_count(const kn_timers *ts);

#endif
