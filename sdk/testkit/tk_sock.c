/* testkit: the Socket.IO sub-table without a wire. Fake sockets live in the ez_tk; emits are
 * captured with the sids they would reach; acks are tracked until answered or dropped. */
#include "tk_int.h"

#include <stdlib.h>
#include <string.h>

static const char *nsp_or_root(const char *nsp) {
    return nsp && *nsp ? nsp : "/";
}

static struct ez_socket *find_sock(const ez_tk *tk, const char *nsp, const char *sid) {
    if (!sid)
        return NULL;
    nsp = nsp_or_root(nsp);
    for (size_t i = 0; i < tk->nsocks; i++) {
        struct ez_socket *s = tk->socks[i];
        if (s->connected && strcmp(s->sid, sid) == 0 && strcmp(s->nsp, nsp) == 0)
            return s;
    }
    return NULL;
}

static json_t *as_args(json_t *v) {
    if (!v)
        return json_array();
    if (json_is_array(v))
        return v;
    json_t *a = json_array();
    json_array_append_new(a, v);
    return a;
}

/* ---- registration ---- */

static int api_on(ez_plugin *self, const char *nsp, const char *event, ez_sock_event_fn fn,
                  void *ud, ez_free_fn ud_free) {
    if (!self || !event || !*event || !fn)
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    nsp = nsp_or_root(nsp);
    for (size_t i = 0; self->registering && i < tk->nregs; i++) {
        const tk_reg *o = tk->regs[i];
        if (o->kind == TK_SOCK_ON && !strcmp(o->nsp, nsp) && !strcmp(o->event, event)) {
            char msg[600];
            snprintf(msg, sizeof msg, "socket event %s%s%.200s of plugin %s is taken by plugin %s",
                     nsp, strcmp(nsp, "/") ? " " : "", event, self->name, o->owner->name);
            tk_log_write(tk, self->name, EZ_ERR, msg);
            return EZ_EEXIST;
        }
    }
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_SOCK_ON;
    r->nsp = tk_xstrdup(nsp);
    r->event = tk_xstrdup(event);
    r->event_fn = fn;
    r->ud = ud;
    r->ud_free = ud_free;
    char what[300];
    snprintf(what, sizeof what, "sock->on(\"%.200s\")", event);
    return tk_reg_add(tk, self, r, what);
}

static int api_guard(ez_plugin *self, const char *nsp, ez_sock_guard_fn fn, void *ud,
                     ez_free_fn ud_free) {
    if (!self || !fn)
        return EZ_EINVAL;
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_SOCK_GUARD;
    r->nsp = tk_xstrdup(nsp_or_root(nsp));
    r->guard_fn = fn;
    r->ud = ud;
    r->ud_free = ud_free;
    return tk_reg_add(self->tk, self, r, "sock->guard");
}

/* ---- emitting ---- */

static int api_emit_new(ez_plugin *self, const char *nsp, const char *room, const char *except_sid,
                        const char *event, json_t *args_new) {
    if (!self || !event || !*event) {
        json_decref(args_new);
        return EZ_EINVAL;
    }
    ez_tk *tk = self->tk;
    nsp = nsp_or_root(nsp);
    json_t *args = as_args(args_new);
    json_t *to = json_array();
    for (size_t i = 0; i < tk->nsocks; i++) {
        struct ez_socket *s = tk->socks[i];
        if (!s->connected || strcmp(s->nsp, nsp) != 0)
            continue;
        if (room && !json_object_get(s->rooms, room))
            continue;
        if (except_sid && strcmp(s->sid, except_sid) == 0)
            continue;
        json_array_append_new(to, json_string(s->sid));
    }
    json_t *entry =
        json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:o,s:o}", "plugin", self->name, "nsp", nsp, "room", room,
                  "except", except_sid, "event", event, "args", args, "to", to);
    if (!entry)
        return EZ_EINVAL;
    pthread_mutex_lock(&tk->mu);
    json_array_append_new(tk->emit_log, entry);
    pthread_mutex_unlock(&tk->mu);
    return EZ_OK;
}

static void api_ack_new(ez_ack *ack, json_t *args_new) {
    if (!ack) {
        json_decref(args_new);
        return;
    }
    if (ack->released) {
        /* on the real host the ack is gone after its answer: this would be a use after free */
        json_decref(args_new);
        tk_fail(ack->tk, "an acknowledgement was answered twice");
        return;
    }
    ack->released = 1;
    if (args_new) {
        ack->pub.answered = 1;
        ack->pub.args = as_args(args_new);
    }
}

/* ---- rooms ---- */

