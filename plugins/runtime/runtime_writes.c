/* The runtime's storage side, batched. A generation's start writes (room, world, the user
 * message as memory, the run) and end writes (the reply through messaging, the reply memory, the
 * model-use event, the run's end) wait for a flush that a 0 ms timer runs once per loop turn:
 * all replies of that turn share one transaction, so under load a commit serves many replies
 * (commits were most of the cost per reply). Events that must follow the writes are emitted
 * after the commit. */
#include "runtime_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_LOG_PROMPT_MAX 4000
#define RT_LOG_SYSTEM_MAX 2000
#define RT_FLUSH_MAX 512 /* generations per transaction; the rest go to the next flush */

static const json_t *ev_msg(const rt_gen *g) {
    return json_object_get(g->ev, "message");
}

static const char *agent_name(const json_t *agent) {
    const char *n = rt_str(agent, "name");
    return n ? n : "Agent";
}

/* ---- replies ---- */

/* Hands a reply to messaging (stores, broadcasts messageBroadcast, publishes on the bus).
 * Returns 0 when stored. */
static int post_reply(rt_state *st, const json_t *agent, const char *agent_id, const json_t *ev,
                      const char *reply_id, const char *text, int is_error) {
    const json_t *m = json_object_get(ev, "message");
    json_t *meta =
        json_pack("{s:s, s:s, s:s, s:b}", "agent_id", agent_id, "agentName", agent_name(agent),
                  "channelType", rt_channel_type(ev), "isDm", rt_is_dm(ev));
    if (is_error)
        json_object_set_new_nocheck(meta, "error", json_true());
    json_t *post = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:[s]}, s:s, s:s*, s:o}",
                             "id", reply_id, "channelId", rt_str(m, "channelId"), "messageServerId",
                             rt_server_id(ev), "authorId", agent_id, "authorName",
                             agent_name(agent), "content", text, "rawMessage", "text", text,
                             "thought", "", "actions", "REPLY", "sourceType", "agent_response",
                             "inReplyToRootMessageId", rt_str(m, "id"), "metadata", meta);
    if (!post)
        return -1;
    json_t *stored = st->msg->message_post(st->msg->self, post);
    json_decref(post);
    if (!stored)
        return -1;
    json_decref(stored);
    return 0;
}

static char *sorry(const rt_state *st, const char *reason) {
    char text[600];
    snprintf(text, sizeof text, "Sorry \xE2\x80\x94 I could not answer: %s", reason);
    rt_utf8_sanitize(st, text); /* the reply must be stored: invalid UTF-8 would lose it */
    return strdup(text);
}

void rt_post_error(rt_state *st, const char *agent_id, const json_t *ev, const char *reason) {
    json_t *agent = rt_agent(st, agent_id);
    if (!agent)
        return; /* the agent is gone: nobody could author the answer */
    char id[RT_ID];
    st->api->uuid_v4(id);
    char *text = sorry(st, reason);
    if (!text || post_reply(st, agent, agent_id, ev, id, text, 1) != 0)
        EZ_LOG(st->api, st->self, EZ_WARN, "agent %s: could not post an error reply (%s)", agent_id,
               reason);
    free(text);
    json_decref(agent);
}

/* ---- start writes ---- */

static void ensure_room(rt_conv *c, const json_t *ev) {
    rt_state *st = c->st;
    const json_t *ch = json_object_get(ev, "channel");
    const char *server = rt_server_id(ev);
    char world_id[RT_ID];
    rt_unique_uuid(st, c->agent_id, server, world_id);
    char wname[64], rname[64];
    snprintf(wname, sizeof wname, "Server %.8s", server);
    json_t *world = json_pack("{s:s, s:s, s:s, s:s}", "id", world_id, "name", wname, "agentId",
                              c->agent_id, "messageServerId", server);
    st->agents->world_ensure(st->agents->self, c->agent_id, world);
    json_decref(world);
    const char *cname = rt_str(ch, "name");
    if (!cname || !*cname) {
        snprintf(rname, sizeof rname, "Channel %.8s", c->channel_id);
        cname = rname;
    }
    const char *src = rt_str(json_object_get(ev, "message"), "sourceType");
    json_t *room = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->room_id, "name",
                             cname, "channelId", c->channel_id, "messageServerId", server,
                             "worldId", world_id, "type", rt_channel_type(ev), "source",
                             src ? src : "client_chat", "agentId", c->agent_id);
    int rc = st->agents->room_ensure(st->agents->self, c->agent_id, room);
    json_decref(room);
    c->room_ready = rc == EZ_OK || rc == EZ_EEXIST;
}

