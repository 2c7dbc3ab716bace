/* timer.c and worker.c: one-shot and repeating timers, cancel inside a callback, cancel by
 * owner; worker jobs run off the loop thread, completions on it, drain joins everything. */
#include "check.h"
#include "timer.h"
#include "worker.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct tctx {
    int fired;
    int cancel_at;
    ez_timer *self;
} tctx;

static void on_tick(void *ud) {
    tctx *t = ud;
    t->fired++;
    if (t->cancel_at && t->fired == t->cancel_at)
        kn_timer_cancel(t->self);
}

static void on_stop(void *ud) {
    event_base_loopexit(ud, NULL);
}

static void test_timers(struct event_base *base) {
    kn_timers *ts = kn_timers_new(base);
    ez_plugin *owner_a = (ez_plugin *)0x1, *owner_b = (ez_plugin *)0x2;
    tctx once = {0}, rep = {.cancel_at = 3}, owned = {0}, never = {0};
    CHECK(kn_timer_start(ts, owner_a, 5, 0, on_tick, &once) != NULL);
    rep.self = kn_timer_start(ts, owner_a, 5, 1, on_tick, &rep);
    CHECK(rep.self != NULL);
    CHECK(kn_timer_start(ts, owner_b, 5, 1, on_tick, &owned) != NULL);
    ez_timer *c = kn_timer_start(ts, owner_a, 10, 0, on_tick, &never);
    CHECK(kn_timer_start(ts, owner_a, -1, 0, on_tick, &never) == NULL);
    CHECK(kn_timer_start(ts, owner_a, 0, 1, on_tick, &never) == NULL); /* would spin */
    CHECK(kn_timer_start(ts, owner_a, 1, 0, NULL, &never) == NULL);
    CHECK_INT(kn_timers_count(ts), 4);
    kn_timer_cancel(c);
    CHECK_INT(kn_timers_count(ts), 3);
    kn_timer_start(ts, NULL, 80, 0, on_stop, base);
    event_base_dispatch(base);
    CHECK_INT(once.fired, 1);
    CHECK_INT(rep.fired, 3); /* cancelled itself on the third tick */
    CHECK(owned.fired >= 3);
    CHECK_INT(never.fired, 0);
    CHECK_INT(kn_timers_count(ts), 1); /* only owner_b's repeating timer is left */
    kn_timers_cancel_owner(ts, owner_b);
    CHECK_INT(kn_timers_count(ts), 0);
    /* timers still pending at free are released without firing */
    kn_timer_start(ts, owner_a, 100000, 0, on_tick, &never);
    kn_timers_free(ts);
    CHECK_INT(never.fired, 0);
}

typedef struct job {
    pthread_t loop_thread;
    atomic_int ran_off_loop;
    int done_on_loop;
    int done;
    atomic_int work_ran;
    struct event_base *base;
    int expect;
} job;

static void work(void *ud) {
    job *j = ud;
    if (!pthread_equal(pthread_self(), j->loop_thread))
        atomic_fetch_add(&j->ran_off_loop, 1);
    usleep(1000);
    atomic_fetch_add(&j->work_ran, 1);
}

static void done(void *ud) {
    job *j = ud;
    if (pthread_equal(pthread_self(), j->loop_thread))
        j->done_on_loop++;
    if (++j->done == j->expect)
        event_base_loopexit(j->base, NULL);
}

static void keepalive(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
}

static void test_workers(struct event_base *base) {
    /* an active-only event does not keep the loop alive; the kernel's listener does */
    struct event *ka = event_new(base, -1, EV_PERSIST, keepalive, NULL);
    struct timeval tv = {1, 0};
    event_add(ka, &tv);
    kn_workers *w = kn_workers_new(base, 3);
    job j = {.loop_thread = pthread_self(), .base = base, .expect = 20};
    for (int i = 0; i < 20; i++)
        CHECK_INT(kn_work_submit(w, NULL, work, done, &j), EZ_OK);
    CHECK_INT(kn_work_submit(w, NULL, NULL, NULL, &j), EZ_EINVAL);
    event_base_dispatch(base);
    CHECK_INT(j.done, 20);
    CHECK_INT(j.done_on_loop, 20);
    CHECK_INT(atomic_load(&j.ran_off_loop), 20);
    CHECK_INT(kn_workers_pending(w), 0);

    /* drain: queued jobs still run, completions run inside drain, later submits refused */
    job k = {.loop_thread = pthread_self(), .base = base, .expect = 1000};
    for (int i = 0; i < 10; i++)
        kn_work_submit(w, NULL, work, done, &k);
    kn_workers_drain(w);
    CHECK_INT(atomic_load(&k.work_ran), 10);
    CHECK_INT(k.done, 10);
    CHECK_INT(kn_work_submit(w, NULL, work, done, &k), EZ_ESTATE);
    kn_workers_free(w);
    event_free(ka);
}

int main(void) {
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    test_timers(base);
    test_workers(base);
    event_base_free(base);
    libevent_global_shutdown();
    CHECK_DONE();
}
