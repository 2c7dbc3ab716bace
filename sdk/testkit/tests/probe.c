/* probe: a test plugin that touches every area of the host API, so test_testkit can check that
 * the fake host behaves like the kernel. Not a model for real plugins (one file, test-only). */
#include "probe.h"

#include <stdlib.h>
#include <string.h>

typedef struct probe {
    ez_plugin *self;
    const ez_host_api *api;
    const json_t *cfg;
    int ticks;
    ez_timer *tick;
    int work_done;
    int seen_started;
    int seen_other;
    json_t *last_other;
    ez_req *parked; /* an EZ_ASYNC request answered by a timer */
} probe;

static probe_counters *counters;

void probe_bind_counters(probe_counters *c) {
    counters = c;
}

static void count_free(void *ud) {
    (void)ud;
    if (counters)
        counters->ud_freed++;
}

/* ---- HTTP ---- */

static int h_item(ez_req *req, void *ud) {
    probe *p = ud;
    const ez_host_api *a = p->api;
    json_t *tags = a->query_all(req, "tag");
    return a->respond_json_new(req, 200,
                               json_pack("{s:s,s:s,s:s?,s:o,s:s?,s:b,s:b}", "id",
                                         a->param(req, "id"), "path", a->path(req), "q",
                                         a->query(req, "q"), "tags", tags, "ua",
                                         a->header(req, "user-agent"), "loopback",
                                         a->is_loopback(req), "auth", a->is_authenticated(req))),
           EZ_DONE;
}

static int h_items_special(ez_req *req, void *ud) {
    probe *p = ud;
    return p->api->respond_json_new(req, 200, json_pack("{s:s}", "route", "special")), EZ_DONE;
}

static int h_files(ez_req *req, void *ud) {
    probe *p = ud;
    return p->api->respond_json_new(req, 200, json_pack("{s:s}", "rest", p->api->param(req, "*"))),
           EZ_DONE;
}

static int h_echo(ez_req *req, void *ud) {
    probe *p = ud;
    const json_t *b = p->api->body_json(req);
    p->api->set_header(req, "X-Probe", "1");
    return p->api->respond_json_new(req, 201, b ? json_deep_copy(b) : json_null()), EZ_DONE;
}

static int h_raw(ez_req *req, void *ud) {
    probe *p = ud;
    size_t len;
    const void *body = p->api->body(req, &len);
    return p->api->respond_raw(req, 200, "text/plain", body, len), EZ_DONE;
}

static int h_forget(ez_req *req, void *ud) {
    (void)req;
    (void)ud;
    return EZ_DONE; /* a bug on purpose: no answer */
}

static int h_twice(ez_req *req, void *ud) {
    probe *p = ud;
    p->api->respond_empty(req, 204);
    if (counters)
        counters->second_answer_rc = p->api->respond_empty(req, 204);
    return EZ_DONE;
}

static int h_stream(ez_req *req, void *ud) {
    probe *p = ud;
    p->api->stream_start(req, 200, "text/event-stream");
    p->api->stream_write(req, "data: 1\n\n", 9);
    p->api->stream_write(req, "data: 2\n\n", 9);
    p->api->stream_end(req);
    return EZ_DONE;
}

static int h_err(ez_req *req, void *ud) {
    probe *p = ud;
    const char *style = p->api->query(req, "style");
    ez_err_style s = !style                        ? EZ_ERR_STANDARD
                     : !strcmp(style, "messaging") ? EZ_ERR_MESSAGING
                     : !strcmp(style, "sessions")  ? EZ_ERR_SESSIONS
                     : !strcmp(style, "jobs")      ? EZ_ERR_JOBS
                                                   : EZ_ERR_RAW;
    return p->api->respond_error(req, 418, s, "TEAPOT", "short and stout", "details here"), EZ_DONE;
}

/* Worker: the work runs "on a worker", the answer on the loop. */
typedef struct job {
    probe *p;
    ez_req *req;
    long long result;
} job;

static void job_work(void *ud) {
    job *j = ud;
    j->result = 6 * 7;
}

static void job_done(void *ud) {
    job *j = ud;
    j->p->work_done++;
    j->p->api->respond_json_new(j->req, 200, json_pack("{s:I}", "result", (json_int_t)j->result));
    free(j);
}

static int h_work(ez_req *req, void *ud) {
    probe *p = ud;
    job *j = calloc(1, sizeof *j);
    j->p = p;
    j->req = req;
    p->api->work_submit(p->self, job_work, job_done, j);
    return EZ_ASYNC;
}

static void park_fire(void *ud) {
    probe *p = ud;
    if (p->parked)
        p->api->respond_json_new(p->parked, 200, json_pack("{s:b}", "late", 1));
    p->parked = NULL;
}

static int h_park(ez_req *req, void *ud) {
    probe *p = ud;
    p->parked = req;
    p->api->timer_start(p->self, 500, 0, park_fire, p);
    return EZ_ASYNC;
}

/* ---- store ---- */

