/* Unit tests of the agents plugin against the SDK testkit (a fake host): the character schema,
 * the secrets scheme, the bus events, and the "agents.v1" table the runtime uses. */
#include "agents_int.h"

#include <elizad/testkit.h>
#include <stdlib.h>
#include <string.h>

extern const ez_plugin_desc ez_plugin_v1;

/* Validates JSON text; returns the message (new) or NULL, and the output in *out (new). */
static char *validate(const char *text, json_t **out) {
    json_t *in = json_loads(text, JSON_DECODE_ANY, NULL);
    char *err = ag_character_validate(in, out);
    json_decref(in);
    return err;
}

static void check_validation(ez_tk *tk) {
    json_t *out = NULL;
    char *err = validate("{\"name\":\"A\",\"bio\":\"b\",\"style\":{\"all\":[\"x\"],\"extra\":1},"
                         "\"knowledge\":[\"f.md\",{\"path\":\"p\",\"shared\":true,\"x\":1},"
                         "{\"directory\":\"d\"}],\"messageExamples\":[[{\"name\":\"u\",\"x\":1,"
                         "\"content\":{\"text\":\"t\",\"custom\":{\"k\":1}}}]]}",
                         &out);
    EZ_TK_CHECK(tk, err == NULL);
    /* nested objects strip unknown keys (zod default); message content keeps them (catchall) */
    EZ_TK_CHECK_JSON(tk, json_object_get(out, "style"), "{\"all\":[\"x\"]}");
    EZ_TK_CHECK_JSON(tk, json_object_get(out, "knowledge"),
                     "[\"f.md\",{\"path\":\"p\",\"shared\":true},{\"directory\":\"d\"}]");
    EZ_TK_CHECK_JSON(tk, json_object_get(out, "messageExamples"),
                     "[[{\"name\":\"u\",\"content\":{\"text\":\"t\",\"custom\":{\"k\":1}}}]]");
    json_decref(out);
    free(err);

    static const char *const cases[][2] = {
        {"[]", "Character validation failed: : Invalid input: expected object, received array"},
        {"{\"name\":\"A\",\"bio\":\"b\",\"knowledge\":[{\"path\":1}]}",
         "Character validation failed: knowledge.0: Invalid input"},
        {"{\"name\":\"A\",\"bio\":\"b\",\"templates\":{\"t\":3}}",
         "Character validation failed: templates.t: Invalid input"},
        {"{\"name\":\"A\",\"bio\":\"b\",\"settings\":[]}",
         "Character validation failed: settings: Invalid input: expected record, received array"},
        {"{\"name\":\"A\",\"bio\":\"b\",\"messageExamples\":[[{\"name\":\"u\",\"content\":"
         "{\"attachments\":[{\"id\":\"1\",\"url\":\"u\",\"contentType\":\"gif\"}]}}]]}",
         "Character validation failed: messageExamples.0.0.content.attachments.0.contentType: "
         "Invalid option: expected one of \"image\"|\"video\"|\"audio\"|\"document\"|\"link\""},
        {"{\"name\":\"A\",\"bio\":\"b\",\"messageExamples\":[[{\"name\":\"u\",\"content\":"
         "{\"inReplyTo\":\"x\"}}]]}",
         "Character validation failed: messageExamples.0.0.content.inReplyTo: Invalid UUID format"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err = validate(cases[i][0], &out);
        EZ_TK_CHECK_STR(tk, err, cases[i][1]);
        EZ_TK_CHECK(tk, out == NULL);
        free(err);
    }
    /* many issues are capped, the message stays bounded */
    ag_buf big = {0};
    ag_buf_puts(&big, "{\"name\":\"A\",\"bio\":\"b\",\"topics\":[");
    for (int i = 0; i < 5000; i++)
        ag_buf_puts(&big, i ? ",1" : "1");
    ag_buf_puts(&big, "]}");
    err = validate(big.p, &out);
    EZ_TK_CHECK(tk, err && strlen(err) < 4096 && strstr(err, "; ...") != NULL);
    free(err);
    ag_buf_free(&big);
}

static void check_secrets(ez_tk *tk) {
    ag_state st;
    memset(&st, 0, sizeof st);
    ag_secrets_init_key(&st, "secretsalt");
    json_t *c = json_loads("{\"settings\":{\"secrets\":{\"A\":\"plain\",\"N\":5,\"B\":true}},"
                           "\"secrets\":{\"R\":\"root\"}}",
                           0, NULL);
    ag_secrets_encrypt_character(&st, c);
    const char *a = json_string_value(ez_tk_json_at(c, "settings.secrets.A"));
    EZ_TK_CHECK(tk, a && ag_secret_is_encrypted(a) && strlen(a) == 33 + 32);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(c, "settings.secrets.N"), "5");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(c, "settings.secrets.B"), "true");
    char *first = strdup(a);
    ag_secrets_encrypt_character(&st, c); /* already encrypted: untouched */
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(c, "settings.secrets.A")), first);
    free(first);
    ag_secrets_decrypt_character(&st, c);
    EZ_TK_CHECK_JSON(tk, c,
                     "{\"settings\":{\"secrets\":{\"A\":\"plain\",\"N\":5,\"B\":true}},"
                     "\"secrets\":{\"R\":\"root\"}}");
    /* a value from the real server (key "secretsalt") decrypts; a foreign one stays as is */
    json_t *o =
        json_loads("{\"x\":\"deadbeefdeadbeefdeadbeefdeadbeef:00\",\"y\":\"a:b\"}", 0, NULL);
    ag_secrets_decrypt_obj(&st, o);
    EZ_TK_CHECK_JSON(tk, o, "{\"x\":\"deadbeefdeadbeefdeadbeefdeadbeef:00\",\"y\":\"a:b\"}");
    EZ_TK_CHECK(tk, !ag_secret_is_encrypted("a:b"));
    json_decref(o);
    json_decref(c);
    free(st.secret_salt);
}

