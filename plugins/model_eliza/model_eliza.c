/* model_eliza: the embedded default model provider ("model.v1:eliza"). Descriptor and
 * registration only; the engine is in eliza_engine.c, the host glue in eliza_provider.c. */
#include "eliza_int.h"

static const ez_config_field eliza_config[] = {
    {EZ_CFG_STRING, "script_file", "", 0, 0,
     "JSON script replacing the compiled-in one (format in plugins/model_eliza/README.md)"},
    {EZ_CFG_INT, "max_conversations", "10000", 0, 0,
     "conversation states kept (least recently used are forgotten)"},
    {EZ_CFG_INT, "chunk_words", "4", 0, 0,
     "words per streamed chunk (messageStreamChunk); 1 streams word by word"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int eliza_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    elp_state *st = elp_new(self, api, cfg);
    if (!st)
        return EZ_EINVAL;
    int rc = api->export_api(self, EZ_MODEL_V1_PREFIX "eliza", elp_table(st));
    if (rc != EZ_OK) {
        elp_free(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static void eliza_stop(void *state) {
    elp_stop(state);
}

static void eliza_destroy(void *state) {
    elp_free(state);
}

EZ_PLUGIN(.name = "model_eliza", .version = "1.0.0",
          .description = "Classic ELIZA-style responder: the default model provider, no network",
          .config = eliza_config, .init = eliza_init, .stop = eliza_stop, .destroy = eliza_destroy);
