/* init registers a route and a subscription, then fails: the kernel must undo both (calling
 * each ud_free), never call destroy, and stop with "plugin bad_initfail: init failed". */
#include <elizad/plugin.h>

#include <stdio.h>
#include <stdlib.h>

static int initfail_route(ez_req *req, void *ud) {
    (void)req;
    (void)ud;
    return EZ_DONE;
}

static void initfail_bus(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    (void)msg;
    (void)ud;
}

static void initfail_free(void *ud) {
    fprintf(stderr, "bad_initfail: ud_free(%s)\n", (const char *)ud);
}

static int initfail_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    *state = NULL;
    int rc = api->route(self, EZ_GET, "/api/initfail", initfail_route, "route", initfail_free);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "initfail.*", initfail_bus, "subscription", initfail_free);
    if (rc != EZ_OK)
        return rc;
    api->log(self, EZ_ERR, "failing on purpose after registering");
    return EZ_EIO;
}

static void initfail_destroy(void *state) {
    (void)state;
    abort(); /* a plugin whose init failed must never see destroy */
}

EZ_PLUGIN(.name = "bad_initfail", .version = "1", .init = initfail_init,
          .destroy = initfail_destroy);
