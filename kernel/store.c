/* Storage front: namespacing, thread serialisation, transactions, group commit, migrations,
 * error logging. The backend never sees a plugin; plugins never see the backend.
 *
 * Group commit: on the loop thread, the first write of a loop turn opens a transaction that a
 * priority-0 timer commits at the end of the turn, so every write of that turn shares one
 * commit (a commit's WAL frames were most of the cost of a write). The timer runs before the
 * loop's write callbacks (priority 1), and the HTTP layer holds its direct writes while a turn
 * is open (kn_store_turn_open), so no answer leaves the process before what it reports is
 * committed. A plugin's own begin/commit/rollback on the loop thread become a savepoint inside
 * the turn. Other threads keep plain transactions and wait for the turn to end. */
#include "store.h"

#include "store_backend.h"
#include "store_int.h"
#include "util_fs.h"
#include "util_time.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int on_loop(const kn_store *s) {
    return s->turn_ev && pthread_equal(s->loop_thread, pthread_self());
}

/* ---- locking: one connection; a transaction owns it until commit/rollback ---- */

static void lock(kn_store *s) {
    pthread_mutex_lock(&s->mu);
    while (s->in_txn && !pthread_equal(s->txn_thread, pthread_self()))
        pthread_cond_wait(&s->cv, &s->mu);
}

static void unlock(kn_store *s) {
    pthread_mutex_unlock(&s->mu);
}

void kn_store_lock(kn_store *s) {
    lock(s);
}

void kn_store_unlock(kn_store *s) {
    unlock(s);
}

int kn_errlimit_due(kn_errlimit *l, uint64_t *count) {
    int64_t now = kn_mono_ms();
    l->unlogged++;
    if (now - l->logged_ms < 1000)
        return 0;
    *count = l->unlogged;
    l->unlogged = 0;
    l->logged_ms = now;
    return 1;
}

static void report(kn_store *s, const char *ns, int rc, const char *sql) {
    /* constraint violations are often expected (insert-or-detect): keep them out of the way */
    ez_level lvl = rc == EZ_ECONSTRAINT ? EZ_DEBUG : EZ_WARN;
    kn_log(s->k, ns, lvl, "store: %s (SQL: %.200s)", s->be->errmsg(s->db), sql);
}

/* ---- group commit ---- */

/* Opens the turn's transaction if none is open. Caller holds the lock, on the loop thread. */
static int turn_join(kn_store *s, const char *ns) {
    if (s->in_txn)
        return EZ_OK; /* the turn, or (same thread) nothing else can own it */
    int rc = s->be->script(s->db, "BEGIN IMMEDIATE");
    if (rc != EZ_OK) {
        report(s, ns, rc, "BEGIN IMMEDIATE");
        return rc;
    }
    s->in_txn = 1;
    s->turn_open = 1;
    s->txn_thread = pthread_self();
    static const struct timeval now = {0, 0};
    evtimer_add(s->turn_ev, &now);
    return EZ_OK;
}

/* Commits the turn. Caller holds the lock. */
static void turn_commit(kn_store *s) {
    if (!s->turn_open)
        return;
    if (s->savepoint) { /* a plugin's transaction spans turns: commit when it ends */
        s->turn_due = 1;
        return;
    }
    int rc = s->be->script(s->db, "COMMIT");
    s->turns++;
    if (rc != EZ_OK) {
        /* disk full or an I/O error: what this turn wrote is gone although it was answered;
         * queued writes now run alone until one succeeds (exec_alone). One line a second. */
        s->turn_failures++;
        s->loop_failing = s->wthread_on;
        uint64_t n;
        if (kn_errlimit_due(&s->turn_errs, &n))
            kn_log(s->k, "kernel", EZ_ERR,
                   "store: group commit failed, this turn's writes are lost: %s (%llu turn(s) "
                   "in the last second)",
                   s->be->errmsg(s->db), (unsigned long long)n);
        s->be->script(s->db, "ROLLBACK");
    }
    s->turn_open = 0;
    s->turn_due = 0;
    s->in_txn = 0;
    pthread_cond_broadcast(&s->cv);
}

/* Waits until every queued write is committed (loop thread). The loop's own turn commits
 * first: the storage thread's transaction waits for it. */
static void drain(kn_store *s) {
    if (!kn_wb_pending(s))
        return;
    if (s->turn_open && !s->savepoint) {
        lock(s);
        turn_commit(s);
        unlock(s);
    }
    kn_wb_drain(s);
}

