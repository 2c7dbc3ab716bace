/* Engine.IO protocol v4 server: sessions over HTTP long-polling (GET/POST, packets batched with
 * the record separator, binary as base64 "b" packets) and WebSocket (ws.c), the upgrade probe,
 * the server-driven heartbeat, and the Engine.IO HTTP error answers. One kn_eio serves one path
 * (Socket.IO's, or the raw echo endpoint of the conformance configuration). Loop thread only. */
#ifndef KN_EIO_H
#define KN_EIO_H

#include "sio_pkt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhtp_request;
typedef struct kn_eio kn_eio;
typedef struct kn_eio_sock kn_eio_sock;

typedef struct kn_eio_opts {
    int64_t ping_interval;   /* ms */
    int64_t ping_timeout;    /* ms */
    int64_t upgrade_timeout; /* ms a probe websocket may take to send "5" */
    size_t max_payload;      /* bytes per POST body / websocket message */
    const char *cors_origin; /* NULL or "": reflect the request's Origin */
    /* Called after each polling answer was handed to evhtp (the kernel's output gate), or NULL. */
    void (*after_reply)(struct evhtp_request *r);
    struct kn_outgate *gate; /* websocket frames wait there for the store; NULL: none */
} kn_eio_opts;

typedef struct kn_eio_cbs {
    void (*on_open)(kn_eio_sock *s, void *ud);
    /* One Engine.IO message (type 4): text or binary, borrowed (not NUL-terminated). */
    void (*on_message)(kn_eio_sock *s, const char *data, size_t len, int binary, void *ud);
    /* The session ended (reason as engine.io spells it: "transport close", "ping timeout",
     * "transport error", "parse error", "forced close", "server shutting down"...). Called once;
     * the session is freed after the current loop callback. */
    void (*on_close)(kn_eio_sock *s, const char *reason, void *ud);
} kn_eio_cbs;

/* opts copied, cbs borrowed (static). NULL when out of memory. */
kn_eio *kn_eio_new(struct event_base *base, const kn_eio_opts *opts, const kn_eio_cbs *cbs,
                   void *ud);
/* Frees every session without callbacks; held polling requests are answered first. */
void kn_eio_free(kn_eio *e);
/* Closes every session (callbacks run), e.g. on graceful shutdown. */
void kn_eio_close_all(kn_eio *e, const char *reason);

/* Answers a request whose path belongs to this endpoint (always answered or taken over). */
void kn_eio_handle(kn_eio *e, struct evhtp_request *req);

/* Queues one packet (pkt borrowed: a reference is kept). Never calls back synchronously.
 * EZ_OK, or EZ_ESTATE when the session is closing. */
int kn_eio_send(kn_eio_sock *s, kn_pkt *pkt);
/* Pushes what is queued for a websocket session onto the wire now rather than at the end of the
 * loop iteration, so the next packet travels in its own TCP segment (polling: no effect). */
void kn_eio_flush(kn_eio_sock *s);
/* Server-side close: on_close(reason) runs now. */
void kn_eio_close(kn_eio_sock *s, const char *reason);

const char *kn_eio_sid(const kn_eio_sock *s);
const char *kn_eio_remote_addr(const kn_eio_sock *s);
/* The handshake request's headers, lower-case names (new object). */
json_t *kn_eio_headers(const kn_eio_sock *s);
/* One handshake header (case-insensitive name) or NULL; borrowed for the session's life. */
const char *kn_eio_header(const kn_eio_sock *s, const char *name);
void *kn_eio_get_ud(const kn_eio_sock *s);
void kn_eio_set_ud(kn_eio_sock *s, void *ud);
size_t kn_eio_count(const kn_eio *e);
/* "polling" or "websocket". */
const char *kn_eio_transport(const kn_eio_sock *s);

#endif
