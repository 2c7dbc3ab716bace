/* store.c + store_sqlite.c: namespacing, pragmas, migrations (atomic, versioned), typed params
 * and rows, constraint errors, transactions, statement cache eviction, threads, persistence. */
#include "check.h"
#include "fake_kernel.h"
#include "store.h"

#include <event2/event.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* store.c finds the store through the plugin handle; a minimal one is enough here. */
struct ez_plugin {
    kn_kernel *k;
    const char *name;
};

kn_kernel *kn_plugin_kernel(const ez_plugin *p) {
    return p ? p->k : NULL;
}

const char *kn_plugin_name(const ez_plugin *p) {
    return p ? p->name : NULL;
}

static void test_expand(void) {
    char buf[256];
    size_t len;
    char *x =
        kn_store_expand("t",
                        "SELECT * FROM @notes n JOIN @other o ON o.id=n.id WHERE a='@no''@no' "
                        "AND b=\"@no\" AND c=`@no` AND d=[@no] AND e=x@y -- @no\n AND @z.k "
                        "/* @no */",
                        buf, sizeof buf, &len);
    CHECK(x == buf);
    CHECK_STR(x, "SELECT * FROM t_notes n JOIN t_other o ON o.id=n.id WHERE a='@no''@no' "
                 "AND b=\"@no\" AND c=`@no` AND d=[@no] AND e=x@y -- @no\n AND t_z.k /* @no */");
    CHECK_INT(len, strlen(x));
    x = kn_store_expand("plug", "@a @ b @", buf, sizeof buf, &len);
    CHECK_STR(x, "plug_a @ b @");
    /* too long for the buffer: a heap copy */
    char small[8];
    x = kn_store_expand("messaging", "SELECT 1 FROM @channels", small, sizeof small, &len);
    CHECK(x != small);
    CHECK_STR(x, "SELECT 1 FROM messaging_channels");
    CHECK_INT(len, strlen("SELECT 1 FROM messaging_channels"));
    free(x);
}

