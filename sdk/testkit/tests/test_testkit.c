/* The testkit's own test: the probe plugin drives every host API member through the fake host,
 * and each result is compared with what the kernel does. Exit 0 = pass. */
#include "probe.h"

#include <elizad/testkit.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define UUID "3f2c1a4e-8b7d-4c21-9e0f-1a2b3c4d5e6f"
#define CFG "{\"token\":\"s3cret\"}"

static int failed;

static void done(ez_tk *tk) {
    failed |= ez_tk_finish(tk);
}

static void gate_and_config(void) {
    ez_tk *tk = ez_tk_new();
    ez_plugin_desc d = probe_desc;
    d.abi_major = EZ_ABI_MAJOR + 1;
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &d, CFG), EZ_ENOTSUP);
    EZ_TK_CHECK(tk, strstr(ez_tk_error(tk), "built for ABI 2.") != NULL);
    d = probe_desc;
    d.abi_minor = EZ_ABI_MINOR + 1;
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &d, CFG), EZ_ENOTSUP);
    d = probe_desc;
    d.size = 16;
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &d, CFG), EZ_EINVAL);
    d = probe_desc;
    d.init = NULL;
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &d, CFG), EZ_EINVAL);
    d = probe_desc;
    d.name = "Bad-Name";
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &d, CFG), EZ_EINVAL);

    /* the schema: required, unknown key, wrong types, defaults */
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, NULL), EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, ez_tk_error(tk), "probe.token: required value missing");
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"\"}"), EZ_EINVAL);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"x\",\"nope\":1}"), EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, ez_tk_error(tk), "probe.nope: unknown key (see elizad --describe probe)");
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"x\",\"limit\":\"9\"}"),
                    EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, ez_tk_error(tk), "probe.limit: expected an integer");
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"x\",\"tags\":[1]}"), EZ_EINVAL);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "[1]"), EZ_EINVAL);

    /* requires[]: refused until probe is there */
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_user_desc, NULL), EZ_ENOENT);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"x\",\"ratio\":2}"), EZ_OK);
    EZ_TK_CHECK_JSON(tk, ez_tk_config(tk, "probe"),
                     "{\"token\":\"x\",\"ratio\":2.0,\"fail\":false,\"limit\":10,"
                     "\"tags\":[\"a\",\"b\",\"c\"]}");
    EZ_TK_CHECK(tk, json_is_real(json_object_get(ez_tk_config(tk, "probe"), "ratio")));
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_user_desc, NULL), EZ_OK); /* imports probe.v1 */
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, CFG), EZ_EEXIST);
    done(tk);
}

static void init_failure_rolls_back(void) {
    probe_counters c = {0};
    probe_bind_counters(&c);
    ez_tk *tk = ez_tk_new();
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, "{\"token\":\"x\",\"fail\":true}"), EZ_EIO);
    EZ_TK_CHECK_STR(tk, ez_tk_error(tk), "plugin probe: init failed: EZ_EIO (-7)");
    EZ_TK_CHECK_INT(tk, c.ud_freed, 2); /* the route and the subscription it made */
    EZ_TK_CHECK_STATUS(tk, ez_tk_get(tk, "/api/probe/doomed"), 404);
    EZ_TK_CHECK_INT(tk, ez_tk_deliver_text(tk, "doomed.x", "{}"), 0);
    done(tk);
    EZ_TK_CHECK_INT(NULL, c.destroyed, 0); /* the kernel never calls destroy after a failed init */
    failed |= c.destroyed != 0;
    probe_bind_counters(NULL);
}

