/* messaging's unit test: the plugin's sources linked with the testkit (a fake host with a fake
 * clock, an in-memory SQLite store, captured bus and socket traffic). Covers what the e2e suite
 * cannot reach: the frozen clock (unique per-channel timestamps), the bus contract, the
 * messaging.v1 table, http/sse transports answered by a reply (and by the timeout), the page
 * cache, the socket guard and greeting. */
#include <elizad/agents.h>
#include <elizad/messaging.h>
#include <elizad/testkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const ez_plugin_desc ez_plugin_v1;

#define ZERO "00000000-0000-0000-0000-000000000000"
#define USER "11111111-1111-4111-8111-111111111111"
#define AGENT "22222222-2222-4222-8222-222222222222"

/* ---- a fake agents.v1: one agent, active ---- */
static json_t *fake_get(void *self, const char *id) {
    return strcmp(id, AGENT) == 0 ? json_pack("{s:s, s:s}", "id", AGENT, "name", "Bot") : NULL;
}
static int fake_active(void *self, const char *id) {
    return strcmp(id, AGENT) == 0;
}
static const ez_agents_v1 fake_agents = {
    .size = sizeof(ez_agents_v1), .get = fake_get, .is_active = fake_active};

static char *channel_with(ez_tk *tk, const char *participants_json) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"c\",\"message_server_id\":\"" ZERO "\",\"participantCentralUserIds\":%s}",
             participants_json);
    ez_tk_reply *r = ez_tk_send(tk, "POST", "/api/messaging/channels", body);
    EZ_TK_CHECK_STATUS(tk, r, 201);
    const json_t *id = ez_tk_json_at(r->json, "data.id");
    return id ? strdup(json_string_value(id)) : strdup("missing");
}

static ez_tk_reply *post_text(ez_tk *tk, const char *channel, const char *text, const char *extra) {
    char path[128], body[512];
    snprintf(path, sizeof path, "/api/messaging/channels/%s/messages", channel);
    snprintf(body, sizeof body,
             "{\"author_id\":\"" USER "\",\"content\":\"%s\",\"message_server_id\":\"" ZERO "\"%s}",
             text, extra ? extra : "");
    return ez_tk_send(tk, "POST", path, body);
}

/* A fake socket in the channel's room, so broadcasts have someone to reach. */
static void watch(ez_tk *tk, const char *sid, const char *channel) {
    if (!ez_tk_sock_in_room(tk, "/", sid, sid))
        ez_tk_sock_connect(tk, "/", sid, "{\"entityId\":\"" USER "\"}", NULL);
    char args[256];
    snprintf(args, sizeof args, "[{\"type\":1,\"payload\":{\"channelId\":\"%s\"}}]", channel);
    ez_tk_sock_event(tk, "/", sid, "message", args, NULL);
    EZ_TK_CHECK(tk, ez_tk_sock_in_room(tk, "/", sid, channel));
}

static void frozen_clock_keeps_messages_apart(ez_tk *tk) {
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    int64_t now = ez_tk_now(tk), prev = 0;
    for (int i = 0; i < 1200; i++) {
        ez_tk_reply *r = post_text(tk, ch, "tick", NULL);
        if (!EZ_TK_CHECK_STATUS(tk, r, 201))
            break;
        int64_t ts = json_integer_value(ez_tk_json_at(r->json, "userMessage.created_at"));
        if (i < 1000)
            EZ_TK_CHECK(tk, ts == now + i); /* one ms apart while the clock stands still */
        EZ_TK_CHECK(tk, ts <= now + 1000);  /* ...but never more than 1 s ahead of it */
        EZ_TK_CHECK(tk, ts >= prev);
        prev = ts;
    }
    /* a new message after time moved on is stamped with the clock again */
    ez_tk_advance(tk, 5000);
    ez_tk_reply *r = post_text(tk, ch, "later", NULL);
    EZ_TK_CHECK_INT(tk, json_integer_value(ez_tk_json_at(r->json, "userMessage.created_at")),
                    ez_tk_now(tk));
    free(ch);
}

