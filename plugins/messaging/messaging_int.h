/* Private header of the messaging plugin: the state every callback hangs off, and the functions
 * the logic files share. Nothing here is exported (the plugin is built with hidden visibility;
 * only the descriptor leaves the .so). */
#ifndef MSG_INT_H
#define MSG_INT_H

#include <elizad/agents.h>
#include <elizad/messaging.h>
#include <elizad/plugin.h>
#include <jansson.h>
#include <stdint.h>

#define MSG_BASE "/api/messaging"
#define MSG_NSP "/"
#define MSG_TSMAP_SLOTS 1024

/* Per-channel "last created_at" so messages of one channel never share a millisecond: paging
 * with before/after (ms or ISO, both ms precision) then never skips a sibling. */
typedef struct msg_ts_slot {
    char id[37];
    int64_t last;
} msg_ts_slot;

/* A REST request waiting for an agent's reply (transport "http" or "sse"). */
typedef struct msg_waiter {
    struct msg_waiter *next;
    struct msg_state *st;
    ez_req *req;
    ez_timer *timer;
    int sse;
    char user_msg_id[37];
    char agent_id[37];
    json_t *body; /* the 201 answer without agentResponse: {success, userMessage, ...} (owned) */
} msg_waiter;

/* A rendered page of GET .../messages, kept until its channel changes: pages are read far more
 * often than written (the web UI refetches them), and a hit costs no query at all. */
#define MSG_CACHE_SLOTS 16
#define MSG_CACHE_MAX_BODY (256 * 1024)
typedef struct msg_page {
    char channel[37];
    int64_t limit, before, after;
    uint64_t used; /* LRU clock */
    char *body;    /* owned; NULL = free slot */
    size_t len;
} msg_page;

#define MSG_RECENT_IDS 1024
#define MSG_RESERVED_IDS 256 /* replies being generated; an older reservation is forgotten */

/* Channels and their participants as rendered, by channel id: every message stored or posted
 * reads both (two queries and a render, a tenth of the loop's time per agent reply), and they
 * change rarely. Direct-mapped: a slot holds the newest channel hashed to it. */
#define MSG_CHANNEL_SLOTS 512
typedef struct msg_channel_slot {
    char id[37];
    json_t *channel;      /* owned; NULL = not cached */
    json_t *participants; /* owned; NULL = not cached */
} msg_channel_slot;

typedef struct msg_state {
    ez_plugin *self;
    const ez_host_api *api;
    const ez_store_api *db;
    ez_messaging_v1 v1; /* exported as "messaging.v1"; self points back here */
    int64_t max_content;
    int64_t max_page;
    int64_t reply_timeout_ms;
    int64_t seq; /* insertion order of servers, channels, participants */
    int ts_used;
    msg_ts_slot ts[MSG_TSMAP_SLOTS];
    msg_waiter *waiters;
    uint64_t page_clock;
    msg_page pages[MSG_CACHE_SLOTS];
    /* ids of the newest stored messages: inserts are queued (exec_later), so a duplicate id
     * given by a client is found here while its first insert may still be uncommitted */
    char recent_ids[MSG_RECENT_IDS][37];
    unsigned recent_pos;
    /* ids handed out by message_id_reserve and not posted yet; "" = free */
    char reserved_ids[MSG_RESERVED_IDS][37];
    unsigned reserved_pos;
    msg_channel_slot channels[MSG_CHANNEL_SLOTS];
    int tx_open; /* inside msg_db_tx_begin: what is read may be rolled back, so not cached */
} msg_state;

/* What a stored message is made from. Every pointer is borrowed. */
typedef struct msg_in {
    const char *id; /* NULL: a random v4 */
    const char *channel_id;
    const char *server_id;
    const char *author_id;
    const char *author_name; /* bus author_display_name; NULL = none */
    const char *content;
    const json_t *raw; /* rawMessage; NULL = none */
    const char *source_type;
    const char *source_id;
    const char *in_reply_to;
    const json_t *metadata; /* object or NULL */
    int internal;           /* message_post: may use an id from message_id_reserve */
} msg_in;

/* How a stored message is announced on the channel room (COMPAT §14.5). */
typedef enum msg_bcast_kind {
    MSG_BCAST_USER,   /* REST post, ingest */
    MSG_BCAST_SOCKET, /* socket SEND_MESSAGE */
    MSG_BCAST_AGENT,  /* submit, runtime replies */
    MSG_BCAST_ACTION, /* action, PATCH action */
} msg_bcast_kind;

/* ---- messaging_util.c ---- */
int msg_valid_uuid(const msg_state *st, const json_t *v); /* v is a uuid string */
int msg_valid_uuid_s(const msg_state *st, const char *s); /* NULL-safe */
const char *msg_str(const json_t *obj, const char *key);  /* string member or NULL */
const char *msg_str_nonempty(const json_t *obj, const char *key);
size_t msg_utf8_len(const char *s);
const json_t *msg_body(msg_state *st,
                       ez_req *req); /* the JSON body if it is an object, else NULL */
