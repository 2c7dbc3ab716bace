/* Socket.IO v5 over Engine.IO v4: clients (one per Engine.IO session), the namespace handshake
 * with its auth checks and guards, packet dispatch, binary reassembly, and emits queued from
 * other threads. Namespaces and rooms are in sio_rooms.c, the plugin table in sio_api.c. */
#include "sio_int.h"

#include "core.h"
#include "http.h"

#include <elizad/types.h>

#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SIO_UPGRADE_TIMEOUT_MS 10000

int sio_on_loop(const kn_sio *s) {
    return pthread_equal(pthread_self(), s->loop_thread);
}

void sio_reap_later(kn_sio *s) {
    event_active(s->reap_ev, EV_TIMEOUT, 0);
}

static void reap(kn_sio *s) {
    while (s->dead_sockets) {
        ez_socket *sock = s->dead_sockets;
        s->dead_sockets = sock->next_dead;
        json_decref(sock->auth);
        json_decref(sock->data);
        free(sock);
    }
    while (s->dead_clients) {
        sio_client *c = s->dead_clients;
        s->dead_clients = c->next_dead;
        free(c);
    }
}

static void reap_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    reap(arg);
}

/* ---- sending ---- */

void sio_send(ez_socket *sock, const sio_out *o) {
    kn_eio_sock *es = sock->c->es;
    if (sock->c->closed)
        return;
    kn_eio_send(es, o->text);
    for (int i = 0; i < o->natts; i++)
        kn_eio_send(es, o->atts[i]);
}

static void send_packet(sio_client *c, int type, const char *nsp, int64_t id, const json_t *data) {
    sio_out o;
    if (c->closed || sio_encode(&c->sio->scratch, &o, type, nsp, id, NULL, data) != 0)
        return;
    kn_eio_send(c->es, o.text);
    for (int i = 0; i < o.natts; i++)
        kn_eio_send(c->es, o.atts[i]);
    sio_out_release(&o);
}

/* Namespace handshake answers go out at once: what a connect handler emits next (an "auth"
 * greeting, a welcome event) then reaches the client as a separate read, which clients that
 * await one message at a time (the protocol test suite) rely on. */
static void send_handshake(sio_client *c, int type, const char *nsp, const json_t *data) {
    send_packet(c, type, nsp, -1, data);
    if (!c->closed)
        kn_eio_flush(c->es);
}

static void connect_error(sio_client *c, const char *nsp, const char *message) {
    json_t *d = json_pack("{s:s}", "message", message);
    send_handshake(c, SIO_CONNECT_ERROR, nsp, d);
    json_decref(d);
}

/* ---- sockets ---- */

static ez_socket *client_socket(sio_client *c, const char *nsp) {
    for (ez_socket *s = c->sockets; s; s = s->next)
        if (strcmp(s->nsp->name, nsp) == 0)
            return s;
    return NULL;
}

static void new_id(char out[21]) {
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t rnd[20] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(rnd, &ts, sizeof ts);
    }
    for (int i = 0; i < 20; i++)
        out[i] = chars[rnd[i] & 63];
    out[20] = '\0';
}

void sio_socket_remove(ez_socket *sock, const char *reason, int notify) {
    if (!sock->connected)
        return;
    sio_client *c = sock->c;
    kn_sio *s = c->sio;
    sock->connected = 0;
    if (notify)
        send_packet(c, SIO_DISCONNECT, sock->nsp->name, -1, NULL);
    sio_room_leave_all(sock);
    sio_nsp_remove_socket(sock->nsp, sock);
    for (ez_socket **pp = &c->sockets; *pp; pp = &(*pp)->next)
        if (*pp == sock) {
            *pp = sock->next;
            break;
        }
    json_t *msg =
        json_pack("{s:s, s:s, s:s}", "sid", sock->sid, "nsp", sock->nsp->name, "reason", reason);
    if (msg)
        kn_bus_publish_new(s->k, "socket.disconnected", msg);
    sock->next_dead = s->dead_sockets;
    s->dead_sockets = sock;
    sio_reap_later(s);
}

