/* Socket.IO side of messaging (COMPAT §14): the handshake guard on "/", the real protocol
 * (`message` {type, payload} and the numeric event names "1"/"2") and the seed's events
 * (`join`, `leave`, `request-world-state`, a plain `message`). */
#include "messaging_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROOM_LEN 128
#define WORLD_STATE_MESSAGES 50

static const char ERR_SEND[] = "For SEND_MESSAGE: channelId, messageServerId (message_server_id), "
                               "senderId (author_id), and message are required.";
static const char ERR_JOIN[] = "channelId is required for joining.";

/* COMPAT §14.2, with one allowance for the seed: a client that authenticates with auth.token
 * alone (no entityId) is let in. An entityId that is present must be a uuid. */
static const char *guard(const char *nsp, const json_t *auth, const json_t *headers, void *ud) {
    msg_state *st = ud;
    const json_t *e = json_object_get(auth, "entityId");
    if (e && !json_is_null(e))
        return msg_valid_uuid(st, e) ? NULL : "Valid entityId required";
    const json_t *tok = json_object_get(auth, "token");
    if (json_is_string(tok) && json_string_length(tok) > 0)
        return NULL;
    return "Valid entityId required";
}

static void release(msg_state *st, ez_ack *ack, json_t *answer_new) {
    if (ack && st->api->sock->ack_new) {
        st->api->sock->ack_new(ack, answer_new ? json_pack("[o]", answer_new) : NULL);
        return;
    }
    json_decref(answer_new);
}

/* messageError to the socket (and `error` for the seed's events); answers a pending ack. */
static void sock_error(msg_state *st, const char *sid, int seed, ez_ack *ack, const char *why) {
    msg_emit(st, sid, NULL, "messageError", json_pack("{s:s}", "error", why));
    if (seed)
        msg_emit(st, sid, NULL, "error", json_pack("{s:s}", "error", why));
    release(st, ack, ack ? json_pack("{s:b, s:s}", "success", 0, "error", why) : NULL);
}

static const char *room_of(const json_t *payload) {
    const char *cid = msg_str_nonempty(payload, "channelId");
    return cid ? cid : msg_str_nonempty(payload, "roomId");
}

static void handle_join(msg_state *st, ez_socket *s, const json_t *payload, int seed, ez_ack *ack) {
    const char *sid = st->api->sock->sid(s);
    const char *cid = room_of(payload);
    if (!cid || strlen(cid) > MAX_ROOM_LEN) {
        sock_error(st, sid, seed, ack, ERR_JOIN);
        return;
    }
    if (st->api->sock->join(st->self, MSG_NSP, sid, cid) != EZ_OK) {
        sock_error(st, sid, seed, ack, "Failed to join channel");
        return;
    }
    char text[256];
    snprintf(text, sizeof text, "Socket %s successfully joined channel %s.", sid, cid);
    json_t *out = json_pack("{s:s, s:s, s:s}", "message", text, "channelId", cid, "roomId", cid);
    const char *agent = msg_str(payload, "agentId");
    if (agent && strlen(agent) <= MAX_ROOM_LEN)
        json_object_set_new_nocheck(out, "agentId", json_string(agent));
    msg_emit(st, sid, NULL, "channel_joined", json_deep_copy(out));
    msg_emit(st, sid, NULL, "room_joined", json_deep_copy(out));
    release(st, ack, out);
}

static void handle_leave(msg_state *st, ez_socket *s, const json_t *payload, ez_ack *ack) {
    const char *sid = st->api->sock->sid(s);
    const char *cid = room_of(payload);
    if (!cid || strlen(cid) > MAX_ROOM_LEN) {
        sock_error(st, sid, 1, ack, "channelId is required for leaving.");
        return;
    }
    if (st->api->sock->leave)
        st->api->sock->leave(st->self, MSG_NSP, sid, cid);
    char text[256];
    snprintf(text, sizeof text, "Socket %s left channel %s.", sid, cid);
    json_t *out = json_pack("{s:s, s:s, s:s}", "message", text, "channelId", cid, "roomId", cid);
    msg_emit(st, sid, NULL, "channel_left", json_deep_copy(out));
    msg_emit(st, sid, NULL, "room_left", json_deep_copy(out));
    release(st, ack, out);
}

/* The text of a message payload: `message` (real), or the seed's `text` / `content`. */
static const char *payload_text(const json_t *p, int seed) {
    const char *t = msg_str(p, "message");
    if (t || !seed)
        return t;
    t = msg_str(p, "text");
    if (t)
        return t;
    const json_t *c = json_object_get(p, "content");
    return json_is_string(c) ? json_string_value(c) : msg_str(c, "text");
}