int msg_fail(msg_state *st, ez_req *req, int status, const char *message);
int msg_fail_d(msg_state *st, ez_req *req, int status, const char *message, const char *details);
/* {"success":true,"data":data_new}; data_new stolen. */
int msg_ok(msg_state *st, ez_req *req, int status, json_t *data_new);
/* Epoch ms, ISO-8601, or a JS Date.toString() text; 0 on success. */
int msg_parse_time(msg_state *st, const char *s, int64_t *ms);
json_t *msg_iso(msg_state *st, int64_t ms); /* new JSON string */
/* limit query value clamped to [1, max_page]; def when absent or not a number. */
int64_t msg_limit(msg_state *st, const char *s, int64_t def);
int msg_content_ok(msg_state *st, const char *content);
int msg_is_channel_type(const char *t);
/* Parses a JSON text column, or shares a value already parsed (rows built in memory); NULL -> NULL.
 * new */
json_t *msg_json_col(const json_t *row, const char *col);
const char *msg_row_str(const json_t *row, const char *col);
int64_t msg_row_int(const json_t *row, const char *col);

/* ---- messaging_cache.c ---- */
const msg_page *msg_cache_get(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                              int64_t after);
/* Keeps a copy of body. */
void msg_cache_put(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                   int64_t after, const char *body, size_t len);
/* Forgets every page of a channel (NULL: all). Called by every write to messages. */
void msg_cache_drop(msg_state *st, const char *channel_id);

/* ---- messaging_channel_cache.c ---- */
/* A new copy of the cached channel (or participants array) the caller owns; NULL: not cached. */
json_t *msg_channel_cached(msg_state *st, const char *channel_id);
/* The cached channel itself (a new reference), read-only; NULL: not cached. */
json_t *msg_channel_shared(msg_state *st, const char *channel_id);
json_t *msg_participants_cached(msg_state *st, const char *channel_id);
/* Keep copies of what was just read from the store (ignored inside a transaction). */
void msg_channel_keep(msg_state *st, const char *channel_id, const json_t *channel);
void msg_participants_keep(msg_state *st, const char *channel_id, const json_t *participants);
/* Forget everything: called by every write to channels or participants, and by every
 * transaction's begin and end. */
void msg_channel_cache_clear(msg_state *st);

/* ---- messaging_db.c (storage; every function: loop thread) ---- */
int msg_db_migrate(msg_state *st);
int msg_db_tx_begin(msg_state *st);
int msg_db_tx_end(msg_state *st, int ok); /* commit when ok, else roll back; 1 = committed */
/* MessageServer list (new array) / one (new) / existence. */
json_t *msg_db_servers(msg_state *st);
json_t *msg_db_server_get(msg_state *st, const char *id);
int msg_db_server_exists(msg_state *st, const char *id);
json_t *msg_db_server_create(msg_state *st, const char *name, const char *source_type,
                             const char *source_id, const json_t *metadata);
/* MessageChannel (new) or NULL. */
json_t *msg_db_channel_get(msg_state *st, const char *id);
/* The same, for a caller that only reads it and hands it on only to readers (bus messages):
 * a reference to the cached object instead of a copy of it (a copy per message was 2 % of the
 * loop's work per agent reply). Never change what it returns. */
json_t *msg_db_channel_read(msg_state *st, const char *id);
json_t *msg_db_channels_of_server(msg_state *st, const char *server_id);
json_t *msg_db_dm_find(msg_state *st, const char *server_id, const char *name);
/* Inserts a channel and its participants; no transaction of its own (callers wrap).
 * id NULL = random. Returns the channel (new) or NULL. */
json_t *msg_db_channel_insert(msg_state *st, const char *id, const char *server_id,
                              const char *name, const char *type, const char *source_type,
                              const char *source_id, const char *topic, const json_t *metadata,
                              const json_t *participants);
int msg_db_channel_update(msg_state *st, const char *id, const char *name, const json_t *metadata);
int msg_db_channel_delete(msg_state *st, const char *id); /* messages, participants, channel */
json_t *msg_db_participants(msg_state *st, const char *channel_id); /* new array of ids */
int msg_db_participant_add(msg_state *st, const char *channel_id, const char *entity_id);
int msg_db_participant_remove(msg_state *st, const char *channel_id, const char *entity_id);
int msg_db_participants_replace(msg_state *st, const char *channel_id, const json_t *ids);
/* Stores a message; returns the CentralRootMessage (new) and its created_at in *ts_out, or
 * NULL (*err_out = EZ_ECONSTRAINT for a duplicate id, EZ_EIO otherwise). No transaction. */
json_t *msg_db_message_insert(msg_state *st, const msg_in *in, int64_t *ts_out, int *err_out);
/* A new message id held for an internal post (messaging.v1 message_id_reserve). */
void msg_id_reserve(msg_state *st, char id_out[37]);
/* The stored row of one message (new) or NULL. */
json_t *msg_db_message_row(msg_state *st, const char *id);
/* Replaces the fields of a stored message (row: as from msg_db_message_row, updated). */
int msg_db_message_rewrite(msg_state *st, const json_t *row);
int64_t msg_db_message_delete(msg_state *st, const char *channel_id, const char *message_id);
int64_t msg_db_messages_clear(msg_state *st, const char *channel_id);
/* The rendered list items, newest first. before/after: 0 = unbounded. Returns a new array of
 * JSON texts (strings), or NULL on storage error. */
