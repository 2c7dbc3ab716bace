/* ABI major 2: refused by the gate. */
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

EZ_EXPORT extern const ez_plugin_desc ez_plugin_v1;
const ez_plugin_desc ez_plugin_v1 = {.abi_major = 2,
                                     .abi_minor = 0,
                                     .size = sizeof(ez_plugin_desc),
                                     .name = "bad_major",
                                     .version = "1",
                                     .init = bad_init,
                                     .destroy = bad_destroy};