static void test_basics(kn_store *s) {
    json_t *r = kn_store_query(s, "t", "PRAGMA journal_mode", NULL, 1);
    CHECK_STR(json_string_value(json_object_get(r, "journal_mode")), "wal");
    json_decref(r);
    r = kn_store_query(s, "t", "PRAGMA foreign_keys", NULL, 1);
    CHECK_INT(json_integer_value(json_object_get(r, "foreign_keys")), 1);
    json_decref(r);
    r = kn_store_query(s, "t", "PRAGMA synchronous", NULL, 1);
    CHECK_INT(json_integer_value(json_object_get(r, "synchronous")), 1); /* NORMAL */
    json_decref(r);

    CHECK_INT(kn_store_version(s, "t"), 0);
    CHECK_INT(kn_store_migrate(s, "t", 1,
                               "CREATE TABLE @parent (id TEXT PRIMARY KEY);"
                               "CREATE TABLE @items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, "
                               "n INTEGER, r REAL, b INTEGER, meta TEXT, "
                               "parent TEXT REFERENCES @parent(id));"),
              EZ_OK);
    CHECK_INT(kn_store_version(s, "t"), 1);
    /* applied once: a second run would fail on CREATE TABLE */
    CHECK_INT(kn_store_migrate(s, "t", 1, "CREATE TABLE @parent (id TEXT)"), EZ_OK);
    /* a failing migration leaves nothing behind and the version unchanged */
    CHECK_INT(kn_store_migrate(s, "t", 2, "CREATE TABLE @half (a); CREATE TABLEX broken"), EZ_EIO);
    CHECK_INT(kn_store_version(s, "t"), 1);
    r = kn_store_query(s, "t", "SELECT name FROM sqlite_master WHERE name = 't_half'", NULL, 0);
    CHECK_INT(json_array_size(r), 0);
    json_decref(r);
    CHECK_INT(kn_store_migrate(s, "t", 2, "ALTER TABLE @items ADD COLUMN extra TEXT"), EZ_OK);
    CHECK_INT(kn_store_version(s, "t"), 2);
    CHECK_INT(kn_store_version(s, "other"), 0); /* versions are per plugin */
    CHECK_INT(kn_store_migrate(s, "t", 0, "SELECT 1"), EZ_EINVAL);

    json_t *p = json_pack("[s,I,f,b,{s:i},n]", "first", (json_int_t)1 << 40, 2.5, 1, "k", 1);
    CHECK_INT(kn_store_exec(s, "t",
                            "INSERT INTO @items (name, n, r, b, meta, parent) VALUES "
                            "(?, ?, ?, ?, ?, ?)",
                            p),
              1);
    json_decref(p);
    json_t *q = json_pack("[s]", "first");
    r = kn_store_query(s, "t", "SELECT * FROM @items WHERE name = ?", q, 1);
    json_decref(q);
    CHECK(r != NULL);
    CHECK_INT(json_integer_value(json_object_get(r, "n")), (json_int_t)1 << 40);
    CHECK(json_real_value(json_object_get(r, "r")) == 2.5);
    CHECK_INT(json_integer_value(json_object_get(r, "b")), 1);
    CHECK_STR(json_string_value(json_object_get(r, "meta")), "{\"k\":1}");
    CHECK(json_is_null(json_object_get(r, "parent")));
    CHECK(json_is_null(json_object_get(r, "extra")));
    json_decref(r);

    json_t *dup = json_pack("[s]", "first");
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @items (name) VALUES (?)", dup), EZ_ECONSTRAINT);
    json_decref(dup);
    json_t *fk = json_pack("[s,s]", "child", "no-such-parent");
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @items (name, parent) VALUES (?, ?)", fk),
              EZ_ECONSTRAINT);
    json_decref(fk);
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @items (name) VALUES (?)", NULL), EZ_EINVAL);
    json_t *obj = json_object();
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @items (name) VALUES (?)", obj), EZ_EINVAL);
    json_decref(obj);
    CHECK_INT(kn_store_exec(s, "t", "DELETE FROM @items; DELETE FROM @parent", NULL), EZ_EINVAL);
    CHECK_INT(kn_store_exec(s, "t", "SELEC nonsense", NULL), EZ_EINVAL);
    CHECK(kn_store_query(s, "t", "SELECT * FROM @missing", NULL, 0) == NULL);
    CHECK_INT(kn_store_exec(s, "t", "UPDATE @items SET n = n + 1", NULL), 1);
    CHECK_INT(kn_store_exec(s, "t", "SELECT * FROM @items", NULL), 0);

    /* query: empty result is an empty array; query_one: NULL */
    r = kn_store_query(s, "t", "SELECT * FROM @items WHERE 0", NULL, 0);
    CHECK(json_is_array(r) && json_array_size(r) == 0);
    json_decref(r);
    CHECK(kn_store_query(s, "t", "SELECT * FROM @items WHERE 0", NULL, 1) == NULL);

    /* TEXT that is not UTF-8 comes back repaired, not dropped */
    CHECK_INT(
        kn_store_exec(s, "t", "INSERT INTO @items (name) VALUES (CAST(X'61FF62' AS TEXT))", NULL),
        1);
    r = kn_store_query(s, "t", "SELECT name FROM @items WHERE n IS NULL", NULL, 1);
    CHECK_STR(json_string_value(json_object_get(r, "name")), "a?b");
    json_decref(r);
}

static void test_transactions(kn_store *s) {
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    CHECK_INT(kn_store_begin(s, "t"), EZ_ESTATE);
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @parent (id) VALUES ('rolled')", NULL), 1);
    CHECK_INT(kn_store_migrate(s, "t", 9, "SELECT 1"), EZ_ESTATE);
    CHECK_INT(kn_store_rollback(s, "t"), EZ_OK);
    json_t *r = kn_store_query(s, "t", "SELECT COUNT(*) AS c FROM @parent", NULL, 1);
    CHECK_INT(json_integer_value(json_object_get(r, "c")), 0);
    json_decref(r);
    CHECK_INT(kn_store_commit(s, "t"), EZ_ESTATE);
    CHECK_INT(kn_store_rollback(s, "t"), EZ_ESTATE);
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @parent (id) VALUES ('kept')", NULL), 1);
    CHECK_INT(kn_store_commit(s, "t"), EZ_OK);
    r = kn_store_query(s, "t", "SELECT id FROM @parent", NULL, 0);
    CHECK_INT(json_array_size(r), 1);
    json_decref(r);
}

static void test_cache(kn_store *s) {
    /* more distinct statements than the cache holds, then the first again */
    char sql[64];
    for (int i = 0; i < 600; i++) {
        snprintf(sql, sizeof sql, "SELECT %d AS v", i);
        json_t *r = kn_store_query(s, "t", sql, NULL, 1);
        CHECK_INT(json_integer_value(json_object_get(r, "v")), i);
        json_decref(r);
    }
    json_t *r = kn_store_query(s, "t", "SELECT 0 AS v", NULL, 1);
    CHECK(r && json_integer_value(json_object_get(r, "v")) == 0);
    json_decref(r);
}

