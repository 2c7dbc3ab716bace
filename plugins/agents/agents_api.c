/* The exported "agents.v1" table (include/elizad/agents.h): thin wrappers that check the agent
 * exists and forward to the storage functions. */
#include "agents_int.h"

#include <stdlib.h>
#include <string.h>

static json_t *ag_t_get(void *self, const char *agent_id) {
    ag_state *st = self;
    ag_agent *a = ag_find(st, agent_id);
    if (!a)
        return NULL;
    json_t *view = ag_agent_json(a); /* shares the cached character: copy before decrypting */
    json_t *out = json_deep_copy(view);
    json_decref(view);
    ag_secrets_decrypt_character(st, out);
    return out;
}

static json_t *ag_t_get_shared(void *self, const char *agent_id) {
    ag_agent *a = ag_find(self, agent_id);
    if (!a)
        return NULL;
    if (!a->shared)
        a->shared = ag_t_get(self, agent_id);
    return json_incref(a->shared);
}

static int ag_t_is_active(void *self, const char *agent_id) {
    ag_agent *a = ag_find(self, agent_id);
    return a && a->active;
}

static json_t *ag_t_list_active(void *self) {
    ag_state *st = self;
    json_t *out = json_array();
    for (size_t i = 0; i < st->n_agents; i++)
        if (st->agents[i]->active)
            json_array_append_new(out, json_string(st->agents[i]->id));
    return out;
}

/* The agent's canonical id (as stored), or NULL when unknown. */
static const char *ag_t_known(void *self, const char *agent_id) {
    ag_agent *a = ag_find(self, agent_id);
    return a ? a->id : NULL;
}

static int ag_t_room_ensure(void *self, const char *agent_id, const json_t *room) {
    const char *id = ag_t_known(self, agent_id);
    return id ? ag_room_ensure(self, id, room) : EZ_ENOENT;
}

static int ag_t_world_ensure(void *self, const char *agent_id, const json_t *world) {
    const char *id = ag_t_known(self, agent_id);
    return id ? ag_world_ensure(self, id, world) : EZ_ENOENT;
}

static int ag_t_memory_add(void *self, const char *agent_id, const json_t *memory,
                           char id_out[37]) {
    const char *id = ag_t_known(self, agent_id);
    return id ? ag_memory_add(self, id, memory, id_out) : EZ_ENOENT;
}

static json_t *ag_t_memories_recent(void *self, const char *agent_id, const char *room_id,
                                    const char *type, int limit) {
    const char *id = ag_t_known(self, agent_id);
    return id && room_id ? ag_memories_recent(self, id, room_id, type, limit) : json_array();
}

static int ag_t_memory_delete(void *self, const char *agent_id, const char *memory_id) {
    const char *id = ag_t_known(self, agent_id);
    return id && memory_id ? ag_memory_delete(self, id, memory_id) : EZ_ENOENT;
}

static int ag_t_room_memories_clear(void *self, const char *agent_id, const char *room_id) {
    const char *id = ag_t_known(self, agent_id);
    return id && room_id ? ag_room_memories_clear(self, id, room_id) : EZ_ENOENT;
}

static int ag_t_run_open(void *self, const char *agent_id, const json_t *info,
                         char run_id_out[37]) {
    const char *id = ag_t_known(self, agent_id);
    return id ? ag_run_open(self, id, info, run_id_out) : EZ_ENOENT;
}

static int ag_t_run_event(void *self, const char *agent_id, const char *run_id, const char *type,
                          const json_t *data) {
    const char *id = ag_t_known(self, agent_id);
    return id && run_id ? ag_run_event(self, id, run_id, type, data) : EZ_ENOENT;
}

static int ag_t_run_close(void *self, const char *agent_id, const char *run_id, const char *status,
                          const json_t *data) {
    const char *id = ag_t_known(self, agent_id);
    return id && run_id ? ag_run_close(self, id, run_id, status, data) : EZ_ENOENT;
}

static int ag_t_log_add(void *self, const char *agent_id, const json_t *log) {
    ag_state *st = self;
    const char *id = ag_t_known(self, agent_id);
    if (!id)
        return EZ_ENOENT;
    const char *type = json_string_value(json_object_get(log, "type"));
    const char *room = json_string_value(json_object_get(log, "roomId"));
    const char *entity = json_string_value(json_object_get(log, "entityId"));
    const json_t *body = json_object_get(log, "body");
    if (!type || !*type || strlen(type) > 128 || (room && !st->api->uuid_valid(room)) ||
        (entity && !st->api->uuid_valid(entity)) || (body && !json_is_object(body)))
        return EZ_EINVAL;
    const char *run = json_string_value(json_object_get(body, "runId"));
    if (run && !st->api->uuid_valid(run))
        run = NULL;
    /* a log of a run's kind is that run's event: it then counts in the run summary */
    const char *event = NULL;
    if (strncmp(type, "useModel:", 9) == 0)
        event = "MODEL_USED";
    else if (strcmp(type, "action") == 0)
        event = "ACTION_COMPLETED";
    else if (strcmp(type, "action_event") == 0)
        event = "ACTION_STARTED";
    else if (strcmp(type, "evaluator") == 0)
        event = "EVALUATOR_COMPLETED";
    else if (strcmp(type, "embedding_event") == 0)
        event = "EMBEDDING_EVENT";
    if (run && event) {
        json_t *data = json_deep_copy(body);
        json_object_del(data, "runId");
        if (strcmp(event, "MODEL_USED") == 0 && !json_object_get(data, "modelType"))
            json_object_set_new_nocheck(data, "modelType", json_string(type + 9));
        int rc = ag_run_event(st, id, run, event, data);
        json_decref(data);
        if (rc != EZ_ENOENT)
            return rc;
    }
    /* a copy: the caller may change its body once this returns */
    return ag_log_insert(st, id, room, entity, type, body ? json_deep_copy(body) : NULL, run, NULL);
}

static int ag_t_panel_add(void *self, const char *agent_id, const char *name, const char *path) {
    return ag_panel_add(self, agent_id, name, path);
}

void ag_api_fill(ag_state *st) {
    ez_agents_v1 *t = &st->table;
    t->size = sizeof *t;
    t->self = st;
    t->get = ag_t_get;
    t->get_shared = ag_t_get_shared;
    t->is_active = ag_t_is_active;
    t->list_active = ag_t_list_active;
    t->room_ensure = ag_t_room_ensure;
    t->world_ensure = ag_t_world_ensure;
    t->memory_add = ag_t_memory_add;
    t->memories_recent = ag_t_memories_recent;
    t->memory_delete = ag_t_memory_delete;
    t->room_memories_clear = ag_t_room_memories_clear;
    t->run_open = ag_t_run_open;
    t->run_event = ag_t_run_event;
    t->run_close = ag_t_run_close;
    t->log_add = ag_t_log_add;
    t->panel_add = ag_t_panel_add;
}