static void on_turn_end(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_store *s = arg;
    if (s->turn_open) { /* only the loop opens a turn: no lock needed to look */
        lock(s);
        turn_commit(s);
        unlock(s);
    }
    kn_wb_kick(s); /* the turn's queued writes go to the storage thread */
}

int kn_store_group_commit(kn_store *s, struct event_base *base) {
    if (!s || !base || s->turn_ev)
        return EZ_EINVAL;
    s->turn_ev = evtimer_new(base, on_turn_end, s);
    /* before every write callback of the next turn: see the comment at the top */
    if (!s->turn_ev || event_priority_set(s->turn_ev, 0) != 0) {
        if (s->turn_ev)
            event_free(s->turn_ev);
        s->turn_ev = NULL;
        return EZ_EIO;
    }
    s->loop_thread = pthread_self();
    if (s->path && s->ckpt_pages > 0 && s->be->checkpoint_in_background) {
        char err[256];
        if (s->be->checkpoint_in_background(s->db, s->path, s->ckpt_pages, err, sizeof err) !=
            EZ_OK)
            kn_log(s->k, "kernel", EZ_WARN, "store: checkpoints stay in commits (%s)", err);
    }
    if (s->path && !s->no_write_behind)
        kn_wb_start(s, base, s->path); /* without it, exec_later runs writes on the loop */
    return EZ_OK;
}

void kn_store_no_write_behind(kn_store *s) {
    if (s)
        s->no_write_behind = 1;
}

void kn_store_checkpoint_pages(kn_store *s, int pages) {
    if (s)
        s->ckpt_pages = pages;
}

uint64_t kn_store_out_tag(const kn_store *s) {
    return s && s->queued_epoch > s->loop_committed ? s->queued_epoch : 0;
}

uint64_t kn_store_committed(const kn_store *s) {
    return s ? s->loop_committed : 0;
}

void kn_store_on_commit(kn_store *s, void (*fn)(void *arg, uint64_t committed, int ok), void *arg) {
    s->on_commit = fn;
    s->on_commit_arg = arg;
}

int kn_store_turn_open(const kn_store *s) {
    return s && s->turn_open;
}

void kn_store_flush(kn_store *s) {
    if (!s || !on_loop(s))
        return;
    drain(s);
    lock(s);
    if (s->turn_open && !s->savepoint)
        turn_commit(s);
    unlock(s);
}

/* Whether sql may write: anything but a plain SELECT / WITH ... SELECT / EXPLAIN / PRAGMA read
 * counts as a write (a false "write" only costs joining the turn). */
static int may_write(const char *sql) {
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
        sql++;
    return strncasecmp(sql, "SELECT", 6) != 0 && strncasecmp(sql, "VALUES", 6) != 0;
}

static int run(kn_store *s, const char *ns, const char *sql, const json_t *params, int max_rows,
               json_t **rows, int64_t *changes) {
    if (!s || !ns || !sql)
        return EZ_EINVAL;
    char stackbuf[SQL_STACK];
    size_t len;
    char *x = kn_store_expand(ns, sql, stackbuf, sizeof stackbuf, &len);
    if (!x)
        return EZ_ENOMEM;
    int rc = EZ_OK;
    if (s->rdb && on_loop(s) && !s->turn_open && !may_write(x)) {
        /* the loop's reads see committed data without waiting for the storage thread */
        rc = s->be->run(s->rdb, x, len, params, max_rows, rows, changes);
        if (rc != EZ_OK)
            kn_log(s->k, ns, EZ_WARN, "store: %s (SQL: %.200s)", s->be->errmsg(s->rdb), x);
        if (x != stackbuf)
            free(x);
        return rc;
    }
    if (on_loop(s) && may_write(x))
        drain(s); /* queued writes first: a plugin's writes apply in its order */
    lock(s);
    if (on_loop(s) && may_write(x)) {
        rc = turn_join(s, ns);
        s->turn_writes++;
    }
    if (rc == EZ_OK)
        rc = s->be->run(s->db, x, len, params, max_rows, rows, changes);
    if (rc != EZ_OK)
        report(s, ns, rc, x);
    unlock(s);
    if (x != stackbuf)
        free(x);
    return rc;
}

/* While the storage thread's batches fail (disk full, I/O errors), a queued write runs at once
 * in a transaction of its own, so its caller gets the error and answers it, instead of
 * answering success for a write that a later commit loses. The first success ends this. */
