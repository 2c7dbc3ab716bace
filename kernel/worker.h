/* Worker pool: blocking work on pthreads, completion back on the loop thread. */
#ifndef KN_WORKER_H
#define KN_WORKER_H

#include "core.h"

struct event_base;

/* nthreads clamped to 1..256. base borrowed (created after evthread_use_pthreads()). */
kn_workers *kn_workers_new(struct event_base *base, int nthreads);
/* Any thread. work may be NULL (done only, still on the loop). EZ_ESTATE after drain. */
int kn_work_submit(kn_workers *w, ez_plugin *owner, ez_work_fn work, ez_done_fn done, void *ud);
/* Loop thread, graceful shutdown: refuses new work, lets the threads finish every queued job,
 * joins them, then runs the pending completions right here. */
void kn_workers_drain(kn_workers *w);
/* Drains (if not yet done) and frees. */
void kn_workers_free(kn_workers *w);
/* Jobs submitted and not completed yet. */
size_t kn_workers_pending(kn_workers *w);

#endif
