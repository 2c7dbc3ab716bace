/* The store's state, shared by store.c (front, group commit) and store_writer.c (the storage
 * thread that runs writes queued with exec_later). Kernel-internal. */
#ifndef KN_STORE_INT_H
#define KN_STORE_INT_H

#include "core.h"
#include "store_backend.h"

#include <pthread.h>
#include <stdint.h>

#define SQL_STACK 2048
#define KN_WB_BACKLOG_MAX 20000 /* queued writes before the loop waits for the thread */

struct event;
typedef struct kn_wb_item kn_wb_item;

/* Disk full or an I/O error fails every write for a while: one error line a second, with the
 * count since the previous line, instead of a line per failure. */
typedef struct kn_errlimit {
    int64_t logged_ms;
    uint64_t unlogged;
} kn_errlimit;
/* Counts one failure. 1 when a line is due now: *count is then the failures it reports. */
int kn_errlimit_due(kn_errlimit *l, uint64_t *count);

struct kn_store {
    kn_kernel *k;
    const kn_store_backend *be;
    void *db;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a transaction ends */
    int in_txn;
    pthread_t txn_thread;
    /* group commit (loop thread only; off until kn_store_group_commit) */
    struct event *turn_ev;
    pthread_t loop_thread;
    int turn_open; /* in_txn is the loop's turn transaction */
    int turn_due;  /* the turn ended while a plugin's savepoint was open */
    int savepoint; /* a plugin's begin inside the turn */
    uint64_t turns, turn_writes, turn_failures;
    /* write-behind (store_writer.c). Loop-only fields are marked; the rest are under wmu. */
    char *path;          /* the database file (write-behind opens a second connection) */
    int no_write_behind; /* config: server.write_behind = 0 */
    int ckpt_pages;      /* config: server.checkpoint_pages */
    void *rdb;           /* the loop's read connection (loop only) */
    pthread_t wthread;
    int wthread_on; /* the storage thread runs */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;              /* a batch was handed over / committed / stop */
    kn_wb_item *acc_head, *acc_tail; /* the batch being filled (loop only) */
    size_t acc_n;
    uint64_t acc_epoch;      /* number of that batch (loop only) */
    uint64_t queued_epoch;   /* batch of the newest queued write (loop only) */
    uint64_t loop_committed; /* newest committed batch as the loop knows it (loop only) */
    kn_wb_item *handed;      /* the batch the thread works on */
    uint64_t handed_epoch, committed_epoch;
    int wstop;
    struct event *wnotify; /* the thread wakes the loop with it */
    void (*on_commit)(void *arg, uint64_t committed, int ok);
    void *on_commit_arg;
    uint64_t wb_writes, wb_batches, wb_failures;
    int wb_failing;        /* the last batch failed (disk full, I/O error) */
    int loop_failing;      /* the loop's copy: writes run synchronously until one succeeds */
    kn_errlimit wb_errs;   /* storage thread: its failed writes and batches */
    kn_errlimit loop_errs; /* loop: writes run alone while failing */
    kn_errlimit turn_errs; /* loop: failed group commits */
};

/* Caller holds s->mu: waits for any other thread's transaction (store.c). */
void kn_store_lock(kn_store *s);
void kn_store_unlock(kn_store *s);

/* store_writer.c */
int kn_wb_start(kn_store *s, struct event_base *base, const char *db_path);
void kn_wb_stop(kn_store *s);
/* Queues one write (loop thread). Takes a reference to params. */
int kn_wb_queue(kn_store *s, const char *ns, const char *sql, size_t len, const json_t *params);
/* Hands the filled batch to the thread when it is idle (loop thread). */
void kn_wb_kick(kn_store *s);
/* Waits until every queued write is committed (loop thread; blocks). The loop's turn must be
 * committed first (store.c's drain does both). */
void kn_wb_drain(kn_store *s);
int kn_wb_pending(const kn_store *s);

#endif
