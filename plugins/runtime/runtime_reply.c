/* One generation: start writes (batched) -> the model call -> end writes (batched) -> closing
 * events. The reply id is chosen up front so every messageStreamChunk names the message that
 * will end the stream. Order on success: controlMessage disable_input, chunks, messageBroadcast
 * (from messaging.v1 message_post), messageComplete, controlMessage enable_input. */
#include "runtime_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_REPLY_MAX (256u * 1024u)

static const char *agent_name(const json_t *agent) {
    const char *n = rt_str(agent, "name");
    return n ? n : "Agent";
}

/* ---- socket events ---- */

void rt_emit_control(rt_gen *g, const char *action) {
    const char *ch = g->conv->channel_id;
    rt_emit(g->st, ch, "controlMessage",
            json_pack("{s:s, s:s, s:s, s:s}", "action", action, "channelId", ch, "roomId", ch,
                      "agentId", g->conv->agent_id));
}

static void emit_complete(rt_gen *g) {
    const char *ch = g->conv->channel_id;
    rt_emit(g->st, ch, "messageComplete",
            /* the seed's client reads data.content.text and data.sender */
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "channelId", ch, "roomId", ch,
                      "messageId", g->reply_id, "agentId", g->conv->agent_id, "text", g->final_text,
                      "sender", agent_name(g->agent), "content", "text", g->final_text));
}

/* ---- lifetime ---- */

static void gen_free(rt_gen *g) {
    if (g->timeout && !g->st->destroying)
        g->st->api->timer_cancel(g->timeout);
    json_decref(g->ev);
    json_decref(g->agent);
    json_decref(g->prompt);
    json_decref(g->early_result);
    json_decref(g->result);
    free(g->early_error);
    free(g->cancel_reason);
    free(g->reason);
    free(g->final_text);
    free(g->text);
    free(g);
}

void rt_gen_discard(rt_gen *g) {
    g->conv->active = NULL;
    gen_free(g);
}

void rt_gen_finish(rt_gen *g) {
    rt_conv *c = g->conv;
    if (g->posted && g->final_text)
        emit_complete(g);
    if (g->launched)
        rt_emit_control(g, "enable_input");
    int was_active = c->active == g;
    gen_free(g);
    if (was_active)
        rt_conv_finished(c);
}

/* ---- the outcome ---- */

void rt_gen_done(rt_gen *g, const char *error, const json_t *result) {
    rt_state *st = g->st;
    if (g->phase == RT_PH_END)
        return;
    g->call = NULL;
    if (g->timeout) {
        st->api->timer_cancel(g->timeout);
        g->timeout = NULL;
    }
    g->result = result ? json_deep_copy(result) : NULL;
    const char *text = rt_str(result, "text");
    if (!error && !g->cancelled && !g->timed_out) {
        if (text && *text)
            g->final_text = strdup(text);
        else if (g->len)
            g->final_text = strndup(g->text, g->len);
        g->ok = g->final_text != NULL;
        if (!g->ok)
            error = "the model returned an empty reply";
    }
    if (!g->ok) {
        char why[512];
        if (g->timed_out)
            snprintf(why, sizeof why, "the model did not answer within %lld ms",
                     (long long)st->reply_timeout_ms);
        else if (g->cancelled)
            snprintf(why, sizeof why, "%s", g->cancel_reason ? g->cancel_reason : "cancelled");
        else if (g->reason)
            snprintf(why, sizeof why, "%s", g->reason);
        else
            snprintf(why, sizeof why, "%s", error ? error : "error");
        rt_utf8_sanitize(st, why); /* cut here or by the provider: the events below need UTF-8 */
        free(g->reason);
        g->reason = strdup(why);
        if (g->launched) {
            json_t *err =
                json_pack("{s:s, s:s, s:s, s:s}", "messageId", g->reply_id, "channelId",
                          g->conv->channel_id, "agentId", g->conv->agent_id, "error", why);
            if (g->len)
                json_object_set_new_nocheck(err, "partialText", json_stringn(g->text, g->len));
            rt_emit(st, g->conv->channel_id, "messageStreamError", err);
        }
    }
    rt_batch_end(st, g);
}

/* ---- provider callbacks ---- */