static void http(ez_tk *tk) {
    ez_tk_reply *r = ez_tk_get(tk, "/api/probe/items/" UUID "?q=a%20b&tag=x&tag=y+z");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, r->json,
                     "{\"id\":\"" UUID "\",\"path\":\"/api/probe/items/" UUID "\",\"q\":\"a b\","
                     "\"tags\":[\"x\",\"y z\"],\"ua\":null,\"loopback\":true,\"auth\":false}");
    EZ_TK_CHECK_STR(tk, r->route, "/api/probe/items/:id(uuid)");
    EZ_TK_CHECK_STR(tk, r->content_type, "application/json; charset=utf-8");

    /* literal beats parameter; a bad uuid gets the route's own style and message */
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/items/special/")->json,
                     "{\"route\":\"special\"}");
    r = ez_tk_get(tk, "/api/probe/items/not-a-uuid");
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK_JSON(tk, r->json, "{\"success\":false,\"error\":\"Invalid item id\"}");
    EZ_TK_CHECK_INT(tk, r->handler_rc, -1);

    /* trailing "*" */
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/files/a/b%20c.txt")->json,
                     "{\"rest\":\"a/b c.txt\"}");
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/files")->json, "{\"rest\":\"\"}");

    /* 404 / 405 / OPTIONS / bad JSON / Content-Type, with the kernel's bodies */
    r = ez_tk_get(tk, "/api/nothing/here");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK_JSON(tk, r->json,
                     "{\"success\":false,\"error\":{\"message\":\"API endpoint not found\","
                     "\"code\":404}}");
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/elsewhere")->json, "{\"error\":\"Not found\"}");
    /* another method on a known /api path: the official server's 404, with Allow */
    r = ez_tk_send(tk, "DELETE", "/api/probe/echo", NULL);
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK_JSON(tk, r->json,
                     "{\"success\":false,\"error\":{\"message\":\"API endpoint not found\","
                     "\"code\":404}}");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->headers, "Allow"), "\"POST, PUT\"");
    ez_tk_set_setting(tk, "server.method_not_allowed_405", "1");
    r = ez_tk_send(tk, "DELETE", "/api/probe/echo", NULL);
    EZ_TK_CHECK_STATUS(tk, r, 405);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->headers, "Allow"), "\"POST, PUT\"");
    ez_tk_set_setting(tk, "server.method_not_allowed_405", "0");
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "OPTIONS", "/api/probe/echo", NULL), 204);
    r = ez_tk_send(tk, "POST", "/api/probe/echo", "{\"a\":");
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK(tk, strncmp(json_string_value(ez_tk_json_at(r->json, "error.message")),
                            "Invalid JSON: ", 14) == 0);
    ez_tk_request rq = {
        .method = "POST", .path = "/api/probe/echo", .body = "x=1", .content_type = "text/plain"};
    r = ez_tk_call(tk, &rq);
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "error.code"), "\"INVALID_CONTENT_TYPE\"");
    r = ez_tk_send(tk, "PUT", "/api/probe/echo", "{\"a\":[1,2]}");
    EZ_TK_CHECK_STATUS(tk, r, 201);
    EZ_TK_CHECK_JSON(tk, r->json, "{\"a\":[1,2]}");
    EZ_TK_CHECK_JSON(tk, r->headers, "{\"X-Probe\":\"1\"}");

    /* raw body routes skip parsing and the Content-Type guard */
    rq = (ez_tk_request){.method = "POST",
                         .path = "/api/probe/raw",
                         .body = "not json",
                         .content_type = "application/octet-stream",
                         .headers = (const char *const[]){"User-Agent", "tk", NULL},
                         .remote_addr = "10.0.0.9",
                         .authenticated = 1};
    r = ez_tk_call(tk, &rq);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->body, "not json");
    EZ_TK_CHECK(tk, r->json == NULL);

    /* the five error envelopes */
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/err")->json,
                     "{\"success\":false,\"error\":{\"code\":\"TEAPOT\",\"message\":\"short and "
                     "stout\",\"details\":\"details here\"}}");
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/err?style=messaging")->json,
                     "{\"success\":false,\"error\":\"short and stout\",\"details\":\"details "
                     "here\"}");
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/err?style=jobs")->json,
                     "{\"success\":false,\"error\":\"short and stout\"}");
    EZ_TK_CHECK_JSON(tk, ez_tk_get(tk, "/api/probe/err?style=raw")->json,
                     "{\"error\":\"short and stout\",\"message\":\"details here\"}");
    EZ_TK_CHECK_JSON(
        tk, ez_tk_json_at(ez_tk_get(tk, "/api/probe/err?style=sessions")->json, "error.timestamp"),
        "\"2025-11-28T11:47:50.806Z\"");

    /* streaming */
    r = ez_tk_get(tk, "/api/probe/stream");
    EZ_TK_CHECK(tk, r->streamed && r->stream_ended);
    EZ_TK_CHECK_STR(tk, r->body, "data: 1\n\ndata: 2\n\n");
    EZ_TK_CHECK_STR(tk, r->content_type, "text/event-stream");
}