static const ez_agents_v1 *table(ez_tk *tk) {
    return ez_tk_api(tk)->import_api(ez_tk_plugin(tk, "agents"), EZ_AGENTS_V1);
}

static void check_lifecycle_and_table(ez_tk *tk) {
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"secret_salt\":\"unit\"}"), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_start(tk), EZ_OK);
    ez_tk_reply *r = ez_tk_send(tk, "POST", "/api/agents",
                                "{\"characterJson\":{\"name\":\"Unit\",\"bio\":\"b\",\"settings\":"
                                "{\"secrets\":{\"K\":\"v\"}}}}");
    EZ_TK_CHECK_STATUS(tk, r, 201);
    char id[37];
    snprintf(id, sizeof id, "%s", json_string_value(ez_tk_json_at(r->json, "data.id")));
    char path[128];

    snprintf(path, sizeof path, "/api/agents/%s/start", id);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", path, NULL), 200);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "POST", path, NULL), 200); /* harmless, no event */
    snprintf(path, sizeof path, "/api/agents/%s", id);
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "PATCH", path, "{\"system\":\"s\"}"), 200);
    const json_t *bus = ez_tk_bus_log(tk);
    EZ_TK_CHECK_INT(tk, ez_tk_count(bus, "topic", "agents.agent.created"), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_count(bus, "topic", "agents.agent.started"), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_count(bus, "topic", "agents.agent.updated"), 1);
    EZ_TK_CHECK_STR(tk,
                    json_string_value(ez_tk_json_at(
                        ez_tk_last(bus, "topic", "agents.agent.started"), "msg.agentId")),
                    id);
    EZ_TK_CHECK_STR(tk,
                    json_string_value(ez_tk_json_at(
                        ez_tk_last(bus, "topic", "agents.agent.started"), "msg.name")),
                    "Unit");

    const ez_agents_v1 *t = table(tk);
    EZ_TK_CHECK(tk, t != NULL && t->size == sizeof *t);
    if (!t)
        return;
    /* get_shared: one snapshot until the agent changes, then a new one; a holder's stays */
    json_t *snap = t->get_shared(t->self, id), *again = t->get_shared(t->self, id);
    EZ_TK_CHECK(tk, snap != NULL && snap == again);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(snap, "settings.secrets"), "{\"K\":\"v\"}");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(snap, "system"), "\"s\"");
    EZ_TK_CHECK_STATUS(tk, ez_tk_send(tk, "PATCH", path, "{\"system\":\"changed\"}"), 200);
    json_t *fresh = t->get_shared(t->self, id);
    EZ_TK_CHECK(tk, fresh != NULL && fresh != snap);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(fresh, "system"), "\"changed\"");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(snap, "system"), "\"s\"");
    json_decref(again);
    json_decref(snap);
    json_decref(fresh);
    EZ_TK_CHECK(tk, t->get_shared(t->self, "00000000-0000-4000-8000-000000000000") == NULL);

    json_t *agent = t->get(t->self, id);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(agent, "settings.secrets"), "{\"K\":\"v\"}");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(agent, "status"), "\"active\"");
    json_decref(agent);
    EZ_TK_CHECK(tk, t->get(t->self, "00000000-0000-0000-0000-000000000001") == NULL);
    EZ_TK_CHECK_INT(tk, t->is_active(t->self, id), 1);

    /* memories */
    const char *room = "10000000-0000-4000-8000-000000000001";
    json_t *m = json_pack("{ss ss s{ss}}", "roomId", room, "id",
                          "20000000-0000-4000-8000-000000000001", "content", "text", "hello");
    char mid[37] = "";
    EZ_TK_CHECK_INT(tk, t->memory_add(t->self, id, m, mid), EZ_OK);
    EZ_TK_CHECK_STR(tk, mid, "20000000-0000-4000-8000-000000000001");
    EZ_TK_CHECK_INT(tk, t->memory_add(t->self, id, m, NULL), EZ_EEXIST);
    EZ_TK_CHECK_INT(tk, t->memory_add(t->self, "00000000-0000-0000-0000-000000000001", m, NULL),
                    EZ_ENOENT);
    json_decref(m);
    m = json_pack("{ss ss}", "roomId", "not-a-uuid", "content", "text");
    EZ_TK_CHECK_INT(tk, t->memory_add(t->self, id, m, NULL), EZ_EINVAL);
    json_decref(m);
    json_t *recent = t->memories_recent(t->self, id, room, NULL, 10);
    EZ_TK_CHECK_INT(tk, json_array_size(recent), 1);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(recent, "[0].content"), "{\"text\":\"hello\"}");
    EZ_TK_CHECK_STR(tk, json_string_value(ez_tk_json_at(recent, "[0].entityId")), id);
    json_decref(recent);

    /* rooms / worlds */
    json_t *room_spec = json_pack("{ss ss ss ss}", "id", room, "name", "R", "type", "DM", "worldId",
                                  "30000000-0000-4000-8000-000000000001");
    EZ_TK_CHECK_INT(tk, t->room_ensure(t->self, id, room_spec), EZ_OK);
    EZ_TK_CHECK_INT(tk, t->room_ensure(t->self, id, room_spec), EZ_OK); /* left as is */
    json_decref(room_spec);
    json_t *world = json_pack("{ss ss}", "id", "30000000-0000-4000-8000-000000000001", "name", "W");
    EZ_TK_CHECK_INT(tk, t->world_ensure(t->self, id, world), EZ_OK);
    json_decref(world);
    snprintf(path, sizeof path, "/api/memory/%s/rooms/%s", id, room);
    r = ez_tk_get(tk, path);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.worldName"), "\"W\"");

    /* runs: counters follow the events, bad input is refused */
    char run[37];
    json_t *info = json_pack("{ss ss}", "roomId", room, "source", "unit");
    EZ_TK_CHECK_INT(tk, t->run_open(t->self, id, info, run), EZ_OK);
    json_decref(info);
    json_t *d = json_pack("{ss}", "modelType", "TEXT_SMALL");
    EZ_TK_CHECK_INT(tk, t->run_event(t->self, id, run, "MODEL_USED", d), EZ_OK);
    EZ_TK_CHECK_INT(tk, t->run_event(t->self, id, run, "NOT_A_TYPE", d), EZ_EINVAL);
    EZ_TK_CHECK_INT(
        tk, t->run_event(t->self, id, "40000000-0000-4000-8000-000000000001", "MODEL_USED", d),
        EZ_ENOENT);
    json_decref(d);
    json_t *log = json_pack("{ss s{ssss}}", "type", "useModel:TEXT_LARGE", "body", "runId", run,
                            "provider", "p");
    EZ_TK_CHECK_INT(tk, t->log_add(t->self, id, log), EZ_OK); /* counts as MODEL_USED */
    json_decref(log);
    EZ_TK_CHECK_INT(tk, t->run_close(t->self, id, run, "finished", NULL), EZ_EINVAL);
    EZ_TK_CHECK_INT(tk, t->run_close(t->self, id, run, "completed", NULL), EZ_OK);
    snprintf(path, sizeof path, "/api/agents/%s/runs/%s", id, run);
    r = ez_tk_get(tk, path);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.summary.counts"),
                     "{\"actions\":0,\"modelCalls\":2,\"errors\":0,\"evaluators\":0}");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.events[2].data.modelType"), "\"TEXT_LARGE\"");

    /* panels */
    EZ_TK_CHECK_INT(tk, t->panel_add(t->self, NULL, "", "/x"), EZ_EINVAL);
    EZ_TK_CHECK_INT(tk, t->panel_add(t->self, "bad", "P", "/x"), EZ_EINVAL);
    EZ_TK_CHECK_INT(tk, t->panel_add(t->self, id, "P", "/x/:agentId"), EZ_OK);
    snprintf(path, sizeof path, "/api/agents/%s/panels", id);
    r = ez_tk_get(tk, path);
    char want[160];
    snprintf(want, sizeof want, "[{\"name\":\"P\",\"path\":\"/x/%s\"}]", id);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data"), want);

    /* stop, delete: events in order, everything the agent owned is gone */
    snprintf(path, sizeof path, "/api/agents/%s", id);
    EZ_TK_CHECK(tk, ez_tk_send(tk, "DELETE", path, NULL)->status == 204);
    EZ_TK_CHECK_INT(tk, ez_tk_count(bus, "topic", "agents.agent.stopped"), 1);
    EZ_TK_CHECK_INT(tk, ez_tk_count(bus, "topic", "agents.agent.deleted"), 1);
    const json_t *left = ez_tk_query(
        tk, "agents",
        "SELECT (SELECT COUNT(*) FROM @memories) + (SELECT COUNT(*) FROM @rooms) + (SELECT "
        "COUNT(*) FROM @worlds) + (SELECT COUNT(*) FROM @runs) + (SELECT COUNT(*) FROM @logs) AS n",
        NULL);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(left, "[0].n"), "0");
    EZ_TK_CHECK_INT(tk, t->is_active(t->self, id), 0);
    json_t *active = t->list_active(t->self);
    EZ_TK_CHECK_INT(tk, json_array_size(active), 0);
    json_decref(active);
}

int main(void) {
    ez_tk *tk = ez_tk_new();
    if (!tk)
        return 1;
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"characters_dir\":7}"), EZ_EINVAL);
    check_validation(tk);
    check_secrets(tk);
    check_lifecycle_and_table(tk);
    return ez_tk_finish(tk);
}
