/* Fixed-delay timer queues (see sio_tq.h). */
#include "sio_tq.h"

#include "util_time.h"

#include <event2/event.h>
#include <stddef.h>

static void tq_arm(kn_tq *q, int64_t now) {
    kn_tq_node *h = q->head.next;
    if (h == &q->head) {
        event_del(q->ev);
        return;
    }
    int64_t wait = h->due - now;
    if (wait < 0)
        wait = 0;
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    event_add(q->ev, &tv);
}

static void tq_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_tq *q = arg;
    int64_t now = kn_mono_ms();
    /* nodes pushed while firing have due > now, so the loop ends */
    for (;;) {
        kn_tq_node *h = q->head.next;
        if (h == &q->head || h->due > now)
            break;
        kn_tq_remove(h);
        q->fire(h, q->ud);
    }
    tq_arm(q, kn_mono_ms());
}

int kn_tq_init(kn_tq *q, struct event_base *base, int64_t delay_ms, kn_tq_fn fire, void *ud) {
    q->head.prev = q->head.next = &q->head;
    q->delay = delay_ms < 1 ? 1 : delay_ms;
    q->fire = fire;
    q->ud = ud;
    q->ev = evtimer_new(base, tq_cb, q);
    return q->ev ? 0 : -1;
}

void kn_tq_destroy(kn_tq *q) {
    if (!q->ev)
        return;
    while (q->head.next != &q->head)
        kn_tq_remove(q->head.next);
    event_free(q->ev);
    q->ev = NULL;
}

void kn_tq_remove(kn_tq_node *n) {
    if (!n->next)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

void kn_tq_push(kn_tq *q, kn_tq_node *n) {
    kn_tq_push_from(q, n, kn_mono_ms());
}

void kn_tq_push_from(kn_tq *q, kn_tq_node *n, int64_t from) {
    kn_tq_remove(n);
    int64_t now = kn_mono_ms();
    if (from > now)
        from = now;
    /* appending keeps the queue sorted only if no queued node is due later */
    if (q->head.prev != &q->head && q->head.prev->due > from + q->delay)
        from = q->head.prev->due - q->delay;
    n->due = from + q->delay;
    int was_empty = q->head.next == &q->head;
    n->prev = q->head.prev;
    n->next = &q->head;
    q->head.prev->next = n;
    q->head.prev = n;
    if (was_empty)
        tq_arm(q, now);
}