/* Stores the user message as the agent's memory. EZ_EEXIST: answered already. */
static int store_user_memory(rt_gen *g) {
    rt_state *st = g->st;
    rt_conv *c = g->conv;
    const json_t *m = ev_msg(g);
    int64_t created =
        json_integer_value(json_object_get(json_object_get(g->ev, "bus"), "created_at"));
    if (created <= 0)
        created = st->api->now_ms();
    const char *text = rt_str(m, "content"), *src = rt_str(m, "sourceType");
    json_t *content = json_pack("{s:s, s:s, s:s}", "text", text ? text : "", "source",
                                src ? src : "client_chat", "channelType", rt_channel_type(g->ev));
    const char *reply_to = rt_str(m, "inReplyToRootMessageId");
    if (reply_to && st->api->uuid_valid(reply_to)) {
        char base[80], rid[RT_ID];
        snprintf(base, sizeof base, "%s-%s", reply_to, c->agent_id);
        rt_unique_uuid(st, c->agent_id, base, rid);
        json_object_set_new_nocheck(content, "inReplyTo", json_string(rid));
    }
    const json_t *att = json_object_get(json_object_get(m, "metadata"), "attachments");
    if (json_is_array(att) && json_array_size(att))
        json_object_set_nocheck(content, "attachments", (json_t *)att);
    json_t *mem = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s}, s:I}", "id",
                            g->user_mem_id, "type", "messages", "roomId", c->room_id, "entityId",
                            g->entity_id, "content", content, "metadata", "type", "message",
                            "sourceId", rt_str(m, "id"), "entityName", rt_sender_name(g->ev),
                            "authorId", rt_str(m, "authorId"), "createdAt", (json_int_t)created);
    int rc = st->agents->memory_add(st->agents->self, c->agent_id, mem, NULL);
    if (rc != EZ_OK && rc != EZ_EEXIST) {
        ensure_room(c, g->ev); /* the room may have been deleted since */
        rc = st->agents->memory_add(st->agents->self, c->agent_id, mem, NULL);
        if (rc != EZ_OK && rc != EZ_EEXIST) {
            EZ_LOG(st->api, st->self, EZ_WARN, "agent %s: message memory not stored (%d)",
                   c->agent_id, rc);
            rc = EZ_OK; /* answer anyway */
        }
    }
    json_decref(mem);
    return rc;
}

/* 1: ready to ask the model; 0: nothing to do (duplicate, agent stopped or gone). */
static int start_writes(rt_gen *g) {
    rt_state *st = g->st;
    rt_conv *c = g->conv;
    const json_t *m = ev_msg(g);
    g->agent = rt_agent(st, c->agent_id);
    if (!g->agent || !st->agents->is_active(st->agents->self, c->agent_id))
        return 0;
    if (!c->room_ready)
        ensure_room(c, g->ev);
    if (store_user_memory(g) == EZ_EEXIST)
        return 0;
    const char *src = rt_str(m, "sourceType");
    json_t *info =
        json_pack("{s:s, s:s, s:s, s:s}", "messageId", rt_str(m, "id"), "roomId", c->room_id,
                  "entityId", g->entity_id, "source", src ? src : "client_chat");
    if (st->agents->run_open(st->agents->self, c->agent_id, info, g->run_id) != EZ_OK)
        g->run_id[0] = 0;
    json_decref(info);

    char why[160] = "";
    g->model = rt_provider_for(st, g->agent, g->provider, why, sizeof why);
    int history_wanted =
        g->model && st->history_limit > 0 &&
        !(EZ_MODEL_HAS(g->model, flags) && (g->model->flags & EZ_MODEL_LAST_MESSAGE_ONLY));
    json_t *history = history_wanted
                          ? st->agents->memories_recent(st->agents->self, c->agent_id, c->room_id,
                                                        NULL, st->history_limit + 1)
                          : NULL;
    g->prompt = rt_prompt_build(st, g->agent, history, g->user_mem_id, rt_str(m, "content"),
                                rt_sender_name(g->ev), !rt_is_dm(g->ev), NULL);
    json_decref(history);
    if (!g->model)
        g->reason = strdup(why);
    return 1;
}

/* ---- end writes ---- */

static json_t *usage_of(const json_t *result) {
    const json_t *u = json_object_get(result, "usage");
    return json_is_object(u) ? json_deep_copy(u) : json_object();
}

