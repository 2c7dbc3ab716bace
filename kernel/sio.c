/* Placeholder until the Socket.IO engine lands: no Socket.IO traffic is claimed and the socket
 * API refuses every call. Replaced wholesale by the Socket.IO work. */
#include "sio.h"

#include <stdlib.h>

struct kn_sio {
    kn_kernel *k;
};

kn_sio *kn_sio_new(kn_kernel *k) {
    kn_sio *s = calloc(1, sizeof *s);
    if (s)
        s->k = k;
    return s;
}

void kn_sio_free(kn_sio *s) {
    free(s);
}

int kn_sio_handle_request(kn_sio *s, struct evhtp_request *req) {
    (void)s;
    (void)req;
    return 0;
}

static const ez_sock_api placeholder_api = {.size = sizeof(ez_sock_api)};

const ez_sock_api *kn_sio_api(void) {
    return &placeholder_api;
}

json_t *kn_sio_events_of(kn_sio *s, const ez_plugin *p) {
    (void)s;
    (void)p;
    return json_array();
}

void kn_sio_close_all(kn_sio *s) {
    (void)s;
}
