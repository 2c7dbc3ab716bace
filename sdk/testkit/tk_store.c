/* testkit: the store sub-table on an in-memory database through the kernel's own SQLite backend
 * and "@name" expansion (compiled into the testkit), so a unit test sees exactly the server's
 * rules: one statement per exec/query, JSON parameters and rows, migrations recorded per plugin,
 * transactions that do not nest. */
#include "tk_int.h"

#include "store_backend.h"
#include "store_expand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(ez_plugin *self, int rc, const char *what, const char *sql) {
    char msg[1024];
    snprintf(msg, sizeof msg, "store: %s (SQL: %.200s)", what, sql);
    tk_log_write(self->tk, self->name, rc == EZ_ECONSTRAINT ? EZ_DEBUG : EZ_WARN, msg);
}

/* One statement on the kernel's own SQLite backend: rows (new array) when rows is not NULL,
 * changes otherwise. */
static int run(ez_plugin *self, const char *sql, const json_t *params, int max_rows, json_t **rows,
               int64_t *changes) {
    if (!self || !sql)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    char stackbuf[1024];
    size_t len = 0;
    char *x = kn_store_expand(self->name, sql, stackbuf, sizeof stackbuf, &len);
    if (!x)
        return EZ_ENOMEM;
    int64_t ignored = 0;
    int rc =
        kn_store_sqlite.run(tk->db, x, len, params, max_rows, rows, changes ? changes : &ignored);
    if (rc != EZ_OK)
        report(self, rc, kn_store_sqlite.errmsg(tk->db), x);
    if (x != stackbuf)
        free(x);
    return rc;
}

static int64_t api_exec(ez_plugin *self, const char *sql, const json_t *params) {
    int64_t changes = 0;
    int rc = run(self, sql, params, 0, NULL, &changes);
    return rc == EZ_OK ? changes : rc;
}

/* The testkit has no storage thread: a queued write is an ordinary one, like the kernel's
 * when write-behind is off. */
static int api_exec_later(ez_plugin *self, const char *sql, const json_t *params) {
    if (params && !json_is_array(params))
        return EZ_EINVAL;
    int64_t r = api_exec(self, sql, params);
    return r < 0 ? (int)r : EZ_OK;
}

static int api_later_pending(ez_plugin *self) {
    (void)self;
    return 0;
}

static json_t *api_query(ez_plugin *self, const char *sql, const json_t *params) {
    json_t *rows = NULL;
    return run(self, sql, params, 0, &rows, NULL) == EZ_OK ? rows : NULL;
}

static json_t *api_query_one(ez_plugin *self, const char *sql, const json_t *params) {
    json_t *rows = NULL;
    if (run(self, sql, params, 1, &rows, NULL) != EZ_OK)
        return NULL;
    json_t *first = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return first;
}

static int script(ez_tk *tk, const char *sql, char *err, size_t errlen) {
    int rc = kn_store_sqlite.script(tk->db, sql);
    if (rc != EZ_OK)
        snprintf(err, errlen, "%s", kn_store_sqlite.errmsg(tk->db));
    return rc;
}

static int api_begin(ez_plugin *self) {
    if (!self)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    if (tk->in_txn)
        return EZ_ESTATE;
    char err[512];
    int rc = script(tk, "BEGIN IMMEDIATE", err, sizeof err);
    if (rc == EZ_OK)
        tk->in_txn = 1;
    else
        report(self, rc, err, "BEGIN IMMEDIATE");
    return rc;
}

static int finish_txn(ez_plugin *self, const char *sql) {
    if (!self)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    if (!tk->in_txn)
        return EZ_ESTATE;
    char err[512];
    int rc = script(tk, sql, err, sizeof err);
    if (rc != EZ_OK) {
        report(self, rc, err, sql);
        script(tk, "ROLLBACK", err, sizeof err);
    }
    tk->in_txn = 0;
    return rc;
}

static int api_commit(ez_plugin *self) {
    return finish_txn(self, "COMMIT");
}

static int api_rollback(ez_plugin *self) {
    return finish_txn(self, "ROLLBACK");
}