static const char *dm_target(const json_t *payload, const json_t *meta) {
    const char *t = msg_str(meta, "targetUserId");
    if (!t)
        t = msg_str(meta, "recipientId");
    return t ? t : msg_str(payload, "targetUserId");
}

static void handle_send(msg_state *st, ez_socket *s, const json_t *payload, int seed, ez_ack *ack) {
    const char *sid = st->api->sock->sid(s);
    const char *cid = room_of(payload);
    const char *sender = msg_str(payload, "senderId");
    char derived[37];
    if (!sender && seed) {
        sender = msg_str(payload, "entityId");
        if (!sender && st->api->sock->auth)
            sender = msg_str(st->api->sock->auth(s), "entityId");
        if (!sender) {
            /* token-only client: the identity `authenticated` announced for this socket */
            st->api->uuid_from_string(sid, derived);
            sender = derived;
        }
    }
    const char *text = payload_text(payload, seed);
    const char *server = msg_str(payload, "messageServerId");
    json_t *ch = msg_valid_uuid_s(st, cid) ? msg_db_channel_read(st, cid) : NULL;
    char server_buf[40] = "";
    if (!server && seed)
        server = ch ? msg_str(ch, "messageServerId") : EZ_DEFAULT_SERVER_ID;
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, sender) || !text || !*text ||
        !msg_valid_uuid_s(st, server)) {
        json_decref(ch);
        sock_error(st, sid, seed, ack, ERR_SEND);
        return;
    }
    snprintf(server_buf, sizeof server_buf, "%s", server);
    if (!msg_content_ok(st, text)) {
        json_decref(ch);
        sock_error(st, sid, seed, ack, "Message exceeds the maximum length");
        return;
    }
    const json_t *pmeta = json_object_get(payload, "metadata");
    if (!json_is_object(pmeta))
        pmeta = NULL;
    int tx = 0;
    if (!ch) {
        if (!msg_db_server_exists(st, server_buf)) {
            char m[96];
            snprintf(m, sizeof m, "Server %s does not exist", server_buf);
            sock_error(st, sid, seed, ack, m);
            return;
        }
        tx = msg_db_tx_begin(st) == EZ_OK;
        ch = msg_autocreate_channel(st, cid, server_buf, sender, pmeta, dm_target(payload, pmeta),
                                    "socketio_auto_creation");
        if (!ch) {
            if (tx)
                msg_db_tx_end(st, 0);
            sock_error(st, sid, seed, ack, "Failed to create channel");
            return;
        }
    }
    const char *sender_name = msg_str(payload, "senderName");
    json_t *meta = pmeta ? json_deep_copy(pmeta) : json_object();
    if (sender_name)
        json_object_set_new_nocheck(meta, "user_display_name", json_string(sender_name));
    json_object_set_new_nocheck(meta, "socket_id", json_string(sid));
    json_object_set_new_nocheck(meta, "messageServerId", json_string(server_buf));
    const json_t *att = json_object_get(payload, "attachments");
    if (att && !json_is_null(att))
        json_object_set_nocheck(meta, "attachments", (json_t *)att);
    const char *client_id = msg_str_nonempty(payload, "messageId");
    char source_id[80];
    if (client_id && strlen(client_id) < sizeof source_id) {
        snprintf(source_id, sizeof source_id, "%s", client_id);
    } else {
        char rnd[37];
        st->api->uuid_v4(rnd);
        snprintf(source_id, sizeof source_id, "socketio-%lld-%.9s", (long long)st->api->now_ms(),
                 rnd);
    }
    const char *source = msg_str_nonempty(payload, "source");
    msg_in in = {
        .channel_id = cid,
        .server_id = server_buf,
        .author_id = sender,
        .author_name = sender_name,
        .content = text,
        .raw = payload,
        .source_type = source && strlen(source) <= 255 ? source : "socketio_client",
        .source_id = source_id,
        .metadata = meta,
    };
    msg_posted p;
    const char *err = NULL;
    int rc = msg_store(st, &in, &p, &err);
    json_decref(meta);
    if (tx && !msg_db_tx_end(st, rc == EZ_OK) && rc == EZ_OK) {
        msg_posted_clear(&p);
        rc = 500;
        err = "Failed to store message";
    }
    if (rc != EZ_OK) {
        json_decref(ch);
        sock_error(st, sid, seed, ack, err);
        return;
    }
    msg_announce(st, &p, ch, NULL);
    json_decref(ch);
    /* the room and the sender share the payload's members (never changed once emitted); the
     * sender's own object adds the client's id */
    json_t *b = msg_render_broadcast(st, MSG_BCAST_SOCKET, p.root, p.ts, server_buf, sender_name);
    json_t *mine = json_copy(b);
    msg_emit(st, cid, sid, "messageBroadcast", b);
    if (mine) {
        if (client_id)
            json_object_set_new_nocheck(mine, "clientMessageId", json_string(client_id));
        msg_emit(st, sid, NULL, "messageBroadcast", mine);
    }
    json_t *a = json_object();
    if (client_id)
        json_object_set_new_nocheck(a, "clientMessageId", json_string(client_id));
    json_object_set_nocheck(a, "messageId", json_object_get(p.root, "id"));
    json_object_set_new_nocheck(a, "status", json_string("received_by_server_and_processing"));
    json_object_set_new_nocheck(a, "channelId", json_string(cid));
    json_object_set_new_nocheck(a, "roomId", json_string(cid));
    msg_emit(st, sid, NULL, "messageAck", json_incref(a)); /* read by both, changed by neither */
    msg_posted_clear(&p);
    release(st, ack, a);
}

