/* The media plugin: uploads for agents and channels and the /media static files (COMPAT §10).
 * This file is the descriptor, the configuration and the registration. */
#include "media_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ez_config_field media_config[] = {
    {EZ_CFG_INT, "max_file_size", "52428800", 0, 0,
     "largest uploaded file in bytes (multer's 50 MB); larger is 500 \"File too large\". "
     "Whole request bodies are capped first by server.max_upload (413)"},
    {EZ_CFG_INT, "max_serve_size", "104857600", 0, 0,
     "largest file the /media routes read back, in bytes"},
    {EZ_CFG_STRING, "uploads_agents_dir", "", 0, 0,
     "agent uploads; empty = <server.data_dir>/data/uploads/agents "
     "(ELIZA_DATA_DIR_UPLOADS_AGENTS wins)"},
    {EZ_CFG_STRING, "uploads_channels_dir", "", 0, 0,
     "channel uploads; empty = <server.data_dir>/data/uploads/channels "
     "(ELIZA_DATA_DIR_UPLOADS_CHANNELS wins)"},
    {EZ_CFG_STRING, "generated_dir", "", 0, 0,
     "files agents generated; empty = <server.data_dir>/data/generated "
     "(ELIZA_DATA_DIR_GENERATED wins)"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static size_t cfg_size(const json_t *cfg, const char *key, json_int_t def) {
    const json_t *v = json_object_get(cfg, key);
    json_int_t x = json_is_integer(v) ? json_integer_value(v) : def;
    const json_int_t hi = (json_int_t)1 << 40;
    return (size_t)(x < 1 ? 1 : x > hi ? hi : x);
}

/* New string: the environment variable, else the configured path, else <base>/<suffix>. The
 * default keeps the official server's layout under the same data directory (ELIZA_DATA_DIR),
 * so a data directory moved from it keeps its media. */
static char *root_path(const json_t *cfg, const char *key, const char *env, const char *base,
                       const char *suffix) {
    const char *e = getenv(env);
    if (e && *e)
        return strdup(e);
    const char *c = json_string_value(json_object_get(cfg, key));
    if (c && *c)
        return strdup(c);
    size_t n = strlen(base) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", base, suffix);
    return p;
}

static void media_destroy(void *state) {
    media_state *st = state;
    if (!st)
        return;
    for (int i = 0; i < MEDIA_ROOTS; i++)
        free(st->roots[i]);
    free(st);
}

static int media_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    media_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->max_file = cfg_size(cfg, "max_file_size", 52428800);
    st->max_serve = cfg_size(cfg, "max_serve_size", 104857600);
    /* the kernel always has server.data_dir; a host without one (the testkit) gets the
     * plugin's own directory */
    const char *base = api->setting(self, "server.data_dir");
    if (!base || !*base)
        base = api->data_dir(self);
    if (!base) {
        api->log(self, EZ_ERR, "no data directory");
        free(st);
        return EZ_EINVAL;
    }
    st->roots[MEDIA_AGENTS] = root_path(cfg, "uploads_agents_dir", "ELIZA_DATA_DIR_UPLOADS_AGENTS",
                                        base, "data/uploads/agents");
    st->roots[MEDIA_CHANNELS] =
        root_path(cfg, "uploads_channels_dir", "ELIZA_DATA_DIR_UPLOADS_CHANNELS", base,
                  "data/uploads/channels");
    st->roots[MEDIA_GENERATED] =
        root_path(cfg, "generated_dir", "ELIZA_DATA_DIR_GENERATED", base, "data/generated");
    int rc = EZ_OK;
    for (int i = 0; i < MEDIA_ROOTS; i++)
        if (!st->roots[i])
            rc = EZ_ENOMEM;
    if (rc == EZ_OK)
        rc = media_upload_register(st);
    if (rc == EZ_OK)
        rc = media_static_register(st);
    if (rc != EZ_OK) {
        media_destroy(st);
        return rc;
    }
    api->log(self, EZ_INFO, "uploads in %s and %s, generated files in %s, files up to %zu bytes",
             st->roots[MEDIA_AGENTS], st->roots[MEDIA_CHANNELS], st->roots[MEDIA_GENERATED],
             st->max_file);
    *state = st;
    return EZ_OK;
}

EZ_PLUGIN(.name = "media", .version = "1.0.0",
          .description = "media uploads for agents and channels, and the /media static files",
          .config = media_config, .init = media_init, .destroy = media_destroy);
