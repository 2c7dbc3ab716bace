/* Declares a required config key: without it startup stops with a config error (exit 2). */
#include <elizad/plugin.h>

#include <stdlib.h>

static const ez_config_field required_fields[] = {
    {EZ_CFG_STRING, "token", NULL, 1, 1, "required, secret"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int required_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)self;
    (void)api;
    (void)cfg;
    (void)state;
    abort(); /* config validation happens before any init */
}

static void required_destroy(void *state) {
    (void)state;
}

EZ_PLUGIN(.name = "bad_required", .version = "1", .config = required_fields, .init = required_init,
          .destroy = required_destroy);
