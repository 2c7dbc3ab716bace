/* The kernel's own endpoints (COMPAT §12), at the real paths and at the seed's aliases (§2):
 * health checks, ping/hello/status, version, config, the local .env, stop, the in-memory log
 * ring, and the plugin list. Registered under the kernel pseudo-plugin; they live as long as
 * the server. The env routes and stop change the machine, so without an API key they answer
 * loopback clients only. */
#include "http_int.h"
#include "util_time.h"
#include "worker.h"

#include <elizad/agents.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOUR_MS 3600000LL

static int agent_count(kn_kernel *k) {
    const ez_agents_v1 *ag = kn_kernel_import(k, EZ_AGENTS_V1);
    if (!ag || ag->size < offsetof(ez_agents_v1, list_active) + sizeof ag->list_active ||
        !ag->list_active)
        return 0;
    json_t *ids = ag->list_active(ag->self);
    int n = (int)json_array_size(ids);
    json_decref(ids);
    return n;
}

static int json_ok(ez_req *r, int status, json_t *body) {
    kn_resp_json_new(r, status, body);
    return EZ_DONE;
}

static int h_healthz(ez_req *r, void *ud) {
    (void)ud;
    char ts[32];
    kn_http_iso_now(ts);
    return json_ok(r, 200, json_pack("{s:s,s:s}", "status", "ok", "timestamp", ts));
}

static int h_health(ez_req *r, void *ud) {
    kn_http *h = ud;
    int n = agent_count(h->k);
    char ts[32];
    kn_http_iso_now(ts);
    return json_ok(r, n ? 200 : 503,
                   json_pack("{s:s,s:s,s:s,s:{s:s},s:i}", "status", n ? "OK" : "DEGRADED",
                             "version", h->app_version, "timestamp", ts, "dependencies", "agents",
                             n ? "healthy" : "no_agents", "agentCount", n));
}

static int h_server_health(ez_req *r, void *ud) {
    kn_http *h = ud;
    int n = agent_count(h->k);
    char ts[32];
    kn_http_iso_now(ts);
    return json_ok(r, n ? 200 : 503,
                   json_pack("{s:s,s:s,s:s,s:{s:s}}", "status", "OK", "version", h->app_version,
                             "timestamp", ts, "dependencies", "agents",
                             n ? "healthy" : "no_agents"));
}

/* The hot path of every benchmark: no JSON library, one small buffer. */
static int h_ping(ez_req *r, void *ud) {
    (void)ud;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "{\"pong\":true,\"timestamp\":%lld}", (long long)kn_now_ms());
    kn_resp_bytes(r, 200, KN_JSON_CT, buf, (size_t)n);
    return EZ_DONE;
}

static int h_hello(ez_req *r, void *ud) {
    (void)ud;
    static const char body[] = "{\"message\":\"Hello World!\"}";
    kn_resp_bytes(r, 200, KN_JSON_CT, body, sizeof body - 1);
    return EZ_DONE;
}

static int h_status(ez_req *r, void *ud) {
    kn_http *h = ud;
    char ts[32];
    kn_http_iso_now(ts);
    return json_ok(r, 200,
                   json_pack("{s:s,s:i,s:s}", "status", "ok", "agentCount", agent_count(h->k),
                             "timestamp", ts));
}

static int h_version(ez_req *r, void *ud) {
    kn_http *h = ud;
    char ts[32];
    kn_http_iso_now(ts);
    const char *env = getenv("NODE_ENV");
    double uptime = (double)(kn_now_ms() - kn_kernel_started_ms(h->k)) / 1000.0;
    return json_ok(r, 200,
                   json_pack("{s:s,s:s,s:s,s:s,s:f,s:s}", "version", "1.7.2", "source", "server",
                             "timestamp", ts, "environment", env && *env ? env : "development",
                             "uptime", uptime, "elizad", EZ_VERSION));
}

static int h_config(ez_req *r, void *ud) {
    (void)ud;
    const char *iso = getenv("ENABLE_DATA_ISOLATION");
    return json_ok(r, 200,
                   json_pack("{s:b,s:{s:b}}", "success", 1, "data", "requiresAuth",
                             iso && strcmp(iso, "true") == 0));
}

