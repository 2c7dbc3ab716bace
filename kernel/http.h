/* HTTP server (libevhtp on the kernel's libevent loop), router, auth, CORS, body limits, the
 * request/response half of the host API, and the built-in system endpoints. */
#ifndef KN_HTTP_H
#define KN_HTTP_H

#include "kernel.h"
#include <elizad/host.h>

/* Creates the server from settings (server.host, server.port, server.max_body, server.cors_origin,
 * server.auth_token, server.*_timeout_ms). Does not listen yet. NULL on failure (logged). */
kn_http *kn_http_new(kn_kernel *k);
/* Binds and listens; returns EZ_OK or EZ_EIO with the reason logged. */
int kn_http_listen(kn_http *h);
/* Stops accepting new connections; in-flight requests finish (graceful shutdown step 1). */
void kn_http_stop_accepting(kn_http *h);
/* Number of requests still being answered (graceful shutdown waits for 0, bounded). */
int kn_http_inflight(kn_http *h);
void kn_http_free(kn_http *h);

/* Fills the HTTP members of the host API table: route, route_ex, method, path, param, query,
 * query_all, header, body_json, body, remote_addr, is_loopback, is_authenticated,
 * respond_json_new, respond_raw, respond_error, respond_empty, set_header, stream_start,
 * stream_write, stream_end, is_gone. */
void kn_http_fill_api(ez_host_api *api);

/* Registers the kernel's own routes (system endpoints, /api/plugins) under the pseudo-plugin
 * `kernel_plugin` (owned by the loader). */
int kn_http_register_system_routes(kn_http *h, ez_plugin *kernel_plugin);

/* The routes a plugin registered (new array of "METHOD /pattern" strings). */
json_t *kn_http_routes_of(kn_http *h, const ez_plugin *p);

/* The output gate for an answer written outside the dispatcher (Engine.IO polling): held
 * while it may report writes the storage thread has not committed. */
struct evhtp_request;
void kn_http_gate_reply(struct evhtp_request *r);

#endif
