/* testkit: the store sub-table on an in-memory SQLite database, with the kernel's rules: "@name"
 * expands to "<plugin>_name" outside quotes and comments, one statement per exec/query, JSON
 * parameters and rows, migrations recorded per plugin, transactions that do not nest. */
#include "tk_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Returns a new string with every "@name" outside literals and comments prefixed. */
static char *expand(const char *ns, const char *sql) {
    size_t nslen = strlen(ns), cap = strlen(sql) + 1, ats = 0;
    for (const char *p = sql; *p; p++)
        ats += *p == '@';
    cap += ats * (nslen + 1);
    char *out = tk_xcalloc(1, cap);
    size_t o = 0;
    const char *p = sql;
    while (*p) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            out[o++] = *p++;
            while (*p) {
                char d = *p;
                out[o++] = *p++;
                if (d == close) {
                    if (close != ']' && *p == close) { /* doubled quote: still inside */
                        out[o++] = *p++;
                        continue;
                    }
                    break;
                }
            }
        } else if (c == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                out[o++] = *p++;
        } else if (c == '/' && p[1] == '*') {
            out[o++] = *p++;
            out[o++] = *p++;
            while (*p && !(p[0] == '*' && p[1] == '/'))
                out[o++] = *p++;
            if (*p) {
                out[o++] = *p++;
                out[o++] = *p++;
            }
        } else if (c == '@' && name_char(p[1]) && (p == sql || !name_char(p[-1]))) {
            memcpy(out + o, ns, nslen);
            o += nslen;
            out[o++] = '_';
            p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

static int map_rc(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return EZ_OK;
    case SQLITE_CONSTRAINT:
        return EZ_ECONSTRAINT;
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
        return EZ_EINVAL;
    case SQLITE_NOMEM:
        return EZ_ENOMEM;
    default:
        return EZ_EIO;
    }
}

static void report(ez_plugin *self, int rc, const char *what, const char *sql) {
    char msg[1024];
    snprintf(msg, sizeof msg, "store: %s (SQL: %.200s)", what, sql);
    tk_log_write(self->tk, self->name, rc == EZ_ECONSTRAINT ? EZ_DEBUG : EZ_WARN, msg);
}

static int only_space(const char *p) {
    for (; *p; p++)
        if (!(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';'))
            return 0;
    return 1;
}

static int bind_params(sqlite3_stmt *st, const json_t *params, char *err, size_t errlen) {
    int want = sqlite3_bind_parameter_count(st);
    if (params && !json_is_array(params)) {
        snprintf(err, errlen, "params must be a JSON array");
        return EZ_EINVAL;
    }
    size_t have = params ? json_array_size(params) : 0;
    if ((size_t)want != have) {
        snprintf(err, errlen, "statement has %d parameters, %zu given", want, have);
        return EZ_EINVAL;
    }
    for (size_t i = 0; i < have; i++) {
        const json_t *v = json_array_get(params, i);
        int idx = (int)i + 1, rc;
        switch (json_typeof(v)) {
        case JSON_STRING:
            rc = sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                                   SQLITE_TRANSIENT);
            break;
        case JSON_INTEGER:
            rc = sqlite3_bind_int64(st, idx, (sqlite3_int64)json_integer_value(v));
            break;
        case JSON_REAL:
            rc = sqlite3_bind_double(st, idx, json_real_value(v));
            break;
        case JSON_TRUE:
            rc = sqlite3_bind_int(st, idx, 1);
            break;
        case JSON_FALSE:
            rc = sqlite3_bind_int(st, idx, 0);
            break;
        case JSON_NULL:
            rc = sqlite3_bind_null(st, idx);
            break;
        default: {
            char *text = json_dumps(v, JSON_COMPACT);
            if (!text)
                return EZ_ENOMEM;
            rc = sqlite3_bind_text(st, idx, text, -1, free);
            break;
        }
        }
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "bind %d: %s", idx, sqlite3_errstr(rc));
            return map_rc(rc) == EZ_OK ? EZ_EINVAL : map_rc(rc);
        }
    }
    return EZ_OK;
}

