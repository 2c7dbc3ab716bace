/* Agent logs (COMPAT §3.9, §4): rows written by the runtime (directly, or as the log side of a
 * run event) and read at /api/agents/:agentId/logs and the seed's /api/logs/:agentId. */
#include "agents_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ag_log_insert(ag_state *st, const char *agent_id, const char *room_id, const char *entity_id,
                  const char *type, json_t *body_new, const char *run_id, const char *event) {
    char id[37];
    ag_time_uuid(st, id);
    json_t *p = json_array();
    /* ids: validated UUIDs (ASCII); the type may be built from a caller's text: checked */
    json_array_append_new(p, json_string_nocheck(id));
    json_array_append_new(p, json_string_nocheck(agent_id));
    json_array_append_new(p, json_string_nocheck(room_id ? room_id : agent_id));
    json_array_append_new(p, json_string_nocheck(entity_id ? entity_id : agent_id));
    json_array_append_new(p, json_string(type));
    json_array_append_new(p, body_new ? body_new : json_object()); /* bound as its JSON text */
    json_array_append_new(p, json_integer(st->api->now_ms()));
    json_array_append_new(p, json_integer(++st->log_seq));
    json_array_append_new(p, ag_str_or_null(run_id));
    json_array_append_new(p, ag_str_or_null(event));
    int rc = ag_write(st,
                      "INSERT INTO @logs (id, agent_id, room_id, entity_id, type, body, "
                      "created_at, seq, run_id, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      p);
    json_decref(p);
    return rc;
}

/* body.modelType contains one of the excluded strings (case-insensitive). */
static int ag_excluded_model(const char *body, const json_t *excl) {
    if (!body || !strstr(body, "\"modelType\""))
        return 0;
    json_t *b = json_loads(body, 0, NULL);
    const char *mt = json_string_value(json_object_get(b, "modelType"));
    int hit = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(excl, i, e) {
        if (mt && json_string_length(e) && strcasestr(mt, json_string_value(e)))
            hit = 1;
    }
    json_decref(b);
    return hit;
}

static int ag_h_logs(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *room = st->api->query(req, "roomId");
    const char *type = st->api->query(req, "type");
    if (room && *room && !st->api->uuid_valid(room))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid room ID format", NULL);
    if (type && strlen(type) > 128)
        return ag_err(st, req, 400, "BAD_REQUEST", "type is too long", NULL);
    int64_t count = 10, offset = 0;
    int has_count = 0, has = 0;
    /* the server reads `count`; the web UI sends `limit`, honoured when count is absent */
    if (ag_query_i64(st, req, "count", &count, &has_count) != 0 ||
        (!has_count && ag_query_i64(st, req, "limit", &count, &has) != 0) ||
        ag_query_i64(st, req, "offset", &offset, &has) != 0 || count < 1 || count > 1000 ||
        offset < 0)
        return ag_err(st, req, 400, "BAD_REQUEST",
                      "count must be 1..1000 and offset a non-negative integer", NULL);
    json_t *excl = st->api->query_all(req, "excludeTypes");
    if (json_array_size(excl) > AG_MAX_EXCLUDE) {
        json_decref(excl);
        return ag_err(st, req, 400, "BAD_REQUEST", "too many excludeTypes", NULL);
    }
    ag_buf sql = {0};
    ag_buf_puts(&sql, "SELECT id, created_at, entity_id, room_id, type, body FROM @logs WHERE "
                      "agent_id = ?");
    json_t *p = json_pack("[s]", a->id);
    if (room && *room) {
        ag_buf_puts(&sql, " AND room_id = ?");
        json_array_append_new(p, json_string(room));
    }
    if (type && *type) {
        ag_buf_puts(&sql, " AND type = ?");
        json_array_append_new(p, json_string(type));
    }
    size_t i;
    const json_t *e;
    json_array_foreach(excl, i, e) {
        ag_buf_puts(&sql, i ? ", ?" : " AND type NOT IN (?");
        json_array_append(p, (json_t *)e);
    }
    if (json_array_size(excl))
        ag_buf_puts(&sql, ")");
    ag_buf_puts(&sql, " ORDER BY seq DESC LIMIT ? OFFSET ?");
    json_array_append_new(p, json_integer(count));
    json_array_append_new(p, json_integer(offset));
    json_t *rows = sql.oom ? NULL : st->db->query(st->self, sql.p, p);
    ag_buf_free(&sql);
    json_decref(p);
    if (!rows) {
        json_decref(excl);
        return ag_err(st, req, 500, "LOG_ERROR", "Error retrieving agent logs", "storage failure");
    }
    ag_buf b = {0};
    ag_buf_puts(&b, "{\"success\":true,\"data\":[");
    int n = 0;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *body = ag_col_str(row, "body");
        if (json_array_size(excl) && ag_excluded_model(body, excl))
            continue;
        char iso[32];
        st->api->iso_time(ag_col_i64(row, "created_at"), iso);
        ag_buf_puts(&b, n++ ? ",{\"id\":" : "{\"id\":");
        ag_buf_put_jstr(&b, ag_col_str(row, "id"));
        ag_buf_puts(&b, ",\"createdAt\":\"");
        ag_buf_puts(&b, iso);
        ag_buf_puts(&b, "\",\"entityId\":");
        ag_buf_put_jstr(&b, ag_col_str(row, "entity_id"));
        ag_buf_puts(&b, ",\"roomId\":");
        ag_buf_put_jstr(&b, ag_col_str(row, "room_id"));
        ag_buf_puts(&b, ",\"type\":");
        ag_buf_put_jstr(&b, ag_col_str(row, "type"));
        ag_buf_puts(&b, ",\"body\":");
        ag_buf_puts(&b, body && *body ? body : "{}");
        ag_buf_puts(&b, "}");
    }
    ag_buf_puts(&b, "]}");
    json_decref(rows);
    json_decref(excl);
    int rc = b.oom
                 ? ag_err(st, req, 500, "LOG_ERROR", "Error retrieving agent logs", "out of memory")
                 : ag_ok_raw(st, req, 200, b.p, b.len);
    ag_buf_free(&b);
    return rc;
}

static int ag_h_log_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[ss]", a->id, st->api->param(req, "logId"));
    int64_t rc = st->db->exec(st->self, "DELETE FROM @logs WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    if (rc < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Failed to delete log", "storage failure");
    return st->api->respond_empty(req, 204);
}

static int ag_h_logs_clear(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *p = json_pack("[s]", a->id);
    int64_t rc = st->db->exec(st->self, "DELETE FROM @logs WHERE agent_id = ?", p);
    json_decref(p);
    if (rc < 0)
        return ag_err(st, req, 500, "DELETE_ERROR", "Failed to delete logs", "storage failure");
    return st->api->respond_empty(req, 204);
}

int ag_register_log_routes(ag_state *st) {
    const ag_route *any = &st->r_exists, *run = &st->r_running;
    const char *both = "Invalid agent or log ID format";
    int rc = 0;
    rc |= ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/logs", NULL, ag_h_logs, run);
    rc |=
        ag_add_route(st, EZ_DELETE, "/api/agents/:agentId(uuid)/logs", NULL, ag_h_logs_clear, run);
    rc |= ag_add_route(st, EZ_DELETE, "/api/agents/:agentId(uuid)/logs/:logId(uuid)", both,
                       ag_h_log_delete, run);
    rc |= ag_add_route(st, EZ_GET, "/api/logs/:agentId(uuid)", NULL, ag_h_logs, any);
    return rc ? EZ_EINVAL : EZ_OK;
}
