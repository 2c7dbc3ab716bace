/* The single write path for messages (REST, socket, submit, ingest, runtime replies), channel
 * auto-creation on first message, and requests parked until an agent answers (transports
 * "http" and "sse", COMPAT §7.3). */
#include "messaging_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int msg_store(msg_state *st, const msg_in *in, msg_posted *out, const char **err_out) {
    int err = EZ_OK;
    memset(out, 0, sizeof *out);
    out->root = msg_db_message_insert(st, in, &out->ts, &err);
    if (!out->root) {
        *err_out = err == EZ_ECONSTRAINT ? "Message already exists" : "Failed to store message";
        return err == EZ_ECONSTRAINT ? 409 : 500;
    }
    out->bus = msg_render_bus(out->root, out->ts, in->server_id, in->author_name);
    return EZ_OK;
}

void msg_announce(msg_state *st, const msg_posted *p, const json_t *channel,
                  const json_t *participants) {
    msg_publish_created(st, p->root, p->bus, channel, participants);
    if (st->waiters)
        msg_waiters_reply(st, p->root);
}

int msg_post(msg_state *st, const msg_in *in, const json_t *channel, msg_posted *out,
             const char **err_out) {
    int rc = msg_store(st, in, out, err_out);
    if (rc == EZ_OK)
        msg_announce(st, out, channel, NULL);
    return rc;
}

void msg_posted_clear(msg_posted *p) {
    json_decref(p->root);
    json_decref(p->bus);
    p->root = p->bus = NULL;
}

void msg_broadcast(msg_state *st, msg_bcast_kind kind, const msg_posted *p, const char *server_id,
                   const char *sender_name, const char *except_sid) {
    if (!msg_sock_ok(st))
        return;
    const char *room = msg_str(p->root, "channelId");
    /* Most posts reach an empty room (REST clients, agents): skip rendering the payload. */
    const ez_sock_api *sock = st->api->sock;
    if (sock->room_size && sock->room_size(st->self, MSG_NSP, room) == 0)
        return;
    msg_emit(st, room, except_sid, "messageBroadcast",
             msg_render_broadcast(st, kind, p->root, p->ts, server_id, sender_name));
}

static int is_dm_meta(const json_t *meta) {
    if (!json_is_object(meta))
        return 0;
    if (json_is_true(json_object_get(meta, "isDm")))
        return 1;
    const char *t = msg_str(meta, "channelType");
    if (!t)
        t = msg_str(meta, "channel_type");
    return t && strcmp(t, "DM") == 0;
}

json_t *msg_autocreate_channel(msg_state *st, const char *channel_id, const char *server_id,
                               const char *author_id, const json_t *metadata,
                               const char *extra_participant, const char *created_by) {
    int dm = is_dm_meta(metadata);
    const char *type = dm ? "DM" : "GROUP";
    char name[64];
    snprintf(name, sizeof name, "%s %.8s", dm ? "DM" : "Chat", channel_id);
    char iso[32];
    st->api->iso_time(st->api->now_ms(), iso);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:s}", "created_by", created_by, "created_for_user",
                             author_id, "created_at", iso, "channel_type", type);
    if (json_is_object(metadata))
        json_object_update(meta, (json_t *)metadata);
    json_t *parts = json_pack("[s]", author_id);
    if (dm && msg_valid_uuid_s(st, extra_participant) && strcmp(extra_participant, author_id) != 0)
        json_array_append_new(parts, json_string(extra_participant));
    json_t *ch = msg_db_channel_insert(st, channel_id, server_id, name, type, "auto_created", NULL,
                                       NULL, meta, parts);
    json_decref(meta);
    json_decref(parts);
    return ch;
}

/* ---- parked requests ---- */

static void waiter_unlink(msg_state *st, msg_waiter *w) {
    for (msg_waiter **pp = &st->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
}

static void waiter_free(msg_waiter *w) {
    json_decref(w->body);
    free(w);
}

static void sse_event(msg_state *st, ez_req *req, const char *event, const json_t *data) {
    char *txt = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!txt)
        return;
    size_t n = strlen(event) + strlen(txt) + 32;
    char *buf = malloc(n);
    if (buf) {
        int len = snprintf(buf, n, "event: %s\ndata: %s\n\n", event, txt);
        st->api->stream_write(req, buf, (size_t)len);
        free(buf);
    }
    free(txt);
}

