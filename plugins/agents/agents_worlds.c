/* Worlds (COMPAT §3.8, §4): an agent's view of a message server. GET /api/agents/worlds is
 * served as the real server intended (its route is shadowed there, COMPAT §18 #1). */
#include "agents_int.h"

#include <stdlib.h>
#include <string.h>

#define AG_WORLD_COLS "id, agent_id, name, metadata, message_server_id, created_at"

/* A world row without createdAt (the ISO form needs the host table). */
static json_t *ag_world_row_json(const json_t *row) {
    json_t *o = json_object();
    json_object_set_nocheck(o, "id", json_object_get(row, "id"));
    json_object_set_nocheck(o, "agentId", json_object_get(row, "agent_id"));
    json_object_set_nocheck(o, "name", json_object_get(row, "name"));
    json_object_set_new_nocheck(o, "metadata", ag_col_json(row, "metadata", json_null()));
    json_object_set_new_nocheck(o, "messageServerId",
                                ag_str_or_null(ag_col_str(row, "message_server_id")));
    return o;
}

static json_t *ag_world_json(ag_state *st, const json_t *row) {
    json_t *o = ag_world_row_json(row);
    char iso[32];
    st->api->iso_time(ag_col_i64(row, "created_at"), iso);
    json_object_set_new_nocheck(o, "createdAt", json_string(iso));
    return o;
}

static json_t *ag_worlds_of(ag_state *st, const char *agent_id) {
    json_t *p = json_pack("[s]", agent_id);
    json_t *rows = st->db->query(
        st->self, "SELECT " AG_WORLD_COLS " FROM @worlds WHERE agent_id = ? ORDER BY created_at",
        p);
    json_decref(p);
    if (!rows)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(out, ag_world_json(st, row));
    json_decref(rows);
    return out;
}

