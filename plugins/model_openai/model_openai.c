/* model_openai: "model.v1:openai", any OpenAI-compatible chat-completions server (OpenAI,
 * Ollama, vLLM, llama.cpp server...). Descriptor and registration only; the calls are in
 * openai_call.c, the libcurl-on-the-loop glue in openai_multi.c. */
#include "openai_int.h"

#include <stdlib.h>
#include <string.h>

static const ez_config_field openai_config[] = {
    {EZ_CFG_STRING, "base_url", "https://api.openai.com/v1", 0, 0,
     "server base URL; the character's OPENAI_BASE_URL wins"},
    {EZ_CFG_STRING, "api_key", "", 0, 1, "API key; the character's OPENAI_API_KEY secret wins"},
    {EZ_CFG_STRING, "model", "gpt-4o-mini", 0, 0,
     "model; the character's settings.model / OPENAI_MODEL / OPENAI_LARGE_MODEL win"},
    {EZ_CFG_INT, "connect_timeout_ms", "10000", 0, 0, "TCP + TLS connect limit per attempt"},
    {EZ_CFG_INT, "timeout_ms", "120000", 0, 0, "whole-request limit per attempt"},
    {EZ_CFG_INT, "max_retries", "2", 0, 0,
     "retries on 429, 5xx and failed connections, before the first chunk"},
    {EZ_CFG_INT, "retry_base_ms", "500", 0, 0,
     "first backoff, doubled per retry (a Retry-After header wins)"},
    {EZ_CFG_INT, "retry_max_ms", "8000", 0, 0, "longest backoff"},
    {EZ_CFG_BOOL, "stream_usage", "true", 0, 0,
     "ask for token usage in streams (stream_options.include_usage)"},
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

static char *cfg_str(const json_t *cfg, const char *key, const char *dflt) {
    const char *v = json_string_value(json_object_get(cfg, key));
    return strdup(v ? v : dflt);
}

static void openai_destroy(void *state);

static int openai_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        EZ_LOG(api, self, EZ_ERR, "curl_global_init failed");
        return EZ_EIO;
    }
    oa_state *st = calloc(1, sizeof(oa_state));
    if (!st) {
        curl_global_cleanup();
        return EZ_ENOMEM;
    }
    st->self = self;
    st->api = api;
    st->base_url = cfg_str(cfg, "base_url", "https://api.openai.com/v1");
    st->api_key = cfg_str(cfg, "api_key", "");
    st->model = cfg_str(cfg, "model", "gpt-4o-mini");
    st->connect_timeout_ms = (long)cfg_int(cfg, "connect_timeout_ms", 10000);
    st->timeout_ms = (long)cfg_int(cfg, "timeout_ms", 120000);
    st->max_retries = (int)cfg_int(cfg, "max_retries", 2);
    st->retry_base_ms = (long)cfg_int(cfg, "retry_base_ms", 500);
    st->retry_max_ms = (long)cfg_int(cfg, "retry_max_ms", 8000);
    const json_t *su = json_object_get(cfg, "stream_usage");
    st->stream_usage = su ? json_is_true(su) : 1;
    int rc = EZ_OK;
    if (!st->base_url || !st->api_key || !st->model)
        rc = EZ_ENOMEM;
    else if (st->connect_timeout_ms < 1 || st->timeout_ms < 1 || st->max_retries < 0 ||
             st->max_retries > 10 || st->retry_base_ms < 0 || st->retry_max_ms < 0) {
        EZ_LOG(api, self, EZ_ERR, "timeouts must be > 0, max_retries 0..10, backoffs >= 0");
        rc = EZ_EINVAL;
    }
    if (rc == EZ_OK)
        rc = oa_multi_init(st);
    st->table.size = sizeof(ez_model_v1);
    st->table.name = "openai";
    st->table.provider = st;
    st->table.generate = oa_generate;
    st->table.cancel = oa_cancel;
    if (rc == EZ_OK)
        rc = api->export_api(self, EZ_MODEL_V1_PREFIX "openai", &st->table);
    if (rc != EZ_OK) {
        openai_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static void openai_stop(void *state) {
    oa_calls_stop(state);
}

static void openai_destroy(void *state) {
    oa_state *st = state;
    /* the kernel has cancelled our timers: forget the handles before curl calls back */
    st->destroying = 1;
    st->curl_timer = NULL;
    st->poll_timer = NULL;
    for (oa_call *c = st->calls; c; c = c->next)
        c->start_timer = NULL;
    oa_calls_free(st);
    oa_multi_cleanup(st);
    free(st->base_url);
    free(st->api_key);
    free(st->model);
    free(st);
    curl_global_cleanup();
}

EZ_PLUGIN(.name = "model_openai", .version = "1.0.0",
          .description =
              "OpenAI-compatible chat completions (streaming) through libcurl on the loop",
          .config = openai_config, .init = openai_init, .stop = openai_stop,
          .destroy = openai_destroy);
