/* Storage front: namespacing, thread serialisation, transactions, migrations, error logging.
 * The backend never sees a plugin; plugins never see the backend. */
#include "store.h"

#include "store_backend.h"
#include "util_fs.h"
#include "util_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_STACK 2048

struct kn_store {
    kn_kernel *k;
    const kn_store_backend *be;
    void *db;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when a transaction ends */
    int in_txn;
    pthread_t txn_thread;
};

/* ---- locking: one connection; a transaction owns it until commit/rollback ---- */

static void lock(kn_store *s) {
    pthread_mutex_lock(&s->mu);
    while (s->in_txn && !pthread_equal(s->txn_thread, pthread_self()))
        pthread_cond_wait(&s->cv, &s->mu);
}

static void unlock(kn_store *s) {
    pthread_mutex_unlock(&s->mu);
}

static void report(kn_store *s, const char *ns, int rc, const char *sql) {
    /* constraint violations are often expected (insert-or-detect): keep them out of the way */
    ez_level lvl = rc == EZ_ECONSTRAINT ? EZ_DEBUG : EZ_WARN;
    kn_log(s->k, ns, lvl, "store: %s (SQL: %.200s)", s->be->errmsg(s->db), sql);
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
    lock(s);
    int rc = s->be->run(s->db, x, len, params, max_rows, rows, changes);
    if (rc != EZ_OK)
        report(s, ns, rc, x);
    unlock(s);
    if (x != stackbuf)
        free(x);
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

int kn_store_begin(kn_store *s, const char *ns) {
    if (!s)
        return EZ_EINVAL;
    lock(s);
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
    lock(s);
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
    kn_log(k, "kernel", EZ_DEBUG, "store: %s (%s)", path, s->be->name);
    return s;
}

void kn_store_close(kn_store *s) {
    if (!s)
        return;
    if (s->db) {
        if (s->in_txn) {
            kn_log(s->k, "kernel", EZ_WARN, "store: a transaction was left open; rolled back");
            s->be->script(s->db, "ROLLBACK");
        }
        s->be->close(s->db);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
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
};

const ez_store_api *kn_store_api(void) {
    return &store_api;
}
