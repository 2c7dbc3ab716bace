/* Message servers (COMPAT §7.1) and which agents belong to them, plus the debug listing
 * (COMPAT §12). Seed aliases: POST /servers, GET /servers/central, /servers/{id}/..., /api/debug.
 */
#include "messaging_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int h_current(ez_req *req, void *ud) {
    msg_state *st = ud;
    return msg_ok(st, req, 200, json_pack("{s:s}", "messageServerId", EZ_DEFAULT_SERVER_ID));
}

static int list_servers(msg_state *st, ez_req *req, int real_key, int deprecated_key) {
    json_t *servers = msg_db_servers(st);
    if (!servers)
        return msg_fail(st, req, 500, "Failed to retrieve message servers");
    json_t *data = json_object();
    if (real_key)
        json_object_set_nocheck(data, "messageServers", servers);
    if (deprecated_key)
        json_object_set_nocheck(data, "servers", servers);
    json_decref(servers);
    return msg_ok(st, req, 200, data);
}

static int h_list_real(ez_req *req, void *ud) {
    return list_servers(ud, req, 1, 0);
}

static int h_list_central(ez_req *req, void *ud) {
    return list_servers(ud, req, 0, 1);
}

/* The seed's "central servers" is both lists at once: either spelling finds its key. */
static int h_list_seed(ez_req *req, void *ud) {
    return list_servers(ud, req, 1, 1);
}

static int h_create(ez_req *req, void *ud) {
    msg_state *st = ud;
    const json_t *b = msg_body(st, req);
    const char *name = msg_str_nonempty(b, "name");
    const char *type = msg_str_nonempty(b, "sourceType");
    if (!type)
        type = msg_str_nonempty(b, "source_type");
    if (!name || !type)
        return msg_fail(st, req, 400, "Missing required fields: name, sourceType");
    if (msg_utf8_len(name) > 255 || msg_utf8_len(type) > 255)
        return msg_fail(st, req, 400,
                        "Invalid payload: name and sourceType are limited to 255 "
                        "characters");
    const json_t *sid = json_object_get(b, "sourceId");
    const json_t *meta = json_object_get(b, "metadata");
    if (sid && !json_is_null(sid) && (!json_is_string(sid) || json_string_length(sid) > 255))
        return msg_fail(st, req, 400, "Invalid payload: sourceId must be a string");
    if (meta && !json_is_null(meta) && !json_is_object(meta))
        return msg_fail(st, req, 400, "Invalid payload: metadata must be an object");
    json_t *server = msg_db_server_create(st, name, type, json_string_value(sid),
                                          json_is_object(meta) ? meta : NULL);
    if (!server)
        return msg_fail(st, req, 500, "Failed to create message server");
    return msg_ok(st, req, 201, json_pack("{s:o}", "server", server));
}

static int h_channels(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *sid = st->api->param(req, "serverId");
    if (!msg_valid_uuid_s(st, sid))
        return msg_fail(st, req, 400, "Invalid messageServerId");
    json_t *channels = msg_db_channels_of_server(st, sid);
    if (!channels)
        return msg_fail(st, req, 500, "Failed to fetch channels");
    return msg_ok(st, req, 200, json_pack("{s:o}", "channels", channels));
}

static int h_agents(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *sid = st->api->param(req, "serverId");
    if (!msg_valid_uuid_s(st, sid))
        return msg_fail(st, req, 400, "Invalid messageServerId format");
    if (strcasecmp(sid, EZ_DEFAULT_SERVER_ID) != 0)
        return msg_fail(st, req, 403, "Cannot access agents for a different server");
    json_t *agents = msg_db_server_agents(st, EZ_DEFAULT_SERVER_ID);
    if (!agents)
        return msg_fail(st, req, 500, "Failed to fetch agents");
    return msg_ok(st, req, 200, json_pack("{s:s, s:o}", "messageServerId", sid, "agents", agents));
}

/* Shared by add and remove: validates ids and the server; returns the agent id or NULL after
 * answering. */
static const char *membership_target(msg_state *st, ez_req *req, const char **sid_out) {
    const char *sid = st->api->param(req, "serverId");
    const char *aid = st->api->param(req, "agentId");
    if (!aid)
        aid = msg_str(msg_body(st, req), "agentId");
    if (!msg_valid_uuid_s(st, sid) || !msg_valid_uuid_s(st, aid)) {
        msg_fail(st, req, 400, "Invalid messageServerId or agentId format");
        return NULL;
    }
    *sid_out = sid;
    return aid;
}

static void membership_event(msg_state *st, const char *type, const char *sid, const char *aid) {
    msg_publish(st, "messaging.server.agent",
                json_pack("{s:s, s:s, s:s}", "type", type, "messageServerId", sid, "agentId", aid));
}