static json_t *ag_world_get(ag_state *st, const char *agent_id, const char *world_id) {
    json_t *p = json_pack("[ss]", agent_id, world_id);
    json_t *row = st->db->query_one(
        st->self, "SELECT " AG_WORLD_COLS " FROM @worlds WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    return row;
}

int ag_world_ensure(ag_state *st, const char *agent_id, const json_t *world) {
    const char *id = json_string_value(json_object_get(world, "id"));
    const char *name = json_string_value(json_object_get(world, "name"));
    const char *msid = json_string_value(json_object_get(world, "messageServerId"));
    if (!msid)
        msid = json_string_value(json_object_get(world, "serverId"));
    const json_t *meta = json_object_get(world, "metadata");
    if (!id || !st->api->uuid_valid(id) || (meta && !json_is_object(meta) && !json_is_null(meta)))
        return EZ_EINVAL;
    char *mtext = json_is_object(meta) ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_t *p = json_array();
    json_array_append_new(p, json_string(id));
    json_array_append_new(p, json_string(agent_id));
    json_array_append_new(p, json_string(name ? name : ""));
    json_array_append_new(p, ag_str_or_null(mtext));
    json_array_append_new(p, ag_str_or_null(msid));
    json_array_append_new(p, json_integer(st->api->now_ms()));
    free(mtext);
    int64_t rc = st->db->exec(st->self,
                              "INSERT INTO @worlds (id, agent_id, name, metadata, "
                              "message_server_id, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                              "ON CONFLICT DO NOTHING",
                              p);
    json_decref(p);
    return rc < 0 ? (int)rc : EZ_OK;
}

/* GET /api/agents/worlds: the worlds of the first started agent. */
static int ag_h_worlds_first(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    const ag_agent *first = NULL;
    for (size_t i = 0; i < st->n_agents; i++) {
        const ag_agent *a = st->agents[i];
        if (a->active && (!first || a->start_seq < first->start_seq))
            first = a;
    }
    if (!first)
        return ag_err(st, req, 404, "NOT_FOUND", "No active agents found to get worlds", NULL);
    json_t *w = ag_worlds_of(st, first->id);
    if (!w)
        return ag_err(st, req, 500, "500", "Error retrieving worlds", "storage failure");
    return ag_ok(st, req, 200, json_pack("{so}", "worlds", w));
}

static int ag_h_worlds_list(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *w = ag_worlds_of(st, a->id);
    if (!w)
        return ag_err(st, req, 500, "500", "Error retrieving worlds", "storage failure");
    return ag_ok(st, req, 200, json_pack("{so}", "worlds", w));
}

static int ag_h_world_create(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    const json_t *name = json_object_get(body, "name");
    const json_t *msid = json_object_get(body, "messageServerId");
    const json_t *meta = json_object_get(body, "metadata");
    if (!json_is_string(name) || json_string_length(name) == 0)
        return ag_err(st, req, 400, "BAD_REQUEST", "World name is required", NULL);
    if (json_string_length(name) > AG_MAX_NAME)
        return ag_err(st, req, 400, "BAD_REQUEST", "World name is too long", NULL);
    if (msid && !json_is_null(msid) &&
        !(json_is_string(msid) && st->api->uuid_valid(json_string_value(msid))))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid messageServerId format", NULL);
    if (meta && !json_is_null(meta) && !json_is_object(meta))
        return ag_err(st, req, 400, "BAD_REQUEST", "metadata must be an object", NULL);

    char base[48], id[37];
    snprintf(base, sizeof base, "world-%lld", (long long)ag_unique_ms(st));
    ag_unique_uuid(st, a->id, base, id);
    json_t *w = json_pack("{ss ss}", "id", id, "name", json_string_value(name));
    if (json_is_string(msid))
        json_object_set_nocheck(w, "messageServerId", (json_t *)msid);
    if (json_is_object(meta))
        json_object_set_nocheck(w, "metadata", (json_t *)meta);
    int rc = ag_world_ensure(st, a->id, w);
    json_decref(w);
    json_t *row = rc == EZ_OK ? ag_world_get(st, a->id, id) : NULL;
    if (!row)
        return ag_err(st, req, 500, "500", "Error creating world", "storage failure");
    json_t *out = ag_world_json(st, row);
    json_decref(row);
    return ag_ok(st, req, 201, json_pack("{so}", "world", out));
}

static int ag_h_world_patch(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *wid = st->api->param(req, "worldId");
    json_t *row = ag_world_get(st, a->id, wid);
    if (!row)
        return ag_err(st, req, 404, "NOT_FOUND", "World not found", NULL);
    const json_t *body = st->api->body_json(req);
    const json_t *name = json_object_get(body, "name");
    const json_t *meta = json_object_get(body, "metadata");
    if (name && !(json_is_string(name) && json_string_length(name) > 0 &&
                  json_string_length(name) <= AG_MAX_NAME)) {
        json_decref(row);
        return ag_err(st, req, 400, "BAD_REQUEST", "World name must be a non-empty string", NULL);
    }
    if (meta && !json_is_object(meta) && !json_is_null(meta)) {
        json_decref(row);
        return ag_err(st, req, 400, "BAD_REQUEST", "metadata must be an object", NULL);
    }
    json_t *merged = ag_col_json(row, "metadata", json_object());
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_object();
    }
    if (json_is_object(meta))
        json_object_update(merged, (json_t *)meta); /* shallow merge, as the real server */
    char *mtext = json_dumps(merged, JSON_COMPACT);
    json_decref(merged);
    json_t *p = json_pack("[sss]", name ? json_string_value(name) : ag_col_str(row, "name"),
                          mtext ? mtext : "{}", a->id);
    json_array_append_new(p, json_string(wid));
    free(mtext);
    int64_t rc = st->db->exec(
        st->self, "UPDATE @worlds SET name = ?, metadata = ? WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    json_decref(row);
    row = rc >= 0 ? ag_world_get(st, a->id, wid) : NULL;
    if (!row)
        return ag_err(st, req, 500, "500", "Error updating world", "storage failure");
    json_t *out = ag_world_json(st, row);
    json_decref(row);
    return ag_ok(st, req, 200, json_pack("{so}", "world", out));
}

int ag_register_world_routes(ag_state *st) {
    const ag_route *any = &st->r_exists, *run = &st->r_running;
    int rc = 0;
    rc |= ag_add_route(st, EZ_GET, "/api/agents/worlds", NULL, ag_h_worlds_first, any);
    rc |=
        ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/worlds", NULL, ag_h_worlds_list, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/worlds", NULL, ag_h_world_create,
                       run);
    rc |= ag_add_route(st, EZ_PATCH, "/api/agents/:agentId(uuid)/worlds/:worldId(uuid)",
                       "Invalid agent ID or world ID format", ag_h_world_patch, run);
    return rc ? EZ_EINVAL : EZ_OK;
}
