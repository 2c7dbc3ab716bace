/* The messaging plugin: message servers, channels, DMs, messages and their socket events.
 * This file is the descriptor and the registration; the logic lives in messaging_*.c. */
#include "messaging_int.h"

#include <stdlib.h>

static const ez_config_field messaging_config[] = {
    {EZ_CFG_INT, "max_content_length", "100000", 0, 0,
     "longest message text accepted, in characters"},
    {EZ_CFG_INT, "max_page_size", "1000", 0, 0,
     "largest `limit` honoured by GET .../channels/:id/messages"},
    {EZ_CFG_INT, "reply_timeout_ms", "30000", 0, 0,
     "how long transports http/sse wait for the agent's reply"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static int64_t cfg_int(const json_t *cfg, const char *key, int64_t def, int64_t lo, int64_t hi) {
    const json_t *v = json_object_get(cfg, key);
    int64_t x = json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
    return x < lo ? lo : x > hi ? hi : x;
}

static void messaging_destroy(void *state) {
    msg_state *st = state;
    if (!st)
        return;
    msg_waiters_cancel_all(st);
    msg_cache_drop(st, NULL);
    msg_channel_cache_clear(st);
    free(st);
}

static void messaging_stop(void *state) {
    msg_waiters_cancel_all(state);
}

static int messaging_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg,
                          void **state) {
    if (!api->store || !api->store->migrate) {
        api->log(self, EZ_ERR, "the kernel offers no storage");
        return EZ_ENOTSUP;
    }
    msg_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    st->db = api->store;
    st->max_content = cfg_int(cfg, "max_content_length", 100000, 1, 10000000);
    st->max_page = cfg_int(cfg, "max_page_size", 1000, 1, 100000);
    st->reply_timeout_ms = cfg_int(cfg, "reply_timeout_ms", 30000, 100, 600000);

    int rc = msg_db_migrate(st);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "storage migration failed (%d)", rc);
        free(st);
        return rc;
    }
    if ((rc = msg_servers_register(st)) != EZ_OK || (rc = msg_channels_register(st)) != EZ_OK ||
        (rc = msg_messages_register(st)) != EZ_OK || (rc = msg_core_register(st)) != EZ_OK ||
        (rc = msg_socket_register(st)) != EZ_OK) {
        free(st);
        return rc;
    }
    static const char *const topics[] = {"socket.connected", "agents.agent.started",
                                         "agents.agent.deleted"};
    for (size_t i = 0; i < sizeof topics / sizeof *topics; i++) {
        if ((rc = api->subscribe(self, topics[i], msg_on_bus, st, NULL)) != EZ_OK) {
            api->log(self, EZ_ERR, "cannot subscribe to %s (%d)", topics[i], rc);
            free(st);
            return rc;
        }
    }
    msg_api_fill(st);
    if ((rc = api->export_api(self, EZ_MESSAGING_V1, &st->v1)) != EZ_OK) {
        api->log(self, EZ_ERR, "cannot export " EZ_MESSAGING_V1 " (%d)", rc);
        free(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

EZ_PLUGIN(.name = "messaging", .version = "1.0.0",
          .description = "message servers, channels, DMs, messages and their socket events",
          .config = messaging_config, .init = messaging_init, .stop = messaging_stop,
          .destroy = messaging_destroy);
