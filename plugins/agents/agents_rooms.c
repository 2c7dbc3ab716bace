/* Agent-side rooms (COMPAT §3.7, §5) at /api/memory|agents/:agentId/rooms, the seed's
 * /api/rooms/:agentId[/:roomId] (with PATCH and DELETE, which the real server lacks), and the
 * group endpoints /api/memory/groups/:id. */
#include "agents_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AG_ROOM_COLS                                                                               \
    "id, agent_id, name, channel_id, message_server_id, world_id, type, source, metadata, "        \
    "created_at"

static json_t *ag_room_json(const json_t *row) {
    json_t *o = json_object();
    const char *msid = ag_col_str(row, "message_server_id");
    json_object_set_nocheck(o, "id", json_object_get(row, "id"));
    json_object_set_nocheck(o, "name", json_object_get(row, "name"));
    json_object_set_new_nocheck(o, "channelId", ag_str_or_null(ag_col_str(row, "channel_id")));
    json_object_set_nocheck(o, "agentId", json_object_get(row, "agent_id"));
    json_object_set_new_nocheck(o, "messageServerId", ag_str_or_null(msid));
    json_object_set_new_nocheck(o, "worldId", ag_str_or_null(ag_col_str(row, "world_id")));
    json_object_set_new_nocheck(o, "type", ag_str_or_null(ag_col_str(row, "type")));
    json_object_set_new_nocheck(o, "source", ag_str_or_null(ag_col_str(row, "source")));
    json_object_set_new_nocheck(o, "metadata", ag_col_json(row, "metadata", json_null()));
    json_object_set_new_nocheck(o, "serverId", ag_str_or_null(msid));
    return o;
}

