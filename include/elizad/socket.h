/* Socket.IO (protocol v5 over Engine.IO v4) as plugins see it. Sockets are named by their
 * Socket.IO id (sid, a string); each socket is also in a room named by its own sid, so
 * "emit to one socket" is "emit to the room <sid>". Rooms are plain strings per namespace. */
#ifndef EZ_SOCKET_H
#define EZ_SOCKET_H

#include <elizad/types.h>
#include <jansson.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ez_socket ez_socket; /* borrowed for the length of a callback */
typedef struct ez_ack ez_ack;       /* a pending acknowledgement, answered once */

/* An event handler. args is the array of the event's arguments after the name (borrowed; binary
 * attachments appear as {"_placeholder":true,"num":n} resolved to {"$binary":"<base64>"}).
 * ack is NULL when the client asked for no acknowledgement; otherwise answer it with ack_new
 * (now or later, from the loop thread) or drop it with ack_new(ack, NULL). */
typedef void (*ez_sock_event_fn)(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                                 void *ud);

/* A connect guard, run for each CONNECT to the namespace before the socket exists. auth is the
 * handshake's auth object (borrowed; {} when absent). Return NULL to accept, or a static message
 * to refuse: the client gets CONNECT_ERROR {"message": <it>} and no events. */
typedef const char *(*ez_sock_guard_fn)(const char *nsp, const json_t *auth, const json_t *headers,
                                        void *ud);

typedef struct ez_sock_api {
    uint32_t size;

    /* Registration (init only). A namespace is created when first named; "/" always exists.
     * One plugin owns each (namespace, event) pair; "*" receives every event that has no owner. */
    int (*on)(ez_plugin *self, const char *nsp, const char *event, ez_sock_event_fn fn, void *ud,
              ez_free_fn ud_free);
    int (*guard)(ez_plugin *self, const char *nsp, ez_sock_guard_fn fn, void *ud,
                 ez_free_fn ud_free);

    /* Emitting: any thread. args_new is stolen: an array of arguments (or a single non-array
     * value, sent as the only argument). A "$binary" string member ({"$binary":"<base64>"}) is
     * sent as a binary attachment. room NULL = every socket in the namespace; except_sid skips
     * one socket (NULL = none). Returns EZ_OK once queued. */
    int (*emit_new)(ez_plugin *self, const char *nsp, const char *room, const char *except_sid,
                    const char *event, json_t *args_new);

    /* Answers an acknowledgement (loop thread). args_new stolen; NULL just releases it. */
    void (*ack_new)(ez_ack *ack, json_t *args_new);

    /* Room membership by sid (loop thread); EZ_ENOENT when no such socket. */
    int (*join)(ez_plugin *self, const char *nsp, const char *sid, const char *room);
    int (*leave)(ez_plugin *self, const char *nsp, const char *sid, const char *room);
    /* Number of sockets in a room (NULL = namespace). */
    int (*room_size)(ez_plugin *self, const char *nsp, const char *room);

    /* Accessors for the socket of a callback (borrowed). */
    const char *(*sid)(const ez_socket *s);
    const char *(*nsp)(const ez_socket *s);
    const json_t *(*auth)(const ez_socket *s);
    const char *(*remote_addr)(const ez_socket *s);

    /* Per-socket data: a JSON object plugins may read and change (loop thread). Keys should be
     * prefixed with the plugin's name when not shared on purpose. set_new steals value. */
    const json_t *(*data_get)(const ez_socket *s, const char *key);
    int (*data_set_new)(ez_socket *s, const char *key, json_t *value);

    /* Server-side disconnect of one socket (loop thread). */
    int (*disconnect)(ez_plugin *self, const char *nsp, const char *sid);
} ez_sock_api;

#ifdef __cplusplus
}
#endif

#endif