/* Constant time for equal lengths, and no early exit on the first differing byte. */
static int key_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
    unsigned char d = la != lb;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)((i < la ? a[i] : 0) ^ (i < lb ? b[i] : 0));
    return d == 0;
}

static int key_matches(const kn_sio *s, const char *presented) {
    if (!presented || !*presented)
        return 0;
    int ok = 0;
    if (*s->api_key)
        ok |= key_equal(presented, s->api_key);
    if (*s->auth_token)
        ok |= key_equal(presented, s->auth_token);
    return ok;
}

/* NULL when the handshake carries a configured key (or none is configured). */
static const char *check_key(const kn_sio *s, sio_client *c, const json_t *auth) {
    if (!*s->api_key && !*s->auth_token)
        return NULL;
    int ok = key_matches(s, json_string_value(json_object_get(auth, "token")));
    ok |= key_matches(s, json_string_value(json_object_get(auth, "apiKey")));
    ok |= key_matches(s, kn_eio_header(c->es, "x-api-key"));
    return ok ? NULL : "Invalid or missing API Key";
}

static void on_connect(sio_client *c, sio_packet *p) {
    kn_sio *s = c->sio;
    sio_nsp *n = sio_nsp_find(s, p->nsp);
    if (!n) {
        connect_error(c, p->nsp, "Invalid namespace");
        return;
    }
    ez_socket *sock = client_socket(c, p->nsp);
    if (sock) { /* already connected: confirm again */
        json_t *d = json_pack("{s:s}", "sid", sock->sid);
        send_handshake(c, SIO_CONNECT, n->name, d);
        json_decref(d);
        return;
    }
    json_t *auth = p->data ? json_incref(p->data) : json_object();
    const char *refusal = check_key(s, c, auth);
    json_t *headers = NULL;
    for (sio_guard *g = n->guards; g && !refusal; g = g->next) {
        if (!headers)
            headers = kn_eio_headers(c->es);
        refusal = g->fn(n->name, auth, headers, g->ud);
    }
    if (refusal) {
        connect_error(c, n->name, refusal);
        json_decref(auth);
        json_decref(headers);
        return;
    }
    sock = calloc(1, sizeof *sock);
    if (!sock) {
        json_decref(auth);
        json_decref(headers);
        return;
    }
    sock->c = c;
    sock->nsp = n;
    sock->auth = auth;
    do
        new_id(sock->sid);
    while (kn_map_get(&n->sockets, sock->sid));
    if (sio_nsp_add_socket(n, sock) != EZ_OK || sio_room_join(sock, sock->sid) != EZ_OK) {
        sio_room_leave_all(sock);
        sio_nsp_remove_socket(n, sock);
        json_decref(auth);
        json_decref(headers);
        free(sock);
        return;
    }
    sock->connected = 1;
    sock->next = c->sockets;
    c->sockets = sock;
    kn_tq_remove(&c->connect_node);
    json_t *d = json_pack("{s:s}", "sid", sock->sid);
    send_handshake(c, SIO_CONNECT, n->name, d);
    json_decref(d);
    if (!headers)
        headers = kn_eio_headers(c->es);
    json_t *msg = json_pack("{s:s, s:s, s:O, s:o}", "sid", sock->sid, "nsp", n->name, "auth", auth,
                            "headers", headers ? headers : json_object());
    if (msg)
        kn_bus_publish_new(s->k, "socket.connected", msg);
}

/* ---- dispatch ---- */

static void dispatch_event(sio_client *c, sio_packet *p) {
    ez_socket *sock = client_socket(c, p->nsp);
    if (!sock) /* not connected to that namespace: engine.io drops it too */
        return;
    sio_nsp *n = sock->nsp;
    json_t *first = json_array_get(p->data, 0);
    char numbuf[32];
    const char *name = json_string_value(first);
    if (!name) {
        snprintf(numbuf, sizeof numbuf, "%g", json_number_value(first));
        name = numbuf;
    }
    sio_handler *h = kn_map_get(&n->handlers, name);
    if (!h)
        h = kn_map_get(&n->handlers, "*");
    if (!h)
        return;
    char *event = strdup(name);
    if (!event)
        return;
    json_array_remove(p->data, 0);
    ez_ack *ack = NULL;
    if (p->id >= 0 && (ack = malloc(sizeof *ack))) {
        ack->sio = c->sio;
        ack->nsp = n;
        memcpy(ack->sid, sock->sid, sizeof ack->sid);
        ack->id = p->id;
    }
    h->fn(sock, event, p->data, ack, h->ud);
    free(event);
}

