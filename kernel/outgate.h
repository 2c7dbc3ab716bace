/* The output gate: answers and socket frames that report writes still queued for the storage
 * thread (store_writer.c) wait here, per connection and in order, until those writes are
 * committed; then they go to the connection's bufferevent. A connection with nothing held and
 * nothing uncommitted writes straight to its bufferevent, as before. Loop thread only. */
#ifndef KN_OUTGATE_H
#define KN_OUTGATE_H

#include "core.h"

#include <stdint.h>

struct evbuffer;
typedef struct kn_outgate kn_outgate;
typedef struct kn_outq kn_outq;
typedef struct kn_outq_seg kn_outq_seg;

/* Called with output whose writes are committed (buf: move its contents out; it is freed
 * after). */
typedef void (*kn_outq_release_fn)(kn_outq *q, struct evbuffer *buf, void *ud);
/* Called when writes some held output reports were lost (their batch failed): that output is
 * dropped, never sent as if they were stored; the owner closes the connection, so its client
 * sees an error. What q still holds is dropped right after. */
typedef void (*kn_outq_fail_fn)(kn_outq *q, void *ud);

/* Embedded in a connection; zero-initialised then kn_outq_init. */
struct kn_outq {
    kn_outq_seg *head, *tail;
    kn_outq *prev, *next; /* in the gate's list while something is held */
    kn_outq_release_fn release;
    kn_outq_fail_fn fail;
    void *ud;
};

/* current_tag(ctx): the batch the output produced now reports, 0 when nothing uncommitted
 * (kn_store_out_tag). The owner calls kn_outgate_release on every commit. */
kn_outgate *kn_outgate_new(uint64_t (*current_tag)(const void *ctx), const void *ctx);
void kn_outgate_free(kn_outgate *g);
/* Batch `committed` ended: the output waiting for it goes out (ok), or is dropped and its
 * connections closed (!ok: the batch failed). gate: a kn_outgate. */
void kn_outgate_release(void *gate, uint64_t committed, int ok);

void kn_outq_init(kn_outq *q, kn_outq_release_fn release, kn_outq_fail_fn fail, void *ud);
/* Where output produced now goes: NULL = straight to the connection (nothing to wait for);
 * else a buffer (owned by q) to append to, released in order after the commit. g may be NULL
 * (no gate: always NULL). */
struct evbuffer *kn_outq_target(kn_outgate *g, kn_outq *q);
/* Whether q holds output (a closing connection must wait for it). */
int kn_outq_held(const kn_outq *q);
/* Drops what q holds (the connection is gone). */
void kn_outq_clear(kn_outgate *g, kn_outq *q);

#endif
