/* Private header of the agents plugin: the plugin state, the in-memory agent cache and the
 * functions the agents_*.c files share. Nothing here is visible outside ez_agents.so (hidden
 * visibility); only the descriptor in agents.c is exported. */
#ifndef AG_INT_H
#define AG_INT_H

#include <curl/curl.h>
#include <elizad/agents.h>
#include <elizad/plugin.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on network input. */
#define AG_MAX_ISSUES 24       /* validation issues reported in one message */
#define AG_MAX_NAME 512        /* world / room names */
#define AG_MAX_LIMIT 10000     /* explicit ?limit= on memory listings */
#define AG_MAX_PATH 4096       /* characterPath */
#define AG_MAX_FILE (2u << 20) /* character file or URL body */
#define AG_MAX_EXCLUDE 32      /* excludeTypes values */

/* A growable byte buffer used to render hot responses without a jansson tree. */
typedef struct ag_buf {
    char *p;
    size_t len, cap;
    int oom;
} ag_buf;

/* One agent as cached in memory (the table is small: every agent row is loaded at init). */
typedef struct ag_agent {
    char id[37];
    json_t *character; /* owned: stored character (defaults filled, secrets encrypted, no id) */
    int active;        /* persisted status */
    int enabled;
    int64_t created_at; /* ms */
    int64_t updated_at;
    uint64_t start_seq; /* order of starts, for "the first running agent" */
    char *detail;       /* owned: cached GET /api/agents/:id body, NULL when stale */
    size_t detail_len;
    json_t *shared; /* owned: agents.v1 get_shared's snapshot, NULL when stale */
} ag_agent;

typedef struct ag_state ag_state;

/* Route user data: which agent state a route needs (COMPAT: real paths need a running agent,
 * seed-only paths an existing one). */
typedef struct ag_route {
    ag_state *st;
    int need_running;
} ag_route;

/* libcurl, loaded with dlopen on the first characterPath URL fetch: linking it would map
 * libcurl and its dependency tree (gnutls, krb5, ldap...: about 3 MB resident) into every
 * server, although URL fetching is off by default. */
typedef struct ag_curl {
    void *lib;
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
} ag_curl;

struct ag_state {
    pthread_mutex_t curl_mu; /* guards curl: fetches run on worker threads */
    ag_curl curl;
    ez_plugin *self;
    const ez_host_api *api;
    const ez_store_api *db;

    /* config */
    char *characters_dir; /* owned, realpath'd when it exists */
    int allow_urls;
    int test_routes;
    unsigned char key[32]; /* SHA-256 of the secret salt, once key_ready */
    int key_ready;
    char *secret_salt;

    /* agents cache */
    ag_agent **agents; /* owned array of owned records */
    size_t n_agents, cap_agents;
    uint64_t start_counter;
    char *list_body; /* owned: cached GET /api/agents body, NULL when stale */
    size_t list_len;

    json_t *panels; /* owned array of {agentId|null, name, path} */
    /* runs opened and not yet closed, newest first (agents_runs.c): their events and end read
     * the run here, not from the store, where the row may still be queued */
    struct ag_open_run *open_runs;
    size_t n_open_runs;
    int64_t log_seq; /* last seq written to @logs */
    int64_t last_ms; /* for unique time-derived ids */

    ag_route r_running, r_exists;
    ez_agents_v1 table;
};

/* ---- agents_util.c ---- */
/* One hot-path write through the kernel's storage thread (exec_later) when it has one:
 * EZ_OK when queued or done, else a negative ez_status. */
int ag_write(ag_state *st, const char *sql, const json_t *params);
/* Compact JSON text of v (new; NULL for NULL): the kernel's writer when there is one. */
char *ag_json_text(const ag_state *st, const json_t *v);
void ag_buf_put(ag_buf *b, const char *s, size_t n);
void ag_buf_puts(ag_buf *b, const char *s);
void ag_buf_put_jstr(ag_buf *b, const char *s); /* JSON string literal (escaped); NULL: null */
void ag_buf_put_i64(ag_buf *b, int64_t v);
void ag_buf_put_json(ag_buf *b, const json_t *v); /* compact dump of v */
void ag_buf_free(ag_buf *b);
/* createUniqueUuid(agentId, base). */
/* A UUIDv7 (RFC 9562: 48-bit ms timestamp, then random): ids of rows that are only ever
 * appended (runs, logs), so their primary-key index grows at its end instead of touching a
 * random page per insert. validateUuid accepts any version (COMPAT §1.6). */
