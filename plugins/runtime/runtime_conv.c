/* Conversations: one per (agent, channel), each answering one message at a time with a bounded
 * FIFO of waiting messages. Idle conversations are kept (they remember that the room exists)
 * until the table grows past RT_CONV_KEEP, then swept. */
#include "runtime_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_CONV_KEEP 8192

static uint64_t conv_hash(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '/') * 1099511628211ull;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static void conv_free(rt_conv *c) {
    if (c->active) /* teardown while a provider still holds the call: it never calls back */
        rt_gen_discard(c->active);
    while (c->head) {
        rt_job *j = c->head;
        c->head = j->next;
        json_decref(j->ev);
        free(j);
    }
    if (c->kick && !c->st->destroying)
        c->st->api->timer_cancel(c->kick);
    free(c);
}

/* Frees idle conversations when the table is large; never the one being used (keep). */
static void conv_sweep(rt_state *st, const rt_conv *keep) {
    for (unsigned b = 0; b < st->nbuckets; b++) {
        rt_conv **pp = &st->buckets[b];
        while (*pp) {
            rt_conv *c = *pp;
            if (c != keep && !c->active && !c->head && !c->kick) {
                *pp = c->hnext;
                conv_free(c);
                st->nconv--;
            } else {
                pp = &c->hnext;
            }
        }
    }
}

rt_conv *rt_conv_get(rt_state *st, const char *agent_id, const char *channel_id) {
    uint64_t h = conv_hash(agent_id, channel_id);
    unsigned b = (unsigned)(h % st->nbuckets);
    for (rt_conv *c = st->buckets[b]; c; c = c->hnext)
        if (c->hash == h && strcmp(c->agent_id, agent_id) == 0 &&
            strcmp(c->channel_id, channel_id) == 0)
            return c;
    rt_conv *c = calloc(1, sizeof(rt_conv));
    if (!c)
        return NULL;
    c->st = st;
    snprintf(c->agent_id, sizeof c->agent_id, "%s", agent_id);
    snprintf(c->channel_id, sizeof c->channel_id, "%s", channel_id);
    rt_unique_uuid(st, agent_id, channel_id, c->room_id);
    c->hash = h;
    c->hnext = st->buckets[b];
    st->buckets[b] = c;
    if (++st->nconv > RT_CONV_KEEP)
        conv_sweep(st, c);
    return c;
}

/* Starts queued jobs until one is in flight or the queue is empty. */
static void conv_run(rt_conv *c) {
    while (!c->active && c->head && !c->st->stopping) {
        rt_job *j = c->head;
        c->head = j->next;
        if (!c->head)
            c->tail = NULL;
        c->depth--;
        rt_gen_start(c, j->ev);
        json_decref(j->ev);
        free(j);
    }
}

static void conv_kick(void *ud) {
    rt_conv *c = ud;
    c->kick = NULL;
    conv_run(c);
}

void rt_conv_submit(rt_conv *c, const json_t *ev) {
    rt_state *st = c->st;
    if (!c->active && !c->head && !c->kick) {
        rt_gen_start(c, ev);
        return;
    }
    if (c->depth >= st->queue_depth) {
        char why[96];
        snprintf(why, sizeof why, "too many messages are waiting for an answer (%d queued)",
                 c->depth);
        EZ_LOG(st->api, st->self, EZ_WARN, "agent %s channel %s: queue full (%d)", c->agent_id,
               c->channel_id, c->depth);
        rt_post_error(st, c->agent_id, ev, why);
        return;
    }
    rt_job *j = calloc(1, sizeof(rt_job));
    if (!j) {
        rt_post_error(st, c->agent_id, ev, "out of memory");
        return;
    }
    j->ev = json_incref((json_t *)ev);
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j;
    c->tail = j;
    c->depth++;
}

void rt_conv_finished(rt_conv *c) {
    c->active = NULL;
    /* The next job starts from a fresh loop iteration: a provider that answers inside
     * generate() cannot recurse through a long queue. */
    if (c->head && !c->kick && !c->st->stopping)
        c->kick = c->st->api->timer_start(c->st->self, 0, 0, conv_kick, c);
}

void rt_conv_abort(rt_conv *c, const char *reason, int post) {
    rt_state *st = c->st;
    if (c->kick) {
        st->api->timer_cancel(c->kick);
        c->kick = NULL;
    }
    int dropped = 0;
    while (c->head) {
        rt_job *j = c->head;
        c->head = j->next;
        if (post)
            rt_post_error(st, c->agent_id, j->ev, reason);
        else
            dropped++;
        json_decref(j->ev);
        free(j);
    }
    c->tail = NULL;
    c->depth = 0;
    if (dropped)
        EZ_LOG(st->api, st->self, EZ_WARN,
               "agent %s channel %s: %d queued message(s) not "
               "answered: %s",
               c->agent_id, c->channel_id, dropped, reason);
    if (c->active)
        rt_gen_cancel(c->active, reason, post);
}

void rt_conv_each(rt_state *st, void (*fn)(rt_conv *c, void *ud), void *ud) {
    for (unsigned b = 0; b < st->nbuckets; b++)
        for (rt_conv *c = st->buckets[b]; c; c = c->hnext)
            fn(c, ud);
}

void rt_conv_free_all(rt_state *st) {
    for (unsigned b = 0; b < st->nbuckets; b++) {
        while (st->buckets[b]) {
            rt_conv *c = st->buckets[b];
            st->buckets[b] = c->hnext;
            conv_free(c);
        }
    }
    st->nconv = 0;
}
