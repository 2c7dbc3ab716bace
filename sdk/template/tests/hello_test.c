/* hello's unit test: the plugin's sources linked with the testkit (a fake host), no server. */
#include <elizad/testkit.h>

extern const ez_plugin_desc ez_plugin_v1;

/* Returns 0 when every check passed. */
static int config_is_validated(void) {
    ez_tk *tk = ez_tk_new();
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"greting\":\"typo\"}"), EZ_EINVAL);
    EZ_TK_CHECK_STR(tk, ez_tk_error(tk),
                    "hello.greting: unknown key (see elizad --describe hello)");
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"greeting\":42}"), EZ_EINVAL);
    /* the default applies when the key is absent */
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, NULL), EZ_OK);
    EZ_TK_CHECK_JSON(tk, ez_tk_config(tk, "hello"), "{\"greeting\":\"Hello\"}");
    ez_tk_reply *r = ez_tk_get(tk, "/api/hello");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.message"), "\"Hello, world!\"");
    return ez_tk_finish(tk);
}

int main(void) {
    int failed = config_is_validated();

    ez_tk *tk = ez_tk_new();
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"greeting\":\"Bonjour\"}"), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_start(tk), EZ_OK);

    /* the route answers with the configured greeting and publishes hello.greeted */
    ez_tk_reply *r = ez_tk_get(tk, "/api/hello?name=Ada%20L");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, r->json,
                     "{\"success\":true,\"data\":{\"message\":\"Bonjour, Ada L!\","
                     "\"greeting\":\"Bonjour\",\"messagesSeen\":0}}");
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "hello.greeted"), 1);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(ez_tk_last(ez_tk_bus_log(tk), "topic", "hello.*"), "msg"),
                     "{\"name\":\"Ada L\"}");

    /* bad input: a 400 in the standard envelope, nothing published */
    r = ez_tk_get(tk, "/api/hello?name="
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "error.code"), "\"INVALID_NAME\"");
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_bus_log(tk), "topic", "hello.greeted"), 1);

    /* the subscription counts messages from the messaging plugin, and ignores other shapes */
    EZ_TK_CHECK_INT(tk,
                    ez_tk_deliver_text(tk, "messaging.message.created",
                                       "{\"message\":{\"id\":\"m1\",\"content\":\"hi\"}}"),
                    1);
    ez_tk_deliver_text(tk, "messaging.message.created", "{\"unexpected\":true}");
    ez_tk_deliver_text(tk, "messaging.channel.cleared", "{\"message\":{}}");
    r = ez_tk_get(tk, "/api/hello");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.messagesSeen"), "1");

    /* only GET exists on the path: the official server's 404, with the Allow header */
    r = ez_tk_send(tk, "POST", "/api/hello", "{}");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->headers, "Allow"), "\"GET\"");
    return ez_tk_finish(tk) | failed;
}
