/* Building a call: server, key and model from the character (secrets first) or the config, the
 * chat-completions body, and the libcurl easy handle; then the first attempt. */
#include "openai_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A character setting: settings.secrets.KEY, then settings.KEY (strings only). */
static const char *setting(const json_t *settings, const char *key) {
    const char *v = json_string_value(json_object_get(json_object_get(settings, "secrets"), key));
    if (!v || !*v)
        v = json_string_value(json_object_get(settings, key));
    return v && *v ? v : NULL;
}

static json_t *request_body(oa_state *st, const json_t *req, const char *model, int stream) {
    json_t *msgs = json_array();
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(req, "messages"), i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        const char *content = json_string_value(json_object_get(m, "content"));
        if (!role || !content)
            continue;
        json_t *o = json_pack("{s:s, s:s}", "role", role, "content", content);
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name && *name)
            json_object_set_new(o, "name", json_string(name));
        json_array_append_new(msgs, o);
    }
    json_t *body = json_pack("{s:s, s:o, s:b}", "model", model, "messages", msgs, "stream", stream);
    if (stream && st->stream_usage)
        json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
    const json_t *mt = json_object_get(req, "maxTokens");
    if (json_is_integer(mt) && json_integer_value(mt) > 0)
        json_object_set(body, "max_tokens", (json_t *)mt);
    const json_t *temp = json_object_get(req, "temperature");
    if (json_is_number(temp))
        json_object_set(body, "temperature", (json_t *)temp);
    return body;
}

static char *join_url(const char *base) {
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    const char *tail = "/chat/completions";
    char *url = malloc(n + strlen(tail) + 1);
    if (url) {
        memcpy(url, base, n);
        strcpy(url + n, tail);
    }
    return url;
}

static int valid_base(const char *b) {
    return strncmp(b, "http://", 7) == 0 || strncmp(b, "https://", 8) == 0;
}

static int setup_easy(oa_call *c, const char *key) {
    oa_state *st = c->st;
    c->easy = curl_easy_init();
    if (!c->easy)
        return -1;
    char auth[1024];
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, c->stream ? "Accept: text/event-stream"
                                                         : "Accept: application/json");
    if (key && *key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        c->headers = curl_slist_append(c->headers, auth);
    }
    c->headers = curl_slist_append(c->headers, "Expect:");
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, oa_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, oa_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, st->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, st->timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "elizad-model-openai/1.0");
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return c->headers ? 0 : -1;
}

ez_model_call *oa_generate(void *provider, const json_t *req, ez_model_chunk_fn on_chunk,
                           ez_model_done_fn on_done, void *ud) {
    oa_state *st = provider;
    if (!json_is_object(req) || !on_done || !st->multi)
        return NULL;
    const json_t *settings = json_object_get(req, "settings");
    const char *base = setting(settings, "OPENAI_BASE_URL");
    if (!base)
        base = st->base_url;
    const char *key = setting(settings, "OPENAI_API_KEY");
    if (!key)
        key = st->api_key;
    const char *model = setting(settings, "model");
    if (!model)
        model = setting(settings, "OPENAI_MODEL");
    if (!model)
        model = setting(settings, "OPENAI_LARGE_MODEL");
    if (!model)
        model = st->model;

    oa_call *c = calloc(1, sizeof(oa_call));
    if (!c)
        return NULL;
    c->st = st;
    c->on_chunk = on_chunk;
    c->on_done = on_done;
    c->ud = ud;
    c->retry_after_ms = -1;
    c->stream = !json_is_false(json_object_get(req, "stream"));
    c->model = strdup(model);
    c->url = join_url(base);
    json_t *body = request_body(st, req, model, c->stream);
    c->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!c->model || !c->url || !c->body || setup_easy(c, key) != 0) {
        oa_call_free(c);
        return NULL;
    }
    oa_call_link(st, c);
    /* Configuration errors are answers too, but never from inside generate(). */
    if (!valid_base(base))
        c->early_error = strdup("the model server URL must start with http:// or https:// "
                                "(OPENAI_BASE_URL / base_url)");
    else if ((!key || !*key) && strstr(base, "api.openai.com"))
        c->early_error = strdup("no API key: set OPENAI_API_KEY in the character's secrets or "
                                "api_key in the model_openai config");
    if (c->early_error || st->in_curl) {
        c->start_timer = st->api->timer_start(st->self, 0, 0, oa_call_on_start, c);
        if (!c->start_timer) {
            oa_call_unlink(st, c);
            oa_call_free(c);
            return NULL;
        }
        return c;
    }
    oa_call_reset(c);
    c->attempt = 1;
    if (oa_multi_add(st, c->easy) != EZ_OK) {
        oa_call_unlink(st, c);
        oa_call_free(c);
        return NULL;
    }
    c->in_multi = 1;
    return c;
}
