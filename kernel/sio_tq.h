/* Fixed-delay timer queues. Every Engine.IO session needs a heartbeat deadline, and every
 * deadline of one kind has the same delay (ping interval, ping timeout, connect timeout...), so
 * the nodes of a queue are already in deadline order: appending is O(1), one libevent timer per
 * queue fires for the head, and a session carries a small intrusive node instead of its own
 * timer event. Loop thread only. */
#ifndef KN_SIO_TQ_H
#define KN_SIO_TQ_H

#include <stdint.h>

struct event_base;
struct event;

typedef struct kn_tq_node {
    struct kn_tq_node *prev, *next; /* next == NULL: not queued */
    int64_t due;                    /* monotonic ms */
} kn_tq_node;

typedef struct kn_tq kn_tq;
/* Called for each expired node, already unlinked; it may push or remove any node. */
typedef void (*kn_tq_fn)(kn_tq_node *n, void *ud);

struct kn_tq {
    kn_tq_node head; /* sentinel */
    int64_t delay;
    struct event *ev;
    kn_tq_fn fire;
    void *ud;
};

int kn_tq_init(kn_tq *q, struct event_base *base, int64_t delay_ms, kn_tq_fn fire, void *ud);
void kn_tq_destroy(kn_tq *q); /* unlinks every node without firing */
/* (Re)queues n to fire delay ms from now. */
void kn_tq_push(kn_tq *q, kn_tq_node *n);
/* (Re)queues n to fire delay ms after `from` (monotonic ms, not later than now): chained
 * deadlines (ping, then pong) keep their intended spacing however late the first one fired. */
void kn_tq_push_from(kn_tq *q, kn_tq_node *n, int64_t from);
void kn_tq_remove(kn_tq_node *n);
static inline int kn_tq_queued(const kn_tq_node *n) {
    return n->next != 0;
}

#endif
