/* "agents.v1": exported by the agents plugin for the runtime and other plugins. All functions
 * run on the loop thread. Ids are uuid strings. */
#ifndef EZ_AGENTS_H
#define EZ_AGENTS_H

#include <elizad/types.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EZ_AGENTS_V1 "agents.v1"

typedef struct ez_agents_v1 {
    uint32_t size;
    void *self; /* first argument of every function */

    /* The stored agent (character fields + id, status, createdAt...) with settings.secrets and
     * secrets decrypted, for in-process use only (new), or NULL when unknown. */
    json_t *(*get)(void *self, const char *agent_id);
    /* 1 when the agent exists and is started. */
    int (*is_active)(void *self, const char *agent_id);
    /* Ids of the started agents (new array of strings). */
    json_t *(*list_active)(void *self);

    /* Agent-side rooms and worlds (COMPAT §3.7/3.8). room (borrowed): {id, name, channelId,
     * messageServerId, worldId, type, source, metadata}; created when absent, else left as is. */
    int (*room_ensure)(void *self, const char *agent_id, const json_t *room);
    int (*world_ensure)(void *self, const char *agent_id, const json_t *world);

    /* Memories (COMPAT §3.6). memory (borrowed): {id?, type? ("messages"), roomId, entityId,
     * content: {...}, metadata?, createdAt? (ms), unique?}. Writes the generated id to id_out
     * (may be NULL). EZ_EEXIST when the id exists (dedupe). */
    int (*memory_add)(void *self, const char *agent_id, const json_t *memory, char id_out[37]);
    /* The newest `limit` memories of a room, newest first (new array). type NULL = "messages". */
    json_t *(*memories_recent)(void *self, const char *agent_id, const char *room_id,
                               const char *type, int limit);
    /* Deletes memories whose metadata.sourceId / id is this central message, or a whole room. */
    int (*memory_delete)(void *self, const char *agent_id, const char *memory_id);
    int (*room_memories_clear)(void *self, const char *agent_id, const char *room_id);

    /* Runs (COMPAT §3.10): open returns the run id in run_id_out. info (borrowed):
     * {messageId, roomId, entityId, source, metadata?}. */
    int (*run_open)(void *self, const char *agent_id, const json_t *info, char run_id_out[37]);
    /* type: "MODEL_USED", "ACTION_STARTED", ... ; data borrowed. */
    int (*run_event)(void *self, const char *agent_id, const char *run_id, const char *type,
                     const json_t *data);
    /* status: "completed" | "error" | "timeout"; data borrowed ({error?}). */
    int (*run_close)(void *self, const char *agent_id, const char *run_id, const char *status,
                     const json_t *data);
    /* Agent logs (COMPAT §3.9): log borrowed {type, roomId?, entityId?, body}. */
    int (*log_add)(void *self, const char *agent_id, const json_t *log);

    /* Panels (GET /api/agents/:id/panels): a plugin adds {name, path} for an agent, or for every
     * agent when agent_id is NULL. */
    int (*panel_add)(void *self, const char *agent_id, const char *name, const char *path);

    /* What get returns, as one snapshot shared by every caller until the agent changes (a new
     * reference): read only, never change it. For hot paths (the runtime, once per reply):
     * get copies the whole character each time. Appended: check EZ_AGENTS_HAS(t, get_shared). */
    json_t *(*get_shared)(void *self, const char *agent_id);
} ez_agents_v1;

/* Whether an exported table has member (tables grow at their end) and it is set. */
#define EZ_AGENTS_HAS(t, member)                                                                   \
    (offsetof(ez_agents_v1, member) + sizeof((t)->member) <= (t)->size && (t)->member != NULL)

/* Bus topics published by the agents plugin, each {agentId, name}:
 *   agents.agent.created | started | stopped | updated | deleted */

#ifdef __cplusplus
}
#endif

#endif
