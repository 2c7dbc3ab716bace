/* Rows -> wire objects (COMPAT §3.2-3.5, §14.5). Entity timestamps are ISO strings; bus and
 * socket payloads carry epoch ms; list items carry both. Optional fields that are SQL NULL are
 * left out, as the official server's `|| undefined` mapping does. */
#include "messaging_int.h"

#include <stdlib.h>
#include <string.h>

static void set_str_opt(json_t *o, const char *key, const char *v) {
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/* Shares a string column of a row (no copy, no second UTF-8 scan); absent when NULL. */
static void share_col(json_t *o, const char *key, const json_t *row, const char *col) {
    json_t *v = json_object_get(row, col);
    if (json_is_string(v))
        json_object_set(o, key, v);
}

json_t *msg_render_server(msg_state *st, const json_t *row) {
    json_t *o = json_object();
    share_col(o, "id", row, "id");
    share_col(o, "name", row, "name");
    share_col(o, "sourceType", row, "source_type");
    share_col(o, "sourceId", row, "source_id");
    json_t *meta = msg_json_col(row, "metadata");
    if (meta)
        json_object_set_new_nocheck(o, "metadata", meta);
    json_object_set_new_nocheck(o, "createdAt", msg_iso(st, msg_row_int(row, "created_at")));
    json_object_set_new_nocheck(o, "updatedAt", msg_iso(st, msg_row_int(row, "updated_at")));
    return o;
}

json_t *msg_render_channel(msg_state *st, const json_t *row) {
    json_t *o = json_object();
    share_col(o, "id", row, "id");
    share_col(o, "messageServerId", row, "server_id");
    share_col(o, "name", row, "name");
    share_col(o, "type", row, "type");
    share_col(o, "sourceType", row, "source_type");
    share_col(o, "sourceId", row, "source_id");
    share_col(o, "topic", row, "topic");
    json_t *meta = msg_json_col(row, "metadata");
    if (meta)
        json_object_set_new_nocheck(o, "metadata", meta);
    json_object_set_new_nocheck(o, "createdAt", msg_iso(st, msg_row_int(row, "created_at")));
    json_object_set_new_nocheck(o, "updatedAt", msg_iso(st, msg_row_int(row, "updated_at")));
    return o;
}

/* A stored attachment path becomes the URL the media routes serve (COMPAT §10); URLs are kept. */
static json_t *media_url(const char *url) {
    if (strncmp(url, "/media/", 7) == 0 || strstr(url, "://"))
        return json_string(url);
    static const char *const marks[] = {"/uploads/channels/", "/uploads/agents/", "/generated/"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        const char *at = strstr(url, marks[i]);
        if (at) {
            size_t n = strlen(at);
            char *buf = malloc(n + 7);
            if (!buf)
                return json_string(url);
            memcpy(buf, "/media", 6);
            memcpy(buf + 6, at, n + 1);
            json_t *out = json_string(buf);
            free(buf);
            return out;
        }
    }
    return json_string(url);
}

static json_t *attachments_view(const json_t *list) {
    if (!json_is_array(list))
        return json_deep_copy(list);
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
        json_t *c = json_deep_copy(a);
        const char *url = json_is_object(c) ? msg_str(c, "url") : NULL;
        if (url)
            json_object_set_new_nocheck(c, "url", media_url(url));
        json_array_append_new(out, c);
    }
    return out;
}

/* {...metadata, thought: raw.thought, actions: raw.actions, attachments: raw.attachments ??
 * metadata.attachments}: keys whose source is undefined disappear, as in JSON.stringify. */
static json_t *metadata_view(const json_t *meta, const json_t *raw) {
    json_t *o = json_is_object(meta) ? json_deep_copy(meta) : json_object();
    const json_t *r = json_is_object(raw) ? raw : NULL;
    const json_t *thought = r ? json_object_get(r, "thought") : NULL;
    const json_t *actions = r ? json_object_get(r, "actions") : NULL;
    const json_t *att = r ? json_object_get(r, "attachments") : NULL;
    if (!att || json_is_null(att))
        att = json_is_object(meta) ? json_object_get(meta, "attachments") : NULL;
    if (thought)
        json_object_set_new_nocheck(o, "thought", json_deep_copy(thought));
    else
        json_object_del(o, "thought");
    if (actions)
        json_object_set_new_nocheck(o, "actions", json_deep_copy(actions));
    else
        json_object_del(o, "actions");
    if (att)
        json_object_set_new_nocheck(o, "attachments", attachments_view(att));
    else
        json_object_del(o, "attachments");
    return o;
}

