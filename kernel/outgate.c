/* The output gate (outgate.h). Each held piece of output carries the number of the newest
 * write batch queued when it was produced; a commit of batch n releases, connection by
 * connection, the leading pieces tagged n or lower. Pieces after a held one are held too, so a
 * connection's bytes keep their order, and a connection that receives output every turn still
 * gets each piece out one commit later instead of waiting for a quiet moment. */
#include "outgate.h"

#include <event2/buffer.h>
#include <stdlib.h>

struct kn_outq_seg {
    kn_outq_seg *next;
    uint64_t tag;
    struct evbuffer *buf;
};

struct kn_outgate {
    uint64_t (*current_tag)(const void *ctx);
    const void *ctx;
    kn_outq list; /* sentinel of the queues holding output */
};

static void unlist(kn_outq *q) {
    if (!q->prev)
        return;
    q->prev->next = q->next;
    q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

void kn_outgate_release(void *arg, uint64_t committed, int ok) {
    kn_outgate *g = arg;
    if (!ok) {
        for (kn_outq *q = g->list.next, *next; q != &g->list; q = next) {
            next = q->next;
            if (!q->head || q->head->tag > committed)
                continue;
            kn_outq_clear(g, q); /* nothing of it may go out as if the writes were stored */
            if (q->fail)
                q->fail(q, q->ud);
            if (next != &g->list && !next->prev)
                next = g->list.next;
        }
        return;
    }
    /* a release callback may clear or hold on any queue: walk from the head each time */
    for (kn_outq *q = g->list.next, *next; q != &g->list; q = next) {
        next = q->next;
        if (!q->head || q->head->tag > committed)
            continue;
        kn_outq_seg *seg = q->head;
        q->head = seg->next;
        if (!q->head) {
            q->tail = NULL;
            unlist(q);
        }
        /* one segment per pass and queue keeps the callbacks simple; the rest follow below */
        q->release(q, seg->buf, q->ud);
        evbuffer_free(seg->buf);
        free(seg);
        if (q->head && q->head->tag <= committed)
            next = q; /* same queue again */
        else if (next != &g->list && !next->prev)
            next = g->list.next; /* the callback unlisted the next queue: start over */
    }
}

kn_outgate *kn_outgate_new(uint64_t (*current_tag)(const void *ctx), const void *ctx) {
    kn_outgate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->current_tag = current_tag;
    g->ctx = ctx;
    g->list.next = g->list.prev = &g->list;
    return g;
}

void kn_outgate_free(kn_outgate *g) {
    if (!g)
        return;
    while (g->list.next != &g->list)
        kn_outq_clear(g, g->list.next);
    free(g);
}

void kn_outq_init(kn_outq *q, kn_outq_release_fn fn, kn_outq_fail_fn fail, void *ud) {
    q->head = q->tail = NULL;
    q->prev = q->next = NULL;
    q->release = fn;
    q->fail = fail;
    q->ud = ud;
}

struct evbuffer *kn_outq_target(kn_outgate *g, kn_outq *q) {
    if (!g)
        return NULL;
    uint64_t tag = g->current_tag(g->ctx);
    if (!tag && !q->head)
        return NULL;
    if (q->tail && q->tail->tag >= tag)
        return q->tail->buf; /* joins the newest held piece: same or later commit */
    kn_outq_seg *seg = calloc(1, sizeof *seg);
    struct evbuffer *buf = seg ? evbuffer_new() : NULL;
    if (!buf) {
        free(seg);
        return q->tail ? q->tail->buf : NULL; /* out of memory: never reorder */
    }
    seg->tag = tag;
    seg->buf = buf;
    if (q->tail)
        q->tail->next = seg;
    else
        q->head = seg;
    q->tail = seg;
    if (!q->prev) {
        q->prev = g->list.prev;
        q->next = &g->list;
        g->list.prev->next = q;
        g->list.prev = q;
    }
    return buf;
}

int kn_outq_held(const kn_outq *q) {
    return q->head != NULL;
}

void kn_outq_clear(kn_outgate *g, kn_outq *q) {
    (void)g;
    while (q->head) {
        kn_outq_seg *seg = q->head;
        q->head = seg->next;
        evbuffer_free(seg->buf);
        free(seg);
    }
    q->tail = NULL;
    unlist(q);
}
