/* Agent runs (COMPAT §3.10, §4). The real server reconstructs runs from thousands of log rows
 * on every request; here a run is one row whose counters are updated as events arrive, and
 * its events are the log rows tagged with its id, so the list is one indexed query and the
 * detail two. Events are also visible in the agent logs under the real log types
 * (run_event, useModel:<type>, action, action_event, evaluator, embedding_event). */
#include "agents_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AG_RUN_COLS                                                                                \
    "id, status, started_at, ended_at, message_id, room_id, entity_id, source, metadata, "         \
    "error, actions, action_events, model_calls, errors, evaluators"

static const char *ag_str_member(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

#define AG_OPEN_RUNS_MAX 4096 /* runs never closed (a crashed caller) age out beyond this */

/* A run between open and close: what its events and its end need, so they never read a row
 * that may still wait in the storage thread's queue. */
typedef struct ag_open_run {
    struct ag_open_run *next;
    char agent_id[37], run_id[37];
    json_t *row; /* started_at, message_id, room_id, entity_id, source: like the store's row */
} ag_open_run;

static void ag_open_run_free(ag_open_run *r) {
    json_decref(r->row);
    free(r);
}

static void ag_runs_remember(ag_state *st, const char *agent_id, const char *run_id, json_t *row) {
    ag_open_run *r = calloc(1, sizeof *r);
    if (!r)
        return; /* events then read the row from the store */
    memcpy(r->agent_id, agent_id, 37);
    memcpy(r->run_id, run_id, 37);
    r->row = json_incref(row);
    r->next = st->open_runs;
    st->open_runs = r;
    if (++st->n_open_runs > AG_OPEN_RUNS_MAX) {
        ag_open_run **pp = &st->open_runs;
        while ((*pp)->next)
            pp = &(*pp)->next;
        ag_open_run_free(*pp);
        *pp = NULL;
        st->n_open_runs--;
    }
}

/* The open run's row (new reference) or NULL; unlink: forget it (its end). */
static json_t *ag_runs_find(ag_state *st, const char *agent_id, const char *run_id, int unlink) {
    for (ag_open_run **pp = &st->open_runs; *pp; pp = &(*pp)->next) {
        ag_open_run *r = *pp;
        if (strcmp(r->run_id, run_id) != 0 || strcmp(r->agent_id, agent_id) != 0)
            continue;
        json_t *row = json_incref(r->row);
        if (unlink) {
            *pp = r->next;
            ag_open_run_free(r);
            st->n_open_runs--;
        }
        return row;
    }
    return NULL;
}

void ag_runs_free(ag_state *st) {
    while (st->open_runs) {
        ag_open_run *r = st->open_runs;
        st->open_runs = r->next;
        ag_open_run_free(r);
    }
    st->n_open_runs = 0;
}

static json_t *ag_run_row(ag_state *st, const char *agent_id, const char *run_id) {
    json_t *p = json_pack("[ss]", agent_id, run_id);
    json_t *row = st->db->query_one(
        st->self, "SELECT " AG_RUN_COLS " FROM @runs WHERE agent_id = ? AND id = ?", p);
    json_decref(p);
    return row;
}

/* An open run from memory, else its stored row; closing: forget the open run. */
static json_t *ag_run_find(ag_state *st, const char *agent_id, const char *run_id, int closing) {
    json_t *open = ag_runs_find(st, agent_id, run_id, closing);
    return open ? open : ag_run_row(st, agent_id, run_id);
}

/* The run_event log body the real bootstrap plugin writes. */
static json_t *ag_run_log_body(const json_t *row, const char *run_id, const char *status) {
    json_t *b = json_pack("{ss ss}", "runId", run_id, "status", status);
    static const char *const keys[][2] = {{"message_id", "messageId"},
                                          {"room_id", "roomId"},
                                          {"entity_id", "entityId"},
                                          {"source", "source"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = ag_col_str(row, keys[i][0]);
        if (v)
            json_object_set_new(b, keys[i][1], json_string(v));
    }
    const json_t *started = json_object_get(row, "started_at");
    if (started) /* a value of its own: the body is written by the storage thread */
        json_object_set_new_nocheck(b, "startTime", json_deep_copy(started));
    return b;
}

int ag_run_open(ag_state *st, const char *agent_id, const json_t *info, char run_id_out[37]) {
    if (!ag_find(st, agent_id))
        return EZ_ENOENT;
    const char *mid = ag_str_member(info, "messageId"), *rid = ag_str_member(info, "roomId");
    const char *eid = ag_str_member(info, "entityId"), *src = ag_str_member(info, "source");
    const json_t *meta = json_object_get(info, "metadata");
    if ((mid && !st->api->uuid_valid(mid)) || (rid && !st->api->uuid_valid(rid)) ||
        (eid && !st->api->uuid_valid(eid)) || (meta && !json_is_object(meta)))
        return EZ_EINVAL;
    char id[37];
    ag_time_uuid(st, id);
    int64_t now = st->api->now_ms();
    char *mtext = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_t *p = json_array();
    json_array_append_new(p, json_string(id));
    json_array_append_new(p, json_string(agent_id));
    json_array_append_new(p, json_integer(now));
    json_array_append_new(p, ag_str_or_null(mid));
    json_array_append_new(p, ag_str_or_null(rid));
    json_array_append_new(p, ag_str_or_null(eid));
    json_array_append_new(p, ag_str_or_null(src));
    json_array_append_new(p, ag_str_or_null(mtext));
    free(mtext);
    /* no transaction of our own: queued writes commit together, and one would make them wait */
    int ok = ag_write(st,
                      "INSERT INTO @runs (id, agent_id, status, started_at, message_id, room_id, "
                      "entity_id, source, metadata, actions, action_events, model_calls, errors, "
                      "evaluators) VALUES (?, ?, 'started', ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
                      p) == EZ_OK;
    json_decref(p);
    if (ok) {
        json_t *row = json_pack("{sI}", "started_at", (json_int_t)now);
        if (mid)
            json_object_set_new_nocheck(row, "message_id", json_string(mid));
        if (rid)
            json_object_set_new_nocheck(row, "room_id", json_string(rid));
        if (eid)
            json_object_set_new_nocheck(row, "entity_id", json_string(eid));
        if (src)
            json_object_set_new_nocheck(row, "source", json_string(src));
        json_t *body = ag_run_log_body(row, id, "started");
        ok = ag_log_insert(st, agent_id, rid, eid, "run_event", body, id, "RUN_STARTED") == EZ_OK;
        if (ok)
            ag_runs_remember(st, agent_id, id, row);
        json_decref(row);
    }
    if (!ok)
        return EZ_EIO;
    if (run_id_out)
        memcpy(run_id_out, id, 37);
    return EZ_OK;
}

/* Event type -> (log type, counter update). */
static const char *ag_event_log_type(const char *type, const json_t *data, char *buf, size_t n) {
    if (strcmp(type, "MODEL_USED") == 0) {
        const char *mt = ag_str_member(data, "modelType");
        snprintf(buf, n, "useModel:%s", mt ? mt : "unknown");
        return buf;
    }
    if (strcmp(type, "ACTION_STARTED") == 0)
        return "action_event";
    if (strcmp(type, "ACTION_COMPLETED") == 0)
        return "action";
    if (strcmp(type, "EVALUATOR_COMPLETED") == 0)
        return "evaluator";
    if (strcmp(type, "EMBEDDING_EVENT") == 0)
        return "embedding_event";
    return NULL;
}

int ag_run_event(ag_state *st, const char *agent_id, const char *run_id, const char *type,
                 const json_t *data) {
    if (!type || (data && !json_is_object(data)))
        return EZ_EINVAL;
    char buf[160];
    const char *log_type = ag_event_log_type(type, data, buf, sizeof buf);
    if (!log_type || strlen(type) > 64)
        return EZ_EINVAL;
    json_t *row = ag_run_find(st, agent_id, run_id, 0);
    if (!row)
        return EZ_ENOENT;
    int actions = 0, action_events = 0, evaluators = 0, errors = 0;
    int64_t model_calls = 0;
    if (strcmp(type, "ACTION_COMPLETED") == 0) {
        actions = 1;
        errors = json_is_false(json_object_get(data, "success")) ||
                 json_is_false(json_object_get(json_object_get(data, "result"), "success"));
        const json_t *pc = json_object_get(data, "promptCount");
        if (json_is_integer(pc) && json_integer_value(pc) > 0)
            model_calls = json_integer_value(pc);
    } else if (strcmp(type, "ACTION_STARTED") == 0) {
        action_events = 1;
    } else if (strcmp(type, "MODEL_USED") == 0) {
        model_calls = 1;
    } else if (strcmp(type, "EVALUATOR_COMPLETED") == 0) {
        evaluators = 1;
    } else if (strcmp(type, "EMBEDDING_EVENT") == 0) {
        const char *s = ag_str_member(data, "status");
        errors = s && strcmp(s, "failed") == 0;
    }
    json_t *body = data ? json_deep_copy(data) : json_object();
    json_object_set_new_nocheck(body, "runId", json_string(run_id));
    int ok = ag_log_insert(st, agent_id, ag_col_str(row, "room_id"), ag_col_str(row, "entity_id"),
                           log_type, body, run_id, type) == EZ_OK;
    json_t *p = json_pack("[iiIiiss]", actions, action_events, (json_int_t)model_calls, errors,
                          evaluators, agent_id, run_id);
    ok = ok && ag_write(st,
                        "UPDATE @runs SET actions = actions + ?, action_events = action_events + "
                        "?, model_calls = model_calls + ?, errors = errors + ?, evaluators = "
                        "evaluators + ? WHERE agent_id = ? AND id = ?",
                        p) == EZ_OK;
    json_decref(p);
    json_decref(row);
    return ok ? EZ_OK : EZ_EIO;
}

int ag_run_close(ag_state *st, const char *agent_id, const char *run_id, const char *status,
                 const json_t *data) {
    if (!status || (strcmp(status, "completed") != 0 && strcmp(status, "error") != 0 &&
                    strcmp(status, "timeout") != 0))
        return EZ_EINVAL;
    json_t *row = ag_run_find(st, agent_id, run_id, 1);
    if (!row)
        return EZ_ENOENT;
    int64_t now = st->api->now_ms(), started = ag_col_i64(row, "started_at");
    const char *err = ag_str_member(data, "error");
    json_t *p = json_array();
    json_array_append_new(p, json_string(status));
    json_array_append_new(p, json_integer(now));
    json_array_append_new(p, ag_str_or_null(err));
    json_array_append_new(p, json_string(agent_id));
    json_array_append_new(p, json_string(run_id));
    int ok = ag_write(st,
                      "UPDATE @runs SET status = ?, ended_at = ?, error = ? WHERE agent_id = ? "
                      "AND id = ?",
                      p) == EZ_OK;
    json_decref(p);
    if (ok) {
        json_t *body = ag_run_log_body(row, run_id, status);
        json_object_set_new_nocheck(body, "endTime", json_integer(now));
        json_object_set_new_nocheck(body, "duration", json_integer(now - started));
        if (err)
            json_object_set_new_nocheck(body, "error", json_string(err));
        ok = ag_log_insert(st, agent_id, ag_col_str(row, "room_id"), ag_col_str(row, "entity_id"),
                           "run_event", body, run_id, "RUN_ENDED") == EZ_OK;
    }
    json_decref(row);
    return ok ? EZ_OK : EZ_EIO;
}

static json_t *ag_counts(const json_t *row) {
    int64_t actions = ag_col_i64(row, "action_events");
    if (!actions)
        actions = ag_col_i64(row, "actions");
    return json_pack("{sIsIsIsI}", "actions", (json_int_t)actions, "modelCalls",
                     (json_int_t)ag_col_i64(row, "model_calls"), "errors",
                     (json_int_t)ag_col_i64(row, "errors"), "evaluators",
                     (json_int_t)ag_col_i64(row, "evaluators"));
}

static json_t *ag_run_summary(const json_t *row, int list) {
    json_t *o = json_object();
    const json_t *ended = json_object_get(row, "ended_at");
    json_object_set_nocheck(o, "runId", json_object_get(row, "id"));
    json_object_set_nocheck(o, "status", json_object_get(row, "status"));
    json_object_set_nocheck(o, "startedAt", json_object_get(row, "started_at"));
    if (json_is_integer(ended)) {
        json_object_set_nocheck(o, "endedAt", (json_t *)ended);
        json_object_set_new(
            o, "durationMs",
            json_integer(json_integer_value(ended) - ag_col_i64(row, "started_at")));
    } else if (list) {
        json_object_set_new_nocheck(o, "endedAt", json_null());
        json_object_set_new_nocheck(o, "durationMs", json_null());
    }
    static const char *const keys[][2] = {
        {"message_id", "messageId"}, {"room_id", "roomId"}, {"entity_id", "entityId"}};
    for (size_t i = 0; i < 3; i++) {
        const char *v = ag_col_str(row, keys[i][0]);
        if (v)
            json_object_set_new(o, keys[i][1], json_string(v));
    }
    if (list)
        json_object_set_new_nocheck(o, "metadata", ag_col_json(row, "metadata", json_object()));
    json_object_set_new_nocheck(o, "counts", ag_counts(row));
    return o;
}

static int ag_h_runs(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *room = st->api->query(req, "roomId");
    const char *status = st->api->query(req, "status");
    if (room && *room && !st->api->uuid_valid(room))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid room ID format", NULL);
    int64_t limit = 20, from = 0, to = 0;
    int has_from = 0, has_to = 0, has = 0;
    if (ag_query_i64(st, req, "limit", &limit, &has) != 0 || limit < 1)
        limit = 20; /* Number(limit) || 20 */
    if (limit > 100)
        limit = 100;
    if (ag_query_time(st, req, "from", &from, &has_from) != 0 ||
        ag_query_time(st, req, "to", &to, &has_to) != 0)
        return ag_err(st, req, 400, "BAD_REQUEST", "from and to must be epoch milliseconds", NULL);
    /* statuses outside the known set are ignored, as the real server does */
    if (status && strcmp(status, "started") != 0 && strcmp(status, "completed") != 0 &&
        strcmp(status, "timeout") != 0 && strcmp(status, "error") != 0)
        status = NULL;

    ag_buf where = {0};
    ag_buf_puts(&where, " FROM @runs WHERE agent_id = ?");
    json_t *p = json_pack("[s]", a->id);
    if (room && *room) {
        ag_buf_puts(&where, " AND room_id = ?");
        json_array_append_new(p, json_string(room));
    }
    if (status) {
        ag_buf_puts(&where, " AND status = ?");
        json_array_append_new(p, json_string(status));
    }
    if (has_from) {
        ag_buf_puts(&where, " AND started_at >= ?");
        json_array_append_new(p, json_integer(from));
    }
    if (has_to) {
        ag_buf_puts(&where, " AND started_at <= ?");
        json_array_append_new(p, json_integer(to));
    }
    ag_buf q1 = {0}, q2 = {0};
    ag_buf_puts(&q1, "SELECT COUNT(*) AS n");
    ag_buf_put(&q1, where.p ? where.p : "", where.len);
    ag_buf_puts(&q2, "SELECT " AG_RUN_COLS);
    ag_buf_put(&q2, where.p ? where.p : "", where.len);
    ag_buf_puts(&q2, " ORDER BY started_at DESC LIMIT ?");
    ag_buf_free(&where);
    json_t *total = q1.oom ? NULL : st->db->query_one(st->self, q1.p, p);
    json_array_append_new(p, json_integer(limit));
    json_t *rows = q2.oom ? NULL : st->db->query(st->self, q2.p, p);
    ag_buf_free(&q1);
    ag_buf_free(&q2);
    json_decref(p);
    if (!total || !rows) {
        json_decref(total);
        json_decref(rows);
        return ag_err(st, req, 500, "RUNS_ERROR", "Error retrieving agent runs", "storage failure");
    }
    int64_t n = ag_col_i64(total, "n");
    json_decref(total);
    json_t *runs = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(runs, ag_run_summary(row, 1));
    json_decref(rows);
    return ag_ok(st, req, 200,
                 json_pack("{sosIsb}", "runs", runs, "total", (json_int_t)n, "hasMore", n > limit));
}

/* Event data as the real detail endpoint shapes it from the log body. */
static json_t *ag_event_data(const char *event, json_t *body) {
    if (strcmp(event, "RUN_STARTED") == 0) {
        json_t *d = json_object();
        json_object_set_nocheck(d, "source", json_object_get(body, "source"));
        json_object_set_nocheck(d, "messageId", json_object_get(body, "messageId"));
        return d;
    }
    if (strcmp(event, "RUN_ENDED") == 0) {
        json_t *d = json_object();
        json_object_set_nocheck(d, "status", json_object_get(body, "status"));
        if (json_object_get(body, "error"))
            json_object_set_nocheck(d, "error", json_object_get(body, "error"));
        json_object_set_nocheck(d, "durationMs", json_object_get(body, "duration"));
        return d;
    }
    json_t *d = json_deep_copy(body);
    json_object_del(d, "runId");
    return d;
}

static int ag_h_run(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const char *run_id = st->api->param(req, "runId");
    const char *room = st->api->query(req, "roomId");
    if (room && *room && !st->api->uuid_valid(room))
        return ag_err(st, req, 400, "INVALID_ID", "Invalid room ID format", NULL);
    json_t *row = ag_run_row(st, a->id, run_id);
    const char *run_room = ag_col_str(row, "room_id");
    if (row && room && *room && (!run_room || strcasecmp(run_room, room) != 0)) {
        json_decref(row); /* filtered out by ?roomId=, as the real log scan would be */
        row = NULL;
    }
    if (!row) {
        /* observed on the real server: an unknown run is an empty "started" run */
        json_t *summary = json_pack(
            "{ss ss ss so}", "runId", run_id, "status", "started", "entityId", a->id, "counts",
            json_pack("{sisisisi}", "actions", 0, "modelCalls", 0, "errors", 0, "evaluators", 0));
        return ag_ok(st, req, 200, json_pack("{soso}", "summary", summary, "events", json_array()));
    }
    json_t *p = json_pack("[ss]", a->id, run_id);
    json_t *logs = st->db->query(st->self,
                                 "SELECT created_at, event, body FROM @logs WHERE agent_id = ? "
                                 "AND run_id = ? AND event IS NOT NULL ORDER BY seq LIMIT 5000",
                                 p);
    json_decref(p);
    if (!logs) {
        json_decref(row);
        return ag_err(st, req, 500, "RUN_DETAIL_ERROR", "Error retrieving run details",
                      "storage failure");
    }
    json_t *events = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(logs, i, l) {
        const char *ev = ag_col_str(l, "event");
        json_t *body = ag_col_json(l, "body", json_object());
        json_array_append_new(events, json_pack("{sssIso}", "type", ev, "timestamp",
                                                (json_int_t)ag_col_i64(l, "created_at"), "data",
                                                ag_event_data(ev, body)));
        json_decref(body);
    }
    json_decref(logs);
    json_t *summary = ag_run_summary(row, 0);
    json_decref(row);
    return ag_ok(st, req, 200, json_pack("{soso}", "summary", summary, "events", events));
}

int ag_register_run_routes(ag_state *st) {
    const ag_route *any = &st->r_exists, *run = &st->r_running;
    const char *both = "Invalid agent or run ID format";
    int rc = 0;
    rc |= ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/runs", NULL, ag_h_runs, run);
    rc |= ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/runs/:runId(uuid)", both, ag_h_run,
                       run);
    rc |= ag_add_route(st, EZ_GET, "/api/runs/:agentId(uuid)", NULL, ag_h_runs, any);
    rc |= ag_add_route(st, EZ_GET, "/api/runs/:agentId(uuid)/:runId(uuid)", both, ag_h_run, any);
    return rc ? EZ_EINVAL : EZ_OK;
}
