/* The "messaging.v1" table (include/elizad/messaging.h): how the runtime, sessions and jobs
 * read channels and hand replies back without going through HTTP. */
#include "messaging_int.h"

#include <stdio.h>
#include <string.h>

static json_t *api_channel_get(void *self, const char *channel_id) {
    msg_state *st = self;
    return msg_valid_uuid_s(st, channel_id) ? msg_db_channel_get(st, channel_id) : NULL;
}

static json_t *api_channel_participants(void *self, const char *channel_id) {
    msg_state *st = self;
    return msg_valid_uuid_s(st, channel_id) ? msg_db_participants(st, channel_id) : json_array();
}

static json_t *api_channel_create(void *self, const json_t *spec) {
    msg_state *st = self;
    const char *id = msg_str(spec, "id");
    const char *name = msg_str_nonempty(spec, "name");
    const char *server = msg_str(spec, "messageServerId");
    const char *type = msg_str(spec, "type");
    const json_t *meta = json_object_get(spec, "metadata");
    const json_t *parts = json_object_get(spec, "participants");
    if (!server)
        server = EZ_DEFAULT_SERVER_ID;
    if (!type)
        type = "GROUP";
    if (!name || (id && !msg_valid_uuid_s(st, id)) || !msg_valid_uuid_s(st, server) ||
        !msg_is_channel_type(type) || (meta && !json_is_null(meta) && !json_is_object(meta)) ||
        (parts && !json_is_array(parts)))
        return NULL;
    size_t i;
    json_t *p;
    json_array_foreach(parts, i, p) {
        if (!msg_valid_uuid(st, p))
            return NULL;
    }
    if (!msg_db_server_exists(st, server))
        return NULL;
    /* The caller may already hold a transaction (begin then answers EZ_ESTATE): join it. */
    int tx = msg_db_tx_begin(st) == EZ_OK;
    json_t *ch = msg_db_channel_insert(st, id, server, name, type, msg_str(spec, "sourceType"),
                                       msg_str(spec, "sourceId"), msg_str(spec, "topic"),
                                       json_is_object(meta) ? meta : NULL, parts);
    if (tx && !msg_db_tx_end(st, ch != NULL)) {
        json_decref(ch);
        ch = NULL;
    }
    return ch;
}

static int api_message_id_reserve(void *self, char id_out[37]) {
    msg_id_reserve(self, id_out);
    return EZ_OK;
}

static json_t *api_message_post(void *self, const json_t *msg) {
    msg_state *st = self;
    const char *cid = msg_str(msg, "channelId");
    const char *author = msg_str(msg, "authorId");
    const char *content = msg_str(msg, "content");
    const char *source = msg_str(msg, "sourceType");
    const char *id = msg_str(msg, "id");
    const char *reply = msg_str(msg, "inReplyToRootMessageId");
    const json_t *meta = json_object_get(msg, "metadata");
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, author) || !content ||
        (id && !msg_valid_uuid_s(st, id)) || (reply && !msg_valid_uuid_s(st, reply)) ||
        !msg_content_ok(st, content) || (meta && !json_is_null(meta) && !json_is_object(meta)))
        return NULL;
    json_t *ch = msg_db_channel_read(st, cid);
    if (!ch)
        return NULL;
    char server[40];
    const char *sv = msg_str(msg, "messageServerId");
    snprintf(server, sizeof server, "%s",
             msg_valid_uuid_s(st, sv) ? sv : msg_str(ch, "messageServerId"));
    const char *author_name = msg_str(msg, "authorName");
    if (!author_name)
        author_name = msg_str(meta, "agentName");
    const json_t *raw = json_object_get(msg, "rawMessage");
    msg_in in = {
        .id = id,
        .channel_id = cid,
        .server_id = server,
        .author_id = author,
        .author_name = author_name,
        .content = content,
        .raw = json_is_null(raw) ? NULL : raw,
        .source_type = source ? source : "agent_response",
        .source_id = msg_str(msg, "sourceId"),
        .in_reply_to = reply,
        .metadata = json_is_object(meta) ? meta : NULL,
        .internal = 1,
    };
    msg_posted p;
    const char *err = NULL;
    int rc = msg_post(st, &in, ch, &p, &err);
    json_decref(ch);
    if (rc != EZ_OK) {
        st->api->log(st->self, EZ_WARN, "message_post to %s failed: %s", cid, err);
        return NULL;
    }
    msg_bcast_kind kind = MSG_BCAST_USER;
    if (strcmp(in.source_type, "agent_response") == 0)
        kind = MSG_BCAST_AGENT;
    else if (strcmp(in.source_type, "agent_action") == 0)
        kind = MSG_BCAST_ACTION;
    /* messageComplete is the runtime's to send: only it knows when a generation has ended.
     * Sessions and jobs store their users' messages without a socket echo (COMPAT §8, §9). */
    if (!json_is_false(json_object_get(msg, "broadcast")))
        msg_broadcast(st, kind, &p, server, author_name, NULL);
    json_t *root = json_incref(p.root);
    msg_posted_clear(&p);
    return root;
}

static json_t *api_messages_list(void *self, const char *channel_id, int limit, int64_t before_ms) {
    msg_state *st = self;
    json_t *out = json_array();
    if (!msg_valid_uuid_s(st, channel_id))
        return out;
    if (limit < 1)
        limit = 50;
    if (limit > st->max_page)
        limit = (int)st->max_page;
    json_t *texts = msg_db_message_items(st, channel_id, limit, before_ms > 0 ? before_ms : 0, 0);
    size_t i;
    json_t *t;
    json_array_foreach(texts, i, t) {
        json_t *m = json_loadb(json_string_value(t), json_string_length(t), 0, NULL);
        if (m)
            json_array_append_new(out, m);
    }
    json_decref(texts);
    return out;
}

static int api_reply_wait(void *self, ez_req *req, int sse, const char *user_msg_id,
                          const char *agent_id, json_t *body_new) {
    msg_state *st = self;
    if (!req || !msg_valid_uuid_s(st, user_msg_id) || !msg_valid_uuid_s(st, agent_id) ||
        !json_is_object(body_new)) {
        json_decref(body_new);
        return msg_fail(st, req, 500, "Failed to process message in HTTP transport");
    }
    return msg_waiter_start(st, req, sse, user_msg_id, agent_id, body_new);
}

void msg_api_fill(msg_state *st) {
    st->v1.size = sizeof st->v1;
    st->v1.self = st;
    st->v1.channel_get = api_channel_get;
    st->v1.channel_participants = api_channel_participants;
    st->v1.channel_create = api_channel_create;
    st->v1.message_post = api_message_post;
    st->v1.messages_list = api_messages_list;
    st->v1.reply_wait = api_reply_wait;
    st->v1.message_id_reserve = api_message_id_reserve;
}
