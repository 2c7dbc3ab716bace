/* Reading an answer: status and headers, the SSE stream (chunks, usage, [DONE], in-stream
 * errors) or a whole JSON body, and the verdict when the transfer ends — success, a retry, or an
 * error sentence naming the cause (401 key, 404 model, 429/5xx, dropped stream, timeout). */
#include "openai_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OA_BODY_MAX (8u * 1024u * 1024u)
#define OA_ERRBODY_MAX (64u * 1024u)
#define OA_TEXT_MAX (1024u * 1024u)

static void set_usage(oa_call *c, const json_t *u) {
    if (!json_is_object(u))
        return;
    json_int_t p = json_integer_value(json_object_get(u, "prompt_tokens"));
    json_int_t k = json_integer_value(json_object_get(u, "completion_tokens"));
    json_int_t t = json_integer_value(json_object_get(u, "total_tokens"));
    json_decref(c->usage);
    c->usage = json_pack("{s:I, s:I, s:I}", "promptTokens", p, "completionTokens", k, "totalTokens",
                         t ? t : p + k);
}

static void emit_text(oa_call *c, const char *s, size_t n) {
    if (n == 0 || c->cancel_pending || c->cancelled)
        return;
    oa_buf_add(&c->text, s, n, OA_TEXT_MAX);
    if (c->on_chunk && c->stream) {
        char *chunk = strndup(s, n);
        if (chunk) {
            c->chunks++;
            c->on_chunk(chunk, c->ud);
            free(chunk);
        }
    }
}

/* "error": {"message": ...} or "error": "..." */
static const char *error_message(const json_t *root) {
    const json_t *e = json_object_get(root, "error");
    if (json_is_string(e))
        return json_string_value(e);
    const char *m = json_string_value(json_object_get(e, "message"));
    if (!m)
        m = json_string_value(json_object_get(root, "message"));
    if (!m)
        m = json_string_value(json_object_get(root, "detail"));
    return m;
}

static void on_event(const char *data, size_t len, void *ud) {
    oa_call *c = ud;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        c->saw_done = 1;
        return;
    }
    json_t *root = json_loadb(data, len, 0, NULL);
    if (!root)
        return; /* a keep-alive or a foreign event: not ours to judge */
    if (json_object_get(root, "error")) {
        const char *m = error_message(root);
        free(c->stream_error);
        c->stream_error = strdup(m ? m : "the model server reported an error");
    }
    const json_t *ch = json_array_get(json_object_get(root, "choices"), 0);
    const json_t *delta = json_object_get(ch, "delta");
    const json_t *content = json_object_get(delta, "content");
    if (json_is_string(content))
        emit_text(c, json_string_value(content), json_string_length(content));
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    if (fr)
        snprintf(c->finish_reason, sizeof c->finish_reason, "%s", fr);
    set_usage(c, json_object_get(root, "usage"));
    json_decref(root);
}

size_t oa_on_header(char *buf, size_t size, size_t n, void *ud) {
    oa_call *c = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (redirect, 100) */
        const char *sp = memchr(buf, ' ', len);
        c->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        c->is_sse = 0;
        c->retry_after_ms = -1;
        return len;
    }
    if (len > 13 && strncasecmp(buf, "content-type:", 13) == 0) {
        char v[128];
        size_t k = len - 13 < sizeof v - 1 ? len - 13 : sizeof v - 1;
        memcpy(v, buf + 13, k);
        v[k] = 0;
        for (char *p = v; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        c->is_sse = strstr(v, "text/event-stream") != NULL;
    } else if (len > 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        char v[64];
        size_t k = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
        memcpy(v, buf + 12, k);
        v[k] = 0;
        char *end;
        double secs = strtod(v, &end);
        if (end != v && secs >= 0) /* delta-seconds; an HTTP date falls back to backoff */
            c->retry_after_ms = (int64_t)(secs * 1000.0);
    }
    return len;
}

size_t oa_on_body(char *buf, size_t size, size_t n, void *ud) {
    oa_call *c = ud;
    size_t len = size * n;
    if (c->cancel_pending || c->cancelled)
        return 0; /* aborts the transfer */
    if (c->status != 200) {
        oa_buf_add(&c->raw, buf, len, OA_ERRBODY_MAX);
        return len;
    }
    if (c->is_sse) {
        if (oa_sse_feed(&c->sse, buf, len, on_event, c) != 0)
            return 0;
        return c->cancel_pending ? 0 : len;
    }
    oa_buf_add(&c->raw, buf, len, OA_BODY_MAX);
    return c->raw.truncated ? 0 : len;
}