void ag_time_uuid(ag_state *st, char out[37]);
void ag_unique_uuid(ag_state *st, const char *agent_id, const char *base, char out[37]);
/* A millisecond stamp strictly greater than the previous one (ids derived from Date.now()). */
int64_t ag_unique_ms(ag_state *st);
/* Style-A envelopes. data_new stolen. */
int ag_ok(ag_state *st, ez_req *req, int status, json_t *data_new);
int ag_err(ag_state *st, ez_req *req, int status, const char *code, const char *msg,
           const char *details);
/* Answers a ready-made {"success":true,...} body (borrowed bytes). */
int ag_ok_raw(ag_state *st, ez_req *req, int status, const char *body, size_t len);
/* Query integer helpers: 0 ok, -1 malformed. */
int ag_query_i64(ag_state *st, const ez_req *req, const char *name, int64_t *out, int *present);
int ag_query_time(ag_state *st, const ez_req *req, const char *name, int64_t *out, int *present);
int ag_truthy(const json_t *v);
const char *ag_json_type(const json_t *v); /* zod's name of a JSON type; "undefined" for NULL */
/* Own transaction when none is open: returns 1 when begun here, 0 when joined, <0 on error. */
int ag_tx_begin(ag_state *st);
void ag_tx_end(ag_state *st, int owned, int ok);
/* JSON text of a stored TEXT column, parsed (new) or a fallback (new) when absent/bad. */
json_t *ag_col_json(const json_t *row, const char *col, json_t *fallback_new);
const char *ag_col_str(const json_t *row, const char *col);
int64_t ag_col_i64(const json_t *row, const char *col);
/* A string or null jansson value (new). s must be valid UTF-8 - a jansson string's value, a
 * validated id, or JSON text made from such values - as every caller's is: no second scan. */
json_t *ag_str_or_null(const char *s);

/* ---- agents_secrets.c ---- */
int ag_secrets_init_key(ag_state *st, const char *salt);
/* Encrypts every plaintext string value of obj in place (numbers/booleans/encrypted kept). */
void ag_secrets_encrypt_obj(ag_state *st, json_t *obj);
/* Decrypts every encrypted string value of obj in place. */
void ag_secrets_decrypt_obj(ag_state *st, json_t *obj);
/* Encrypts settings.secrets and secrets of a character in place. */
void ag_secrets_encrypt_character(ag_state *st, json_t *character);
void ag_secrets_decrypt_character(ag_state *st, json_t *character);
/* 1 when s has the "<32 hex iv>:<hex>" form the real server leaves untouched. */
int ag_secret_is_encrypted(const char *s);

/* ---- agents_character.c ---- */
/* Validates against the strict character schema. On success returns NULL and *out (new) is
 * the validated copy (nested unknown keys stripped, as zod does); on failure returns the
 * message "Character validation failed: ..." (new, free()). */
char *ag_character_validate(const json_t *in, json_t **out);
/* Fills the stored defaults (username "", empty arrays, settings {}, style {}). */
void ag_character_fill_defaults(json_t *c);
/* Adds CHARACTER.<ID|NAME>.<KEY> environment variables to the character's secrets. */
void ag_character_env_secrets(json_t *c);
/* Deep merge used by PATCH settings/secrets: null deletes a key, objects merge, rest replace. */
void ag_json_merge(json_t *dst, const json_t *patch);
/* The bio shown in the agents list: first element of an array, a string bio whole. */
const char *ag_character_list_bio(const json_t *c);
const char *ag_character_name(const json_t *c);

