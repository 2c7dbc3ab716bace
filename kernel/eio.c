/* Engine.IO v4 server (see eio.h). Sessions live in a sid map; their heartbeat deadlines in
 * three fixed-delay queues (sio_tq.h); a closed session is unlinked at once and freed from a
 * deferred callback, so no pointer on the current call stack ever dangles. */
#include "eio.h"

#include "sio_map.h"
#include "sio_tq.h"
#include "util_time.h"
#include "ws.h"

#include <elizad/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define EIO_HEADERS_MAX (16u << 10) /* handshake headers kept for guards and the bus */
#define EIO_QUEUE_MIN (8u << 20)    /* polling output above max(this, 8 x maxPayload): drop */

enum { T_POLLING, T_WS };
enum { U_NONE, U_PROBING, U_PROBED };

/* Engine.IO HTTP error codes (engine.io Server.errors). */
enum {
    E_UNKNOWN_TRANSPORT = 0,
    E_UNKNOWN_SID = 1,
    E_BAD_HANDSHAKE_METHOD = 2,
    E_BAD_REQUEST = 3,
    E_FORBIDDEN = 4,
    E_UNSUPPORTED_PROTOCOL_VERSION = 5,
};
static const char *const eio_err_msg[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version"};

struct kn_eio_sock {
    kn_eio *e;
    char sid[21];
    uint8_t transport;
    uint8_t closed;
    uint8_t upgrade;
    uint8_t flush_listed; /* in e->flush_head */
    uint8_t overflow;
    uint8_t awaiting_pong; /* hb is in pong_q */
    kn_tq_node hb;         /* in ping_q (waiting to ping) or pong_q (waiting for the pong) */
    kn_tq_node upg;        /* in upg_q while a probe websocket is attached */
    evhtp_request_t *poll;
    kn_pkt **q; /* polling output, oldest first */
    uint32_t qlen, qcap;
    size_t qbytes;
    kn_ws *ws;    /* the websocket transport */
    kn_ws *probe; /* a websocket being upgraded to */
    void *ud;
    char *hdrs; /* "name\0value\0..." with lower-case names */
    size_t hdrs_len;
    char addr[48];
    kn_eio_sock *next_flush;
    kn_eio_sock *next_dead;
};

struct kn_eio {
    struct event_base *base;
    kn_eio_opts o;
    char *cors;
    const kn_eio_cbs *cbs;
    void *ud;
    kn_map socks;
    kn_tq ping_q, pong_q, upg_q;
    kn_ws_set wss;
    struct event *defer_ev; /* polling flushes and frees, after the current callback */
    kn_eio_sock *flush_head;
    kn_eio_sock *dead_head;
    size_t queue_limit;
    kn_pkt *p_ping, *p_noop, *p_close, *p_probe;
};

static const kn_ws_cbs eio_ws_cbs;
static void eio_close_ex(kn_eio_sock *s, const char *reason, int client_closed);

/* ---- small helpers ---- */

static void defer(kn_eio *e) {
    event_active(e->defer_ev, EV_TIMEOUT, 0);
}

static int query_get(const char *q, const char *key, char *out, size_t cap) {
    size_t klen = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t seg = amp ? (size_t)(amp - q) : strlen(q);
        if (seg > klen && strncmp(q, key, klen) == 0 && q[klen] == '=') {
            size_t vlen = seg - klen - 1;
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, q + klen + 1, vlen);
            out[vlen] = '\0';
            return 1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void new_sid(char out[21]) {
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t rnd[20];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* getrandom does not fail for 20 bytes after boot; keep ids unique regardless */
        static const uint8_t zero[20];
        memcpy(rnd, zero, sizeof rnd);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(rnd, &ts, sizeof ts < sizeof rnd ? sizeof ts : sizeof rnd);
    }
    for (int i = 0; i < 20; i++)
        out[i] = chars[rnd[i] & 63];
    out[20] = '\0';
}

static void add_header(evhtp_request_t *r, const char *k, const char *v, int copy) {
    evhtp_headers_add_header(r->headers_out, evhtp_header_new(k, v, 0, copy));
}

static void add_cors(kn_eio *e, evhtp_request_t *r) {
    const char *origin = evhtp_header_find(r->headers_in, "Origin");
    if (!origin)
        return;
    if (e->cors && *e->cors && strcmp(e->cors, "*") == 0) {
        add_header(r, "Access-Control-Allow-Origin", "*", 0);
        return;
    }
    add_header(r, "Access-Control-Allow-Origin", e->cors && *e->cors ? e->cors : origin, 1);
    add_header(r, "Access-Control-Allow-Credentials", "true", 0);
}

static void http_reply(kn_eio *e, evhtp_request_t *r, int status, const char *ctype,
                       const void *body, size_t len) {
    add_cors(e, r);
    if (ctype)
        add_header(r, "Content-Type", ctype, 0);
    if (len)
        evbuffer_add(r->buffer_out, body, len);
    evhtp_send_reply(r, (evhtp_res)status);
    if (e->o.after_reply)
        e->o.after_reply(r);
}

static void http_error(kn_eio *e, evhtp_request_t *r, int code) {
    char body[96];
    int n =
        snprintf(body, sizeof body, "{\"code\":%d,\"message\":\"%s\"}", code, eio_err_msg[code]);
    http_reply(e, r, code == E_FORBIDDEN ? 403 : 400, "application/json", body, (size_t)n);
}

/* ---- sessions ---- */

static void capture_headers(kn_eio_sock *s, evhtp_request_t *r) {
    size_t total = 0;
    evhtp_kv_t *kv;
    TAILQ_FOREACH(kv, r->headers_in, next) {
        size_t add = kv->klen + kv->vlen + 2;
        if (total + add > EIO_HEADERS_MAX)
            break;
        total += add;
    }
    s->hdrs = malloc(total ? total : 1);
    if (!s->hdrs)
        return;
    size_t o = 0;
    TAILQ_FOREACH(kv, r->headers_in, next) {
        size_t add = kv->klen + kv->vlen + 2;
        if (o + add > total)
            break;
        for (size_t i = 0; i < kv->klen; i++)
            s->hdrs[o + i] = (char)tolower((unsigned char)kv->key[i]);
        o += kv->klen;
        s->hdrs[o++] = '\0';
        memcpy(s->hdrs + o, kv->val ? kv->val : "", kv->vlen);
        o += kv->vlen;
        s->hdrs[o++] = '\0';
    }
    s->hdrs_len = o;
}

static void capture_addr(kn_eio_sock *s, evhtp_request_t *r) {
    evhtp_connection_t *c = evhtp_request_get_connection(r);
    struct sockaddr *sa = c ? c->saddr : NULL;
    strcpy(s->addr, "unknown");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, s->addr, sizeof s->addr);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, s->addr,
                  sizeof s->addr);
}