static int api_join(ez_plugin *self, const char *nsp, const char *sid, const char *room) {
    struct ez_socket *s = self && room ? find_sock(self->tk, nsp, sid) : NULL;
    if (!s)
        return self && room ? EZ_ENOENT : EZ_EINVAL;
    return json_object_set_new(s->rooms, room, json_true()) == 0 ? EZ_OK : EZ_EINVAL;
}

static int api_leave(ez_plugin *self, const char *nsp, const char *sid, const char *room) {
    struct ez_socket *s = self && room ? find_sock(self->tk, nsp, sid) : NULL;
    if (!s)
        return self && room ? EZ_ENOENT : EZ_EINVAL;
    json_object_del(s->rooms, room);
    return EZ_OK;
}

static int api_room_size(ez_plugin *self, const char *nsp, const char *room) {
    if (!self)
        return 0;
    nsp = nsp_or_root(nsp);
    int n = 0;
    for (size_t i = 0; i < self->tk->nsocks; i++) {
        struct ez_socket *s = self->tk->socks[i];
        if (s->connected && !strcmp(s->nsp, nsp) && (!room || json_object_get(s->rooms, room)))
            n++;
    }
    return n;
}

/* ---- accessors ---- */

static const char *api_sid(const ez_socket *s) {
    return s ? s->sid : NULL;
}

static const char *api_nsp(const ez_socket *s) {
    return s ? s->nsp : NULL;
}

static const json_t *api_auth(const ez_socket *s) {
    return s ? s->auth : NULL;
}

static const char *api_remote(const ez_socket *s) {
    return s ? "127.0.0.1" : NULL;
}

static const json_t *api_data_get(const ez_socket *s, const char *key) {
    return s && key ? json_object_get(s->data, key) : NULL;
}

static int api_data_set_new(ez_socket *s, const char *key, json_t *value) {
    if (!s || !key) {
        json_decref(value);
        return EZ_EINVAL;
    }
    if (!value)
        return json_object_del(s->data, key) == 0 ? EZ_OK : EZ_ENOENT;
    return json_object_set_new(s->data, key, value) == 0 ? EZ_OK : EZ_EINVAL;
}

static void publish_kernel(ez_tk *tk, const char *topic, json_t *msg) {
    tk_item *it = tk_xcalloc(1, sizeof *it);
    it->kind = TK_ITEM_BUS;
    it->topic = tk_xstrdup(topic);
    it->msg = msg;
    tk_queue_push(tk, it);
}

static void drop(ez_tk *tk, struct ez_socket *s, const char *reason) {
    s->connected = 0;
    publish_kernel(tk, "socket.disconnected",
                   json_pack("{s:s,s:s,s:s}", "sid", s->sid, "nsp", s->nsp, "reason", reason));
}

static int api_disconnect(ez_plugin *self, const char *nsp, const char *sid) {
    struct ez_socket *s = self ? find_sock(self->tk, nsp, sid) : NULL;
    if (!s)
        return self ? EZ_ENOENT : EZ_EINVAL;
    json_t *e = json_pack("{s:s,s:s,s:s}", "plugin", self->name, "nsp", s->nsp, "sid", s->sid);
    pthread_mutex_lock(&self->tk->mu);
    json_array_append_new(self->tk->disc_log, e);
    pthread_mutex_unlock(&self->tk->mu);
    drop(self->tk, s, "server namespace disconnect");
    return EZ_OK;
}

void tk_sock_fill(ez_tk *tk) {
    ez_sock_api *a = &tk->sock;
    a->size = sizeof(ez_sock_api);
    a->on = api_on;
    a->guard = api_guard;
    a->emit_new = api_emit_new;
    a->ack_new = api_ack_new;
    a->join = api_join;
    a->leave = api_leave;
    a->room_size = api_room_size;
    a->sid = api_sid;
    a->nsp = api_nsp;
    a->auth = api_auth;
    a->remote_addr = api_remote;
    a->data_get = api_data_get;
    a->data_set_new = api_data_set_new;
    a->disconnect = api_disconnect;
    tk->api.sock = a;
}

/* ---- the test's side ---- */

