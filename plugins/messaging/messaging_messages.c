/* Channel messages (COMPAT §7.3): list with before/after cursors, post (websocket / http / sse
 * transports), delete one, clear all. Aliases under /central-channels. */
#include "messaging_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char ERR_POST_FIELDS[] =
    "Missing required fields: channelId, message_server_id, author_id, content";
static const char ERR_HTTP_TRANSPORT[] = "Failed to process message in HTTP transport";

/* The list answer is assembled from the stored item texts without re-parsing them. */
static int h_list(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    int64_t limit = msg_limit(st, st->api->query(req, "limit"), 50);
    int64_t before = 0, after = 0;
    /* Unparseable cursors are ignored, as parseInt's NaN is by the official server. */
    if (msg_parse_time(st, st->api->query(req, "before"), &before) != 0 || before < 0)
        before = 0;
    if (msg_parse_time(st, st->api->query(req, "after"), &after) != 0 || after < 0)
        after = 0;
    const msg_page *hit = msg_cache_get(st, cid, limit, before, after);
    if (hit) {
        st->api->respond_raw(req, 200, "application/json; charset=utf-8", hit->body, hit->len);
        return EZ_DONE;
    }
    json_t *items = msg_db_message_items(st, cid, limit, before, after);
    if (!items)
        return msg_fail(st, req, 500, "Failed to fetch messages");
    static const char head[] = "{\"success\":true,\"data\":{\"messages\":[";
    static const char tail[] = "]}}";
    size_t n = json_array_size(items), total = sizeof head + sizeof tail + n;
    for (size_t i = 0; i < n; i++)
        total += json_string_length(json_array_get(items, i));
    char *buf = malloc(total);
    if (!buf) {
        json_decref(items);
        return msg_fail(st, req, 500, "Failed to fetch messages");
    }
    size_t len = sizeof head - 1;
    memcpy(buf, head, len);
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(items, i);
        if (i)
            buf[len++] = ',';
        memcpy(buf + len, json_string_value(s), json_string_length(s));
        len += json_string_length(s);
    }
    memcpy(buf + len, tail, sizeof tail - 1);
    len += sizeof tail - 1;
    json_decref(items);
    if (!EZ_STORE_HAS(st->db, later_pending) || !st->db->later_pending(st->self))
        msg_cache_put(st, cid, limit, before, after, buf, len); /* else it may miss a message */
    st->api->respond_raw(req, 200, "application/json; charset=utf-8", buf, len);
    free(buf);
    return EZ_DONE;
}

typedef enum { T_WEBSOCKET, T_HTTP, T_SSE } transport_t;

/* Returns 0 and sets *t, or -1 after answering 400. */
static int read_transport(msg_state *st, ez_req *req, const json_t *b, transport_t *t) {
    const json_t *v = json_object_get(b, "transport");
    if (!v || json_is_null(v))
        v = json_object_get(b, "mode");
    *t = T_WEBSOCKET;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (s && (strcmp(s, "websocket") == 0))
        return 0;
    if (s && (strcmp(s, "http") == 0 || strcmp(s, "sync") == 0)) {
        *t = T_HTTP;
        return 0;
    }
    if (s && (strcmp(s, "sse") == 0 || strcmp(s, "stream") == 0)) {
        *t = T_SSE;
        return 0;
    }
    char *shown = s ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    char msg[200];
    snprintf(msg, sizeof msg,
             "Invalid transport \"%.60s\". Must be one of: http, sse, websocket, sync, stream",
             s ? s : (shown ? shown : "?"));
    free(shown);
    msg_fail(st, req, 400, msg);
    return -1;
}

/* First participant that is not the author, else metadata.targetAgentId (COMPAT §7.3). */
static const char *target_agent(const json_t *parts, const char *author, const json_t *meta) {
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p) {
        const char *id = json_string_value(p);
        if (id && strcasecmp(id, author) != 0)
            return id;
    }
    return msg_str_nonempty(meta, "targetAgentId");
}

