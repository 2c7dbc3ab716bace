/* A session's messages (COMPAT §8.2): send (websocket / http / sse transports) and history.
 * The user's message is stored through messaging without a socket echo; the agent's reply is
 * stored and broadcast by the runtime, and messaging answers http/sse requests with it. */
#include "sessions_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_WEBSOCKET, T_HTTP, T_SSE } transport_t;

/* InvalidContentError: details {reason}. */
static int invalid(ss_state *st, ez_req *req, const char *why) {
    char msg[192];
    snprintf(msg, sizeof msg, "Invalid content: %s", why);
    json_t *d = json_pack("{s:s}", "reason", why);
    char *dt = d ? json_dumps(d, JSON_COMPACT) : NULL;
    ss_error(st, req, 400, "VALIDATION_ERROR", msg, dt);
    free(dt);
    json_decref(d);
    return EZ_DONE;
}

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* -1 after answering 400. */
static int read_transport(ss_state *st, ez_req *req, const json_t *b, transport_t *t) {
    const json_t *v = json_object_get(b, "transport");
    if (!v)
        v = json_object_get(b, "mode");
    *t = T_WEBSOCKET;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    if (!s) { /* the official text names the JavaScript type */
        char why[96];
        snprintf(why, sizeof why, "Invalid transport type \"%s\". Transport must be a string.",
                 json_is_number(v)    ? "number"
                 : json_is_boolean(v) ? "boolean"
                                      : "object");
        invalid(st, req, why);
        return -1;
    }
    if (strcmp(s, "websocket") == 0)
        return 0;
    if (strcmp(s, "http") == 0 || strcmp(s, "sync") == 0) {
        *t = T_HTTP;
        return 0;
    }
    if (strcmp(s, "sse") == 0 || strcmp(s, "stream") == 0) {
        *t = T_SSE;
        return 0;
    }
    char why[128];
    snprintf(why, sizeof why,
             "Invalid transport \"%.40s\". Must be one of: http, sse, websocket, sync, stream", s);
    invalid(st, req, why);
    return -1;
}

/* The snake_case userMessage of the answer, from the stored CentralRootMessage. New. */
static json_t *user_message(ss_state *st, const json_t *root) {
    int64_t created = 0;
    const char *c = json_string_value(json_object_get(root, "createdAt"));
    if (!c || st->api->parse_time(c, &created) != EZ_OK)
        created = st->api->now_ms();
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(root, "id"));
    json_object_set(o, "channel_id", json_object_get(root, "channelId"));
    json_object_set_new(o, "message_server_id", json_string(EZ_DEFAULT_SERVER_ID));
    json_object_set(o, "author_id", json_object_get(root, "authorId"));
    json_object_set(o, "content", json_object_get(root, "content"));
    json_object_set_new(o, "created_at", json_integer(created));
    json_object_set_new(o, "source_type", json_string("user"));
    json_object_set(o, "raw_message", json_object_get(root, "rawMessage"));
    json_object_set(o, "metadata", json_object_get(root, "metadata"));
    return o;
}

int ss_h_send(ez_req *req, void *ud) {
    ss_state *st = ud;
    /* the official order: request shape first, then the session, then the content */
    const json_t *b = st->api->body_json(req);
    transport_t transport;
    if (read_transport(st, req, b, &transport) != 0)
        return EZ_DONE;
    const json_t *cv = json_object_get(b, "content");
    const json_t *att = json_object_get(b, "attachments"), *meta = json_object_get(b, "metadata");
    if (!json_is_string(cv))
        return invalid(st, req, "Invalid message request format");
    ss_session *s = ss_lookup(st, req);
    if (!s)
        return EZ_DONE;
    const char *content = json_string_value(cv);
    if (!*content)
        return invalid(st, req, "Content cannot be empty");
    if (utf8_chars(content) > SS_MAX_CONTENT)
        return invalid(st, req, "Content exceeds maximum length of 4000 characters");
    if (ss_metadata_too_big(meta))
        return ss_bad_metadata(st, req, meta);
    int64_t now = st->api->now_ms();
    s->last_activity = now;
    int renewed = s->cfg.auto_renew && ss_renew(st, s, now);
    json_t *raw = json_pack("{s:O}", "content", cv);
    if (att && !json_is_null(att)) /* stored as given, as the official server does */
        json_object_set_new(raw, "attachments", json_deep_copy(att));
    json_t *m = json_deep_copy(s->channel_meta);
    json_object_set_new(m, "sessionId", json_string(s->id));
    if (json_is_object(meta))
        json_object_update(m, (json_t *)meta); /* reads meta only; jansson lacks const here */
    json_t *spec =
        json_pack("{s:s,s:s,s:s,s:O,s:o,s:s,s:o,s:b}", "channelId", s->channel_id,
                  "messageServerId", EZ_DEFAULT_SERVER_ID, "authorId", s->user_id, "content", cv,
                  "rawMessage", raw, "sourceType", "user", "metadata", m, "broadcast", 0);
    json_t *root = spec ? st->msg->message_post(st->msg->self, spec) : NULL;
    json_decref(spec);
    const char *mid = json_string_value(json_object_get(root, "id"));
    if (!mid) {
        json_decref(root);
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Failed to send message in session '%s': Failed to create message in database",
                 s->id);
        return ss_error(st, req, 500, "MESSAGE_SEND_FAILED", msg, NULL);
    }
    json_t *body = json_object();
    json_object_set_new(body, "success", json_true());
    json_object_set_new(body, "userMessage", user_message(st, root));
    json_object_set_new(body, "sessionStatus",
                        json_pack("{s:o,s:i,s:b,s:b}", "expiresAt", ss_iso(st, s->expires),
                                  "renewalCount", s->renewals, "wasRenewed", renewed,
                                  "isNearExpiration", ss_near_expiry(s, now)));
    char user_msg_id[37];
    snprintf(user_msg_id, sizeof user_msg_id, "%s", mid);
    json_decref(root);
    if (transport == T_WEBSOCKET)
        return st->api->respond_json_new(req, 201, body), EZ_DONE;
    /* messaging parks the request until the runtime's reply is stored (its reply_timeout_ms) */
    return st->msg->reply_wait(st->msg->self, req, transport == T_SSE, user_msg_id, s->agent_id,
                               body);
}