static kn_eio_sock *sock_new(kn_eio *e, evhtp_request_t *r, int transport) {
    kn_eio_sock *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->e = e;
    s->transport = (uint8_t)transport;
    do
        new_sid(s->sid);
    while (kn_map_get(&e->socks, s->sid));
    capture_headers(s, r);
    capture_addr(s, r);
    if (!s->hdrs || kn_map_put(&e->socks, s->sid, s) != 0) {
        free(s->hdrs);
        free(s);
        return NULL;
    }
    return s;
}

static void sock_free(kn_eio_sock *s) {
    for (uint32_t i = 0; i < s->qlen; i++)
        kn_pkt_unref(s->q[i]);
    free(s->q);
    free(s->hdrs);
    free(s);
}

static size_t open_packet(kn_eio *e, const kn_eio_sock *s, int upgrades, char *out, size_t cap) {
    int n = snprintf(out, cap,
                     "0{\"sid\":\"%s\",\"upgrades\":%s,\"pingInterval\":%lld,\"pingTimeout\":%lld,"
                     "\"maxPayload\":%zu}",
                     s->sid, upgrades ? "[\"websocket\"]" : "[]", (long long)e->o.ping_interval,
                     (long long)e->o.ping_timeout, e->o.max_payload);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- polling output ---- */

static evhtp_res poll_fini(evhtp_request_t *r, void *arg);

static void poll_release(kn_eio_sock *s) {
    evhtp_request_t *r = s->poll;
    s->poll = NULL;
    evhtp_request_unset_hook(r, evhtp_hook_on_request_fini);
}

static void append_pkt(struct evbuffer *b, const kn_pkt *p) {
    if (!p)
        return;
    if (!p->binary) {
        evbuffer_add(b, p->data, p->len);
        return;
    }
    size_t n = kn_b64_enc_len(p->len);
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(b, (ev_ssize_t)(n + 2), &v, 1) < 1)
        return;
    char *o = v.iov_base;
    o[0] = 'b';
    kn_b64_encode((const uint8_t *)p->data, p->len, o + 1);
    v.iov_len = n + 1;
    evbuffer_commit_space(b, &v, 1);
}