static json_t *ag_room_get(ag_state *st, const char *agent_id, const char *room_id) {
    json_t *p = json_pack("[ss]", agent_id, room_id);
    json_t *row = st->db->query_one(
        st->self, "SELECT " AG_ROOM_COLS " FROM @rooms WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    return row;
}

/* Writes a full room row (insert-or-ignore, or replace on update). */
static int ag_room_write(ag_state *st, const char *agent_id, const json_t *room, int update) {
    const char *id = json_string_value(json_object_get(room, "id"));
    const char *msid = json_string_value(json_object_get(room, "messageServerId"));
    if (!msid)
        msid = json_string_value(json_object_get(room, "serverId"));
    const json_t *meta = json_object_get(room, "metadata");
    if (!id || !st->api->uuid_valid(id))
        return EZ_EINVAL;
    char *mtext = json_is_object(meta) ? json_dumps(meta, JSON_COMPACT) : NULL;
    const char *name = json_string_value(json_object_get(room, "name"));
    json_t *p = json_array();
    json_array_append_new(p, json_string(name ? name : ""));
    json_array_append_new(p, ag_str_or_null(json_string_value(json_object_get(room, "channelId"))));
    json_array_append_new(p, ag_str_or_null(msid));
    json_array_append_new(p, ag_str_or_null(json_string_value(json_object_get(room, "worldId"))));
    json_array_append_new(p, ag_str_or_null(json_string_value(json_object_get(room, "type"))));
    json_array_append_new(p, ag_str_or_null(json_string_value(json_object_get(room, "source"))));
    json_array_append_new(p, ag_str_or_null(mtext));
    json_array_append_new(p, json_string(agent_id));
    json_array_append_new(p, json_string(id));
    free(mtext);
    int64_t rc;
    if (update) {
        rc = st->db->exec(st->self,
                          "UPDATE @rooms SET name = ?, channel_id = ?, message_server_id = ?, "
                          "world_id = ?, type = ?, source = ?, metadata = ? WHERE agent_id = ? "
                          "AND id = ?",
                          p);
    } else {
        json_array_append_new(p, json_integer(st->api->now_ms()));
        rc = st->db->exec(st->self,
                          "INSERT INTO @rooms (name, channel_id, message_server_id, world_id, "
                          "type, source, metadata, agent_id, id, created_at) VALUES (?, ?, ?, ?, "
                          "?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          p);
    }
    json_decref(p);
    return rc < 0 ? (int)rc : EZ_OK;
}

int ag_room_ensure(ag_state *st, const char *agent_id, const json_t *room) {
    return ag_room_write(st, agent_id, room, 0);
}

/* Optional uuid member: 1 ok (absent or null included), 0 bad. */
static int ag_opt_uuid(ag_state *st, const json_t *v) {
    return !v || json_is_null(v) ||
           (json_is_string(v) && st->api->uuid_valid(json_string_value(v)));
}

static int ag_opt_str(const json_t *v) {
    return !v || (json_is_string(v) && json_string_length(v) <= AG_MAX_NAME);
}

static int ag_h_room_create(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    const json_t *name = json_object_get(body, "name");
    const json_t *type = json_object_get(body, "type"), *source = json_object_get(body, "source");
    const json_t *wid = json_object_get(body, "worldId"), *meta = json_object_get(body, "metadata");
    const json_t *msid = json_object_get(body, "messageServerId");
    if (!ag_truthy(name))
        return ag_err(st, req, 400, "MISSING_PARAM", "Room name is required", NULL);
    if (!json_is_string(name) || json_string_length(name) > AG_MAX_NAME)
        return ag_err(st, req, 400, "BAD_REQUEST",
                      "Room name must be a string of at most 512 "
                      "characters",
                      NULL);
    if (!ag_opt_str(type) || !ag_opt_str(source))
        return ag_err(st, req, 400, "BAD_REQUEST", "type and source must be strings", NULL);
    if (!ag_opt_uuid(st, wid))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid world ID format", NULL);
    if (!ag_opt_uuid(st, msid))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid messageServerId format", NULL);
    if (meta && !json_is_object(meta) && !json_is_null(meta))
        return ag_err(st, req, 400, "BAD_REQUEST", "metadata must be an object", NULL);

    int64_t ms = ag_unique_ms(st);
    char base[48], room_id[37], world_id[37];
    snprintf(base, sizeof base, "room-%lld", (long long)ms);
    ag_unique_uuid(st, a->id, base, room_id);
    int owned = ag_tx_begin(st);
    int ok = owned >= 0;
    if (json_is_string(wid)) {
        memcpy(world_id, json_string_value(wid), 37);
    } else {
        snprintf(base, sizeof base, "world-%lld", (long long)ms);
        ag_unique_uuid(st, a->id, base, world_id);
        char wname[AG_MAX_NAME + 16];
        snprintf(wname, sizeof wname, "World for %s", json_string_value(name));
        json_t *w = json_pack("{ss ss}", "id", world_id, "name", wname);
        if (json_is_string(msid))
            json_object_set_nocheck(w, "messageServerId", (json_t *)msid);
        if (json_is_object(meta))
            json_object_set_nocheck(w, "metadata", (json_t *)meta);
        ok = ok && ag_world_ensure(st, a->id, w) == EZ_OK;
        json_decref(w);
    }
    const char *t = json_is_string(type) ? json_string_value(type) : "DM";
    const char *s = json_is_string(source) ? json_string_value(source) : "client";
    json_t *room = json_pack("{ss ss ss ss ss ss}", "id", room_id, "name", json_string_value(name),
                             "channelId", room_id, "worldId", world_id, "type", t, "source", s);
    if (json_is_string(msid))
        json_object_set_nocheck(room, "messageServerId", (json_t *)msid);
    if (json_is_object(meta))
        json_object_set_nocheck(room, "metadata", (json_t *)meta);
    ok = ok && ag_room_write(st, a->id, room, 0) == EZ_OK;
    json_decref(room);
    ag_tx_end(st, owned, ok);
    if (!ok)
        return ag_err(st, req, 500, "CREATE_ERROR", "Failed to create room", "storage failure");

    json_t *data = json_pack("{ss ss ss sI ss ss ss}", "id", room_id, "name",
                             json_string_value(name), "agentId", a->id, "createdAt", (json_int_t)ms,
                             "source", s, "type", t, "worldId", world_id);
    if (json_is_string(msid))
        json_object_set_nocheck(data, "messageServerId", (json_t *)msid);
    if (json_is_object(meta))
        json_object_set_nocheck(data, "metadata", (json_t *)meta);
    return ag_ok(st, req, 201, data);
}

static int ag_h_rooms_list(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[s]", a->id);
    json_t *rows = st->db->query(
        st->self, "SELECT " AG_ROOM_COLS " FROM @rooms WHERE agent_id = ? ORDER BY created_at", p);
    json_decref(p);
    if (!rows)
        return ag_err(st, req, 500, "RETRIEVAL_ERROR", "Failed to retrieve agent rooms",
                      "storage failure");
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(out, ag_room_json(row));
    json_decref(rows);
    return ag_ok(st, req, 200, json_pack("{so}", "rooms", out));
}

static int ag_h_room_get(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *row = ag_room_get(st, a->id, st->api->param(req, "roomId"));
    if (!row)
        return ag_err(st, req, 404, "NOT_FOUND", "Room not found", NULL);
    json_t *out = ag_room_json(row);
    const char *wid = ag_col_str(row, "world_id");
    if (wid) {
        json_t *p = json_pack("[ss]", a->id, wid);
        json_t *w = st->db->query_one(st->self,
                                      "SELECT name FROM @worlds WHERE agent_id = ? AND id = ?", p);
        json_decref(p);
        const char *wn = ag_col_str(w, "name");
        if (wn && *wn)
            json_object_set_new_nocheck(out, "worldName", json_string(wn));
        json_decref(w);
    }
    json_decref(row);
    return ag_ok(st, req, 200, out);
}

/* PATCH /api/rooms/:agentId/:roomId (seed): name, type, source, worldId, channelId,
 * messageServerId, metadata (replaced). */
static int ag_h_room_patch(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    if (body && !json_is_object(body))
        return ag_err(st, req, 400, "BAD_REQUEST", "The request body must be a JSON object", NULL);
    json_t *row = ag_room_get(st, a->id, st->api->param(req, "roomId"));
    if (!row)
        return ag_err(st, req, 404, "NOT_FOUND", "Room not found", NULL);
    json_t *room = ag_room_json(row);
    json_decref(row);
    static const char *const strs[] = {"name", "type", "source", NULL};
    static const char *const ids[] = {"worldId", "channelId", "messageServerId", NULL};
    const char *bad = NULL;
    for (const char *const *k = strs; *k && !bad; k++) {
        const json_t *v = json_object_get(body, *k);
        if (!v)
            continue;
        if (!json_is_string(v) || json_string_length(v) == 0 || !ag_opt_str(v))
            bad = "name, type and source must be non-empty strings";
        else
            json_object_set(room, *k, (json_t *)v);
    }
    for (const char *const *k = ids; *k && !bad; k++) {
        const json_t *v = json_object_get(body, *k);
        if (!v)
            continue;
        if (!ag_opt_uuid(st, v))
            bad = "worldId, channelId and messageServerId must be UUIDs";
        else
            json_object_set(room, *k, (json_t *)v);
    }
    const json_t *meta = json_object_get(body, "metadata");
    if (!bad && meta) {
        if (!json_is_object(meta) && !json_is_null(meta))
            bad = "metadata must be an object";
        else
            json_object_set_nocheck(room, "metadata", (json_t *)meta);
    }
    if (bad) {
        json_decref(room);
        return ag_err(st, req, 400, "BAD_REQUEST", bad, NULL);
    }
    /* serverId mirrors messageServerId; drop the stale copy so the write takes the new one */
    json_object_del(room, "serverId");
    int rc = ag_room_write(st, a->id, room, 1);
    json_decref(room);
    if (rc != EZ_OK)
        return ag_err(st, req, 500, "UPDATE_ERROR", "Failed to update room", "storage failure");
    row = ag_room_get(st, a->id, st->api->param(req, "roomId"));
    if (!row)
        return ag_err(st, req, 404, "NOT_FOUND", "Room not found", NULL);
    json_t *out = ag_room_json(row);
    json_decref(row);
    return ag_ok(st, req, 200, out);
}

/* DELETE /api/rooms/:agentId/:roomId (seed): the room and its memories. */
static int ag_h_room_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *rid = st->api->param(req, "roomId");
    json_t *row = ag_room_get(st, a->id, rid);
    if (!row)
        return ag_err(st, req, 404, "NOT_FOUND", "Room not found", NULL);
    json_decref(row);
    int owned = ag_tx_begin(st);
    json_t *p = json_pack("[ss]", a->id, rid);
    int ok = owned >= 0 &&
             st->db->exec(st->self, "DELETE FROM @memories WHERE agent_id = ? AND room_id = ?",
                          p) >= 0 &&
             st->db->exec(st->self, "DELETE FROM @rooms WHERE agent_id = ? AND id = ?", p) >= 0;
    json_decref(p);
    ag_tx_end(st, owned, ok);
    if (!ok)
        return ag_err(st, req, 500, "DELETE_ERROR", "Failed to delete room", "storage failure");
    return st->api->respond_empty(req, 204);
}

/* DELETE /api/memory/:agentId/rooms/:roomId (seed): the room's memories, the room stays. */
static int ag_h_room_clear(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    if (ag_room_memories_clear(st, a->id, st->api->param(req, "roomId")) != EZ_OK)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting room memories",
                      "storage failure");
    return st->api->respond_empty(req, 204);
}

