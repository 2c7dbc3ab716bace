/* The response half of the host API. Every answer gets the security and CORS headers, a
 * Content-Type and (unless streamed) a Content-Length; JSON is serialised straight into evhtp's
 * output buffer. Answering a request whose client went away only releases it. */
#include "http_int.h"
#include "util_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(16))

void kn_http_iso_now(char out[32]) {
    kn_iso_time(kn_now_ms(), out);
}

/* The request is answered: it leaves inflight, its memory goes, and a connection that is
 * already closed goes with it. */
static void finish_answer(ez_req *r) {
    kn_conn *c = r->c;
    if (r->active) {
        r->active = 0;
        c->h->inflight--;
    }
    kn_req_finish(r);
    r->responded = 1;
    if (!c->ev)
        kn_conn_release(c);
}

/* 1: go ahead and write; 0: the client is gone and the request was released; <0: misuse. */
static int resp_begin(ez_req *r) {
    if (!r || r->responded)
        return EZ_ESTATE;
    if (r->streaming) { /* a plain answer after stream_start ends the stream instead */
        if (r->ev)
            evhtp_send_reply_chunk_end(r->ev);
        finish_answer(r);
        return EZ_ESTATE;
    }
    if (r->gone || !r->ev) {
        finish_answer(r);
        return 0;
    }
    return 1;
}

static void add_static(void *arg, const char *name, const char *value) {
    evhtp_request_t *ev = arg;
    /* names are literals; values are literals or the request's Origin, which evhtp frees
     * after the response headers: neither needs a copy */
    evhtp_headers_add_header(ev->headers_out, evhtp_header_new(name, value, 0, 0));
}

static void add_headers(ez_req *r, const char *content_type) {
    evhtp_request_t *ev = r->ev;
    kn_http_common_headers(r->c->h, evhtp_header_find(ev->headers_in, "Origin"), add_static, ev);
    if (content_type && !evhtp_header_find(ev->headers_out, "Content-Type"))
        evhtp_headers_add_header(ev->headers_out,
                                 evhtp_header_new("Content-Type", content_type, 0, 1));
    if (!r->c->h->accepting)
        ev->flags &= (uint16_t)~EVHTP_REQ_FLAG_KEEPALIVE;
}

static int send_reply(ez_req *r, int status, const char *content_type) {
    evhtp_request_t *ev = r->ev;
    if (status < 100 || status > 599)
        status = 500;
    add_headers(r, content_type);
    size_t len = evbuffer_get_length(ev->buffer_out);
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
        evbuffer_drain(ev->buffer_out, len);
    } else if (r->method == EZ_HEAD) {
        char n[24];
        snprintf(n, sizeof n, "%zu", len);
        evhtp_headers_add_header(ev->headers_out, evhtp_header_new("Content-Length", n, 0, 1));
        evbuffer_drain(ev->buffer_out, len);
    }
    kn_conn_write_direct_begin(r->c);
    evhtp_send_reply(ev, (evhtp_res)status);
    kn_conn_write_direct_end(r->c);
    finish_answer(r);
    return EZ_OK;
}

int kn_resp_bytes(ez_req *r, int status, const char *content_type, const void *data, size_t len) {
    int rc = resp_begin(r);
    if (rc <= 0)
        return rc;
    if (len && evbuffer_add(r->ev->buffer_out, data, len) != 0)
        return kn_resp_error_num(r, 500, "Out of memory");
    return send_reply(r, status, content_type ? content_type : "application/octet-stream");
}

static int dump_cb(const char *buf, size_t size, void *data) {
    return evbuffer_add(data, buf, size);
}

int kn_resp_json_new(ez_req *r, int status, json_t *body_new) {
    int rc = resp_begin(r);
    if (rc <= 0) {
        json_decref(body_new);
        return rc;
    }
    if (!body_new) {
        kn_resp_error_num(r, 500, "Out of memory");
        return EZ_ENOMEM;
    }
    rc = json_dump_callback(body_new, dump_cb, r->ev->buffer_out, DUMP_FLAGS);
    json_decref(body_new);
    if (rc != 0) {
        evbuffer_drain(r->ev->buffer_out, evbuffer_get_length(r->ev->buffer_out));
        return kn_resp_error_num(r, 500, "Cannot serialise the response");
    }
    return send_reply(r, status, KN_JSON_CT);
}

int kn_resp_error_num(ez_req *r, int status, const char *message) {
    return kn_resp_json_new(
        r, status,
        json_pack("{s:b,s:{s:s,s:i}}", "success", 0, "error", "message", message, "code", status));
}

/* details is text; a JSON object or array text is embedded as that value (the sessions area's
 * {"missingFields":[...]}, {"providedValue":...}). */
static json_t *details_value(const char *details) {
    if (details[0] == '{' || details[0] == '[') {
        json_t *v = json_loads(details, JSON_REJECT_DUPLICATES, NULL);
        if (v)
            return v;
    }
    return json_string(details);
}

/* COMPAT §1.3: the five error envelopes. Style E with details renders them as "message", the
 * shape of the real server's raw errors ({"error":"API key required","message":"..."}). */
