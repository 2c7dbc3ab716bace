/* Messaging core (COMPAT §6): submit (agent replies), action + PATCH action, ingest-external
 * (+ the seed's ingest and external), complete. Real snake_case bodies are checked as the
 * official server checks them; the camelCase shapes @elizaos/api-client sends are accepted too. */
#include "messaging_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INGEST_BATCH 100

static const char ERR_SUBMIT[] = "Missing required fields: channel_id, message_server_id, "
                                 "author_id, content, source_type, raw_message";
static const char ERR_INGEST[] = "Invalid external message payload";

/* JS truthiness of a JSON value (raw_message must be truthy). */
static int truthy(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_real(v))
        return json_real_value(v) != 0.0;
    return 1;
}

typedef struct submit_args {
    const char *channel, *server, *author, *content, *source_type, *msg_id, *reply;
    const json_t *raw, *meta;
    json_t *owned_raw; /* {text} made for camelCase bodies without a rawMessage */
} submit_args;

/* Reads either body shape into a; 0 or a static error message for a 400. */
static const char *read_submit(msg_state *st, const json_t *b, const char *default_source,
                               submit_args *a) {
    memset(a, 0, sizeof *a);
    if (!b)
        return ERR_SUBMIT;
    const json_t *mid, *reply;
    if (json_object_get(b, "channel_id")) {
        a->channel = msg_str(b, "channel_id");
        a->server = msg_str(b, "message_server_id");
        if (!a->server)
            a->server = msg_str(b, "server_id");
        a->author = msg_str(b, "author_id");
        a->content = msg_str_nonempty(b, "content");
        a->source_type = msg_str_nonempty(b, "source_type");
        a->raw = json_object_get(b, "raw_message");
        if (!msg_valid_uuid_s(st, a->channel) || !msg_valid_uuid_s(st, a->server) ||
            !msg_valid_uuid_s(st, a->author) || !a->content || !a->source_type || !truthy(a->raw))
            return ERR_SUBMIT;
        mid = json_object_get(b, "messageId");
        reply = json_object_get(b, "in_reply_to_message_id");
    } else {
        /* api-client MessageSubmitParams: {agentId, channelId, content, inReplyToMessageId?,
         * metadata?} (messageServerId, sourceType, rawMessage, messageId also read). */
        a->channel = msg_str(b, "channelId");
        a->server = msg_str(b, "messageServerId");
        a->author = msg_str(b, "agentId");
        if (!a->author)
            a->author = msg_str(b, "authorId");
        a->content = msg_str_nonempty(b, "content");
        a->source_type = msg_str_nonempty(b, "sourceType");
        if (!a->source_type)
            a->source_type = default_source;
        a->raw = json_object_get(b, "rawMessage");
        if (!msg_valid_uuid_s(st, a->channel) || !msg_valid_uuid_s(st, a->author) || !a->content ||
            (a->server && !msg_valid_uuid_s(st, a->server)))
            return ERR_SUBMIT;
        if (!truthy(a->raw)) {
            a->owned_raw = json_pack("{s:s}", "text", a->content);
            a->raw = a->owned_raw;
        }
        mid = json_object_get(b, "messageId");
        reply = json_object_get(b, "inReplyToMessageId");
        if (!reply)
            reply = json_object_get(b, "in_reply_to_message_id");
    }
    if (mid && !json_is_null(mid)) {
        if (!msg_valid_uuid(st, mid))
            return "Invalid messageId format";
        a->msg_id = json_string_value(mid);
    }
    if (reply && !json_is_null(reply)) {
        if (!msg_valid_uuid(st, reply))
            return "Invalid in_reply_to_message_id format";
        a->reply = json_string_value(reply);
    }
    a->meta = json_object_get(b, "metadata");
    if (a->meta && !json_is_null(a->meta) && !json_is_object(a->meta))
        return "Invalid metadata: must be an object";
    if (!json_is_object(a->meta))
        a->meta = NULL;
    if (!msg_content_ok(st, a->content))
        return "Content exceeds the maximum length";
    if (strlen(a->source_type) > 255)
        return ERR_SUBMIT;
    return NULL;
}