/* ---- groups ---- */

static void ag_group_error(json_t *errors, const char *agent_id, const char *code,
                           const char *msg) {
    json_array_append_new(errors, json_pack("{ss ss ss ss}", "agentId", agent_id, "code", code,
                                            "message", msg, "details", msg));
}

static int ag_h_group_create(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    const char *server_id = st->api->param(req, "messageServerId");
    const json_t *body = st->api->body_json(req);
    const json_t *ids = json_object_get(body, "agentIds");
    const json_t *name = json_object_get(body, "name"), *wid = json_object_get(body, "worldId");
    const json_t *source = json_object_get(body, "source"),
                 *meta = json_object_get(body, "metadata");
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > 1000)
        return ag_err(st, req, 400, "BAD_REQUEST", "agentIds must be a non-empty array", NULL);
    if (!ag_opt_str(name) || !ag_opt_str(source))
        return ag_err(st, req, 400, "BAD_REQUEST", "name and source must be strings", NULL);
    if (!ag_opt_uuid(st, wid))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid world ID format", NULL);
    if (meta && !json_is_object(meta) && !json_is_null(meta))
        return ag_err(st, req, 400, "BAD_REQUEST", "metadata must be an object", NULL);

    char room_name[AG_MAX_NAME + 64];
    if (ag_truthy(name)) {
        snprintf(room_name, sizeof room_name, "%s", json_string_value(name));
    } else {
        time_t now = (time_t)(st->api->now_ms() / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        int h = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
        snprintf(room_name, sizeof room_name, "Chat %d/%d/%d, %d:%02d:%02d %s", tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_year + 1900, h, tm.tm_min, tm.tm_sec,
                 tm.tm_hour < 12 ? "AM" : "PM");
    }
    const char *src = json_is_string(source) ? json_string_value(source) : "client";
    json_t *results = json_array(), *errors = json_array();
    size_t i;
    const json_t *idv;
    json_array_foreach(ids, i, idv) {
        const char *aid = json_string_value(idv);
        ag_agent *a = aid && st->api->uuid_valid(aid) ? ag_find(st, aid) : NULL;
        if (!a || !a->active) {
            ag_group_error(errors, aid ? aid : "", "NOT_FOUND", "Agent not found");
            continue;
        }
        char room_id[37], world_id[37];
        ag_unique_uuid(st, a->id, server_id, room_id);
        if (json_is_string(wid))
            memcpy(world_id, json_string_value(wid), 37);
        else
            ag_unique_uuid(st, a->id, server_id, world_id);
        json_t *w =
            json_pack("{ss ss ss}", "id", world_id, "name", src, "messageServerId", server_id);
        json_t *room = json_pack("{ss ss ss ss ss ss ss}", "id", room_id, "name", room_name,
                                 "channelId", room_id, "worldId", world_id, "type", "API", "source",
                                 src, "messageServerId", server_id);
        if (json_is_object(meta))
            json_object_set_nocheck(room, "metadata", (json_t *)meta);
        int ok = ag_world_ensure(st, a->id, w) == EZ_OK && ag_room_ensure(st, a->id, room) == EZ_OK;
        json_decref(w);
        json_decref(room);
        if (!ok) {
            ag_group_error(errors, a->id, "CREATE_ERROR", "Failed to Create group");
            continue;
        }
        json_array_append_new(results,
                              json_pack("{ss ss ss ss ss}", "id", room_id, "name", room_name,
                                        "source", "client", "worldId", world_id, "type", "API"));
    }
    json_t *out = json_object();
    int status;
    if (json_array_size(results) == 0) {
        status = 500;
        json_object_set_new_nocheck(out, "success", json_false());
        json_object_set_new_nocheck(out, "error", errors);
        json_decref(results);
    } else {
        status = json_array_size(errors) ? 207 : 201;
        json_object_set_new_nocheck(out, "success", json_boolean(status == 201));
        json_object_set_new_nocheck(out, "data", results);
        if (json_array_size(errors))
            json_object_set_new_nocheck(out, "errors", errors);
        else
            json_decref(errors);
    }
    return st->api->respond_json_new(req, status, out);
}