static int h_notes_post(ez_req *req, void *ud) {
    probe *p = ud;
    const ez_store_api *s = p->api->store;
    const char *text = json_string_value(json_object_get(p->api->body_json(req), "text"));
    if (!text)
        return p->api->respond_error(req, 400, EZ_ERR_STANDARD, "BAD", "text required", NULL),
               EZ_DONE;
    json_t *params = json_pack("[s,I]", text, (json_int_t)p->api->now_ms());
    int64_t rc = s->exec(p->self, "INSERT INTO @notes (text, created_at) VALUES (?, ?)", params);
    json_decref(params);
    if (rc == EZ_ECONSTRAINT)
        return p->api->respond_error(req, 409, EZ_ERR_STANDARD, "DUP", "exists", NULL), EZ_DONE;
    return p->api->respond_json_new(req, 201, json_pack("{s:I}", "changes", (json_int_t)rc)),
           EZ_DONE;
}

static int h_notes_get(ez_req *req, void *ud) {
    probe *p = ud;
    json_t *rows = p->api->store->query(
        p->self, "SELECT id, text, created_at, '@literal' AS lit FROM @notes ORDER BY id", NULL);
    return p->api->respond_json_new(req, 200, json_pack("{s:o*}", "notes", rows)), EZ_DONE;
}

/* A transaction that fails half-way must leave nothing behind. */
static int h_notes_pair(ez_req *req, void *ud) {
    probe *p = ud;
    const ez_store_api *s = p->api->store;
    json_t *a = json_pack("[s,i]", "pair-a", 1), *b = json_pack("[s,i]", "dup", 2);
    /* cppcheck-suppress duplicateAssignExpression ; the second begin must be refused */
    int rc = s->begin(p->self);
    int nested = s->begin(p->self);
    if (rc == EZ_OK &&
        s->exec(p->self, "INSERT INTO @notes (text, created_at) VALUES (?, ?)", a) < 0)
        rc = EZ_EIO;
    if (rc == EZ_OK &&
        s->exec(p->self, "INSERT INTO @notes (text, created_at) VALUES (?, ?)", b) < 0)
        rc = EZ_ECONSTRAINT;
    if (rc == EZ_OK)
        s->commit(p->self);
    else
        s->rollback(p->self);
    json_decref(a);
    json_decref(b);
    return p->api->respond_json_new(req, rc == EZ_OK ? 201 : 409,
                                    json_pack("{s:i,s:i}", "rc", rc, "nested", nested)),
           EZ_DONE;
}

/* ---- bus ---- */

static void on_started(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    (void)msg;
    probe *p = ud;
    p->seen_started++;
}

static void on_other(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    probe *p = ud;
    p->seen_other++;
    json_decref(p->last_other);
    p->last_other = json_deep_copy(msg);
    /* a publish from a subscriber is delivered after the current message */
    if (json_integer_value(json_object_get(msg, "n")) == 1)
        p->api->publish_new(p->self, "probe.echo", json_pack("{s:i}", "n", 2));
}

static int h_bus(ez_req *req, void *ud) {
    probe *p = ud;
    return p->api->respond_json_new(req, 200,
                                    json_pack("{s:i,s:i,s:O*,s:i}", "started", p->seen_started,
                                              "other", p->seen_other, "last", p->last_other,
                                              "ticks", p->ticks)),
           EZ_DONE;
}

static void on_tick(void *ud) {
    probe *p = ud;
    if (++p->ticks == 3) {
        p->api->timer_cancel(p->tick);
        p->tick = NULL;
    }
}

/* ---- sockets ---- */

static const char *guard(const char *nsp, const json_t *auth, const json_t *headers, void *ud) {
    (void)nsp;
    (void)headers;
    (void)ud;
    const char *token = json_string_value(json_object_get(auth, "token"));
    return token && !strcmp(token, "ok") ? NULL : "bad token";
}

static void on_join(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    (void)event;
    probe *p = ud;
    const ez_sock_api *k = p->api->sock;
    const char *room = json_string_value(json_array_get(args, 0));
    int rc = room ? k->join(p->self, k->nsp(s), k->sid(s), room) : EZ_EINVAL;
    k->data_set_new(s, "probe_room", json_string(room ? room : ""));
    if (rc == EZ_OK)
        k->emit_new(p->self, k->nsp(s), room, k->sid(s), "joined",
                    json_pack("{s:s}", "sid", k->sid(s)));
    if (ack)
        k->ack_new(ack, json_pack("[{s:i,s:i}]", "rc", rc, "size",
                                  k->room_size(p->self, k->nsp(s), room)));
}

static void on_any(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    probe *p = ud;
    const ez_sock_api *k = p->api->sock;
    k->emit_new(p->self, k->nsp(s), k->sid(s), NULL, "echo",
                json_pack("[s,O]", event, json_array_get(args, 0)));
    if (ack)
        k->ack_new(ack, NULL);
    if (!strcmp(event, "kick"))
        k->disconnect(p->self, k->nsp(s), k->sid(s));
}

/* ---- exported table ---- */

static int add(int a, int b) {
    return a + b;
}

static const probe_v1 probe_table = {sizeof(probe_v1), add};

