/* The HTTP server: libevhtp on the kernel's event_base. This file owns the server's lifecycle
 * and each connection's: accept, per-phase timers (a client gets header_timeout_ms for a
 * complete header block, request_timeout_ms for the body, idle_timeout_ms between keep-alive
 * requests; a slow client cannot hold a connection), body limits (checked against
 * Content-Length before the body is read, and while it is read), and handing finished requests
 * to Socket.IO or to the dispatcher. */
#include "http_int.h"
#include "sio.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define KB 1024ull
#define DEFAULT_MAX_BODY (2 * KB * KB)
#define DEFAULT_UPLOAD_MAX (50 * KB * KB) /* multer's limit on the media/audio routes */

/* Node's limits are 16 KB of headers and 2000 lines; a little more room here. */
#define MAX_HEADER_LINES 256
#define MAX_HEADER_BYTES (64 * 1024)

static const char body_413[] =
    "{\"success\":false,\"error\":{\"message\":\"request entity too large\",\"code\":413}}";
static const char body_431[] =
    "{\"success\":false,\"error\":{\"message\":\"request header fields too large\",\"code\":431}}";

/* "2mb", "100kb", "1.5MB", "512b", "2048" -> bytes (the `bytes` npm package's units) */
static uint64_t parse_size(const char *s, uint64_t fallback) {
    if (!s || !*s)
        return fallback;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return fallback;
    while (*end == ' ')
        end++;
    double mult = 1;
    if (!*end || !strcasecmp(end, "b"))
        mult = 1;
    else if (!strcasecmp(end, "kb"))
        mult = 1024.0;
    else if (!strcasecmp(end, "mb"))
        mult = 1024.0 * 1024;
    else if (!strcasecmp(end, "gb"))
        mult = 1024.0 * 1024 * 1024;
    else
        return fallback;
    return (uint64_t)(v * mult);
}

static struct timeval ms_tv(long long ms) {
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* ---------------------------------------------------------------- deferred calls */

static void on_defer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_http *h = arg;
    void (*fn)(void *) = h->deferred_fn;
    h->deferred_fn = NULL;
    if (fn)
        fn(h->deferred_arg);
}

void kn_http_defer(kn_http *h, void (*fn)(void *arg), void *arg) {
    h->deferred_fn = fn;
    h->deferred_arg = arg;
    event_active(h->defer_ev, EV_TIMEOUT, 1);
}

static void run_after_flush(kn_conn *c) {
    if (!c->after_flush)
        return;
    kn_http_defer(c->h, c->after_flush, c->after_flush_arg);
    c->after_flush = NULL;
}

void kn_http_after_flush(ez_req *r, void (*fn)(void *arg), void *arg) {
    kn_conn *c = r->c;
    c->after_flush = fn;
    c->after_flush_arg = arg;
    if (!c->ev)
        run_after_flush(c);
}

static kn_conn *conn_of(evhtp_connection_t *conn);

/* ---------------------------------------------------------------- direct writes */

void kn_conn_write_direct_begin(kn_conn *c) {
    bufferevent_disable(c->ev->bev, EV_WRITE); /* no event is pending between answers: no syscall */
}

/* Writes what the output holds now; what does not fit goes the usual way. */
static void conn_write_now(kn_conn *c) {
    struct bufferevent *bev = c->ev->bev;
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0 && evbuffer_get_length(out)) {
        /* a socket bufferevent keeps its output's start frozen outside its own write callback;
         * thaw it for the write exactly like that callback does */
        evbuffer_unfreeze(out, 1);
        evbuffer_write(out, fd);
        evbuffer_freeze(out, 1);
    }
    if (evbuffer_get_length(out) == 0)
        event_active(c->written, EV_TIMEOUT, 1); /* not now: evhtp may be mid-parse */
    else
        bufferevent_enable(bev, EV_WRITE); /* the rest, or the error, the usual way */
}

/* The gate let held output go: the writes it reports are committed. */
static void conn_release_held(kn_outq *q, struct evbuffer *buf, void *ud) {
    (void)q;
    kn_conn *c = ud;
    if (!c->ev || !c->ev->bev)
        return;
    evbuffer_add_buffer(bufferevent_get_output(c->ev->bev), buf);
    conn_write_now(c);
}

/* Writes this connection's held answer reported were lost: close it (the client sees an error
 * instead of an answer that says they were stored). */
