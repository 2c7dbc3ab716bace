/* hello: the smallest useful plugin: one config key, routes, a bus subscription and a table.
 * The kernel's loader and e2e tests use it as the known-good plugin. */
#include "hello_int.h"

#include <stdlib.h>

static const ez_config_field hello_config[] = {
    {EZ_CFG_STRING, "greeting", "hello", 0, 0, "Returned as \"greeting\" by GET /api/hello"},
    {EZ_CFG_STRING, "secret", "", 0, 1, "Never shown (tests redaction in /api/plugins)"},
    {EZ_CFG_STRING_LIST, "tags", "a,b", 0, 0, "Returned as \"tags\" by GET /api/hello"},
    {EZ_CFG_INT, "answer", "42", 0, 0, "Returned as \"answer\" by GET /api/hello"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static const char hello_schema_v1[] =
    "CREATE TABLE @notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE, "
    "created_at INTEGER NOT NULL)";

static int hello_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    hello_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->cfg = cfg;
    *state = st;
    int rc = api->store->migrate(self, 1, hello_schema_v1);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/hello", hello_get, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/hello/bus", hello_get_bus, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_POST, "/api/hello/publish", hello_post_publish, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_GET, "/api/hello/notes", hello_get_notes, st, NULL);
    if (rc == EZ_OK)
        rc = api->route(self, EZ_POST, "/api/hello/notes", hello_post_notes, st, NULL);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "hello.*", hello_on_bus, st, NULL);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "registration failed (%d)", rc);
        free(st);
        *state = NULL;
    }
    return rc;
}

static void hello_destroy(void *state) {
    hello_state *st = state;
    if (!st)
        return;
    json_decref(st->last_msg);
    free(st);
}

EZ_PLUGIN(.name = "hello", .version = "1.0.0",
          .description = "Test plugin: GET /api/hello, a bus subscription, a notes table",
          .config = hello_config, .init = hello_init, .destroy = hello_destroy);
