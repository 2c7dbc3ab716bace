/* Outbound events (Socket.IO emits, bus publishes) and the bus topics messaging listens to:
 * socket.connected (greets the new socket), agents.agent.started / deleted (links agents to
 * the default message server). */
#include "messaging_int.h"

#include <string.h>

int msg_sock_ok(const msg_state *st) {
    /* The Socket.IO engine may be missing (older kernel, or not built yet): a NULL sub-table or
     * NULL members mean "not available", and REST keeps working without events. */
    const ez_sock_api *s = st->api->sock;
    return s != NULL && s->size >= offsetof(ez_sock_api, disconnect) + sizeof(s->disconnect) &&
           s->emit_new != NULL;
}

void msg_emit(msg_state *st, const char *room, const char *except_sid, const char *event,
              json_t *args_new) {
    if (!msg_sock_ok(st)) {
        json_decref(args_new);
        return;
    }
    st->api->sock->emit_new(st->self, MSG_NSP, room, except_sid, event, args_new);
}

void msg_publish(msg_state *st, const char *topic, json_t *msg_new) {
    if (st->api->publish_new)
        st->api->publish_new(st->self, topic, msg_new);
    else
        json_decref(msg_new);
}

void msg_publish_created(msg_state *st, const json_t *root, const json_t *bus,
                         const json_t *channel, const json_t *participants) {
    const char *cid = msg_str(root, "channelId");
    json_t *ch =
        channel ? json_incref((json_t *)channel) : (cid ? msg_db_channel_get(st, cid) : NULL);
    json_t *parts = participants ? json_incref((json_t *)participants)
                                 : msg_db_participants(st, cid ? cid : "");
    json_t *m = json_object();
    /* shared, not copied: neither is changed once stored (bus messages are immutable) */
    json_object_set_nocheck(m, "message", (json_t *)root);
    json_object_set_nocheck(m, "bus", (json_t *)bus);
    json_object_set_new_nocheck(m, "channel", ch ? ch : json_null());
    json_object_set_new_nocheck(m, "participants", parts);
    msg_publish(st, "messaging.message.created", m);
}

static void server_agent_event(msg_state *st, const char *type, const char *agent_id) {
    msg_publish(st, "messaging.server.agent",
                json_pack("{s:s, s:s, s:s}", "type", type, "messageServerId", EZ_DEFAULT_SERVER_ID,
                          "agentId", agent_id));
}

static void on_socket_connected(msg_state *st, const json_t *msg) {
    const char *sid = msg_str(msg, "sid");
    const char *nsp = msg_str(msg, "nsp");
    if (!sid || (nsp && strcmp(nsp, MSG_NSP) != 0))
        return;
    const json_t *auth = json_object_get(msg, "auth");
    const char *entity = msg_str(auth, "entityId");
    char derived[37];
    if (!msg_valid_uuid_s(st, entity)) {
        /* A seed-style client (auth.token only) gets an identity derived from its socket id:
         * the same one its plain `message` events are stored under. */
        st->api->uuid_from_string(sid, derived);
        entity = derived;
    }
    msg_emit(
        st, sid, NULL, "authenticated",
        json_pack("{s:s, s:I}", "entityId", entity, "timestamp", (json_int_t)st->api->now_ms()));
    msg_emit(
        st, sid, NULL, "connection_established",
        json_pack("{s:s, s:s}", "message", "Connected to Eliza Socket.IO server", "socketId", sid));
}

void msg_on_bus(const char *topic, const json_t *msg, void *ud) {
    msg_state *st = ud;
    if (strcmp(topic, "socket.connected") == 0) {
        on_socket_connected(st, msg);
        return;
    }
    const char *agent = msg_str(msg, "agentId");
    if (!msg_valid_uuid_s(st, agent))
        return;
    if (strcmp(topic, "agents.agent.started") == 0) {
        if (msg_db_server_agent_add(st, EZ_DEFAULT_SERVER_ID, agent) > 0)
            server_agent_event(st, "agent_added_to_server", agent);
    } else if (strcmp(topic, "agents.agent.deleted") == 0) {
        if (msg_db_agent_forget(st, agent) > 0)
            server_agent_event(st, "agent_removed_from_server", agent);
    }
}