#define NTHREADS 4
#define PER 300

typedef struct targ {
    kn_store *s;
    int id;
    int errors;
} targ;

static void *writer(void *arg) {
    targ *t = arg;
    for (int i = 0; i < PER; i++) {
        json_t *p = json_pack("[i,i]", t->id, i);
        if (kn_store_exec(t->s, "t", "INSERT INTO @mt (thread, n) VALUES (?, ?)", p) != 1)
            t->errors++;
        json_decref(p);
    }
    return NULL;
}

static void *rollbacker(void *arg) {
    targ *t = arg;
    for (int round = 0; round < 20; round++) {
        if (kn_store_begin(t->s, "t") != EZ_OK) {
            t->errors++;
            continue;
        }
        for (int i = 0; i < 10; i++) {
            json_t *p = json_pack("[i,i]", 99, i);
            kn_store_exec(t->s, "t", "INSERT INTO @mt (thread, n) VALUES (?, ?)", p);
            json_decref(p);
        }
        kn_store_rollback(t->s, "t");
    }
    return NULL;
}

static void test_threads(kn_store *s) {
    CHECK_INT(kn_store_migrate(s, "t", 3, "CREATE TABLE @mt (thread INTEGER, n INTEGER)"), EZ_OK);
    pthread_t th[NTHREADS + 1];
    targ args[NTHREADS + 1];
    for (int i = 0; i <= NTHREADS; i++) {
        args[i] = (targ){s, i, 0};
        pthread_create(&th[i], NULL, i == NTHREADS ? rollbacker : writer, &args[i]);
    }
    for (int i = 0; i <= NTHREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].errors, 0);
    }
    json_t *r =
        kn_store_query(s, "t", "SELECT COUNT(*) AS c, SUM(thread = 99) AS rb FROM @mt", NULL, 1);
    CHECK_INT(json_integer_value(json_object_get(r, "c")), NTHREADS * PER);
    CHECK_INT(json_integer_value(json_object_get(r, "rb")), 0);
    json_decref(r);
}

static void test_api_table(kn_kernel *k) {
    const ez_store_api *api = kn_store_api();
    ez_plugin p = {k, "apiplug"};
    CHECK_INT(api->size, sizeof(ez_store_api));
    CHECK_INT(api->migrate(&p, 1, "CREATE TABLE @kv (k TEXT PRIMARY KEY, v TEXT)"), EZ_OK);
    json_t *params = json_pack("[s,s]", "a", "1");
    CHECK_INT(api->exec(&p, "INSERT INTO @kv VALUES (?, ?)", params), 1);
    json_decref(params);
    json_t *rows = api->query(&p, "SELECT * FROM apiplug_kv", NULL);
    CHECK_INT(json_array_size(rows), 1);
    json_decref(rows);
    CHECK_INT(api->begin(&p), EZ_OK);
    CHECK_INT(api->exec(&p, "DELETE FROM @kv", NULL), 1);
    CHECK_INT(api->rollback(&p), EZ_OK);
    json_t *one = api->query_one(&p, "SELECT v FROM @kv WHERE k = 'a'", NULL);
    CHECK_STR(json_string_value(json_object_get(one, "v")), "1");
    json_decref(one);
    CHECK_INT(api->exec(NULL, "SELECT 1", NULL), EZ_EINVAL);
}

/* ---- group commit ---- */