static int probe_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    if (json_is_true(json_object_get(cfg, "fail"))) {
        /* register something first: the host must undo it and call its ud_free */
        api->route(self, EZ_GET, "/api/probe/doomed", h_bus, NULL, count_free);
        api->subscribe(self, "doomed.*", on_other, NULL, count_free);
        return EZ_EIO;
    }
    probe *p = calloc(1, sizeof *p);
    if (!p)
        return EZ_ENOMEM;
    p->self = self;
    p->api = api;
    p->cfg = cfg;
    int rc = EZ_OK;
    ez_route_opts uuid_opts = {.err_style = EZ_ERR_MESSAGING, .uuid_error = "Invalid item id"};
#define REG(x)                                                                                     \
    do {                                                                                           \
        if (rc == EZ_OK)                                                                           \
            rc = (x);                                                                              \
    } while (0)
    REG(api->store->migrate(
        self, 1,
        "CREATE TABLE @notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE,"
        " created_at INTEGER NOT NULL);"));
    REG(api->store->migrate(self, 2, "CREATE INDEX @notes_by_time ON @notes (created_at);"));
    REG(api->route_ex(self, EZ_GET, "/api/probe/items/:id(uuid)", &uuid_opts, h_item, p,
                      count_free));
    REG(api->route(self, EZ_GET, "/api/probe/items/special", h_items_special, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/files/*", h_files, p, NULL));
    REG(api->route(self, EZ_POST | EZ_PUT, "/api/probe/echo", h_echo, p, NULL));
    REG(api->route_ex(self, EZ_POST, "/api/probe/raw", &(ez_route_opts){.raw_body = 1}, h_raw, p,
                      NULL));
    REG(api->route(self, EZ_GET, "/api/probe/forget", h_forget, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/twice", h_twice, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/stream", h_stream, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/err", h_err, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/work", h_work, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/park", h_park, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/bus", h_bus, p, NULL));
    REG(api->route(self, EZ_GET, "/api/probe/notes", h_notes_get, p, NULL));
    REG(api->route(self, EZ_POST, "/api/probe/notes", h_notes_post, p, NULL));
    REG(api->route(self, EZ_POST, "/api/probe/notes/pair", h_notes_pair, p, NULL));
    REG(api->subscribe(self, "kernel.started", on_started, p, count_free));
    REG(api->subscribe(self, "other.*", on_other, p, NULL));
    REG(api->subscribe(self, "probe.echo", on_other, p, NULL));
    REG(api->sock->guard(self, "/probe", guard, p, NULL));
    REG(api->sock->on(self, "/probe", "join", on_join, p, NULL));
    REG(api->sock->on(self, "/probe", "*", on_any, p, NULL));
    REG(api->export_api(self, PROBE_V1, &probe_table));
#undef REG
    if (rc != EZ_OK) {
        free(p);
        return rc;
    }
    p->tick = api->timer_start(self, 1000, 1, on_tick, p);
    *state = p;
    return EZ_OK;
}

static int probe_start(void *state) {
    probe *p = state;
    /* too late: registration is closed */
    if (counters)
        counters->late_register_rc =
            p->api->route(p->self, EZ_GET, "/api/probe/late", h_bus, p, NULL);
    return EZ_OK;
}

static void probe_stop(void *state) {
    (void)state;
    if (counters)
        counters->stopped++;
}

static void probe_destroy(void *state) {
    probe *p = state;
    if (counters)
        counters->destroyed++;
    json_decref(p->last_other);
    free(p);
}

static const ez_config_field probe_config[] = {
    {EZ_CFG_BOOL, "fail", "false", 0, 0, "init fails on purpose"},
    {EZ_CFG_INT, "limit", "10", 0, 0, "an int"},
    {EZ_CFG_DOUBLE, "ratio", "0.5", 0, 0, "a double"},
    {EZ_CFG_STRING_LIST, "tags", "a, b ,c", 0, 0, "a list"},
    {EZ_CFG_STRING, "token", NULL, 1, 1, "required secret"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

const ez_plugin_desc probe_desc = {
    .abi_major = EZ_ABI_MAJOR,
    .abi_minor = EZ_ABI_MINOR,
    .size = sizeof(ez_plugin_desc),
    .name = "probe",
    .version = "1.0.0",
    .config = probe_config,
    .init = probe_init,
    .start = probe_start,
    .stop = probe_stop,
    .destroy = probe_destroy,
};

/* A plugin that needs probe: imports its table at init. */
static int user_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    const probe_v1 *t = api->import_api(self, PROBE_V1);
    if (!t || t->add(2, 3) != 5)
        return EZ_ENOENT;
    *state = NULL;
    return EZ_OK;
}

static void user_destroy(void *state) {
    (void)state;
}

static const char *const user_requires[] = {"probe", NULL};

const ez_plugin_desc probe_user_desc = {
    .abi_major = EZ_ABI_MAJOR,
    .abi_minor = EZ_ABI_MINOR,
    .size = sizeof(ez_plugin_desc),
    .name = "probe_user",
    .version = "1.0.0",
    .requires = user_requires,
    .init = user_init,
    .destroy = user_destroy,
};
