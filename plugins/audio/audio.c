/* audio: the elizaOS Audio API (/api/audio/:agentId/..., COMPAT §11) with offline engines:
 * flite speaks, pocketsphinx listens, the agent's model provider answers conversations.
 * Descriptor, configuration and lifecycle only; handlers in audio_routes.c. */
#include "audio_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const audio_requires[] = {"agents", NULL};

static const ez_config_field audio_config[] = {
    {EZ_CFG_STRING, "voice", "slt", 0, 0, "flite voice: slt | kal16 | kal | awb | rms"},
    {EZ_CFG_STRING, "default_provider", "eliza", 0, 0,
     "conversation: model provider of agents that name none (as runtime.default_provider)"},
    {EZ_CFG_INT, "max_text_bytes", "4096", 0, 0,
     "longest text one synthesis speaks (longer requests: 400; longer replies are cut)"},
    {EZ_CFG_INT, "max_audio_seconds", "300", 0, 0, "longest clip accepted for transcription"},
    {EZ_CFG_INT, "queue_depth", "16", 0, 0,
     "requests waiting per engine beyond the running one; more answer 503"},
    {EZ_CFG_INT, "history_limit", "10", 0, 0, "conversation: room memories given to the model"},
    {EZ_CFG_INT, "reply_timeout_ms", "60000", 0, 0,
     "conversation: a model call longer than this fails the request (0 = no limit)"},
    {EZ_CFG_STRING, "stt_hmm", NULL, 0, 0, "pocketsphinx acoustic model directory"},
    {EZ_CFG_STRING, "stt_lm", NULL, 0, 0, "pocketsphinx language model (.lm.bin)"},
    {EZ_CFG_STRING, "stt_dict", NULL, 0, 0, "pocketsphinx pronunciation dictionary"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static const char *cfg_str(const json_t *cfg, const char *key) {
    return json_string_value(json_object_get(cfg, key));
}

static long long cfg_int(const json_t *cfg, const char *key, long long dflt) {
    const json_t *v = json_object_get(cfg, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static int audio_configure(au_state *st, const json_t *cfg) {
    const char *prov = cfg_str(cfg, "default_provider");
    snprintf(st->default_provider, sizeof st->default_provider, "%s",
             prov && *prov ? prov : "eliza");
    long long text = cfg_int(cfg, "max_text_bytes", 4096);
    long long secs = cfg_int(cfg, "max_audio_seconds", 300);
    long long depth = cfg_int(cfg, "queue_depth", 16);
    long long hist = cfg_int(cfg, "history_limit", 10);
    long long tmo = cfg_int(cfg, "reply_timeout_ms", 60000);
    if (text < 1 || text > 1000000 || secs < 1 || secs > 86400 || depth < 0 || depth > 10000 ||
        hist < 0 || hist > 1000 || tmo < 0) {
        EZ_LOG(st->api, st->self, EZ_ERR,
               "max_text_bytes (1..1000000), max_audio_seconds (1..86400), queue_depth "
               "(0..10000), history_limit (0..1000) or reply_timeout_ms (>= 0) out of range");
        return EZ_EINVAL;
    }
    st->max_text = (size_t)text;
    st->max_audio_ms = (int64_t)secs * 1000;
    st->queue_depth = (int)depth;
    st->history_limit = (int)hist;
    st->reply_timeout_ms = tmo;
    return EZ_OK;
}

/* A missing engine is not fatal: the server keeps its other routes and the audio routes say
 * why they cannot work (503). */
static void audio_engines(au_state *st, const json_t *cfg) {
    st->tts = au_tts_new(cfg_str(cfg, "voice"), st->tts_why, sizeof st->tts_why);
    if (st->tts)
        EZ_LOG(st->api, st->self, EZ_INFO, "speech synthesis: %s", au_tts_describe(st->tts));
    else
        EZ_LOG(st->api, st->self, EZ_WARN, "speech synthesis not available: %s", st->tts_why);
    au_stt_paths paths = {cfg_str(cfg, "stt_hmm"), cfg_str(cfg, "stt_lm"),
                          cfg_str(cfg, "stt_dict")};
    st->stt = au_stt_new(&paths, st->stt_why, sizeof st->stt_why);
    if (st->stt)
        EZ_LOG(st->api, st->self, EZ_INFO, "speech recognition: %s", au_stt_describe(st->stt));
    else
        EZ_LOG(st->api, st->self, EZ_WARN, "speech recognition not available: %s", st->stt_why);
}

static void audio_destroy(void *state);

static int audio_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    au_state *st = calloc(1, sizeof(au_state));
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->agents = ez_import_table(api, self, EZ_AGENTS_V1, sizeof(ez_agents_v1));
    au_lanes_init(st);
    int rc = audio_configure(st, cfg);
    if (rc == EZ_OK && !st->agents)
        rc = EZ_ENOENT;
    if (rc == EZ_OK)
        rc = au_routes_register(st);
    if (rc != EZ_OK) {
        audio_destroy(st);
        return rc;
    }
    audio_engines(st, cfg);
    *state = st;
    return EZ_OK;
}

/* New requests get 503 from here on; queued ones are answered now, running ones when the
 * kernel drains the pool, model calls through their cancellation. */
static void audio_stop(void *state) {
    au_state *st = state;
    st->stopping = 1;
    au_lanes_stop(st);
    au_conv_stop(st);
}

static void audio_destroy(void *state) {
    au_state *st = state;
    if (!st)
        return;
    /* normally empty after stop and the drain; what a provider never answered is dropped (the
     * kernel has closed its connection by now) */
    while (st->thinking) {
        au_job *j = st->thinking;
        st->thinking = j->next;
        j->timer = NULL; /* the kernel cancelled our timers already */
        au_job_free(j);
    }
    au_tts_free(st->tts);
    au_stt_free(st->stt);
    free(st);
}

EZ_PLUGIN(.name = "audio", .version = "1.0.0",
          .description = "Audio API: offline speech synthesis (flite), recognition (pocketsphinx) "
                         "and spoken conversations",
          .requires = audio_requires, .config = audio_config, .init = audio_init,
          .stop = audio_stop, .destroy = audio_destroy);
