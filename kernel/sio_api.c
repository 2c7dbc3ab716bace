/* The socket sub-table of the host API (include/elizad/socket.h): registration (init only,
 * undone at unload), emits (any thread), acks, rooms and per-socket data (loop thread). */
#include "sio_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_NAME_MAX 256

static kn_sio *sio_of(ez_plugin *self) {
    return self ? kn_kernel_sio(kn_plugin_kernel(self)) : NULL;
}

/* ---- registration ---- */

static void handler_free(sio_handler *h) {
    if (h->ud_free)
        h->ud_free(h->ud);
    free(h->event);
    free(h);
}

static void handler_undo(void *ctx) {
    sio_handler *h = ctx;
    if (kn_map_get(&h->nsp->handlers, h->event) == h)
        kn_map_del(&h->nsp->handlers, h->event);
    handler_free(h);
}

static int api_on(ez_plugin *self, const char *nsp, const char *event, ez_sock_event_fn fn,
                  void *ud, ez_free_fn ud_free) {
    kn_sio *s = sio_of(self);
    if (!s || !fn || !event || !*event || strlen(event) > EVENT_NAME_MAX)
        return EZ_EINVAL;
    if (!kn_plugin_may_register(self))
        return EZ_ESTATE;
    sio_nsp *n = sio_nsp_get(s, nsp ? nsp : "/");
    if (!n)
        return EZ_EINVAL;
    sio_handler *old = kn_map_get(&n->handlers, event);
    if (old) {
        kn_log(s->k, SIO_LOG, EZ_ERR, "socket event \"%s\" on %s registered by both %s and %s",
               event, n->name, kn_plugin_name(old->owner), kn_plugin_name(self));
        return EZ_EEXIST;
    }
    sio_handler *h = calloc(1, sizeof *h);
    if (!h || !(h->event = strdup(event))) {
        free(h);
        return EZ_ENOMEM;
    }
    h->nsp = n;
    h->fn = fn;
    h->ud = ud;
    h->owner = self;
    if (kn_map_put(&n->handlers, h->event, h) != 0) {
        free(h->event);
        free(h);
        return EZ_ENOMEM;
    }
    if (kn_plugin_track(self, handler_undo, h) != EZ_OK) {
        kn_map_del(&n->handlers, h->event);
        free(h->event);
        free(h);
        return EZ_ENOMEM;
    }
    h->ud_free = ud_free; /* from here on the kernel releases ud */
    return EZ_OK;
}

static void guard_free(sio_guard *g) {
    if (g->ud_free)
        g->ud_free(g->ud);
    free(g);
}