static json_t *error_body(ez_err_style style, const char *code, const char *message,
                          const char *details) {
    json_t *o = json_object(), *e;
    if (!message)
        message = "Unknown error";
    switch (style) {
    case EZ_ERR_STANDARD:
    case EZ_ERR_SESSIONS:
        e = json_object();
        if (code)
            json_object_set_new(e, "code", json_string(code));
        json_object_set_new(e, "message", json_string(message));
        if (style == EZ_ERR_SESSIONS) {
            char ts[32];
            kn_http_iso_now(ts);
            json_object_set_new(e, "timestamp", json_string(ts));
        }
        if (details)
            json_object_set_new(e, "details", details_value(details));
        if (style == EZ_ERR_STANDARD)
            json_object_set_new(o, "success", json_false());
        json_object_set_new(o, "error", e);
        break;
    case EZ_ERR_MESSAGING:
    case EZ_ERR_JOBS:
        json_object_set_new(o, "success", json_false());
        json_object_set_new(o, "error", json_string(message));
        if (details && style == EZ_ERR_MESSAGING)
            json_object_set_new(o, "details", details_value(details));
        break;
    case EZ_ERR_RAW:
    default:
        json_object_set_new(o, "error", json_string(message));
        if (details)
            json_object_set_new(o, "message", json_string(details));
        break;
    }
    return o;
}

int kn_resp_error(ez_req *r, int status, ez_err_style style, const char *code, const char *message,
                  const char *details) {
    return kn_resp_json_new(r, status, error_body(style, code, message, details));
}

int kn_resp_empty(ez_req *r, int status) {
    int rc = resp_begin(r);
    if (rc <= 0)
        return rc;
    return send_reply(r, status, "text/plain; charset=utf-8");
}

/* ---------------------------------------------------------------- host API members */

static int api_respond_json_new(ez_req *r, int status, json_t *body_new) {
    return kn_resp_json_new(r, status, body_new);
}

static int api_respond_raw(ez_req *r, int status, const char *content_type, const void *data,
                           size_t len) {
    if (len && !data) {
        kn_resp_error_num(r, 500, "No response data");
        return EZ_EINVAL;
    }
    return kn_resp_bytes(r, status, content_type, data, len);
}

static int api_respond_error(ez_req *r, int status, ez_err_style style, const char *code,
                             const char *message, const char *details) {
    return kn_resp_error(r, status, style, code, message, details);
}

static int api_respond_empty(ez_req *r, int status) {
    return kn_resp_empty(r, status);
}

static int header_ok(const char *s, int name) {
    if (!s || (name && !*s))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n' || c == 0x7f || (c < 0x20 && c != '\t') ||
            (name && (c == ':' || c == ' ' || c == '\t')))
            return 0;
    }
    return 1;
}

static int api_set_header(ez_req *r, const char *name, const char *value) {
    if (!r || r->responded || r->streaming)
        return EZ_ESTATE;
    if (!header_ok(name, 1) || !header_ok(value, 0))
        return EZ_EINVAL;
    if (!r->ev)
        return EZ_OK; /* gone: nobody will see it */
    evhtp_headers_add_header(r->ev->headers_out, evhtp_header_new(name, value, 1, 1));
    return EZ_OK;
}

static int api_stream_start(ez_req *r, int status, const char *content_type) {
    if (!r || r->responded || r->streaming)
        return EZ_ESTATE;
    r->streaming = 1; /* from here only stream_end (or a respond_*) releases the request */
    if (r->gone || !r->ev)
        return EZ_EIO;
    if (status < 200 || status > 599 || status == 204 || status == 304)
        status = 200;
    add_headers(r, content_type ? content_type : "text/event-stream");
    if (r->ev->proto != EVHTP_PROTO_11)
        r->ev->flags &= (uint16_t)~EVHTP_REQ_FLAG_KEEPALIVE; /* 1.0: the end is the close */
    kn_conn_write_via_loop(r->c);
    evhtp_send_reply_chunk_start(r->ev, (evhtp_res)status);
    return EZ_OK;
}

static int api_stream_write(ez_req *r, const void *data, size_t len) {
    if (!r || !r->streaming || r->responded)
        return EZ_ESTATE;
    if (r->gone || !r->ev)
        return EZ_EIO;
    if (len == 0)
        return EZ_OK;
    if (!data)
        return EZ_EINVAL;
    struct evbuffer *chunk = r->c->h->chunk;
    if (evbuffer_add(chunk, data, len) != 0)
        return EZ_ENOMEM;
    evhtp_send_reply_chunk(r->ev, chunk);
    evbuffer_drain(chunk, evbuffer_get_length(chunk));
    kn_conn_gate(r->c);
    return EZ_OK;
}

static int api_stream_end(ez_req *r) {
    if (!r || !r->streaming || r->responded)
        return EZ_ESTATE;
    if (r->ev && !r->gone) {
        evhtp_send_reply_chunk_end(r->ev);
        kn_conn_gate(r->c);
    }
    finish_answer(r);
    return EZ_OK;
}

void kn_http_fill_response_api(ez_host_api *api) {
    api->respond_json_new = api_respond_json_new;
    api->respond_raw = api_respond_raw;
    api->respond_error = api_respond_error;
    api->respond_empty = api_respond_empty;
    api->set_header = api_set_header;
    api->stream_start = api_stream_start;
    api->stream_write = api_stream_write;
    api->stream_end = api_stream_end;
}

void kn_http_fill_api(ez_host_api *api) {
    kn_http_fill_route_api(api);
    kn_http_fill_request_api(api);
    kn_http_fill_response_api(api);
}