/* Answers the held GET with the queued packets (unless only_extra), then extra (may be NULL). */
static void poll_answer(kn_eio_sock *s, const kn_pkt *extra, int only_extra) {
    evhtp_request_t *r = s->poll;
    if (!r)
        return;
    poll_release(s);
    if (only_extra) {
        append_pkt(r->buffer_out, extra);
        http_reply(s->e, r, 200, "text/plain; charset=UTF-8", NULL, 0);
        return;
    }
    for (uint32_t i = 0; i < s->qlen; i++) {
        if (i)
            evbuffer_add(r->buffer_out, "\x1e", 1);
        append_pkt(r->buffer_out, s->q[i]);
        kn_pkt_unref(s->q[i]);
    }
    if (extra) {
        if (s->qlen)
            evbuffer_add(r->buffer_out, "\x1e", 1);
        append_pkt(r->buffer_out, extra);
    }
    s->qlen = 0;
    s->qbytes = 0;
    http_reply(s->e, r, 200, "text/plain; charset=UTF-8", NULL, 0);
}

static void poll_flush(kn_eio_sock *s, const kn_pkt *extra) {
    poll_answer(s, extra, 0);
}

/* A noop ends a poll without giving away the queue (kept for the websocket being probed). */
static void poll_noop(kn_eio_sock *s) {
    poll_answer(s, s->e->p_noop, 1);
}

static evhtp_res poll_fini(evhtp_request_t *r, void *arg) {
    kn_eio_sock *s = arg;
    if (s->poll == r) { /* the client went away while we held its request */
        s->poll = NULL;
        if (!s->closed)
            eio_close_ex(s, "transport close", 0);
    }
    return EVHTP_RES_OK;
}

static int queue_push(kn_eio_sock *s, kn_pkt *p) {
    if (s->qlen == s->qcap) {
        uint32_t cap = s->qcap ? s->qcap * 2 : 4;
        kn_pkt **nq = realloc(s->q, cap * sizeof *nq);
        if (!nq)
            return EZ_ENOMEM;
        s->q = nq;
        s->qcap = cap;
    }
    s->q[s->qlen++] = kn_pkt_ref(p);
    s->qbytes += p->len;
    return EZ_OK;
}

/* Sends over the websocket everything queued while the session was polling. */
static void queue_to_ws(kn_eio_sock *s) {
    for (uint32_t i = 0; i < s->qlen; i++) {
        kn_ws_send_pkt(s->ws, s->q[i]);
        kn_pkt_unref(s->q[i]);
    }
    s->qlen = 0;
    s->qbytes = 0;
}

