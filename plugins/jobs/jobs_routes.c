/* The Jobs API routes (COMPAT §9), under the real prefix /api/messaging/jobs and the seed's
 * /api/jobs: create, details, list, health. Errors use the jobs envelope (style D). */
#include "jobs_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const prefixes[] = {"/api/messaging/jobs", "/api/jobs"};

static int fail(jb_state *st, ez_req *req, int status, const char *message) {
    st->api->respond_error(req, status, EZ_ERR_JOBS, NULL, message, NULL);
    return EZ_DONE;
}

/* The started agent the job goes to, by its canonical id. 0 after answering 404. */
static int pick_agent(jb_state *st, ez_req *req, const char *wanted, char out[37]) {
    const ez_agents_v1 *ag = st->agents;
    if (!wanted) {
        /* the official server takes the first runtime it holds, i.e. the first started agent */
        json_t *active = ag->list_active(ag->self);
        const char *first = json_string_value(json_array_get(active, 0));
        if (first)
            snprintf(out, 37, "%s", first);
        json_decref(active);
        if (!first)
            fail(st, req, 404, "No agents available on server");
        return first != NULL;
    }
    /* a stopped agent has no runtime in the official server: "not found" as well */
    if (!ag->is_active(ag->self, wanted)) {
        char msg[80];
        snprintf(msg, sizeof msg, "Agent %s not found", wanted);
        fail(st, req, 404, msg);
        return 0;
    }
    json_t *a = ag->get(ag->self, wanted);
    const char *id = json_string_value(json_object_get(a, "id"));
    snprintf(out, 37, "%s", id && st->api->uuid_valid(id) ? id : wanted);
    json_decref(a);
    return 1;
}

/* The job's DM channel with its agent as the only participant (the runtime answers there). */
static int open_channel(jb_state *st, const jb_job *j) {
    char name[48];
    snprintf(name, sizeof name, "job-%s", j->id);
    json_t *meta = json_pack("{s:s,s:s,s:s,s:b}", "jobId", j->id, "agentId", j->agent_id, "userId",
                             j->user_id, "isJobChannel", 1);
    if (meta)
        json_object_update(meta, j->metadata);
    json_t *spec = json_pack("{s:s,s:s,s:s,s:s,s:o,s:[s]}", "id", j->channel_id, "name", name,
                             "messageServerId", EZ_DEFAULT_SERVER_ID, "type", "DM", "metadata",
                             meta, "participants", j->agent_id);
    json_t *ch = spec ? st->msg->channel_create(st->msg->self, spec) : NULL;
    json_decref(spec);
    int ok = ch != NULL;
    json_decref(ch);
    return ok;
}

/* Stores the prompt as the user's message: messaging publishes it on the bus, where the
 * runtime picks it up; no socket echo (nobody watches a job channel). */
static void post_prompt(jb_state *st, jb_job *j) {
    json_t *meta = json_pack("{s:s,s:b}", "jobId", j->id, "isJobMessage", 1);
    if (meta)
        json_object_update(meta, j->metadata);
    json_t *spec = json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:s,s:o,s:b}", "channelId", j->channel_id,
                             "messageServerId", EZ_DEFAULT_SERVER_ID, "authorId", j->user_id,
                             "content", j->content, "rawMessage", "content", j->content,
                             "sourceType", "job_request", "metadata", meta, "broadcast", 0);
    json_t *root = spec ? st->msg->message_post(st->msg->self, spec) : NULL;
    json_decref(spec);
    const char *id = json_string_value(json_object_get(root, "id"));
    if (id) {
        snprintf(j->user_msg_id, sizeof j->user_msg_id, "%s", id);
    } else {
        EZ_LOG(st->api, st->self, EZ_ERR, "job %s: the user message could not be stored", j->id);
        jb_fail(st, j, strdup("Failed to create user message"));
    }
    json_decref(root);
}

static int h_create(ez_req *req, void *ud) {
    jb_state *st = ud;
    const json_t *b = st->api->body_json(req);
    const char *why = jb_validate_create(b);
    if (why)
        return fail(st, req, 400, why);
    const char *user_id = json_string_value(json_object_get(b, "userId"));
    if (!st->api->uuid_valid(user_id))
        return fail(st, req, 400, "Invalid userId format (must be valid UUID)");
    /* an empty agentId means "any agent" (it is falsy in the official check) */
    const char *wanted = json_string_value(json_object_get(b, "agentId"));
    if (wanted && !*wanted)
        wanted = NULL;
    if (wanted && !st->api->uuid_valid(wanted))
        return fail(st, req, 400, "Invalid agentId format (must be valid UUID)");
    char agent_id[37];
    if (!pick_agent(st, req, wanted, agent_id))
        return EZ_DONE;

    const json_t *timeout = json_object_get(b, "timeoutMs");
    int64_t timeout_ms = timeout ? (int64_t)json_number_value(timeout) : JB_DEFAULT_TIMEOUT_MS;
    const json_t *meta = json_object_get(b, "metadata");
    jb_job *j = calloc(1, sizeof *j);
    if (!j)
        return fail(st, req, 500, "Failed to create job");
    j->content = strdup(json_string_value(json_object_get(b, "content")));
    j->metadata = meta ? json_deep_copy(meta) : json_object();
    if (!j->content || !j->metadata) {
        jb_job_free(j);
        return fail(st, req, 500, "Failed to create job");
    }
    char *meta_text = json_dumps(j->metadata, JSON_COMPACT);
    j->bytes = sizeof *j + strlen(j->content) + (meta_text ? strlen(meta_text) : 0);
    free(meta_text);
    st->api->uuid_v4(j->id);
    st->api->uuid_v4(j->channel_id);
    snprintf(j->agent_id, sizeof j->agent_id, "%s", agent_id);
    snprintf(j->user_id, sizeof j->user_id, "%s", user_id);
    j->status = JB_PENDING;
    j->created = st->api->now_ms();
    j->expires = j->created + timeout_ms;
    jb_insert(st, j);

    if (!open_channel(st, j)) {
        EZ_LOG(st->api, st->self, EZ_ERR, "job %s: the channel could not be created", j->id);
        jb_remove(st, j);
        return fail(st, req, 500, "Failed to create job channel");
    }
    j->status = JB_PROCESSING;
    post_prompt(st, j);
    EZ_LOG(st->api, st->self, EZ_DEBUG, "job %s created for agent %s (%lld ms)", j->id, j->agent_id,
           (long long)timeout_ms);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "jobId", j->id, "status", jb_status_name(j->status),
                          "createdAt", (json_int_t)j->created, "expiresAt", (json_int_t)j->expires);
    st->api->respond_json_new(req, 201, o);
    return EZ_DONE;
}