static int h_agent_add(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *sid = NULL;
    const char *aid = membership_target(st, req, &sid);
    if (!aid)
        return EZ_DONE;
    if (strcasecmp(sid, EZ_DEFAULT_SERVER_ID) != 0)
        return msg_fail(st, req, 403, "Cannot modify agents for a different server");
    const ez_agents_v1 *agents = st->api->import_api(st->self, EZ_AGENTS_V1);
    if (agents && agents->get) {
        json_t *agent = agents->get(agents->self, aid);
        if (!agent)
            return msg_fail(st, req, 404, "Agent not found");
        json_decref(agent);
    }
    int64_t n = msg_db_server_agent_add(st, EZ_DEFAULT_SERVER_ID, aid);
    if (n < 0)
        return msg_fail(st, req, 500, "Failed to add agent to message server");
    if (n > 0)
        membership_event(st, "agent_added_to_server", sid, aid);
    return msg_ok(st, req, 201,
                  json_pack("{s:s, s:s, s:s}", "messageServerId", sid, "agentId", aid, "message",
                            "Agent added to message server successfully"));
}

static int h_agent_remove(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *sid = NULL;
    const char *aid = membership_target(st, req, &sid);
    if (!aid)
        return EZ_DONE;
    if (strcasecmp(sid, EZ_DEFAULT_SERVER_ID) != 0)
        return msg_fail(st, req, 403, "Cannot modify agents for a different server");
    int64_t n = msg_db_server_agent_remove(st, EZ_DEFAULT_SERVER_ID, aid);
    if (n < 0)
        return msg_fail(st, req, 500, "Failed to remove agent from message server");
    if (n > 0)
        membership_event(st, "agent_removed_from_server", sid, aid);
    return msg_ok(st, req, 200,
                  json_pack("{s:s, s:s, s:s}", "messageServerId", sid, "agentId", aid, "message",
                            "Agent removed from message server successfully"));
}

static int h_agent_servers(ez_req *req, void *ud) {
    msg_state *st = ud;
    const char *aid = st->api->param(req, "agentId");
    if (!msg_valid_uuid_s(st, aid))
        return msg_fail(st, req, 400, "Invalid agentId format");
    json_t *servers = msg_db_agent_servers(st, aid);
    if (!servers)
        return msg_fail(st, req, 500, "Failed to fetch message servers for agent");
    return msg_ok(st, req, 200, json_pack("{s:s, s:o}", "agentId", aid, "messageServers", servers));
}

static int h_debug(ez_req *req, void *ud) {
    msg_state *st = ud;
    json_t *servers = msg_db_servers(st);
    if (!servers) {
        st->api->respond_error(req, 500, EZ_ERR_RAW, NULL, "Failed to retrieve servers", NULL);
        return EZ_DONE;
    }
    json_t *body = json_pack("{s:b, s:o, s:I}", "success", 1, "servers", servers, "count",
                             (json_int_t)json_array_size(servers));
    st->api->respond_json_new(req, 200, body);
    return EZ_DONE;
}

int msg_servers_register(msg_state *st) {
    int rc = 0;
    rc |= msg_route(st, EZ_GET, MSG_BASE "/message-server/current", h_current);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/message-servers", h_list_real);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/central-servers", h_list_central);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/servers/central", h_list_seed);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/message-servers", h_create);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/servers", h_create);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/message-servers/:serverId/channels", h_channels);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/central-servers/:serverId/channels", h_channels);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/servers/:serverId/channels", h_channels);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/message-servers/:serverId/agents", h_agents);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/servers/:serverId/agents", h_agents);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/message-servers/:serverId/agents", h_agent_add);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/servers/:serverId/agents", h_agent_add);
    rc |=
        msg_route(st, EZ_POST, MSG_BASE "/message-servers/:serverId/agents/:agentId", h_agent_add);
    rc |= msg_route(st, EZ_POST, MSG_BASE "/servers/:serverId/agents/:agentId", h_agent_add);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/message-servers/:serverId/agents/:agentId",
                    h_agent_remove);
    rc |= msg_route(st, EZ_DELETE, MSG_BASE "/servers/:serverId/agents/:agentId", h_agent_remove);
    rc |= msg_route(st, EZ_GET, MSG_BASE "/agents/:agentId/message-servers", h_agent_servers);
    rc |= msg_route(st, EZ_GET, "/api/server/debug/servers", h_debug);
    rc |= msg_route(st, EZ_GET, "/api/debug", h_debug);
    return rc ? EZ_EINVAL : EZ_OK;
}