int kn_eio_send(kn_eio_sock *s, kn_pkt *p) {
    if (s->closed)
        return EZ_ESTATE;
    if (s->transport == T_WS)
        return kn_ws_send_pkt(s->ws, p) == EZ_OK ? EZ_OK : EZ_EIO;
    /* a client that stopped polling is treated like a websocket that stopped reading */
    if (queue_push(s, p) != EZ_OK || s->qbytes > s->e->queue_limit)
        s->overflow = 1;
    if ((s->poll || s->overflow) && !s->flush_listed) {
        s->flush_listed = 1;
        s->next_flush = s->e->flush_head;
        s->e->flush_head = s;
        defer(s->e);
    }
    return EZ_OK;
}

void kn_eio_flush(kn_eio_sock *s) {
    if (!s->closed && s->transport == T_WS && s->ws)
        kn_ws_flush(s->ws);
}

/* ---- closing ---- */

static void eio_close_ex(kn_eio_sock *s, const char *reason, int client_closed) {
    if (s->closed)
        return;
    kn_eio *e = s->e;
    s->closed = 1;
    kn_map_del(&e->socks, s->sid);
    kn_tq_remove(&s->hb);
    kn_tq_remove(&s->upg);
    if (s->poll) /* a client that closed gets a noop, a closed-by-us client the close packet */
        poll_flush(s, client_closed ? e->p_noop : e->p_close);
    if (s->ws) {
        kn_ws_close(s->ws, 0);
        s->ws = NULL;
    }
    if (s->probe) {
        kn_ws_close(s->probe, 0);
        s->probe = NULL;
    }
    if (e->cbs->on_close)
        e->cbs->on_close(s, reason, e->ud);
    s->next_dead = e->dead_head;
    e->dead_head = s;
    defer(e);
}

void kn_eio_close(kn_eio_sock *s, const char *reason) {
    eio_close_ex(s, reason, 0);
}

static void defer_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_eio *e = arg;
    kn_eio_sock *list = e->flush_head;
    e->flush_head = NULL;
    while (list) {
        kn_eio_sock *s = list;
        list = s->next_flush;
        s->flush_listed = 0;
        if (s->closed)
            continue;
        if (s->overflow)
            eio_close_ex(s, "transport error", 0);
        else if (s->poll && s->qlen && s->upgrade != U_PROBED)
            poll_flush(s, NULL);
    }
    /* a session listed again meanwhile (for the next round) is freed in that round */
    kn_eio_sock *keep = NULL;
    while (e->dead_head) {
        kn_eio_sock *s = e->dead_head;
        e->dead_head = s->next_dead;
        if (s->flush_listed) {
            s->next_dead = keep;
            keep = s;
            continue;
        }
        sock_free(s);
    }
    e->dead_head = keep;
}

/* ---- heartbeat and upgrade timers ---- */

static void ping_due(kn_tq_node *n, void *ud) {
    kn_eio *e = ud;
    kn_eio_sock *s = (kn_eio_sock *)(void *)((char *)n - offsetof(kn_eio_sock, hb));
    if (s->closed)
        return;
    kn_tq_push_from(&e->pong_q, &s->hb, n->due);
    s->awaiting_pong = 1;
    kn_eio_send(s, e->p_ping);
}

static void pong_due(kn_tq_node *n, void *ud) {
    (void)ud;
    kn_eio_sock *s = (kn_eio_sock *)(void *)((char *)n - offsetof(kn_eio_sock, hb));
    eio_close_ex(s, "ping timeout", 0);
}

static void probe_drop(kn_eio_sock *s) {
    if (s->probe) {
        kn_ws_close(s->probe, 0);
        s->probe = NULL;
    }
    kn_tq_remove(&s->upg);
    s->upgrade = U_NONE;
}

static void upgrade_due(kn_tq_node *n, void *ud) {
    (void)ud;
    kn_eio_sock *s = (kn_eio_sock *)(void *)((char *)n - offsetof(kn_eio_sock, upg));
    probe_drop(s);
}

/* ---- incoming packets ---- */

/* One Engine.IO packet from the active transport. 0, or -1 when it is malformed (the caller
 * closes the session with "parse error"). */
