/* bus.c: glob matching, async in-order delivery, subscription order, shared immutable
 * messages, unsubscribe (also mid-delivery), cross-thread publishing. */
#include "bus.h"
#include "check.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <pthread.h>
#include <stdlib.h>

typedef struct rec {
    int id;
    int calls;
    int freed;
    long long last_n;
    int order_errors;
    const json_t *last_ptr;
    char seq[256]; /* "id:n " appended per call */
    kn_sub *other; /* unsubscribed on first message when set */
} rec;

static void on_msg(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    rec *r = ud;
    long long n = json_integer_value(json_object_get(msg, "n"));
    if (r->calls > 0 && n != r->last_n + 1)
        r->order_errors++;
    r->last_n = n;
    r->calls++;
    r->last_ptr = msg;
    size_t len = strlen(r->seq);
    if (len < sizeof r->seq - 16)
        snprintf(r->seq + len, sizeof r->seq - len, "%d:%lld ", r->id, n);
    if (r->other) {
        kn_bus_unsubscribe(r->other);
        r->other = NULL;
    }
}

static void on_free(void *ud) {
    ((rec *)ud)->freed++;
}

static void test_glob(void) {
    CHECK(kn_bus_glob_match("*", "a.b.c"));
    CHECK(kn_bus_glob_match("*", ""));
    CHECK(kn_bus_glob_match("messaging.*", "messaging.message.created"));
    CHECK(kn_bus_glob_match("messaging.*", "messaging."));
    CHECK(!kn_bus_glob_match("messaging.*", "messaging"));
    CHECK(!kn_bus_glob_match("messaging.*", "xmessaging.a"));
    CHECK(kn_bus_glob_match("*.agent.started", "runtime.agent.started"));
    CHECK(kn_bus_glob_match("*.agent.started", "a.b.agent.started"));
    CHECK(!kn_bus_glob_match("*.agent.started", "agent.started"));
    CHECK(kn_bus_glob_match("a*c", "abbbc"));
    CHECK(kn_bus_glob_match("a*b*c", "a.x.b.y.c"));
    CHECK(!kn_bus_glob_match("a*b*c", "a.x.c.y.b"));
    CHECK(kn_bus_glob_match("a**c", "ac"));
    CHECK(kn_bus_glob_match("kernel.log", "kernel.log"));
    CHECK(!kn_bus_glob_match("kernel.log", "kernel.logs"));
    CHECK(!kn_bus_glob_match("kernel.logs", "kernel.log"));
}

static void test_delivery(struct event_base *base) {
    kn_bus *b = kn_bus_new(base);
    rec r1 = {.id = 1}, r2 = {.id = 2}, r3 = {.id = 3};
    CHECK(kn_bus_subscribe(b, NULL, "t.*", on_msg, &r1, on_free) != NULL);
    CHECK(kn_bus_subscribe(b, NULL, "t.a", on_msg, &r2, on_free) != NULL);
    CHECK(kn_bus_subscribe(b, NULL, "other", on_msg, &r3, on_free) != NULL);
    CHECK(kn_bus_subscribe(b, NULL, "", on_msg, &r3, NULL) == NULL);
    CHECK(kn_bus_subscribe(b, NULL, "x", NULL, &r3, NULL) == NULL);

    json_t *held = json_pack("{s:i}", "n", 0);
    json_incref(held);
    CHECK_INT(kn_bus_publish(b, "t.a", held), EZ_OK);
    CHECK_INT(kn_bus_publish(b, "t.b", json_pack("{s:i}", "n", 1)), EZ_OK);
    CHECK_INT(kn_bus_publish(b, "t.a", json_pack("{s:i}", "n", 2)), EZ_OK);
    /* asynchronous: nothing delivered before the loop runs */
    CHECK_INT(r1.calls, 0);
    CHECK_INT(held->refcount, 2);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK_INT(r1.calls, 3);
    CHECK_INT(r2.calls, 2);
    CHECK_INT(r3.calls, 0);
    CHECK_INT(r1.order_errors, 0);
    /* subscription order inside one message, publish order across messages */
    CHECK_STR(r1.seq, "1:0 1:1 1:2 ");
    CHECK_STR(r2.seq, "2:0 2:2 ");
    /* one shared message, released after the last subscriber */
    CHECK_INT(held->refcount, 1);
    json_decref(held);

    CHECK_INT(kn_bus_publish(b, "", json_object()), EZ_EINVAL);
    char longtopic[KN_TOPIC_MAX + 10];
    memset(longtopic, 'x', sizeof longtopic - 1);
    longtopic[sizeof longtopic - 1] = '\0';
    CHECK_INT(kn_bus_publish(b, longtopic, json_object()), EZ_EINVAL);
    CHECK_INT(kn_bus_publish(b, "t.a", NULL), EZ_EINVAL);
    kn_bus_free(b);
    CHECK_INT(r1.freed + r2.freed + r3.freed, 3);
}