/* Rows of a table as another connection (another process, say) sees them: committed ones. */
static int committed_in(const char *path, const char *table) {
    sqlite3 *db = NULL;
    int n = -1;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static int committed_rows(const char *path) {
    return committed_in(path, "t_gc");
}

static int rows_here(kn_store *s) {
    json_t *r = kn_store_query(s, "t", "SELECT COUNT(*) AS c FROM @gc", NULL, 1);
    int n = (int)json_integer_value(json_object_get(r, "c"));
    json_decref(r);
    return n;
}

static void insert(kn_store *s, int v) {
    json_t *p = json_pack("[i]", v);
    CHECK_INT(kn_store_exec(s, "t", "INSERT INTO @gc (v) VALUES (?)", p), 1);
    json_decref(p);
}

typedef struct answer {
    kn_store *s;
    struct event *write_ev;
    int turn_open_when_written;
    int ran;
} answer;

/* Stands for a socket write callback: it must find the turn committed. */
static void on_writable(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    answer *a = arg;
    a->turn_open_when_written = kn_store_turn_open(a->s);
    a->ran = 1;
}

/* Stands for a request handler: writes, then queues its answer on a socket. */
static void on_request(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    answer *a = arg;
    insert(a->s, 100);
    event_add(a->write_ev, NULL);
}

static void *late_writer(void *arg) {
    insert(arg, 200); /* waits for the loop's turn to end */
    return NULL;
}

static void test_group_commit(kn_store *s, const char *path) {
    struct event_base *base = event_base_new();
    CHECK(base && event_base_priority_init(base, 2) == 0);
    CHECK_INT(kn_store_group_commit(s, base), EZ_OK);
    CHECK_INT(kn_store_migrate(s, "t", 4, "CREATE TABLE @gc (v INTEGER)"), EZ_OK);

    /* writes of one turn: visible here at once, to others after the turn */
    insert(s, 1);
    insert(s, 2);
    CHECK(kn_store_turn_open(s));
    CHECK_INT(rows_here(s), 2);
    CHECK_INT(committed_rows(path), 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(!kn_store_turn_open(s));
    CHECK_INT(committed_rows(path), 2);

    /* a plugin's transaction inside the turn: nested begin refused, rollback undoes only it */
    insert(s, 3);
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    CHECK_INT(kn_store_begin(s, "t"), EZ_ESTATE);
    insert(s, 4);
    CHECK_INT(kn_store_rollback(s, "t"), EZ_OK);
    CHECK_INT(kn_store_commit(s, "t"), EZ_ESTATE);
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    insert(s, 5);
    CHECK_INT(kn_store_commit(s, "t"), EZ_OK);
    CHECK_INT(rows_here(s), 4);
    CHECK_INT(committed_rows(path), 2);
    /* one spanning the end of the turn: the turn commits when it does */
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    insert(s, 6);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(kn_store_turn_open(s));
    CHECK_INT(committed_rows(path), 2);
    CHECK_INT(kn_store_commit(s, "t"), EZ_OK);
    CHECK(!kn_store_turn_open(s));
    CHECK_INT(committed_rows(path), 5);

    /* the answer written by the loop after a write finds the write committed */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    answer a = {.s = s};
    a.write_ev = event_new(base, sv[0], EV_WRITE, on_writable, &a);
    struct event *req = event_new(base, -1, 0, on_request, &a);
    event_active(req, 0, 0);
    for (int i = 0; i < 5 && !a.ran; i++)
        event_base_loop(base, EVLOOP_ONCE);
    CHECK(a.ran);
    CHECK_INT(a.turn_open_when_written, 0);
    CHECK_INT(committed_rows(path), 6);
    event_free(req);
    event_free(a.write_ev);
    close(sv[0]);
    close(sv[1]);

    /* another thread's write waits for the turn, then autocommits */
    insert(s, 7);
    pthread_t th;
    pthread_create(&th, NULL, late_writer, s);
    usleep(50 * 1000);
    CHECK_INT(committed_rows(path), 6);
    event_base_loop(base, EVLOOP_NONBLOCK);
    pthread_join(th, NULL);
    CHECK_INT(committed_rows(path), 8);

    /* flush (before the loop thread waits on a worker) and migrations end the turn */
    insert(s, 8);
    kn_store_flush(s);
    CHECK(!kn_store_turn_open(s));
    insert(s, 9);
    CHECK_INT(kn_store_migrate(s, "t", 5, "CREATE TABLE @gc2 (v INTEGER)"), EZ_OK);
    CHECK_INT(committed_rows(path), 10);

    /* a turn still open at close is committed, not lost */
    insert(s, 10);
    kn_store_close(s);
    CHECK_INT(committed_rows(path), 11);
    event_base_free(base);
}

/* ---- write-behind (store_writer.c) ---- */

static uint64_t wb_committed_seen;

static void on_commit(void *arg, uint64_t committed, int ok) {
    (void)arg;
    (void)ok;
    wb_committed_seen = committed;
}

static int later(kn_store *s, int v) {
    json_t *p = json_pack("[i]", v);
    int rc = kn_store_exec_later(s, "t", "INSERT INTO @wb (v) VALUES (?)", p);
    json_decref(p);
    return rc;
}

static int count_wb(kn_store *s, const char *where) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) AS c FROM @wb%s", where);
    json_t *r = kn_store_query(s, "t", sql, NULL, 1);
    int n = r ? (int)json_integer_value(json_object_get(r, "c")) : -1;
    json_decref(r);
    return n;
}

