/* Engine.IO v4 + Socket.IO v5 engine: long-polling on the HTTP server, WebSocket on the same
 * port (the connection is taken over from evhtp after the upgrade request), namespaces, rooms,
 * acks, binary attachments. Loop thread unless noted. */
#ifndef KN_SIO_H
#define KN_SIO_H

#include "kernel.h"
#include <elizad/socket.h>

struct evhtp_request;

/* Reads its settings through kn_setting: socketio.path ("/socket.io/"), socketio.ping_interval
 * (25000), socketio.ping_timeout (20000), socketio.max_payload (1000000),
 * socketio.connect_timeout (45000), socketio.engineio_echo_path ("" = off; "/engine.io/" for the
 * engine.io-protocol conformance suite), server.socket_api_key (accepted as auth.apiKey,
 * auth.token or an x-api-key header; NULL = no check). */
kn_sio *kn_sio_new(kn_kernel *k);
/* Closes every connection and frees everything. */
void kn_sio_free(kn_sio *s);
/* Called by the HTTP layer for every request before routing. Returns 1 when the request belongs
 * to Socket.IO / Engine.IO (then it owns the answer, including websocket upgrades), else 0. */
int kn_sio_handle_request(kn_sio *s, struct evhtp_request *req);
/* The socket sub-table handed to plugins (static lifetime). */
const ez_sock_api *kn_sio_api(void);
/* The events a plugin registered (new array of "nsp event" strings). */
json_t *kn_sio_events_of(kn_sio *s, const ez_plugin *p);
/* Disconnects every client (graceful shutdown); loop thread. */
void kn_sio_close_all(kn_sio *s);

#endif