static void handle_packet(sio_client *c, sio_packet *p) {
    switch (p->type) {
    case SIO_CONNECT:
        on_connect(c, p);
        break;
    case SIO_DISCONNECT: {
        ez_socket *sock = client_socket(c, p->nsp);
        if (sock)
            sio_socket_remove(sock, "client namespace disconnect", 0);
        break;
    }
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        dispatch_event(c, p);
        break;
    default: /* ACK: the server never asks clients for one; CONNECT_ERROR: not for servers */
        break;
    }
}

static void partial_clear(sio_client *c) {
    if (c->partial) {
        json_decref(c->partial->data);
        free(c->partial);
        c->partial = NULL;
    }
    for (int i = 0; i < c->natts; i++)
        kn_pkt_unref(c->atts[i]);
    free(c->atts);
    c->atts = NULL;
    c->natts = 0;
    c->att_bytes = 0;
}

static void client_fail(sio_client *c, const char *reason) {
    if (!c->closed)
        kn_eio_close(c->es, reason);
}

/* Reassembled binary packet: placeholders become {"$binary": base64}, then dispatch. */
static void partial_done(sio_client *c) {
    sio_packet *p = c->partial;
    if (p->data && sio_placeholders_resolve(p->data, c->atts, c->natts) != 0) {
        client_fail(c, "parse error");
        return;
    }
    c->partial = NULL;
    handle_packet(c, p);
    json_decref(p->data);
    free(p);
    partial_clear(c);
}

static void on_message(kn_eio_sock *es, const char *data, size_t len, int binary, void *ud) {
    (void)ud;
    sio_client *c = kn_eio_get_ud(es);
    if (!c || c->closed)
        return;
    if (binary) {
        if (!c->partial) {
            client_fail(c, "parse error");
            return;
        }
        size_t limit = c->sio->max_payload * 8 > (8u << 20) ? c->sio->max_payload * 8 : 8u << 20;
        kn_pkt *a = kn_pkt_new(data, len, 1);
        kn_pkt **na = realloc(c->atts, (size_t)(c->natts + 1) * sizeof *na);
        if (!a || !na || c->att_bytes + len > limit) {
            kn_pkt_unref(a);
            if (na)
                c->atts = na;
            client_fail(c, "transport error");
            return;
        }
        c->atts = na;
        c->atts[c->natts++] = a;
        c->att_bytes += len;
        if (c->natts == c->partial->attachments)
            partial_done(c);
        return;
    }
    if (c->partial) { /* text while attachments are due: the stream is broken */
        client_fail(c, "parse error");
        return;
    }
    sio_packet p;
    if (sio_packet_decode(data, len, &p) != 0) {
        client_fail(c, "parse error");
        return;
    }
    if ((p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) && p.attachments > 0) {
        c->partial = malloc(sizeof *c->partial);
        if (!c->partial) {
            json_decref(p.data);
            client_fail(c, "transport error");
            return;
        }
        *c->partial = p;
        return;
    }
    handle_packet(c, &p);
    json_decref(p.data);
}

/* ---- Engine.IO session lifecycle ---- */

static void on_open(kn_eio_sock *es, void *ud) {
    kn_sio *s = ud;
    sio_client *c = calloc(1, sizeof *c);
    if (!c) {
        kn_eio_close(es, "transport error");
        return;
    }
    c->sio = s;
    c->es = es;
    kn_eio_set_ud(es, c);
    kn_tq_push(&s->connect_q, &c->connect_node);
}

