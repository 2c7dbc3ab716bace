/* sio_conformance: the event handlers. The suite's server echoes "message" as "message-back"
 * (binary included), acks "message-with-ack" with its arguments and greets every connection
 * with "auth" carrying the handshake's auth object. The other events are helpers for elizad's
 * own e2e tests (rooms, server-side disconnect, per-socket data, emits from a worker thread). */
#include "sio_conformance_int.h"

#include <stdlib.h>
#include <string.h>

#define SIOC_THREAD_EMITS_MAX 10000
#define SIOC_GREET_DELAY_MS 5

static void sioc_message(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                         void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    sk->emit_new(st->self, sk->nsp(s), sk->sid(s), NULL, "message-back", json_deep_copy(args));
    if (ack)
        sk->ack_new(ack, NULL);
}

static void sioc_message_with_ack(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                                  void *ud) {
    (void)s;
    (void)event;
    sioc_state *st = ud;
    if (ack)
        st->api->sock->ack_new(ack, json_deep_copy(args));
}

static void sioc_reply(sioc_state *st, ez_ack *ack, json_t *value_new) {
    if (ack)
        st->api->sock->ack_new(ack, json_pack("[o]", value_new ? value_new : json_null()));
    else
        json_decref(value_new);
}

static const char *arg_str(const json_t *args, size_t i) {
    return json_string_value(json_array_get(args, i));
}

/* Arguments from index `from` on, as a new array. */
static json_t *rest(const json_t *args, size_t from) {
    json_t *out = json_array();
    for (size_t i = from; out && i < json_array_size(args); i++)
        json_array_append(out, json_array_get(args, i));
    return out;
}

static void sioc_join(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    const char *room = arg_str(args, 0);
    int rc = room ? (strcmp(event, "join") == 0 ? sk->join : sk->leave)(st->self, sk->nsp(s),
                                                                        sk->sid(s), room)
                  : EZ_EINVAL;
    sioc_reply(st, ack, json_integer(rc));
}

static void sioc_to_room(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                         void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    const char *room = arg_str(args, 0), *name = arg_str(args, 1);
    int rc = EZ_EINVAL;
    if (room && name)
        rc = sk->emit_new(st->self, sk->nsp(s), room, NULL, name, rest(args, 2));
    sioc_reply(st, ack, json_integer(rc));
}

static void sioc_to_others(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                           void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    const char *name = arg_str(args, 0);
    int rc = EZ_EINVAL;
    if (name)
        rc = sk->emit_new(st->self, sk->nsp(s), NULL, sk->sid(s), name, rest(args, 1));
    sioc_reply(st, ack, json_integer(rc));
}

static void sioc_room_size(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                           void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    sioc_reply(st, ack, json_integer(sk->room_size(st->self, sk->nsp(s), arg_str(args, 0))));
}

static void sioc_disconnect(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                            void *ud) {
    (void)event;
    (void)args;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    sioc_reply(st, ack, json_true());
    sk->disconnect(st->self, sk->nsp(s), sk->sid(s));
}

/* ["key", value?]: sets the value when given, answers the value now stored. */
static void sioc_data(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    const char *key = arg_str(args, 0);
    if (key && json_array_size(args) > 1)
        sk->data_set_new(s, key, json_deep_copy(json_array_get(args, 1)));
    const json_t *v = key ? sk->data_get(s, key) : NULL;
    sioc_reply(st, ack, v ? json_deep_copy(v) : NULL);
}

static void sioc_whoami(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                        void *ud) {
    (void)event;
    (void)args;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    sioc_reply(st, ack,
               json_pack("{s:s, s:s, s:O, s:s}", "sid", sk->sid(s), "nsp", sk->nsp(s), "auth",
                         sk->auth(s), "remote", sk->remote_addr(s)));
}

typedef struct sioc_job {
    sioc_state *st;
    ez_ack *ack;
    json_int_t count;
    char nsp[256], sid[64], event[128];
} sioc_job;

static void sioc_job_work(void *ud) { /* worker thread: only "any thread" calls */
    sioc_job *j = ud;
    for (json_int_t i = 0; i < j->count; i++)
        j->st->api->sock->emit_new(j->st->self, j->nsp, j->sid, NULL, j->event,
                                   json_pack("[I]", i));
}

