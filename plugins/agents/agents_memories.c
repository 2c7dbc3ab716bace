/* Agent memories (COMPAT §3.6, §5): storage used by the runtime through "agents.v1" and the
 * REST browsing/editing routes under /api/memory/:agentId and /api/agents/:agentId.
 * Listings are the web UI's hot read path, and turning each stored column into a JSON value
 * dominated their cost; so every row also keeps `doc`, its Memory object already rendered
 * (embedding excepted), written on insert and re-rendered on update. A listing is then one
 * column per row, concatenated. */
#include "agents_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AG_MEM_COLS                                                                                \
    "id, type, created_at, content, entity_id, agent_id, room_id, is_unique, metadata"
#define AG_MAX_TABLE 64

static void ag_put_raw_or(ag_buf *b, const char *raw, const char *fallback) {
    ag_buf_puts(b, raw && *raw ? raw : fallback);
}

static void ag_put_str_or_null(ag_buf *b, const char *s) {
    if (s)
        ag_buf_put_jstr(b, s);
    else
        ag_buf_puts(b, "null");
}

static void ag_memory_render(ag_buf *b, const json_t *row) {
    ag_buf_puts(b, "{\"id\":");
    ag_put_str_or_null(b, ag_col_str(row, "id"));
    ag_buf_puts(b, ",\"type\":");
    ag_put_str_or_null(b, ag_col_str(row, "type"));
    ag_buf_puts(b, ",\"createdAt\":");
    ag_buf_put_i64(b, ag_col_i64(row, "created_at"));
    ag_buf_puts(b, ",\"content\":");
    ag_put_raw_or(b, ag_col_str(row, "content"), "{}");
    ag_buf_puts(b, ",\"entityId\":");
    ag_put_str_or_null(b, ag_col_str(row, "entity_id"));
    ag_buf_puts(b, ",\"agentId\":");
    ag_put_str_or_null(b, ag_col_str(row, "agent_id"));
    ag_buf_puts(b, ",\"roomId\":");
    ag_put_str_or_null(b, ag_col_str(row, "room_id"));
    ag_buf_puts(b, ag_col_i64(row, "is_unique") ? ",\"unique\":true" : ",\"unique\":false");
    ag_buf_puts(b, ",\"metadata\":");
    ag_put_raw_or(b, ag_col_str(row, "metadata"), "{}");
    ag_buf_puts(b, "}");
}

/* Appends one stored row: its doc, with the embedding spliced in when asked and present. */
static void ag_put_doc(ag_buf *b, const json_t *row, int with_embedding) {
    const char *doc = ag_col_str(row, "doc");
    const char *emb = with_embedding ? ag_col_str(row, "embedding") : NULL;
    size_t n = doc ? strlen(doc) : 0;
    if (n < 2) {
        ag_buf_puts(b, "{}");
        return;
    }
    if (!emb || !*emb) {
        ag_buf_put(b, doc, n);
        return;
    }
    ag_buf_put(b, doc, n - 1); /* without the closing brace */
    ag_buf_puts(b, ",\"embedding\":");
    ag_buf_puts(b, emb);
    ag_buf_put(b, "}", 1);
}

static int ag_send_memories(ag_state *st, ez_req *req, json_t *rows, int with_embedding) {
    ag_buf b = {0};
    ag_buf_puts(&b, "{\"success\":true,\"data\":{\"memories\":[");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (i)
            ag_buf_put(&b, ",", 1);
        ag_put_doc(&b, row, with_embedding);
    }
    ag_buf_puts(&b, "]}}");
    json_decref(rows);
    if (b.oom) {
        ag_buf_free(&b);
        return ag_err(st, req, 500, "MEMORY_ERROR", "Error retrieving agent memories",
                      "out of memory");
    }
    int rc = ag_ok_raw(st, req, 200, b.p, b.len);
    ag_buf_free(&b);
    return rc;
}

