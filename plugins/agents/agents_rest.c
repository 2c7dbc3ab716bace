/* REST: agent list, create, details, patch, delete, start, stop (COMPAT §4). */
#include "agents_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ag_h_list(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    size_t len = 0;
    const char *body = ag_list_body(st, &len);
    if (!body)
        return ag_err(st, req, 500, "500", "Error retrieving agents", "out of memory");
    return ag_ok_raw(st, req, 200, body, len);
}

static int ag_h_get(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    size_t len = 0;
    const char *body = ag_detail_body(st, a, &len);
    if (!body)
        return ag_err(st, req, 500, "500", "Error retrieving agent", "out of memory");
    return ag_ok_raw(st, req, 200, body, len);
}

static int ag_create_error(ag_state *st, ez_req *req, const char *msg) {
    return ag_err(st, req, 400, "CREATE_ERROR", msg, msg);
}

int ag_create_from_json(ag_state *st, ez_req *req, const json_t *json, const char *path_label) {
    json_t *c = NULL;
    char *err = ag_character_validate(json, &c);
    if (err) {
        int rc;
        if (path_label) {
            size_t n = strlen(err) + strlen(path_label) + 64;
            char *msg = malloc(n);
            if (msg)
                snprintf(msg, n, "Character file '%s' contains invalid character data. %s",
                         path_label, err);
            rc = ag_create_error(st, req, msg ? msg : err);
            free(msg);
        } else {
            rc = ag_create_error(st, req, err);
        }
        free(err);
        return rc;
    }
    ag_character_env_secrets(c);
    char id[37];
    const char *given = json_string_value(json_object_get(c, "id"));
    if (given) {
        memcpy(id, given, 37);
    } else {
        st->api->uuid_from_string(ag_character_name(c), id);
        json_object_set_new_nocheck(c, "id", json_string(id));
    }
    ag_secrets_encrypt_character(st, c);

    ag_agent *a = ag_find(st, id);
    if (!a) {
        a = calloc(1, sizeof *a);
        json_t *stored = json_deep_copy(c);
        if (!a || !stored) {
            free(a);
            json_decref(stored);
            json_decref(c);
            return ag_create_error(st, req, "Failed to create agent: out of memory");
        }
        json_object_del(stored, "id");
        ag_character_fill_defaults(stored);
        memcpy(a->id, id, 37);
        a->character = stored;
        a->enabled = 1;
        a->created_at = a->updated_at = st->api->now_ms();
        if (ag_persist(st, a, 1) != EZ_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "Failed to create agent %s", ag_character_name(stored));
            json_decref(stored);
            free(a);
            json_decref(c);
            return ag_create_error(st, req, msg);
        }
        if (ag_cache_add(st, a) != EZ_OK) {
            json_decref(c);
            return ag_create_error(st, req, "Failed to create agent: out of memory");
        }
        ag_publish(st, "agents.agent.created", a);
        st->api->log(st->self, EZ_INFO, "agent created: %s (%s)", ag_character_name(stored), id);
    }
    json_t *data = json_object();
    json_object_set_new_nocheck(data, "id", json_string(a->id));
    json_object_set_new_nocheck(data, "character", c);
    return ag_ok(st, req, 201, data);
}

static int ag_h_create(ez_req *req, void *ud) {
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    const json_t *cj = json_object_get(body, "characterJson");
    const json_t *cp = json_object_get(body, "characterPath");
    const json_t *ag = json_object_get(body, "agent");
    /* checked in the real server's order, with JavaScript truthiness */
    if (ag_truthy(cj))
        return ag_create_from_json(st, req, cj, NULL);
    if (ag_truthy(cp)) {
        if (!json_is_string(cp))
            return ag_create_error(st, req, "characterPath must be a string");
        return ag_create_from_path(st, req, json_string_value(cp));
    }
    if (ag_truthy(ag))
        return ag_create_from_json(st, req, ag, NULL);
    return ag_create_error(st, req, "No character configuration provided");
}

/* Keys of the stored agent row that the UI echoes back in a PATCH; not character fields. */
static const char *const ag_row_keys[] = {"id",        "status",    "enabled",  "createdAt",
                                          "updatedAt", "server_id", "serverId", NULL};