static void bus_contract(ez_tk *tk) {
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    /* nobody in the room: stored and published, but no payload rendered for nobody */
    ez_tk_clear_logs(tk);
    EZ_TK_CHECK_STATUS(tk, post_text(tk, ch, "unheard", NULL), 201);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_emit_log(tk), "event", "messageBroadcast"), 0);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "messaging.message.created"), 1);
    watch(tk, "s-watch", ch);
    ez_tk_clear_logs(tk);
    ez_tk_reply *r = post_text(tk, ch, "hello bus", ",\"metadata\":{\"user_display_name\":\"u\"}");
    EZ_TK_CHECK_STATUS(tk, r, 201);
    const json_t *ev = ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.message.created");
    EZ_TK_CHECK(tk, ev != NULL);
    const json_t *msg = ez_tk_json_at(ev, "msg");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "message.content"), "\"hello bus\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "bus.author_display_name"), "\"u\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "bus.message_server_id"), "\"" ZERO "\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "participants"), "[\"" USER "\",\"" AGENT "\"]");
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(msg, "channel.id")), ch);
    /* the room broadcast carries both channelId and roomId */
    const json_t *b = ez_tk_last(ez_tk_emit_log(tk), "event", "messageBroadcast");
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(b, "room")), ch);
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(b, "args[0].channelId")), ch);
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(b, "args[0].roomId")), ch);

    /* agents.agent.started links the agent to the default server; deleted unlinks it */
    ez_tk_deliver_text(tk, "agents.agent.started", "{\"agentId\":\"" AGENT "\",\"name\":\"Bot\"}");
    r = ez_tk_get(tk, "/api/messaging/agents/" AGENT "/message-servers");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.messageServers"), "[\"" ZERO "\"]");
    EZ_TK_CHECK_JSON(
        tk,
        ez_tk_json_at(ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.server.agent"), "msg.type"),
        "\"agent_added_to_server\"");
    ez_tk_deliver_text(tk, "agents.agent.deleted", "{\"agentId\":\"" AGENT "\"}");
    r = ez_tk_get(tk, "/api/messaging/agents/" AGENT "/message-servers");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.messageServers"), "[]");

    /* deletes announce themselves */
    char path[160];
    snprintf(path, sizeof path, "/api/messaging/channels/%s", ch);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "DELETE", path, NULL), 204);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "messaging.channel.deleted"), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_emit_log(tk), "event", "channelDeleted"), 1);
    free(ch);
}

static void v1_table(ez_tk *tk) {
    const ez_messaging_v1 *m =
        ez_tk_api(tk)->import_api(ez_tk_plugin(tk, "messaging"), EZ_MESSAGING_V1);
    if (!EZ_TK_CHECK(tk, m != NULL && m->size >= sizeof(ez_messaging_v1)))
        return;
    json_t *spec = json_pack("{s:s, s:s, s:[ss]}", "name", "v1 channel", "type", "DM",
                             "participants", USER, AGENT);
    json_t *ch = m->channel_create(m->self, spec);
    json_decref(spec);
    EZ_TK_CHECK(tk, ch != NULL);
    const char *cid = json_string_value(json_object_get(ch, "id"));
    EZ_TK_CHECK_JSON(tk, json_object_get(ch, "messageServerId"), "\"" ZERO "\"");
    watch(tk, "s-watch", cid);
    json_t *parts = m->channel_participants(m->self, cid);
    EZ_TK_CHECK_JSON(tk, parts, "[\"" USER "\",\"" AGENT "\"]");
    json_decref(parts);
    EZ_TK_CHECK(tk, m->channel_get(m->self, "not-a-uuid") == NULL);

    ez_tk_clear_logs(tk);
    json_t *reply =
        json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "channelId", cid, "authorId",
                  AGENT, "content", "agent answer", "sourceType", "agent_response", "rawMessage",
                  "text", "agent answer", "thought", "t", "metadata", "agentName", "Bot");
    json_t *stored = m->message_post(m->self, reply);
    json_decref(reply);
    EZ_TK_CHECK(tk, stored != NULL);
    const json_t *b = ez_tk_last(ez_tk_emit_log(tk), "event", "messageBroadcast");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(b, "args[0].source"), "\"agent_response\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(b, "args[0].senderName"), "\"Bot\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(b, "args[0].thought"), "\"t\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(b, "args[0].serverId"), "\"" ZERO "\"");
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "messaging.message.created"), 1);
    json_t *list = m->messages_list(m->self, cid, 10, 0);
    EZ_TK_CHECK_INT(tk, json_array_size(list), 1);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(list, "[0].metadata.thought"), "\"t\"");
    json_decref(list);
    /* refused input: nothing stored */
    json_t *bad = json_pack("{s:s, s:s, s:s}", "channelId", cid, "authorId", "x", "content", "c");
    EZ_TK_CHECK(tk, m->message_post(m->self, bad) == NULL);
    json_decref(bad);
    json_decref(stored);
    json_decref(ch);
}

/* message_id_reserve: the reserved id is the internal post's without a lookup, and a client's
 * message cannot take it first (its stream chunks name it before the reply is stored). */
