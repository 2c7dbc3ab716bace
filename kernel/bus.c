/* Event bus. Publishers append to a mutex-protected FIFO and wake the loop with event_active;
 * the loop takes the whole FIFO at once and delivers it, so order is kept and a publisher never
 * waits for a subscriber. Queue nodes are recycled through a free list: the hot path allocates
 * nothing but the message the caller built. */
#include "bus.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUS_FREE_MAX 256
#define BUS_DRAIN_ROUNDS 1000

typedef struct bus_msg {
    struct bus_msg *next;
    json_t *msg;
    char topic[KN_TOPIC_MAX];
} bus_msg;

struct kn_sub {
    kn_bus *bus;
    ez_plugin *owner;
    ez_bus_fn fn;
    void *ud;
    ez_free_fn ud_free;
    int dead;
    int exact; /* no '*': plain strcmp */
    int all;   /* "*": everything */
    char glob[KN_TOPIC_MAX];
};

struct kn_bus {
    struct event_base *base;
    struct event *wake;
    pthread_t loop_thread;

    pthread_mutex_t mu; /* guards head/tail/free list/closed */
    bus_msg *head, *tail, *free_list;
    size_t free_count;
    int closed;

    /* loop thread only */
    int delivering;
    int delivering_log;
    int dirty; /* dead subscriptions wait for the end of delivery to be removed */
    kn_sub **subs;
    size_t nsubs, cap;
};

int kn_bus_glob_match(const char *g, const char *t) {
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*g == '*') {
            star = g++;
            resume = t;
        } else if (*g == *t) {
            g++;
            t++;
        } else if (star) {
            g = star + 1;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*g == '*')
        g++;
    return *g == '\0';
}

static int valid_name(const char *s) {
    if (!s || !*s)
        return 0;
    size_t n = strnlen(s, KN_TOPIC_MAX);
    return n < KN_TOPIC_MAX;
}

static void deliver(kn_bus *b, bus_msg *m) {
    int is_log = strcmp(m->topic, "kernel.log") == 0;
    b->delivering++;
    b->delivering_log += is_log;
    /* index loop: ud_free or a callback may unsubscribe, which only marks the entry dead */
    for (size_t i = 0; i < b->nsubs; i++) {
        kn_sub *s = b->subs[i];
        if (s->dead)
            continue;
        if (s->all ||
            (s->exact ? strcmp(s->glob, m->topic) == 0 : kn_bus_glob_match(s->glob, m->topic)))
            s->fn(m->topic, m->msg, s->ud);
    }
    b->delivering_log -= is_log;
    b->delivering--;
}

static void compact(kn_bus *b) {
    size_t o = 0;
    for (size_t i = 0; i < b->nsubs; i++) {
        if (b->subs[i]->dead)
            free(b->subs[i]);
        else
            b->subs[o++] = b->subs[i];
    }
    b->nsubs = o;
    b->dirty = 0;
}

static bus_msg *take_all(kn_bus *b) {
    pthread_mutex_lock(&b->mu);
    bus_msg *list = b->head;
    b->head = b->tail = NULL;
    pthread_mutex_unlock(&b->mu);
    return list;
}

static void recycle(kn_bus *b, bus_msg *first, bus_msg *last, size_t n) {
    pthread_mutex_lock(&b->mu);
    if (b->free_count < BUS_FREE_MAX) {
        last->next = b->free_list;
        b->free_list = first;
        b->free_count += n;
        first = NULL;
    }
    pthread_mutex_unlock(&b->mu);
    while (first) {
        bus_msg *next = first->next;
        free(first);
        first = next;
    }
}

static size_t deliver_list(kn_bus *b, bus_msg *list) {
    size_t n = 0;
    bus_msg *last = NULL;
    for (bus_msg *m = list; m; m = m->next) {
        deliver(b, m);
        json_decref(m->msg);
        m->msg = NULL;
        last = m;
        n++;
    }
    if (!b->delivering && b->dirty)
        compact(b);
    if (list)
        recycle(b, list, last, n);
    return n;
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_bus *b = arg;
    deliver_list(b, take_all(b));
}

