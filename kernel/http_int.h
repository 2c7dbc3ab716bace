/* Private to the HTTP layer (http*.c, system_*.c): the server, connection and request records.
 *
 * Lifetimes. evhtp owns its connection and request objects; we hang one kn_conn off each
 * connection (created at accept, hooks carry it) with the connection's one ez_req embedded:
 * HTTP/1.1 without pipelining has at most one request in flight per connection, and evhtp
 * refuses a pipelined request while the previous one is unanswered. A kn_conn is freed when
 * both sides are done: evhtp has closed the connection (ev == NULL) and no handler still holds
 * the request (req.active == 0). So an EZ_ASYNC handler may answer after the client left:
 * is_gone() says so and respond_* then only frees. */
#ifndef KN_HTTP_INT_H
#define KN_HTTP_INT_H

#include "http.h"
#include "outgate.h"
#include "router.h"

#include <evhtp.h>

#include <stdint.h>
#include <sys/time.h>

#define KN_JSON_CT "application/json; charset=utf-8"
#define KN_REQ_INLINE 1024 /* per-request scratch kept in the connection: no malloc for most */

typedef struct kn_conn kn_conn;
typedef struct kn_linger kn_linger;
typedef struct kn_route_undo kn_route_undo;

typedef struct kn_arena_block {
    struct kn_arena_block *next;
    size_t cap, used;
    char data[];
} kn_arena_block;

typedef enum kn_phase {
    KN_PH_HEADERS,    /* waiting for a complete header block (header_timeout_ms) */
    KN_PH_BODY,       /* reading the body (request_timeout_ms) */
    KN_PH_DISPATCHED, /* a handler or Socket.IO owns it: no timer */
    KN_PH_IDLE,       /* keep-alive between requests (idle_timeout_ms) */
} kn_phase;

struct ez_req {
    kn_conn *c;
    evhtp_request_t *ev; /* NULL once answered or when the client went away */
    unsigned method;     /* one EZ_* bit; 0 for methods the SDK does not name */
    const char *method_str;
    char *raw_path; /* copies (arena): valid even after the client left */
    size_t raw_path_len;
    char *query_raw; /* NULL when the URI had no query */
    char *path;      /* decoded, made on first use */
    int sio;         /* under socketio.path: Socket.IO's, never routed */
    kn_match_result mr;
    kn_match m;
    json_t *json;
    int authed;    /* the server has a key and this request presented it */
    int active;    /* handed to a handler and not yet answered: counts in inflight */
    int responded; /* respond_* or stream_end happened */
    int streaming;
    int gone;
    /* arena: inline first, then malloc'd blocks, all released when the request is answered */
    size_t inline_used;
    kn_arena_block *blocks;
    char inline_buf[KN_REQ_INLINE];
};

struct kn_conn {
    kn_http *h;
    evhtp_connection_t *ev; /* NULL once evhtp freed the connection */
    struct event *timer;
    struct event *written; /* tells evhtp, on the next loop turn, that a direct write finished */
    kn_phase phase;
    uint64_t body_limit, body_read;
    unsigned header_lines, header_bytes;
    int loopback;
    char addr[48];
    void (*after_flush)(void *arg); /* run once the current response left (or the peer did) */
    void *after_flush_arg;
    kn_outq held; /* answers reporting writes not committed yet (outgate.h) */
    ez_req req;
    kn_conn *prev, *next;
};

struct kn_http {
    kn_kernel *k;
    struct event_base *base;
    evhtp_t *htp;
    kn_router *router;
    uint64_t max_body, upload_max, sio_max;
    int strict_405;       /* server.method_not_allowed_405 */
    const char *sio_path; /* kn_setting lifetime */
    size_t sio_path_len;
    const char *auth_token; /* NULL = no auth */
    size_t auth_token_len;
    const char *cors_origin; /* NULL = reflect */
    struct timeval header_to, idle_to, request_to, linger_to;
    char *app_version;
    int listening;
    int accepting;
    int inflight;
    kn_conn *conns;
    kn_linger *lingers;
    kn_route_undo *undos;
    struct evbuffer *chunk;            /* reused by stream_write */
    struct event *defer_ev;            /* runs deferred_fn outside evhtp's call stack */
    bufferevent_data_cb evhtp_writecb; /* evhtp's, behind conn_writecb (http.c) */
    void (*deferred_fn)(void *arg);
    void *deferred_arg;
};

/* ---- http.c ---- */
/* Schedules fn(arg) on the next loop turn (one slot: a later call replaces an earlier one). */
void kn_http_defer(kn_http *h, void (*fn)(void *arg), void *arg);
/* Runs fn(arg) (deferred) once the response to r has been written out, or the client left. */
void kn_http_after_flush(ez_req *r, void (*fn)(void *arg), void *arg);
/* Frees a connection record once both evhtp and the handler are done with it. */
void kn_conn_release(kn_conn *c);
/* The connection stopped being evhtp's (closed or taken over): marks a held request gone and
 * releases what nobody needs any more. */
