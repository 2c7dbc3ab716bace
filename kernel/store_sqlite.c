/* SQLite backend. One connection (store.c serialises callers), WAL, prepared statements cached
 * by SQL text in a bounded LRU: the hot path is lookup, bind, step, reset - no prepare, and no
 * allocation beyond the JSON rows it returns. */
#include "json_text.h"
#include "store_backend.h"
#include "store_sqlite_ckpt.h"

#include "util_utf8.h"

#include <sqlite3.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 256 /* power of two */
#define CACHE_MAX 256

typedef struct stmt_entry {
    uint64_t hash;
    size_t len;
    char *sql;
    sqlite3_stmt *st;
    struct stmt_entry *bnext;       /* bucket chain */
    struct stmt_entry *prev, *next; /* LRU, most recent first */
} stmt_entry;

typedef struct sq_db {
    sqlite3 *db;
    sq_ckpt *ckpt; /* NULL: SQLite's automatic checkpoints */
    stmt_entry *buckets[CACHE_BUCKETS];
    stmt_entry *lru_head, *lru_tail;
    size_t count;
    char err[512];
} sq_db;

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void set_err(sq_db *d, const char *what) {
    snprintf(d->err, sizeof d->err, "%s%s%s", what ? what : "", what ? ": " : "",
             sqlite3_errmsg(d->db));
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

static void lru_unlink(sq_db *d, stmt_entry *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        d->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(sq_db *d, stmt_entry *e) {
    e->prev = NULL;
    e->next = d->lru_head;
    if (d->lru_head)
        d->lru_head->prev = e;
    d->lru_head = e;
    if (!d->lru_tail)
        d->lru_tail = e;
}

static void entry_drop(sq_db *d, stmt_entry *e) {
    stmt_entry **pp = &d->buckets[e->hash & (CACHE_BUCKETS - 1)];
    while (*pp != e)
        pp = &(*pp)->bnext;
    *pp = e->bnext;
    lru_unlink(d, e);
    sqlite3_finalize(e->st);
    free(e->sql);
    free(e);
    d->count--;
}

static int only_space(const char *p, const char *end) {
    for (; p < end; p++)
        if (!(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';'))
            return 0;
    return 1;
}

static int get_stmt(sq_db *d, const char *sql, size_t len, sqlite3_stmt **out) {
    uint64_t h = fnv1a(sql, len);
    for (stmt_entry *e = d->buckets[h & (CACHE_BUCKETS - 1)]; e; e = e->bnext)
        if (e->hash == h && e->len == len && memcmp(e->sql, sql, len) == 0) {
            if (d->lru_head != e) {
                lru_unlink(d, e);
                lru_push_front(d, e);
            }
            *out = e->st;
            return EZ_OK;
        }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(d->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
        set_err(d, NULL);
        return map_rc(rc) == EZ_OK ? EZ_EINVAL : map_rc(rc);
    }
    if (!st) {
        snprintf(d->err, sizeof d->err, "empty SQL statement");
        return EZ_EINVAL;
    }
    if (tail && !only_space(tail, sql + len)) {
        sqlite3_finalize(st);
        snprintf(d->err, sizeof d->err, "one statement per call (use migrate for scripts)");
        return EZ_EINVAL;
    }
    stmt_entry *e = calloc(1, sizeof *e);
    char *copy = malloc(len + 1);
    if (!e || !copy) {
        free(e);
        free(copy);
        sqlite3_finalize(st);
        snprintf(d->err, sizeof d->err, "out of memory");
        return EZ_ENOMEM;
    }
    memcpy(copy, sql, len);
    copy[len] = '\0';
    e->hash = h;
    e->len = len;
    e->sql = copy;
    e->st = st;
    stmt_entry **b = &d->buckets[h & (CACHE_BUCKETS - 1)];
    e->bnext = *b;
    *b = e;
    lru_push_front(d, e);
    d->count++;
    if (d->count > CACHE_MAX)
        entry_drop(d, d->lru_tail);
    *out = st;
    return EZ_OK;
}

static int bind_params(sq_db *d, sqlite3_stmt *st, const json_t *params) {
    int want = sqlite3_bind_parameter_count(st);
    size_t have = params ? json_array_size(params) : 0;
    if (params && !json_is_array(params)) {
        snprintf(d->err, sizeof d->err, "params must be a JSON array");
        return EZ_EINVAL;
    }
    if ((size_t)want != have) {
        snprintf(d->err, sizeof d->err, "statement has %d parameters, %zu given", want, have);
        return EZ_EINVAL;
    }
    for (size_t i = 0; i < have; i++) {
        const json_t *v = json_array_get(params, i);
        int idx = (int)i + 1, rc;
        switch (json_typeof(v)) {
        case JSON_STRING:
            /* STATIC: params outlive the statement's use; bindings are cleared before return */
            rc = sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                                   SQLITE_STATIC);
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
            size_t n = 0;
            char *text = kn_json_text(v, &n); /* the kernel's writer: json_text.h */
            if (!text || n > INT32_MAX) {
                free(text);
                snprintf(d->err, sizeof d->err, "a JSON parameter: out of memory or too deep");
                return EZ_ENOMEM;
            }
            rc = sqlite3_bind_text(st, idx, text, (int)n, free);
            break;
        }
        }
        if (rc != SQLITE_OK) {
            set_err(d, "bind");
            return map_rc(rc) == EZ_OK ? EZ_EINVAL : map_rc(rc);
        }
    }
    return EZ_OK;
}

