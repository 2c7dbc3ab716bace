/* The request half of the host API: method, path, parameters, query, headers, body. Strings
 * handed to plugins live in the request's arena (1 KB inline in the connection record, then
 * malloc'd blocks) and stay valid until the request is answered, also after the client left. */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- arena */

void *kn_req_alloc(ez_req *r, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (r->inline_used + n <= sizeof r->inline_buf) {
        void *p = r->inline_buf + r->inline_used;
        r->inline_used += n;
        return p;
    }
    kn_arena_block *b = r->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = r->blocks;
        r->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *kn_req_strndup(ez_req *r, const char *s, size_t n) {
    char *p = kn_req_alloc(r, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void arena_reset(ez_req *r) {
    while (r->blocks) {
        kn_arena_block *b = r->blocks;
        r->blocks = b->next;
        free(b);
    }
    r->inline_used = 0;
}

/* ---------------------------------------------------------------- lifecycle */

int kn_path_has_prefix(const char *path, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(path, prefix, n) == 0;
}

static unsigned method_bit(htp_method m) {
    switch (m) {
    case htp_method_GET:
        return EZ_GET;
    case htp_method_POST:
        return EZ_POST;
    case htp_method_PUT:
        return EZ_PUT;
    case htp_method_PATCH:
        return EZ_PATCH;
    case htp_method_DELETE:
        return EZ_DELETE;
    case htp_method_HEAD:
        return EZ_HEAD;
    case htp_method_OPTIONS:
        return EZ_OPTIONS;
    default:
        return 0;
    }
}

void kn_req_begin(kn_conn *c, evhtp_request_t *ev) {
    ez_req *r = &c->req;
    kn_req_finish(r);
    r->c = c;
    r->ev = ev;
    htp_method hm = evhtp_request_get_method(ev);
    r->method = method_bit(hm);
    r->method_str = htparser_get_methodstr_m(hm);
    const char *full =
        (ev->uri && ev->uri->path && ev->uri->path->full) ? ev->uri->path->full : "/";
    r->raw_path_len = strlen(full);
    r->raw_path = kn_req_strndup(r, full, r->raw_path_len);
    /* read now: once the body is in, evhtp may put a form body where the query was */
    if (ev->uri && ev->uri->query_raw)
        r->query_raw = kn_req_strndup(r, (const char *)ev->uri->query_raw,
                                      strlen((const char *)ev->uri->query_raw));
    if (!r->raw_path) {
        r->raw_path = "/";
        r->raw_path_len = 1;
    }
    kn_http *h = c->h;
    /* the same test as Socket.IO's own (case-sensitive, trailing slash optional) */
    r->sio = h->sio_path_len > 1 && ((r->raw_path_len >= h->sio_path_len &&
                                      strncmp(r->raw_path, h->sio_path, h->sio_path_len) == 0) ||
                                     (r->raw_path_len == h->sio_path_len - 1 &&
                                      strncmp(r->raw_path, h->sio_path, r->raw_path_len) == 0));
    if (r->sio)
        return;
    size_t bl = kn_router_buf_size(r->raw_path_len);
    char *buf = kn_req_alloc(r, bl);
    if (!buf) {
        r->mr = KN_MATCH_NOT_FOUND;
        return;
    }
    r->mr = kn_router_match(h->router, r->method, r->raw_path, r->raw_path_len, &r->m, buf, bl);
}

void kn_req_finish(ez_req *r) {
    if (r->json) {
        json_decref(r->json);
        r->json = NULL;
    }
    arena_reset(r);
    r->ev = NULL;
    r->method = 0;
    r->method_str = NULL;
    r->raw_path = NULL;
    r->raw_path_len = 0;
    r->query_raw = NULL;
    r->path = NULL;
    r->sio = 0;
    r->mr = KN_MATCH_NOT_FOUND;
    r->m.route = NULL; /* the rest of the match is only read through route */
    r->m.nparams = 0;
    r->authed = 0;
    r->responded = 0;
    r->streaming = 0;
    r->gone = 0;
}

/* ---------------------------------------------------------------- helpers */

const char *kn_req_header(const ez_req *r, const char *name) {
    return (r && r->ev && name) ? evhtp_header_find(r->ev->headers_in, name) : NULL;
}

const char *kn_req_body(const ez_req *r, size_t *len) {
    size_t n = (r && r->ev) ? evbuffer_get_length(r->ev->buffer_in) : 0;
    if (len)
        *len = n;
    if (n == 0)
        return NULL;
    return (const char *)evbuffer_pullup(r->ev->buffer_in, -1);
}

int kn_ct_is_json(const char *ct) {
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* ---------------------------------------------------------------- host API accessors */

static const char *req_method(const ez_req *r) {
    return r && r->method_str ? r->method_str : "";
}

static const char *req_path(const ez_req *cr) {
    ez_req *r = (ez_req *)cr; /* the decoded path is made on first use */
    if (!r || !r->raw_path)
        return NULL;
    if (!r->path) {
        char *p = kn_req_alloc(r, r->raw_path_len + 1);
        if (!p)
            return NULL;
        kn_percent_decode(r->raw_path, r->raw_path_len, p, 0);
        r->path = p;
    }
    return r->path;
}

static const char *req_param(const ez_req *r, const char *name) {
    if (!r || !name || !r->m.route)
        return NULL;
    for (int i = 0; i < r->m.nparams; i++)
        if (strcmp(r->m.names[i], name) == 0)
            return r->m.values[i];
    return NULL;
}

/* Walks "a=1&b=2&a=3": decoded values of key `name`, first only or all into arr. */
static const char *query_scan(ez_req *r, const char *name, json_t *arr) {
    if (!r->query_raw || !name)
        return NULL;
    size_t name_len = strlen(name);
    const char *p = r->query_raw;
    while (*p) {
        const char *end = p + strcspn(p, "&");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        char kbuf[256];
        size_t klen = (size_t)(kend - p);
        if (klen < sizeof kbuf && klen >= name_len) {
            size_t dl = kn_percent_decode(p, klen, kbuf, 1);
            if (dl == name_len && memcmp(kbuf, name, name_len) == 0) {
                const char *v = eq ? eq + 1 : end;
                size_t vlen = (size_t)(end - v);
                char *out = kn_req_alloc(r, vlen + 1);
                if (!out)
                    return NULL;
                kn_percent_decode(v, vlen, out, 1);
                if (!arr)
                    return out;
                json_array_append_new(arr, json_string(out));
            }
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

const char *kn_req_query(ez_req *r, const char *name) {
    return r ? query_scan(r, name, NULL) : NULL;
}

static const char *req_query(const ez_req *r, const char *name) {
    return kn_req_query((ez_req *)r, name);
}

static json_t *req_query_all(const ez_req *r, const char *name) {
    json_t *arr = json_array();
    if (r && arr)
        query_scan((ez_req *)r, name, arr);
    return arr;
}

static const char *req_header(const ez_req *r, const char *name) {
    return kn_req_header(r, name);
}

static const json_t *req_body_json(const ez_req *r) {
    return r ? r->json : NULL;
}

static const void *req_body(const ez_req *r, size_t *len) {
    return kn_req_body(r, len);
}

static const char *req_remote_addr(const ez_req *r) {
    return r && r->c ? r->c->addr : NULL;
}

static int req_is_loopback(const ez_req *r) {
    return r && r->c ? r->c->loopback : 0;
}

static int req_is_authenticated(const ez_req *r) {
    return r ? r->authed : 0;
}

static int req_is_gone(const ez_req *r) {
    return r ? r->gone : 1;
}

void kn_http_fill_request_api(ez_host_api *api) {
    api->method = req_method;
    api->path = req_path;
    api->param = req_param;
    api->query = req_query;
    api->query_all = req_query_all;
    api->header = req_header;
    api->body_json = req_body_json;
    api->body = req_body;
    api->remote_addr = req_remote_addr;
    api->is_loopback = req_is_loopback;
    api->is_authenticated = req_is_authenticated;
    api->is_gone = req_is_gone;
}
