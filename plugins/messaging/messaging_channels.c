/* Channels (COMPAT §7.2): create (group + central aliases), DM find-or-create (real GET and the
 * seed's POST), details/info, participants, channel agents, update, delete, generate-title. */
#include "messaging_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTICIPANTS 1000

static const char ERR_CREATE[] =
    "Invalid payload. Required: name, message_server_id (UUID), participantCentralUserIds "
    "(array of UUIDs). Optional: type, metadata.";

/* 1 when v is an array of at most MAX_PARTICIPANTS uuid strings. */
static int uuid_list_ok(msg_state *st, const json_t *v) {
    if (!json_is_array(v) || json_array_size(v) > MAX_PARTICIPANTS)
        return 0;
    size_t i;
    json_t *id;
    json_array_foreach(v, i, id) {
        if (!msg_valid_uuid(st, id))
            return 0;
    }
    return 1;
}

static int fail_no_server(msg_state *st, ez_req *req, const char *server) {
    char m[96];
    snprintf(m, sizeof m, "Server %.40s does not exist", server);
    return msg_fail(st, req, 404, m);
}

static int h_create(ez_req *req, void *ud) {
    msg_state *st = ud;
    const json_t *b = msg_body(st, req);
    const json_t *sv = json_object_get(b, "message_server_id");
    if (!sv)
        sv = json_object_get(b, "server_id");
    if (!sv)
        sv = json_object_get(b, "messageServerId");
    if (sv && !json_is_null(sv) && !msg_valid_uuid(st, sv))
        return msg_fail(st, req, 400, "Invalid message_server_id format");
    const char *name = msg_str_nonempty(b, "name");
    const json_t *parts = json_object_get(b, "participantCentralUserIds");
    const json_t *type = json_object_get(b, "type");
    const json_t *meta = json_object_get(b, "metadata");
    /* api-client's createChannel() omits the participant list: an absent list is an empty one. */
    json_t *none = json_array();
    if (!parts || json_is_null(parts))
        parts = none;
    int ok = name && msg_utf8_len(name) <= 255 && msg_valid_uuid(st, sv) &&
             uuid_list_ok(st, parts) &&
             (!type || json_is_null(type) ||
              (json_is_string(type) && msg_is_channel_type(json_string_value(type)))) &&
             (!meta || json_is_null(meta) || json_is_object(meta));
    if (!ok) {
        json_decref(none);
        return msg_fail(st, req, 400, ERR_CREATE);
    }
    const char *server = json_string_value(sv);
    if (!msg_db_server_exists(st, server)) {
        json_decref(none);
        return fail_no_server(st, req, server);
    }
    int tx = msg_db_tx_begin(st) == EZ_OK;
    json_t *ch = msg_db_channel_insert(st, NULL, server, name,
                                       json_is_string(type) ? json_string_value(type) : "GROUP",
                                       NULL, NULL, NULL, json_is_object(meta) ? meta : NULL, parts);
    if (tx)
        msg_db_tx_end(st, ch != NULL);
    json_decref(none);
    if (!ch)
        return msg_fail_d(st, req, 500, "Failed to create group channel", "storage error");
    return msg_ok(st, req, 201, ch);
}

/* The one DM channel of a pair: ids sorted as strings, named DM-<lo>-<hi> (COMPAT §7.2). */
static int dm_find_or_create(msg_state *st, ez_req *req, const char *cur, const char *target,
                             const char *server_hint) {
    if (!msg_valid_uuid_s(st, cur) || !msg_valid_uuid_s(st, target))
        return msg_fail(st, req, 400, "Missing targetUserId or currentUserId");
    if (strcasecmp(cur, target) == 0)
        return msg_fail(st, req, 400, "Cannot create DM channel with oneself");
    const char *server = EZ_DEFAULT_SERVER_ID;
    if (msg_valid_uuid_s(st, server_hint) && msg_db_server_exists(st, server_hint))
        server = server_hint;
    const char *lo = strcmp(cur, target) < 0 ? cur : target;
    const char *hi = lo == cur ? target : cur;
    char name[80];
    snprintf(name, sizeof name, "DM-%s-%s", lo, hi);
    json_t *ch = msg_db_dm_find(st, server, name);
    if (!ch) {
        json_t *meta = json_pack("{s:s, s:s}", "user1", lo, "user2", hi);
        json_t *parts = json_pack("[ss]", lo, hi);
        int tx = msg_db_tx_begin(st) == EZ_OK;
        ch = msg_db_channel_insert(st, NULL, server, name, "DM", NULL, NULL, NULL, meta, parts);
        if (tx)
            msg_db_tx_end(st, ch != NULL);
        json_decref(meta);
        json_decref(parts);
        if (!ch)
            return msg_fail(st, req, 500, "Failed to find or create DM channel");
    }
    return msg_ok(st, req, 200, ch);
}