/* Renders the doc of a memory from its columns (new string, free()). */
static char *ag_memory_doc(const json_t *row) {
    ag_buf b = {0};
    ag_memory_render(&b, row);
    if (b.oom) {
        ag_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* tableName query value, bounded; NULL after answering 400. */
static const char *ag_table_param(ag_state *st, ez_req *req) {
    const char *t = st->api->query(req, "tableName");
    if (!t || !*t)
        return "messages";
    if (strlen(t) > AG_MAX_TABLE) {
        ag_err(st, req, 400, "BAD_REQUEST", "tableName is too long", NULL);
        return NULL;
    }
    return t;
}

static int ag_bool_param(ag_state *st, ez_req *req, const char *name) {
    const char *v = st->api->query(req, name);
    return v && strcmp(v, "true") == 0;
}

/* GET /api/memory/:agentId/memories: tableName, channelId | roomId, includeEmbedding, and
 * (beyond the real server, for paging) limit, before (exclusive), after (exclusive). */
static int ag_h_memories(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *table = ag_table_param(st, req);
    if (!table)
        return EZ_DONE;
    const char *channel = st->api->query(req, "channelId");
    const char *room = st->api->query(req, "roomId");
    char room_id[37] = "";
    if (channel && *channel) {
        if (!st->api->uuid_valid(channel))
            return ag_err(st, req, 400, "INVALID_ID", "Invalid channel ID format", NULL);
        ag_unique_uuid(st, a->id, channel, room_id);
    } else if (room && *room) {
        if (!st->api->uuid_valid(room))
            return ag_err(st, req, 400, "INVALID_ID", "Invalid room ID format", NULL);
        memcpy(room_id, room, 37);
    }
    int64_t limit = 0, before = 0, after = 0;
    int has_limit = 0, has_before = 0, has_after = 0;
    if (ag_query_i64(st, req, "limit", &limit, &has_limit) != 0 ||
        (has_limit && (limit < 1 || limit > AG_MAX_LIMIT)))
        return ag_err(st, req, 400, "BAD_REQUEST", "limit must be an integer from 1 to 10000",
                      NULL);
    if (ag_query_time(st, req, "before", &before, &has_before) != 0 ||
        ag_query_time(st, req, "after", &after, &has_after) != 0)
        return ag_err(st, req, 400, "BAD_REQUEST",
                      "before and after must be epoch milliseconds or ISO-8601 dates", NULL);
    int emb = ag_bool_param(st, req, "includeEmbedding");

    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT doc%s FROM @memories WHERE agent_id = ? AND type = ?%s%s%s "
             "ORDER BY created_at DESC%s",
             emb ? ", embedding" : "", room_id[0] ? " AND room_id = ?" : "",
             has_before ? " AND created_at < ?" : "", has_after ? " AND created_at > ?" : "",
             has_limit ? " LIMIT ?" : "");
    json_t *p = json_pack("[ss]", a->id, table);
    if (room_id[0])
        json_array_append_new(p, json_string(room_id));
    if (has_before)
        json_array_append_new(p, json_integer(before));
    if (has_after)
        json_array_append_new(p, json_integer(after));
    if (has_limit)
        json_array_append_new(p, json_integer(limit));
    json_t *rows = st->db->query(st->self, sql, p);
    json_decref(p);
    if (!rows)
        return ag_err(st, req, 500, "MEMORY_ERROR", "Error retrieving agent memories",
                      "storage failure");
    return ag_send_memories(st, req, rows, emb);
}

/* GET .../rooms/:channelId/memories: the path holds a central channel id (converted with
 * createUniqueUuid); an agent room id is accepted too, so the api-client's
 * getAgentInternalMemories (which passes one) works. */
static int ag_h_room_memories(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *table = ag_table_param(st, req);
    if (!table)
        return EZ_DONE;
    const char *channel = st->api->param(req, "channelId");
    char room_id[37];
    ag_unique_uuid(st, a->id, channel, room_id);
    int64_t limit = 20, before = st->api->now_ms();
    int has = 0;
    if (ag_query_i64(st, req, "limit", &limit, &has) != 0 || limit < 1 || limit > AG_MAX_LIMIT)
        return ag_err(st, req, 400, "BAD_REQUEST", "limit must be an integer from 1 to 10000",
                      NULL);
    if (ag_query_time(st, req, "before", &before, &has) != 0)
        return ag_err(st, req, 400, "BAD_REQUEST",
                      "before must be epoch milliseconds or an ISO-8601 date", NULL);
    int emb = ag_bool_param(st, req, "includeEmbedding");
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT doc%s FROM @memories WHERE agent_id = ? AND type = ? AND "
             "room_id IN (?, ?) AND created_at <= ? ORDER BY created_at DESC LIMIT ?",
             emb ? ", embedding" : "");
    json_t *p = json_pack("[ssssII]", a->id, table, room_id, channel, (json_int_t)before,
                          (json_int_t)limit);
    json_t *rows = st->db->query(st->self, sql, p);
    json_decref(p);
    if (!rows)
        return ag_err(st, req, 500, "500", "Failed to retrieve memories", "storage failure");
    return ag_send_memories(st, req, rows, emb);
}

