/* Worker pool. Two FIFOs: `todo` (mutex + condition, consumed by the threads) and `done`
 * (mutex + event_active, consumed by the loop). A job node travels from one to the other, so a
 * job costs one allocation. */
#include "worker.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    struct job *next;
    ez_plugin *owner;
    ez_work_fn work;
    ez_done_fn done;
    void *ud;
} job;

struct kn_workers {
    struct event_base *base;
    struct event *wake;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *todo_head, *todo_tail;
    job *done_head, *done_tail;
    size_t pending;
    int stopping;
    int drained;
    int nthreads;
    pthread_t *threads;
};

static void push(job **head, job **tail, job *j) {
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void *thread_main(void *arg) {
    kn_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo_head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        job *j = w->todo_head;
        if (!j)
            break; /* stopping and nothing left */
        w->todo_head = j->next;
        if (!w->todo_head)
            w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        if (j->work)
            j->work(j->ud);
        pthread_mutex_lock(&w->mu);
        int was_empty = w->done_head == NULL;
        push(&w->done_head, &w->done_tail, j);
        if (was_empty)
            event_active(w->wake, 0, 0);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void run_completions(kn_workers *w) {
    pthread_mutex_lock(&w->mu);
    job *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (j) {
        job *next = j->next;
        if (j->done)
            j->done(j->ud);
        pthread_mutex_lock(&w->mu);
        w->pending--;
        pthread_mutex_unlock(&w->mu);
        free(j);
        j = next;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    run_completions(arg);
}

kn_workers *kn_workers_new(struct event_base *base, int nthreads) {
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 256)
        nthreads = 256;
    kn_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->base = base;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->wake = event_new(base, -1, 0, on_wake, w);
    w->threads = calloc((size_t)nthreads, sizeof *w->threads);
    if (!w->wake || !w->threads) {
        kn_workers_free(w);
        return NULL;
    }
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&w->threads[i], NULL, thread_main, w) != 0)
            break;
        w->nthreads++;
    }
    if (w->nthreads == 0) {
        kn_workers_free(w);
        return NULL;
    }
    return w;
}

int kn_work_submit(kn_workers *w, ez_plugin *owner, ez_work_fn work, ez_done_fn done, void *ud) {
    if (!w || (!work && !done))
        return EZ_EINVAL;
    job *j = malloc(sizeof *j);
    if (!j)
        return EZ_ENOMEM;
    j->owner = owner;
    j->work = work;
    j->done = done;
    j->ud = ud;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        free(j);
        return EZ_ESTATE;
    }
    push(&w->todo_head, &w->todo_tail, j);
    w->pending++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return EZ_OK;
}

void kn_workers_drain(kn_workers *w) {
    if (!w || w->drained)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    w->drained = 1;
    /* a completion may submit more work: it is refused (EZ_ESTATE), so this terminates */
    run_completions(w);
}

size_t kn_workers_pending(kn_workers *w) {
    pthread_mutex_lock(&w->mu);
    size_t n = w->pending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void kn_workers_free(kn_workers *w) {
    if (!w)
        return;
    if (w->threads && w->wake)
        kn_workers_drain(w);
    if (w->wake)
        event_free(w->wake);
    free(w->threads);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
