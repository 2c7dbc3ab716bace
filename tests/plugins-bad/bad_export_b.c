/* Exports "dup.v1" like its twin: the second export fails with EZ_EEXIST. */
#include <elizad/plugin.h>

static const int export_table = 1;

static int export_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    *state = NULL;
    return api->export_api(self, "dup.v1", &export_table);
}

static void export_destroy(void *state) {
    (void)state;
}

EZ_PLUGIN(.name = "bad_export_b", .version = "1", .init = export_init, .destroy = export_destroy);