static int store_agent_message(ez_req *req, msg_state *st, msg_bcast_kind kind,
                               const char *default_source, const char *fail_msg) {
    submit_args a;
    const char *err = read_submit(st, msg_body(st, req), default_source, &a);
    if (err) {
        json_decref(a.owned_raw);
        return msg_fail(st, req, 400, err);
    }
    json_t *channel = msg_db_channel_get(st, a.channel);
    if (!channel) {
        json_decref(a.owned_raw);
        return msg_fail(st, req, 404, "Channel not found");
    }
    char server[40];
    snprintf(server, sizeof server, "%s",
             a.server ? a.server : msg_str(channel, "messageServerId"));
    msg_in in = {
        .id = a.msg_id,
        .channel_id = a.channel,
        .server_id = server,
        .author_id = a.author,
        .author_name = msg_str(a.meta, "agentName"),
        .content = a.content,
        .raw = a.raw,
        .source_type = a.source_type,
        .in_reply_to = a.reply,
        .metadata = a.meta,
    };
    msg_posted p;
    int rc = msg_post(st, &in, channel, &p, &err);
    json_decref(channel);
    json_decref(a.owned_raw);
    if (rc != EZ_OK)
        return msg_fail(st, req, rc, rc == 409 ? err : fail_msg);
    msg_broadcast(st, kind, &p, server, NULL, NULL);
    json_t *root = json_incref(p.root);
    msg_posted_clear(&p);
    return msg_ok(st, req, 201, root);
}

static int h_submit(ez_req *req, void *ud) {
    return store_agent_message(req, ud, MSG_BCAST_AGENT, "agent_response",
                               "Failed to submit agent message");
}

static int h_action(ez_req *req, void *ud) {
    return store_agent_message(req, ud, MSG_BCAST_ACTION, "agent_action",
                               "Failed to create action");
}

/* Replaces the given fields of an action message (unspecified ones keep their values). */
static int h_action_patch(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *id = st->api->param(req, "id");
    if (!msg_valid_uuid_s(st, id))
        return msg_fail(st, req, 400, "Invalid message id");
    const json_t *b = msg_body(st, req);
    const json_t *content = json_object_get(b, "content");
    const json_t *raw = json_object_get(b, "raw_message");
    const json_t *src = json_object_get(b, "source_type");
    const json_t *reply = json_object_get(b, "in_reply_to_message_id");
    const json_t *meta = json_object_get(b, "metadata");
    const json_t *author = json_object_get(b, "author_id");
    const json_t *server = json_object_get(b, "server_message_id");
    if (content && (!json_is_string(content) || !msg_content_ok(st, json_string_value(content))))
        return msg_fail(st, req, 400, "Invalid content");
    if (src && !json_is_string(src))
        return msg_fail(st, req, 400, "Invalid source_type");
    if (reply && !json_is_null(reply) && !msg_valid_uuid(st, reply))
        return msg_fail(st, req, 400, "Invalid in_reply_to_message_id format");
    if (meta && !json_is_null(meta) && !json_is_object(meta))
        return msg_fail(st, req, 400, "Invalid metadata: must be an object");
    if (author && !msg_valid_uuid(st, author))
        return msg_fail(st, req, 400, "Invalid author_id format");
    if (server && !msg_valid_uuid(st, server))
        return msg_fail(st, req, 400, "Invalid server_message_id format");
    json_t *row = msg_db_message_row(st, id);
    if (!row)
        return msg_fail(st, req, 404, "Message not found");
    if (content)
        json_object_set_new_nocheck(row, "content", json_deep_copy(content));
    if (raw) {
        char *t = json_is_null(raw) ? NULL : json_dumps(raw, JSON_COMPACT | JSON_ENCODE_ANY);
        json_object_set_new_nocheck(row, "raw_message", t ? json_string(t) : json_null());
        free(t);
    }
    if (src)
        json_object_set_new_nocheck(row, "source_type", json_deep_copy(src));
    if (reply)
        json_object_set_new_nocheck(row, "in_reply_to", json_deep_copy(reply));
    if (meta) {
        char *t = json_is_null(meta) ? NULL : json_dumps(meta, JSON_COMPACT);
        json_object_set_new_nocheck(row, "metadata", t ? json_string(t) : json_null());
        free(t);
    }
    if (author)
        json_object_set_new_nocheck(row, "author_id", json_deep_copy(author));
    if (server)
        json_object_set_new_nocheck(row, "server_id", json_deep_copy(server));
    int64_t now = st->api->now_ms(), created = msg_row_int(row, "created_at");
    json_object_set_new_nocheck(row, "updated_at", json_integer(now > created ? now : created));
    if (msg_db_message_rewrite(st, row) != EZ_OK) {
        json_decref(row);
        return msg_fail(st, req, 500, "Failed to update action");
    }
    msg_posted p = {.root = msg_render_message(st, row, 0), .ts = created};
    char sid[40];
    snprintf(sid, sizeof sid, "%s",
             msg_row_str(row, "server_id") ? msg_row_str(row, "server_id") : "");
    json_decref(row);
    msg_broadcast(st, MSG_BCAST_ACTION, &p, sid[0] ? sid : NULL, NULL, NULL);
    return msg_ok(st, req, 200, p.root);
}