static void reserved_ids(ez_tk *tk) {
    const ez_messaging_v1 *m =
        ez_tk_api(tk)->import_api(ez_tk_plugin(tk, "messaging"), EZ_MESSAGING_V1);
    if (!EZ_TK_CHECK(tk, m && EZ_MESSAGING_HAS(m, message_id_reserve)))
        return;
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    char id[37] = "", other[37] = "";
    EZ_TK_CHECK_INT(tk, m->message_id_reserve(m->self, id), EZ_OK);
    EZ_TK_CHECK_INT(tk, m->message_id_reserve(m->self, other), EZ_OK);
    EZ_TK_CHECK(tk, ez_tk_api(tk)->uuid_valid(id) && strcmp(id, other) != 0);

    char body[512];
    snprintf(body, sizeof body,
             "{\"channel_id\":\"%s\",\"message_server_id\":\"" ZERO "\",\"author_id\":\"" USER
             "\",\"content\":\"mine\",\"source_type\":\"x\",\"raw_message\":{\"text\":\"mine\"},"
             "\"messageId\":\"%s\"}",
             ch, id);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", "/api/messaging/submit", body), 409);

    json_t *reply = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "channelId", ch, "authorId",
                              AGENT, "content", "the reply", "sourceType", "agent_response");
    json_t *stored = m->message_post(m->self, reply);
    EZ_TK_CHECK(tk, stored != NULL);
    EZ_TK_CHECK_STR(tk, json_string_value(json_object_get(stored, "id")), id);
    json_decref(stored);
    /* used: now an ordinary stored id, for the internal side too */
    EZ_TK_CHECK(tk, m->message_post(m->self, reply) == NULL);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", "/api/messaging/submit", body), 409);
    json_decref(reply);
    json_t *list = m->messages_list(m->self, ch, 10, 0);
    EZ_TK_CHECK_INT(tk, json_array_size(list), 1);
    json_decref(list);
    free(ch);
}

static void transports_wait_for_the_reply(ez_tk *tk) {
    const ez_messaging_v1 *m =
        ez_tk_api(tk)->import_api(ez_tk_plugin(tk, "messaging"), EZ_MESSAGING_V1);
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    ez_tk_reply *r = post_text(tk, ch, "sync please", ",\"transport\":\"http\"");
    EZ_TK_CHECK_INT(tk, r->handler_rc, 1 /* EZ_ASYNC */);
    EZ_TK_CHECK_INT(tk, r->status, 0);
    /* the reply the runtime would hand back */
    const json_t *ev = ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.message.created");
    const char *user_msg = json_string_value(ez_tk_json_at(ev, "msg.message.id"));
    json_t *reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[s]}}", "channelId", ch,
                              "authorId", AGENT, "content", "here you go", "sourceType",
                              "agent_response", "inReplyToRootMessageId", user_msg, "rawMessage",
                              "text", "here you go", "actions", "REPLY");
    json_decref(m->message_post(m->self, reply));
    json_decref(reply);
    EZ_TK_CHECK_STATUS(tk, r, 201);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "agentResponse.text"), "\"here you go\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "agentResponse.actions"), "[\"REPLY\"]");
    /* the official Content's other fields */
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "agentResponse.providers"), "[]");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "agentResponse.simple"), "true");
    const char *in_reply = json_string_value(ez_tk_json_at(r->json, "agentResponse.inReplyTo"));
    EZ_TK_CHECK(tk, user_msg && in_reply && strcmp(in_reply, user_msg) == 0);
    EZ_TK_CHECK(tk, json_is_string(ez_tk_json_at(r->json, "agentResponse.responseId")));
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "userMessage.content"), "\"sync please\"");

    /* nobody answers: the timeout answers 500 in style B */
    r = post_text(tk, ch, "anyone?", ",\"transport\":\"sync\"");
    EZ_TK_CHECK_INT(tk, r->status, 0);
    ez_tk_advance(tk, 30000);
    EZ_TK_CHECK_STATUS(tk, r, 500);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "error"),
                     "\"Failed to process message in HTTP transport\"");

    /* sse: user_message at once, then chunk + done when the reply arrives */
    r = post_text(tk, ch, "stream it", ",\"transport\":\"sse\"");
    EZ_TK_CHECK(tk, r->streamed && !r->stream_ended);
    EZ_TK_CHECK(tk, strstr(r->body, "event: user_message\n") != NULL);
    ev = ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.message.created");
    user_msg = json_string_value(ez_tk_json_at(ev, "msg.message.id"));
    reply = json_pack("{s:s, s:s, s:s, s:s}", "channelId", ch, "authorId", AGENT, "content",
                      "streamed", "inReplyToRootMessageId", user_msg);
    json_decref(m->message_post(m->self, reply));
    json_decref(reply);
    EZ_TK_CHECK(tk, r->stream_ended);
    EZ_TK_CHECK(tk, strstr(r->body, "event: chunk\n") != NULL);
    EZ_TK_CHECK(tk, strstr(r->body, "event: done\ndata: {\"text\":\"streamed\"") != NULL);

    /* an agent that is not running: 500 at once */
    char extra[128];
    snprintf(extra, sizeof extra, ",\"transport\":\"http\",\"metadata\":{\"targetAgentId\":\"%s\"}",
             USER);
    char *solo = channel_with(tk, "[\"" USER "\"]");
    r = post_text(tk, solo, "x", extra);
    EZ_TK_CHECK_STATUS(tk, r, 500);
    free(solo);
    free(ch);
}

