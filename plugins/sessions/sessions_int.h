/* sessions: the elizaOS Sessions API (COMPAT §8), a convenience layer over messaging. A session
 * owns a central DM channel with one agent; its state lives in process memory (as in the
 * official server: sessions end with the process), its messages in messaging's store. */
#ifndef SS_INT_H
#define SS_INT_H

#include <elizad/agents.h>
#include <elizad/host.h>
#include <elizad/messaging.h>
#include <elizad/plugin.h>

#include <jansson.h>
#include <stdint.h>

#define SS_MAX_CONTENT 4000
#define SS_MAX_METADATA 10240
#define SS_BUCKETS 1024 /* power of two */

/* Timeout settings of one session, in minutes (fractions allowed, as Number() gives them). */
typedef struct ss_timeout {
    double timeout_min;
    int auto_renew;
    double max_duration_min;
    double warning_min;
} ss_timeout;

/* Server limits (COMPAT §8.1), after clamping. */
typedef struct ss_limits {
    double default_timeout, min_timeout, max_timeout, max_duration, warning;
    int64_t cleanup_ms;
    int max_sessions;
} ss_limits;

typedef struct ss_session {
    char id[37], agent_id[37], channel_id[37], user_id[37];
    json_t *metadata;     /* object, owned */
    json_t *channel_meta; /* the channel's metadata at creation, merged into messages; owned */
    int64_t created, last_activity, expires;
    ss_timeout cfg;
    int renewals;
    int warned; /* sessionExpirationWarning sent for the current expiry */
    struct ss_session *bucket_next;
    struct ss_session *prev, *next; /* creation order */
} ss_session;

typedef struct ss_state {
    ez_plugin *self;
    const ez_host_api *api;
    const ez_messaging_v1 *msg;
    const ez_agents_v1 *agents;
    ss_limits lim;
    ss_session *buckets[SS_BUCKETS];
    ss_session *head, *tail;
    int count;
    int64_t started_ms;
    ez_timer *sweep;
} ss_state;

/* ---- sessions_config.c ---- */
int ss_limits_load(ss_state *st, const json_t *cfg);
/* The agent's defaults: server limits overridden by its SESSION_* settings. */
ss_timeout ss_agent_timeout(ss_state *st, const char *agent_id);
/* Merges a request's timeoutConfig onto base (COMPAT §8.1 clamping). 0, or -1 when it is not an
 * object or (strict: PATCH) has a value of the wrong type (not a number or string; autoRenew not
 * a boolean). */
int ss_timeout_merge(const ss_state *st, ss_timeout *base, const json_t *req_cfg, int strict);
/* A numeric member: number, or a string Number() accepts. 1 = present and numeric, 0 = absent,
 * -1 = a string that is not a number (NaN), -2 = another type. */
int ss_num(const json_t *v, double *out);
json_t *ss_timeout_json(const ss_timeout *t);
json_t *ss_minutes_json(double m);

/* ---- sessions_table.c ---- */
ss_session *ss_find(ss_state *st, const char *id);
/* Adds s (owned by the table from now on). */
void ss_insert(ss_state *st, ss_session *s);
void ss_remove(ss_state *st, ss_session *s); /* unlinks and frees */
void ss_free_all(ss_state *st);
int64_t ss_expiry(const ss_session *s, int64_t now);
/* Renewal (lastActivity = now, count, expiry, warning cleared); 0 once past maxDuration. */
int ss_renew(ss_state *st, ss_session *s, int64_t now);
int64_t ss_remaining(const ss_session *s, int64_t now);
int ss_near_expiry(const ss_session *s, int64_t now);
json_t *ss_info(ss_state *st, const ss_session *s, int64_t now);
json_t *ss_iso(ss_state *st, int64_t ms);
void ss_sweep(void *ud);
/* Tells the channel room and drops the session (freed). */
void ss_expire(ss_state *st, ss_session *s, int64_t now);

/* ---- sessions_routes.c ---- */
int ss_routes_register(ss_state *st);
int ss_error(ss_state *st, ez_req *req, int status, const char *code, const char *message,
             const char *details);
/* The session of the request's :sessionId, or NULL after answering 404 / 410. */
ss_session *ss_lookup(ss_state *st, ez_req *req);
/* {sessionId, agentId, userId, timeoutConfig, ...the creation metadata} (new). */
json_t *ss_channel_metadata(const ss_session *s);
/* 1 for an object over 10 240 characters of compact JSON (JSON.stringify's length). */
int ss_metadata_too_big(const json_t *meta);
/* 400 InvalidMetadataError (metadata over 10 240 characters of JSON). */
int ss_bad_metadata(ss_state *st, ez_req *req, const json_t *meta);

/* ---- sessions_messages.c ---- */
int ss_h_send(ez_req *req, void *ud);
int ss_h_history(ez_req *req, void *ud);

#endif
