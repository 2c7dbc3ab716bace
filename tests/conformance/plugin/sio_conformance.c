/* sio_conformance: descriptor and registration. Test-only plugin (see README.md). */
#include "sio_conformance_int.h"

#include <stdlib.h>

static int sioc_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)cfg;
    sioc_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    *state = st;
    int rc = sioc_register(st, "/");
    if (rc == EZ_OK)
        rc = sioc_register(st, SIOC_NSP_CUSTOM);
    if (rc == EZ_OK)
        rc = sioc_register_guarded(st);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "socket.connected", sioc_on_connected, st, NULL);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "registration failed (%d)", rc);
        free(st);
        *state = NULL;
    }
    return rc;
}

static void sioc_destroy(void *state) {
    free(state);
}

EZ_PLUGIN(.name = "sio_conformance", .version = "1.0.0",
          .description = "Test only: the server the socket.io-protocol test suite expects",
          .init = sioc_init, .destroy = sioc_destroy);