/* The prompt as one bounded text for the log (the system prompt is logged apart). */
static char *prompt_text(const json_t *msgs) {
    size_t cap = RT_LOG_PROMPT_MAX + 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) {
        if (i == 0)
            continue;
        const char *content = rt_str(m, "content");
        int n =
            snprintf(out + len, cap - len, "%s: %s\n", rt_str(m, "role"), content ? content : "");
        if (n < 0 || (size_t)n >= cap - len) {
            len = cap - 1;
            break;
        }
        len += (size_t)n;
    }
    len = rt_utf8_prefix(out, len);
    out[len] = 0;
    return out;
}

/* One MODEL_USED run event; agents.v1 records it as the run's useModel:TEXT_LARGE log (COMPAT
 * §3.9 body). Without a run it is written as a plain log. */
static void log_model_use(rt_gen *g, const char *response, const char *error) {
    rt_state *st = g->st;
    int64_t now = st->api->now_ms();
    int64_t exec = now - g->t_model;
    const char *model = rt_str(g->result, "model");
    json_t *usage = usage_of(g->result);
    char *prompt = prompt_text(g->prompt);
    const char *sys = rt_str(json_array_get(g->prompt, 0), "content");
    char sysbuf[RT_LOG_SYSTEM_MAX + 1];
    size_t syslen = sys ? strlen(sys) : 0;
    if (syslen > RT_LOG_SYSTEM_MAX) /* a byte cut could end inside a character */
        syslen = rt_utf8_prefix(sys, RT_LOG_SYSTEM_MAX);
    memcpy(sysbuf, sys ? sys : "", syslen);
    sysbuf[syslen] = 0;
    /* prompt and system prompt: JSON strings' text cut on character boundaries, so valid
     * UTF-8; json_pack would scan their thousands of bytes once more */
    json_t *data = json_pack(
        "{s:s, s:s, s:s, s:s*, s:{s:s*, s:b}, s:o, s:o, s:s, s:I, s:I, s:O, s:O*, s:O*}",
        "modelType", "TEXT_LARGE", "modelKey", "TEXT_LARGE", "provider", g->provider, "model",
        model, "params", "model", model, "stream", 1, "prompt",
        json_string_nocheck(prompt ? prompt : ""), "systemPrompt", json_string_nocheck(sysbuf),
        "response", response, "executionTime", (json_int_t)exec, "timestamp", (json_int_t)now,
        "usage", usage, "inputTokens", json_object_get(usage, "promptTokens"), "outputTokens",
        json_object_get(usage, "completionTokens"));
    free(prompt);
    json_decref(usage);
    if (!data)
        return;
    if (error)
        json_object_set_new_nocheck(data, "error", json_string(error));
    if (g->run_id[0]) {
        st->agents->run_event(st->agents->self, g->conv->agent_id, g->run_id, "MODEL_USED", data);
    } else {
        json_t *log = json_pack("{s:s, s:s, s:s, s:O}", "type", "useModel:TEXT_LARGE", "roomId",
                                g->conv->room_id, "entityId", g->conv->agent_id, "body", data);
        st->agents->log_add(st->agents->self, g->conv->agent_id, log);
        json_decref(log);
    }
    json_decref(data);
}

/* agents.v1 writes the run_event logs (started / completed|error|timeout) itself. */
static void run_close(rt_gen *g, const char *status, const char *error) {
    rt_state *st = g->st;
    if (!g->run_id[0])
        return;
    json_t *data = json_pack("{s:s*, s:I}", "error", error, "durationMs",
                             (json_int_t)(st->api->now_ms() - g->t0));
    st->agents->run_close(st->agents->self, g->conv->agent_id, g->run_id, status, data);
    json_decref(data);
}

static void store_reply_memory(rt_gen *g, const char *text) {
    rt_state *st = g->st;
    json_t *mem = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:[s], s:s, s:s}, s:{s:s, s:s, s:s}, s:I}", "id",
        g->reply_id, "type", "messages", "roomId", g->conv->room_id, "entityId", g->conv->agent_id,
        "content", "text", text, "thought", "", "actions", "REPLY", "source", "agent_response",
        "inReplyTo", g->user_mem_id, "metadata", "type", "message", "sourceId", g->reply_id,
        "entityName", agent_name(g->agent), "createdAt", (json_int_t)st->api->now_ms());
    int rc = st->agents->memory_add(st->agents->self, g->conv->agent_id, mem, NULL);
    if (rc != EZ_OK && rc != EZ_EEXIST)
        EZ_LOG(st->api, st->self, EZ_WARN, "agent %s: reply memory not stored (%d)",
               g->conv->agent_id, rc);
    json_decref(mem);
}

