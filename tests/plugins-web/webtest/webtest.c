/* webtest: a plugin for the HTTP layer's e2e tests. With `clash = true` it also claims
 * GET /api/hello, so a test can watch a cross-plugin route conflict fail startup. */
#include "webtest_int.h"

#include <stdlib.h>

static const ez_config_field webtest_config[] = {
    {EZ_CFG_BOOL, "clash", "false", 0, 0, "Also register GET /api/hello (conflict test)"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int webtest_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    webtest_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    *state = st;
    const ez_route_opts style_b = {.err_style = EZ_ERR_MESSAGING, .uuid_error = "Invalid item id"};
    const ez_route_opts raw = {.raw_body = 1};
    int rc = api->route(self, EZ_GET | EZ_POST | EZ_PUT | EZ_PATCH | EZ_DELETE, "/api/webtest/echo",
                        webtest_echo, st, NULL);
    /* an alias: same handler, second pattern */
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/webtest/echo-alias/:word", webtest_echo, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/async", webtest_async, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/stream", webtest_stream, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/forgot", webtest_forgot, st, NULL);
    if (rc == EZ_OK)
        rc = api->route_ex(self, EZ_GET, "/api/webtest/items/:itemId(uuid)", &style_b, webtest_item,
                           st, NULL);
    if (rc == EZ_OK)
        rc = api->route_ex(self, EZ_POST, "/api/webtest/raw", &raw, webtest_raw, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/files/*", webtest_files, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/stats", webtest_stats, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/headers", webtest_headers, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_POST, "/api/webtest/forget-watch", webtest_forget_watch, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/webtest/error/:style", webtest_error, st, NULL);
    if (rc == EZ_OK && json_is_true(json_object_get(cfg, "clash")))
        rc = api->route(self, EZ_GET, "/api/hello", webtest_echo, st, NULL);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "registration failed (%d)", rc);
        free(st);
        *state = NULL;
    }
    return rc;
}

static void webtest_destroy(void *state) {
    if (state)
        webtest_pending_free_all(state); /* the kernel cancelled their timers already */
    free(state);
}

EZ_PLUGIN(.name = "webtest", .version = "1.0.0",
          .description = "Test plugin for the HTTP layer (async, streams, uuid, raw bodies)",
          .config = webtest_config, .init = webtest_init, .destroy = webtest_destroy);