/* A member that must be an object when present: its compact text (new) in *out. */
static int ag_obj_text(const json_t *body, const char *key, char **out) {
    const json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return -1;
    *out = json_dumps(v, JSON_COMPACT);
    return 0;
}

static const char *ag_uuid_member(ag_state *st, const json_t *body, const char *key) {
    const char *s = json_string_value(json_object_get(body, key));
    return s && st->api->uuid_valid(s) ? s : NULL;
}

/* Rebuilds the doc of one memory from its columns after they changed. */
static int ag_memory_rerender(ag_state *st, const char *agent_id, const char *memory_id) {
    json_t *p = json_pack("[ss]", agent_id, memory_id);
    json_t *row = st->db->query_one(
        st->self, "SELECT " AG_MEM_COLS " FROM @memories WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    char *doc = row ? ag_memory_doc(row) : NULL;
    json_decref(row);
    if (!doc)
        return EZ_EIO;
    p = json_pack("[sss]", doc, agent_id, memory_id);
    free(doc);
    int64_t rc =
        st->db->exec(st->self, "UPDATE @memories SET doc = ? WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    return rc < 0 ? (int)rc : EZ_OK;
}

static int ag_h_memory_patch(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *mid = st->api->param(req, "memoryId");
    const json_t *body = st->api->body_json(req);
    if (body && !json_is_object(body))
        return ag_err(st, req, 400, "BAD_REQUEST", "The request body must be a JSON object", NULL);
    char *content = NULL, *meta = NULL;
    if (ag_obj_text(body, "content", &content) != 0 || ag_obj_text(body, "metadata", &meta) != 0) {
        free(content);
        free(meta);
        return ag_err(st, req, 400, "BAD_REQUEST", "content and metadata must be objects", NULL);
    }
    /* id fields that are not uuids are dropped, as the real server does */
    json_t *p = json_array();
    json_array_append_new(p, ag_str_or_null(content));
    json_array_append_new(p, ag_str_or_null(meta));
    json_array_append_new(p, ag_str_or_null(ag_uuid_member(st, body, "roomId")));
    json_array_append_new(p, ag_str_or_null(ag_uuid_member(st, body, "entityId")));
    json_array_append_new(p, ag_str_or_null(ag_uuid_member(st, body, "worldId")));
    const json_t *sid = json_object_get(json_object_get(body, "metadata"), "sourceId");
    json_array_append_new(p, ag_str_or_null(json_string_value(sid)));
    json_array_append_new(p, json_string(a->id));
    json_array_append_new(p, json_string(mid));
    free(content);
    free(meta);
    int owned = ag_tx_begin(st);
    int64_t rc = owned < 0 ? owned
                           : st->db->exec(st->self,
                                          "UPDATE @memories SET content = COALESCE(?, content), "
                                          "metadata = COALESCE(?, metadata), room_id = "
                                          "COALESCE(?, room_id), entity_id = COALESCE(?, "
                                          "entity_id), world_id = COALESCE(?, world_id), "
                                          "source_id = COALESCE(?, source_id) WHERE agent_id = ? "
                                          "AND id = ?",
                                          p);
    json_decref(p);
    if (rc > 0 && ag_memory_rerender(st, a->id, mid) != EZ_OK)
        rc = EZ_EIO;
    ag_tx_end(st, owned, rc >= 0);
    if (rc < 0)
        return ag_err(st, req, 500, "UPDATE_ERROR", "Failed to update memory", "storage failure");
    if (rc == 0)
        return ag_err(st, req, 404, "NOT_FOUND", "Memory not found", NULL);
    return ag_ok(st, req, 200,
                 json_pack("{ssss}", "id", mid, "message", "Memory updated successfully"));
}

static int ag_h_memories_clear(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[s]", a->id);
    int64_t n = st->db->exec(st->self, "DELETE FROM @memories WHERE agent_id = ?", p);
    json_decref(p);
    if (n < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting all agent memories",
                      "storage failure");
    return ag_ok(st, req, 200,
                 json_pack("{sIss}", "deleted", (json_int_t)n, "message",
                           "All agent memories cleared successfully"));
}

static int ag_h_memory_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[ss]", a->id, st->api->param(req, "memoryId"));
    int64_t n = st->db->exec(st->self, "DELETE FROM @memories WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    if (n < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting memory", "storage failure");
    return ag_ok(st, req, 200, json_pack("{ss}", "message", "Memory deleted successfully"));
}

/* DELETE .../memories/all/:roomId: chat ("messages") and document memories of one room. The
 * real server deletes "message"/"document" only and so leaves the chat (COMPAT §18 #7). */
static int ag_h_memories_room_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[ss]", a->id, st->api->param(req, "roomId"));
    int64_t n = st->db->exec(st->self,
                             "DELETE FROM @memories WHERE agent_id = ? AND room_id = ? AND type "
                             "IN ('messages', 'documents', 'message', 'document')",
                             p);
    json_decref(p);
    if (n < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting all memories",
                      "storage failure");
    return st->api->respond_empty(req, 204);
}