static void on_chunk(const char *text, void *ud) {
    rt_gen *g = ud;
    size_t n = text ? strlen(text) : 0;
    if (g->phase != RT_PH_GENERATING || g->cancelled || g->timed_out || n == 0)
        return;
    if (g->len + n + 1 > g->cap && g->len + n + 1 <= RT_REPLY_MAX) {
        size_t nc = g->cap ? g->cap * 2 : 256;
        while (nc < g->len + n + 1)
            nc *= 2;
        char *np = realloc(g->text, nc);
        if (np) {
            g->text = np;
            g->cap = nc;
        }
    }
    if (g->len + n + 1 <= g->cap) {
        memcpy(g->text + g->len, text, n);
        g->len += n;
        g->text[g->len] = 0;
    }
    rt_emit(g->st, g->conv->channel_id, "messageStreamChunk",
            json_pack("{s:s, s:s, s:i, s:s, s:s}", "messageId", g->reply_id, "chunk", text, "index",
                      g->index++, "agentId", g->conv->agent_id, "channelId", g->conv->channel_id));
}

static void on_done(const char *error, const json_t *result, void *ud) {
    rt_gen *g = ud;
    if (g->phase != RT_PH_GENERATING)
        return;
    if (g->in_generate) {
        g->early = 1;
        g->early_error = error ? strdup(error) : NULL;
        if (error && !g->early_error)
            g->early_error = strdup("out of memory");
        g->early_result = result ? json_deep_copy(result) : NULL;
        return;
    }
    rt_gen_done(g, error, result);
}

static void on_timeout(void *ud) {
    rt_gen *g = ud;
    g->timeout = NULL;
    if (g->phase != RT_PH_GENERATING || !g->call)
        return;
    g->timed_out = 1;
    g->model->cancel(g->model->provider, g->call); /* on_done follows, now or later */
}

void rt_gen_cancel(rt_gen *g, const char *reason, int post) {
    if (g->phase == RT_PH_END || g->cancelled)
        return;
    g->cancelled = 1;
    g->post_failure = post;
    g->cancel_reason = strdup(reason);
    if (g->phase == RT_PH_GENERATING && g->call)
        g->model->cancel(g->model->provider, g->call);
}

/* ---- the start ---- */

static json_t *model_request(rt_gen *g) {
    const json_t *settings = json_object_get(g->agent, "settings");
    json_t *req =
        json_pack("{s:s, s:s, s:O, s:o, s:b, s:s}", "agentId", g->conv->agent_id, "roomId",
                  g->conv->room_id, "messages", g->prompt, "settings",
                  json_is_object(settings) ? json_incref((json_t *)settings) : json_object(),
                  "stream", 1, "agentName", agent_name(g->agent));
    char *bio = rt_bio_line(g->agent);
    if (bio)
        json_object_set_new_nocheck(req, "bio", json_string(bio));
    free(bio);
    return req;
}

void rt_gen_start(rt_conv *c, const json_t *ev) {
    rt_state *st = c->st;
    const json_t *m = json_object_get(ev, "message");
    const char *mid = rt_str(m, "id"), *author = rt_str(m, "authorId");
    if (!mid || !author)
        return;
    rt_gen *g = calloc(1, sizeof(rt_gen));
    if (!g)
        return;
    g->st = st;
    g->conv = c;
    g->ev = json_incref((json_t *)ev);
    g->post_failure = 1;
    g->t0 = st->api->now_ms();
    char base[80];
    snprintf(base, sizeof base, "%s-%s", mid, c->agent_id);
    rt_unique_uuid(st, c->agent_id, base, g->user_mem_id);
    rt_unique_uuid(st, c->agent_id, author, g->entity_id);
    if (EZ_MESSAGING_HAS(st->msg, message_id_reserve))
        st->msg->message_id_reserve(st->msg->self, g->reply_id);
    else
        st->api->uuid_v4(g->reply_id);
    c->active = g;
    rt_batch_start(st, g);
}

void rt_gen_launch(rt_gen *g) {
    rt_state *st = g->st;
    g->phase = RT_PH_GENERATING;
    g->launched = 1;
    rt_emit_control(g, "disable_input");
    if (!g->model) { /* the start writes found no provider: g->reason says why */
        rt_gen_done(g, g->reason, NULL);
        return;
    }
    json_t *req = model_request(g);
    g->t_model = st->api->now_ms();
    if (st->reply_timeout_ms > 0)
        g->timeout = st->api->timer_start(st->self, st->reply_timeout_ms, 0, on_timeout, g);
    g->in_generate = 1;
    ez_model_call *call = g->model->generate(g->model->provider, req, on_chunk, on_done, g);
    g->in_generate = 0;
    json_decref(req);
    if (g->early) {
        json_t *res = json_incref(g->early_result);
        char *err = g->early_error ? strdup(g->early_error) : NULL;
        rt_gen_done(g, err, res);
        free(err);
        json_decref(res);
        return;
    }
    if (!call) {
        rt_gen_done(g, "the model provider refused the request", NULL);
        return;
    }
    g->call = call;
}