static int h_dm_real(ez_req *req, void *ud) {
    msg_state *st = ud;
    return dm_find_or_create(st, req, st->api->query(req, "currentUserId"),
                             st->api->query(req, "targetUserId"),
                             st->api->query(req, "dmServerId"));
}

/* Seed: POST /dm/{agentId}/{userId} — the user opens a DM with the agent. */
static int h_dm_seed(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *server = st->api->query(req, "dmServerId");
    if (!server)
        server = msg_str(msg_body(st, req), "dmServerId");
    return dm_find_or_create(st, req, st->api->param(req, "userId"), st->api->param(req, "agentId"),
                             server);
}

static int h_details(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    json_t *ch = msg_db_channel_get(st, cid);
    if (!ch)
        return msg_fail(st, req, 404, "Channel not found");
    return msg_ok(st, req, 200, ch);
}

static int h_participants(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    return msg_ok(st, req, 200, msg_db_participants(st, cid));
}

static int h_agents(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    return msg_ok(
        st, req, 200,
        json_pack("{s:s, s:o}", "channelId", cid, "participants", msg_db_participants(st, cid)));
}

static int h_agent_add(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    const char *aid = msg_str(msg_body(st, req), "agentId");
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, aid))
        return msg_fail(st, req, 400, "Invalid channelId or agentId format");
    json_t *ch = msg_db_channel_get(st, cid);
    if (!ch)
        return msg_fail(st, req, 404, "Channel not found");
    json_decref(ch);
    if (msg_db_participant_add(st, cid, aid) < 0)
        return msg_fail_d(st, req, 500, "Failed to add agent to channel", "storage error");
    return msg_ok(st, req, 201,
                  json_pack("{s:s, s:s, s:s}", "channelId", cid, "agentId", aid, "message",
                            "Agent added to channel successfully"));
}

static int h_agent_remove(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    const char *aid = st->api->param(req, "agentId");
    if (!msg_valid_uuid_s(st, cid) || !msg_valid_uuid_s(st, aid))
        return msg_fail(st, req, 400, "Invalid channelId or agentId format");
    json_t *ch = msg_db_channel_get(st, cid);
    if (!ch)
        return msg_fail(st, req, 404, "Channel not found");
    json_decref(ch);
    int n = msg_db_participant_remove(st, cid, aid);
    if (n < 0)
        return msg_fail_d(st, req, 500, "Failed to remove agent from channel", "storage error");
    if (n == 0)
        return msg_fail(st, req, 404, "Agent is not a participant in this channel");
    return msg_ok(st, req, 200,
                  json_pack("{s:s, s:s, s:s}", "channelId", cid, "agentId", aid, "message",
                            "Agent removed from channel successfully"));
}

static int h_patch(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    const json_t *b = msg_body(st, req);
    const json_t *name = json_object_get(b, "name");
    const json_t *meta = json_object_get(b, "metadata");
    const json_t *parts = json_object_get(b, "participantCentralUserIds");
    if (name && !json_is_null(name) &&
        (!json_is_string(name) || json_string_length(name) == 0 ||
         msg_utf8_len(json_string_value(name)) > 255))
        return msg_fail(st, req, 400, "Invalid name: must be a non-empty string");
    if (meta && !json_is_null(meta) && !json_is_object(meta))
        return msg_fail(st, req, 400, "Invalid metadata: must be an object");
    if (parts && !json_is_null(parts) && !uuid_list_ok(st, parts))
        return msg_fail(st, req, 400,
                        "Invalid participantCentralUserIds: must be an array of UUIDs");
    json_t *ch = msg_db_channel_get(st, cid);
    if (!ch)
        return msg_fail(st, req, 404, "Channel not found");
    json_decref(ch);
    int tx = msg_db_tx_begin(st) == EZ_OK;
    int ok = msg_db_channel_update(st, cid, json_is_string(name) ? json_string_value(name) : NULL,
                                   json_is_object(meta) ? meta : NULL) == EZ_OK;
    if (ok && json_is_array(parts))
        ok = msg_db_participants_replace(st, cid, parts) == EZ_OK;
    if (tx)
        msg_db_tx_end(st, ok);
    ch = ok ? msg_db_channel_get(st, cid) : NULL;
    if (!ch)
        return msg_fail(st, req, 500, "Failed to update channel");
    msg_emit(st, cid, NULL, "channelUpdated",
             json_pack("{s:s, s:o}", "channelId", cid, "updates", json_deep_copy(ch)));
    return msg_ok(st, req, 200, ch);
}