static void async_and_time(ez_tk *tk) {
    size_t before = ez_tk_work_count(tk);
    ez_tk_reply *r = ez_tk_get(tk, "/api/probe/work");
    EZ_TK_CHECK_INT(tk, r->handler_rc, EZ_ASYNC);
    EZ_TK_CHECK_STATUS(tk, r, 200); /* the completion ran in the loop turn after the handler */
    EZ_TK_CHECK_JSON(tk, r->json, "{\"result\":42}");
    EZ_TK_CHECK_INT(tk, ez_tk_work_count(tk), before + 1);

    r = ez_tk_get(tk, "/api/probe/park");
    EZ_TK_CHECK_INT(tk, r->status, 0);
    EZ_TK_CHECK_INT(tk, ez_tk_advance(tk, 499), 0);
    EZ_TK_CHECK_INT(tk, r->status, 0);
    EZ_TK_CHECK_INT(tk, ez_tk_advance(tk, 1), 1);
    EZ_TK_CHECK_STATUS(tk, r, 200);

    /* the repeating timer armed in init fires at 1000, 2000, 3000 and cancels itself */
    EZ_TK_CHECK_INT(tk, ez_tk_timer_count(tk), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_advance(tk, 10000), 3);
    EZ_TK_CHECK_INT(tk, ez_tk_timer_count(tk), 0);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_get(tk, "/api/probe/bus")->json, "ticks"), "3");
    EZ_TK_CHECK_INT(tk, ez_tk_now(tk), EZ_TK_EPOCH_MS + 10500);
    EZ_TK_CHECK_INT(tk, ez_tk_api(tk)->now_ms(), ez_tk_now(tk));

    /* time and uuid helpers agree with the kernel's */
    const ez_host_api *api = ez_tk_api(tk);
    char iso[32], id[37];
    int64_t ms = 0;
    api->iso_time(0, iso);
    EZ_TK_CHECK_STR(tk, iso, "1970-01-01T00:00:00.000Z");
    EZ_TK_CHECK_INT(tk, api->parse_time("2025-11-28T11:47:50.806Z", &ms), EZ_OK);
    EZ_TK_CHECK_INT(tk, ms, EZ_TK_EPOCH_MS);
    EZ_TK_CHECK_INT(tk, api->parse_time("2025-11-28T12:47:50.806+01:00", &ms), EZ_OK);
    EZ_TK_CHECK_INT(tk, ms, EZ_TK_EPOCH_MS);
    EZ_TK_CHECK_INT(tk, api->parse_time("1764330470806", &ms), EZ_OK);
    EZ_TK_CHECK_INT(tk, api->parse_time("yesterday", &ms), EZ_EINVAL);
    api->uuid_v4(id);
    EZ_TK_CHECK(tk, api->uuid_valid(id) && id[14] == '4');
    /* stringToUuid("test"): SHA-1 a94a8fe5ccb19ba61c4c0873d391e987..., version nibble 0, RFC
     * variant */
    api->uuid_from_string("test", id);
    EZ_TK_CHECK_STR(tk, id, "a94a8fe5-ccb1-0ba6-9c4c-0873d391e987");
    api->uuid_from_string(UUID, id);
    EZ_TK_CHECK_STR(tk, id, UUID);
}

static void store(ez_tk *tk) {
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", "/api/probe/notes", "{\"text\":\"dup\"}"), 201);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", "/api/probe/notes", "{\"text\":\"dup\"}"), 409);
    ez_tk_reply *r = ez_tk_send(tk, "POST", "/api/probe/notes/pair", NULL);
    EZ_TK_CHECK_STATUS(tk, r, 409);
    EZ_TK_CHECK_JSON(tk, r->json, "{\"rc\":-8,\"nested\":-6}");
    r = ez_tk_get(tk, "/api/probe/notes");
    EZ_TK_CHECK_INT(tk, json_array_size(ez_tk_json_at(r->json, "notes")), 1); /* no "pair-a" */
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "notes[0].text"), "\"dup\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "notes[0].lit"), "\"@literal\"");
    EZ_TK_CHECK(tk, json_is_integer(ez_tk_json_at(r->json, "notes[0].created_at")));
    /* "@notes" is the plugin's own table, probe_notes, and both migrations ran once */
    const json_t *rows = ez_tk_query(tk, "probe", "SELECT COUNT(*) AS n FROM probe_notes", NULL);
    EZ_TK_CHECK_JSON(tk, rows, "[{\"n\":1}]");
    rows = ez_tk_query(tk, "probe", "SELECT plugin, version FROM kernel_migrations", NULL);
    EZ_TK_CHECK_JSON(tk, rows,
                     "[{\"plugin\":\"probe\",\"version\":1},{\"plugin\":\"probe\",\"version\":2}]");
    EZ_TK_CHECK(tk, ez_tk_query(tk, "probe", "SELECT 1; SELECT 2", NULL) == NULL);
    EZ_TK_CHECK(tk, ez_tk_query(tk, "probe", "SELECT ?", "[]") == NULL);
    const ez_store_api *s = ez_tk_api(tk)->store;
    json_t *p = json_pack("[{s:i},b,n,f]", "k", 1, 1, 2.5);
    json_t *row =
        s->query_one(ez_tk_plugin(tk, "probe"), "SELECT ? AS o, ? AS b, ? AS n, ? AS f", p);
    EZ_TK_CHECK_JSON(tk, row, "{\"o\":\"{\\\"k\\\":1}\",\"b\":1,\"n\":null,\"f\":2.5}");
    json_decref(row);
    json_decref(p);
    EZ_TK_CHECK_INT(tk, s->commit(ez_tk_plugin(tk, "probe")), EZ_ESTATE);
}

