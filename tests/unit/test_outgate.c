/* outgate.c: output held per connection until the store commits what it reports; order kept
 * within a connection, pieces released one commit at a time, a busy connection not starved. */
#include "check.h"
#include "outgate.h"

#include <event2/buffer.h>
#include <stdlib.h>

static uint64_t current; /* the store's out tag, as the fake sees it */

static uint64_t fake_tag(const void *ctx) {
    (void)ctx;
    return current;
}

typedef struct conn {
    kn_outq q;
    char sent[128]; /* what reached the "socket", in order */
    kn_outgate *g;
    struct conn *victim; /* cleared from inside this connection's release */
    int failed;          /* times its held output was dropped (a lost batch) */
} conn;

static void on_release(kn_outq *q, struct evbuffer *buf, void *ud) {
    (void)q;
    conn *c = ud;
    size_t len = strlen(c->sent), n = evbuffer_get_length(buf);
    if (len + n < sizeof c->sent)
        evbuffer_remove(buf, c->sent + len, n);
    c->sent[len + n] = '\0';
    if (c->victim) {
        kn_outq_clear(c->g, &c->victim->q);
        c->victim = NULL;
    }
}

static void on_fail(kn_outq *q, void *ud) {
    (void)q;
    ((conn *)ud)->failed++;
}

/* What a connection does with new output: straight out, or behind held pieces. */
static void emit(kn_outgate *g, conn *c, const char *text) {
    struct evbuffer *held = kn_outq_target(g, &c->q);
    if (held) {
        evbuffer_add(held, text, strlen(text));
    } else {
        size_t len = strlen(c->sent);
        snprintf(c->sent + len, sizeof c->sent - len, "%s", text);
    }
}

int main(void) {
    kn_outgate *g = kn_outgate_new(fake_tag, NULL);
    CHECK(g != NULL);
    conn a = {.g = g}, b = {.g = g}, c = {.g = g};
    kn_outq_init(&a.q, on_release, on_fail, &a);
    kn_outq_init(&b.q, on_release, on_fail, &b);
    kn_outq_init(&c.q, on_release, on_fail, &c);

    /* nothing uncommitted: straight out; no gate at all: straight out too */
    current = 0;
    emit(g, &a, "0");
    CHECK_STR(a.sent, "0");
    CHECK(kn_outq_target(NULL, &a.q) == NULL);
    CHECK(!kn_outq_held(&a.q));

    /* batch 1 uncommitted: held; batch 2: a second piece; then nothing new is uncommitted,
     * but what follows held output still waits behind it */
    current = 1;
    emit(g, &a, "a");
    emit(g, &b, "x");
    current = 2;
    emit(g, &a, "b");
    current = 0;
    emit(g, &a, "c");
    CHECK(kn_outq_held(&a.q));
    CHECK_STR(a.sent, "0");

    /* commit of 1 releases only what waited for 1, on every connection */
    kn_outgate_release(g, 1, 1);
    CHECK_STR(a.sent, "0a");
    CHECK_STR(b.sent, "x");
    CHECK(!kn_outq_held(&b.q));
    CHECK(kn_outq_held(&a.q));
    /* a busy connection: new output for batch 3 while 2 is pending does not delay 2's piece */
    current = 3;
    emit(g, &a, "d");
    kn_outgate_release(g, 2, 1);
    CHECK_STR(a.sent, "0abc");
    kn_outgate_release(g, 3, 1);
    CHECK_STR(a.sent, "0abcd");
    CHECK(!kn_outq_held(&a.q));
    current = 0;
    emit(g, &a, "e");
    CHECK_STR(a.sent, "0abcde");

    /* a commit covering several pieces releases them all, in order */
    current = 4;
    emit(g, &c, "1");
    current = 5;
    emit(g, &c, "2");
    kn_outgate_release(g, 9, 1);
    CHECK_STR(c.sent, "12");

    /* a connection that goes away drops what it held; a release callback may clear another
     * connection's queue without breaking the walk */
    current = 10;
    emit(g, &a, "f");
    emit(g, &b, "y");
    emit(g, &c, "3");
    a.victim = &b;
    kn_outgate_release(g, 10, 1);
    CHECK_STR(a.sent, "0abcdef");
    CHECK_STR(b.sent, "x");
    CHECK_STR(c.sent, "123");
    CHECK(!kn_outq_held(&b.q));
    current = 11;
    emit(g, &c, "4");
    kn_outq_clear(g, &c.q);
    kn_outgate_release(g, 11, 1);
    CHECK_STR(c.sent, "123");

    /* a failed batch: the output waiting for it (and what follows it) is dropped, never sent,
     * and its connection told to close; connections waiting for later batches are untouched */
    current = 20;
    emit(g, &a, "X");
    current = 21;
    emit(g, &a, "Y");
    emit(g, &b, "Z");
    kn_outgate_release(g, 20, 0);
    CHECK_INT(a.failed, 1);
    CHECK_INT(b.failed, 0);
    CHECK(!kn_outq_held(&a.q));
    CHECK(kn_outq_held(&b.q));
    CHECK_STR(a.sent, "0abcdef");
    kn_outgate_release(g, 21, 1);
    CHECK_STR(b.sent, "xZ");

    /* freeing the gate drops whatever is still held */
    current = 12;
    emit(g, &a, "g");
    kn_outgate_free(g);
    CHECK_STR(a.sent, "0abcdef");
    CHECK_DONE();
}
