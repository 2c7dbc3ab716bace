/* One complete request through the pipeline, in the real server's middleware order: CORS
 * preflight (before auth), X-API-KEY on /api, the /api Content-Type guard, 404/405, the JSON
 * body (parsed once, here), uuid parameters, then the plugin's handler. */
#include "auth.h"
#include "http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void add_static(void *arg, const char *name, const char *value) {
    evhtp_request_t *ev = arg;
    evhtp_headers_add_header(ev->headers_out, evhtp_header_new(name, value, 0, 0));
}

static int ct_allowed(const char *ct) {
    return ct && (strcasestr(ct, "application/json") || strcasestr(ct, "multipart/form-data") ||
                  strcasestr(ct, "application/x-www-form-urlencoded"));
}

static const char *owner_name(const kn_route *rt) {
    const char *n = rt->owner ? kn_plugin_name(rt->owner) : NULL;
    return n ? n : "kernel";
}

/* Returns 1 when the request was answered here. */
static int guard(kn_http *h, ez_req *r, evhtp_request_t *ev) {
    if (r->method == EZ_OPTIONS) {
        kn_http_preflight_headers(add_static, ev);
        kn_resp_empty(r, 204);
        return 1;
    }
    int in_api = kn_auth_path_protected(r->raw_path, r->raw_path_len);
    if (h->auth_token) {
        const char *key = kn_req_header(r, "X-API-KEY");
        r->authed = key && kn_auth_equal(h->auth_token, h->auth_token_len, key, strlen(key));
        if (!r->authed && in_api) {
            kn_resp_error(r, 401, EZ_ERR_RAW, NULL, "API key required",
                          "Missing or invalid X-API-KEY header");
            return 1;
        }
    }
    size_t blen = evbuffer_get_length(ev->buffer_in);
    const kn_route *rt = r->m.route;
    if (blen > 0 && in_api && (r->method & (EZ_POST | EZ_PUT | EZ_PATCH)) &&
        !(rt && rt->raw_body) && !kn_path_has_prefix(r->raw_path, r->raw_path_len, "/api/media") &&
        !ct_allowed(kn_req_header(r, "Content-Type"))) {
        kn_resp_json_new(r, 400,
                         json_pack("{s:b,s:{s:s,s:s}}", "success", 0, "error", "code",
                                   "INVALID_CONTENT_TYPE", "message",
                                   "Invalid or missing Content-Type header"));
        return 1;
    }
    /* an encoded NUL would cut the decoded path that handlers see: refuse it outright */
    if (memmem(r->raw_path, r->raw_path_len, "%00", 3)) {
        if (in_api)
            kn_resp_error_num(r, 400, "Invalid path");
        else
            kn_resp_json_new(r, 400, json_pack("{s:s}", "error", "Invalid path"));
        return 1;
    }
    if (r->mr == KN_MATCH_NOT_FOUND) {
        if (in_api)
            kn_resp_error_num(r, 404, "API endpoint not found");
        else
            kn_resp_json_new(r, 404, json_pack("{s:s}", "error", "Not found"));
        return 1;
    }
    if (r->mr == KN_MATCH_NO_METHOD) {
        char allow[64];
        kn_methods_format(r->m.allow, allow, sizeof allow);
        evhtp_headers_add_header(ev->headers_out, evhtp_header_new("Allow", allow, 0, 1));
        if (in_api && !h->strict_405)
            kn_resp_error_num(r, 404, "API endpoint not found");
        else
            kn_resp_error_num(r, 405, "Method not allowed");
        return 1;
    }
    if (blen > 0 && rt && !rt->raw_body && kn_ct_is_json(kn_req_header(r, "Content-Type"))) {
        json_error_t err;
        const char *body = kn_req_body(r, &blen);
        r->json = json_loadb(body, blen, 0, &err);
        if (!r->json) {
            char msg[JSON_ERROR_TEXT_LENGTH + 32];
            snprintf(msg, sizeof msg, "Invalid JSON: %s", err.text);
            kn_resp_error_num(r, 400, msg);
            return 1;
        }
    }
    if (r->mr == KN_MATCH_BAD_PARAM && rt) {
        kn_resp_error(r, 400, rt->err_style, rt->uuid_code ? rt->uuid_code : "INVALID_ID",
                      rt->uuid_error ? rt->uuid_error : "Invalid ID format", NULL);
        return 1;
    }
    return 0;
}

void kn_http_dispatch(kn_conn *c, evhtp_request_t *ev) {
    kn_http *h = c->h;
    ez_req *r = &c->req;
    if (r->ev != ev) /* no header block was seen (HTTP/0.9-style): prepare it now */
        kn_req_begin(c, ev);
    r->active = 1;
    h->inflight++;
    if (guard(h, r, ev))
        return;
    const kn_route *rt = r->m.route;
    int rc = rt->fn(r, rt->ud);
    if (rc == EZ_ASYNC || r->responded || r->streaming)
        return;
    kn_log(h->k, owner_name(rt), EZ_ERR, "%s %s: handler returned %d without answering",
           r->method_str ? r->method_str : "?", rt->pattern, rc);
    kn_resp_error_num(r, 500, "Internal server error");
}
