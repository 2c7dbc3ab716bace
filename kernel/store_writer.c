/* Write-behind: the storage thread. Writes a plugin queues with exec_later (the hot path's
 * inserts: messages, memories, logs, runs) collect in a batch during a loop turn; at the turn's
 * end the batch goes to this thread, which runs it in one transaction and commits while the loop
 * goes on with the next turn. The writes and the commit were two thirds of the loop's time per
 * agent reply; here they overlap with it, and a batch grows while the previous one commits, so
 * each commit serves more writes under load.
 *
 * Consistency rules the rest of the kernel keeps:
 * - order: a synchronous write or transaction on the loop first waits for every queued write
 *   (kn_wb_drain), so a plugin's writes apply in the order it made them;
 * - answers: output the loop produces after queuing a write is held until that write's batch
 *   is committed (the kernel's output gate asks kn_store_out_tag), so a client that saw an
 *   answer reads what it reports;
 * - reads on the loop use a read connection of their own and see committed data: a plugin
 *   keeps in memory what it must read back before its batch commits.
 * Only one batch is with the thread at a time: the loop's batch number is always the thread's
 * plus one while the thread works, which keeps output tags to two live values. */
#include "store.h"

#include "store_int.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct kn_wb_item {
    kn_wb_item *next;
    json_t *params; /* a reference */
    size_t len;
    const char *ns; /* points into text, after the SQL */
    char text[];
};

static void wb_free(kn_wb_item *it) {
    while (it) {
        kn_wb_item *next = it->next;
        json_decref(it->params);
        free(it);
        it = next;
    }
}

/* Storage thread. */
static void wb_report(kn_store *s, const char *ns, const char *what, const char *sql) {
    uint64_t n;
    if (kn_errlimit_due(&s->wb_errs, &n))
        kn_log(s->k, ns, EZ_ERR, "store: %s: %s (%llu such failure(s) in the last second%s%.200s)",
               what, s->be->errmsg(s->db), (unsigned long long)n, sql ? "; SQL: " : "",
               sql ? sql : "");
}

/* Runs a batch in one transaction. Returns 0 when a write or the commit failed for a reason
 * other than a constraint (the store is failing). Storage thread. */
static int wb_apply(kn_store *s, kn_wb_item *batch) {
    size_t n = 0, failed = 0;
    int broken = 0;
    kn_store_lock(s);
    s->in_txn = 1;
    s->txn_thread = pthread_self();
    int rc = s->be->script(s->db, "BEGIN IMMEDIATE");
    for (kn_wb_item *it = batch; it && rc == EZ_OK; it = it->next, n++) {
        int64_t changes;
        int r = s->be->run(s->db, it->text, it->len, it->params, 0, NULL, &changes);
        if (r == EZ_ECONSTRAINT) {
            /* the statement is lost, the rest of the batch is kept: same as a failed exec */
            failed++;
            kn_log(s->k, it->ns, EZ_DEBUG, "store: queued write failed: %s (SQL: %.200s)",
                   s->be->errmsg(s->db), it->text);
        } else if (r != EZ_OK) {
            /* a bad statement or value (EZ_EINVAL) is that statement's fault alone; disk full,
             * I/O errors and no memory (EZ_EIO, EZ_ENOMEM) mean the store is failing */
            failed++;
            broken |= r == EZ_EIO || r == EZ_ENOMEM;
            wb_report(s, it->ns, "a queued write failed", it->text);
        }
    }
    if (rc == EZ_OK)
        rc = s->be->script(s->db, "COMMIT");
    if (rc != EZ_OK) {
        /* disk full or an I/O error: the answers reporting these writes are out of the gate
         * once this returns; from now on writes run synchronously so callers see the error */
        wb_report(s, "kernel", "a batch of queued writes was lost", NULL);
        s->be->script(s->db, "ROLLBACK");
        s->wb_failures++;
        broken = 1;
    }
    s->wb_writes += n;
    s->wb_failures += failed;
    s->wb_batches++;
    s->in_txn = 0;
    pthread_cond_broadcast(&s->cv);
    kn_store_unlock(s);
    return !broken;
}

