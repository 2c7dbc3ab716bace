/* Background checkpoints. In WAL mode each commit appends its pages to the log; SQLite's
 * automatic checkpoint then copies the log into the database file inside the commit that
 * crossed 1000 pages: thousands of reads and writes and two fsyncs, on the storage thread's
 * critical path, which held every answer waiting for that commit (most replies slower than
 * 8 ms in the replies benchmark were such commits). Here a thread of its own checkpoints with
 * a connection of its own.
 *
 * A PASSIVE checkpoint never waits for the writer and never blocks it; it copies the frames
 * committed when it started. The log starts over (instead of growing) at the first write after
 * a checkpoint that copied every frame, so the thread repeats while the writer added frames
 * meanwhile; under a writer that never pauses (or a thread that does not get the CPU), the
 * commit that finds the log at 4 times the limit checkpoints itself, as SQLite would have
 * done, which bounds the log either way. */
#include "store_sqlite_ckpt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define HARD_FACTOR 4 /* the log may grow this many times the limit before commits copy */
#define MAX_PASSES 8  /* per wake-up: a writer that never pauses gets the hard limit */

struct sq_ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t copying; /* held by whichever thread is checkpointing */
    sqlite3 *db;             /* the thread's own connection */
    int pages, hard;
    int due, stop;
};

static void *ckpt_main(void *arg) {
    sq_ckpt *k = arg;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->due && !k->stop)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->stop)
            break;
        k->due = 0;
        pthread_mutex_unlock(&k->mu);
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            int in_log = 0, copied = 0;
            pthread_mutex_lock(&k->copying);
            /* an I/O error shows in the writer's next commit, which the store reports */
            int rc =
                sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &in_log, &copied);
            pthread_mutex_unlock(&k->copying);
            if (rc != SQLITE_OK || copied >= in_log)
                break;
        }
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* SQLite's WAL hook: after every commit on the store's connection, on the committing thread. */
static int on_commit(void *arg, sqlite3 *db, const char *schema, int in_log) {
    sq_ckpt *k = arg;
    if (in_log >= k->hard) {
        /* waits for a pass of the thread that is copying: SQLite would refuse a second
         * checkpointer at once (no mode waits for that lock), and the log would grow past the
         * bound for as long as the scheduler leaves the thread's pass unfinished */
        pthread_mutex_lock(&k->copying);
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(&k->copying);
    } else if (in_log >= k->pages) {
        pthread_mutex_lock(&k->mu);
        k->due = 1;
        pthread_cond_signal(&k->cv);
        pthread_mutex_unlock(&k->mu);
    }
    return SQLITE_OK;
}

sq_ckpt *sq_ckpt_start(sqlite3 *db, const char *path, int pages, char *err, size_t errlen) {
    sq_ckpt *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->pages = pages;
    k->hard = pages > 0x7fffffff / HARD_FACTOR ? 0x7fffffff : pages * HARD_FACTOR;
    int rc = sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(k->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", k->db ? sqlite3_errmsg(k->db) : sqlite3_errstr(rc));
        sqlite3_close(k->db);
        free(k);
        return NULL;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_mutex_init(&k->copying, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, ckpt_main, k) != 0) {
        snprintf(err, errlen, "no thread");
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->copying);
        pthread_mutex_destroy(&k->mu);
        sqlite3_close(k->db);
        free(k);
        return NULL;
    }
    sqlite3_wal_hook(db, on_commit, k); /* replaces the automatic checkpoint */
    return k;
}

void sq_ckpt_stop(sq_ckpt *k, sqlite3 *db) {
    if (!k)
        return;
    sqlite3_wal_autocheckpoint(db, 1000); /* removes on_commit before k goes */
    pthread_mutex_lock(&k->mu);
    k->stop = 1;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    sqlite3_close(k->db);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->copying);
    pthread_mutex_destroy(&k->mu);
    free(k);
}