static int exec_alone(kn_store *s, const char *ns, const char *sql, const json_t *params) {
    char stackbuf[SQL_STACK];
    size_t len;
    char *x = kn_store_expand(ns, sql, stackbuf, sizeof stackbuf, &len);
    if (!x)
        return EZ_ENOMEM;
    drain(s);
    lock(s);
    if (s->turn_open)
        turn_commit(s); /* the statement must not join (and wait for) the turn's commit */
    int64_t changes = 0;
    int rc = s->turn_open ? EZ_ESTATE : s->be->run(s->db, x, len, params, 0, NULL, &changes);
    if (rc == EZ_OK || rc == EZ_ECONSTRAINT) {
        s->loop_failing = 0; /* the next failed batch or turn says so again */
    } else {
        uint64_t n;
        if (kn_errlimit_due(&s->loop_errs, &n))
            kn_log(s->k, ns, EZ_ERR, "store: %s (%llu failed write(s) in the last second)",
                   s->be->errmsg(s->db), (unsigned long long)n);
    }
    unlock(s);
    if (x != stackbuf)
        free(x);
    return rc;
}

int kn_store_exec_later(kn_store *s, const char *ns, const char *sql, const json_t *params) {
    if (!s || !ns || !sql || (params && !json_is_array(params)))
        return EZ_EINVAL;
    if (!s->wthread_on || !on_loop(s) || s->savepoint) {
        /* no storage thread, another thread, or inside the plugin's own transaction (which
         * may roll back): an ordinary write */
        int64_t r = kn_store_exec(s, ns, sql, params);
        return r < 0 ? (int)r : EZ_OK;
    }
    if (s->loop_failing)
        return exec_alone(s, ns, sql, params);
    char stackbuf[SQL_STACK];
    size_t len;
    char *x = kn_store_expand(ns, sql, stackbuf, sizeof stackbuf, &len);
    if (!x)
        return EZ_ENOMEM;
    int rc = kn_wb_queue(s, ns, x, len, params);
    if (x != stackbuf)
        free(x);
    if (s->acc_n >= KN_WB_BACKLOG_MAX)
        drain(s); /* the disk is slower than the loop: let it catch up */
    if (rc == EZ_OK && !evtimer_pending(s->turn_ev, NULL)) {
        static const struct timeval now = {0, 0};
        evtimer_add(s->turn_ev, &now); /* hand the batch over at the end of this turn */
    }
    return rc;
}

int64_t kn_store_exec(kn_store *s, const char *ns, const char *sql, const json_t *params) {
    int64_t changes = 0;
    int rc = run(s, ns, sql, params, 0, NULL, &changes);
    return rc == EZ_OK ? changes : rc;
}

json_t *kn_store_query(kn_store *s, const char *ns, const char *sql, const json_t *params,
                       int one) {
    json_t *rows = NULL;
    if (run(s, ns, sql, params, one ? 1 : 0, &rows, NULL) != EZ_OK)
        return NULL;
    if (!one)
        return rows;
    json_t *first = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return first;
}

/* A plugin's transaction inside the turn: a savepoint, released (or rolled back to) by the
 * plugin's commit (or rollback); the turn commits it with the rest. */
static int savepoint_begin(kn_store *s, const char *ns) {
    if (s->savepoint)
        return EZ_ESTATE;
    int rc = turn_join(s, ns);
    if (rc == EZ_OK && (rc = s->be->script(s->db, "SAVEPOINT kn_plugin_tx")) != EZ_OK)
        report(s, ns, rc, "SAVEPOINT");
    if (rc == EZ_OK)
        s->savepoint = 1;
    return rc;
}

static int savepoint_end(kn_store *s, const char *ns, int keep) {
    if (!s->savepoint)
        return EZ_ESTATE;
    int rc = keep ? s->be->script(s->db, "RELEASE kn_plugin_tx") : EZ_EIO;
    if (rc != EZ_OK) {
        if (keep)
            report(s, ns, rc, "RELEASE");
        s->be->script(s->db, "ROLLBACK TO kn_plugin_tx");
        s->be->script(s->db, "RELEASE kn_plugin_tx");
        rc = keep ? rc : EZ_OK;
    }
    s->savepoint = 0;
    if (s->turn_due)
        turn_commit(s);
    return rc;
}