static void *wb_main(void *arg) {
    kn_store *s = arg;
    pthread_mutex_lock(&s->wmu);
    for (;;) {
        while (!s->handed && !s->wstop)
            pthread_cond_wait(&s->wcv, &s->wmu);
        if (!s->handed)
            break;
        kn_wb_item *batch = s->handed;
        uint64_t epoch = s->handed_epoch;
        pthread_mutex_unlock(&s->wmu);
        int ok = wb_apply(s, batch);
        wb_free(batch);
        pthread_mutex_lock(&s->wmu);
        s->handed = NULL;
        s->committed_epoch = epoch;
        s->wb_failing = !ok;
        pthread_cond_broadcast(&s->wcv);
        event_active(s->wnotify, 0, 0);
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

/* Caller holds wmu; the thread is idle. */
static void hand_locked(kn_store *s) {
    s->handed = s->acc_head;
    s->handed_epoch = s->acc_epoch;
    s->acc_head = s->acc_tail = NULL;
    s->acc_n = 0;
    s->acc_epoch++;
    pthread_cond_broadcast(&s->wcv);
}

void kn_wb_kick(kn_store *s) {
    if (!s->acc_n)
        return;
    pthread_mutex_lock(&s->wmu);
    if (!s->handed)
        hand_locked(s);
    pthread_mutex_unlock(&s->wmu);
}

static void on_notify(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_store *s = arg;
    pthread_mutex_lock(&s->wmu);
    uint64_t committed = s->committed_epoch;
    int ok = !s->wb_failing;
    if (!ok)
        s->loop_failing = 1; /* cleared by the next write that succeeds (store.c) */
    pthread_mutex_unlock(&s->wmu);
    s->loop_committed = committed;
    if (s->on_commit)
        s->on_commit(s->on_commit_arg, committed, ok);
    kn_wb_kick(s); /* what collected while that batch committed */
}

int kn_wb_pending(const kn_store *s) {
    return s->wthread_on && (s->acc_n || s->queued_epoch > s->loop_committed);
}

void kn_wb_drain(kn_store *s) {
    if (!kn_wb_pending(s))
        return;
    pthread_mutex_lock(&s->wmu);
    while (s->handed || s->acc_n) {
        if (!s->handed)
            hand_locked(s);
        pthread_cond_wait(&s->wcv, &s->wmu);
    }
    uint64_t committed = s->committed_epoch;
    pthread_mutex_unlock(&s->wmu);
    /* held output goes out when the thread's wake-up reaches the loop (on_notify) */
    s->loop_committed = committed;
}

int kn_wb_queue(kn_store *s, const char *ns, const char *sql, size_t len, const json_t *params) {
    size_t nslen = strlen(ns);
    kn_wb_item *it = malloc(sizeof *it + len + 1 + nslen + 1);
    if (!it)
        return EZ_ENOMEM;
    it->next = NULL;
    it->params = json_incref((json_t *)params);
    it->len = len;
    memcpy(it->text, sql, len);
    it->text[len] = '\0';
    memcpy(it->text + len + 1, ns, nslen + 1);
    it->ns = it->text + len + 1;
    if (s->acc_tail)
        s->acc_tail->next = it;
    else
        s->acc_head = it;
    s->acc_tail = it;
    s->acc_n++;
    s->queued_epoch = s->acc_epoch;
    return EZ_OK;
}

int kn_wb_start(kn_store *s, struct event_base *base, const char *db_path) {
    char err[512];
    s->rdb = s->be->open(db_path, err, sizeof err);
    if (!s->rdb) {
        kn_log(s->k, "kernel", EZ_WARN, "store: no read connection (%s): writes stay on the loop",
               err);
        return EZ_EIO;
    }
    s->be->script(s->rdb, "PRAGMA query_only=1");
    s->wnotify = event_new(base, -1, 0, on_notify, s);
    if (!s->wnotify || event_priority_set(s->wnotify, 0) != 0)
        goto fail;
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    s->acc_epoch = 1;
    if (pthread_create(&s->wthread, NULL, wb_main, s) != 0) {
        pthread_cond_destroy(&s->wcv);
        pthread_mutex_destroy(&s->wmu);
        goto fail;
    }
    s->wthread_on = 1;
    return EZ_OK;
fail:
    if (s->wnotify)
        event_free(s->wnotify);
    s->wnotify = NULL;
    s->be->close(s->rdb);
    s->rdb = NULL;
    kn_log(s->k, "kernel", EZ_WARN, "store: no storage thread: writes stay on the loop");
    return EZ_EIO;
}

void kn_wb_stop(kn_store *s) {
    if (!s->wthread_on)
        return;
    kn_wb_drain(s);
    pthread_mutex_lock(&s->wmu);
    s->wstop = 1;
    pthread_cond_broadcast(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    pthread_join(s->wthread, NULL);
    s->wthread_on = 0;
    kn_log(s->k, "kernel", EZ_DEBUG, "store: %llu queued writes in %llu batches (%llu failed)",
           (unsigned long long)s->wb_writes, (unsigned long long)s->wb_batches,
           (unsigned long long)s->wb_failures);
    event_free(s->wnotify);
    s->wnotify = NULL;
    s->be->close(s->rdb);
    s->rdb = NULL;
    pthread_cond_destroy(&s->wcv);
    pthread_mutex_destroy(&s->wmu);
}
