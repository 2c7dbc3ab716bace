/* sessions: descriptor and registration. The API is in sessions_routes.c and
 * sessions_messages.c, the in-memory table in sessions_table.c, timeouts in sessions_config.c. */
#include "sessions_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const sessions_requires[] = {"messaging", "agents", NULL};

/* Each key may also come from the official server's environment variable (named in help). */
static const ez_config_field sessions_config[] = {
    {EZ_CFG_INT, "default_timeout_minutes", "30", 0, 0,
     "inactivity timeout of a new session, 1..10080 (SESSION_DEFAULT_TIMEOUT_MINUTES)"},
    {EZ_CFG_INT, "min_timeout_minutes", "5", 0, 0,
     "smallest timeout a client may ask for, 1..60 (SESSION_MIN_TIMEOUT_MINUTES)"},
    {EZ_CFG_INT, "max_timeout_minutes", "1440", 0, 0,
     "largest timeout a client may ask for, 60..10080 (SESSION_MAX_TIMEOUT_MINUTES)"},
    {EZ_CFG_INT, "max_duration_minutes", "720", 0, 0,
     "a session's total life, renewals included, 60..20160 (SESSION_MAX_DURATION_MINUTES)"},
    {EZ_CFG_INT, "warning_threshold_minutes", "5", 0, 0,
     "isNearExpiration / sessionExpirationWarning window, 1..60 "
     "(SESSION_WARNING_THRESHOLD_MINUTES)"},
    {EZ_CFG_INT, "cleanup_interval_minutes", "5", 0, 0,
     "period of the expiry sweep, 1..60 (SESSION_CLEANUP_INTERVAL_MINUTES)"},
    {EZ_CFG_INT, "max_sessions", "100000", 0, 0,
     "sessions held at once; beyond it creation answers 500 SESSION_CREATION_FAILED"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static void sessions_destroy(void *state);

static int sessions_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    ss_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->started_ms = api->now_ms();
    st->msg = ez_import_table(api, self, EZ_MESSAGING_V1, sizeof(ez_messaging_v1));
    st->agents = ez_import_table(api, self, EZ_AGENTS_V1, sizeof(ez_agents_v1));
    int rc = ss_limits_load(st, cfg);
    if (rc == EZ_OK && (!st->msg || !st->msg->reply_wait || !st->agents))
        rc = EZ_ENOENT;
    if (rc == EZ_OK)
        rc = ss_routes_register(st);
    if (rc != EZ_OK) {
        sessions_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static int sessions_start(void *state) {
    ss_state *st = state;
    st->sweep = st->api->timer_start(st->self, st->lim.cleanup_ms, 1, ss_sweep, st);
    return st->sweep ? EZ_OK : EZ_ENOMEM;
}

static void sessions_destroy(void *state) {
    ss_state *st = state;
    if (!st)
        return;
    ss_free_all(st);
    free(st);
}

EZ_PLUGIN(.name = "sessions", .version = "1.0.0",
          .description = "Sessions API: timed conversations with one agent over messaging",
          .requires = sessions_requires, .config = sessions_config, .init = sessions_init,
          .start = sessions_start, .destroy = sessions_destroy);