static int on_packet(kn_eio_sock *s, const char *d, size_t n) {
    kn_eio *e = s->e;
    if (n == 0)
        return -1;
    switch (d[0]) {
    case '1': /* close */
        eio_close_ex(s, "transport close", 1);
        return 0;
    case '3': /* pong: the next ping is one interval away */
        kn_tq_push(&e->ping_q, &s->hb);
        s->awaiting_pong = 0;
        return 0;
    case '4':
        if (e->cbs->on_message)
            e->cbs->on_message(s, d + 1, n - 1, 0, e->ud);
        return 0;
    case 'b': {
        uint8_t stackbuf[512];
        size_t max = kn_b64_dec_max(n - 1);
        uint8_t *bin = max <= sizeof stackbuf ? stackbuf : malloc(max + 1);
        if (!bin)
            return -1;
        long got = kn_b64_decode(d + 1, n - 1, bin);
        if (got >= 0 && e->cbs->on_message)
            e->cbs->on_message(s, (const char *)bin, (size_t)got, 1, e->ud);
        if (bin != stackbuf)
            free(bin);
        return got < 0 ? -1 : 0;
    }
    case '0': /* open, upgrade, noop: nothing to do here */
    case '5':
    case '6':
        return 0;
    default: /* '2' is a ping: in protocol 4 only the server pings */
        return -1;
    }
}

/* ---- websocket transport ---- */

static void ws_message(kn_ws *w, const uint8_t *data, size_t len, int binary, void *ud) {
    kn_eio_sock *s = ud;
    kn_eio *e = s->e;
    if (s->closed)
        return;
    if (w == s->probe) {
        if (!binary && s->upgrade == U_PROBING && len == 6 && memcmp(data, "2probe", 6) == 0) {
            kn_ws_send_pkt(w, e->p_probe);
            s->upgrade = U_PROBED;
            poll_noop(s); /* end the pending long poll so the client can switch */
            return;
        }
        if (!binary && s->upgrade == U_PROBED && len == 1 && data[0] == '5') {
            s->ws = s->probe;
            s->probe = NULL;
            s->transport = T_WS;
            s->upgrade = U_NONE;
            kn_tq_remove(&s->upg);
            poll_noop(s);
            queue_to_ws(s);
            return;
        }
        probe_drop(s); /* anything else: the probe failed, polling goes on */
        return;
    }
    if (w != s->ws)
        return;
    if (binary) {
        if (e->cbs->on_message)
            e->cbs->on_message(s, (const char *)data, len, 1, e->ud);
        return;
    }
    if (on_packet(s, (const char *)data, len) != 0)
        eio_close_ex(s, "parse error", 0);
}

static void ws_closed(kn_ws *w, int code, void *ud) {
    kn_eio_sock *s = ud;
    if (w == s->probe) {
        s->probe = NULL;
        probe_drop(s);
        return;
    }
    if (w != s->ws)
        return;
    s->ws = NULL; /* ws.c frees it */
    int err = code == KN_WS_PROTOCOL_ERROR || code == KN_WS_INVALID_DATA || code == KN_WS_TOO_BIG;
    eio_close_ex(s, err ? "transport error" : "transport close", 0);
}

static const kn_ws_cbs eio_ws_cbs = {.on_message = ws_message, .on_close = ws_closed};

/* Validates the upgrade headers; on success fills accept and returns 1. */
static int ws_handshake_ok(evhtp_request_t *r, char accept[29]) {
    const char *up = evhtp_header_find(r->headers_in, "Upgrade");
    const char *conn = evhtp_header_find(r->headers_in, "Connection");
    const char *ver = evhtp_header_find(r->headers_in, "Sec-WebSocket-Version");
    const char *key = evhtp_header_find(r->headers_in, "Sec-WebSocket-Key");
    if (!up || strcasecmp(up, "websocket") != 0 || !conn || !strcasestr(conn, "upgrade"))
        return 0;
    if (!ver || strcmp(ver, "13") != 0 || !key)
        return 0;
    return kn_ws_accept_key(key, accept) == 0;
}

