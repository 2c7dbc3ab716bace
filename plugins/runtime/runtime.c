/* runtime: the agent runtime. Answers stored user messages for the started agents of a
 * channel through their model provider ("model.v1:<name>"). Descriptor and registration only;
 * dispatch in runtime_dispatch.c, queues in runtime_conv.c, one reply in runtime_reply.c. */
#include "runtime_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const runtime_requires[] = {"messaging", "agents", NULL};

static const ez_config_field runtime_config[] = {
    {EZ_CFG_STRING, "default_provider", "eliza", 0, 0,
     "model provider of agents that name none (settings.model_provider / plugins)"},
    {EZ_CFG_STRING, "respond", "mention", 0, 0,
     "group channels: mention (answer when named) | always | never"},
    {EZ_CFG_INT, "queue_depth", "100", 0, 0,
     "messages waiting per (agent, channel); beyond it the sender gets an error reply"},
    {EZ_CFG_INT, "history_limit", "20", 0, 0, "recent room messages given to the model"},
    {EZ_CFG_INT, "reply_timeout_ms", "60000", 0, 0,
     "a model call longer than this is cancelled and reported (0 = no limit)"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static long long cfg_int(const json_t *cfg, const char *key, long long dflt) {
    const json_t *v = json_object_get(cfg, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return dflt;
}

static int runtime_configure(rt_state *st, const json_t *cfg) {
    const char *prov = rt_str(cfg, "default_provider");
    snprintf(st->default_provider, sizeof st->default_provider, "%s",
             prov && *prov ? prov : "eliza");
    const char *respond = rt_str(cfg, "respond");
    if (!respond || strcmp(respond, "mention") == 0)
        st->respond = RT_RESPOND_MENTION;
    else if (strcmp(respond, "always") == 0)
        st->respond = RT_RESPOND_ALWAYS;
    else if (strcmp(respond, "never") == 0)
        st->respond = RT_RESPOND_NEVER;
    else {
        EZ_LOG(st->api, st->self, EZ_ERR, "respond: \"%s\" is not mention, always or never",
               respond);
        return EZ_EINVAL;
    }
    long long q = cfg_int(cfg, "queue_depth", 100), h = cfg_int(cfg, "history_limit", 20);
    long long t = cfg_int(cfg, "reply_timeout_ms", 60000);
    if (q < 0 || q > 1000000 || h < 0 || h > 1000 || t < 0) {
        EZ_LOG(st->api, st->self, EZ_ERR,
               "queue_depth (0..1000000), history_limit (0..1000) or reply_timeout_ms (>= 0) "
               "out of range");
        return EZ_EINVAL;
    }
    st->queue_depth = (int)q;
    st->history_limit = (int)h;
    st->reply_timeout_ms = t;
    return EZ_OK;
}

static void runtime_destroy(void *state);

static int runtime_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    rt_state *st = calloc(1, sizeof(rt_state));
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->nbuckets = 1024;
    st->buckets = calloc(st->nbuckets, sizeof(rt_conv *));
    st->msg = ez_import_table(api, self, EZ_MESSAGING_V1, sizeof(ez_messaging_v1));
    st->agents = ez_import_table(api, self, EZ_AGENTS_V1, sizeof(ez_agents_v1));
    int rc = st->buckets ? runtime_configure(st, cfg) : EZ_ENOMEM;
    if (rc == EZ_OK && (!st->msg || !st->agents))
        rc = EZ_ENOENT;
    if (rc == EZ_OK)
        rc = rt_dispatch_register(st);
    if (rc != EZ_OK) {
        runtime_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static void abort_all(rt_conv *c, void *ud) {
    (void)ud;
    rt_conv_abort(c, "the server is stopping", 0);
}

static void runtime_stop(void *state) {
    rt_state *st = state;
    st->stopping = 1;
    rt_conv_each(st, abort_all, NULL);
    /* the loop may not turn again: write what the cancellations produced now (a cancelled
     * start becomes an end, hence a second round) */
    for (int i = 0; i < 4 && (st->starts || st->ends); i++)
        rt_flush(st);
    if (st->nflush)
        EZ_LOG(st->api, st->self, EZ_INFO, "%llu reply phases written in %llu transactions",
               (unsigned long long)st->nflushed, (unsigned long long)st->nflush);
}

static void runtime_destroy(void *state) {
    rt_state *st = state;
    if (!st)
        return;
    st->destroying = 1;
    if (st->buckets)
        rt_conv_free_all(st);
    free(st->buckets);
    free(st);
}

EZ_PLUGIN(.name = "runtime", .version = "1.0.0",
          .description = "Agent runtime: agents answer their channels through model providers",
          .requires = runtime_requires, .config = runtime_config, .init = runtime_init,
          .stop = runtime_stop, .destroy = runtime_destroy);