int kn_store_begin(kn_store *s, const char *ns) {
    if (!s)
        return EZ_EINVAL;
    if (on_loop(s))
        drain(s);
    lock(s);
    if (on_loop(s)) {
        int rc = savepoint_begin(s, ns);
        unlock(s);
        return rc;
    }
    if (s->in_txn) {
        unlock(s);
        return EZ_ESTATE;
    }
    /* IMMEDIATE takes the write lock up front: no upgrade deadlock with another process */
    int rc = s->be->script(s->db, "BEGIN IMMEDIATE");
    if (rc == EZ_OK) {
        s->in_txn = 1;
        s->txn_thread = pthread_self();
    } else {
        report(s, ns, rc, "BEGIN IMMEDIATE");
    }
    unlock(s);
    return rc;
}

static int finish(kn_store *s, const char *ns, const char *sql) {
    if (!s)
        return EZ_EINVAL;
    lock(s);
    if (on_loop(s)) {
        int rc = savepoint_end(s, ns, strcmp(sql, "COMMIT") == 0);
        unlock(s);
        return rc;
    }
    if (!s->in_txn) {
        unlock(s);
        return EZ_ESTATE;
    }
    int rc = s->be->script(s->db, sql);
    if (rc != EZ_OK) {
        report(s, ns, rc, sql);
        /* a failed COMMIT leaves the transaction open: roll it back so the store is usable */
        s->be->script(s->db, "ROLLBACK");
    }
    s->in_txn = 0;
    pthread_cond_broadcast(&s->cv);
    unlock(s);
    return rc;
}

int kn_store_commit(kn_store *s, const char *ns) {
    return finish(s, ns, "COMMIT");
}

int kn_store_rollback(kn_store *s, const char *ns) {
    return finish(s, ns, "ROLLBACK");
}

static const char version_sql[] =
    "SELECT COALESCE(MAX(version), 0) AS v FROM kernel_migrations WHERE plugin = ?";

static int version_locked(kn_store *s, const char *ns) {
    json_t *params = json_pack("[s]", ns);
    json_t *rows = NULL;
    int v = -1;
    if (params &&
        s->be->run(s->db, version_sql, sizeof version_sql - 1, params, 1, &rows, NULL) == EZ_OK)
        v = (int)json_integer_value(json_object_get(json_array_get(rows, 0), "v"));
    json_decref(rows);
    json_decref(params);
    return v;
}

int kn_store_version(kn_store *s, const char *ns) {
    lock(s);
    int v = version_locked(s, ns);
    unlock(s);
    return v < 0 ? 0 : v;
}

int kn_store_migrate(kn_store *s, const char *ns, int version, const char *sql) {
    if (!s || !ns || !sql || version <= 0)
        return EZ_EINVAL;
    if (on_loop(s))
        drain(s);
    lock(s);
    if (on_loop(s) && s->turn_open && !s->savepoint)
        turn_commit(s); /* migrations run in a transaction of their own */
    if (s->in_txn) {
        unlock(s);
        return EZ_ESTATE;
    }
    int cur = version_locked(s, ns);
    if (cur < 0) {
        kn_log(s->k, ns, EZ_ERR, "store: cannot read the schema version: %s", s->be->errmsg(s->db));
        unlock(s);
        return EZ_EIO;
    }
    if (version <= cur) {
        unlock(s);
        return EZ_OK;
    }
    char stackbuf[SQL_STACK];
    size_t len;
    char *x = kn_store_expand(ns, sql, stackbuf, sizeof stackbuf, &len);
    if (!x) {
        unlock(s);
        return EZ_ENOMEM;
    }
    static const char rec[] =
        "INSERT INTO kernel_migrations (plugin, version, applied_at) VALUES (?, ?, ?)";
    json_t *params = json_pack("[s,i,I]", ns, version, (json_int_t)kn_now_ms());
    int64_t ch;
    int rc = s->be->script(s->db, "BEGIN IMMEDIATE");
    if (rc == EZ_OK)
        rc = s->be->script(s->db, x);
    if (rc == EZ_OK)
        rc = params ? s->be->run(s->db, rec, sizeof rec - 1, params, 0, NULL, &ch) : EZ_ENOMEM;
    if (rc == EZ_OK)
        rc = s->be->script(s->db, "COMMIT");
    if (rc != EZ_OK) {
        kn_log(s->k, ns, EZ_ERR, "store: migration %d failed: %s", version, s->be->errmsg(s->db));
        s->be->script(s->db, "ROLLBACK");
        rc = rc == EZ_ENOMEM ? rc : EZ_EIO;
    } else {
        kn_log(s->k, ns, EZ_DEBUG, "store: migrated to version %d", version);
    }
    unlock(s);
    json_decref(params);
    if (x != stackbuf)
        free(x);
    return rc;
}

