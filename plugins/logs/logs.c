/* logs: live log streaming over Socket.IO (COMPAT §14.3/14.4). A socket sends subscribe_logs,
 * optionally update_log_filters {agentName, level}, and receives log_stream (and the seed's
 * logEntry) for every kernel log line that passes its filters, until unsubscribe_logs or
 * disconnect. The lines come from the kernel's "kernel.log" bus topic, which is never published
 * while it is being delivered, so streaming cannot feed itself. */
#include <elizad/host.h>
#include <elizad/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NSP "/"
#define SID_MAX 64
#define AGENT_NAME_MAX 128
#define LEVEL_NOTHING 70 /* an unknown level name lets nothing through, as in the official server  \
                          */

typedef struct subscriber {
    char sid[SID_MAX];
    char agent_name[AGENT_NAME_MAX]; /* "" = all */
    int level;                       /* 0 = all */
    struct subscriber *next;
} subscriber;

typedef struct logs_state {
    ez_plugin *self;
    const ez_host_api *api;
    subscriber *subs;
    int count, max;
} logs_state;

static const ez_config_field logs_config[] = {
    {EZ_CFG_INT, "max_subscribers", "1000", 0, 0,
     "sockets that may stream logs at once; more are told they are not subscribed"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static subscriber **find(logs_state *st, const char *sid) {
    subscriber **pp = &st->subs;
    while (*pp && strcmp((*pp)->sid, sid) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void drop(logs_state *st, const char *sid) {
    subscriber **pp = find(st, sid);
    if (*pp) {
        subscriber *s = *pp;
        *pp = s->next;
        free(s);
        st->count--;
    }
}

static void emit(logs_state *st, const char *sid, const char *event, json_t *payload_new) {
    st->api->sock->emit_new(st->self, NSP, sid, NULL, event, payload_new);
}

static void confirm(logs_state *st, const char *sid, int subscribed, const char *message) {
    emit(st, sid, "log_subscription_confirmed",
         json_pack("{s:b,s:s}", "subscribed", subscribed, "message", message));
}

static void on_subscribe(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                         void *ud) {
    (void)event;
    (void)args;
    logs_state *st = ud;
    const char *sid = st->api->sock->sid(s);
    if (ack)
        st->api->sock->ack_new(ack, NULL);
    if (strlen(sid) >= SID_MAX)
        return;
    if (!*find(st, sid)) {
        subscriber *n = st->count < st->max ? calloc(1, sizeof *n) : NULL;
        if (!n) {
            confirm(st, sid, 0, "Too many log stream subscribers");
            return;
        }
        snprintf(n->sid, sizeof n->sid, "%s", sid);
        n->next = st->subs;
        st->subs = n;
        st->count++;
    }
    confirm(st, sid, 1, "Successfully subscribed to log stream");
}

static void on_unsubscribe(ez_socket *s, const char *event, const json_t *args, ez_ack *ack,
                           void *ud) {
    (void)event;
    (void)args;
    logs_state *st = ud;
    const char *sid = st->api->sock->sid(s);
    if (ack)
        st->api->sock->ack_new(ack, NULL);
    drop(st, sid);
    confirm(st, sid, 0, "Successfully unsubscribed from log stream");
}

/* pino's numbers (COMPAT §12); "all" = 0. */
static int level_of(const json_t *v) {
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    if (json_is_real(v))
        return (int)json_real_value(v);
    const char *s = json_string_value(v);
    static const struct {
        const char *name;
        int level;
    } names[] = {{"all", 0},   {"trace", 10}, {"debug", 20}, {"info", 30},
                 {"warn", 40}, {"error", 50}, {"fatal", 60}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].level;
    return LEVEL_NOTHING;
}

static json_t *filters_json(const subscriber *n) {
    json_t *f = json_object();
    json_object_set_new(f, "agentName", json_string(n->agent_name[0] ? n->agent_name : "all"));
    json_object_set_new(f, "level", json_integer(n->level));
    return f;
}

static void on_filters(ez_socket *s, const char *event, const json_t *args, ez_ack *ack, void *ud) {
    (void)event;
    logs_state *st = ud;
    const char *sid = st->api->sock->sid(s);
    if (ack)
        st->api->sock->ack_new(ack, NULL);
    subscriber *n = *find(st, sid);
    if (!n) {
        emit(st, sid, "log_filters_updated",
             json_pack("{s:b,s:s}", "success", 0, "error", "Not subscribed to log stream"));
        return;
    }
    const json_t *f = json_array_get(args, 0);
    const json_t *agent = json_object_get(f, "agentName"), *level = json_object_get(f, "level");
    if (json_is_string(agent)) { /* merged: absent keys keep their value */
        const char *a = json_string_value(agent);
        snprintf(n->agent_name, sizeof n->agent_name, "%s", strcmp(a, "all") == 0 ? "" : a);
    }
    if (level && !json_is_null(level))
        n->level = level_of(level);
    emit(st, sid, "log_filters_updated",
         json_pack("{s:b,s:o}", "success", 1, "filters", filters_json(n)));
}

static int passes(const subscriber *n, const json_t *entry) {
    const json_t *lv = json_object_get(entry, "level");
    if (n->level > 0 && (!json_is_integer(lv) || json_integer_value(lv) < n->level))
        return 0;
    if (!n->agent_name[0])
        return 1;
    /* official entries carry agentName; elizad's name the plugin that logged */
    const char *who = json_string_value(json_object_get(entry, "agentName"));
    if (!who)
        who = json_string_value(json_object_get(entry, "plugin"));
    return who && strcmp(who, n->agent_name) == 0;
}

static void on_log(const char *topic, const json_t *entry, void *ud) {
    (void)topic;
    logs_state *st = ud;
    for (subscriber *n = st->subs; n; n = n->next) {
        if (!passes(n, entry))
            continue;
        emit(st, n->sid, "log_stream",
             json_pack("{s:s,s:O}", "type", "log_entry", "payload", (json_t *)entry));
        emit(st, n->sid, "logEntry", json_deep_copy(entry)); /* the seed's event name */
    }
}

static void on_disconnected(const char *topic, const json_t *msg, void *ud) {
    (void)topic;
    logs_state *st = ud;
    const char *sid = json_string_value(json_object_get(msg, "sid"));
    if (sid)
        drop(st, sid);
}

static void logs_destroy(void *state) {
    logs_state *st = state;
    if (!st)
        return;
    while (st->subs) {
        subscriber *n = st->subs;
        st->subs = n->next;
        free(n);
    }
    free(st);
}

static int logs_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    logs_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    const json_t *m = json_object_get(cfg, "max_subscribers");
    st->max = json_is_integer(m) ? (int)json_integer_value(m) : 1000;
    int rc = EZ_OK;
    if (st->max < 0 || st->max > 1000000) {
        EZ_LOG(api, self, EZ_ERR, "max_subscribers must be 0..1000000");
        rc = EZ_EINVAL;
    }
    if (rc == EZ_OK)
        rc = api->sock->on(self, NSP, "subscribe_logs", on_subscribe, st, NULL);
    if (rc == EZ_OK)
        rc = api->sock->on(self, NSP, "unsubscribe_logs", on_unsubscribe, st, NULL);
    if (rc == EZ_OK)
        rc = api->sock->on(self, NSP, "update_log_filters", on_filters, st, NULL);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "kernel.log", on_log, st, NULL);
    if (rc == EZ_OK)
        rc = api->subscribe(self, "socket.disconnected", on_disconnected, st, NULL);
    if (rc != EZ_OK) {
        logs_destroy(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

EZ_PLUGIN(.name = "logs", .version = "1.0.0",
          .description = "Live log streaming to Socket.IO clients (subscribe_logs)",
          .config = logs_config, .init = logs_init, .destroy = logs_destroy);
