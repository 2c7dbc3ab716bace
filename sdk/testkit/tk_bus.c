/* testkit: the bus and the loop queue. Publishes are captured, then delivered in publish order to
 * subscriptions in subscription order when the test runs the loop, as the kernel does on its loop
 * thread. Worker completions share the same queue, so their order against bus messages holds. */
#include "tk_int.h"

#include <stdlib.h>
#include <string.h>

int tk_queue_push(ez_tk *tk, tk_item *it) {
    pthread_mutex_lock(&tk->mu);
    if (tk->qtail)
        tk->qtail->next = it;
    else
        tk->qhead = it;
    tk->qtail = it;
    pthread_mutex_unlock(&tk->mu);
    return EZ_OK;
}

static tk_item *queue_pop(ez_tk *tk) {
    pthread_mutex_lock(&tk->mu);
    tk_item *it = tk->qhead;
    if (it) {
        tk->qhead = it->next;
        if (!tk->qhead)
            tk->qtail = NULL;
    }
    pthread_mutex_unlock(&tk->mu);
    return it;
}

static void item_free(tk_item *it) {
    free(it->topic);
    json_decref(it->msg);
    free(it);
}

void tk_queue_free(ez_tk *tk) {
    tk_item *it;
    while ((it = queue_pop(tk)))
        item_free(it);
}

/* Calls every live subscription matching topic; registrations made meanwhile are not visited. */
int tk_deliver_now(ez_tk *tk, const char *topic, const json_t *msg) {
    int is_log = strcmp(topic, "kernel.log") == 0;
    int called = 0;
    if (is_log) {
        pthread_mutex_lock(&tk->mu);
        tk->delivering_log++;
        pthread_mutex_unlock(&tk->mu);
    }
    size_t n = tk->nregs;
    for (size_t i = 0; i < n && i < tk->nregs; i++) {
        tk_reg *r = tk->regs[i];
        if (r->kind != TK_SUB || r->dead || !r->owner || r->owner->phase == TK_DONE)
            continue;
        if (!tk_glob_match(r->glob, topic))
            continue;
        r->bus_fn(topic, msg, r->ud);
        called++;
    }
    if (is_log) {
        pthread_mutex_lock(&tk->mu);
        tk->delivering_log--;
        pthread_mutex_unlock(&tk->mu);
    }
    return called;
}

static int api_publish(ez_plugin *self, const char *topic, json_t *msg_new) {
    if (!self || !topic || !*topic || strlen(topic) >= 256 || !msg_new) {
        json_decref(msg_new);
        return EZ_EINVAL;
    }
    ez_tk *tk = self->tk;
    json_t *entry =
        json_pack("{s:s,s:s,s:O}", "plugin", self->name, "topic", topic, "msg", msg_new);
    pthread_mutex_lock(&tk->mu);
    if (entry)
        json_array_append_new(tk->bus_log, entry);
    pthread_mutex_unlock(&tk->mu);
    tk_item *it = tk_xcalloc(1, sizeof *it);
    it->kind = TK_ITEM_BUS;
    it->topic = tk_xstrdup(topic);
    it->msg = msg_new;
    return tk_queue_push(tk, it);
}

int ez_tk_run(ez_tk *tk) {
    if (!tk)
        return 0;
    int ran = 0;
    tk_item *it;
    while ((it = queue_pop(tk))) {
        if (it->kind == TK_ITEM_BUS) {
            ran += tk_deliver_now(tk, it->topic, it->msg);
        } else if (it->done && it->owner && it->owner->phase != TK_DONE) {
            it->done(it->ud);
            ran++;
        }
        item_free(it);
    }
    return ran;
}

int ez_tk_deliver(ez_tk *tk, const char *topic, const json_t *msg) {
    if (!tk || !topic || !msg)
        return 0;
    ez_tk_run(tk); /* what was queued before goes first, as on the real bus */
    int n = tk_deliver_now(tk, topic, msg);
    ez_tk_run(tk);
    return n;
}

int ez_tk_deliver_text(ez_tk *tk, const char *topic, const char *json_text) {
    json_t *m = json_text ? json_loads(json_text, JSON_DECODE_ANY, NULL) : NULL;
    if (!m)
        return -1;
    int n = ez_tk_deliver(tk, topic, m);
    json_decref(m);
    return n;
}

void tk_bus_fill(ez_tk *tk) {
    tk->api.publish_new = api_publish;
}