static void finish_ok_json(oa_call *c) {
    json_t *root = c->raw.p ? json_loadb(c->raw.p, c->raw.len, 0, NULL) : NULL;
    const json_t *msg =
        json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    const json_t *content = json_object_get(msg, "content");
    if (!json_is_string(content)) {
        const char *m = error_message(root);
        char why[300];
        snprintf(why, sizeof why, "unexpected answer from the model server%s%.200s", m ? ": " : "",
                 m ? m : "");
        json_decref(root);
        oa_call_end(c, why, "bad_response", c->status);
        return;
    }
    set_usage(c, json_object_get(root, "usage"));
    /* The whole answer is one chunk: the caller still sees it stream in. */
    emit_text(c, json_string_value(content), json_string_length(content));
    json_decref(root);
    oa_call_end(c, NULL, NULL, 0);
}

static void finish_ok_sse(oa_call *c) {
    oa_sse_finish(&c->sse, on_event, c);
    if (c->stream_error) {
        char why[400];
        snprintf(why, sizeof why, "the model server reported an error: %.300s", c->stream_error);
        oa_call_end(c, why, "stream_error", c->status);
    } else if (c->sse.overflow) {
        oa_call_end(c, "the model server sent an oversized event", "bad_response", c->status);
    } else if (!c->saw_done && !c->finish_reason[0]) {
        oa_call_end(c, "the model server closed the stream before it finished", "incomplete",
                    c->status);
    } else {
        oa_call_end(c, NULL, NULL, 0);
    }
}

static void finish_http_error(oa_call *c) {
    json_t *root = c->raw.p ? json_loadb(c->raw.p, c->raw.len, 0, NULL) : NULL;
    const char *m = error_message(root);
    char detail[300];
    snprintf(detail, sizeof detail, "%.250s", m ? m : (c->raw.p ? c->raw.p : ""));
    for (char *p = detail; *p; p++) /* keep the message one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    char why[512];
    long s = c->status;
    const char *code = "http_error";
    if (s == 401 || s == 403) {
        snprintf(why, sizeof why, "invalid API key (HTTP %ld%s%s)", s, detail[0] ? ": " : "",
                 detail);
        code = "unauthorized";
    } else if (s == 404) {
        snprintf(why, sizeof why, "model \"%s\" not found (HTTP 404%s%s)", c->model,
                 detail[0] ? ": " : "", detail);
        code = "model_not_found";
    } else if (s == 429) {
        snprintf(why, sizeof why, "rate limited by the model server (HTTP 429%s%s)",
                 detail[0] ? ": " : "", detail);
        code = "rate_limited";
    } else if (s >= 500) {
        snprintf(why, sizeof why, "model server error (HTTP %ld%s%s)", s, detail[0] ? ": " : "",
                 detail);
        code = "server_error";
    } else {
        snprintf(why, sizeof why, "the model server refused the request (HTTP %ld%s%s)", s,
                 detail[0] ? ": " : "", detail);
    }
    json_decref(root);
    oa_call_end(c, why, code, s);
}

static int transient(CURLcode rc) {
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

void oa_call_transfer_done(oa_call *c, CURLcode rc) {
    oa_state *st = c->st;
    oa_multi_remove(st, c->easy);
    c->in_multi = 0;
    if (c->cancelled || c->cancel_pending) {
        oa_call_end(c, "cancelled", "cancelled", 0);
        return;
    }
    if (rc == CURLE_OK) {
        if (c->status == 200)
            c->is_sse ? finish_ok_sse(c) : finish_ok_json(c);
        else if ((c->status == 429 || c->status >= 500) && oa_call_retry(c))
            return;
        else
            finish_http_error(c);
        return;
    }
    if (transient(rc) && c->status == 0 && oa_call_retry(c))
        return;
    char why[400];
    const char *code = "network";
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, sizeof why, "the model server did not answer in time (%s)",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        code = "timeout";
    } else if (c->status > 0 || c->chunks > 0 || c->text.len > 0) {
        snprintf(why, sizeof why, "the connection to the model server broke mid-stream (%s)",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        code = "incomplete";
    } else if (rc == CURLE_WRITE_ERROR) {
        snprintf(why, sizeof why, "the model server's answer was too large or malformed");
        code = "bad_response";
    } else {
        snprintf(why, sizeof why, "cannot reach the model server at %s (%s)", c->url,
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    }
    oa_call_end(c, why, code, c->status);
}