static int committed_wb(const char *path) {
    return committed_in(path, "t_wb");
}

/* Runs the loop until the output tag `tag` is committed (bounded). */
static void loop_until_committed(struct event_base *base, kn_store *s, uint64_t tag) {
    for (int i = 0; i < 2000 && kn_store_committed(s) < tag; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

static void *thread_later(void *arg) {
    CHECK_INT(later(arg, 500), EZ_OK); /* off the loop: an ordinary write, done on return */
    return NULL;
}

/* A store in dir/name run by a loop of its own (*base), as the kernel runs it; data and path
 * (its file) receive the names. ckpt_pages: server.checkpoint_pages. */
static kn_store *loop_store(struct kn_kernel *k, const char *dir, const char *name, int ckpt_pages,
                            struct event_base **base, char data[600], char path[700]) {
    snprintf(data, 600, "%s/%s", dir, name);
    snprintf(path, 700, "%s/elizad.db", data);
    kn_store *s = kn_store_open(k, data);
    CHECK(s != NULL);
    if (!s)
        return NULL;
    *base = event_base_new();
    CHECK(*base && event_base_priority_init(*base, 2) == 0);
    kn_store_checkpoint_pages(s, ckpt_pages);
    CHECK_INT(kn_store_group_commit(s, *base), EZ_OK);
    return s;
}

static void test_write_behind(const char *dir) {
    char data[600], path[700];
    struct kn_kernel k = {0};
    struct event_base *base = NULL;
    kn_store *s = loop_store(&k, dir, "wb", 0, &base, data, path);
    if (!s)
        return;
    kn_store_on_commit(s, on_commit, NULL);
    CHECK_INT(kn_store_migrate(s, "t", 1, "CREATE TABLE @wb (v INTEGER UNIQUE)"), EZ_OK);
    CHECK_INT(kn_store_out_tag(s), 0);

    /* queued: not committed, not visible to the loop's reads, answers must wait */
    CHECK_INT(later(s, 1), EZ_OK);
    CHECK_INT(later(s, 2), EZ_OK);
    uint64_t tag = kn_store_out_tag(s);
    CHECK(tag > 0);
    CHECK_INT(committed_wb(path), 0);
    CHECK_INT(count_wb(s, ""), 0);
    /* the turn ends: the batch goes to the storage thread, the commit hook reports it */
    loop_until_committed(base, s, tag);
    CHECK(kn_store_committed(s) >= tag);
    CHECK(wb_committed_seen >= tag);
    CHECK_INT(kn_store_out_tag(s), 0);
    CHECK_INT(committed_wb(path), 2);
    CHECK_INT(count_wb(s, ""), 2);

    /* order: a plugin's synchronous write after queued ones sees them applied */
    CHECK_INT(later(s, 3), EZ_OK);
    json_t *p = json_pack("[i]", 3);
    CHECK_INT(kn_store_exec(s, "t", "UPDATE @wb SET v = 30 WHERE v = ?", p), 1);
    json_decref(p);
    event_base_loop(base, EVLOOP_NONBLOCK); /* the turn of the synchronous write */
    CHECK_INT(committed_wb(path), 3);
    CHECK_INT(count_wb(s, " WHERE v = 30"), 1);

    /* a failing statement is lost alone: the rest of its batch commits */
    CHECK_INT(later(s, 1), EZ_OK); /* UNIQUE violation, found by the thread */
    CHECK_INT(later(s, 4), EZ_OK);
    loop_until_committed(base, s, kn_store_out_tag(s));
    CHECK_INT(committed_wb(path), 4);

    /* inside a plugin's transaction it is an ordinary write: its rollback undoes it */
    CHECK_INT(kn_store_begin(s, "t"), EZ_OK);
    CHECK_INT(later(s, 5), EZ_OK);
    CHECK_INT(kn_store_out_tag(s), 0);
    CHECK_INT(kn_store_rollback(s, "t"), EZ_OK);
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK_INT(count_wb(s, " WHERE v = 5"), 0);

    /* off the loop it writes at once; bad input is refused at once */
    pthread_t th;
    pthread_create(&th, NULL, thread_later, s);
    pthread_join(th, NULL);
    CHECK_INT(committed_wb(path), 5);
    json_t *obj = json_object();
    CHECK_INT(kn_store_exec_later(s, "t", "INSERT INTO @wb (v) VALUES (?)", obj), EZ_EINVAL);
    json_decref(obj);
    CHECK_INT(kn_store_exec_later(s, NULL, "INSERT INTO @wb (v) VALUES (1)", NULL), EZ_EINVAL);

    /* flush waits for the thread; close commits what is still queued */
    CHECK_INT(later(s, 6), EZ_OK);
    kn_store_flush(s);
    CHECK_INT(committed_wb(path), 6);
    CHECK_INT(later(s, 7), EZ_OK);
    CHECK_INT(later(s, 8), EZ_OK);
    kn_store_close(s);
    CHECK_INT(committed_wb(path), 8);
    event_base_free(base);
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* server.checkpoint_pages: a thread copies the log into the database once it holds that many
 * pages; the log starts over instead of growing, and nothing is lost. */
static void test_background_checkpoints(const char *dir) {
    enum { PAGES = 32, ROWS = 300, PAD = 6000, PAGE = 4096 };
    char data[600], path[700], wal[720];
    struct kn_kernel k = {0};
    struct event_base *base = NULL;
    kn_store *s = loop_store(&k, dir, "ckpt", PAGES, &base, data, path);
    if (!s)
        return;
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK_INT(kn_store_migrate(s, "t", 1, "CREATE TABLE @big (v INTEGER, pad TEXT)"), EZ_OK);
    char *pad = malloc(PAD + 1);
    memset(pad, 'x', PAD);
    pad[PAD] = '\0';
    long long wal_max = 0;
    for (int i = 0; i < ROWS; i++) {
        json_t *p = json_pack("[is]", i, pad);
        CHECK_INT(kn_store_exec_later(s, "t", "INSERT INTO @big (v, pad) VALUES (?, ?)", p), EZ_OK);
        json_decref(p);
        loop_until_committed(base, s, kn_store_out_tag(s));
        long long w = file_size(wal);
        if (w > wal_max)
            wal_max = w;
    }
    free(pad);
    /* about 2 pages a row: SQLite's own checkpoint (at 1000 pages) would not have run yet; the
     * thread has copied the rows into the database file */
    long long want = (long long)ROWS * PAD;
    for (int i = 0; i < 2000 && file_size(path) < want; i++)
        usleep(1000);
    CHECK(file_size(path) >= want);
    /* the log never grew past the limit at which commits copy it themselves */
    CHECK(wal_max > 0 && wal_max <= ((long long)PAGES * 4 + 8) * (PAGE + 24) + 32);
    kn_store_close(s);
    event_base_free(base);

    s = kn_store_open(&k, data);
    CHECK(s != NULL);
    if (s) {
        json_t *r = kn_store_query(s, "t", "SELECT COUNT(*) AS c, SUM(v) AS s FROM @big", NULL, 1);
        CHECK_INT(json_integer_value(json_object_get(r, "c")), ROWS);
        CHECK_INT(json_integer_value(json_object_get(r, "s")), ROWS * (ROWS - 1) / 2);
        json_decref(r);
        kn_store_close(s);
    }
}

int main(void) {
    test_expand();
    char dir[] = "/tmp/elizad-test-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char data[512];
    snprintf(data, sizeof data, "%s/nested/data", dir); /* created with mkdir -p */
    struct kn_kernel k = {0};
    kn_store *s = kn_store_open(&k, data);
    CHECK(s != NULL);
    if (!s)
        CHECK_DONE();
    k.store = s;
    test_basics(s);
    test_transactions(s);
    test_cache(s);
    test_threads(s);
    test_api_table(&k);
    kn_store_close(s);

    /* reopen: rows and recorded versions survive a clean close */
    s = kn_store_open(&k, data);
    CHECK(s != NULL);
    if (s) {
        CHECK_INT(kn_store_version(s, "t"), 3);
        json_t *r = kn_store_query(s, "t", "SELECT id FROM @parent", NULL, 1);
        CHECK_STR(json_string_value(json_object_get(r, "id")), "kept");
        json_decref(r);
        char path[600];
        snprintf(path, sizeof path, "%s/elizad.db", data);
        test_group_commit(s, path); /* closes s */
    }
    test_write_behind(dir);
    test_background_checkpoints(dir);
    CHECK(kn_store_open(&k, "/proc/no/such/dir") == NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