static void on_close(kn_eio_sock *es, const char *reason, void *ud) {
    kn_sio *s = ud;
    sio_client *c = kn_eio_get_ud(es);
    if (!c)
        return;
    kn_eio_set_ud(es, NULL);
    c->closed = 1;
    kn_tq_remove(&c->connect_node);
    while (c->sockets)
        sio_socket_remove(c->sockets, reason, 0);
    partial_clear(c);
    c->next_dead = s->dead_clients;
    s->dead_clients = c;
    sio_reap_later(s);
}

static void connect_due(kn_tq_node *n, void *ud) {
    (void)ud;
    sio_client *c = (sio_client *)(void *)((char *)n - offsetof(sio_client, connect_node));
    if (!c->sockets) /* joined no namespace in time */
        client_fail(c, "forced close");
}

static const kn_eio_cbs sio_eio_cbs = {
    .on_open = on_open, .on_message = on_message, .on_close = on_close};

/* The raw Engine.IO echo endpoint of the conformance configuration. */
static void echo_message(kn_eio_sock *es, const char *data, size_t len, int binary, void *ud) {
    (void)ud;
    kn_pkt *p = binary ? kn_pkt_new(data, len, 1) : kn_pkt_new2("4", 1, data, len);
    if (p) {
        kn_eio_send(es, p);
        kn_pkt_unref(p);
    }
}

static const kn_eio_cbs echo_cbs = {.on_message = echo_message};

/* ---- emits from other threads ---- */

static void run_job(kn_sio *s, sio_job *j) {
    sio_nsp *n = sio_nsp_find(s, j->nsp);
    if (n)
        sio_broadcast(s, n, j->room, j->except, j->event, j->args);
    json_decref(j->args);
    free(j);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_sio *s = arg;
    pthread_mutex_lock(&s->qlock);
    sio_job *list = s->qhead;
    s->qhead = s->qtail = NULL;
    pthread_mutex_unlock(&s->qlock);
    while (list) {
        sio_job *j = list;
        list = j->next;
        run_job(s, j);
    }
}

static char *job_str(char **cursor, const char *v) {
    if (!v)
        return NULL;
    size_t n = strlen(v) + 1;
    char *out = *cursor;
    memcpy(out, v, n);
    *cursor += n;
    return out;
}

int kn_sio_emit(kn_sio *s, const char *nsp, const char *room, const char *except, const char *event,
                json_t *args_new) {
    if (!s || !nsp || !event) {
        json_decref(args_new);
        return EZ_EINVAL;
    }
    if (sio_on_loop(s)) {
        sio_nsp *n = sio_nsp_find(s, nsp);
        int rc = n ? sio_broadcast(s, n, room, except, event, args_new) : EZ_ENOENT;
        json_decref(args_new);
        return rc;
    }
    size_t need = strlen(nsp) + strlen(event) + 2 + (room ? strlen(room) + 1 : 0) +
                  (except ? strlen(except) + 1 : 0);
    sio_job *j = malloc(sizeof *j + need);
    if (!j) {
        json_decref(args_new);
        return EZ_ENOMEM;
    }
    char *cur = (char *)(j + 1);
    j->next = NULL;
    j->args = args_new;
    j->nsp = job_str(&cur, nsp);
    j->event = job_str(&cur, event);
    j->room = job_str(&cur, room);
    j->except = job_str(&cur, except);
    pthread_mutex_lock(&s->qlock);
    if (s->qtail)
        s->qtail->next = j;
    else
        s->qhead = j;
    s->qtail = j;
    pthread_mutex_unlock(&s->qlock);
    event_active(s->wake_ev, EV_TIMEOUT, 0);
    return EZ_OK;
}

/* ---- the kernel boundary (sio.h) ---- */