/* The recorded schema version of a plugin, or -1 when it cannot be read. */
static int version_of(ez_tk *tk, const char *plugin) {
    static const char sql[] =
        "SELECT COALESCE(MAX(version), 0) AS v FROM kernel_migrations WHERE plugin = ?";
    json_t *params = json_pack("[s]", plugin), *rows = NULL;
    int64_t changes = 0;
    int v = -1;
    if (kn_store_sqlite.run(tk->db, sql, sizeof sql - 1, params, 1, &rows, &changes) == EZ_OK)
        v = (int)json_integer_value(json_object_get(json_array_get(rows, 0), "v"));
    json_decref(rows);
    json_decref(params);
    return v;
}

static int record_version(ez_tk *tk, const char *plugin, int version, char *err, size_t errlen) {
    static const char sql[] =
        "INSERT INTO kernel_migrations (plugin, version, applied_at) VALUES (?, ?, ?)";
    json_t *params = json_pack("[siI]", plugin, version, (json_int_t)ez_tk_now(tk));
    int64_t changes = 0;
    int rc = kn_store_sqlite.run(tk->db, sql, sizeof sql - 1, params, 0, NULL, &changes);
    json_decref(params);
    if (rc != EZ_OK)
        snprintf(err, errlen, "%s", kn_store_sqlite.errmsg(tk->db));
    return rc == EZ_OK ? EZ_OK : EZ_EIO;
}

static int api_migrate(ez_plugin *self, int version, const char *sql) {
    if (!self || !sql || version <= 0)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    if (tk->in_txn)
        return EZ_ESTATE;
    int cur = version_of(tk, self->name);
    if (cur < 0)
        return EZ_EIO;
    if (version <= cur)
        return EZ_OK;
    size_t len = 0;
    char *x = kn_store_expand(self->name, sql, NULL, 0, &len);
    if (!x)
        return EZ_ENOMEM;
    char err[512] = "";
    int rc = script(tk, "BEGIN IMMEDIATE", err, sizeof err);
    if (rc == EZ_OK)
        rc = script(tk, x, err, sizeof err);
    if (rc == EZ_OK)
        rc = record_version(tk, self->name, version, err, sizeof err);
    if (rc == EZ_OK)
        rc = script(tk, "COMMIT", err, sizeof err);
    if (rc != EZ_OK) {
        char msg[800];
        snprintf(msg, sizeof msg, "store: migration %d failed: %s", version, err);
        tk_log_write(tk, self->name, EZ_ERR, msg);
        script(tk, "ROLLBACK", err, sizeof err);
        rc = rc == EZ_ENOMEM ? rc : EZ_EIO;
    }
    free(x);
    return rc;
}

int tk_store_open(ez_tk *tk) {
    char err[512];
    tk->db = kn_store_sqlite.open(":memory:", err, sizeof err);
    if (!tk->db) {
        snprintf(tk->err, sizeof tk->err, "sqlite: %.400s", err);
        return EZ_EIO;
    }
    if (script(tk,
               "CREATE TABLE kernel_migrations (plugin TEXT NOT NULL, "
               "version INTEGER NOT NULL, applied_at INTEGER NOT NULL, "
               "PRIMARY KEY (plugin, version))",
               err, sizeof err) != EZ_OK) {
        snprintf(tk->err, sizeof tk->err, "sqlite: %.400s", err);
        return EZ_EIO;
    }
    return EZ_OK;
}

void tk_store_close(ez_tk *tk) {
    if (tk->db)
        kn_store_sqlite.close(tk->db);
    tk->db = NULL;
}

const json_t *ez_tk_query(ez_tk *tk, const char *name, const char *sql, const char *params_json) {
    ez_plugin *p = ez_tk_plugin(tk, name);
    if (!p || !sql)
        return NULL;
    json_t *params = params_json ? json_loads(params_json, 0, NULL) : NULL;
    if (params_json && !params)
        return NULL;
    json_t *rows = api_query(p, sql, params);
    json_decref(params);
    if (!rows)
        return NULL;
    json_array_append_new(tk->kept, rows);
    return rows;
}

void tk_store_fill(ez_tk *tk) {
    ez_store_api *s = &tk->store;
    s->size = sizeof(ez_store_api);
    s->migrate = api_migrate;
    s->exec = api_exec;
    s->query = api_query;
    s->query_one = api_query_one;
    s->begin = api_begin;
    s->commit = api_commit;
    s->rollback = api_rollback;
    s->exec_later = api_exec_later;
    s->later_pending = api_later_pending;
    tk->api.store = s;
}