static kn_ws *ws_take(kn_eio *e, evhtp_request_t *r, const char *accept, void *ud) {
    evhtp_connection_t *c = evhtp_request_get_connection(r);
    struct bufferevent *bev = evhtp_connection_take_ownership(c);
    if (!bev)
        return NULL;
    return kn_ws_adopt(&e->wss, bev, accept, &eio_ws_cbs, ud, e->o.max_payload);
}

static int is_upgrade(evhtp_request_t *r) {
    const char *up = evhtp_header_find(r->headers_in, "Upgrade");
    return up && strcasecmp(up, "websocket") == 0;
}

static void handle_ws(kn_eio *e, evhtp_request_t *r, kn_eio_sock *s) {
    char accept[29];
    if (!ws_handshake_ok(r, accept)) {
        http_error(e, r, E_BAD_REQUEST);
        return;
    }
    if (s) {
        if (s->transport != T_POLLING || s->upgrade != U_NONE) {
            /* answer the handshake, then close: the client sees a clean close, as with
             * engine.io's "transport has already been upgraded" */
            kn_ws *w = ws_take(e, r, accept, NULL);
            if (w)
                kn_ws_close(w, 0);
            return;
        }
        s->probe = ws_take(e, r, accept, s);
        if (!s->probe)
            return;
        s->upgrade = U_PROBING;
        kn_tq_push(&e->upg_q, &s->upg);
        return;
    }
    s = sock_new(e, r, T_WS);
    if (!s) {
        evhtp_send_reply(r, 503);
        return;
    }
    s->ws = ws_take(e, r, accept, s);
    if (!s->ws) {
        kn_map_del(&e->socks, s->sid);
        sock_free(s);
        return;
    }
    char open[256];
    size_t n = open_packet(e, s, 0, open, sizeof open);
    kn_ws_send(s->ws, KN_WS_OP_TEXT, open, n);
    kn_tq_push(&e->ping_q, &s->hb);
    if (e->cbs->on_open)
        e->cbs->on_open(s, e->ud);
}

/* ---- polling transport ---- */

static void handle_poll_get(kn_eio *e, evhtp_request_t *r, kn_eio_sock *s) {
    if (s->poll) { /* two long polls at once: a broken client */
        http_error(e, r, E_BAD_REQUEST);
        eio_close_ex(s, "transport error", 0);
        return;
    }
    s->poll = r;
    evhtp_request_set_hook(r, evhtp_hook_on_request_fini, (evhtp_hook)poll_fini, s);
    if (s->upgrade == U_PROBED) { /* upgrading: polling is only kept alive with noops */
        poll_noop(s);
        return;
    }
    if (s->qlen) {
        poll_flush(s, NULL);
        return;
    }
    /* held until data arrives or the next ping is due (at most one ping interval); the HTTP
     * layer runs no timer on a dispatched request, so nothing cuts it short */
}

static void handle_poll_post(kn_eio *e, evhtp_request_t *r, kn_eio_sock *s) {
    size_t len = evbuffer_get_length(r->buffer_in);
    if (len > e->o.max_payload) {
        http_reply(e, r, 413, "text/plain", NULL, 0);
        eio_close_ex(s, "transport error", 0);
        return;
    }
    const char *body = len ? (const char *)evbuffer_pullup(r->buffer_in, (ev_ssize_t)len) : "";
    size_t i = 0;
    int bad = len == 0;
    while (i < len && !s->closed && !bad) {
        const char *sep = memchr(body + i, 0x1e, len - i);
        size_t n = sep ? (size_t)(sep - (body + i)) : len - i;
        bad = on_packet(s, body + i, n) != 0;
        i += n + 1;
    }
    if (bad) {
        http_error(e, r, E_BAD_REQUEST);
        eio_close_ex(s, "parse error", 0);
        return;
    }
    http_reply(e, r, 200, "text/html", "ok", 2);
}