static void conn_fail_held(kn_outq *q, void *ud) {
    (void)q;
    kn_conn *c = ud;
    if (!c->ev || !c->ev->bev)
        return;
    evbuffer_drain(bufferevent_get_output(c->ev->bev), (size_t)-1);
    bufferevent_trigger_event(c->ev->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
}

/* Moves output just produced behind the gate when it reports uncommitted writes. 1 if held. */
static int conn_hold(kn_conn *c) {
    if (!c->ev || !c->ev->bev)
        return 0;
    struct evbuffer *held = kn_outq_target(kn_kernel_outgate(c->h->k), &c->held);
    if (!held)
        return 0;
    evbuffer_add_buffer(held, bufferevent_get_output(c->ev->bev));
    /* libevent would run evhtp's write callback on the now empty output as if the answer had
     * gone out; the release writes it and then runs that callback itself (conn_write_now) */
    bufferevent_disable(c->ev->bev, EV_WRITE);
    return 1;
}

/* Output of a stream or a Socket.IO polling answer, which go out the usual libevent way: held,
 * or written by the loop (an earlier hold on this connection turned its write event off). */
void kn_conn_gate(kn_conn *c) {
    if (!conn_hold(c) && c->ev && c->ev->bev)
        bufferevent_enable(c->ev->bev, EV_WRITE);
}

void kn_http_gate_reply(evhtp_request_t *r) {
    kn_conn *c = conn_of(r->conn);
    if (c)
        kn_conn_gate(c);
}

void kn_conn_write_direct_end(kn_conn *c) {
    if (conn_hold(c))
        return; /* written when the storage thread has committed what it reports */
    if (kn_store_turn_open(kn_kernel_store(c->h->k))) {
        /* what this answer reports is not committed yet: the loop writes it after the commit */
        bufferevent_enable(c->ev->bev, EV_WRITE);
        return;
    }
    conn_write_now(c);
}

void kn_conn_write_via_loop(kn_conn *c) {
    if (!c->ev || !c->ev->bev)
        return;
    if (kn_outq_held(&c->held))
        conn_hold(c); /* whatever was just added goes behind what is held */
    else
        bufferevent_enable(c->ev->bev, EV_WRITE);
}

/* What libevent would have done after flushing: run evhtp's write callback, which finishes
 * the request and resets the parser for keep-alive (or closes the connection). */
static void on_written(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_conn *c = arg;
    struct bufferevent *bev = c->ev ? c->ev->bev : NULL;
    bufferevent_data_cb wcb = NULL;
    void *wcb_arg = NULL;
    if (!bev)
        return;
    bufferevent_getcb(bev, NULL, &wcb, NULL, &wcb_arg);
    if (wcb && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        wcb(bev, wcb_arg); /* may free the connection (and c, through on_conn_fini) */
}

/* evhtp takes a drained output for a complete answer: its write callback then frees the
 * request and resets the parser (a later call finds no request and closes the connection).
 * While part of an answer waits behind the gate the answer is not out, so evhtp hears of the
 * drain only when the held rest has been written too. */
static void conn_writecb(struct bufferevent *bev, void *arg) {
    kn_conn *c = conn_of(arg); /* evhtp's callback argument is its connection */
    if (c && !kn_outq_held(&c->held))
        c->h->evhtp_writecb(bev, arg);
}

/* ---------------------------------------------------------------- connections */

static void timer_arm(kn_conn *c, const struct timeval *tv) {
    if (tv->tv_sec || tv->tv_usec)
        evtimer_add(c->timer, tv);
    else
        evtimer_del(c->timer);
}

static void conn_unlink(kn_conn *c) {
    if (c->prev)
        c->prev->next = c->next;
    else if (c->h->conns == c)
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void kn_conn_release(kn_conn *c) {
    if (c->ev || c->req.active)
        return;
    kn_req_finish(&c->req);
    conn_unlink(c);
    if (c->timer)
        event_free(c->timer);
    if (c->written)
        event_free(c->written);
    free(c);
}

/* The connection is no longer evhtp's (closed, or taken over): forget it on our side. */
void kn_conn_detach(kn_conn *c) {
    kn_outq_clear(kn_kernel_outgate(c->h->k), &c->held);
    c->ev = NULL;
    evtimer_del(c->timer);
    event_del(c->written);
    if (c->req.active) {
        c->req.ev = NULL;
        c->req.gone = 1;
    }
    run_after_flush(c);
    kn_conn_release(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_conn *c = arg;
    if (c->ev)
        evhtp_connection_free(c->ev); /* runs on_conn_fini, which releases c */
}

static evhtp_res on_conn_fini(evhtp_connection_t *conn, void *arg) {
    (void)conn;
    kn_conn_detach(arg);
    return EVHTP_RES_OK;
}

static evhtp_res on_headers_start(evhtp_request_t *ev, void *arg) {
    (void)ev;
    kn_conn *c = arg;
    c->header_lines = 0;
    c->header_bytes = 0;
    if (c->phase == KN_PH_IDLE) {
        c->phase = KN_PH_HEADERS;
        timer_arm(c, &c->h->header_to);
    }
    return EVHTP_RES_OK;
}

/* evhtp keeps every header line in memory: bound them, or one fast client could fill it */
static evhtp_res on_header(evhtp_request_t *ev, evhtp_header_t *hdr, void *arg) {
    kn_conn *c = arg;
    c->header_bytes += hdr->klen + hdr->vlen + 4;
    if (++c->header_lines > MAX_HEADER_LINES || c->header_bytes > MAX_HEADER_BYTES) {
        kn_http_reject_early(c, ev, 431, body_431);
        return EVHTP_RES_USER;
    }
    return EVHTP_RES_OK;
}

static evhtp_res on_headers(evhtp_request_t *ev, evhtp_headers_t *hdrs, void *arg) {
    (void)hdrs;
    kn_conn *c = arg;
    kn_http *h = c->h;
    if (c->req.active) /* evhtp refuses pipelining while an answer is pending; never clobber */
        return EVHTP_RES_ERROR;
    c->phase = KN_PH_BODY;
    timer_arm(c, &h->request_to);
    kn_req_begin(c, ev);
    const ez_req *r = &c->req;
    if (r->sio)
        c->body_limit = h->sio_max;
    else if (r->m.route && r->m.route->raw_body)
        c->body_limit = h->upload_max;
    else
        c->body_limit = h->max_body;
    c->body_read = 0;

    /* reject by the announced length before reading a byte of the body */
    if (evhtp_header_find(ev->headers_in, "Content-Length") &&
        htparser_get_content_length(ev->conn->parser) > c->body_limit) {
        kn_http_reject_early(c, ev, 413, body_413);
        return EVHTP_RES_USER;
    }
    /* evhtp's own 100-continue is off: it would be sent even for a request refused above */
    const char *expect = evhtp_header_find(ev->headers_in, "Expect");
    if (expect && !strcasecmp(expect, "100-continue") && ev->proto == EVHTP_PROTO_11) {
        evbuffer_add(bufferevent_get_output(ev->conn->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
        kn_conn_write_via_loop(c);
    }
    return EVHTP_RES_OK;
}

static evhtp_res on_read(evhtp_request_t *ev, struct evbuffer *buf, void *arg) {
    kn_conn *c = arg;
    c->body_read += evbuffer_get_length(buf);
    if (c->body_read > c->body_limit) { /* chunked bodies, or more than announced */
        kn_http_reject_early(c, ev, 413, body_413);
        return EVHTP_RES_USER;
    }
    return EVHTP_RES_OK;
}

/* evhtp calls this whenever the output buffer drained: once the answer is complete it is out. */
static evhtp_res on_write(evhtp_connection_t *conn, void *arg) {
    kn_conn *c = arg;
    evhtp_request_t *rq = conn->request;
    if (!rq || !(rq->flags & EVHTP_REQ_FLAG_FINISHED) ||
        evbuffer_get_length(bufferevent_get_output(conn->bev)))
        return EVHTP_RES_OK;
    run_after_flush(c);
    if (c->phase == KN_PH_DISPATCHED) {
        c->phase = KN_PH_IDLE; /* a closing connection is freed right after this hook */
        timer_arm(c, &c->h->idle_to);
    }
    return EVHTP_RES_OK;
}

static evhtp_res on_accept(evhtp_connection_t *conn, void *arg) {
    kn_http *h = arg;
    kn_conn *c = calloc(1, sizeof *c);
    if (!c)
        return EVHTP_RES_ERROR;
    c->h = h;
    c->ev = conn;
    c->req.c = c;
    c->phase = KN_PH_HEADERS;
    kn_outq_init(&c->held, conn_release_held, conn_fail_held, c);
    if (!(c->timer = evtimer_new(h->base, on_timeout, c)) ||
        !(c->written = event_new(h->base, -1, 0, on_written, c))) {
        if (c->timer)
            event_free(c->timer);
        free(c);
        return EVHTP_RES_ERROR;
    }
    const struct sockaddr *sa = conn->saddr;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, c->addr, sizeof c->addr);
        c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, c->addr, sizeof c->addr);
        const unsigned char *b = in6->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        c->loopback =
            IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
    } else {
        snprintf(c->addr, sizeof c->addr, "unix");
        c->loopback = 1;
    }
    evhtp_connection_set_hook(conn, evhtp_hook_on_headers_start, (evhtp_hook)on_headers_start, c);
    evhtp_connection_set_hook(conn, evhtp_hook_on_header, (evhtp_hook)on_header, c);
    evhtp_connection_set_hook(conn, evhtp_hook_on_headers, (evhtp_hook)on_headers, c);
    evhtp_connection_set_hook(conn, evhtp_hook_on_read, (evhtp_hook)on_read, c);
    evhtp_connection_set_hook(conn, evhtp_hook_on_write, (evhtp_hook)on_write, c);
    evhtp_connection_set_hook(conn, evhtp_hook_on_connection_fini, (evhtp_hook)on_conn_fini, c);
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *cb_arg;
    bufferevent_getcb(conn->bev, &rcb, &wcb, &ecb, &cb_arg);
    if (wcb && wcb != conn_writecb) {
        h->evhtp_writecb = wcb; /* the same function for every connection */
        bufferevent_setcb(conn->bev, rcb, conn_writecb, ecb, cb_arg);
    }
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    timer_arm(c, &h->header_to);
    return EVHTP_RES_OK;
}

static kn_conn *conn_of(evhtp_connection_t *conn) {
    evhtp_hooks_t *hooks = conn ? evhtp_connection_get_hooks(conn) : NULL;
    return hooks && hooks->on_connection_fini == (evhtp_hook_connection_fini_cb)on_conn_fini
               ? hooks->on_connection_fini_arg
               : NULL;
}

/* A complete request (headers and body) arrived. */
static void on_request(evhtp_request_t *ev, void *arg) {
    kn_http *h = arg;
    kn_conn *c = conn_of(ev->conn);
    if (!c) { /* cannot happen: every connection went through on_accept */
        evhtp_send_reply(ev, EVHTP_RES_SERVERR);
        return;
    }
    c->phase = KN_PH_DISPATCHED;
    evtimer_del(c->timer);
    kn_sio *sio = kn_kernel_sio(h->k);
    evhtp_connection_t *conn = c->ev;
    if (c->req.sio)
        kn_conn_write_via_loop(
            c); /* Socket.IO writes the usual evhtp way, maybe after a takeover */
    if (sio && kn_sio_handle_request(sio, ev)) {
        /* a websocket upgrade takes the connection over: evhtp will not report its end */
        if (!(conn->flags & EVHTP_CONN_FLAG_OWNER))
            kn_conn_detach(c);
        else
            kn_conn_write_via_loop(c); /* its answer, now or later, must reach the socket */
        return;
    }
    kn_http_dispatch(c, ev);
}

/* ---------------------------------------------------------------- server */

kn_http *kn_http_new(kn_kernel *k) {
    kn_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->k = k;
    h->base = kn_kernel_base(k);
    h->max_body = parse_size(kn_setting(k, "server.max_body"), DEFAULT_MAX_BODY);
    h->upload_max = parse_size(kn_setting(k, "server.max_upload"), DEFAULT_UPLOAD_MAX);
    if (h->upload_max < h->max_body)
        h->upload_max = h->max_body;
    h->sio_max = (uint64_t)kn_setting_int(k, "socketio.max_payload", 1000000);
    h->strict_405 = kn_setting_int(k, "server.method_not_allowed_405", 0) != 0;
    h->sio_path = kn_setting(k, "socketio.path");
    if (!h->sio_path || !*h->sio_path)
        h->sio_path = "/socket.io/";
    h->sio_path_len = strlen(h->sio_path);
    h->auth_token = kn_setting(k, "server.auth_token");
    if (h->auth_token && !*h->auth_token)
        h->auth_token = NULL;
    h->auth_token_len = h->auth_token ? strlen(h->auth_token) : 0;
    h->cors_origin = kn_setting(k, "server.cors_origin");
    if (h->cors_origin && !*h->cors_origin)
        h->cors_origin = NULL;
    h->header_to = ms_tv(kn_setting_int(k, "server.header_timeout_ms", 10000));
    h->idle_to = ms_tv(kn_setting_int(k, "server.idle_timeout_ms", 5000));
    h->request_to = ms_tv(kn_setting_int(k, "server.request_timeout_ms", 30000));
    h->linger_to = ms_tv(5000);
    const char *app_version = getenv("APP_VERSION");
    h->app_version = strdup(app_version && *app_version ? app_version : "unknown");
    h->accepting = 1;

    if (!h->base || !h->app_version || !(h->router = kn_router_new()) ||
        !(h->chunk = evbuffer_new()) || !(h->defer_ev = event_new(h->base, -1, 0, on_defer, h)) ||
        !(h->htp = evhtp_new(h->base, h))) {
        kn_log(k, "kernel", EZ_ERR, "http: cannot create the server (out of memory)");
        kn_http_free(h);
        return NULL;
    }
    evhtp_set_gencb(h->htp, on_request, h);
    evhtp_set_post_accept_cb(h->htp, on_accept, h);
    evhtp_disable_flag(h->htp, EVHTP_FLAG_ENABLE_100_CONT);
    evhtp_enable_flag(h->htp, EVHTP_FLAG_ENABLE_NODELAY);
    /* a client that stops reading a response (or a stream) is dropped after this long */
    evhtp_set_timeouts(h->htp, NULL, &h->request_to);
    return h;
}

int kn_http_listen(kn_http *h) {
    const char *host = kn_setting(h->k, "server.host");
    long long port = kn_setting_int(h->k, "server.port", 3000);
    if (!host || !*host)
        host = "0.0.0.0";
    if (port < 0 || port > 65535) {
        kn_log(h->k, "kernel", EZ_ERR, "http: server.port %lld is not a port", port);
        return EZ_EIO;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%lld", port);
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        kn_log(h->k, "kernel", EZ_ERR, "http: cannot resolve server.host \"%s\": %s", host,
               gai_strerror(gai));
        return EZ_EIO;
    }
    errno = 0;
    int rc = evhtp_bind_sockaddr(h->htp, ai->ai_addr, ai->ai_addrlen, 1024);
    int err = errno;
    freeaddrinfo(ai);
    if (rc != 0) {
        kn_log(h->k, "kernel", EZ_ERR, "http: cannot listen on %s:%lld: %s", host, port,
               err ? strerror(err) : "bind failed");
        return EZ_EIO;
    }
    h->listening = 1;
    kn_log(h->k, "kernel", EZ_DEBUG, "http: listening on %s:%lld", host, port);
    return EZ_OK;
}

void kn_http_stop_accepting(kn_http *h) {
    if (!h)
        return;
    if (h->listening)
        evhtp_unbind_socket(h->htp);
    h->listening = 0;
    h->accepting = 0;
    /* idle keep-alive connections go now; busy ones close after their answer */
    kn_conn *c = h->conns;
    while (c) {
        kn_conn *next = c->next;
        if (c->ev && (c->phase == KN_PH_IDLE || c->phase == KN_PH_HEADERS))
            evhtp_connection_free(c->ev);
        c = next;
    }
}

int kn_http_inflight(kn_http *h) {
    return h ? h->inflight : 0;
}

void kn_http_free(kn_http *h) {
    if (!h)
        return;
    if (h->htp && h->listening)
        evhtp_unbind_socket(h->htp);
    kn_linger_free_all(h);
    while (h->conns) {
        kn_conn *c = h->conns;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        if (c->ev) {
            evhtp_connection_free(c->ev); /* on_conn_fini releases c unless a handler holds it */
            if (h->conns != c)
                continue;
        }
        /* a handler never answered (its plugin is gone): nobody will, free it here */
        if (c->req.active) {
            c->req.active = 0;
            h->inflight--;
        }
        kn_conn_release(c);
    }
    kn_http_routes_detach(h);
    kn_router_free(h->router);
    if (h->htp)
        evhtp_free(h->htp);
    if (h->chunk)
        evbuffer_free(h->chunk);
    if (h->defer_ev)
        event_free(h->defer_ev);
    free(h->app_version);
    free(h);
}