static void page_cache_follows_writes(ez_tk *tk) {
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    char path[160];
    snprintf(path, sizeof path, "/api/messaging/channels/%s/messages?limit=5", ch);
    post_text(tk, ch, "one", NULL);
    ez_tk_reply *a = ez_tk_get(tk, path);
    ez_tk_reply *b = ez_tk_get(tk, path); /* served from the cache */
    EZ_TK_CHECK_STR(tk, b->body, a->body);
    ez_tk_reply *p = post_text(tk, ch, "two", NULL);
    ez_tk_reply *c = ez_tk_get(tk, path);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(c->json, "data.messages[0].content"), "\"two\"");
    char del[200];
    snprintf(del, sizeof del, "/api/messaging/channels/%s/messages/%s", ch,
             json_string_value(ez_tk_json_at(p->json, "userMessage.id")));
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "DELETE", del, NULL), 204);
    c = ez_tk_get(tk, path);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(c->json, "data.messages[0].content"), "\"one\"");
    snprintf(del, sizeof del, "/api/messaging/channels/%s/messages", ch);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "DELETE", del, NULL), 204);
    c = ez_tk_get(tk, path);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(c->json, "data.messages"), "[]");
    free(ch);
}

static void sockets(ez_tk *tk) {
    const char *why = NULL;
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/", "s-none", "{}", &why), EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, why, "Valid entityId required");
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/", "s-bad", "{\"entityId\":\"x\"}", &why),
                    EZ_EINVAL);
    ez_tk_clear_logs(tk);
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/", "s-user", "{\"entityId\":\"" USER "\"}", NULL),
                    EZ_OK);
    const json_t *auth = ez_tk_last(ez_tk_emit_log(tk), "event", "authenticated");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(auth, "args[0].entityId"), "\"" USER "\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(auth, "room"), "\"s-user\"");
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_emit_log(tk), "event", "connection_established"), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_sock_connect(tk, "/", "s-seed", "{\"token\":\"k\"}", NULL), EZ_OK);

    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    char args[256];
    snprintf(args, sizeof args, "[{\"type\":1,\"payload\":{\"channelId\":\"%s\"}}]", ch);
    ez_tk_sock_event(tk, "/", "s-user", "message", args, NULL);
    EZ_TK_CHECK(tk, ez_tk_sock_in_room(tk, "/", "s-user", ch));
    snprintf(args, sizeof args, "[{\"roomId\":\"%s\"}]", ch);
    ez_tk_sock_event(tk, "/", "s-seed", "join", args, NULL);
    EZ_TK_CHECK(tk, ez_tk_sock_in_room(tk, "/", "s-seed", ch));

    /* SEND_MESSAGE: the room minus the sender, the sender with clientMessageId, then the ack */
    ez_tk_clear_logs(tk);
    snprintf(args, sizeof args,
             "[{\"type\":2,\"payload\":{\"senderId\":\"" USER "\",\"message\":\"hi\","
             "\"channelId\":\"%s\",\"messageServerId\":\"" ZERO "\",\"messageId\":\"tmp-1\"}}]",
             ch);
    ez_tk_ack *ack = NULL;
    ez_tk_sock_event(tk, "/", "s-user", "message", args, &ack);
    const json_t *log = ez_tk_emit_log(tk);
    EZ_TK_CHECK_INT(tk, ez_tk_count(log, "event", "messageBroadcast"), 2);
    const json_t *room = json_array_get(log, 0);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(room, "except"), "\"s-user\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(room, "to"), "[\"s-seed\"]");
    EZ_TK_CHECK(tk, ez_tk_json_at(room, "args[0].clientMessageId") == NULL);
    const json_t *own = json_array_get(log, 1);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(own, "args[0].clientMessageId"), "\"tmp-1\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_last(log, "event", "messageAck"), "args[0].status"),
                     "\"received_by_server_and_processing\"");
    EZ_TK_CHECK(tk, ack && ack->answered);

    /* a token-only client's plain message is stored under the identity it was announced */
    ez_tk_clear_logs(tk);
    snprintf(args, sizeof args, "[{\"roomId\":\"%s\",\"text\":\"from seed\"}]", ch);
    ez_tk_sock_event(tk, "/", "s-seed", "message", args, NULL);
    char derived[37];
    ez_tk_api(tk)->uuid_from_string("s-seed", derived);
    const json_t *b = ez_tk_last(ez_tk_emit_log(tk), "event", "messageBroadcast");
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(b, "args[0].senderId")), derived);

    /* invalid SEND_MESSAGE */
    ez_tk_clear_logs(tk);
    ez_tk_sock_event(tk, "/", "s-user", "2", "[{\"senderId\":\"x\"}]", NULL);
    EZ_TK_CHECK_JSON(
        tk, ez_tk_json_at(ez_tk_last(ez_tk_emit_log(tk), "event", "messageError"), "args[0].error"),
        "\"For SEND_MESSAGE: channelId, messageServerId (message_server_id), "
        "senderId (author_id), and message are required.\"");
    free(ch);
}