static void end_writes(rt_gen *g) {
    rt_state *st = g->st;
    const char *agent_id = g->conv->agent_id;
    if (g->ok) {
        if (post_reply(st, g->agent, agent_id, g->ev, g->reply_id, g->final_text, 0) == 0) {
            g->posted = 1;
            store_reply_memory(g, g->final_text);
            log_model_use(g, g->final_text, NULL);
            run_close(g, "completed", NULL);
            return;
        }
        /* messaging refused it: a second post would fail too */
        g->ok = 0;
        g->post_failure = 0;
        free(g->reason);
        g->reason = strdup("the reply could not be stored");
        rt_emit(st, g->conv->channel_id, "messageStreamError",
                json_pack("{s:s, s:s, s:s, s:s}", "messageId", g->reply_id, "channelId",
                          g->conv->channel_id, "agentId", agent_id, "error",
                          g->reason ? g->reason : "error"));
    }
    const char *reason = g->reason ? g->reason : "error";
    EZ_LOG(st->api, st->self, EZ_WARN, "agent %s channel %s: no answer (%s)", agent_id,
           g->conv->channel_id, reason);
    if (g->post_failure && !st->stopping && !g->agent) /* cancelled before its start writes */
        g->agent = rt_agent(st, agent_id);
    if (g->post_failure && !st->stopping && g->agent) {
        free(g->final_text);
        g->final_text = sorry(st, reason);
        g->posted = g->final_text &&
                    post_reply(st, g->agent, agent_id, g->ev, g->reply_id, g->final_text, 1) == 0;
    }
    if (g->t_model)
        log_model_use(g, "", reason);
    run_close(g, g->timed_out ? "timeout" : "error", reason);
}

/* ---- batching ---- */

static void on_flush(void *ud) {
    rt_state *st = ud;
    st->flush = NULL;
    rt_flush(st);
}

static void schedule(rt_state *st) {
    if (st->flush || st->destroying)
        return;
    st->flush = st->api->timer_start(st->self, 0, 0, on_flush, st);
    if (!st->flush)
        EZ_LOG(st->api, st->self, EZ_ERR, "cannot start the flush timer: replies are stalled");
}

void rt_batch_start(rt_state *st, rt_gen *g) {
    g->phase = RT_PH_START;
    g->bnext = NULL;
    if (!st->starts)
        st->starts_tail = &st->starts;
    *st->starts_tail = g;
    st->starts_tail = &g->bnext;
    schedule(st);
}

void rt_batch_end(rt_state *st, rt_gen *g) {
    g->phase = RT_PH_END;
    g->bnext = NULL;
    if (!st->ends)
        st->ends_tail = &st->ends;
    *st->ends_tail = g;
    st->ends_tail = &g->bnext;
    schedule(st);
}

/* Detaches up to RT_FLUSH_MAX generations from a list. */
static rt_gen *take(rt_gen **head, rt_gen ***tail) {
    rt_gen *out = *head, *last = NULL;
    int n = 0;
    for (rt_gen *g = out; g && n < RT_FLUSH_MAX; g = g->bnext, n++)
        last = g;
    if (!last)
        return NULL;
    *head = last->bnext;
    if (!*head)
        *tail = head;
    last->bnext = NULL;
    return out;
}

void rt_flush(rt_state *st) {
    if (st->flush && !st->destroying)
        st->api->timer_cancel(st->flush);
    st->flush = NULL;
    rt_gen *ends = take(&st->ends, &st->ends_tail);
    rt_gen *starts = take(&st->starts, &st->starts_tail);
    if (!ends && !starts)
        return;
    int tx = rt_tx_begin(st);
    st->nflush++;
    for (rt_gen *g = ends; g; g = g->bnext, st->nflushed++)
        end_writes(g);
    int ready[RT_FLUSH_MAX] = {0};
    int i = 0;
    for (rt_gen *g = starts; g; g = g->bnext, i++, st->nflushed++)
        ready[i] = g->cancelled ? -1 : start_writes(g);
    rt_tx_end(st, tx);
    /* after the commit: the events that announce what is now stored, then the model calls */
    for (rt_gen *g = ends, *next; g; g = next) {
        next = g->bnext;
        rt_gen_finish(g);
    }
    i = 0;
    for (rt_gen *g = starts, *next; g; g = next, i++) {
        next = g->bnext;
        if (ready[i] == 1)
            rt_gen_launch(g);
        else if (ready[i] == -1)
            rt_gen_done(g, g->cancel_reason ? g->cancel_reason : "cancelled", NULL);
        else
            rt_gen_finish(g); /* quietly: nothing was started */
    }
    if (st->starts || st->ends)
        schedule(st);
}
