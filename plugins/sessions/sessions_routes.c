/* Session lifecycle routes (COMPAT §8.2): create, info, list, health, renew, heartbeat, timeout,
 * delete. Errors use the sessions envelope (style C) with the official codes. */
#include "sessions_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "/api/messaging/sessions"
#define ID_SHOWN 100 /* ids are not validated: bound what an error message repeats */

int ss_error(ss_state *st, ez_req *req, int status, const char *code, const char *message,
             const char *details) {
    st->api->respond_error(req, status, EZ_ERR_SESSIONS, code, message, details);
    return EZ_DONE;
}

static int validation(ss_state *st, ez_req *req, const char *message, const json_t *details) {
    char *d = details ? json_dumps(details, JSON_COMPACT) : NULL;
    ss_error(st, req, 400, "VALIDATION_ERROR", message, d);
    free(d);
    return EZ_DONE;
}

ss_session *ss_lookup(ss_state *st, ez_req *req) {
    const char *id = st->api->param(req, "sessionId");
    char msg[256];
    ss_session *s = id ? ss_find(st, id) : NULL;
    if (!s) {
        snprintf(msg, sizeof msg, "Session with ID '%.*s' not found", ID_SHOWN, id ? id : "");
        ss_error(st, req, 404, "SESSION_NOT_FOUND", msg, NULL);
        return NULL;
    }
    int64_t now = st->api->now_ms();
    if (now >= s->expires) {
        char iso[32];
        st->api->iso_time(s->expires, iso);
        snprintf(msg, sizeof msg, "Session '%s' expired at %s", s->id, iso);
        ss_expire(st, s, now);
        ss_error(st, req, 410, "SESSION_EXPIRED", msg, NULL);
        return NULL;
    }
    return s;
}

/* InvalidTimeoutConfigError: details {reason, providedConfig}. */
static int bad_timeout(ss_state *st, ez_req *req, const char *why, const json_t *config) {
    char msg[160];
    snprintf(msg, sizeof msg, "Invalid timeout configuration: %s", why);
    json_t *d = json_pack("{s:s,s:O?}", "reason", why, "providedConfig", (json_t *)config);
    validation(st, req, msg, d);
    json_decref(d);
    return EZ_DONE;
}

int ss_metadata_too_big(const json_t *meta) {
    if (!json_is_object(meta))
        return 0; /* the official check looks at objects only */
    char *t = json_dumps(meta, JSON_COMPACT);
    size_t n = t ? strlen(t) : 0;
    free(t);
    return n > SS_MAX_METADATA;
}

int ss_bad_metadata(ss_state *st, ez_req *req, const json_t *meta) {
    static const char why[] = "Metadata exceeds maximum size of 10240 bytes";
    json_t *d = json_pack("{s:s,s:O}", "reason", why, "providedMetadata", (json_t *)meta);
    validation(st, req, "Invalid metadata: Metadata exceeds maximum size of 10240 bytes", d);
    json_decref(d);
    return EZ_DONE;
}

static int bad_uuid(ss_state *st, ez_req *req, const char *field, const json_t *value) {
    char msg[96];
    snprintf(msg, sizeof msg, "Invalid UUID format for field '%s'", field);
    json_t *d = json_pack("{s:O,s:s}", "providedValue", value, "expectedFormat", "UUID v4");
    validation(st, req, msg, d);
    json_decref(d);
    return EZ_DONE;
}

/* Also merged into every user message of the session (COMPAT §8). */
json_t *ss_channel_metadata(const ss_session *s) {
    json_t *m = json_object();
    json_object_set_new(m, "sessionId", json_string(s->id));
    json_object_set_new(m, "agentId", json_string(s->agent_id));
    json_object_set_new(m, "userId", json_string(s->user_id));
    json_object_set_new(m, "timeoutConfig", ss_timeout_json(&s->cfg));
    json_object_update(m, s->metadata);
    return m;
}