/* Channels and participants are cached (messaging_channel_cache.c): each write shows at once. */
static void channel_cache_follows_writes(ez_tk *tk) {
    char *ch = channel_with(tk, "[\"" USER "\",\"" AGENT "\"]");
    char path[160];
    ez_tk_clear_logs(tk);
    EZ_TK_CHECK_STATUS(tk, post_text(tk, ch, "first", NULL), 201);
    const json_t *msg =
        ez_tk_json_at(ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.message.created"), "msg");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "channel.name"), "\"c\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "participants"), "[\"" USER "\",\"" AGENT "\"]");

    snprintf(path, sizeof path, "/api/messaging/channels/%s", ch);
    EZ_TK_CHECK_STATUS(tk,
                       ez_tk_send(tk, "PATCH", path,
                                  "{\"name\":\"renamed\",\"participantCentralUserIds\":[\"" AGENT
                                  "\",\"" USER "\"]}"),
                       200);
    ez_tk_clear_logs(tk);
    EZ_TK_CHECK_STATUS(tk, post_text(tk, ch, "second", NULL), 201);
    msg = ez_tk_json_at(ez_tk_last(ez_tk_bus_log(tk), "topic", "messaging.message.created"), "msg");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "channel.name"), "\"renamed\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(msg, "participants"), "[\"" AGENT "\",\"" USER "\"]");
    snprintf(path, sizeof path, "/api/messaging/channels/%s/participants", ch);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_get(tk, path)->json, "data"),
                     "[\"" AGENT "\",\"" USER "\"]");

    snprintf(path, sizeof path, "/api/messaging/channels/%s/agents/%s", ch, AGENT);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "DELETE", path, NULL), 200);
    snprintf(path, sizeof path, "/api/messaging/channels/%s/participants", ch);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_get(tk, path)->json, "data"), "[\"" USER "\"]");

    snprintf(path, sizeof path, "/api/messaging/channels/%s", ch);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "DELETE", path, NULL), 204);
    snprintf(path, sizeof path, "/api/messaging/channels/%s/details", ch);
    EZ_TK_CHECK_STATUS(tk, ez_tk_get(tk, path), 404);
    free(ch);
}

int main(void) {
    ez_tk *tk = ez_tk_new();
    EZ_TK_CHECK_INT(tk, ez_tk_export(tk, EZ_AGENTS_V1, &fake_agents), EZ_OK);
    if (!EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, NULL), EZ_OK)) {
        fprintf(stderr, "%s\n", ez_tk_error(tk));
        return ez_tk_finish(tk);
    }
    EZ_TK_CHECK_INT(tk, ez_tk_start(tk), EZ_OK);
    ez_tk_reply *r = ez_tk_get(tk, "/api/messaging/message-servers");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.messageServers[0].id"), "\"" ZERO "\"");
    frozen_clock_keeps_messages_apart(tk);
    bus_contract(tk);
    v1_table(tk);
    reserved_ids(tk);
    transports_wait_for_the_reply(tk);
    page_cache_follows_writes(tk);
    channel_cache_follows_writes(tk);
    sockets(tk);
    return ez_tk_finish(tk);
}
