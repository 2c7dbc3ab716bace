/* Test-only routes (config `test_routes = true`, off by default): let the e2e suite seed what
 * only the agent runtime writes in production — memories, runs, logs, panels, rooms — through
 * the very "agents.v1" functions the runtime calls. Never enable them on a real server. */
#include "agents_int.h"

#include <string.h>

static int ag_status_of(int rc) {
    return rc == EZ_EEXIST ? 409 : rc == EZ_ENOENT ? 404 : rc == EZ_EINVAL ? 400 : 500;
}

static int ag_fail(ag_state *st, ez_req *req, int rc) {
    return ag_err(st, req, ag_status_of(rc), "TEST_ERROR", "agents.v1 call failed", NULL);
}

/* body: one memory, or {memories: [...]} -> {ids: [...]} */
static int ag_h_test_memories(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    const json_t *list = json_object_get(body, "memories");
    json_t *one = NULL;
    if (!json_is_array(list)) {
        one = json_pack("[O]", body ? body : json_null());
        list = one;
    }
    json_t *ids = json_array();
    size_t i;
    const json_t *m;
    int owned = ag_tx_begin(st), rc = EZ_OK;
    json_array_foreach(list, i, m) {
        char id[37];
        if ((rc = st->table.memory_add(st, a->id, m, id)) != EZ_OK)
            break;
        json_array_append_new(ids, json_string(id));
    }
    ag_tx_end(st, owned, rc == EZ_OK);
    json_decref(one);
    if (rc != EZ_OK) {
        json_decref(ids);
        return ag_fail(st, req, rc);
    }
    return ag_ok(st, req, 201, json_pack("{so}", "ids", ids));
}

/* body: {info, events: [{type, data}], status?, error?, logs?: [log]} -> {runId} */
static int ag_h_test_runs(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    char run_id[37];
    int rc = st->table.run_open(st, a->id, json_object_get(body, "info"), run_id);
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(body, "events"), i, e) {
        if (rc != EZ_OK)
            break;
        rc = st->table.run_event(st, a->id, run_id, json_string_value(json_object_get(e, "type")),
                                 json_object_get(e, "data"));
    }
    json_array_foreach(json_object_get(body, "logs"), i, e) {
        if (rc != EZ_OK)
            break;
        json_t *log = json_deep_copy(e);
        json_t *lb = json_object_get(log, "body");
        if (json_is_object(lb))
            json_object_set_new_nocheck(lb, "runId", json_string(run_id));
        rc = st->table.log_add(st, a->id, log);
        json_decref(log);
    }
    const char *status = json_string_value(json_object_get(body, "status"));
    if (rc == EZ_OK && status) {
        json_t *d = json_pack("{s:O?}", "error", json_object_get(body, "error"));
        rc = st->table.run_close(st, a->id, run_id, status, d);
        json_decref(d);
    }
    if (rc != EZ_OK)
        return ag_fail(st, req, rc);
    return ag_ok(st, req, 201, json_pack("{ss}", "runId", run_id));
}

static int ag_h_test_logs(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    int rc = st->table.log_add(st, a->id, st->api->body_json(req));
    return rc == EZ_OK ? st->api->respond_empty(req, 204) : ag_fail(st, req, rc);
}

/* body: {name, path, all?: bool} */
static int ag_h_test_panels(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    int rc = st->table.panel_add(st, json_is_true(json_object_get(body, "all")) ? NULL : a->id,
                                 json_string_value(json_object_get(body, "name")),
                                 json_string_value(json_object_get(body, "path")));
    return rc == EZ_OK ? st->api->respond_empty(req, 204) : ag_fail(st, req, rc);
}

/* body: {room?, world?} through room_ensure / world_ensure */
static int ag_h_test_rooms(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    int rc = EZ_OK;
    if (json_object_get(body, "world"))
        rc = st->table.world_ensure(st, a->id, json_object_get(body, "world"));
    if (rc == EZ_OK && json_object_get(body, "room"))
        rc = st->table.room_ensure(st, a->id, json_object_get(body, "room"));
    return rc == EZ_OK ? st->api->respond_empty(req, 204) : ag_fail(st, req, rc);
}

/* GET: the agent as agents.v1 get returns it (secrets decrypted) — proves the round trip. */
static int ag_h_test_get(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *recent = NULL;
    const char *room = st->api->query(req, "roomId");
    if (room)
        recent = st->table.memories_recent(st, a->id, room, st->api->query(req, "type"), 5);
    json_t *data = json_pack("{s:o, s:b, s:o, s:o*}", "agent", st->table.get(st, a->id), "active",
                             st->table.is_active(st, a->id), "activeIds", st->table.list_active(st),
                             "recent", recent);
    return ag_ok(st, req, 200, data);
}

static int ag_h_test_memory_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    const char *mid = json_string_value(json_object_get(body, "memoryId"));
    const char *rid = json_string_value(json_object_get(body, "roomId"));
    int rc = mid ? st->table.memory_delete(st, a->id, mid)
                 : st->table.room_memories_clear(st, a->id, rid);
    return rc == EZ_OK ? st->api->respond_empty(req, 204) : ag_fail(st, req, rc);
}

int ag_register_test_routes(ag_state *st) {
    const ag_route *any = &st->r_exists;
    int rc = 0;
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/memories", NULL,
                       ag_h_test_memories, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/memories/delete", NULL,
                       ag_h_test_memory_delete, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/runs", NULL, ag_h_test_runs,
                       any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/logs", NULL, ag_h_test_logs,
                       any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/panels", NULL,
                       ag_h_test_panels, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/test/rooms", NULL, ag_h_test_rooms,
                       any);
    rc |=
        ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/test/agent", NULL, ag_h_test_get, any);
    return rc ? EZ_EINVAL : EZ_OK;
}