static void bus(ez_tk *tk) {
    /* kernel.started was delivered by ez_tk_start */
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_get(tk, "/api/probe/bus")->json, "started"), "1");
    EZ_TK_CHECK_INT(tk, ez_tk_deliver_text(tk, "other.thing", "{\"n\":1}"), 1);
    /* on_other published probe.echo {"n":2}, which it also receives: captured and delivered */
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "probe.echo"), 1);
    ez_tk_reply *r = ez_tk_get(tk, "/api/probe/bus");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "other"), "2");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "last"), "{\"n\":2}");
    EZ_TK_CHECK_INT(tk, ez_tk_deliver_text(tk, "unrelated", "{}"), 0);
    EZ_TK_CHECK_INT(tk, ez_tk_deliver_text(tk, "x", "{"), -1);
}

static void sockets(ez_tk *tk) {
    const char *why = NULL;
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/probe", "s1", "{\"token\":\"no\"}", &why),
                    EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, why, "bad token");
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/probe", "s1", "{\"token\":\"ok\"}", NULL), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/probe", "s2", "{\"token\":\"ok\"}", NULL), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/probe", "s2", "{\"token\":\"ok\"}", NULL),
                    EZ_EEXIST);
    ez_tk_ack *ack = NULL;
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/probe", "s1", "join", "[\"r\"]", &ack), EZ_OK);
    EZ_TK_CHECK(tk, ack && ack->answered);
    EZ_TK_CHECK_JSON(tk, ack ? ack->args : NULL, "[{\"rc\":0,\"size\":1}]");
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/probe", "s2", "join", "[\"r\"]", NULL), EZ_OK);
    EZ_TK_CHECK(tk, ez_tk_sock_in_room(tk, "/probe", "s2", "r"));
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_sock_data(tk, "/probe", "s2"), "probe_room"), "\"r\"");
    /* s2's join was emitted to room r except s2: only s1 receives it */
    const json_t *e = ez_tk_last(ez_tk_emit_log(tk), "event", "joined");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(e, "to"), "[\"s1\"]");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(e, "args"), "[{\"sid\":\"s2\"}]");
    /* "*" catches the rest; an ack dropped with ack_new(NULL) is released, not answered */
    ack = NULL;
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/probe", "s1", "ping", "[{\"x\":1}]", &ack), EZ_OK);
    EZ_TK_CHECK(tk, ack && !ack->answered);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_last(ez_tk_emit_log(tk), "event", "echo"), "args"),
                     "[\"ping\",{\"x\":1}]");
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/", "s1", "ping", NULL, NULL), EZ_ENOENT);
    /* a server-side disconnect is recorded and the socket is gone */
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/probe", "s2", "kick", NULL, NULL), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_disconnect_log(tk), "sid", "s2"), 1);
    EZ_TK_CHECK(tk, !ez_tk_sock_in_room(tk, "/probe", "s2", "r"));
    EZ_TK_CHECK_INT(tk, ez_tk_sock_disconnect(tk, "/probe", "s1", NULL), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_sock_event(tk, "/probe", "s1", "ping", NULL, NULL), EZ_ENOENT);
}

static void on_readable(int fd, unsigned events, void *ud) {
    char c;
    int *hits = ud;
    if ((events & EZ_FD_READ) && read(fd, &c, 1) == 1)
        (*hits)++;
}

/* fd watches poll real descriptors: a pipe becomes readable after a write. */
static void fd_watches(ez_tk *tk) {
    const ez_host_api *api = ez_tk_api(tk);
    int fds[2], hits = 0;
    if (!EZ_TK_CHECK(tk, pipe(fds) == 0))
        return;
    ez_watch *w = api->fd_watch(ez_tk_plugin(tk, "probe"), fds[0], EZ_FD_READ, on_readable, &hits);
    EZ_TK_CHECK(tk, w != NULL);
    EZ_TK_CHECK_INT(tk, ez_tk_poll_fds(tk, 0), 0);
    EZ_TK_CHECK(tk, write(fds[1], "x", 1) == 1);
    EZ_TK_CHECK_INT(tk, ez_tk_poll_fds(tk, 1000), 1);
    EZ_TK_CHECK_INT(tk, hits, 1);
    EZ_TK_CHECK_INT(tk, api->fd_watch_update(w, 0), EZ_OK);
    EZ_TK_CHECK(tk, write(fds[1], "y", 1) == 1);
    EZ_TK_CHECK_INT(tk, ez_tk_poll_fds(tk, 0), 0); /* waiting for nothing */
    api->fd_watch_cancel(w);
    close(fds[0]);
    close(fds[1]);
}

