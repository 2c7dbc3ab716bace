/* Registers from start(), after init: the kernel must refuse (EZ_ESTATE). start returns what
 * the kernel answered, so a kernel that wrongly accepts keeps running and the test times out. */
#include <elizad/plugin.h>

#include <stdlib.h>

typedef struct late_state {
    ez_plugin *self;
    const ez_host_api *api;
} late_state;

static int late_route(ez_req *req, void *ud) {
    (void)req;
    (void)ud;
    return EZ_DONE;
}

static void late_bus(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    (void)msg;
    (void)ud;
}

static int late_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    late_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    *state = st;
    return EZ_OK;
}

static int late_start(void *state) {
    late_state *st = state;
    int a = st->api->subscribe(st->self, "late.*", late_bus, NULL, NULL);
    int b = st->api->route(st->self, EZ_GET, "/api/late", late_route, NULL, NULL);
    int c = st->api->export_api(st->self, "late.v1", st);
    st->api->log(st->self, EZ_INFO, "late registration answers: subscribe %d, route %d, export %d",
                 a, b, c);
    if (a == EZ_OK || b == EZ_OK || c == EZ_OK)
        return EZ_OK; /* the kernel accepted: keep running, the test will notice */
    return a;
}

static void late_destroy(void *state) {
    free(state);
}

EZ_PLUGIN(.name = "bad_late", .version = "1", .init = late_init, .start = late_start,
          .destroy = late_destroy);