/* ---- entry point ---- */

void kn_eio_handle(kn_eio *e, evhtp_request_t *r) {
    htp_method m = evhtp_request_get_method(r);
    if (m == htp_method_OPTIONS) { /* CORS preflight */
        const char *rh = evhtp_header_find(r->headers_in, "Access-Control-Request-Headers");
        add_header(r, "Access-Control-Allow-Methods", "GET,POST", 0);
        if (rh)
            add_header(r, "Access-Control-Allow-Headers", rh, 1);
        http_reply(e, r, 204, NULL, NULL, 0);
        return;
    }
    const char *q = r->uri ? (const char *)r->uri->query_raw : NULL;
    char transport[16] = "", sid[32] = "", eio[8] = "";
    query_get(q, "transport", transport, sizeof transport);
    int have_sid = query_get(q, "sid", sid, sizeof sid);
    query_get(q, "EIO", eio, sizeof eio);
    int polling = strcmp(transport, "polling") == 0;
    int websocket = strcmp(transport, "websocket") == 0;
    if (!polling && !websocket) {
        http_error(e, r, E_UNKNOWN_TRANSPORT);
        return;
    }
    int upgrade = is_upgrade(r);
    if (websocket != upgrade) {
        http_error(e, r, E_BAD_REQUEST);
        return;
    }
    if (have_sid) {
        kn_eio_sock *s = kn_map_get(&e->socks, sid);
        /* a request racing the pong deadline's timer loses: the session is already over */
        if (s && s->awaiting_pong && s->hb.due <= kn_mono_ms()) {
            eio_close_ex(s, "ping timeout", 0);
            s = NULL;
        }
        if (!s) {
            http_error(e, r, E_UNKNOWN_SID);
            return;
        }
        if (websocket) {
            handle_ws(e, r, s);
            return;
        }
        if (s->transport != T_POLLING) { /* upgraded: polling with this sid is over */
            http_error(e, r, E_BAD_REQUEST);
            return;
        }
        if (m == htp_method_GET)
            handle_poll_get(e, r, s);
        else if (m == htp_method_POST)
            handle_poll_post(e, r, s);
        else
            http_error(e, r, E_BAD_REQUEST);
        return;
    }
    if (m != htp_method_GET) {
        http_error(e, r, E_BAD_HANDSHAKE_METHOD);
        return;
    }
    if (strcmp(eio, "4") != 0) {
        http_error(e, r, E_UNSUPPORTED_PROTOCOL_VERSION);
        return;
    }
    if (websocket) {
        handle_ws(e, r, NULL);
        return;
    }
    kn_eio_sock *s = sock_new(e, r, T_POLLING);
    if (!s) {
        evhtp_send_reply(r, 503);
        return;
    }
    char open[256];
    size_t n = open_packet(e, s, 1, open, sizeof open);
    http_reply(e, r, 200, "text/plain; charset=UTF-8", open, n);
    kn_tq_push(&e->ping_q, &s->hb);
    if (e->cbs->on_open)
        e->cbs->on_open(s, e->ud);
}

/* ---- lifecycle and accessors ---- */