/* ---- lifecycle ---- */

kn_store *kn_store_open(kn_kernel *k, const char *data_dir) {
    if (!data_dir || kn_mkdir_p(data_dir) != 0) {
        kn_log(k, "kernel", EZ_ERR, "store: cannot create data directory %s: %s",
               data_dir ? data_dir : "(unset)", strerror(errno));
        return NULL;
    }
    kn_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->k = k;
    s->be = &kn_store_sqlite;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/elizad.db", data_dir);
    s->db = s->be->open(path, err, sizeof err);
    if (!s->db) {
        kn_log(k, "kernel", EZ_ERR, "store: cannot open %s", err);
        kn_store_close(s);
        return NULL;
    }
    if (s->be->script(s->db,
                      "CREATE TABLE IF NOT EXISTS kernel_migrations ("
                      "plugin TEXT NOT NULL, version INTEGER NOT NULL, "
                      "applied_at INTEGER NOT NULL, PRIMARY KEY (plugin, version))") != EZ_OK) {
        kn_log(k, "kernel", EZ_ERR, "store: %s", s->be->errmsg(s->db));
        kn_store_close(s);
        return NULL;
    }
    s->path = strdup(path);
    kn_log(k, "kernel", EZ_DEBUG, "store: %s (%s)", path, s->be->name);
    return s;
}

void kn_store_close(kn_store *s) {
    if (!s)
        return;
    if (s->db) {
        if (s->turn_open) {
            s->savepoint = 0; /* a plugin left one open: keep what it wrote, like the turn */
            turn_commit(s);
        }
        kn_wb_stop(s); /* commits what is queued */
        if (s->turn_ev) {
            kn_log(s->k, "kernel", EZ_DEBUG,
                   "store: %llu group commits for %llu writes (%llu failed)",
                   (unsigned long long)s->turns, (unsigned long long)s->turn_writes,
                   (unsigned long long)s->turn_failures);
            event_free(s->turn_ev);
        }
        if (s->in_txn) {
            kn_log(s->k, "kernel", EZ_WARN, "store: a transaction was left open; rolled back");
            s->be->script(s->db, "ROLLBACK");
        }
        s->be->close(s->db);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

/* ---- the plugin-facing table ---- */

static kn_store *store_of(ez_plugin *self) {
    return self ? kn_kernel_store(kn_plugin_kernel(self)) : NULL;
}

static int api_migrate(ez_plugin *self, int version, const char *sql) {
    return kn_store_migrate(store_of(self), self ? kn_plugin_name(self) : NULL, version, sql);
}

static int64_t api_exec(ez_plugin *self, const char *sql, const json_t *params) {
    return kn_store_exec(store_of(self), self ? kn_plugin_name(self) : NULL, sql, params);
}

static json_t *api_query(ez_plugin *self, const char *sql, const json_t *params) {
    return kn_store_query(store_of(self), self ? kn_plugin_name(self) : NULL, sql, params, 0);
}

static json_t *api_query_one(ez_plugin *self, const char *sql, const json_t *params) {
    return kn_store_query(store_of(self), self ? kn_plugin_name(self) : NULL, sql, params, 1);
}

static int api_exec_later(ez_plugin *self, const char *sql, const json_t *params) {
    return kn_store_exec_later(store_of(self), self ? kn_plugin_name(self) : NULL, sql, params);
}

static int api_later_pending(ez_plugin *self) {
    kn_store *s = store_of(self);
    return s && kn_wb_pending(s);
}

static int api_begin(ez_plugin *self) {
    return kn_store_begin(store_of(self), self ? kn_plugin_name(self) : NULL);
}

static int api_commit(ez_plugin *self) {
    return kn_store_commit(store_of(self), self ? kn_plugin_name(self) : NULL);
}

static int api_rollback(ez_plugin *self) {
    return kn_store_rollback(store_of(self), self ? kn_plugin_name(self) : NULL);
}

static const ez_store_api store_api = {
    .size = sizeof(ez_store_api),
    .migrate = api_migrate,
    .exec = api_exec,
    .query = api_query,
    .query_one = api_query_one,
    .begin = api_begin,
    .commit = api_commit,
    .rollback = api_rollback,
    .exec_later = api_exec_later,
    .later_pending = api_later_pending,
};

const ez_store_api *kn_store_api(void) {
    return &store_api;
}