static int h_create(ez_req *req, void *ud) {
    ss_state *st = ud;
    const json_t *b = st->api->body_json(req);
    const json_t *agent = json_object_get(b, "agentId"), *user = json_object_get(b, "userId");
    const json_t *meta = json_object_get(b, "metadata"), *tc = json_object_get(b, "timeoutConfig");
    const char *agent_id = json_string_value(agent), *user_id = json_string_value(user);
    if (!agent_id || !user_id) {
        json_t *d = json_pack("{s:[ss]}", "missingFields", "agentId", "userId");
        validation(st, req, "Missing required fields: agentId, userId", d);
        json_decref(d);
        return EZ_DONE;
    }
    if (!st->api->uuid_valid(agent_id))
        return bad_uuid(st, req, "agentId", agent);
    if (!st->api->uuid_valid(user_id))
        return bad_uuid(st, req, "userId", user);
    if (!st->agents->is_active(st->agents->self, agent_id)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Agent with ID '%s' not found", agent_id);
        return ss_error(st, req, 404, "AGENT_NOT_FOUND", msg, NULL);
    }
    if (ss_metadata_too_big(meta))
        return ss_bad_metadata(st, req, meta);
    ss_timeout cfg = ss_agent_timeout(st, agent_id);
    ss_timeout_merge(st, &cfg, tc, 0); /* creation takes any shape: NaN becomes the default */
    if (st->count >= st->lim.max_sessions)
        return ss_error(st, req, 500, "SESSION_CREATION_FAILED",
                        "Failed to create session: too many sessions", NULL);
    ss_session *s = calloc(1, sizeof *s);
    if (!s)
        return ss_error(st, req, 500, "SESSION_CREATION_FAILED",
                        "Failed to create session: out of memory", NULL);
    st->api->uuid_v4(s->id);
    snprintf(s->agent_id, sizeof s->agent_id, "%s", agent_id);
    snprintf(s->user_id, sizeof s->user_id, "%s", user_id);
    s->metadata = json_is_object(meta) ? json_deep_copy(meta) : json_object();
    s->cfg = cfg;
    s->channel_meta = ss_channel_metadata(s);
    char name[48];
    snprintf(name, sizeof name, "session-%s", s->id);
    json_t *spec =
        json_pack("{s:s,s:s,s:s,s:o,s:[s]}", "name", name, "messageServerId", EZ_DEFAULT_SERVER_ID,
                  "type", "DM", "metadata", json_incref(s->channel_meta), "participants", agent_id);
    json_t *ch = spec ? st->msg->channel_create(st->msg->self, spec) : NULL;
    json_decref(spec);
    const char *cid = json_string_value(json_object_get(ch, "id"));
    if (!cid || !s->metadata || !s->channel_meta) {
        json_decref(ch);
        json_decref(s->metadata);
        json_decref(s->channel_meta);
        free(s);
        return ss_error(st, req, 500, "SESSION_CREATION_FAILED",
                        "Failed to create session: Failed to create channel or add participants",
                        NULL);
    }
    snprintf(s->channel_id, sizeof s->channel_id, "%s", cid);
    json_decref(ch);
    int64_t now = st->api->now_ms();
    s->created = s->last_activity = now;
    s->expires = ss_expiry(s, now);
    ss_insert(st, s);
    /* the creation answer is SessionInfo without its live fields */
    json_t *o = ss_info(st, s, now);
    static const char *const live[] = {"lastActivity", "renewalCount", "timeRemaining",
                                       "isNearExpiration"};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        json_object_del(o, live[i]);
    return st->api->respond_json_new(req, 201, o), EZ_DONE;
}

static int h_get(ez_req *req, void *ud) {
    ss_state *st = ud;
    ss_session *s = ss_lookup(st, req);
    if (s)
        st->api->respond_json_new(req, 200, ss_info(st, s, st->api->now_ms()));
    return EZ_DONE;
}

static int h_list(ez_req *req, void *ud) {
    ss_state *st = ud;
    int64_t now = st->api->now_ms();
    json_t *list = json_array();
    for (const ss_session *s = st->head; s; s = s->next)
        if (now < s->expires)
            json_array_append_new(list, ss_info(st, s, now));
    size_t active = json_array_size(list);
    json_t *o =
        json_pack("{s:o,s:I,s:{s:I,s:I,s:I}}", "sessions", list, "total", (json_int_t)active,
                  "stats", "totalSessions", (json_int_t)st->count, "activeSessions",
                  (json_int_t)active, "expiredSessions", (json_int_t)(st->count - (int)active));
    return st->api->respond_json_new(req, 200, o), EZ_DONE;
}

static int h_health(ez_req *req, void *ud) {
    ss_state *st = ud;
    int64_t now = st->api->now_ms();
    int active = 0, soon = 0;
    for (const ss_session *s = st->head; s; s = s->next) {
        if (now < s->expires)
            active++;
        soon += ss_near_expiry(s, now);
    }
    json_t *o = json_pack("{s:s,s:i,s:o,s:i,s:f}", "status", "healthy", "activeSessions", active,
                          "timestamp", ss_iso(st, now), "expiringSoon", soon, "uptime",
                          (double)(now - st->started_ms) / 1000.0);
    return st->api->respond_json_new(req, 200, o), EZ_DONE;
}