/* ---- history ---- */

/* -1 (after answering 400) for a value that is not a timestamp; 0 when absent. */
static int read_cursor(ss_state *st, ez_req *req, const char *name, int64_t *out) {
    const char *v = st->api->query(req, name);
    *out = 0;
    if (!v || !*v)
        return 0;
    if (st->api->parse_time(v, out) != EZ_OK || *out < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "Invalid pagination parameter '%s': Must be a valid timestamp",
                 name);
        ss_error(st, req, 400, "VALIDATION_ERROR", msg, NULL);
        return -1;
    }
    return 1;
}

static int64_t item_ms(const json_t *item) {
    const json_t *v = json_object_get(item, "created_at");
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* The session view of a list item (COMPAT §8.2). New. */
static json_t *session_item(const json_t *item) {
    const char *src = json_string_value(json_object_get(item, "sourceType"));
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(item, "id"));
    json_object_set(o, "content", json_object_get(item, "content"));
    json_object_set(o, "authorId", json_object_get(item, "authorId"));
    json_object_set_new(o, "isAgent", json_boolean(src && strcmp(src, "agent_response") == 0));
    json_object_set(o, "createdAt", json_object_get(item, "createdAt"));
    const json_t *meta = json_object_get(item, "metadata");
    json_object_set_new(o, "metadata", json_is_object(meta) ? json_deep_copy(meta) : json_object());
    return o;
}

int ss_h_history(ez_req *req, void *ud) {
    ss_state *st = ud;
    ss_session *s = ss_lookup(st, req);
    if (!s)
        return EZ_DONE;
    /* safeParseInt(limit, 50, 1, 100): absent or NaN is 50, anything else is clamped */
    const char *lv = st->api->query(req, "limit");
    char *end = NULL;
    long limit = lv && *lv ? strtol(lv, &end, 10) : 50;
    if (lv && *lv && end == lv)
        limit = 50;
    limit = limit < 1 ? 1 : limit > 100 ? 100 : limit;
    int64_t before, after;
    int has_before = read_cursor(st, req, "before", &before);
    if (has_before < 0)
        return EZ_DONE;
    int has_after = read_cursor(st, req, "after", &after);
    if (has_after < 0)
        return EZ_DONE;
    long fetch = has_after ? (has_before ? 10 * limit : 20 * limit) : limit;
    if (fetch > (has_before ? 500 : 1000))
        fetch = has_before ? 500 : 1000;
    json_t *items =
        st->msg->messages_list(st->msg->self, s->channel_id, (int)fetch, has_before ? before : 0);
    json_t *kept = json_array();
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) {
        if (!has_after || item_ms(it) > after)
            json_array_append(kept, (json_t *)it);
    }
    json_decref(items);
    /* newest first; with `after` alone the page is the `limit` oldest of those newer than it */
    size_t n = json_array_size(kept), from = 0;
    if ((size_t)limit < n && has_after && !has_before)
        from = n - (size_t)limit;
    size_t to = (size_t)limit < n - from ? from + (size_t)limit : n;
    json_t *out = json_array();
    for (i = from; i < to; i++)
        json_array_append_new(out, session_item(json_array_get(kept, i)));
    json_t *body = json_object();
    json_object_set_new(body, "messages", out);
    json_object_set_new(body, "hasMore", json_boolean(to - from == (size_t)limit));
    if (to > from) {
        json_object_set_new(body, "cursors",
                            json_pack("{s:I,s:I}", "before",
                                      (json_int_t)item_ms(json_array_get(kept, to - 1)), "after",
                                      (json_int_t)item_ms(json_array_get(kept, from))));
    }
    json_decref(kept);
    return st->api->respond_json_new(req, 200, body), EZ_DONE;
}