/* 1 when every pointer-sized member from `first` to the table's end is set: a member appended
 * to the ABI that the testkit does not implement yet fails here. */
static int all_set(const void *table, size_t first, size_t size) {
    for (size_t off = first; off + sizeof(uintptr_t) <= size; off += sizeof(uintptr_t)) {
        uintptr_t v;
        memcpy(&v, (const char *)table + off, sizeof v);
        if (!v)
            return 0;
    }
    return 1;
}

static void misc(ez_tk *tk) {
    const ez_host_api *api = ez_tk_api(tk);
    ez_plugin *self = ez_tk_plugin(tk, "probe");
    EZ_TK_CHECK_STR(tk, api->plugin_name(self), "probe");
    EZ_TK_CHECK_STR(tk, api->setting(self, "server.port"), "3000");
    ez_tk_set_setting(tk, "server.port", "4321");
    EZ_TK_CHECK_STR(tk, api->setting(self, "server.port"), "4321");
    EZ_TK_CHECK(tk, api->setting(self, "server.nope") == NULL);
    const char *dir = api->data_dir(self);
    EZ_TK_CHECK(tk, dir && access(dir, W_OK) == 0);
    api->log(self, EZ_DEBUG, "hello %d", 7);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_last(ez_tk_log(tk), "msg", "hello *"), "level"), "20");
    json_t *recent = api->log_recent(self, 0, 1);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(recent, "[0].msg"), "\"hello 7\"");
    json_decref(recent);
    EZ_TK_CHECK(tk, !ez_tk_shutdown_requested(tk));
    api->shutdown(self);
    EZ_TK_CHECK(tk, ez_tk_shutdown_requested(tk));
    EZ_TK_CHECK(tk, EZ_HAS(api, fd_watch));
    EZ_TK_CHECK_INT(tk, api->size, sizeof(ez_host_api));
    EZ_TK_CHECK(tk, all_set(api, offsetof(ez_host_api, log), api->size));
    EZ_TK_CHECK(tk, all_set(api->store, offsetof(ez_store_api, migrate), api->store->size));
    EZ_TK_CHECK(tk, all_set(api->sock, offsetof(ez_sock_api, on), api->sock->size));
}

/* The fake host reports plugin bugs as failures: a handler that never answers, and a second
 * answer (refused with EZ_ESTATE). Here they are deliberate, so exactly two must be counted. */
static void host_reports_bugs(void) {
    probe_counters c = {0};
    probe_bind_counters(&c);
    ez_tk *tk = ez_tk_new();
    ez_tk_load(tk, &probe_desc, CFG);
    ez_tk_reply *r = ez_tk_get(tk, "/api/probe/forget");
    int ok = r->status == 500;
    ez_tk_get(tk, "/api/probe/twice");
    ok = ok && c.second_answer_rc == EZ_ESTATE && ez_tk_failures(tk) == 2;
    ok = ok && ez_tk_finish(tk) == 1;
    probe_bind_counters(NULL);
    ez_tk_check(NULL, ok, "the testkit reported exactly the two deliberate bugs", NULL, __FILE__,
                __LINE__);
    failed |= !ok;
}

int main(void) {
    gate_and_config();
    init_failure_rolls_back();
    host_reports_bugs();

    probe_counters c = {0};
    probe_bind_counters(&c);
    ez_tk *tk = ez_tk_new();
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &probe_desc, CFG), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_start(tk), EZ_OK);
    EZ_TK_CHECK_INT(tk, c.late_register_rc, EZ_ESTATE);
    http(tk);
    async_and_time(tk);
    store(tk);
    bus(tk);
    sockets(tk);
    fd_watches(tk);
    misc(tk);
    done(tk);
    int counters_ok = c.stopped == 1 && c.destroyed == 1 && c.ud_freed == 2;
    ez_tk_check(NULL, counters_ok, "stop, destroy and both ud_free ran once", NULL, __FILE__,
                __LINE__);
    failed |= !counters_ok;
    probe_bind_counters(NULL);
    printf("test_testkit: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