static char *path_setting(kn_kernel *k, const char *key, const char *fallback) {
    const char *v = kn_setting(k, key);
    if (!v || !*v)
        v = fallback;
    if (!v || !*v)
        return NULL;
    size_t n = strlen(v);
    char *out = malloc(n + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    if (v[0] != '/')
        out[o++] = '/';
    memcpy(out + o, v, n);
    o += n;
    if (out[o - 1] != '/')
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

kn_sio *kn_sio_new(kn_kernel *k) {
    kn_sio *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->k = k;
    s->base = kn_kernel_base(k);
    s->loop_thread = pthread_self();
    pthread_mutex_init(&s->qlock, NULL);
    s->path = path_setting(k, "socketio.path", "/socket.io/");
    s->echo_path = path_setting(k, "socketio.engineio_echo_path", NULL);
    s->connect_timeout = kn_setting_int(k, "socketio.connect_timeout", 45000);
    s->max_payload = (size_t)kn_setting_int(k, "socketio.max_payload", 1000000);
    const char *key = kn_setting(k, "server.socket_api_key");
    const char *tok = kn_setting(k, "server.auth_token");
    s->api_key = strdup(key ? key : "");
    s->auth_token = strdup(tok ? tok : "");
    kn_eio_opts o = {
        .ping_interval = kn_setting_int(k, "socketio.ping_interval", 25000),
        .ping_timeout = kn_setting_int(k, "socketio.ping_timeout", 20000),
        .upgrade_timeout = SIO_UPGRADE_TIMEOUT_MS,
        .max_payload = s->max_payload,
        .cors_origin = kn_setting(k, "server.cors_origin"),
        .after_reply = kn_http_gate_reply,
        .gate = kn_kernel_outgate(k),
    };
    s->reap_ev = event_new(s->base, -1, 0, reap_cb, s);
    s->wake_ev = event_new(s->base, -1, 0, wake_cb, s);
    int bad = !s->path || !s->api_key || !s->auth_token || !s->reap_ev || !s->wake_ev;
    bad = bad || kn_tq_init(&s->connect_q, s->base, s->connect_timeout, connect_due, s) != 0;
    bad = bad || !sio_nsp_get(s, "/");
    bad = bad || !(s->eio = kn_eio_new(s->base, &o, &sio_eio_cbs, s));
    bad = bad || (s->echo_path && !(s->echo = kn_eio_new(s->base, &o, &echo_cbs, s)));
    if (bad) {
        kn_log(k, SIO_LOG, EZ_ERR, "cannot start the Socket.IO engine (out of memory)");
        kn_sio_free(s);
        return NULL;
    }
    return s;
}

void kn_sio_close_all(kn_sio *s) {
    if (!s)
        return;
    if (s->eio)
        kn_eio_close_all(s->eio, "server shutting down");
    if (s->echo)
        kn_eio_close_all(s->echo, "server shutting down");
}

void kn_sio_free(kn_sio *s) {
    if (!s)
        return;
    kn_sio_close_all(s);
    kn_eio_free(s->eio);
    kn_eio_free(s->echo);
    reap(s);
    wake_cb(-1, 0, s); /* drop queued emits: run_job finds no sockets */
    sio_handlers_free_all(s);
    for (size_t i = 0; i < s->nsps.cap; i++)
        if (s->nsps.slots[i].key)
            sio_nsp_free(s->nsps.slots[i].val);
    kn_map_free(&s->nsps);
    kn_tq_destroy(&s->connect_q);
    if (s->reap_ev)
        event_free(s->reap_ev);
    if (s->wake_ev)
        event_free(s->wake_ev);
    pthread_mutex_destroy(&s->qlock);
    sio_buf_free(&s->scratch);
    free(s->path);
    free(s->echo_path);
    free(s->api_key);
    free(s->auth_token);
    free(s);
}

static int path_match(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) == 0)
        return 1;
    /* "/socket.io" without the slash is the same endpoint */
    return strlen(path) == n - 1 && strncmp(path, prefix, n - 1) == 0;
}

int kn_sio_handle_request(kn_sio *s, struct evhtp_request *req) {
    if (!s || !req || !req->uri || !req->uri->path || !req->uri->path->full)
        return 0;
    const char *path = req->uri->path->full;
    if (path_match(path, s->path)) {
        kn_eio_handle(s->eio, req);
        return 1;
    }
    if (s->echo && path_match(path, s->echo_path)) {
        kn_eio_handle(s->echo, req);
        return 1;
    }
    return 0;
}
