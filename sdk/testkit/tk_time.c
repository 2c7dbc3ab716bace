/* testkit: the fake clock, timers fired by ez_tk_advance, the inline worker pool and fd watches
 * polled by ez_tk_poll_fds. */
#include "tk_int.h"

#include "json_text.h"
#include "multipart.h"
#include "util_utf8.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* now_ms() takes no host argument, so the clock is process-wide: one ez_tk at a time. */
static int64_t tk_clock_ms = EZ_TK_EPOCH_MS;

void tk_clock_set(int64_t ms) {
    tk_clock_ms = ms;
}

static int64_t api_now_ms(void) {
    return tk_clock_ms;
}

int64_t ez_tk_now(const ez_tk *tk) {
    (void)tk;
    return tk_clock_ms;
}

/* ---- timers ---- */

static ez_timer *api_timer_start(ez_plugin *self, int64_t delay_ms, int repeat, ez_timer_fn fn,
                                 void *ud) {
    if (!self || !fn || delay_ms < 0 || (repeat && delay_ms == 0))
        return NULL;
    ez_tk *tk = self->tk;
    ez_timer *t = tk_xcalloc(1, sizeof *t);
    t->owner = self;
    t->due = tk_clock_ms + delay_ms;
    t->interval = delay_ms;
    t->repeat = repeat != 0;
    t->seq = ++tk->timer_seq;
    t->fn = fn;
    t->ud = ud;
    tk_append((void ***)&tk->timers, &tk->ntimers, t);
    return t;
}

/* Safe from inside the timer's own callback: the sweep after the callback frees it. */
static void api_timer_cancel(ez_timer *t) {
    if (t)
        t->cancelled = 1;
}

static void sweep(ez_tk *tk) {
    size_t o = 0;
    for (size_t i = 0; i < tk->ntimers; i++) {
        ez_timer *t = tk->timers[i];
        if (t->cancelled && !t->firing)
            free(t);
        else
            tk->timers[o++] = t;
    }
    tk->ntimers = o;
}

void tk_timers_cancel_owner(ez_tk *tk, const ez_plugin *owner) {
    for (size_t i = 0; i < tk->ntimers; i++)
        if (tk->timers[i]->owner == owner)
            tk->timers[i]->cancelled = 1;
    sweep(tk);
}

void tk_timers_free(ez_tk *tk) {
    for (size_t i = 0; i < tk->ntimers; i++)
        free(tk->timers[i]);
    free(tk->timers);
    tk->timers = NULL;
    tk->ntimers = 0;
}

size_t ez_tk_timer_count(const ez_tk *tk) {
    size_t n = 0;
    for (size_t i = 0; tk && i < tk->ntimers; i++)
        n += !tk->timers[i]->cancelled;
    return n;
}

int ez_tk_advance(ez_tk *tk, int64_t ms) {
    if (!tk || ms < 0)
        return 0;
    int64_t target = tk_clock_ms + ms;
    int fired = 0;
    for (;;) {
        ez_timer *next = NULL;
        for (size_t i = 0; i < tk->ntimers; i++) {
            ez_timer *t = tk->timers[i];
            if (t->cancelled || t->due > target)
                continue;
            if (!next || t->due < next->due || (t->due == next->due && t->seq < next->seq))
                next = t;
        }
        if (!next)
            break;
        if (next->due > tk_clock_ms)
            tk_clock_ms = next->due;
        next->firing = 1;
        if (!next->repeat)
            next->cancelled = 1; /* a one-shot handle dies when it fires */
        next->fn(next->ud);
        next->firing = 0;
        if (next->repeat && !next->cancelled) {
            next->due += next->interval;
            next->seq = ++tk->timer_seq;
        }
        fired++;
        sweep(tk);
        ez_tk_run(tk);
    }
    tk_clock_ms = target;
    return fired;
}

/* ---- worker pool: work now, completion on the next loop turn ---- */

static int api_work_submit(ez_plugin *self, ez_work_fn work, ez_done_fn done, void *ud) {
    if (!self || !work)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    tk->work_count++;
    work(ud);
    if (done) {
        tk_item *it = tk_xcalloc(1, sizeof *it);
        it->kind = TK_ITEM_DONE;
        it->done = done;
        it->ud = ud;
        it->owner = self;
        tk_queue_push(tk, it);
    }
    return EZ_OK;
}

size_t ez_tk_work_count(const ez_tk *tk) {
    return tk ? tk->work_count : 0;
}

/* ---- fd watches (ABI 1.1) ---- */

static ez_watch *api_fd_watch(ez_plugin *self, int fd, unsigned events, ez_fd_fn fn, void *ud) {
    if (!self || fd < 0 || !fn || (events & ~(unsigned)(EZ_FD_READ | EZ_FD_WRITE)))
        return NULL;
    ez_watch *w = tk_xcalloc(1, sizeof *w);
    w->owner = self;
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    w->ud = ud;
    tk_append((void ***)&self->tk->watches, &self->tk->nwatches, w);
    return w;
}

static int api_fd_watch_update(ez_watch *w, unsigned events) {
    if (!w || w->cancelled || (events & ~(unsigned)(EZ_FD_READ | EZ_FD_WRITE)))
        return EZ_EINVAL;
    w->events = events;
    return EZ_OK;
}

/* Marks only: ez_tk_poll_fds may be iterating; the record is freed at finish. */
static void api_fd_watch_cancel(ez_watch *w) {
    if (w)
        w->cancelled = 1;
}

int ez_tk_poll_fds(ez_tk *tk, int timeout_ms) {
    if (!tk || tk->nwatches == 0)
        return 0;
    size_t n = tk->nwatches;
    struct pollfd *p = tk_xcalloc(n, sizeof *p);
    ez_watch **ws = tk_xcalloc(n, sizeof *ws);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        ez_watch *w = tk->watches[i];
        if (w->cancelled || !w->events)
            continue;
        p[k].fd = w->fd;
        p[k].events = (short)(((w->events & EZ_FD_READ) ? POLLIN : 0) |
                              ((w->events & EZ_FD_WRITE) ? POLLOUT : 0));
        ws[k++] = w;
    }
    int ran = 0;
    if (k && poll(p, k, timeout_ms) > 0) {
        for (size_t i = 0; i < k; i++) {
            unsigned ev = 0;
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
                ev |= EZ_FD_READ;
            if (p[i].revents & (POLLOUT | POLLERR))
                ev |= EZ_FD_WRITE;
            ev &= ws[i]->events;
            if (ev && !ws[i]->cancelled) {
                ws[i]->fn(ws[i]->fd, ev, ws[i]->ud);
                ran++;
            }
        }
    }
    free(p);
    free(ws);
    ez_tk_run(tk);
    return ran;
}

void tk_time_fill(ez_tk *tk) {
    tk->api.now_ms = api_now_ms;
    tk->api.timer_start = api_timer_start;
    tk->api.timer_cancel = api_timer_cancel;
    tk->api.work_submit = api_work_submit;
    tk->api.fd_watch = api_fd_watch;
    tk->api.fd_watch_update = api_fd_watch_update;
    tk->api.fd_watch_cancel = api_fd_watch_cancel;
    /* the kernel's own multipart reader, compiled into the testkit */
    tk->api.mp_is_form = kn_mp_is_form;
    tk->api.mp_boundary = kn_mp_boundary;
    tk->api.mp_parse = kn_mp_parse;
    tk->api.mp_message = kn_mp_message;
    tk->api.json_text = kn_json_text; /* the kernel's writer, compiled into the testkit */
    tk->api.utf8_sanitize = kn_utf8_sanitize;
}