static int h_get(ez_req *req, void *ud) {
    jb_state *st = ud;
    const char *id = st->api->param(req, "jobId");
    jb_job *j = id ? jb_find(st, id) : NULL;
    if (!j)
        return fail(st, req, 404, "Job not found");
    jb_check_expiry(st, j, st->api->now_ms());
    st->api->respond_json_new(req, 200, jb_details(j));
    return EZ_DONE;
}

/* JavaScript's parseInt(s) for decimal text; 0 when it is NaN. */
static long long js_parse_int(const char *s) {
    if (!s)
        return 0;
    while (isspace((unsigned char)*s))
        s++;
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    long long v = 0;
    for (; isdigit((unsigned char)*s); s++)
        v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (*s - '0');
    return neg ? -v : v;
}

static int h_list(ez_req *req, void *ud) {
    jb_state *st = ud;
    /* `parseInt(limit) || 50`; a negative limit (the official slice(0, -n) drops the newest n)
     * is treated as absent */
    long long limit = js_parse_int(st->api->query(req, "limit"));
    if (limit < 1)
        limit = JB_LIST_DEFAULT;
    /* an unknown status filters nothing, as in the official server */
    const char *want = st->api->query(req, "status");
    int status = -1;
    for (int s = 0; want && s < JB_NSTATUS; s++)
        if (strcmp(want, jb_status_name((jb_status)s)) == 0)
            status = s;
    int64_t now = st->api->now_ms();
    json_t *list = json_array();
    for (jb_job *j = st->tail; j && (long long)json_array_size(list) < limit; j = j->prev) {
        jb_check_expiry(st, j, now);
        if (status < 0 || (int)j->status == status)
            json_array_append_new(list, jb_details(j));
    }
    json_t *o = json_pack("{s:o,s:i,s:I}", "jobs", list, "total", st->count, "filtered",
                          (json_int_t)json_array_size(list));
    st->api->respond_json_new(req, 200, o);
    return EZ_DONE;
}

/* Math.round(part / total * 100) / 100 as JSON: an integer when whole, as JavaScript prints. */
static json_t *rate(int64_t part, int64_t total) {
    if (total <= 0)
        return json_integer(0);
    int64_t pct = (part * 200 + total) / (total * 2);
    return pct % 100 == 0 ? json_integer(pct / 100) : json_real((double)pct / 100.0);
}

static int h_health(ez_req *req, void *ud) {
    jb_state *st = ud;
    int64_t now = st->api->now_ms();
    int counts[JB_NSTATUS] = {0};
    for (jb_job *j = st->head; j; j = j->next) {
        jb_check_expiry(st, j, now);
        counts[j->status]++;
    }
    const jb_metrics *m = &st->metrics;
    int64_t finished = m->completed + m->failed + m->timed_out;
    int64_t avg =
        m->completed > 0 ? (m->total_processing_ms * 2 + m->completed) / (m->completed * 2) : 0;
    json_t *sc = json_object();
    for (int s = 0; s < JB_NSTATUS; s++)
        json_object_set_new(sc, jb_status_name((jb_status)s), json_integer(counts[s]));
    json_t *o = json_pack("{s:b,s:I,s:i,s:o,s:{s:I,s:o,s:o,s:o},s:i}", "healthy", 1, "timestamp",
                          (json_int_t)now, "totalJobs", st->count, "statusCounts", sc, "metrics",
                          "averageProcessingTimeMs", (json_int_t)avg, "successRate",
                          rate(m->completed, finished), "failureRate", rate(m->failed, finished),
                          "timeoutRate", rate(m->timed_out, finished), "maxJobs", st->max_jobs);
    st->api->respond_json_new(req, 200, o);
    return EZ_DONE;
}

static int add(jb_state *st, unsigned methods, const char *prefix, const char *suffix,
               ez_route_fn fn) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s%s", prefix, suffix);
    ez_route_opts opts = {.err_style = EZ_ERR_JOBS};
    int rc = st->api->route_ex(st->self, methods, pattern, &opts, fn, st, NULL);
    if (rc != EZ_OK)
        EZ_LOG(st->api, st->self, EZ_ERR, "cannot register route %s (%d)", pattern, rc);
    return rc;
}

int jb_routes_register(jb_state *st) {
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        int rc;
        if ((rc = add(st, EZ_POST, prefixes[i], "", h_create)) != EZ_OK ||
            (rc = add(st, EZ_GET, prefixes[i], "", h_list)) != EZ_OK ||
            (rc = add(st, EZ_GET, prefixes[i], "/health", h_health)) != EZ_OK ||
            (rc = add(st, EZ_GET, prefixes[i], "/:jobId", h_get)) != EZ_OK)
            return rc;
    }
    return EZ_OK;
}