/* ---- ingest ---- */

static int ingest_one_real(ez_req *req, msg_state *st, const json_t *b) {
    const char *channel = msg_str_nonempty(b, "channel_id");
    const char *server = msg_str_nonempty(b, "message_server_id");
    if (!server)
        server = msg_str_nonempty(b, "server_id");
    const char *author = msg_str_nonempty(b, "author_id");
    const char *content = msg_str_nonempty(b, "content");
    const json_t *reply = json_object_get(b, "in_reply_to_message_id");
    const json_t *meta = json_object_get(b, "metadata");
    const json_t *name = json_object_get(b, "author_display_name");
    const json_t *src = json_object_get(b, "source_type");
    const json_t *srcid = json_object_get(b, "source_id");
    if (!msg_valid_uuid_s(st, channel) || !msg_valid_uuid_s(st, server) ||
        !msg_valid_uuid_s(st, author) || !content || !msg_content_ok(st, content) ||
        (reply && !json_is_null(reply) && !msg_valid_uuid(st, reply)) ||
        (meta && !json_is_null(meta) && !json_is_object(meta)) ||
        (name && !json_is_null(name) && !json_is_string(name)) ||
        (src && !json_is_null(src) && !json_is_string(src)) ||
        (srcid && !json_is_null(srcid) && !json_is_string(srcid)))
        return msg_fail(st, req, 400, ERR_INGEST);
    if (!json_is_object(meta))
        meta = NULL;
    json_t *ch = msg_db_channel_get(st, channel);
    int tx = 0;
    if (!ch) {
        if (!msg_db_server_exists(st, server)) {
            char m[96];
            snprintf(m, sizeof m, "Server %.40s does not exist", server);
            return msg_fail(st, req, 404, m);
        }
        tx = msg_db_tx_begin(st) == EZ_OK;
        ch = msg_autocreate_channel(st, channel, server, author, meta, NULL, "ingest_external");
        if (!ch) {
            if (tx)
                msg_db_tx_end(st, 0);
            return msg_fail(st, req, 500, "Failed to ingest message");
        }
    }
    const json_t *raw = json_object_get(b, "raw_message");
    msg_in in = {
        .channel_id = channel,
        .server_id = server,
        .author_id = author,
        .author_name = json_string_value(name),
        .content = content,
        .raw = json_is_null(raw) ? NULL : raw,
        .source_type = json_string_value(src),
        .source_id = json_string_value(srcid),
        .in_reply_to = json_string_value(reply),
        .metadata = meta,
    };
    msg_posted p;
    const char *err = NULL;
    int rc = msg_store(st, &in, &p, &err);
    if (tx && !msg_db_tx_end(st, rc == EZ_OK) && rc == EZ_OK) {
        msg_posted_clear(&p);
        rc = 500;
    }
    if (rc != EZ_OK) {
        json_decref(ch);
        return msg_fail(st, req, rc, rc == 409 ? err : "Failed to ingest message");
    }
    msg_announce(st, &p, ch, NULL);
    json_decref(ch);
    msg_broadcast(st, MSG_BCAST_USER, &p, server, json_string_value(name), NULL);
    json_t *body = json_pack("{s:b, s:s, s:{s:O}}", "success", 1, "message",
                             "Message ingested and published to bus", "data", "messageId",
                             json_object_get(p.root, "id"));
    msg_posted_clear(&p);
    st->api->respond_json_new(req, 202, body);
    return EZ_DONE;
}