static void test_unsubscribe_mid_delivery(struct event_base *base) {
    kn_bus *b = kn_bus_new(base);
    rec a = {.id = 1}, c = {.id = 2};
    kn_sub *sa = kn_bus_subscribe(b, NULL, "*", on_msg, &a, on_free);
    kn_sub *sc = kn_bus_subscribe(b, NULL, "*", on_msg, &c, on_free);
    a.other = sc; /* a's first message unsubscribes c before c sees it */
    for (int i = 0; i < 5; i++)
        kn_bus_publish(b, "x", json_pack("{s:i}", "n", i));
    CHECK_INT(kn_bus_drain(b), 5);
    CHECK_INT(a.calls, 5);
    CHECK_INT(c.calls, 0);
    CHECK_INT(c.freed, 1);
    kn_bus_unsubscribe(sa);
    CHECK_INT(a.freed, 1);
    kn_bus_publish(b, "x", json_pack("{s:i}", "n", 9));
    kn_bus_drain(b);
    CHECK_INT(a.calls, 5);
    kn_bus_free(b);
    CHECK_INT(a.freed, 1); /* not twice */

    /* closed bus drops publishes */
    b = kn_bus_new(base);
    kn_bus_close(b);
    CHECK_INT(kn_bus_publish(b, "x", json_object()), EZ_ESTATE);
    kn_bus_free(b);
}

/* A subscriber that publishes: the new message goes after those already queued. */
typedef struct chain {
    kn_bus *b;
    char seq[128];
} chain;

static void on_chain(const char *topic, const json_t *msg, void *ud) {
    chain *c = ud;
    long long n = json_integer_value(json_object_get(msg, "n"));
    size_t len = strlen(c->seq);
    snprintf(c->seq + len, sizeof c->seq - len, "%s%lld ", topic, n);
    if (strcmp(topic, "a") == 0)
        kn_bus_publish(c->b, "b", json_pack("{s:I}", "n", n));
}

static void test_republish(struct event_base *base) {
    chain c = {.b = kn_bus_new(base)};
    kn_bus_subscribe(c.b, NULL, "*", on_chain, &c, NULL);
    kn_bus_publish(c.b, "a", json_pack("{s:i}", "n", 1));
    kn_bus_publish(c.b, "a", json_pack("{s:i}", "n", 2));
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK_STR(c.seq, "a1 a2 b1 b2 ");
    kn_bus_free(c.b);
}

/* kernel.log deliveries are flagged so the logger does not publish what a subscriber logs. */
typedef struct logflag {
    kn_bus *b;
    int seen_flag;
} logflag;

static void on_log(const char *topic, const json_t *msg, void *ud) {
    (void)msg;
    logflag *l = ud;
    if (strcmp(topic, "kernel.log") == 0)
        l->seen_flag = kn_bus_in_log_delivery(l->b);
}

static void test_log_guard(struct event_base *base) {
    logflag l = {.b = kn_bus_new(base)};
    kn_bus_subscribe(l.b, NULL, "kernel.*", on_log, &l, NULL);
    CHECK_INT(kn_bus_in_log_delivery(l.b), 0);
    kn_bus_publish(l.b, "kernel.log", json_object());
    kn_bus_drain(l.b);
    CHECK_INT(l.seen_flag, 1);
    CHECK_INT(kn_bus_in_log_delivery(l.b), 0);
    kn_bus_free(l.b);
}

#define THREADS 4
#define PER_THREAD 20000

typedef struct thread_arg {
    kn_bus *b;
    int id;
} thread_arg;

static void *publisher(void *arg) {
    thread_arg *t = arg;
    char topic[32];
    snprintf(topic, sizeof topic, "thr.%d", t->id);
    for (int i = 0; i < PER_THREAD; i++)
        kn_bus_publish(t->b, topic, json_pack("{s:i}", "n", i));
    return NULL;
}

typedef struct counter {
    long long total;
    long long last[THREADS];
    int order_errors;
} counter;

static void on_thread_msg(const char *topic, const json_t *msg, void *ud) {
    counter *c = ud;
    int id = atoi(topic + 4);
    long long n = json_integer_value(json_object_get(msg, "n"));
    if (n != c->last[id] + 1)
        c->order_errors++;
    c->last[id] = n;
    c->total++;
}

static void test_threads(struct event_base *base) {
    kn_bus *b = kn_bus_new(base);
    counter c = {0};
    for (int i = 0; i < THREADS; i++)
        c.last[i] = -1;
    kn_bus_subscribe(b, NULL, "thr.*", on_thread_msg, &c, NULL);
    pthread_t th[THREADS];
    thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){b, i};
        pthread_create(&th[i], NULL, publisher, &args[i]);
    }
    /* the loop is woken by event_active from the publisher threads */
    for (int spins = 0; c.total < THREADS * PER_THREAD && spins < 200000; spins++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    kn_bus_drain(b);
    CHECK_INT(c.total, THREADS * PER_THREAD);
    CHECK_INT(c.order_errors, 0);
    kn_bus_free(b);
}

int main(void) {
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    test_glob();
    test_delivery(base);
    test_unsubscribe_mid_delivery(base);
    test_republish(base);
    test_log_guard(base);
    test_threads(base);
    event_base_free(base);
    libevent_global_shutdown();
    CHECK_DONE();
}