static int h_delete(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channelId");
    if (msg_db_channel_delete(st, cid) != EZ_OK)
        return msg_fail(st, req, 500, "Failed to delete channel");
    /* Agents clear their room memories on "cleared"; "deleted" is the channel itself. */
    msg_publish(st, "messaging.channel.cleared", json_pack("{s:s}", "channelId", cid));
    msg_publish(st, "messaging.channel.deleted", json_pack("{s:s}", "channelId", cid));
    msg_emit(st, cid, NULL, "channelDeleted", json_pack("{s:s}", "channelId", cid));
    st->api->respond_empty(req, 204);
    return EZ_DONE;
}

static int h_title(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *cid = st->api->param(req, "channelId");
    if (!msg_valid_uuid_s(st, cid))
        return msg_fail(st, req, 400, "Invalid channel ID format");
    const char *aid = msg_str(msg_body(st, req), "agentId");
    if (!msg_valid_uuid_s(st, aid))
        return msg_fail(st, req, 400, "Valid agent ID is required");
    const ez_agents_v1 *agents = st->api->import_api(st->self, EZ_AGENTS_V1);
    if (agents && agents->is_active && !agents->is_active(agents->self, aid))
        return msg_fail(st, req, 404, "Agent not found or not active");
    int64_t limit = msg_limit(st, st->api->query(req, "limit"), 50);
    int64_t before = 0;
    if (msg_parse_time(st, st->api->query(req, "before"), &before) != 0 || before < 0)
        before = 0;
    json_t *texts = msg_db_message_items(st, cid, limit, before, 0);
    if (!texts)
        return msg_fail(st, req, 500, "Failed to generate channel title");
    if (json_array_size(texts) < 4) {
        json_decref(texts);
        return msg_ok(st, req, 200,
                      json_pack("{s:n, s:s, s:s}", "title", "channelId", cid, "reason",
                                "Not enough messages to generate a title"));
    }
    json_t *items = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(texts, i, t) {
        json_t *m = json_loadb(json_string_value(t), json_string_length(t), 0, NULL);
        if (m)
            json_array_append_new(items, m);
    }
    json_decref(texts);
    char *title = msg_title_from(items);
    json_decref(items);
    json_t *data = json_pack("{s:s?, s:s}", "title", title, "channelId", cid);
    free(title);
    return msg_ok(st, req, 200, data);
}

int msg_channels_register(msg_state *st) {
    int rc = 0;
    rc |= msg_route(st, EZ_POST, MSG_BASE "/channels", h_create);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/central-channels", h_create);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/channels/central", h_create);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/dm-channel", h_dm_real);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/dm/:agentId/:userId", h_dm_seed);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/channels/:channelId/details", h_details);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/central-channels/:channelId/details", h_details);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/channels/:channelId/info", h_details);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/channels/:channelId/participants", h_participants);
    rc |=
        msg_route(st, EZ_GET, MSG_BASE "/central-channels/:channelId/participants", h_participants);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/channels/:channelId/agents", h_agents);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/central-channels/:channelId/agents", h_agents);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/channels/:channelId/agents", h_agent_add);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/central-channels/:channelId/agents", h_agent_add);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/channels/:channelId/agents/:agentId", h_agent_remove);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/central-channels/:channelId/agents/:agentId",
                    h_agent_remove);
    rc |= msg_route(st, EZ_PATCH, MSG_BASE "/channels/:channelId", h_patch);
    rc |= msg_route(st, EZ_PATCH, MSG_BASE "/central-channels/:channelId", h_patch);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/channels/:channelId", h_delete);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/central-channels/:channelId", h_delete);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/channels/:channelId/generate-title", h_title);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/central-channels/:channelId/generate-title", h_title);
    return rc ? EZ_EINVAL : EZ_OK;
}