kn_eio *kn_eio_new(struct event_base *base, const kn_eio_opts *opts, const kn_eio_cbs *cbs,
                   void *ud) {
    kn_eio *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->base = base;
    e->o = *opts;
    e->cors = opts->cors_origin ? strdup(opts->cors_origin) : NULL;
    e->o.cors_origin = NULL;
    e->cbs = cbs;
    e->ud = ud;
    e->wss.gate = opts->gate;
    e->queue_limit = EIO_QUEUE_MIN;
    if (e->o.max_payload < SIZE_MAX / 8 && e->o.max_payload * 8 > e->queue_limit)
        e->queue_limit = e->o.max_payload * 8;
    if (e->o.upgrade_timeout <= 0)
        e->o.upgrade_timeout = 10000;
    e->p_ping = kn_pkt_new("2", 1, 0);
    e->p_noop = kn_pkt_new("6", 1, 0);
    e->p_close = kn_pkt_new("1", 1, 0);
    e->p_probe = kn_pkt_new("3probe", 6, 0);
    e->defer_ev = event_new(base, -1, 0, defer_cb, e);
    int bad = !e->p_ping || !e->p_noop || !e->p_close || !e->p_probe || !e->defer_ev;
    bad |= kn_tq_init(&e->ping_q, base, e->o.ping_interval, ping_due, e) != 0;
    bad |= kn_tq_init(&e->pong_q, base, e->o.ping_timeout, pong_due, e) != 0;
    bad |= kn_tq_init(&e->upg_q, base, e->o.upgrade_timeout, upgrade_due, e) != 0;
    if (bad) {
        kn_eio_free(e);
        return NULL;
    }
    return e;
}

void kn_eio_close_all(kn_eio *e, const char *reason) {
    for (;;) {
        kn_eio_sock *s = NULL;
        for (size_t i = 0; i < e->socks.cap && !s; i++)
            if (e->socks.slots[i].key)
                s = e->socks.slots[i].val;
        if (!s)
            break;
        eio_close_ex(s, reason, 0);
    }
}

void kn_eio_free(kn_eio *e) {
    if (!e)
        return;
    const kn_eio_cbs *cbs = e->cbs;
    static const kn_eio_cbs none;
    e->cbs = &none; /* no callbacks while tearing down */
    kn_eio_close_all(e, "server shutting down");
    e->cbs = cbs;
    while (e->dead_head) {
        kn_eio_sock *s = e->dead_head;
        e->dead_head = s->next_dead;
        sock_free(s);
    }
    kn_ws_set_free_all(&e->wss);
    kn_tq_destroy(&e->ping_q);
    kn_tq_destroy(&e->pong_q);
    kn_tq_destroy(&e->upg_q);
    if (e->defer_ev)
        event_free(e->defer_ev);
    kn_pkt_unref(e->p_ping);
    kn_pkt_unref(e->p_noop);
    kn_pkt_unref(e->p_close);
    kn_pkt_unref(e->p_probe);
    kn_map_free(&e->socks);
    free(e->cors);
    free(e);
}

const char *kn_eio_sid(const kn_eio_sock *s) {
    return s->sid;
}

const char *kn_eio_remote_addr(const kn_eio_sock *s) {
    return s->addr;
}

const char *kn_eio_header(const kn_eio_sock *s, const char *name) {
    for (size_t o = 0; o < s->hdrs_len;) {
        const char *k = s->hdrs + o;
        size_t kl = strlen(k);
        const char *v = k + kl + 1;
        if (strcasecmp(k, name) == 0)
            return v;
        o += kl + 1 + strlen(v) + 1;
    }
    return NULL;
}

json_t *kn_eio_headers(const kn_eio_sock *s) {
    json_t *h = json_object();
    for (size_t o = 0; h && o < s->hdrs_len;) {
        const char *k = s->hdrs + o;
        size_t kl = strlen(k);
        const char *v = k + kl + 1;
        size_t vl = strlen(v);
        /* header bytes need not be UTF-8: json_stringn refuses what JSON cannot carry */
        json_t *jv = json_stringn(v, vl);
        if (jv && !json_object_get(h, k))
            json_object_set_new(h, k, jv);
        else
            json_decref(jv);
        o += kl + 1 + vl + 1;
    }
    return h;
}

void *kn_eio_get_ud(const kn_eio_sock *s) {
    return s->ud;
}

void kn_eio_set_ud(kn_eio_sock *s, void *ud) {
    s->ud = ud;
}

size_t kn_eio_count(const kn_eio *e) {
    return e->socks.count;
}

const char *kn_eio_transport(const kn_eio_sock *s) {
    return s->transport == T_WS ? "websocket" : "polling";
}