static int type_of(const json_t *v) {
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "1") == 0 || strcmp(s, "2") == 0)
            return s[0] - '0';
    }
    return 0;
}

static void on_message(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    msg_state *st = ud;
    const json_t *data = json_array_get(args, 0);
    if (!json_is_object(data)) {
        release(st, ack, NULL);
        return;
    }
    const json_t *type = json_object_get(data, "type");
    const json_t *payload = json_object_get(data, "payload");
    if (type && !json_is_object(payload)) {
        release(st, ack, NULL); /* malformed real-protocol message: ignored, as 1.7.2 does */
        return;
    }
    if (type) {
        switch (type_of(type)) {
        case 1:
            handle_join(st, s, payload, 0, ack);
            return;
        case 2:
            handle_send(st, s, payload, 0, ack);
            return;
        default: /* MESSAGE, ACK, THINKING, CONTROL: not handled by the server */
            release(st, ack, NULL);
            return;
        }
    }
    /* The seed's plain `message`: {roomId|channelId, text|message|content, ...}. */
    handle_send(st, s, data, 1, ack);
}

static void on_numbered(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                        void *ud) {
    msg_state *st = ud;
    const json_t *payload = json_array_get(args, 0);
    if (!json_is_object(payload)) {
        const char *sid = st->api->sock->sid(s);
        sock_error(st, sid, 0, ack, strcmp(event, "1") == 0 ? ERR_JOIN : ERR_SEND);
        return;
    }
    if (strcmp(event, "1") == 0)
        handle_join(st, s, payload, 0, ack);
    else
        handle_send(st, s, payload, 0, ack);
}

static void on_join(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    msg_state *st = ud;
    handle_join(st, s, json_array_get(args, 0), 1, ack);
}

static void on_leave(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    msg_state *st = ud;
    handle_leave(st, s, json_array_get(args, 0), ack);
}

/* Seed: the channel's participants and latest messages (newest first, as the REST list). */
static void on_world_state(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                           void *ud) {
    msg_state *st = ud;
    const char *sid = st->api->sock->sid(s);
    const char *cid = room_of(json_array_get(args, 0));
    if (!msg_valid_uuid_s(st, cid)) {
        sock_error(st, sid, 1, ack, "A valid channelId (or roomId) is required.");
        return;
    }
    json_t *texts = msg_db_message_items(st, cid, WORLD_STATE_MESSAGES, 0, 0);
    json_t *messages = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(texts, i, t) {
        json_t *m = json_loadb(json_string_value(t), json_string_length(t), 0, NULL);
        if (m)
            json_array_append_new(messages, m);
    }
    json_decref(texts);
    json_t *ch = msg_db_channel_get(st, cid);
    json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:o}", "channelId", cid, "roomId", cid, "channel",
                            ch ? ch : json_null(), "participants", msg_db_participants(st, cid),
                            "messages", messages);
    msg_emit(st, sid, NULL, "world-state", json_deep_copy(out));
    release(st, ack, out);
}

int msg_socket_register(msg_state *st) {
    const ez_sock_api *sock = st->api->sock;
    if (!msg_sock_ok(st) || !sock->on || !sock->join || !sock->sid) {
        st->api->log(st->self, EZ_WARN, "Socket.IO is not available: REST only");
        return EZ_OK;
    }
    int rc = 0;
    if (sock->guard)
        rc |= sock->guard(st->self, MSG_NSP, guard, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "message", on_message, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "1", on_numbered, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "2", on_numbered, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "join", on_join, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "leave", on_leave, st, NULL);
    rc |= sock->on(st->self, MSG_NSP, "request-world-state", on_world_state, st, NULL);
    if (rc)
        st->api->log(st->self, EZ_ERR, "cannot register socket events");
    return rc ? EZ_EINVAL : EZ_OK;
}
