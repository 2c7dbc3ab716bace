/* Registers GET /api/dup like its twin bad_dup_a: enabling
 * both fails startup with both names. */
#include <elizad/plugin.h>

static int dup_route(ez_req *req, void *ud) {
    (void)req;
    (void)ud;
    return EZ_DONE;
}

static int dup_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    *state = NULL;
    return api->route(self, EZ_GET, "/api/dup", dup_route, NULL, NULL);
}

static void dup_destroy(void *state) {
    (void)state;
}

EZ_PLUGIN(.name = "bad_dup_b", .version = "1", .init = dup_init, .destroy = dup_destroy);