/* ---- agents_cache.c ---- */
int ag_cache_load(ag_state *st);
void ag_cache_free(ag_state *st);
ag_agent *ag_find(ag_state *st, const char *id);
/* Takes ownership of a. */
int ag_cache_add(ag_state *st, ag_agent *a);
void ag_cache_remove(ag_state *st, ag_agent *a);
/* Drops the cached bodies of one agent (and the list). */
void ag_cache_touch(ag_state *st, ag_agent *a);
int ag_persist(ag_state *st, const ag_agent *a, int insert);
/* Cached bodies, rebuilt on demand (borrowed until the next change). */
const char *ag_list_body(ag_state *st, size_t *len);
const char *ag_detail_body(ag_state *st, ag_agent *a, size_t *len);
/* The agent as GET returns it (new), secrets as stored. */
json_t *ag_agent_json(const ag_agent *a);
void ag_publish(ag_state *st, const char *topic, const ag_agent *a);
/* Starts/stops an agent (status persisted, bus event). start ensures the SELF room. */
int ag_agent_start(ag_state *st, ag_agent *a, int publish_always);
int ag_agent_stop(ag_state *st, ag_agent *a);
/* Removes the agent and everything it owns (transaction). */
int ag_agent_delete(ag_state *st, ag_agent *a);
/* Route prologue: the agent named by :agentId, or NULL after answering 404. */
ag_agent *ag_route_agent(const ag_route *r, ez_req *req);

/* ---- agents_rest.c / agents_load.c ---- */
int ag_register_agents_routes(ag_state *st);
/* Finishes a POST /api/agents once a character source is known (json borrowed). */
int ag_create_from_json(ag_state *st, ez_req *req, const json_t *json, const char *path_label);
/* characterPath: resolves, reads on a worker and continues in ag_create_from_json. */
int ag_create_from_path(ag_state *st, ez_req *req, const char *path);

/* ---- agents_worlds.c ---- */
int ag_register_world_routes(ag_state *st);
int ag_world_ensure(ag_state *st, const char *agent_id, const json_t *world);

/* ---- agents_rooms.c ---- */
int ag_register_room_routes(ag_state *st);
int ag_room_ensure(ag_state *st, const char *agent_id, const json_t *room);

/* ---- agents_memories.c ---- */
int ag_register_memory_routes(ag_state *st);
int ag_memory_add(ag_state *st, const char *agent_id, const json_t *m, char id_out[37]);
json_t *ag_memories_recent(ag_state *st, const char *agent_id, const char *room_id,
                           const char *type, int limit);
int ag_memory_delete(ag_state *st, const char *agent_id, const char *memory_id);
int ag_room_memories_clear(ag_state *st, const char *agent_id, const char *room_id);

/* ---- agents_runs.c ---- */
int ag_register_run_routes(ag_state *st);
int ag_run_open(ag_state *st, const char *agent_id, const json_t *info, char run_id_out[37]);
void ag_runs_free(ag_state *st);
int ag_run_event(ag_state *st, const char *agent_id, const char *run_id, const char *type,
                 const json_t *data);
int ag_run_close(ag_state *st, const char *agent_id, const char *run_id, const char *status,
                 const json_t *data);

/* ---- agents_logs.c ---- */
int ag_register_log_routes(ag_state *st);
/* Inserts a log row; run_id/event may be NULL. body_new (stolen; NULL = {}) must be the
 * caller's alone and is never changed again: the storage thread turns it into text. */
int ag_log_insert(ag_state *st, const char *agent_id, const char *room_id, const char *entity_id,
                  const char *type, json_t *body_new, const char *run_id, const char *event);

/* ---- agents_panels.c ---- */
int ag_register_panel_routes(ag_state *st);
int ag_panel_add(ag_state *st, const char *agent_id, const char *name, const char *path);

/* ---- agents_api.c ---- */
void ag_api_fill(ag_state *st);

/* ---- agents_test.c ---- */
int ag_register_test_routes(ag_state *st);

/* Registration helper: pattern with :x(uuid) params, uuid_msg for a bad one (code INVALID_ID). */
int ag_add_route(ag_state *st, unsigned methods, const char *pattern, const char *uuid_msg,
                 ez_route_fn fn, const ag_route *ud);

#endif