/* api-client ExternalMessageParams: {platform, channelId, messages: [{id, authorId, content,
 * timestamp, metadata?}]}. All or nothing: every message is checked, then all are stored in
 * one transaction and announced after the commit. */
static int ingest_batch(ez_req *req, msg_state *st, const json_t *b) {
    const char *channel = msg_str(b, "channelId");
    const char *platform = msg_str_nonempty(b, "platform");
    const json_t *msgs = json_object_get(b, "messages");
    const char *server = msg_str(b, "messageServerId");
    if (!msg_valid_uuid_s(st, channel) || !json_is_array(msgs) || json_array_size(msgs) == 0 ||
        json_array_size(msgs) > MAX_INGEST_BATCH || (server && !msg_valid_uuid_s(st, server)) ||
        (platform && strlen(platform) > 255))
        return msg_fail(st, req, 400, ERR_INGEST);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *content = msg_str_nonempty(m, "content");
        const json_t *meta = json_object_get(m, "metadata");
        const json_t *xid = json_object_get(m, "id");
        if (!json_is_object(m) || !msg_valid_uuid_s(st, msg_str(m, "authorId")) || !content ||
            !msg_content_ok(st, content) ||
            (meta && !json_is_null(meta) && !json_is_object(meta)) ||
            (xid && !json_is_null(xid) && !json_is_string(xid) && !json_is_integer(xid)))
            return msg_fail(st, req, 400, ERR_INGEST);
    }
    json_t *ch = msg_db_channel_get(st, channel);
    char server_buf[40];
    snprintf(server_buf, sizeof server_buf, "%s",
             server ? server
             : ch   ? msg_str(ch, "messageServerId")
                    : EZ_DEFAULT_SERVER_ID);
    if (!ch && !msg_db_server_exists(st, server_buf)) {
        char e[96];
        snprintf(e, sizeof e, "Server %.40s does not exist", server_buf);
        return msg_fail(st, req, 404, e);
    }
    size_t n = json_array_size(msgs);
    msg_posted *posted = calloc(n, sizeof *posted);
    if (!posted) {
        json_decref(ch);
        return msg_fail(st, req, 500, "Failed to ingest message");
    }
    int ok = msg_db_tx_begin(st) == EZ_OK;
    if (ok && !ch)
        ch = msg_autocreate_channel(st, channel, server_buf,
                                    msg_str(json_array_get(msgs, 0), "authorId"), NULL, NULL,
                                    "ingest_external");
    ok = ok && ch;
    for (i = 0; ok && i < n; i++) {
        m = json_array_get(msgs, i);
        const json_t *xid = json_object_get(m, "id");
        char idtxt[64] = "";
        if (json_is_string(xid))
            snprintf(idtxt, sizeof idtxt, "%s", json_string_value(xid));
        else if (json_is_integer(xid))
            snprintf(idtxt, sizeof idtxt, "%lld", (long long)json_integer_value(xid));
        const json_t *meta = json_object_get(m, "metadata");
        msg_in in = {
            .channel_id = channel,
            .server_id = server_buf,
            .author_id = msg_str(m, "authorId"),
            .content = msg_str(m, "content"),
            .raw = m,
            .source_type = platform ? platform : "external",
            .source_id = idtxt[0] ? idtxt : NULL,
            .metadata = json_is_object(meta) ? meta : NULL,
        };
        const char *err = NULL;
        ok = msg_store(st, &in, &posted[i], &err) == EZ_OK;
    }
    ok = msg_db_tx_end(st, ok);
    json_t *ids = json_array();
    for (i = 0; i < n; i++) {
        if (ok && posted[i].root) {
            msg_announce(st, &posted[i], ch, NULL);
            msg_broadcast(st, MSG_BCAST_USER, &posted[i], server_buf, NULL, NULL);
            json_array_append(ids, json_object_get(posted[i].root, "id"));
        }
        msg_posted_clear(&posted[i]);
    }
    free(posted);
    json_decref(ch);
    if (!ok) {
        json_decref(ids);
        return msg_fail(st, req, 500, "Failed to ingest message");
    }
    json_t *body = json_pack("{s:b, s:s, s:{s:O, s:o, s:I}}", "success", 1, "message",
                             "Message ingested and published to bus", "data", "messageId",
                             json_array_get(ids, 0), "messageIds", ids, "processed", (json_int_t)n);
    st->api->respond_json_new(req, 202, body);
    return EZ_DONE;
}