static void sioc_job_done(void *ud) {
    sioc_job *j = ud;
    sioc_reply(j->st, j->ack, json_integer(j->count));
    free(j);
}

/* ["event", count]: a worker thread emits `count` events [0], [1]... to the caller. */
static void sioc_from_thread(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                             void *ud) {
    (void)event;
    sioc_state *st = ud;
    const ez_sock_api *sk = st->api->sock;
    const char *name = arg_str(args, 0);
    json_int_t count = json_integer_value(json_array_get(args, 1));
    sioc_job *j = calloc(1, sizeof *j);
    if (!j || !name || strlen(name) >= sizeof j->event || count < 0 ||
        count > SIOC_THREAD_EMITS_MAX || strlen(sk->nsp(s)) >= sizeof j->nsp) {
        free(j);
        sioc_reply(st, ack, json_integer(EZ_EINVAL));
        return;
    }
    j->st = st;
    j->ack = ack;
    j->count = count;
    strcpy(j->nsp, sk->nsp(s));
    strcpy(j->sid, sk->sid(s));
    strcpy(j->event, name);
    if (st->api->work_submit(st->self, sioc_job_work, sioc_job_done, j) != EZ_OK) {
        free(j);
        sioc_reply(st, ack, json_integer(EZ_EIO));
    }
}

static const struct {
    const char *event;
    ez_sock_event_fn fn;
} sioc_events[] = {
    {"message", sioc_message},
    {"message-with-ack", sioc_message_with_ack},
    {"join", sioc_join},
    {"leave", sioc_join},
    {"to-room", sioc_to_room},
    {"to-others", sioc_to_others},
    {"room-size", sioc_room_size},
    {"server-disconnect", sioc_disconnect},
    {"data", sioc_data},
    {"whoami", sioc_whoami},
    {"from-thread", sioc_from_thread},
};

int sioc_register(sioc_state *st, const char *nsp) {
    for (size_t i = 0; i < sizeof sioc_events / sizeof sioc_events[0]; i++) {
        int rc =
            st->api->sock->on(st->self, nsp, sioc_events[i].event, sioc_events[i].fn, st, NULL);
        if (rc != EZ_OK)
            return rc;
    }
    return EZ_OK;
}

/* Lets in only handshakes with auth {"pass": "open sesame"}. */
static const char *sioc_guard(const char *nsp, const json_t *auth, const json_t *headers,
                              void *ud) {
    (void)nsp;
    (void)headers;
    (void)ud;
    const char *pass = json_string_value(json_object_get(auth, "pass"));
    return pass && strcmp(pass, "open sesame") == 0 ? NULL : "Not welcome";
}

int sioc_register_guarded(sioc_state *st) {
    int rc = st->api->sock->guard(st->self, SIOC_NSP_GUARDED, sioc_guard, st, NULL);
    return rc == EZ_OK ? sioc_register(st, SIOC_NSP_GUARDED) : rc;
}

typedef struct sioc_greet {
    sioc_state *st;
    json_t *auth;
    char nsp[256], sid[64];
} sioc_greet;

static void sioc_greet_now(void *ud) {
    sioc_greet *g = ud;
    g->st->api->sock->emit_new(g->st->self, g->nsp, g->sid, NULL, "auth",
                               json_pack("[o]", g->auth));
    free(g);
}

/* socket.connected: greet the new socket with its own auth object. A few milliseconds later
 * rather than at once: the suite reads the CONNECT answer and this greeting with two separate
 * awaits, so the two must not reach it in one TCP read (the Node server's write completion
 * gives the same spacing). */
void sioc_on_connected(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    sioc_state *st = ud;
    const char *nsp = json_string_value(json_object_get(msg, "nsp"));
    const char *sid = json_string_value(json_object_get(msg, "sid"));
    const json_t *auth = json_object_get(msg, "auth");
    sioc_greet *g = calloc(1, sizeof *g);
    if (!g || !nsp || !sid || strlen(nsp) >= sizeof g->nsp || strlen(sid) >= sizeof g->sid) {
        free(g);
        return;
    }
    g->st = st;
    g->auth = json_deep_copy(auth ? auth : json_object());
    strcpy(g->nsp, nsp);
    strcpy(g->sid, sid);
    if (!g->auth || !st->api->timer_start(st->self, SIOC_GREET_DELAY_MS, 0, sioc_greet_now, g)) {
        json_decref(g->auth);
        free(g);
    }
}
