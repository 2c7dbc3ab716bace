/* hello: route handlers and the bus subscriber. */
#include "hello_int.h"

#include <stdio.h>
#include <string.h>

int hello_get(ez_req *req, void *ud) {
    hello_state *st = ud;
    json_t *body = json_pack(
        "{s:s,s:O,s:O,s:O}", "hello", "world", "greeting", json_object_get(st->cfg, "greeting"),
        "tags", json_object_get(st->cfg, "tags"), "answer", json_object_get(st->cfg, "answer"));
    return st->api->respond_json_new(req, 200, body), EZ_DONE;
}

int hello_get_bus(ez_req *req, void *ud) {
    hello_state *st = ud;
    json_t *body = json_pack("{s:I,s:s,s:O?}", "count", (json_int_t)st->bus_count, "last_topic",
                             st->last_topic, "last", st->last_msg);
    return st->api->respond_json_new(req, 200, body), EZ_DONE;
}

/* Publishes {"n": i} on hello.<topic> `count` times (body {"topic":..., "count":...}). */
int hello_post_publish(ez_req *req, void *ud) {
    hello_state *st = ud;
    const json_t *b = st->api->body_json(req);
    const char *topic = json_string_value(json_object_get(b, "topic"));
    json_int_t count = json_integer_value(json_object_get(b, "count"));
    if (!topic || strlen(topic) > 64 || count < 0 || count > 100000)
        return st->api->respond_error(req, 400, EZ_ERR_STANDARD, "INVALID_INPUT",
                                      "topic (string) and count (0..100000) required", NULL),
               EZ_DONE;
    char full[96];
    snprintf(full, sizeof full, "hello.%s", topic);
    for (json_int_t i = 0; i < count; i++)
        st->api->publish_new(st->self, full, json_pack("{s:I}", "n", i));
    return st->api->respond_json_new(req, 200, json_pack("{s:I}", "published", count)), EZ_DONE;
}

void hello_on_bus(const char *topic, const json_t *msg, void *ud) {
    hello_state *st = ud;
    /* bus order is publish order: a gap here is a kernel bug the e2e test would see */
    json_int_t n = json_integer_value(json_object_get(msg, "n"));
    if (json_object_get(msg, "n") && st->last_msg && strcmp(topic, st->last_topic) == 0 &&
        n != json_integer_value(json_object_get(st->last_msg, "n")) + 1 && n != 0)
        st->api->log(st->self, EZ_ERR, "bus order broken: %lld after %lld", (long long)n,
                     (long long)json_integer_value(json_object_get(st->last_msg, "n")));
    st->bus_count++;
    snprintf(st->last_topic, sizeof st->last_topic, "%s", topic);
    json_decref(st->last_msg);
    st->last_msg = json_deep_copy(msg);
}

int hello_get_notes(ez_req *req, void *ud) {
    hello_state *st = ud;
    json_t *rows = st->api->store->query(
        st->self, "SELECT id, text, created_at FROM @notes ORDER BY id", NULL);
    if (!rows)
        return st->api->respond_error(req, 500, EZ_ERR_STANDARD, "DB_ERROR", "query failed", NULL),
               EZ_DONE;
    return st->api->respond_json_new(req, 200, json_pack("{s:o}", "notes", rows)), EZ_DONE;
}

int hello_post_notes(ez_req *req, void *ud) {
    hello_state *st = ud;
    const char *text = json_string_value(json_object_get(st->api->body_json(req), "text"));
    if (!text || !*text || strlen(text) > 1000)
        return st->api->respond_error(req, 400, EZ_ERR_STANDARD, "INVALID_INPUT",
                                      "text (1..1000 chars) required", NULL),
               EZ_DONE;
    json_t *params = json_pack("[s,I]", text, (json_int_t)st->api->now_ms());
    int64_t rc = st->api->store->exec(
        st->self, "INSERT INTO @notes (text, created_at) VALUES (?, ?)", params);
    json_decref(params);
    if (rc == EZ_ECONSTRAINT)
        return st->api->respond_error(req, 409, EZ_ERR_STANDARD, "DUPLICATE", "note exists", NULL),
               EZ_DONE;
    if (rc < 0)
        return st->api->respond_error(req, 500, EZ_ERR_STANDARD, "DB_ERROR", "insert failed", NULL),
               EZ_DONE;
    return st->api->respond_json_new(req, 201, json_pack("{s:I}", "changes", (json_int_t)rc)),
           EZ_DONE;
}
