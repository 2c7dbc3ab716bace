/* Timers: one libevent event each, linked per kernel so a plugin's timers can be cancelled
 * together when it is unloaded. */
#include "timer.h"

#include <event2/event.h>
#include <stdlib.h>

struct ez_timer {
    kn_timers *ts;
    struct ez_timer *prev, *next;
    struct event *ev;
    ez_plugin *owner;
    ez_timer_fn fn;
    void *ud;
    int repeat;
    int firing;
    int cancelled;
};

struct kn_timers {
    struct event_base *base;
    ez_timer *head;
    size_t count;
};

kn_timers *kn_timers_new(struct event_base *base) {
    kn_timers *ts = calloc(1, sizeof *ts);
    if (ts)
        ts->base = base;
    return ts;
}

static void unlink_free(ez_timer *t) {
    kn_timers *ts = t->ts;
    if (t->prev)
        t->prev->next = t->next;
    else
        ts->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    ts->count--;
    event_free(t->ev);
    free(t);
}

static void on_fire(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    ez_timer *t = arg;
    t->firing = 1;
    t->fn(t->ud);
    t->firing = 0;
    if (t->cancelled || !t->repeat)
        unlink_free(t);
}

ez_timer *kn_timer_start(kn_timers *ts, ez_plugin *owner, int64_t delay_ms, int repeat,
                         ez_timer_fn fn, void *ud) {
    if (!ts || !fn || delay_ms < 0 || (repeat && delay_ms == 0))
        return NULL;
    ez_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ev = event_new(ts->base, -1, repeat ? EV_PERSIST : 0, on_fire, t);
    if (!t->ev) {
        free(t);
        return NULL;
    }
    struct timeval tv = {.tv_sec = (time_t)(delay_ms / 1000),
                         .tv_usec = (suseconds_t)(delay_ms % 1000) * 1000};
    if (event_add(t->ev, &tv) != 0) {
        event_free(t->ev);
        free(t);
        return NULL;
    }
    t->ts = ts;
    t->owner = owner;
    t->fn = fn;
    t->ud = ud;
    t->repeat = repeat != 0;
    t->next = ts->head;
    if (ts->head)
        ts->head->prev = t;
    ts->head = t;
    ts->count++;
    return t;
}

void kn_timer_cancel(ez_timer *t) {
    if (!t || t->cancelled)
        return;
    t->cancelled = 1;
    event_del(t->ev);
    if (!t->firing)
        unlink_free(t);
}

void kn_timers_cancel_owner(kn_timers *ts, const ez_plugin *owner) {
    if (!ts)
        return;
    for (ez_timer *t = ts->head, *next; t; t = next) {
        next = t->next;
        if (t->owner == owner)
            kn_timer_cancel(t);
    }
}

size_t kn_timers_count(const kn_timers *ts) {
    return ts ? ts->count : 0;
}

void kn_timers_free(kn_timers *ts) {
    if (!ts)
        return;
    while (ts->head)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        unlink_free(ts->head);
    free(ts);
}
