/* Bus subscriptions: which agents answer a stored message, and what the runtime forgets when
 * messages, channels or agents go away. */
#include "runtime_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int auto_respond_type(const char *t) {
    return strcmp(t, "DM") == 0 || strcmp(t, "VOICE_DM") == 0 || strcmp(t, "SELF") == 0 ||
           strcmp(t, "API") == 0;
}

static int in_list(const json_t *arr, const char *id) {
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (s && strcasecmp(s, id) == 0)
            return 1;
    }
    return 0;
}

/* Case-insensitive whole-word search of name in text ("@Name" counts). */
static int mentions(const char *text, const char *name) {
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, name, n) != 0)
            continue;
        int before_ok = p == text || !isalnum((unsigned char)p[-1]);
        int after_ok = !isalnum((unsigned char)p[n]);
        if (before_ok && after_ok)
            return 1;
    }
    return 0;
}

static rt_respond policy_of(rt_state *st, const json_t *agent) {
    /* a character may override the server policy with settings.respond */
    const char *p = rt_str(json_object_get(agent, "settings"), "respond");
    if (p && strcmp(p, "always") == 0)
        return RT_RESPOND_ALWAYS;
    if (p && strcmp(p, "never") == 0)
        return RT_RESPOND_NEVER;
    if (p && strcmp(p, "mention") == 0)
        return RT_RESPOND_MENTION;
    return st->respond;
}

static int wants(rt_state *st, const char *agent_id, const char *text) {
    json_t *agent = rt_agent(st, agent_id);
    if (!agent)
        return 0;
    int yes = 0;
    switch (policy_of(st, agent)) {
    case RT_RESPOND_ALWAYS:
        yes = 1;
        break;
    case RT_RESPOND_NEVER:
        yes = 0;
        break;
    case RT_RESPOND_MENTION: {
        const char *name = rt_str(agent, "name");
        const char *user = rt_str(agent, "username");
        yes = (name && mentions(text, name)) || (user && *user && mentions(text, user));
        break;
    }
    }
    json_decref(agent);
    return yes;
}

static void on_created(const char *topic, const json_t *ev, void *ud) {
    (void)topic;
    rt_state *st = ud;
    if (st->stopping)
        return;
    const json_t *m = json_object_get(ev, "message");
    const char *mid = rt_str(m, "id"), *cid = rt_str(m, "channelId");
    const char *author = rt_str(m, "authorId"), *src = rt_str(m, "sourceType");
    const char *text = rt_str(m, "content");
    if (!mid || !cid || !author || !text || !st->api->uuid_valid(cid) || !st->api->uuid_valid(mid))
        return;
    if (src && (strcmp(src, "agent_response") == 0 || strcmp(src, "agent_action") == 0))
        return; /* agents never answer agents' replies: no reply loops */
    const json_t *participants = json_object_get(ev, "participants");
    int auto_yes = auto_respond_type(rt_channel_type(ev)) || rt_is_dm(ev) ||
                   (src && strstr(src, "client_chat"));
    /* the channel's participants that are started agents: a DM has two participants, while
     * listing every started agent per message grows with the server */
    json_t *answering = json_array();
    size_t i;
    const json_t *p;
    json_array_foreach(participants, i, p) {
        const char *pid = json_string_value(p);
        if (!pid || strcasecmp(pid, author) == 0 || !st->agents->is_active(st->agents->self, pid))
            continue;
        json_t *agent = rt_agent(st, pid);
        const char *agent_id = rt_str(agent, "id"); /* the agent's own spelling of its id */
        if (agent_id && !in_list(answering, agent_id))
            json_array_append_new(answering, json_string(agent_id));
        json_decref(agent);
    }
    const json_t *a;
    json_array_foreach(answering, i, a) {
        const char *agent_id = json_string_value(a);
        if (!auto_yes && !wants(st, agent_id, text))
            continue;
        rt_conv *c = rt_conv_get(st, agent_id, cid);
        if (c)
            rt_conv_submit(c, ev);
        else
            rt_post_error(st, agent_id, ev, "out of memory");
    }
    json_decref(answering);
}

static void on_message_deleted(const char *topic, const json_t *ev, void *ud) {
    (void)topic;
    rt_state *st = ud;
    const char *mid = rt_str(ev, "messageId");
    if (!mid || !st->api->uuid_valid(mid))
        return;
    json_t *active = st->agents->list_active(st->agents->self);
    size_t i;
    const json_t *a;
    json_array_foreach(active, i, a) {
        if (json_string_value(a))
            st->agents->memory_delete(st->agents->self, json_string_value(a), mid);
    }
    json_decref(active);
}

typedef struct channel_gone {
    const char *channel_id;
    int deleted;
} channel_gone;

static void abort_channel(rt_conv *c, void *ud) {
    const channel_gone *g = ud;
    if (strcmp(c->channel_id, g->channel_id) != 0)
        return;
    c->room_ready = 0;
    if (g->deleted)
        rt_conv_abort(c, "the channel was deleted", 0);
}

static void on_channel_gone(const char *topic, const json_t *ev, void *ud) {
    rt_state *st = ud;
    const char *cid = rt_str(ev, "channelId");
    if (!cid || !st->api->uuid_valid(cid))
        return;
    channel_gone g = {cid, strcmp(topic, "messaging.channel.deleted") == 0};
    rt_conv_each(st, abort_channel, &g);
    json_t *active = st->agents->list_active(st->agents->self);
    size_t i;
    const json_t *a;
    json_array_foreach(active, i, a) {
        const char *agent_id = json_string_value(a);
        if (!agent_id)
            continue;
        char room[RT_ID];
        rt_unique_uuid(st, agent_id, cid, room);
        st->agents->room_memories_clear(st->agents->self, agent_id, room);
    }
    json_decref(active);
}

typedef struct agent_gone {
    const char *agent_id;
    int deleted;
} agent_gone;

static void abort_agent(rt_conv *c, void *ud) {
    const agent_gone *g = ud;
    if (strcmp(c->agent_id, g->agent_id) != 0)
        return;
    c->room_ready = 0;
    if (g->deleted)
        rt_conv_abort(c, "the agent was deleted", 0);
    else
        rt_conv_abort(c, "the agent was stopped", 1);
}

static void on_agent_gone(const char *topic, const json_t *ev, void *ud) {
    rt_state *st = ud;
    const char *aid = rt_str(ev, "agentId");
    if (!aid)
        return;
    agent_gone g = {aid, strcmp(topic, "agents.agent.deleted") == 0};
    rt_conv_each(st, abort_agent, &g);
}

static void on_kernel_stopping(const char *topic, const json_t *ev, void *ud) {
    (void)topic;
    (void)ev;
    rt_state *st = ud;
    st->stopping = 1; /* providers stop before us: their failures are not the user's news */
}

int rt_dispatch_register(rt_state *st) {
    static const struct {
        const char *topic;
        ez_bus_fn fn;
    } subs[] = {
        {"messaging.message.created", on_created},
        {"messaging.message.deleted", on_message_deleted},
        {"messaging.channel.cleared", on_channel_gone},
        {"messaging.channel.deleted", on_channel_gone},
        {"agents.agent.stopped", on_agent_gone},
        {"agents.agent.deleted", on_agent_gone},
        {"kernel.stopping", on_kernel_stopping},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        int rc = st->api->subscribe(st->self, subs[i].topic, subs[i].fn, st, NULL);
        if (rc != EZ_OK) {
            EZ_LOG(st->api, st->self, EZ_ERR, "cannot subscribe to %s (%d)", subs[i].topic, rc);
            return rc;
        }
    }
    return EZ_OK;
}