static int reply_without_runtime(msg_state *st, ez_req *req, transport_t t, json_t *user_msg) {
    if (t == T_SSE) {
        st->api->set_header(req, "Cache-Control", "no-cache");
        st->api->stream_start(req, 200, "text/event-stream");
        char *u = json_dumps(user_msg, JSON_COMPACT);
        static const char err[] =
            "event: error\ndata: {\"error\":\"Agent runtime not available\"}\n\n";
        if (u) {
            static const char pre[] = "event: user_message\ndata: ";
            st->api->stream_write(req, pre, sizeof pre - 1);
            st->api->stream_write(req, u, strlen(u));
            st->api->stream_write(req, "\n\n", 2);
            free(u);
        }
        st->api->stream_write(req, err, sizeof err - 1);
        st->api->stream_end(req);
        json_decref(user_msg);
        return EZ_DONE;
    }
    json_decref(user_msg);
    return msg_fail_d(st, req, 500, ERR_HTTP_TRANSPORT, "Agent runtime not available");
}

static int h_post(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    const json_t *b = msg_body(st, req);
    transport_t transport;
    if (read_transport(st, req, b, &transport) != 0)
        return EZ_DONE;

    const char *author = msg_str(b, "author_id");
    if (!author)
        author = msg_str(b, "authorId");
    const char *server = msg_str(b, "message_server_id");
    if (!server)
        server = msg_str(b, "server_id");
    if (!server)
        server = msg_str(b, "messageServerId");
    /* @elizaos/api-client's postMessage sends only {content, metadata}: when the body names no
     * author at all, the caller's X-Entity-Id (sent by the web UI on every call) is the author
     * and the channel's own server is implied. A real-style body keeps the strict check. */
    int implied = !json_object_get(b, "author_id") && !json_object_get(b, "authorId");
    if (implied)
        author = st->api->header(req, "X-Entity-Id");
    const char *content = msg_str_nonempty(b, "content");
    json_t *channel = msg_valid_uuid_s(st, cid) ? msg_db_channel_get(st, cid) : NULL;
    if (implied && !server && msg_valid_uuid_s(st, author))
        server = channel ? msg_str(channel, "messageServerId") : EZ_DEFAULT_SERVER_ID;
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, author) || !content ||
        !msg_valid_uuid_s(st, server)) {
        json_decref(channel);
        return msg_fail(st, req, 400, ERR_POST_FIELDS);
    }
    const json_t *meta = json_object_get(b, "metadata");
    const json_t *reply = json_object_get(b, "in_reply_to_message_id");
    const json_t *src = json_object_get(b, "source_type");
    const json_t *raw = json_object_get(b, "raw_message");
    const char *err = NULL;
    if (!msg_content_ok(st, content))
        err = "Content exceeds the maximum length";
    else if (meta && !json_is_null(meta) && !json_is_object(meta))
        err = "Invalid metadata: must be an object";
    else if (reply && !json_is_null(reply) && !msg_valid_uuid(st, reply))
        err = "Invalid in_reply_to_message_id format";
    else if (src && !json_is_null(src) && !json_is_string(src))
        err = "Invalid source_type: must be a string";
    if (err) {
        json_decref(channel);
        return msg_fail(st, req, 400, err);
    }
    if (!json_is_object(meta))
        meta = NULL;
    char server_buf[40]; /* server may point into channel, which is released below */
    snprintf(server_buf, sizeof server_buf, "%s", server);
    server = server_buf;

    int tx = 0;
    if (!channel) {
        if (!msg_db_server_exists(st, server)) {
            char m[96];
            snprintf(m, sizeof m, "Server %s does not exist", server);
            return msg_fail(st, req, 404, m);
        }
        tx = msg_db_tx_begin(st) == EZ_OK;
        const char *extra = msg_str(meta, "targetUserId");
        if (!extra)
            extra = msg_str(meta, "recipientId");
        channel = msg_autocreate_channel(st, cid, server, author, meta, extra, "gui_auto_creation");
        if (!channel) {
            if (tx)
                msg_db_tx_end(st, 0);
            return msg_fail(st, req, 500, "Failed to create channel");
        }
    }
    msg_in in = {
        .channel_id = cid,
        .server_id = server,
        .author_id = author,
        .author_name = msg_str(meta, "user_display_name"),
        .content = content,
        .raw = json_is_null(raw) ? NULL : raw,
        .source_type = json_is_string(src) ? json_string_value(src) : "eliza_gui",
        .in_reply_to = json_is_string(reply) ? json_string_value(reply) : NULL,
        .metadata = meta,
    };
    msg_posted posted;
    int rc = msg_store(st, &in, &posted, &err);
    if (tx && !msg_db_tx_end(st, rc == EZ_OK) && rc == EZ_OK) {
        msg_posted_clear(&posted);
        rc = 500;
        err = "Failed to store message";
    }
    json_t *parts = rc == EZ_OK ? msg_db_participants(st, cid) : NULL;
    if (rc == EZ_OK)
        msg_announce(st, &posted, channel, parts);
    json_decref(channel);
    if (rc != EZ_OK)
        return msg_fail(st, req, rc, err);

    const char *target = target_agent(parts, author, meta);
    char agent[64] = "";
    if (target)
        snprintf(agent, sizeof agent, "%s", target);
    json_decref(parts);
    if (!agent[0]) {
        msg_posted_clear(&posted);
        return msg_fail(st, req, 400, "No agent found in channel participants");
    }
    if (transport == T_WEBSOCKET) {
        msg_broadcast(st, MSG_BCAST_USER, &posted, server, NULL, NULL);
        json_t *body = json_object();
        json_object_set_new_nocheck(body, "success", json_true());
        json_object_set_nocheck(body, "userMessage", posted.bus);
        json_object_set_nocheck(body, "data", posted.root);
        msg_posted_clear(&posted);
        st->api->respond_json_new(req, 201, body);
        return EZ_DONE;
    }
    const ez_agents_v1 *agents = st->api->import_api(st->self, EZ_AGENTS_V1);
    json_t *user_msg = json_incref(posted.bus);
    char user_id[37];
    snprintf(user_id, sizeof user_id, "%s", msg_str(posted.root, "id"));
    msg_posted_clear(&posted);
    if (!agents || !agents->is_active || !msg_valid_uuid_s(st, agent) ||
        !agents->is_active(agents->self, agent))
        return reply_without_runtime(st, req, transport, user_msg);
    json_t *body = json_pack("{s:b,s:o}", "success", 1, "userMessage", user_msg);
    return msg_waiter_start(st, req, transport == T_SSE, user_id, agent, body);
}