int ez_tk_sock_connect(ez_tk *tk, const char *nsp, const char *sid, const char *auth_json,
                       const char **refused) {
    if (!tk || !sid || !*sid)
        return EZ_EINVAL;
    nsp = nsp_or_root(nsp);
    if (refused)
        *refused = NULL;
    if (find_sock(tk, nsp, sid))
        return EZ_EEXIST;
    json_t *auth = auth_json ? json_loads(auth_json, 0, NULL) : json_object();
    if (!json_is_object(auth)) {
        json_decref(auth);
        return EZ_EINVAL;
    }
    json_t *headers = json_object();
    for (size_t i = 0; i < tk->nregs; i++) {
        const tk_reg *r = tk->regs[i];
        if (r->kind != TK_SOCK_GUARD || strcmp(r->nsp, nsp) != 0)
            continue;
        const char *msg = r->guard_fn(nsp, auth, headers, r->ud);
        if (msg) {
            if (refused)
                *refused = msg;
            json_decref(auth);
            json_decref(headers);
            return EZ_EINVAL;
        }
    }
    struct ez_socket *s = tk_xcalloc(1, sizeof *s);
    s->tk = tk;
    s->nsp = tk_xstrdup(nsp);
    s->sid = tk_xstrdup(sid);
    s->auth = auth;
    s->data = json_object();
    s->rooms = json_object();
    json_object_set_new(s->rooms, sid, json_true());
    s->connected = 1;
    tk_append((void ***)&tk->socks, &tk->nsocks, s);
    publish_kernel(
        tk, "socket.connected",
        json_pack("{s:s,s:s,s:O,s:o}", "sid", sid, "nsp", nsp, "auth", auth, "headers", headers));
    ez_tk_run(tk);
    return EZ_OK;
}

int ez_tk_sock_event(ez_tk *tk, const char *nsp, const char *sid, const char *event,
                     const char *args_json, ez_tk_ack **ack) {
    if (ack)
        *ack = NULL;
    if (!tk || !event)
        return EZ_EINVAL;
    nsp = nsp_or_root(nsp);
    struct ez_socket *s = find_sock(tk, nsp, sid);
    if (!s)
        return EZ_ENOENT;
    const tk_reg *h = NULL, *any = NULL;
    for (size_t i = 0; i < tk->nregs && !h; i++) {
        const tk_reg *r = tk->regs[i];
        if (r->kind != TK_SOCK_ON || strcmp(r->nsp, nsp) != 0)
            continue;
        if (strcmp(r->event, event) == 0)
            h = r;
        else if (strcmp(r->event, "*") == 0 && !any)
            any = r;
    }
    if (!h)
        h = any;
    if (!h)
        return EZ_ENOENT;
    json_t *args = args_json ? json_loads(args_json, JSON_DECODE_ANY, NULL) : json_array();
    if (!args)
        return EZ_EINVAL;
    args = as_args(args);
    struct ez_ack *a = NULL;
    if (ack) {
        a = tk_xcalloc(1, sizeof *a);
        a->tk = tk;
        a->next = tk->acks;
        tk->acks = a;
        *ack = &a->pub;
    }
    h->event_fn(s, event, args, a, h->ud);
    json_decref(args);
    ez_tk_run(tk);
    return EZ_OK;
}

int ez_tk_sock_disconnect(ez_tk *tk, const char *nsp, const char *sid, const char *reason) {
    struct ez_socket *s = tk ? find_sock(tk, nsp, sid) : NULL;
    if (!s)
        return EZ_ENOENT;
    drop(tk, s, reason ? reason : "client namespace disconnect");
    ez_tk_run(tk);
    return EZ_OK;
}

int ez_tk_sock_in_room(const ez_tk *tk, const char *nsp, const char *sid, const char *room) {
    const struct ez_socket *s = tk && room ? find_sock(tk, nsp, sid) : NULL;
    return s && json_object_get(s->rooms, room) ? 1 : 0;
}

const json_t *ez_tk_sock_data(const ez_tk *tk, const char *nsp, const char *sid) {
    const struct ez_socket *s = tk ? find_sock(tk, nsp, sid) : NULL;
    return s ? s->data : NULL;
}

int tk_acks_pending(ez_tk *tk) {
    int n = 0;
    for (struct ez_ack *a = tk->acks; a; a = a->next)
        n += !a->released;
    return n;
}

void tk_acks_free(ez_tk *tk) {
    struct ez_ack *a = tk->acks;
    while (a) {
        struct ez_ack *next = a->next;
        json_decref(a->pub.args);
        free(a);
        a = next;
    }
    tk->acks = NULL;
}

void tk_socks_free(ez_tk *tk) {
    for (size_t i = 0; i < tk->nsocks; i++) {
        struct ez_socket *s = tk->socks[i];
        free(s->nsp);
        free(s->sid);
        json_decref(s->auth);
        json_decref(s->data);
        json_decref(s->rooms);
        free(s);
    }
    free(tk->socks);
    tk->socks = NULL;
    tk->nsocks = 0;
}