static json_t *text_value(const unsigned char *p, int n) {
    if (!p)
        return json_string("");
    json_t *v = json_stringn((const char *)p, (size_t)n);
    if (v)
        return v;
    /* not UTF-8 (a BLOB, or TEXT written by another tool): repair rather than drop the row */
    char *copy = malloc((size_t)n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, p, (size_t)n);
    kn_utf8_sanitize(copy, (size_t)n);
    v = json_stringn(copy, (size_t)n);
    free(copy);
    return v;
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
        case SQLITE_BLOB:
            v = text_value(sqlite3_column_blob(st, i), sqlite3_column_bytes(st, i));
            break;
        default:
            v = text_value(sqlite3_column_text(st, i), sqlite3_column_bytes(st, i));
            break;
        }
        const char *name = sqlite3_column_name(st, i);
        if (!v || !name || json_object_set_new(row, name, v) != 0) {
            json_decref(row);
            return NULL;
        }
    }
    return row;
}

static int sq_run(void *h, const char *sql, size_t len, const json_t *params, int max_rows,
                  json_t **rows, int64_t *changes) {
    sq_db *d = h;
    sqlite3_stmt *st;
    int rc = get_stmt(d, sql, len, &st);
    if (rc != EZ_OK)
        return rc;
    rc = bind_params(d, st, params);
    json_t *out = NULL;
    if (rc == EZ_OK && rows && !(out = json_array()))
        rc = EZ_ENOMEM;
    while (rc == EZ_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            set_err(d, NULL);
            rc = map_rc(s) == EZ_OK ? EZ_EIO : map_rc(s);
            break;
        }
        if (!out)
            continue; /* exec: rows (RETURNING, SELECT) are stepped over */
        json_t *row = row_object(st);
        if (!row || json_array_append_new(out, row) != 0) {
            snprintf(d->err, sizeof d->err, "out of memory");
            rc = EZ_ENOMEM;
            break;
        }
        if (max_rows > 0 && json_array_size(out) >= (size_t)max_rows)
            break;
    }
    if (rc == EZ_OK && changes)
        *changes = sqlite3_stmt_readonly(st) ? 0 : (int64_t)sqlite3_changes64(d->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == EZ_OK && rows)
        *rows = out;
    else
        json_decref(out);
    return rc;
}

static int sq_script(void *h, const char *sql) {
    sq_db *d = h;
    char *msg = NULL;
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(d->err, sizeof d->err, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(rc) == EZ_OK ? EZ_EIO : map_rc(rc);
    }
    return EZ_OK;
}

static const char *sq_errmsg(void *h) {
    return ((sq_db *)h)->err;
}

static void sq_close(void *h) {
    sq_db *d = h;
    if (!d)
        return;
    sq_ckpt_stop(d->ckpt, d->db);
    while (d->lru_head)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        entry_drop(d, d->lru_head);
    /* a clean close checkpoints the WAL so the file is complete on its own */
    sqlite3_close(d->db);
    free(d);
}

static void *sq_open(const char *path, char *err, size_t errlen) {
    sq_db *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        sqlite3_close(d->db);
        free(d);
        return NULL;
    }
    sqlite3_extended_result_codes(d->db, 1);
    sqlite3_busy_timeout(d->db, 5000);
    /* temp_store: the kernel's group commit runs plugins' transactions as savepoints, whose
     * journals would otherwise spill to temporary files */
    if (sq_script(d, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                     "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;") != EZ_OK) {
        snprintf(err, errlen, "%s: %s", path, d->err);
        sq_close(d);
        return NULL;
    }
    return d;
}

static int sq_checkpoint_in_background(void *h, const char *path, int pages, char *err,
                                       size_t errlen) {
    sq_db *d = h;
    if (d->ckpt)
        return EZ_ESTATE;
    d->ckpt = sq_ckpt_start(d->db, path, pages, err, errlen);
    return d->ckpt ? EZ_OK : EZ_EIO;
}

const kn_store_backend kn_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .run = sq_run,
    .script = sq_script,
    .errmsg = sq_errmsg,
    .checkpoint_in_background = sq_checkpoint_in_background,
};