/* ---- storage used by agents.v1 ---- */

int ag_memory_add(ag_state *st, const char *agent_id, const json_t *m, char id_out[37]) {
    if (!json_is_object(m))
        return EZ_EINVAL;
    const char *id = json_string_value(json_object_get(m, "id"));
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *room = json_string_value(json_object_get(m, "roomId"));
    const char *entity = json_string_value(json_object_get(m, "entityId"));
    const char *world = json_string_value(json_object_get(m, "worldId"));
    const json_t *content = json_object_get(m, "content");
    const json_t *meta = json_object_get(m, "metadata");
    const json_t *emb = json_object_get(m, "embedding");
    const json_t *created = json_object_get(m, "createdAt");
    if ((id && !st->api->uuid_valid(id)) || (room && !st->api->uuid_valid(room)) ||
        (entity && !st->api->uuid_valid(entity)) || (world && !st->api->uuid_valid(world)) ||
        (content && !json_is_object(content)) || (meta && !json_is_object(meta)) ||
        (emb && !json_is_array(emb)) || (type && (!*type || strlen(type) > AG_MAX_TABLE)))
        return EZ_EINVAL;
    char gen[37];
    if (!id) {
        st->api->uuid_v4(gen);
        id = gen;
    }
    /* the row as the store would return it, so the doc renders exactly like an update's */
    static const char *const cols[] = {
        "id",      "agent_id", "room_id",   "world_id",  "entity_id", "type", "created_at",
        "content", "metadata", "embedding", "is_unique", "source_id", NULL};
    char *ctext = ag_json_text(st, content);
    char *mtext = ag_json_text(st, meta);
    char *etext = ag_json_text(st, emb);
    json_t *row = json_object();
    json_object_set_new_nocheck(row, "id", json_string_nocheck(id));
    json_object_set_new_nocheck(row, "agent_id", json_string_nocheck(agent_id));
    json_object_set_new_nocheck(row, "room_id", ag_str_or_null(room));
    json_object_set_new_nocheck(row, "world_id", ag_str_or_null(world));
    json_object_set_new_nocheck(row, "entity_id", json_string_nocheck(entity ? entity : agent_id));
    json_object_set_new_nocheck(row, "type", json_string(type ? type : "messages"));
    json_object_set_new(
        row, "created_at",
        json_integer(json_is_integer(created) ? json_integer_value(created) : st->api->now_ms()));
    json_object_set_new_nocheck(row, "content", json_string_nocheck(ctext ? ctext : "{}"));
    json_object_set_new_nocheck(row, "metadata", json_string_nocheck(mtext ? mtext : "{}"));
    json_object_set_new_nocheck(row, "embedding", ag_str_or_null(etext));
    json_object_set_new_nocheck(row, "is_unique",
                                json_integer(json_is_true(json_object_get(m, "unique"))));
    json_object_set_new_nocheck(
        row, "source_id", ag_str_or_null(json_string_value(json_object_get(meta, "sourceId"))));
    free(ctext);
    free(mtext);
    free(etext);
    char *doc = ag_memory_doc(row);
    json_t *p = json_array();
    for (const char *const *c = cols; *c; c++)
        json_array_append(p, json_object_get(row, *c));
    json_array_append_new(p, ag_str_or_null(doc));
    json_decref(row);
    free(doc);
    /* queued (exec_later): a duplicate id is then logged by the storage thread, not returned */
    int rc = doc ? ag_write(st,
                            "INSERT INTO @memories (id, agent_id, room_id, world_id, entity_id, "
                            "type, created_at, content, metadata, embedding, is_unique, source_id, "
                            "doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            p)
                 : EZ_ENOMEM;
    json_decref(p);
    if (rc == EZ_ECONSTRAINT)
        return EZ_EEXIST;
    if (rc < 0)
        return rc;
    if (id_out)
        memcpy(id_out, id, 37);
    return EZ_OK;
}

json_t *ag_memories_recent(ag_state *st, const char *agent_id, const char *room_id,
                           const char *type, int limit) {
    json_t *p = json_pack("[sssi]", agent_id, room_id ? room_id : "", type ? type : "messages",
                          limit > 0 ? limit : 20);
    json_t *rows = st->db->query(st->self,
                                 "SELECT " AG_MEM_COLS ", world_id FROM @memories WHERE agent_id "
                                 "= ? AND room_id = ? AND type = ? ORDER BY created_at DESC "
                                 "LIMIT ?",
                                 p);
    json_decref(p);
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *o = json_object();
        json_object_set_nocheck(o, "id", json_object_get(row, "id"));
        json_object_set_nocheck(o, "type", json_object_get(row, "type"));
        json_object_set_nocheck(o, "createdAt", json_object_get(row, "created_at"));
        json_object_set_new_nocheck(o, "content", ag_col_json(row, "content", json_object()));
        json_object_set_nocheck(o, "entityId", json_object_get(row, "entity_id"));
        json_object_set_nocheck(o, "agentId", json_object_get(row, "agent_id"));
        json_object_set_nocheck(o, "roomId", json_object_get(row, "room_id"));
        if (ag_col_str(row, "world_id"))
            json_object_set_nocheck(o, "worldId", json_object_get(row, "world_id"));
        json_object_set_new_nocheck(o, "unique", json_boolean(ag_col_i64(row, "is_unique")));
        json_object_set_new_nocheck(o, "metadata", ag_col_json(row, "metadata", json_object()));
        json_array_append_new(out, o);
    }
    json_decref(rows);
    return out;
}