static int h_plugins(ez_req *r, void *ud) {
    kn_http *h = ud;
    json_t *list = kn_kernel_plugins_describe(h->k);
    return json_ok(
        r, 200,
        json_pack("{s:b,s:{s:o}}", "success", 1, "data", "plugins", list ? list : json_array()));
}

/* ---------------------------------------------------------------- machine-changing routes */

static int local_only(kn_http *h, ez_req *r, ez_err_style style) {
    if (h->auth_token || r->c->loopback)
        return 0;
    kn_resp_error(r, 403, style, "FORBIDDEN", "Forbidden",
                  "Only local clients may use this endpoint when no API key is configured");
    return 1;
}

static char *read_small_file(const char *path, size_t *len, int *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 1024 * 1024;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap + 1, f) : 0;
    *err = !buf ? ENOMEM : ferror(f) ? EIO : n > cap ? EFBIG : 0;
    fclose(f);
    if (*err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The .env file work (find, read or rewrite) runs on a worker; the answer is written on the
 * loop when it is done. Owned by the request's handler until submitted, then by env_done. */
typedef struct env_job {
    kn_http *h;
    ez_req *r;
    char *text;   /* POST: the rendered file to write (own); GET: NULL */
    char *path;   /* the .env found (own), NULL when there is none */
    json_t *data; /* GET: the parsed variables (own) */
    int err;      /* errno of the failed file operation, 0 when it worked */
} env_job;

static void env_job_free(env_job *j) {
    free(j->text);
    free(j->path);
    json_decref(j->data);
    free(j);
}

/* Worker thread: touches nothing but the job. */
static void env_work(void *ud) {
    env_job *j = ud;
    j->path = kn_env_find();
    if (!j->path)
        return;
    if (j->text) {
        j->err = kn_env_write_atomic(j->path, j->text);
        return;
    }
    size_t len = 0;
    char *text = read_small_file(j->path, &len, &j->err);
    if (!text) {
        if (!j->err)
            j->err = EIO;
        return;
    }
    j->data = kn_env_parse(text, len);
    free(text);
}

static void env_get_done(env_job *j) {
    ez_req *r = j->r;
    if (!j->path) {
        kn_resp_json_new(r, 200, json_pack("{s:b,s:o}", "success", 1, "data", json_object()));
    } else if (j->err || !j->data) {
        kn_resp_error(r, 500, EZ_ERR_STANDARD, "FETCH_ERROR",
                      "Failed to retrieve local environment", strerror(j->err ? j->err : ENOMEM));
    } else {
        kn_resp_json_new(r, 200, json_pack("{s:b,s:O}", "success", 1, "data", j->data));
    }
}

static void env_set_done(env_job *j) {
    ez_req *r = j->r;
    if (!j->path) {
        kn_resp_error(r, 500, EZ_ERR_STANDARD, "UPDATE_ERROR", "Local .env file not found", NULL);
    } else if (j->err) {
        kn_log(j->h->k, "kernel", EZ_ERR, "cannot rewrite %s: %s", j->path, strerror(j->err));
        kn_resp_error(r, 500, EZ_ERR_STANDARD, "UPDATE_ERROR", "Failed to update local env",
                      strerror(j->err));
    } else {
        kn_log(j->h->k, "kernel", EZ_INFO, "rewrote %s via the API", j->path);
        kn_resp_json_new(r, 200,
                         json_pack("{s:b,s:s}", "success", 1, "message", "Local env updated"));
    }
}

/* Loop thread. */
static void env_done(void *ud) {
    env_job *j = ud;
    if (j->text)
        env_set_done(j);
    else
        env_get_done(j);
    env_job_free(j);
}

/* Takes text (may be NULL: a read). Answers at once when the job cannot be queued. */
static int env_submit(kn_http *h, ez_req *r, char *text) {
    env_job *j = calloc(1, sizeof *j);
    if (!j) {
        kn_resp_error(r, 500, EZ_ERR_STANDARD, text ? "UPDATE_ERROR" : "FETCH_ERROR",
                      "out of memory", NULL);
        free(text);
        return EZ_DONE;
    }
    j->h = h;
    j->r = r;
    j->text = text;
    if (kn_work_submit(kn_kernel_workers(h->k), NULL, env_work, env_done, j) != EZ_OK) {
        env_job_free(j);
        kn_resp_error(r, 503, EZ_ERR_STANDARD, "UNAVAILABLE", "The server is shutting down", NULL);
        return EZ_DONE;
    }
    return EZ_ASYNC;
}

static int h_env_get(ez_req *r, void *ud) {
    kn_http *h = ud;
    if (local_only(h, r, EZ_ERR_STANDARD))
        return EZ_DONE;
    return env_submit(h, r, NULL);
}

static int h_env_set(ez_req *r, void *ud) {
    kn_http *h = ud;
    if (local_only(h, r, EZ_ERR_STANDARD))
        return EZ_DONE;
    const json_t *body = r->json;
    const json_t *content = json_is_object(body) ? json_object_get(body, "content") : NULL;
    char *text = kn_env_render(content); /* validates everything before anything is written */
    if (!text) {
        kn_resp_error(r, 400, EZ_ERR_STANDARD, "INVALID_INPUT",
                      "Missing or invalid \"content\" in request body", NULL);
        return EZ_DONE;
    }
    return env_submit(h, r, text);
}

static void stop_now(void *k) {
    kn_kernel_shutdown(k);
}

static int h_stop(ez_req *r, void *ud) {
    kn_http *h = ud;
    if (local_only(h, r, EZ_ERR_RAW))
        return EZ_DONE;
    kn_log(h->k, "kernel", EZ_INFO, "shutdown requested by %s over HTTP", r->c->addr);
    kn_http_after_flush(r, stop_now, h->k);
    return json_ok(r, 200, json_pack("{s:s}", "message", "Server stopping..."));
}

/* ---------------------------------------------------------------- logs */

static const struct {
    const char *name;
    int pino;
} levels[] = {{"fatal", 60},    {"error", 50},   {"warn", 40},  {"info", 30}, {"log", 29},
              {"progress", 28}, {"success", 27}, {"debug", 20}, {"trace", 10}};
#define NLEVELS (sizeof levels / sizeof levels[0])

/* JavaScript's Number(s) for the query values: NaN for anything that is not a number. */
static double js_number(const char *s) {
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return (*end || end == s) ? NAN : v;
}

static int h_logs(ez_req *r, void *ud) {
    kn_http *h = ud;
    const char *q;
    double since = (q = kn_req_query(r, "since")) ? js_number(q) : (double)(kn_now_ms() - HOUR_MS);
    char level[32] = "all";
    if ((q = kn_req_query(r, "level")) && *q) {
        snprintf(level, sizeof level, "%s", q);
        for (char *p = level; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p | 0x20);
    }
    const char *agent_name = (q = kn_req_query(r, "agentName")) && *q ? q : "all";
    const char *agent_id = (q = kn_req_query(r, "agentId")) && *q ? q : "all";
    double lim = (q = kn_req_query(r, "limit")) ? js_number(q) : 100;
    int limit = (lim >= 1) ? (lim > 1000 ? 1000 : (int)lim) : 100;
    int want = -1; /* an unknown level name matches nothing, as in the real server */
    int all = strcmp(level, "all") == 0;
    for (size_t i = 0; i < NLEVELS; i++)
        if (strcmp(levels[i].name, level) == 0)
            want = levels[i].pino;

    json_t *ring = kn_log_recent(h->k, 0, INT_MAX);
    if (!json_is_array(ring)) {
        json_decref(ring);
        kn_resp_error(r, 500, EZ_ERR_RAW, NULL, "Failed to retrieve logs",
                      "The log ring is not available");
        return EZ_DONE;
    }
    json_t *logs = json_array(), *names = json_array();
    size_t idx;
    json_t *e;
    json_array_foreach(ring, idx, e) {
        double t = json_number_value(json_object_get(e, "time"));
        json_int_t lv = json_integer_value(json_object_get(e, "level"));
        if (!(t >= since) || (!all && lv != want)) /* NaN since: nothing, like JavaScript */
            continue;
        json_array_append_new(logs, json_pack("{s:O,s:I,s:O}", "time", json_object_get(e, "time"),
                                              "level", lv, "msg", json_object_get(e, "msg")));
    }
    size_t total = json_array_size(ring);
    json_decref(ring);
    while (json_array_size(logs) > (size_t)limit) /* keep the newest `limit` */
        json_array_remove(logs, 0);
    for (size_t i = 0; i < NLEVELS; i++)
        json_array_append_new(names, json_string(levels[i].name));
    size_t count = json_array_size(logs);
    return json_ok(r, 200,
                   json_pack("{s:o,s:I,s:I,s:s,s:s,s:s,s:o}", "logs", logs, "count",
                             (json_int_t)count, "total", (json_int_t)total, "requestedLevel", level,
                             "agentName", agent_name, "agentId", agent_id, "levels", names));
}

static int h_logs_clear(ez_req *r, void *ud) {
    kn_http *h = ud;
    kn_log_clear(h->k);
    return json_ok(
        r, 200,
        json_pack("{s:s,s:s}", "status", "success", "message", "Logs cleared successfully"));
}

/* ---------------------------------------------------------------- registration */

static const struct sys_route {
    unsigned methods;
    const char *pattern;
    ez_route_fn fn;
    ez_err_style style;
} sys_routes[] = {
    {EZ_GET, "/healthz", h_healthz, EZ_ERR_RAW},
    {EZ_GET, "/health", h_health, EZ_ERR_RAW},
    {EZ_GET, "/api/server/ping", h_ping, EZ_ERR_RAW},
    {EZ_GET, "/api/ping", h_ping, EZ_ERR_RAW},
    {EZ_GET, "/api/server/hello", h_hello, EZ_ERR_RAW},
    {EZ_GET, "/api/server/status", h_status, EZ_ERR_RAW},
    {EZ_GET, "/api/status", h_status, EZ_ERR_RAW},
    {EZ_GET, "/api/server/health", h_server_health, EZ_ERR_RAW},
    {EZ_GET, "/api/health", h_server_health, EZ_ERR_RAW},
    {EZ_GET, "/api/system/version", h_version, EZ_ERR_RAW},
    {EZ_GET, "/api/version", h_version, EZ_ERR_RAW},
    {EZ_GET, "/api/system/config", h_config, EZ_ERR_STANDARD},
    {EZ_GET, "/api/config", h_config, EZ_ERR_STANDARD},
    {EZ_GET, "/api/system/env/local", h_env_get, EZ_ERR_STANDARD},
    {EZ_GET, "/api/env", h_env_get, EZ_ERR_STANDARD},
    {EZ_POST, "/api/system/env/local", h_env_set, EZ_ERR_STANDARD},
    {EZ_PUT, "/api/env", h_env_set, EZ_ERR_STANDARD},
    {EZ_POST, "/api/server/stop", h_stop, EZ_ERR_RAW},
    {EZ_POST, "/api/stop", h_stop, EZ_ERR_RAW},
    {EZ_GET | EZ_POST, "/api/server/logs", h_logs, EZ_ERR_RAW},
    {EZ_DELETE, "/api/server/logs", h_logs_clear, EZ_ERR_RAW},
    {EZ_GET, "/api/logs/system", h_logs, EZ_ERR_RAW},
    {EZ_GET, "/api/plugins", h_plugins, EZ_ERR_STANDARD},
};

int kn_http_register_system_routes(kn_http *h, ez_plugin *kernel_plugin) {
    for (size_t i = 0; i < sizeof sys_routes / sizeof sys_routes[0]; i++) {
        const struct sys_route *s = &sys_routes[i];
        ez_route_opts o = {.err_style = s->style};
        int rc = kn_http_route_add(h, kernel_plugin, 0, s->methods, s->pattern, &o, s->fn, h, NULL);
        if (rc != EZ_OK)
            return rc;
    }
    return EZ_OK;
}
