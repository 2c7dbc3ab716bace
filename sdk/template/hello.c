/* hello: the SDK's template plugin. This file holds only the descriptor and the registration;
 * the behaviour is in hello_routes.c. Copy the directory, rename "hello", and build. */
#include "hello_int.h"

#include <stdlib.h>

static const ez_config_field hello_config[] = {
    {EZ_CFG_STRING, "greeting", "Hello", 0, 0, "First word of the GET /api/hello message"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int hello_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    hello_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->greeting = json_string_value(json_object_get(cfg, "greeting"));
    /* On failure the host undoes whatever was registered; we only free our own state. */
    int rc = api->route(self, EZ_GET, "/api/hello", hello_get, st, NULL);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "messaging.message.created", hello_on_message, st, NULL);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "registration failed (%d)", rc);
        free(st);
        return rc;
    }
    api->log(self, EZ_INFO, "ready, greeting \"%s\"", st->greeting);
    *state = st;
    return EZ_OK;
}

static void hello_destroy(void *state) {
    free(state);
}

EZ_PLUGIN(.name = "hello", .version = "0.1.0",
          .description = "Template plugin: GET /api/hello, counts messaging.message.created",
          .config = hello_config, .init = hello_init, .destroy = hello_destroy);
