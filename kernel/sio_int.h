/* Socket.IO engine internals shared by sio.c (clients, packets, dispatch), sio_rooms.c
 * (namespaces, rooms, broadcast) and sio_api.c (the plugin table). Loop thread only unless
 * noted. */
#ifndef KN_SIO_INT_H
#define KN_SIO_INT_H

#include "eio.h"
#include "sio.h"
#include "sio_codec.h"
#include "sio_map.h"
#include "sio_tq.h"

#include <pthread.h>

typedef struct sio_nsp sio_nsp;
typedef struct sio_client sio_client;
typedef struct sio_room sio_room;
typedef struct sio_job sio_job;

typedef struct sio_handler {
    char *event; /* the map key */
    sio_nsp *nsp;
    ez_sock_event_fn fn;
    void *ud;
    ez_free_fn ud_free;
    ez_plugin *owner;
} sio_handler;

typedef struct sio_guard {
    struct sio_guard *next; /* registration order */
    sio_nsp *nsp;
    ez_sock_guard_fn fn;
    void *ud;
    ez_free_fn ud_free;
    ez_plugin *owner;
} sio_guard;

struct sio_nsp {
    kn_sio *sio;
    char *name;
    kn_map handlers; /* event -> sio_handler */
    sio_guard *guards;
    kn_map sockets;  /* sid -> ez_socket */
    ez_socket **all; /* the same sockets, dense, for namespace-wide emits */
    uint32_t nall, capall;
    kn_map rooms; /* name -> sio_room */
};

/* A room lists its members; each member knows its slot in the socket's membership array and
 * each membership its index in the room, so join and leave are O(1) at any room size. */
typedef struct sio_member {
    ez_socket *s;
    uint32_t slot;
} sio_member;

struct sio_room {
    sio_member *m;
    uint32_t n, cap;
    char name[]; /* the map key */
};

typedef struct sio_memb {
    sio_room *room;
    uint32_t idx;
} sio_memb;

struct ez_socket {
    sio_client *c;
    sio_nsp *nsp;
    char sid[21];
    uint8_t connected;
    uint32_t all_idx;
    sio_memb *memb;
    uint32_t nmemb, capmemb;
    json_t *auth;         /* the CONNECT payload ({} when absent) */
    json_t *data;         /* plugin data, created on first set */
    ez_socket *next;      /* in the client */
    ez_socket *next_dead; /* freed by the reaper */
};

struct sio_client {
    kn_sio *sio;
    kn_eio_sock *es;
    ez_socket *sockets;
    kn_tq_node connect_node;
    uint8_t closed;
    /* a BINARY_EVENT / BINARY_ACK waiting for its attachments */
    sio_packet *partial;
    kn_pkt **atts;
    int natts;
    size_t att_bytes;
    sio_client *next_dead;
};

struct ez_ack {
    kn_sio *sio;
    sio_nsp *nsp; /* namespaces live as long as the engine */
    char sid[21];
    int64_t id;
};

struct sio_job { /* an emit from another thread, run on the loop */
    sio_job *next;
    json_t *args;
    char *nsp, *room, *except, *event; /* in one allocation after the struct */
};

struct kn_sio {
    kn_kernel *k;
    struct event_base *base;
    pthread_t loop_thread;
    kn_eio *eio;
    kn_eio *echo;
    char *path, *echo_path;
    int64_t connect_timeout;
    size_t max_payload;
    char *api_key, *auth_token; /* "" when unset */
    kn_map nsps;                /* name -> sio_nsp */
    kn_tq connect_q;
    sio_buf scratch;
    struct event *reap_ev;
    ez_socket *dead_sockets;
    sio_client *dead_clients;
    pthread_mutex_t qlock;
    sio_job *qhead, *qtail;
    struct event *wake_ev;
};

#define SIO_LOG "socketio"

int sio_on_loop(const kn_sio *s);
void sio_reap_later(kn_sio *s);

/* ---- namespaces and rooms (sio_rooms.c) ---- */
sio_nsp *sio_nsp_find(kn_sio *s, const char *name);
sio_nsp *sio_nsp_get(kn_sio *s, const char *name); /* creates; NULL on a bad name / memory */
void sio_nsp_free(sio_nsp *n);
int sio_nsp_add_socket(sio_nsp *n, ez_socket *sock);
void sio_nsp_remove_socket(sio_nsp *n, ez_socket *sock);
int sio_room_join(ez_socket *sock, const char *room);
int sio_room_leave(ez_socket *sock, const char *room); /* EZ_ENOENT when not a member */
void sio_room_leave_all(ez_socket *sock);
/* Encodes once and sends to the room (NULL: the namespace), skipping except (may be NULL). */
int sio_broadcast(kn_sio *s, sio_nsp *n, const char *room, const char *except, const char *event,
                  const json_t *args);

/* ---- clients and sockets (sio.c) ---- */
/* Sends an encoded packet to one socket's client. */
void sio_send(ez_socket *sock, const sio_out *o);
/* Removes a socket from its namespace (publishes socket.disconnected); notify: send the
 * DISCONNECT packet to the client first. */
void sio_socket_remove(ez_socket *sock, const char *reason, int notify);

/* Emits to a room (NULL: the namespace) except one sid; any thread (queued and woken when
 * not on the loop). args_new stolen. */
int kn_sio_emit(kn_sio *s, const char *nsp, const char *room, const char *except, const char *event,
                json_t *args_new);

/* ---- registration (sio_api.c) ---- */
void sio_handlers_free_all(kn_sio *s);

#endif
