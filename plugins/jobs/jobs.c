/* jobs: descriptor and registration. Routes in jobs_routes.c, the in-memory table and its sweep
 * in jobs_table.c, completion on the agent's reply in jobs_listen.c. */
#include "jobs_int.h"

#include <stdlib.h>

static const char *const jobs_requires[] = {"messaging", "agents", NULL};

static const ez_config_field jobs_config[] = {
    {EZ_CFG_INT, "max_jobs", "10000", 0, 0,
     "jobs held in memory, 10..1000000; a full table drops its oldest tenth"},
    {EZ_CFG_INT, "max_memory_mb", "256", 0, 0,
     "memory the jobs may hold (prompts, metadata, replies), 1..65536; beyond it the oldest "
     "jobs are dropped"},
    {EZ_CFG_INT, "sweep_interval_ms", "60000", 0, 0,
     "period of the sweep that times out late jobs and forgets finished ones past their "
     "deadline, 10..3600000"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int cfg_int(jb_state *st, const json_t *cfg, const char *key, int64_t lo, int64_t hi,
                   int64_t *out) {
    const json_t *v = json_object_get(cfg, key);
    if (!json_is_integer(v))
        return EZ_OK; /* the kernel applied the default; absent only in a test host */
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo || x > hi) {
        EZ_LOG(st->api, st->self, EZ_ERR, "%s: %lld is outside %lld..%lld", key, (long long)x,
               (long long)lo, (long long)hi);
        return EZ_EINVAL;
    }
    *out = x;
    return EZ_OK;
}

static void jobs_destroy(void *state);

static int jobs_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    jb_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->msg = ez_import_table(api, self, EZ_MESSAGING_V1, sizeof(ez_messaging_v1));
    st->agents = ez_import_table(api, self, EZ_AGENTS_V1, sizeof(ez_agents_v1));
    int64_t max_jobs = 10000, max_mb = 256;
    st->sweep_ms = 60000;
    int rc = cfg_int(st, cfg, "max_jobs", 10, 1000000, &max_jobs);
    if (rc == EZ_OK)
        rc = cfg_int(st, cfg, "max_memory_mb", 1, 65536, &max_mb);
    if (rc == EZ_OK)
        rc = cfg_int(st, cfg, "sweep_interval_ms", 10, 3600000, &st->sweep_ms);
    st->max_jobs = (int)max_jobs;
    st->max_bytes = (size_t)max_mb << 20;
    if (rc == EZ_OK && (!st->msg || !st->agents))
        rc = EZ_ENOENT;
    if (rc == EZ_OK)
        rc = jb_routes_register(st);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "messaging.message.created", jb_on_message, st, NULL);
    if (rc != EZ_OK) {
        jobs_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static int jobs_start(void *state) {
    jb_state *st = state;
    st->sweep = st->api->timer_start(st->self, st->sweep_ms, 1, jb_sweep, st);
    return st->sweep ? EZ_OK : EZ_ENOMEM;
}

static void jobs_destroy(void *state) {
    jb_state *st = state;
    if (!st)
        return;
    /* the kernel has cancelled the sweep timer already */
    jb_free_all(st);
    free(st);
}

EZ_PLUGIN(.name = "jobs", .version = "1.0.0",
          .description = "Jobs API: one-shot questions to an agent, polled for the answer",
          .requires = jobs_requires, .config = jobs_config, .init = jobs_init, .start = jobs_start,
          .destroy = jobs_destroy);