static int ag_h_patch(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    const json_t *body = st->api->body_json(req);
    if (body && !json_is_object(body))
        return ag_err(st, req, 400, "UPDATE_ERROR", "Error updating agent",
                      "The request body must be a JSON object");

    json_t *merged = json_deep_copy(a->character);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v) {
        int row_key = 0;
        for (const char *const *r = ag_row_keys; *r; r++)
            row_key |= strcmp(*r, k) == 0;
        if (row_key)
            continue;
        json_t *cur = json_object_get(merged, k);
        if ((strcmp(k, "settings") == 0 || strcmp(k, "secrets") == 0) && json_is_object(v)) {
            if (!json_is_object(cur)) {
                cur = json_object();
                json_object_set_new(merged, k, cur);
            }
            ag_json_merge(cur, v); /* deep merge, null deletes (COMPAT §4 PATCH) */
        } else if (json_is_null(v))
            json_object_del(merged, k);
        else
            json_object_set_new(merged, k, json_deep_copy(v));
    }
    json_t *valid = NULL;
    char *err = ag_character_validate(merged, &valid);
    json_decref(merged);
    if (err) {
        int rc = ag_err(st, req, 400, "UPDATE_ERROR", "Error updating agent", err);
        free(err);
        return rc;
    }
    ag_character_fill_defaults(valid);
    ag_secrets_encrypt_character(st, valid);

    json_t *old = a->character;
    int old_enabled = a->enabled;
    int64_t old_updated = a->updated_at;
    a->character = valid;
    const json_t *en = json_object_get(body, "enabled");
    if (json_is_boolean(en))
        a->enabled = json_is_true(en);
    a->updated_at = st->api->now_ms();
    if (ag_persist(st, a, 0) != EZ_OK) {
        a->character = old;
        a->enabled = old_enabled;
        a->updated_at = old_updated;
        json_decref(valid);
        return ag_err(st, req, 500, "UPDATE_ERROR", "Error updating agent", "storage failure");
    }
    json_decref(old);
    ag_cache_touch(st, a);
    ag_publish(st, "agents.agent.updated", a);
    size_t len = 0;
    const char *out = ag_detail_body(st, a, &len);
    if (!out)
        return ag_err(st, req, 500, "UPDATE_ERROR", "Error updating agent", "out of memory");
    return ag_ok_raw(st, req, 200, out, len);
}

static int ag_h_delete(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    if (ag_agent_delete(st, a) != EZ_OK)
        return ag_err(st, req, 500, "DELETE_ERROR", "Error deleting agent", "storage failure");
    return st->api->respond_empty(req, 204);
}

static int ag_h_start(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req);
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    if (ag_agent_start(st, a, 0) != EZ_OK)
        return ag_err(st, req, 500, "START_ERROR", "Error starting agent", "storage failure");
    return ag_ok(st, req, 200,
                 json_pack("{ssssss}", "id", a->id, "name", ag_character_name(a->character),
                           "status", "active"));
}

static int ag_h_stop(ez_req *req, void *ud) {
    ag_agent *a = ag_route_agent(ud, req); /* registered with need_running: 404 when stopped */
    if (!a)
        return EZ_DONE;
    ag_state *st = ((const ag_route *)ud)->st;
    int rc = ag_agent_stop(st, a);
    if (rc == EZ_ENOENT)
        return ag_err(st, req, 404, "NOT_FOUND", "Agent not found", NULL);
    if (rc != EZ_OK)
        return ag_err(st, req, 500, "STOP_ERROR", "Error stopping agent", "storage failure");
    return ag_ok(st, req, 200, json_pack("{ss}", "message", "Agent stopped"));
}

int ag_register_agents_routes(ag_state *st) {
    const ag_route *any = &st->r_exists, *run = &st->r_running;
    int rc = 0;
    rc |= ag_add_route(st, EZ_GET, "/api/agents", NULL, ag_h_list, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents", NULL, ag_h_create, any);
    rc |= ag_add_route(st, EZ_GET, "/api/agents/:agentId(uuid)", NULL, ag_h_get, any);
    rc |= ag_add_route(st, EZ_PATCH, "/api/agents/:agentId(uuid)", NULL, ag_h_patch, any);
    rc |= ag_add_route(st, EZ_DELETE, "/api/agents/:agentId(uuid)", NULL, ag_h_delete, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/start", NULL, ag_h_start, any);
    rc |= ag_add_route(st, EZ_POST, "/api/agents/:agentId(uuid)/stop", NULL, ag_h_stop, run);
    return rc ? EZ_EINVAL : EZ_OK;
}