void kn_conn_detach(kn_conn *c);
/* Answers are written to the socket right away instead of waiting for the loop to report it
 * writable: two epoll_ctl calls and a wakeup less per request. The connection's write event
 * stays off while we do that; these switch between the two ways. */
void kn_conn_write_direct_begin(kn_conn *c); /* before putting a complete answer in the output */
void kn_conn_write_direct_end(kn_conn *c);   /* writes it; the rest (if any) via the loop */
void kn_conn_write_via_loop(kn_conn *c);     /* streams, Socket.IO: libevent flushes */
/* Output just added to c's bufferevent waits for the store's commit when it must (outgate.h). */
void kn_conn_gate(kn_conn *c);

/* ---- http_request.c ---- */
/* Prepares c->req for the request whose headers just arrived. */
void kn_req_begin(kn_conn *c, evhtp_request_t *ev);
/* Releases the request's memory once it is answered (keeps the record for the next one). */
void kn_req_finish(ez_req *r);
void *kn_req_alloc(ez_req *r, size_t n);
char *kn_req_strndup(ez_req *r, const char *s, size_t n);
const char *kn_req_header(const ez_req *r, const char *name);
/* First decoded value of a query key (arena), or NULL. */
const char *kn_req_query(ez_req *r, const char *name);
/* The body as received (borrowed from evhtp's buffer; NULL/0 without one or once gone). */
const char *kn_req_body(const ez_req *r, size_t *len);
/* 1 for a JSON content type ("application/json", any parameters). */
int kn_ct_is_json(const char *ct);
int kn_path_has_prefix(const char *path, size_t len, const char *prefix); /* case-insensitive */

void kn_http_fill_request_api(ez_host_api *api);

/* ---- http_response.c ---- */
int kn_resp_bytes(ez_req *r, int status, const char *content_type, const void *data, size_t len);
int kn_resp_json_new(ez_req *r, int status, json_t *body_new);
/* {"success":false,"error":{"message":M,"code":<status>}} — the Express error handler's shape */
int kn_resp_error_num(ez_req *r, int status, const char *message);
int kn_resp_error(ez_req *r, int status, ez_err_style style, const char *code, const char *message,
                  const char *details);
int kn_resp_empty(ez_req *r, int status);
/* "2026-11-28T11:47:50.806Z" of now. */
void kn_http_iso_now(char out[32]);

void kn_http_fill_response_api(ez_host_api *api);

/* ---- http_cors.c ---- */
typedef void (*kn_hdr_emit)(void *arg, const char *name, const char *value);
/* Security headers and CORS for every response. origin: the request's Origin header or NULL.
 * Values are static or borrowed from origin. */
void kn_http_common_headers(const kn_http *h, const char *origin, kn_hdr_emit emit, void *arg);
/* What a CORS preflight answer adds (methods, headers, max age). */
void kn_http_preflight_headers(kn_hdr_emit emit, void *arg);

/* ---- http_linger.c ---- */
/* Takes the connection from evhtp, writes a complete response (status, JSON body, common
 * headers, Connection: close), then reads and discards what the client still sends until it
 * closes or linger_to passes, so the client sees the answer instead of a reset. Call from an
 * evhtp hook and return an error status from it afterwards. */
void kn_http_reject_early(kn_conn *c, evhtp_request_t *ev, int status, const char *json_body);
void kn_linger_free_all(kn_http *h);

/* ---- http_routes.c ---- */
/* Registers a route for owner; track: record an undo with the loader (plugins) or not (the
 * kernel's own routes, which live as long as the server). */
int kn_http_route_add(kn_http *h, ez_plugin *owner, int track, unsigned methods,
                      const char *pattern, const ez_route_opts *opts, ez_route_fn fn, void *ud,
                      ez_free_fn ud_free);
/* Detaches the loader's undo records before the router goes away. */
void kn_http_routes_detach(kn_http *h);
void kn_http_fill_route_api(ez_host_api *api);

/* ---- http_dispatch.c ---- */
/* Runs a complete request (everything but Socket.IO): preflight, auth, content type, 404/405,
 * JSON, uuid parameters, then the handler. */
void kn_http_dispatch(kn_conn *c, evhtp_request_t *ev);

/* ---- system_env.c ---- */
/* The .env found walking up from the working directory (new string) or NULL. */
char *kn_env_find(void);
/* Parses dotenv text into a new object of strings. */
json_t *kn_env_parse(const char *text, size_t len);
/* Validates content (an object of string/number/boolean values with sane keys) and renders it
 * as dotenv text (new string); NULL when invalid. */
char *kn_env_render(const json_t *content);
/* Replaces path with text atomically (temp file in the same directory + rename). 0 or errno. */
int kn_env_write_atomic(const char *path, const char *text);

#endif
