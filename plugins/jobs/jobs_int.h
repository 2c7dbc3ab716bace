/* jobs: the elizaOS Jobs API (COMPAT §9), one-shot questions to an agent that a client polls
 * for. A job owns a fresh DM channel with its agent; the job itself lives in process memory
 * only (as in the official server), its messages in messaging's store. */
#ifndef JB_INT_H
#define JB_INT_H

#include <elizad/agents.h>
#include <elizad/host.h>
#include <elizad/messaging.h>
#include <elizad/plugin.h>

#include <jansson.h>
#include <stdint.h>

#define JB_MAX_CONTENT 50000 /* UTF-16 code units, as JavaScript's String.length counts */
#define JB_MAX_METADATA 10000
#define JB_DEFAULT_TIMEOUT_MS 30000
#define JB_MIN_TIMEOUT_MS 1000
#define JB_MAX_TIMEOUT_MS 300000
#define JB_LIST_DEFAULT 50
#define JB_BUCKETS 4096 /* power of two */

#define JB_TIMEOUT_ERROR "Job timed out waiting for agent response"

typedef enum jb_status {
    JB_PENDING,
    JB_PROCESSING,
    JB_COMPLETED,
    JB_FAILED,
    JB_TIMEOUT,
    JB_NSTATUS
} jb_status;

typedef struct jb_job {
    char id[37], agent_id[37], user_id[37], channel_id[37];
    char user_msg_id[37]; /* empty until the user message is stored */
    char *content;        /* owned */
    json_t *metadata;     /* object, owned */
    json_t *result;       /* {message, processingTimeMs}, owned; NULL until completed */
    char *error;          /* owned; NULL unless failed or timed out */
    jb_status status;
    size_t bytes; /* what the job holds, roughly: prompt, metadata text, reply text */
    int64_t created, expires;
    int action_seen;                  /* an "Executing action:" message came (COMPAT §9) */
    struct jb_job *id_next, *ch_next; /* hash chains: by job id, by channel id */
    struct jb_job *prev, *next;       /* creation order, oldest first */
} jb_job;

typedef struct jb_metrics {
    int64_t completed, failed, timed_out;
    int64_t total_processing_ms;
} jb_metrics;

typedef struct jb_state {
    ez_plugin *self;
    const ez_host_api *api;
    const ez_messaging_v1 *msg;
    const ez_agents_v1 *agents;
    int max_jobs;
    size_t max_bytes; /* the bound on the sum of jobs' bytes: prompts may be 150 kB each */
    size_t bytes;
    int64_t sweep_ms;
    jb_job *by_id[JB_BUCKETS];
    jb_job *by_channel[JB_BUCKETS];
    jb_job *head, *tail;
    int count;
    jb_metrics metrics;
    ez_timer *sweep;
} jb_state;

/* ---- jobs_table.c ---- */
jb_job *jb_find(jb_state *st, const char *id);
jb_job *jb_find_channel(jb_state *st, const char *channel_id);
/* Adds j (owned by the table from now on), evicting the oldest tenth when the table is full and
 * the oldest jobs while the bytes held are over the budget. */
void jb_insert(jb_state *st, jb_job *j);
/* Accounts for `more` bytes j now holds (its reply), evicting older jobs when over budget. */
void jb_grow(jb_state *st, jb_job *j, size_t more);
void jb_remove(jb_state *st, jb_job *j); /* unlinks and frees */
void jb_free_all(jb_state *st);
void jb_job_free(jb_job *j);
/* A processing job past its deadline becomes timeout. Returns 1 when it changed. */
int jb_check_expiry(jb_state *st, jb_job *j, int64_t now);
/* error_new: owned by the job from now on (NULL = out of memory, the status still changes). */
void jb_fail(jb_state *st, jb_job *j, char *error_new);
void jb_sweep(void *ud);
const char *jb_status_name(jb_status s);
/* JobDetailsResponse (new). */
json_t *jb_details(const jb_job *j);

/* ---- jobs_validate.c ---- */
/* The official validation order and texts; NULL when the body is acceptable. */
const char *jb_validate_create(const json_t *body);
/* JavaScript's String.length of UTF-8 text (code points, astral ones counting twice). */
size_t jb_utf16_len(const char *s);

/* ---- jobs_routes.c ---- */
int jb_routes_register(jb_state *st);

/* ---- jobs_listen.c ---- */
void jb_on_message(const char *topic, const json_t *ev, void *ud);

#endif