kn_bus *kn_bus_new(struct event_base *base) {
    kn_bus *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->base = base;
    b->loop_thread = pthread_self();
    pthread_mutex_init(&b->mu, NULL);
    b->wake = event_new(base, -1, 0, on_wake, b);
    if (!b->wake) {
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    return b;
}

void kn_bus_free(kn_bus *b) {
    if (!b)
        return;
    bus_msg *m = take_all(b);
    while (m) {
        bus_msg *next = m->next;
        json_decref(m->msg);
        free(m);
        m = next;
    }
    for (m = b->free_list; m;) {
        bus_msg *next = m->next;
        free(m);
        m = next;
    }
    for (size_t i = 0; i < b->nsubs; i++) {
        kn_sub *s = b->subs[i];
        if (!s->dead && s->ud_free)
            s->ud_free(s->ud);
        free(s);
    }
    free(b->subs);
    event_free(b->wake);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

kn_sub *kn_bus_subscribe(kn_bus *b, ez_plugin *owner, const char *glob, ez_bus_fn fn, void *ud,
                         ez_free_fn ud_free) {
    if (!b || !fn || !valid_name(glob))
        return NULL;
    if (b->nsubs == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        kn_sub **n = realloc(b->subs, cap * sizeof *n);
        if (!n)
            return NULL;
        b->subs = n;
        b->cap = cap;
    }
    kn_sub *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bus = b;
    s->owner = owner;
    s->fn = fn;
    s->ud = ud;
    s->ud_free = ud_free;
    strcpy(s->glob, glob);
    s->exact = strchr(glob, '*') == NULL;
    s->all = strspn(glob, "*") == strlen(glob);
    b->subs[b->nsubs++] = s;
    return s;
}

void kn_bus_unsubscribe(kn_sub *s) {
    if (!s || s->dead)
        return;
    kn_bus *b = s->bus;
    s->dead = 1;
    if (s->ud_free)
        s->ud_free(s->ud);
    s->ud_free = NULL;
    if (b->delivering) {
        b->dirty = 1;
        return;
    }
    for (size_t i = 0; i < b->nsubs; i++)
        if (b->subs[i] == s) {
            memmove(&b->subs[i], &b->subs[i + 1], (b->nsubs - i - 1) * sizeof *b->subs);
            b->nsubs--;
            break;
        }
    free(s);
}

int kn_bus_publish(kn_bus *b, const char *topic, json_t *msg_new) {
    if (!b || !msg_new || !valid_name(topic)) {
        json_decref(msg_new);
        return EZ_EINVAL;
    }
    size_t tlen = strlen(topic);
    pthread_mutex_lock(&b->mu);
    if (b->closed) {
        pthread_mutex_unlock(&b->mu);
        json_decref(msg_new);
        return EZ_ESTATE;
    }
    bus_msg *m = b->free_list;
    if (m) {
        b->free_list = m->next;
        b->free_count--;
    } else {
        m = malloc(sizeof *m);
        if (!m) {
            pthread_mutex_unlock(&b->mu);
            json_decref(msg_new);
            return EZ_ENOMEM;
        }
    }
    m->next = NULL;
    m->msg = msg_new;
    memcpy(m->topic, topic, tlen + 1);
    int was_empty = b->head == NULL;
    if (b->tail)
        b->tail->next = m;
    else
        b->head = m;
    b->tail = m;
    pthread_mutex_unlock(&b->mu);
    /* One wakeup per batch: the loop takes everything queued when it runs. */
    if (was_empty)
        event_active(b->wake, 0, 0);
    return EZ_OK;
}

size_t kn_bus_drain(kn_bus *b) {
    size_t total = 0;
    for (int round = 0; b && round < BUS_DRAIN_ROUNDS; round++) {
        size_t n = deliver_list(b, take_all(b));
        if (!n)
            break;
        total += n;
    }
    return total;
}

void kn_bus_close(kn_bus *b) {
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->closed = 1;
    pthread_mutex_unlock(&b->mu);
}

int kn_bus_in_log_delivery(kn_bus *b) {
    /* thread check first: only the loop thread may read the delivery counters */
    return pthread_equal(pthread_self(), b->loop_thread) && b->delivering_log > 0;
}
