/* The agents plugin: descriptor and registration. Agents, characters, worlds, rooms, memories,
 * logs, runs and panels; the logic lives in agents_<topic>.c (see README.md). */
#include "agents_int.h"

#include <dlfcn.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const ez_config_field ag_config[] = {
    {EZ_CFG_STRING, "characters_dir", "", 0, 0,
     "folder characterPath is resolved in (never left); empty = <data_dir>/agents/characters"},
    {EZ_CFG_BOOL, "allow_character_urls", "false", 0, 0,
     "let characterPath be an http(s) URL the server fetches"},
    {EZ_CFG_STRING, "secret_salt", "", 0, 1,
     "key material for secrets at rest (SECRET_SALT wins; default \"secretsalt\" as elizaOS)"},
    {EZ_CFG_BOOL, "test_routes", "false", 0, 0,
     "serve /api/agents/:id/test/* (seeding memories, runs, logs) for the test suite only"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

/* Portable SQL (SQLite and PostgreSQL); timestamps are epoch ms, JSON is TEXT. One migration
 * per table group keeps each script short. */
static const char *const ag_schema[] = {
    "CREATE TABLE @agents (id TEXT PRIMARY KEY, name TEXT NOT NULL, character TEXT NOT NULL, "
    "status TEXT NOT NULL DEFAULT 'inactive', enabled INTEGER NOT NULL DEFAULT 1, "
    "server_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);",

    "CREATE TABLE @worlds (agent_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, "
    "metadata TEXT, message_server_id TEXT, created_at INTEGER NOT NULL, "
    "PRIMARY KEY (agent_id, id));"
    "CREATE TABLE @rooms (agent_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, channel_id TEXT, "
    "message_server_id TEXT, world_id TEXT, type TEXT, source TEXT, metadata TEXT, "
    "created_at INTEGER NOT NULL, PRIMARY KEY (agent_id, id));"
    "CREATE INDEX @rooms_world ON @rooms (world_id);",

    "CREATE TABLE @memories (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, room_id TEXT, "
    "world_id TEXT, entity_id TEXT, type TEXT NOT NULL, created_at INTEGER NOT NULL, "
    "content TEXT NOT NULL, metadata TEXT, embedding TEXT, is_unique INTEGER NOT NULL "
    "DEFAULT 0, source_id TEXT, doc TEXT NOT NULL);"
    "CREATE INDEX @memories_type ON @memories (agent_id, type, created_at);"
    "CREATE INDEX @memories_room ON @memories (agent_id, room_id, type, created_at);"
    "CREATE INDEX @memories_world ON @memories (world_id);"
    "CREATE INDEX @memories_source ON @memories (source_id);",

    "CREATE TABLE @logs (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, room_id TEXT, "
    "entity_id TEXT, type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, "
    "seq INTEGER NOT NULL, run_id TEXT, event TEXT);"
    "CREATE INDEX @logs_agent ON @logs (agent_id, seq);"
    "CREATE INDEX @logs_run ON @logs (run_id, seq);",

    "CREATE TABLE @runs (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, status TEXT NOT NULL, "
    "started_at INTEGER NOT NULL, ended_at INTEGER, message_id TEXT, room_id TEXT, "
    "entity_id TEXT, source TEXT, metadata TEXT, error TEXT, actions INTEGER NOT NULL, "
    "action_events INTEGER NOT NULL, model_calls INTEGER NOT NULL, errors INTEGER NOT NULL, "
    "evaluators INTEGER NOT NULL);"
    "CREATE INDEX @runs_agent ON @runs (agent_id, started_at);",
    NULL};

static int ag_cfg_bool(const json_t *cfg, const char *key) {
    const json_t *v = json_object_get(cfg, key);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

/* The characters folder, made absolute (realpath) so containment checks compare real paths. */
static int ag_setup_characters_dir(ag_state *st, const json_t *cfg) {
    const char *dir = json_string_value(json_object_get(cfg, "characters_dir"));
    char def[PATH_MAX];
    if (!dir || !*dir) {
        const char *base = st->api->data_dir(st->self);
        if (!base)
            return EZ_OK;
        snprintf(def, sizeof def, "%s/characters", base);
        mkdir(def, 0750); /* may exist already */
        dir = def;
    }
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        st->api->log(st->self, EZ_WARN,
                     "characters_dir %s does not exist: characterPath is disabled", dir);
        return EZ_OK;
    }
    st->characters_dir = strdup(real);
    return st->characters_dir ? EZ_OK : EZ_ENOMEM;
}

static void ag_destroy(void *state) {
    ag_state *st = state;
    if (!st)
        return;
    ag_cache_free(st);
    ag_runs_free(st);
    free(st->secret_salt);
    if (st->curl.lib && !getenv("ELIZAD_NO_DLCLOSE"))
        dlclose(st->curl.lib);
    pthread_mutex_destroy(&st->curl_mu);
    json_decref(st->panels);
    free(st->characters_dir);
    free(st);
}

static int ag_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    ag_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    pthread_mutex_init(&st->curl_mu, NULL);
    st->db = api->store;
    st->panels = json_array();
    st->r_running = (ag_route){st, 1};
    st->r_exists = (ag_route){st, 0};
    st->allow_urls = ag_cfg_bool(cfg, "allow_character_urls");
    st->test_routes = ag_cfg_bool(cfg, "test_routes");

    const char *salt = getenv("SECRET_SALT");
    if (!salt || !*salt)
        salt = json_string_value(json_object_get(cfg, "secret_salt"));
    int rc = ag_secrets_init_key(st, salt && *salt ? salt : "secretsalt") ? EZ_ENOMEM : EZ_OK;
    if (rc == EZ_OK)
        rc = ag_setup_characters_dir(st, cfg);
    for (int v = 0; rc == EZ_OK && ag_schema[v]; v++)
        if ((rc = st->db->migrate(self, v + 1, ag_schema[v])) != EZ_OK)
            api->log(self, EZ_ERR, "schema migration %d failed (%d)", v + 1, rc);
    if (rc == EZ_OK) {
        json_t *row = st->db->query_one(self, "SELECT MAX(seq) AS m FROM @logs", NULL);
        st->log_seq = ag_col_i64(row, "m");
        json_decref(row);
        if ((rc = ag_cache_load(st)) != EZ_OK)
            api->log(self, EZ_ERR, "cannot load the agents table (%d)", rc);
    }
    if (rc == EZ_OK)
        rc = ag_register_agents_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_world_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_room_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_memory_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_log_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_run_routes(st);
    if (rc == EZ_OK)
        rc = ag_register_panel_routes(st);
    if (rc == EZ_OK && st->test_routes) {
        api->log(self, EZ_WARN, "test_routes is on: /api/agents/:id/test/* is served");
        rc = ag_register_test_routes(st);
    }
    if (rc == EZ_OK) {
        ag_api_fill(st);
        rc = api->export_api(self, EZ_AGENTS_V1, &st->table);
    }
    if (rc != EZ_OK) {
        ag_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

/* Agents that were active when the server stopped start again (COMPAT §4 start/stop). */
static int ag_start(void *state) {
    ag_state *st = state;
    int n = 0;
    for (size_t i = 0; i < st->n_agents; i++) {
        if (st->agents[i]->active) {
            ag_agent_start(st, st->agents[i], 1);
            n++;
        }
    }
    st->api->log(st->self, EZ_INFO, "%zu agents, %d started", st->n_agents, n);
    return EZ_OK;
}

EZ_PLUGIN(.name = "agents", .version = "1.0.0",
          .description = "Agents, characters, worlds, rooms, memories, logs, runs and panels",
          .config = ag_config, .init = ag_init, .start = ag_start, .destroy = ag_destroy);
