/* Panels (COMPAT §4 GET /api/agents/:agentId/panels): UI entries other plugins register for
 * one agent or for every agent through agents.v1 panel_add. Kept in memory: plugins register
 * them again at each start. */
#include "agents_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ag_panel_add(ag_state *st, const char *agent_id, const char *name, const char *path) {
    if (!name || !*name || strlen(name) > 128 || !path || !*path || strlen(path) > 1024 ||
        (agent_id && !st->api->uuid_valid(agent_id)))
        return EZ_EINVAL;
    size_t i;
    json_t *p;
    json_array_foreach(st->panels, i, p) {
        const char *pid = json_string_value(json_object_get(p, "agentId"));
        int same_agent = (!pid && !agent_id) || (pid && agent_id && strcasecmp(pid, agent_id) == 0);
        if (same_agent && strcmp(json_string_value(json_object_get(p, "name")), name) == 0) {
            json_object_set_new_nocheck(p, "path", json_string(path));
            return EZ_OK;
        }
    }
    json_t *o = json_pack("{s:o, s:s, s:s}", "agentId", ag_str_or_null(agent_id), "name", name,
                          "path", path);
    return o && json_array_append_new(st->panels, o) == 0 ? EZ_OK : EZ_EINVAL;
}

/* Replaces ":agentId" and "{agentId}" in a registered path with the agent's id. */
static json_t *ag_panel_path(const char *path, const char *agent_id) {
    ag_buf b = {0};
    const char *s = path;
    while (*s) {
        if (strncmp(s, ":agentId", 8) == 0) {
            ag_buf_puts(&b, agent_id);
            s += 8;
        } else if (strncmp(s, "{agentId}", 9) == 0) {
            ag_buf_puts(&b, agent_id);
            s += 9;
        } else {
            ag_buf_put(&b, s, 1);
            s++;
        }
    }
    json_t *out = json_string(b.p ? b.p : "");
    ag_buf_free(&b);
    return out;
}

static int ag_h_panels(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(st->panels, i, p) {
        const char *pid = json_string_value(json_object_get(p, "agentId"));
        if (pid && strcasecmp(pid, a->id) != 0)
            continue;
        json_array_append_new(
            out, json_pack("{s:O, s:o}", "name", json_object_get(p, "name"), "path",
                           ag_panel_path(json_string_value(json_object_get(p, "path")), a->id)));
    }
    return ag_ok(st, req, 200, out);
}

int ag_register_panel_routes(ag_state *st) {
    return ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)/panels", NULL, ag_h_panels,
                        &st->r_running);
}