static void guard_undo(void *ctx) {
    sio_guard *g = ctx;
    for (sio_guard **pp = &g->nsp->guards; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    guard_free(g);
}

static int api_guard(ez_plugin *self, const char *nsp, ez_sock_guard_fn fn, void *ud,
                     ez_free_fn ud_free) {
    kn_sio *s = sio_of(self);
    if (!s || !fn)
        return EZ_EINVAL;
    if (!kn_plugin_may_register(self))
        return EZ_ESTATE;
    sio_nsp *n = sio_nsp_get(s, nsp ? nsp : "/");
    if (!n)
        return EZ_EINVAL;
    sio_guard *g = calloc(1, sizeof *g);
    if (!g)
        return EZ_ENOMEM;
    g->nsp = n;
    g->fn = fn;
    g->ud = ud;
    g->owner = self;
    sio_guard **pp = &n->guards;
    while (*pp)
        pp = &(*pp)->next;
    *pp = g;
    if (kn_plugin_track(self, guard_undo, g) != EZ_OK) {
        *pp = NULL;
        free(g);
        return EZ_ENOMEM;
    }
    g->ud_free = ud_free;
    return EZ_OK;
}

void sio_handlers_free_all(kn_sio *s) {
    for (size_t i = 0; i < s->nsps.cap; i++) {
        if (!s->nsps.slots[i].key)
            continue;
        sio_nsp *n = s->nsps.slots[i].val;
        for (size_t j = 0; j < n->handlers.cap; j++)
            if (n->handlers.slots[j].key)
                handler_free(n->handlers.slots[j].val);
        kn_map_free(&n->handlers);
        while (n->guards) {
            sio_guard *g = n->guards;
            n->guards = g->next;
            guard_free(g);
        }
    }
}

json_t *kn_sio_events_of(kn_sio *s, const ez_plugin *p) {
    json_t *out = json_array();
    if (!s || !out)
        return out;
    for (size_t i = 0; i < s->nsps.cap; i++) {
        if (!s->nsps.slots[i].key)
            continue;
        sio_nsp *n = s->nsps.slots[i].val;
        for (size_t j = 0; j < n->handlers.cap; j++) {
            sio_handler *h = n->handlers.slots[j].val;
            if (!n->handlers.slots[j].key || h->owner != p)
                continue;
            size_t len = strlen(n->name) + strlen(h->event) + 2;
            char *txt = malloc(len);
            if (!txt)
                continue;
            snprintf(txt, len, "%s %s", n->name, h->event);
            json_array_append_new(out, json_string(txt));
            free(txt);
        }
    }
    return out;
}

/* ---- emitting and acks ---- */

static int api_emit_new(ez_plugin *self, const char *nsp, const char *room, const char *except_sid,
                        const char *event, json_t *args_new) {
    kn_sio *s = sio_of(self);
    if (!s || !event || !*event) {
        json_decref(args_new);
        return EZ_EINVAL;
    }
    return kn_sio_emit(s, nsp ? nsp : "/", room, except_sid, event, args_new);
}

static void api_ack_new(ez_ack *ack, json_t *args_new) {
    if (!ack) {
        json_decref(args_new);
        return;
    }
    kn_sio *s = ack->sio;
    ez_socket *sock = args_new ? kn_map_get(&ack->nsp->sockets, ack->sid) : NULL;
    if (sock && sock->connected && sio_on_loop(s)) {
        json_t *arr = json_is_array(args_new) ? json_incref(args_new) : json_pack("[O]", args_new);
        sio_out o;
        if (arr && sio_encode(&s->scratch, &o, SIO_ACK, ack->nsp->name, ack->id, NULL, arr) == 0) {
            sio_send(sock, &o);
            sio_out_release(&o);
        }
        json_decref(arr);
    }
    json_decref(args_new);
    free(ack);
}

/* ---- rooms ---- */

static ez_socket *find_socket(kn_sio *s, const char *nsp, const char *sid) {
    sio_nsp *n = s && sid ? sio_nsp_find(s, nsp ? nsp : "/") : NULL;
    return n ? kn_map_get(&n->sockets, sid) : NULL;
}

static int api_join(ez_plugin *self, const char *nsp, const char *sid, const char *room) {
    kn_sio *s = sio_of(self);
    if (!s || !room)
        return EZ_EINVAL;
    if (!sio_on_loop(s))
        return EZ_ESTATE;
    ez_socket *sock = find_socket(s, nsp, sid);
    return sock ? sio_room_join(sock, room) : EZ_ENOENT;
}

static int api_leave(ez_plugin *self, const char *nsp, const char *sid, const char *room) {
    kn_sio *s = sio_of(self);
    if (!s || !room)
        return EZ_EINVAL;
    if (!sio_on_loop(s))
        return EZ_ESTATE;
    ez_socket *sock = find_socket(s, nsp, sid);
    return sock ? sio_room_leave(sock, room) : EZ_ENOENT;
}

static int api_room_size(ez_plugin *self, const char *nsp, const char *room) {
    kn_sio *s = sio_of(self);
    if (!s)
        return EZ_EINVAL;
    if (!sio_on_loop(s))
        return EZ_ESTATE;
    sio_nsp *n = sio_nsp_find(s, nsp ? nsp : "/");
    if (!n)
        return 0;
    if (!room)
        return (int)n->nall;
    sio_room *r = kn_map_get(&n->rooms, room);
    return r ? (int)r->n : 0;
}

static int api_disconnect(ez_plugin *self, const char *nsp, const char *sid) {
    kn_sio *s = sio_of(self);
    if (!s)
        return EZ_EINVAL;
    if (!sio_on_loop(s))
        return EZ_ESTATE;
    ez_socket *sock = find_socket(s, nsp, sid);
    if (!sock)
        return EZ_ENOENT;
    sio_socket_remove(sock, "server namespace disconnect", 1);
    return EZ_OK;
}

/* ---- the socket of a callback ---- */

static const char *api_sid(const ez_socket *s) {
    return s ? s->sid : NULL;
}

static const char *api_nsp(const ez_socket *s) {
    return s ? s->nsp->name : NULL;
}

static const json_t *api_auth(const ez_socket *s) {
    return s ? s->auth : NULL;
}

static const char *api_remote_addr(const ez_socket *s) {
    return s ? kn_eio_remote_addr(s->c->es) : NULL;
}

static const json_t *api_data_get(const ez_socket *s, const char *key) {
    return s && s->data && key ? json_object_get(s->data, key) : NULL;
}

static int api_data_set_new(ez_socket *s, const char *key, json_t *value) {
    if (!s || !key) {
        json_decref(value);
        return EZ_EINVAL;
    }
    if (!value) {
        if (s->data)
            json_object_del(s->data, key);
        return EZ_OK;
    }
    if (!s->data && !(s->data = json_object())) {
        json_decref(value);
        return EZ_ENOMEM;
    }
    return json_object_set_new(s->data, key, value) == 0 ? EZ_OK : EZ_ENOMEM;
}

static const ez_sock_api sock_api = {
    .size = sizeof(ez_sock_api),
    .on = api_on,
    .guard = api_guard,
    .emit_new = api_emit_new,
    .ack_new = api_ack_new,
    .join = api_join,
    .leave = api_leave,
    .room_size = api_room_size,
    .sid = api_sid,
    .nsp = api_nsp,
    .auth = api_auth,
    .remote_addr = api_remote_addr,
    .data_get = api_data_get,
    .data_set_new = api_data_set_new,
    .disconnect = api_disconnect,
};

const ez_sock_api *kn_sio_api(void) {
    return &sock_api;
}