static int h_ingest(ez_req *req, void *ud) {
    msg_state *st = ud;
    const json_t *b = msg_body(st, req);
    if (!b)
        return msg_fail(st, req, 400, ERR_INGEST);
    if (json_object_get(b, "messages") && !json_object_get(b, "channel_id"))
        return ingest_batch(req, st, b);
    return ingest_one_real(req, st, b);
}

/* Not in 1.7.2 (404 there): the agent side reports a message handled; the UI re-enables its
 * input on messageComplete (COMPAT §6, §18 #2). */
static int h_complete(ez_req *req, void *ud) {
    msg_state *st = ud;
    const json_t *b = msg_body(st, req);
    const json_t *cv = json_object_get(b, "channel_id");
    if (!cv)
        cv = json_object_get(b, "channelId");
    const json_t *mv = json_object_get(b, "messageId");
    if (cv && !msg_valid_uuid(st, cv))
        return msg_fail(st, req, 400, "Invalid channel_id format");
    if (mv && !msg_valid_uuid(st, mv))
        return msg_fail(st, req, 400, "Invalid messageId format");
    if (!cv && !mv)
        return msg_fail(st, req, 400, "Missing required fields: channel_id or messageId");
    char channel[40] = "";
    if (cv) {
        snprintf(channel, sizeof channel, "%s", json_string_value(cv));
    } else {
        json_t *row = msg_db_message_row(st, json_string_value(mv));
        if (row && msg_row_str(row, "channel_id"))
            snprintf(channel, sizeof channel, "%s", msg_row_str(row, "channel_id"));
        json_decref(row);
    }
    if (channel[0])
        msg_emit(st, channel, NULL, "messageComplete",
                 json_pack("{s:s, s:s}", "channelId", channel, "roomId", channel));
    st->api->respond_json_new(req, 200, json_pack("{s:b}", "success", 1));
    return EZ_DONE;
}

int msg_core_register(msg_state *st) {
    int rc = 0;
    rc |= msg_route(st, EZ_POST, MSG_BASE "/submit", h_submit);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/action", h_action);
    rc |= msg_route(st, EZ_PATCH, MSG_BASE "/action/:id", h_action_patch);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/ingest-external", h_ingest);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/ingest", h_ingest);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/external", h_ingest);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/complete", h_complete);
    return rc ? EZ_EINVAL : EZ_OK;
}