static int ag_h_group_delete(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    const char *wid = st->api->param(req, "worldId");
    int owned = ag_tx_begin(st);
    json_t *p = json_pack("[s]", wid);
    int ok = owned >= 0 &&
             st->db->exec(st->self,
                          "DELETE FROM @memories WHERE room_id IN (SELECT id FROM @rooms WHERE "
                          "world_id = ?)",
                          p) >= 0 &&
             st->db->exec(st->self, "DELETE FROM @rooms WHERE world_id = ?", p) >= 0;
    json_decref(p);
    ag_tx_end(st, owned, ok);
    if (!ok)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting group", "storage failure");
    return st->api->respond_empty(req, 204);
}

static int ag_h_group_memories_delete(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    const char *wid = st->api->param(req, "worldId");
    json_t *p = json_pack("[ss]", wid, wid);
    int64_t rc = st->db->exec(st->self,
                              "DELETE FROM @memories WHERE type = 'messages' AND (world_id = ? "
                              "OR room_id IN (SELECT id FROM @rooms WHERE world_id = ?))",
                              p);
    json_decref(p);
    if (rc < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting group memories",
                      "storage failure");
    return st->api->respond_empty(req, 204);
}

int ag_register_room_routes(ag_state *st) {
    static const char *const prefixes[] = {"/api/memory", "/api/agents", NULL};
    const ag_route *any = &st->r_exists, *run = &st->r_running;
    const char *both = "Invalid agent ID or room ID format";
    char pat[128];
    int rc = 0;
    for (const char *const *p = prefixes; *p; p++) {
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/rooms", *p);
        rc |= ag_add_route(st, EZ_POST, pat, NULL, ag_h_room_create, run);
        rc |= ag_add_route(st, EZ_GET, pat, NULL, ag_h_rooms_list, run);
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/rooms/:roomId(uuid)", *p);
        rc |= ag_add_route(st, EZ_GET, pat, both, ag_h_room_get, run);
        rc |= ag_add_route(st, EZ_DELETE, pat, both, ag_h_room_clear, any);
    }
    rc |= ag_add_route(st, EZ_GET, "/api/rooms/:agentId(uuid)", NULL, ag_h_rooms_list, any);
    rc |= ag_add_route(st, EZ_POST, "/api/rooms/:agentId(uuid)", NULL, ag_h_room_create, any);
    rc |= ag_add_route(st, EZ_GET, "/api/rooms/:agentId(uuid)/:roomId(uuid)", both, ag_h_room_get,
                       any);
    rc |= ag_add_route(st, EZ_PATCH, "/api/rooms/:agentId(uuid)/:roomId(uuid)", both,
                       ag_h_room_patch, any);
    rc |= ag_add_route(st, EZ_DELETE, "/api/rooms/:agentId(uuid)/:roomId(uuid)", both,
                       ag_h_room_delete, any);

    const char *gmsg = "Invalid messageServerId (worldId) format";
    rc |= ag_add_route(st, EZ_POST, "/api/memory/groups/:messageServerId(uuid)", gmsg,
                       ag_h_group_create, any);
    rc |= ag_add_route(st, EZ_DELETE, "/api/memory/groups/:worldId(uuid)", gmsg, ag_h_group_delete,
                       any);
    rc |= ag_add_route(st, EZ_DELETE, "/api/memory/groups/:worldId(uuid)/memories", gmsg,
                       ag_h_group_memories_delete, any);
    return rc ? EZ_EINVAL : EZ_OK;
}