static void waiter_fail(msg_waiter *w, const char *why) {
    msg_state *st = w->st;
    if (w->sse) {
        json_t *e = json_pack("{s:s}", "error", why);
        sse_event(st, w->req, "error", e);
        json_decref(e);
        st->api->stream_end(w->req);
    } else {
        st->api->respond_error(w->req, 500, EZ_ERR_MESSAGING, NULL,
                               "Failed to process message in HTTP transport", why);
    }
}

static void waiter_timeout(void *ud) {
    msg_waiter *w = ud;
    w->timer = NULL; /* a fired one-shot timer is gone */
    waiter_unlink(w->st, w);
    waiter_fail(w, "Timed out waiting for the agent's reply");
    waiter_free(w);
}

/* The reply as the runtime's Content: rawMessage plus what the official server's Content has
 * (COMPAT §7.3: thought, actions, providers, text, simple, responseId, inReplyTo). */
static json_t *agent_content(const json_t *root, const char *user_msg_id) {
    const json_t *raw = json_object_get(root, "rawMessage");
    json_t *c = json_is_object(raw) ? json_deep_copy(raw) : json_object();
    if (!json_object_get(c, "text"))
        json_object_set_nocheck(c, "text", json_object_get(root, "content"));
    if (!json_object_get(c, "providers"))
        json_object_set_new_nocheck(c, "providers", json_array());
    if (!json_object_get(c, "simple"))
        json_object_set_new_nocheck(c, "simple", json_true());
    if (!json_object_get(c, "responseId") && msg_str(root, "id"))
        json_object_set_new_nocheck(c, "responseId", json_string(msg_str(root, "id")));
    if (!json_object_get(c, "inReplyTo"))
        json_object_set_new_nocheck(c, "inReplyTo", json_string(user_msg_id));
    return c;
}

static void waiter_answer(msg_waiter *w, const json_t *root) {
    msg_state *st = w->st;
    json_t *content = agent_content(root, w->user_msg_id);
    if (w->sse) {
        const char *id = msg_str(root, "id");
        json_t *chunk = json_pack("{s:s?, s:O, s:i}", "messageId", id, "chunk",
                                  json_object_get(content, "text"), "index", 0);
        if (chunk)
            sse_event(st, w->req, "chunk", chunk);
        json_decref(chunk);
        sse_event(st, w->req, "done", content);
        st->api->stream_end(w->req);
    } else {
        json_object_set_nocheck(w->body, "agentResponse", content);
        st->api->respond_json_new(w->req, 201, json_incref(w->body));
    }
    json_decref(content);
}

void msg_waiters_reply(msg_state *st, const json_t *root) {
    const char *reply_to = msg_str(root, "inReplyToRootMessageId");
    const char *author = msg_str(root, "authorId");
    if (!reply_to || !author)
        return;
    msg_waiter **pp = &st->waiters;
    while (*pp) {
        msg_waiter *w = *pp;
        if (strcmp(w->user_msg_id, reply_to) == 0 && strcasecmp(w->agent_id, author) == 0) {
            *pp = w->next;
            if (w->timer)
                st->api->timer_cancel(w->timer);
            waiter_answer(w, root);
            waiter_free(w);
        } else {
            pp = &w->next;
        }
    }
}

void msg_waiters_cancel_all(msg_state *st) {
    while (st->waiters) {
        msg_waiter *w = st->waiters;
        st->waiters = w->next;
        if (w->timer)
            st->api->timer_cancel(w->timer);
        waiter_fail(w, "Server is shutting down");
        waiter_free(w);
    }
}

int msg_waiter_start(msg_state *st, ez_req *req, int sse, const char *user_msg_id,
                     const char *agent_id, json_t *body_new) {
    msg_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        json_decref(body_new);
        return msg_fail(st, req, 500, "Failed to process message in HTTP transport");
    }
    w->st = st;
    w->req = req;
    w->sse = sse;
    snprintf(w->user_msg_id, sizeof w->user_msg_id, "%s", user_msg_id);
    snprintf(w->agent_id, sizeof w->agent_id, "%s", agent_id);
    w->body = body_new;
    if (sse) {
        st->api->set_header(req, "Cache-Control", "no-cache");
        st->api->stream_start(req, 200, "text/event-stream");
        sse_event(st, req, "user_message", json_object_get(body_new, "userMessage"));
    }
    w->timer = st->api->timer_start(st->self, st->reply_timeout_ms, 0, waiter_timeout, w);
    if (!w->timer) {
        waiter_fail(w, "Cannot wait for the agent's reply");
        waiter_free(w);
        return EZ_DONE;
    }
    w->next = st->waiters;
    st->waiters = w;
    return EZ_ASYNC;
}