int ag_memory_delete(ag_state *st, const char *agent_id, const char *memory_id) {
    char derived[37];
    size_t n = strlen(memory_id);
    char *base = malloc(n + 38);
    if (!base)
        return EZ_ENOMEM;
    snprintf(base, n + 38, "%s-%s", memory_id, agent_id);
    ag_unique_uuid(st, agent_id, base, derived);
    free(base);
    json_t *p = json_pack("[ssss]", agent_id, memory_id, derived, memory_id);
    int64_t rc = st->db->exec(st->self,
                              "DELETE FROM @memories WHERE agent_id = ? AND (id = ? OR id = ? OR "
                              "source_id = ?)",
                              p);
    json_decref(p);
    return rc < 0 ? (int)rc : EZ_OK;
}

int ag_room_memories_clear(ag_state *st, const char *agent_id, const char *room_id) {
    json_t *p = json_pack("[ss]", agent_id, room_id);
    int64_t rc =
        st->db->exec(st->self, "DELETE FROM @memories WHERE agent_id = ? AND room_id = ?", p);
    json_decref(p);
    return rc < 0 ? (int)rc : EZ_OK;
}

int ag_register_memory_routes(ag_state *st) {
    static const char *const prefixes[] = {"/api/memory", "/api/agents", NULL};
    const ag_route *run = &st->r_running;
    char pat[128];
    int rc = 0;
    for (const char *const *p = prefixes; *p; p++) {
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/memories", *p);
        rc |= ag_add_route(st, EZ_GET, pat, "Invalid agent ID", ag_h_memories, run);
        rc |= ag_add_route(st, EZ_DELETE, pat, "Invalid agent ID", ag_h_memories_clear, run);
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/memories/:memoryId(uuid)", *p);
        rc |= ag_add_route(st, EZ_PATCH, pat, "Invalid agent ID or memory ID format",
                           ag_h_memory_patch, run);
        rc |= ag_add_route(st, EZ_DELETE, pat, "Invalid agent ID or memory ID format",
                           ag_h_memory_delete, run);
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/memories/all/:roomId(uuid)", *p);
        rc |= ag_add_route(st, EZ_DELETE, pat, "Invalid agent ID or room ID format",
                           ag_h_memories_room_delete, run);
        snprintf(pat, sizeof pat, "%s/:agentId(uuid)/rooms/:channelId(uuid)/memories", *p);
        rc |= ag_add_route(st, EZ_GET, pat, "Invalid agent ID or channel ID format",
                           ag_h_room_memories, run);
    }
    return rc ? EZ_EINVAL : EZ_OK;
}