json_t *msg_db_message_items(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                             int64_t after);
json_t *msg_db_server_agents(msg_state *st, const char *server_id);
json_t *msg_db_agent_servers(msg_state *st, const char *agent_id);
int64_t msg_db_server_agent_add(msg_state *st, const char *server_id, const char *agent_id);
int64_t msg_db_server_agent_remove(msg_state *st, const char *server_id, const char *agent_id);
int64_t msg_db_agent_forget(msg_state *st, const char *agent_id);

/* ---- messaging_render.c ---- */
json_t *msg_render_server(msg_state *st, const json_t *row);
json_t *msg_render_channel(msg_state *st, const json_t *row);
/* CentralRootMessage from a stored row (new); with_list adds created_at/updated_at, the
 * rewritten metadata and inReplyToRootMessageId null (the GET messages item). */
json_t *msg_render_message(msg_state *st, const json_t *row, int with_list);
/* MessageServiceStructure (COMPAT §3.5) of a stored message (new). */
json_t *msg_render_bus(const json_t *root, int64_t ts, const char *server_id,
                       const char *author_name);
/* messageBroadcast payload (new). sender_name may be NULL (kind default). */
json_t *msg_render_broadcast(msg_state *st, msg_bcast_kind kind, const json_t *root, int64_t ts,
                             const char *server_id, const char *sender_name);

/* ---- messaging_events.c ---- */
int msg_sock_ok(const msg_state *st);
/* Emits to a room (NULL = everyone), skipping except_sid; args_new stolen, freed when the
 * Socket.IO engine is not available. */
void msg_emit(msg_state *st, const char *room, const char *except_sid, const char *event,
              json_t *args_new);
void msg_publish(msg_state *st, const char *topic, json_t *msg_new);
/* messaging.message.created for a stored message. channel/participants borrowed, may be NULL
 * (then read from storage). */
void msg_publish_created(msg_state *st, const json_t *root, const json_t *bus,
                         const json_t *channel, const json_t *participants);
void msg_on_bus(const char *topic, const json_t *msg, void *ud);

/* ---- messaging_post.c: the one path every stored message takes ---- */
typedef struct msg_posted {
    json_t *root; /* CentralRootMessage (owned) */
    json_t *bus;  /* MessageServiceStructure (owned) */
    int64_t ts;   /* created_at, ms */
} msg_posted;
/* Stores one message in an existing channel (borrowed, MessageChannel), publishes
 * messaging.message.created and wakes http/sse waiters this message answers. No broadcast.
 * Returns EZ_OK and fills *out (release with msg_posted_clear), or an HTTP status with
 * *err_out set to a static message. */
int msg_post(msg_state *st, const msg_in *in, const json_t *channel, msg_posted *out,
             const char **err_out);
/* The two halves of msg_post, for writers that store inside a transaction and announce only
 * after the commit. */
int msg_store(msg_state *st, const msg_in *in, msg_posted *out, const char **err_out);
void msg_announce(msg_state *st, const msg_posted *p, const json_t *channel,
                  const json_t *participants); /* both borrowed, may be NULL */
void msg_posted_clear(msg_posted *p);
/* messageBroadcast of a stored message to its channel room (minus except_sid). */
void msg_broadcast(msg_state *st, msg_bcast_kind kind, const msg_posted *p, const char *server_id,
                   const char *sender_name, const char *except_sid);
/* Creates a channel on first message (COMPAT §7.3 / §14.4); no transaction. new or NULL. */
json_t *msg_autocreate_channel(msg_state *st, const char *channel_id, const char *server_id,
                               const char *author_id, const json_t *metadata,
                               const char *extra_participant, const char *created_by);
/* Resolves http/sse waiters answered by this stored message. */
void msg_waiters_reply(msg_state *st, const json_t *root);
void msg_waiters_cancel_all(msg_state *st);
/* Parks a request until the agent answers user_msg_id (or the reply timeout). body_new (stolen):
 * the 201 answer so far, {success, userMessage, ...}; agentResponse is added to it (http), or its
 * userMessage starts the event stream (sse). Returns EZ_ASYNC, or EZ_DONE once answered. */
int msg_waiter_start(msg_state *st, ez_req *req, int sse, const char *user_msg_id,
                     const char *agent_id, json_t *body_new);

/* ---- route files: each registers its own routes (init only) ---- */
int msg_servers_register(msg_state *st);
int msg_channels_register(msg_state *st);
int msg_messages_register(msg_state *st);
int msg_core_register(msg_state *st);
int msg_socket_register(msg_state *st);
void msg_api_fill(msg_state *st);

/* ---- messaging_title.c ---- */
/* A 3-6 word title from messages (array of list items, newest first); new string or NULL. */
char *msg_title_from(const json_t *items);

/* Route registration helper: same handler under several patterns. */
int msg_route(msg_state *st, unsigned methods, const char *pattern, ez_route_fn fn);

#endif