static json_t *row_object(sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    json_t *row = json_object();
    for (int i = 0; row && i < n; i++) {
        json_t *v;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v = json_integer((json_int_t)sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            v = json_real(sqlite3_column_double(st, i));
            break;
        case SQLITE_NULL:
            v = json_null();
            break;
        case SQLITE_BLOB: {
            const void *b = sqlite3_column_blob(st, i);
            v = json_stringn(b ? b : "", (size_t)sqlite3_column_bytes(st, i));
            break;
        }
        default: {
            const unsigned char *t = sqlite3_column_text(st, i);
            v = json_stringn(t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, i));
            break;
        }
        }
        if (!v)
            v = json_string(""); /* not UTF-8: the kernel repairs it, a test only needs a value */
        json_object_set_new(row, sqlite3_column_name(st, i), v);
    }
    return row;
}

/* One statement: rows (new array) when rows is not NULL, changes otherwise. */
static int run(ez_plugin *self, const char *sql, const json_t *params, int max_rows, json_t **rows,
               int64_t *changes) {
    if (!self || !sql)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    char *x = expand(self->name, sql);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    char err[512] = "";
    int rc = EZ_OK, prc = sqlite3_prepare_v2(tk->db, x, -1, &st, &tail);
    if (prc != SQLITE_OK) {
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(tk->db));
        rc = map_rc(prc) == EZ_OK ? EZ_EINVAL : map_rc(prc);
    } else if (!st) {
        snprintf(err, sizeof err, "empty SQL statement");
        rc = EZ_EINVAL;
    } else if (tail && !only_space(tail)) {
        snprintf(err, sizeof err, "one statement per call (use migrate for scripts)");
        rc = EZ_EINVAL;
    }
    if (rc == EZ_OK)
        rc = bind_params(st, params, err, sizeof err);
    json_t *out = rc == EZ_OK && rows ? json_array() : NULL;
    while (rc == EZ_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(tk->db));
            rc = map_rc(s) == EZ_OK ? EZ_EIO : map_rc(s);
            break;
        }
        if (!out)
            continue;
        json_array_append_new(out, row_object(st));
        if (max_rows > 0 && json_array_size(out) >= (size_t)max_rows)
            break;
    }
    if (rc == EZ_OK && changes)
        *changes = sqlite3_stmt_readonly(st) ? 0 : (int64_t)sqlite3_changes64(tk->db);
    sqlite3_finalize(st);
    if (rc != EZ_OK)
        report(self, rc, err[0] ? err : sqlite3_errmsg(tk->db), x);
    free(x);
    if (rc == EZ_OK && rows)
        *rows = out;
    else
        json_decref(out);
    return rc;
}

static int64_t api_exec(ez_plugin *self, const char *sql, const json_t *params) {
    int64_t changes = 0;
    int rc = run(self, sql, params, 0, NULL, &changes);
    return rc == EZ_OK ? changes : rc;
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
    char *msg = NULL;
    int rc = sqlite3_exec(tk->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(rc) == EZ_OK ? EZ_EIO : map_rc(rc);
    }
    return EZ_OK;
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
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(
            tk->db, "SELECT COALESCE(MAX(version), 0) FROM kernel_migrations WHERE plugin = ?", -1,
            &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int record_version(ez_tk *tk, const char *plugin, int version, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        tk->db, "INSERT INTO kernel_migrations (plugin, version, applied_at) VALUES (?, ?, ?)", -1,
        &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 2, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)ez_tk_now(tk));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "%s", sqlite3_errmsg(tk->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? EZ_OK : EZ_EIO;
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
    char *x = expand(self->name, sql);
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
    if (sqlite3_open(":memory:", &tk->db) != SQLITE_OK) {
        snprintf(tk->err, sizeof tk->err, "sqlite: %s",
                 tk->db ? sqlite3_errmsg(tk->db) : "cannot open an in-memory database");
        return EZ_EIO;
    }
    sqlite3_extended_result_codes(tk->db, 1);
    char err[512];
    if (script(tk,
               "PRAGMA foreign_keys=ON; CREATE TABLE kernel_migrations (plugin TEXT NOT NULL, "
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
        sqlite3_close(tk->db);
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
    tk->api.store = s;
}