static int h_delete_one(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    const char *mid = st->api->param(req, "messageId");
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, mid))
        return msg_fail(st, req, 400, "Invalid channelId or messageId format");
    if (msg_db_message_delete(st, cid, mid) < 0)
        return msg_fail(st, req, 500, "Failed to delete message");
    msg_publish(st, "messaging.message.deleted",
                json_pack("{s:s, s:s}", "messageId", mid, "channelId", cid));
    msg_emit(st, cid, NULL, "messageDeleted",
             json_pack("{s:s, s:s}", "messageId", mid, "channelId", cid));
    st->api->respond_empty(req, 204);
    return EZ_DONE;
}

static int h_clear(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    if (msg_db_messages_clear(st, cid) < 0)
        return msg_fail(st, req, 500, "Failed to clear messages");
    msg_publish(st, "messaging.channel.cleared", json_pack("{s:s}", "channelId", cid));
    msg_emit(st, cid, NULL, "channelCleared", json_pack("{s:s}", "channelId", cid));
    st->api->respond_empty(req, 204);
    return EZ_DONE;
}

int msg_messages_register(msg_state *st) {
    int rc = 0;
    rc |= msg_route(st, EZ_GET, MSG_BASE "/channels/:channelId/messages", h_list);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/central-channels/:channelId/messages", h_list);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/channels/:channelId/messages", h_post);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/central-channels/:channelId/messages", h_post);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/channels/:channelId/messages", h_clear);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/central-channels/:channelId/messages", h_clear);
    rc |=
        msg_route(st, EZ_DELETE, MSG_BASE "/channels/:channelId/messages/:messageId", h_delete_one);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/central-channels/:channelId/messages/:messageId",
                    h_delete_one);
    return rc ? EZ_EINVAL : EZ_OK;
}