json_t *msg_render_message(msg_state *st, const json_t *row, int with_list) {
    json_t *o = json_object();
    json_t *raw = msg_json_col(row, "raw_message");
    json_t *meta = msg_json_col(row, "metadata");
    share_col(o, "id", row, "id");
    share_col(o, "channelId", row, "channel_id");
    share_col(o, "authorId", row, "author_id");
    share_col(o, "content", row, "content");
    if (raw)
        json_object_set_nocheck(o, "rawMessage", raw);
    share_col(o, "sourceType", row, "source_type");
    share_col(o, "sourceId", row, "source_id");
    if (with_list)
        json_object_set_new_nocheck(o, "metadata", metadata_view(meta, raw));
    else if (meta)
        json_object_set_nocheck(o, "metadata", meta);
    const char *reply = msg_row_str(row, "in_reply_to");
    if (reply)
        json_object_set_new_nocheck(o, "inReplyToRootMessageId", json_string(reply));
    else if (with_list)
        json_object_set_new_nocheck(o, "inReplyToRootMessageId", json_null());
    int64_t created = msg_row_int(row, "created_at"), updated = msg_row_int(row, "updated_at");
    json_object_set_new_nocheck(o, "createdAt", msg_iso(st, created));
    json_object_set_new_nocheck(o, "updatedAt", msg_iso(st, updated));
    if (with_list) {
        json_object_set_new_nocheck(o, "created_at", json_integer(created));
        json_object_set_new_nocheck(o, "updated_at", json_integer(updated));
    }
    json_decref(raw);
    json_decref(meta);
    return o;
}

/* Shares a member (no copy): a stored message's rendered views are never changed after they are
 * built, and bus messages are immutable (include/elizad/bus.h). */
static void copy_opt(json_t *dst, const char *dkey, const json_t *src, const char *skey) {
    json_t *v = json_is_object(src) ? json_object_get(src, skey) : NULL;
    if (v)
        json_object_set(dst, dkey, v);
}

json_t *msg_render_bus(const json_t *root, int64_t ts, const char *server_id,
                       const char *author_name) {
    json_t *o = json_object();
    copy_opt(o, "id", root, "id");
    copy_opt(o, "channel_id", root, "channelId");
    json_object_set_new_nocheck(o, "message_server_id",
                                server_id ? json_string(server_id) : json_null());
    copy_opt(o, "author_id", root, "authorId");
    set_str_opt(o, "author_display_name", author_name);
    copy_opt(o, "content", root, "content");
    copy_opt(o, "raw_message", root, "rawMessage");
    copy_opt(o, "source_id", root, "sourceId");
    copy_opt(o, "source_type", root, "sourceType");
    copy_opt(o, "in_reply_to_message_id", root, "inReplyToRootMessageId");
    json_object_set_new_nocheck(o, "created_at", json_integer(ts));
    copy_opt(o, "metadata", root, "metadata");
    return o;
}

json_t *msg_render_broadcast(msg_state *st, msg_bcast_kind kind, const json_t *root, int64_t ts,
                             const char *server_id, const char *sender_name) {
    const json_t *raw = json_object_get(root, "rawMessage");
    const json_t *meta = json_object_get(root, "metadata");
    const char *channel = msg_str(root, "channelId");
    if (!sender_name) {
        if (kind == MSG_BCAST_AGENT || kind == MSG_BCAST_ACTION) {
            sender_name = msg_str(meta, "agentName");
            if (!sender_name)
                sender_name = "Agent";
        } else {
            sender_name = msg_str(meta, "user_display_name");
            if (!sender_name)
                sender_name = "User";
        }
    }
    json_t *o = json_object();
    if (kind == MSG_BCAST_SOCKET)
        copy_opt(o, "id", root, "id");
    copy_opt(o, "senderId", root, "authorId");
    json_object_set_new_nocheck(o, "senderName", json_string(sender_name));
    copy_opt(o, "text", root, "content");
    /* the seed's documented client reads `${data.sender}: ${data.content.text}` */
    json_object_set_new_nocheck(o, "sender", json_string(sender_name));
    json_t *seed_content = json_object();
    copy_opt(seed_content, "text", root, "content");
    json_object_set_new_nocheck(o, "content", seed_content);
    json_object_set_new_nocheck(o, "channelId", json_string(channel));
    json_object_set_new_nocheck(o, "roomId", json_string(channel));
    if (kind == MSG_BCAST_AGENT)
        set_str_opt(o, "serverId", server_id);
    set_str_opt(o, "messageServerId", server_id);
    json_object_set_new_nocheck(o, "createdAt", json_integer(ts));
    copy_opt(o, "source", root, "sourceType");
    if (kind != MSG_BCAST_SOCKET)
        copy_opt(o, "id", root, "id");
    if (kind == MSG_BCAST_AGENT || kind == MSG_BCAST_ACTION) {
        copy_opt(o, "thought", raw, "thought");
        copy_opt(o, "actions", raw, "actions");
    }
    if (kind != MSG_BCAST_USER) {
        const json_t *att = json_is_object(raw) ? json_object_get(raw, "attachments") : NULL;
        if (!att || json_is_null(att))
            att = json_is_object(meta) ? json_object_get(meta, "attachments") : NULL;
        if (att && !json_is_null(att))
            json_object_set_new_nocheck(o, "attachments", attachments_view(att));
    }
    if (kind == MSG_BCAST_ACTION) {
        int64_t updated = ts;
        const char *u = msg_str(root, "updatedAt");
        if (u)
            st->api->parse_time(u, &updated);
        json_object_set_new_nocheck(o, "updatedAt", json_integer(updated));
        if (raw)
            json_object_set_new_nocheck(o, "rawMessage", json_deep_copy(raw));
    }
    return o;
}
