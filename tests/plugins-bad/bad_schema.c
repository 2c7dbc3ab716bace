/* A config default that does not parse as its type: refused by the gate. */
#include <elizad/plugin.h>

#include <stdlib.h>

/* The gate must refuse this plugin before any of its code runs: running it aborts. */
__attribute__((unused)) static int bad_init(ez_plugin *self, const ez_host_api *api,
                                            const json_t *cfg, void **state) {
    (void)self;
    (void)api;
    (void)cfg;
    (void)state;
    abort();
}

__attribute__((unused)) static void bad_destroy(void *state) {
    (void)state;
    abort();
}

static const ez_config_field bad_schema_fields[] = {
    {EZ_CFG_INT, "count", "twelve", 0, 0, "an int whose default is not one"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

EZ_EXPORT extern const ez_plugin_desc ez_plugin_v1;
const ez_plugin_desc ez_plugin_v1 = {.abi_major = EZ_ABI_MAJOR,
                                     .abi_minor = EZ_ABI_MINOR,
                                     .size = sizeof(ez_plugin_desc),
                                     .name = "bad_schema",
                                     .version = "1",
                                     .config = bad_schema_fields,
                                     .init = bad_init,
                                     .destroy = bad_destroy};