static int h_renew(ez_req *req, void *ud) {
    ss_state *st = ud;
    ss_session *s = ss_lookup(st, req);
    if (!s)
        return EZ_DONE;
    int64_t now = st->api->now_ms();
    /* an explicit renewal extends from now whatever autoRenew says */
    int auto_renew = s->cfg.auto_renew;
    s->cfg.auto_renew = 1;
    int ok = ss_renew(st, s, now);
    s->cfg.auto_renew = auto_renew;
    if (!ok) {
        char msg[128];
        snprintf(msg, sizeof msg, "Cannot renew session '%s': Maximum duration reached", s->id);
        json_t *d = json_pack(
            "{s:o,s:o,s:I}", "maxDuration", ss_minutes_json(s->cfg.max_duration_min), "createdAt",
            ss_iso(st, s->created), "timeSinceCreation", (json_int_t)(now - s->created));
        char *dt = d ? json_dumps(d, JSON_COMPACT) : NULL;
        ss_error(st, req, 400, "SESSION_RENEWAL_FAILED", msg, dt);
        free(dt);
        json_decref(d);
        return EZ_DONE;
    }
    st->api->respond_json_new(req, 200, ss_info(st, s, now));
    return EZ_DONE;
}

static int h_heartbeat(ez_req *req, void *ud) {
    ss_state *st = ud;
    ss_session *s = ss_lookup(st, req);
    if (!s)
        return EZ_DONE;
    int64_t now = st->api->now_ms();
    s->last_activity = now;
    if (s->cfg.auto_renew)
        ss_renew(st, s, now);
    st->api->respond_json_new(req, 200, ss_info(st, s, now));
    return EZ_DONE;
}

static int h_timeout(ez_req *req, void *ud) {
    ss_state *st = ud;
    ss_session *s = ss_lookup(st, req);
    if (!s)
        return EZ_DONE;
    const json_t *b = st->api->body_json(req);
    /* merged onto the agent's defaults, not the session's current values (COMPAT §8.2) */
    ss_timeout cfg = ss_agent_timeout(st, s->agent_id);
    if (!json_is_object(b) || ss_timeout_merge(st, &cfg, b, 1) != 0)
        return bad_timeout(st, req, "Invalid timeout configuration format", b);
    double t;
    if (ss_num(json_object_get(b, "timeoutMinutes"), &t) > 0 &&
        (t < st->lim.min_timeout || t > st->lim.max_timeout)) {
        char why[96];
        snprintf(why, sizeof why, "Timeout must be between %g and %g minutes", st->lim.min_timeout,
                 st->lim.max_timeout);
        return bad_timeout(st, req, why, b);
    }
    int64_t now = st->api->now_ms();
    s->cfg = cfg;
    s->expires = ss_expiry(s, now);
    s->warned = 0;
    st->api->respond_json_new(req, 200, ss_info(st, s, now));
    return EZ_DONE;
}

static int h_delete(ez_req *req, void *ud) {
    ss_state *st = ud;
    /* no expiry check: an expired session not yet swept is deleted like a live one */
    const char *id = st->api->param(req, "sessionId");
    ss_session *s = id ? ss_find(st, id) : NULL;
    if (!s) {
        char msg[256];
        snprintf(msg, sizeof msg, "Session with ID '%.*s' not found", ID_SHOWN, id ? id : "");
        return ss_error(st, req, 404, "SESSION_NOT_FOUND", msg, NULL);
    }
    char msg[96];
    snprintf(msg, sizeof msg, "Session %s deleted successfully", s->id);
    ss_remove(st, s); /* the channel and its messages stay, as in the official server */
    st->api->respond_json_new(req, 200, json_pack("{s:b,s:s}", "success", 1, "message", msg));
    return EZ_DONE;
}

int ss_routes_register(ss_state *st) {
    static const ez_route_opts opts = {.err_style = EZ_ERR_SESSIONS};
    struct {
        unsigned method;
        const char *pattern;
        ez_route_fn fn;
    } const routes[] = {
        {EZ_GET, BASE "/health", h_health},
        {EZ_POST, BASE, h_create},
        {EZ_GET, BASE, h_list},
        {EZ_GET, BASE "/:sessionId", h_get},
        {EZ_DELETE, BASE "/:sessionId", h_delete},
        {EZ_POST, BASE "/:sessionId/messages", ss_h_send},
        {EZ_GET, BASE "/:sessionId/messages", ss_h_history},
        {EZ_POST, BASE "/:sessionId/renew", h_renew},
        {EZ_POST, BASE "/:sessionId/heartbeat", h_heartbeat},
        {EZ_PATCH, BASE "/:sessionId/timeout", h_timeout},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = st->api->route_ex(st->self, routes[i].method, routes[i].pattern, &opts,
                                   routes[i].fn, st, NULL);
        if (rc != EZ_OK) {
            EZ_LOG(st->api, st->self, EZ_ERR, "cannot register %s (%d)", routes[i].pattern, rc);
            return rc;
        }
    }
    return EZ_OK;
}
