/* hello: the route handler and the bus subscriber. */
#include "hello_int.h"

#include <string.h>

int hello_get(ez_req *req, void *ud) {
    hello_state *st = ud;
    const ez_host_api *api = st->api;
    const char *name = api->query(req, "name"); /* borrowed until we respond */
    if (!name || !*name)
        name = "world";
    if (strlen(name) > HELLO_NAME_MAX)
        return api->respond_error(req, 400, EZ_ERR_STANDARD, "INVALID_NAME",
                                  "name must be at most 64 bytes", NULL),
               EZ_DONE;
    json_t *data =
        json_pack("{s:s+++,s:s,s:I}", "message", st->greeting, ", ", name, "!", "greeting",
                  st->greeting, "messagesSeen", (json_int_t)st->messages_seen);
    if (!data)
        return api->respond_error(req, 500, EZ_ERR_STANDARD, "INTERNAL_ERROR", "out of memory",
                                  NULL),
               EZ_DONE;
    /* Tell whoever listens; the message is ours until publish_new steals it. */
    api->publish_new(st->self, "hello.greeted", json_pack("{s:s}", "name", name));
    api->respond_json_new(req, 200, json_pack("{s:b,s:o}", "success", 1, "data", data));
    return EZ_DONE;
}

void hello_on_message(const char *topic, const json_t *msg, void *ud) {
    hello_state *st = ud;
    (void)topic;
    /* msg is borrowed and shared with every other subscriber: read it, never change it */
    if (json_is_object(json_object_get(msg, "message")))
        st->messages_seen++;
}
