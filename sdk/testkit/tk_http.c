/* testkit: routes, the request pipeline (the kernel's order: preflight, auth, Content-Type guard,
 * 404/405, JSON body, uuid parameters, handler), request accessors and captured responses. */
#include "tk_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TK_ALL_METHODS (EZ_GET | EZ_POST | EZ_PUT | EZ_PATCH | EZ_DELETE | EZ_HEAD | EZ_OPTIONS)
#define TK_NO_ROUTE (1u << 31)

static const struct {
    unsigned bit;
    const char *name;
} methods[] = {{EZ_GET, "GET"},        {EZ_POST, "POST"},     {EZ_PUT, "PUT"},
               {EZ_PATCH, "PATCH"},    {EZ_DELETE, "DELETE"}, {EZ_HEAD, "HEAD"},
               {EZ_OPTIONS, "OPTIONS"}};

static unsigned method_bit(const char *m) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcasecmp(methods[i].name, m) == 0)
            return methods[i].bit;
    return 0;
}

static void methods_format(unsigned mask, char *out, size_t len) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (mask & methods[i].bit)
            o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s", o ? ", " : "",
                                  methods[i].name);
}

static int name_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* ---- registration ---- */

/* Splits a pattern into r->segs / r->star / r->uuids and builds its shape. */
static int parse_pattern(tk_reg *r, const char *p) {
    size_t plen = strlen(p);
    if (plen == 0 || p[0] != '/' || plen > 1024)
        return EZ_EINVAL;
    r->segs = tk_xcalloc(TK_MAX_SEGS, sizeof *r->segs);
    r->shape = tk_xcalloc(1, plen + 4);
    size_t so = 0, i = 1;
    int nparams = 0;
    while (i < plen) {
        size_t start = i;
        while (i < plen && p[i] != '/')
            i++;
        size_t len = i - start;
        const char *s = p + start;
        int last = i >= plen - 1;
        if (i < plen)
            i++;
        if (len == 0 || r->star || r->nsegs >= TK_MAX_SEGS)
            return EZ_EINVAL;
        if (len == 1 && s[0] == '*') {
            if (!last)
                return EZ_EINVAL;
            r->star = 1;
            memcpy(r->shape + so, "/*", 2);
            so += 2;
            continue;
        }
        char *seg = tk_xcalloc(1, len + 1);
        memcpy(seg, s, len);
        if (s[0] == ':') {
            size_t nlen = len - 1;
            if (nlen > 6 && strcmp(seg + len - 6, "(uuid)") == 0) {
                nlen -= 6;
                seg[len - 6] = '\0';
                r->uuids |= 1u << r->nsegs;
            }
            int ok = nlen > 0 && nparams < TK_MAX_PARAMS;
            for (size_t j = 1; ok && j <= nlen; j++)
                ok = name_char(seg[j]);
            if (!ok) {
                free(seg);
                return EZ_EINVAL;
            }
            nparams++;
            memcpy(r->shape + so, "/:", 2);
            so += 2;
        } else {
            if (memchr(s, '*', len)) {
                free(seg);
                return EZ_EINVAL;
            }
            r->shape[so++] = '/';
            for (size_t j = 0; j < len; j++)
                r->shape[so++] = (char)tolower((unsigned char)s[j]);
        }
        r->segs[r->nsegs++] = seg;
    }
    if (so == 0)
        r->shape[so++] = '/';
    r->shape[so] = '\0';
    return EZ_OK;
}

int tk_route_add(ez_plugin *self, unsigned mask, const char *pattern, const ez_route_opts *opts,
                 ez_route_fn fn, void *ud, ez_free_fn ud_free) {
    if (!self || !pattern || !fn || !mask || (mask & ~(unsigned)TK_ALL_METHODS))
        return EZ_EINVAL;
    ez_tk *tk = self->tk;
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_ROUTE;
    r->methods = mask;
    r->pattern = tk_xstrdup(pattern);
    r->route_fn = fn;
    r->ud = ud;
    r->ud_free = ud_free;
    if (opts) {
        r->err_style = opts->err_style;
        r->uuid_code = tk_xstrdup(opts->uuid_code);
        r->uuid_error = tk_xstrdup(opts->uuid_error);
        r->raw_body = opts->raw_body;
    }
    char what[1100];
    snprintf(what, sizeof what, "route(\"%s\")", pattern);
    if (!self->registering)
        return tk_reg_add(tk, self, r, what); /* refuses and frees */
    if (parse_pattern(r, pattern) != EZ_OK) {
        tk_reg_free(r);
        return EZ_EINVAL;
    }
    for (size_t i = 0; i < tk->nregs; i++) {
        const tk_reg *o = tk->regs[i];
        if (o->kind == TK_ROUTE && (o->methods & mask) && strcmp(o->shape, r->shape) == 0) {
            char ms[64], msg[1400];
            methods_format(o->methods & mask, ms, sizeof ms);
            snprintf(msg, sizeof msg, "route %s %s of plugin %s collides with %s of plugin %s", ms,
                     pattern, self->name, o->pattern, o->owner ? o->owner->name : "kernel");
            tk_log_write(tk, self->name, EZ_ERR, msg);
            tk_reg_free(r);
            return EZ_EEXIST;
        }
    }
    return tk_reg_add(tk, self, r, what);
}

static int api_route(ez_plugin *self, unsigned mask, const char *pattern, ez_route_fn fn, void *ud,
                     ez_free_fn ud_free) {
    return tk_route_add(self, mask, pattern, NULL, fn, ud, ud_free);
}

static int api_route_ex(ez_plugin *self, unsigned mask, const char *pattern,
                        const ez_route_opts *opts, ez_route_fn fn, void *ud, ez_free_fn ud_free) {
    return tk_route_add(self, mask, pattern, opts, fn, ud, ud_free);
}

/* ---- matching ---- */

size_t tk_percent_decode(const char *in, size_t len, char *out, int plus_space) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%' && i + 2 < len && isxdigit((unsigned char)in[i + 1]) &&
            isxdigit((unsigned char)in[i + 2])) {
            char hex[3] = {in[i + 1], in[i + 2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else if (c == '+' && plus_space) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return o;
}

static char *decode_dup(const char *s, size_t len, int plus_space) {
    char *d = tk_xcalloc(1, len + 1);
    tk_percent_decode(s, len, d, plus_space);
    return d;
}

static int uuid_ok(const char *s) {
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

typedef struct tk_seg {
    const char *s;
    size_t len;
} tk_seg;

/* Tries one route; fills score ('0' literal, '1' parameter, '2' star per position). */
static int route_matches(const tk_reg *r, const tk_seg *segs, int n, char *score) {
    if (r->star ? n < r->nsegs : n != r->nsegs)
        return 0;
    for (int i = 0; i < r->nsegs; i++) {
        const char *p = r->segs[i];
        if (p[0] == ':') {
            if (segs[i].len == 0)
                return 0;
            score[i] = '1';
        } else {
            if (strlen(p) != segs[i].len || strncasecmp(p, segs[i].s, segs[i].len) != 0)
                return 0;
            score[i] = '0';
        }
    }
    int o = r->nsegs;
    if (r->star)
        score[o++] = '2';
    score[o] = '\0';
    return 1;
}

/* ---- responses ---- */

static void iso_now(ez_tk *tk, char out[32]) {
    tk->api.iso_time(ez_tk_now(tk), out);
}

/* As the kernel: JSON object or array text is embedded as that value. */
static json_t *details_value(const char *details) {
    if (details[0] == '{' || details[0] == '[') {
        json_t *v = json_loads(details, JSON_REJECT_DUPLICATES, NULL);
        if (v)
            return v;
    }
    return json_string(details);
}

static json_t *error_body(ez_tk *tk, ez_err_style style, const char *code, const char *message,
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
            iso_now(tk, ts);
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

/* 1 when the request may be answered now; logs a failure for a second answer. */
static int may_answer(ez_req *r, const char *what) {
    if (r->answered || r->streaming) {
        tk_fail(r->tk, "%s %s: %s after the request was already answered", r->method, r->path,
                what);
        return 0;
    }
    return 1;
}

static void set_body(ez_req *r, const char *data, size_t len) {
    free(r->reply.body);
    r->reply.body = tk_xcalloc(1, len + 1);
    if (len)
        memcpy(r->reply.body, data, len);
    r->reply.body_len = len;
}

static int respond_json_new(ez_req *r, int status, json_t *body_new) {
    if (!r) {
        json_decref(body_new);
        return EZ_EINVAL;
    }
    if (!may_answer(r, "respond_json_new")) {
        json_decref(body_new);
        return EZ_ESTATE;
    }
    r->answered = 1;
    if (r->gone) {
        json_decref(body_new);
        return EZ_OK;
    }
    char *text = body_new ? json_dumps(body_new, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!text) {
        json_decref(body_new);
        tk_fail(r->tk, "%s %s: respond_json_new got no body or one that cannot be serialised",
                r->method, r->path);
        body_new = json_pack("{s:b,s:{s:s,s:i}}", "success", 0, "error", "message",
                             "Cannot serialise the response", "code", 500);
        text = json_dumps(body_new, JSON_COMPACT);
        status = 500;
    }
    set_body(r, text, strlen(text));
    free(text);
    r->reply.status = status;
    r->reply.json = body_new;
    free(r->reply.content_type);
    r->reply.content_type = tk_xstrdup("application/json; charset=utf-8");
    return EZ_OK;
}

static int respond_error(ez_req *r, int status, ez_err_style style, const char *code,
                         const char *message, const char *details) {
    if (!r)
        return EZ_EINVAL;
    return respond_json_new(r, status, error_body(r->tk, style, code, message, details));
}

static int error_num(ez_req *r, int status, const char *message) {
    return respond_json_new(
        r, status,
        json_pack("{s:b,s:{s:s,s:i}}", "success", 0, "error", "message", message, "code", status));
}

static int ct_is_json(const char *ct) {
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static int respond_raw(ez_req *r, int status, const char *content_type, const void *data,
                       size_t len) {
    if (!r || (len && !data))
        return EZ_EINVAL;
    if (!may_answer(r, "respond_raw"))
        return EZ_ESTATE;
    r->answered = 1;
    if (r->gone)
        return EZ_OK;
    set_body(r, data, len);
    r->reply.status = status;
    free(r->reply.content_type);
    r->reply.content_type = tk_xstrdup(content_type ? content_type : "application/octet-stream");
    if (ct_is_json(content_type))
        r->reply.json = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    return EZ_OK;
}

static int respond_empty(ez_req *r, int status) {
    if (!r)
        return EZ_EINVAL;
    if (!may_answer(r, "respond_empty"))
        return EZ_ESTATE;
    r->answered = 1;
    if (r->gone)
        return EZ_OK;
    set_body(r, "", 0);
    r->reply.status = status;
    return EZ_OK;
}

static int set_header(ez_req *r, const char *name, const char *value) {
    if (!r || !name || !value)
        return EZ_EINVAL;
    if (r->answered || r->streaming)
        return EZ_ESTATE;
    return json_object_set_new(r->reply.headers, name, json_string(value)) == 0 ? EZ_OK : EZ_EINVAL;
}

static int stream_start(ez_req *r, int status, const char *content_type) {
    if (!r)
        return EZ_EINVAL;
    if (!may_answer(r, "stream_start"))
        return EZ_ESTATE;
    r->streaming = 1;
    r->reply.streamed = 1;
    r->reply.status = status;
    set_body(r, "", 0);
    free(r->reply.content_type);
    r->reply.content_type = tk_xstrdup(content_type);
    return EZ_OK;
}

static int stream_write(ez_req *r, const void *data, size_t len) {
    if (!r || (len && !data))
        return EZ_EINVAL;
    if (!r->streaming || r->answered) {
        tk_fail(r->tk, "%s %s: stream_write without stream_start (or after stream_end)", r->method,
                r->path);
        return EZ_ESTATE;
    }
    if (r->gone)
        return EZ_OK;
    char *grown = realloc(r->reply.body, r->reply.body_len + len + 1);
    if (!grown)
        return EZ_ENOMEM;
    memcpy(grown + r->reply.body_len, data, len);
    r->reply.body_len += len;
    grown[r->reply.body_len] = '\0';
    r->reply.body = grown;
    return EZ_OK;
}

static int stream_end(ez_req *r) {
    if (!r)
        return EZ_EINVAL;
    if (!r->streaming || r->answered) {
        tk_fail(r->tk, "%s %s: stream_end without stream_start (or twice)", r->method, r->path);
        return EZ_ESTATE;
    }
    r->answered = 1;
    r->reply.stream_ended = 1;
    return EZ_OK;
}

static int is_gone(const ez_req *r) {
    return r ? r->gone : 1;
}

/* ---- request accessors ---- */

static const char *acc_method(const ez_req *r) {
    return r ? r->method : NULL;
}

static const char *acc_path(const ez_req *r) {
    return r ? r->path : NULL;
}

static const char *acc_param(const ez_req *r, const char *name) {
    if (!r || !name)
        return NULL;
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->pnames[i], name) == 0)
            return r->pvalues[i];
    return NULL;
}

/* Every value of `name` in the raw query (keys and values decoded, '+' as space), new array. */
static json_t *query_values(const ez_req *r, const char *name) {
    json_t *out = json_array();
    const char *q = r->query;
    while (q && *q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        size_t klen = eq ? (size_t)(eq - q) : n;
        char *k = decode_dup(q, klen, 1);
        if (strcmp(k, name) == 0) {
            char *v = eq ? decode_dup(eq + 1, n - klen - 1, 1) : tk_xstrdup("");
            json_array_append_new(out, json_string(v));
            free(v);
        }
        free(k);
        q += n;
        if (*q == '&')
            q++;
    }
    return out;
}

static const char *acc_query(const ez_req *r, const char *name) {
    if (!r || !name)
        return NULL;
    json_t *vals = query_values(r, name);
    const char *v = NULL;
    if (json_array_size(vals)) {
        /* the decoded value must outlive this call: cache it for the request's lifetime */
        json_object_set(r->qcache, name, json_array_get(vals, 0));
        v = json_string_value(json_object_get(r->qcache, name));
    }
    json_decref(vals);
    return v;
}

static json_t *acc_query_all(const ez_req *r, const char *name) {
    return r && name ? query_values(r, name) : json_array();
}

static const char *acc_header(const ez_req *r, const char *name) {
    if (!r || !name)
        return NULL;
    char lower[256];
    size_t i = 0, n = strnlen(name, sizeof lower - 1);
    for (; i < n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return json_string_value(json_object_get(r->headers_in, lower));
}

static const json_t *acc_body_json(const ez_req *r) {
    return r ? r->body_json : NULL;
}

static const void *acc_body(const ez_req *r, size_t *len) {
    if (len)
        *len = r ? r->body_len : 0;
    return r && r->body_len ? r->body : NULL;
}

static const char *acc_remote(const ez_req *r) {
    return r ? r->remote : NULL;
}

static int acc_is_loopback(const ez_req *r) {
    return r && r->remote &&
           (strncmp(r->remote, "127.", 4) == 0 || strcmp(r->remote, "::1") == 0 ||
            strncmp(r->remote, "::ffff:127.", 11) == 0);
}

static int acc_is_authenticated(const ez_req *r) {
    return r ? r->authenticated : 0;
}

void tk_http_fill(ez_tk *tk) {
    ez_host_api *a = &tk->api;
    a->route = api_route;
    a->route_ex = api_route_ex;
    a->method = acc_method;
    a->path = acc_path;
    a->param = acc_param;
    a->query = acc_query;
    a->query_all = acc_query_all;
    a->header = acc_header;
    a->body_json = acc_body_json;
    a->body = acc_body;
    a->remote_addr = acc_remote;
    a->is_loopback = acc_is_loopback;
    a->is_authenticated = acc_is_authenticated;
    a->respond_json_new = respond_json_new;
    a->respond_raw = respond_raw;
    a->respond_error = respond_error;
    a->respond_empty = respond_empty;
    a->set_header = set_header;
    a->stream_start = stream_start;
    a->stream_write = stream_write;
    a->stream_end = stream_end;
    a->is_gone = is_gone;
}

/* ---- the pipeline ---- */

static int in_api(const char *path) {
    return strncasecmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

static int ct_allowed(const char *ct) {
    return ct && (strcasestr(ct, "application/json") || strcasestr(ct, "multipart/form-data") ||
                  strcasestr(ct, "application/x-www-form-urlencoded"));
}

/* Finds the best route for the method into r->route (with its parameters). Returns 0 when
 * found, else the methods the path has (0 = no route at all). */
static unsigned dispatch_match(ez_tk *tk, ez_req *r, const char *raw_path, size_t raw_len,
                               unsigned bit) {
    tk_seg segs[TK_MAX_SEGS + 1];
    int n = 0;
    size_t i = 1;
    while (i < raw_len && n <= TK_MAX_SEGS) {
        size_t start = i;
        while (i < raw_len && raw_path[i] != '/')
            i++;
        if (i == raw_len && i == start)
            break; /* trailing slash */
        segs[n].s = raw_path + start;
        segs[n].len = i - start;
        n++;
        if (i < raw_len)
            i++;
    }
    const tk_reg *best = NULL;
    char best_score[TK_MAX_SEGS + 2] = "", score[TK_MAX_SEGS + 2];
    unsigned allow = 0;
    for (size_t k = 0; n <= TK_MAX_SEGS && k < tk->nregs; k++) {
        const tk_reg *rt = tk->regs[k];
        if (rt->kind != TK_ROUTE || !route_matches(rt, segs, n, score))
            continue;
        unsigned want = bit == EZ_HEAD ? (EZ_HEAD | EZ_GET) : bit;
        allow |= rt->methods;
        if (!(rt->methods & want))
            continue;
        if (!best || strcmp(score, best_score) < 0) {
            best = rt;
            memcpy(best_score, score, sizeof score);
        }
    }
    if (!best)
        return allow ? allow : TK_NO_ROUTE;
    r->route = best;
    r->reply.route = best->pattern;
    for (int k = 0; k < best->nsegs; k++) {
        if (best->segs[k][0] != ':')
            continue;
        r->pnames[r->nparams] = tk_xstrdup(best->segs[k] + 1);
        r->pvalues[r->nparams] = decode_dup(segs[k].s, segs[k].len, 0);
        r->nparams++;
    }
    if (best->star) {
        const char *rest = best->nsegs < n ? segs[best->nsegs].s : "";
        size_t rlen = best->nsegs < n ? (size_t)(raw_path + raw_len - rest) : 0;
        r->pnames[r->nparams] = tk_xstrdup("*");
        r->pvalues[r->nparams] = decode_dup(rest, rlen, 0);
        r->nparams++;
    }
    return 0;
}

static int dispatch_guard(ez_tk *tk, ez_req *r, const char *raw_path, size_t raw_len,
                          unsigned bit) {
    if (bit == EZ_OPTIONS) {
        respond_empty(r, 204);
        return 1;
    }
    const char *token = json_string_value(json_object_get(tk->settings, "server.auth_token"));
    if (token && *token && in_api(r->path) && !r->authenticated) {
        respond_error(r, 401, EZ_ERR_RAW, NULL, "API key required",
                      "Missing or invalid X-API-KEY header");
        return 1;
    }
    const char *ct = acc_header(r, "content-type");
    unsigned allow = dispatch_match(tk, r, raw_path, raw_len, bit);
    /* the kernel checks the Content-Type before it answers 404/405 */
    if (r->body_len && in_api(r->path) && (bit & (EZ_POST | EZ_PUT | EZ_PATCH)) &&
        !(r->route && r->route->raw_body) && strncasecmp(r->path, "/api/media", 10) != 0 &&
        !ct_allowed(ct)) {
        respond_json_new(r, 400,
                         json_pack("{s:b,s:{s:s,s:s}}", "success", 0, "error", "code",
                                   "INVALID_CONTENT_TYPE", "message",
                                   "Invalid or missing Content-Type header"));
        return 1;
    }
    if (allow == TK_NO_ROUTE) {
        if (in_api(r->path))
            error_num(r, 404, "API endpoint not found");
        else
            respond_json_new(r, 404, json_pack("{s:s}", "error", "Not found"));
        return 1;
    }
    if (allow) {
        char a[64];
        methods_format(allow, a, sizeof a);
        json_object_set_new(r->reply.headers, "Allow", json_string(a));
        /* testkit settings are strings (ez_tk_set_setting), read as the kernel's int setting */
        const char *strict =
            json_string_value(json_object_get(tk->settings, "server.method_not_allowed_405"));
        int want_405 = strict && strtol(strict, NULL, 10) != 0;
        if (in_api(r->path) && !want_405)
            error_num(r, 404, "API endpoint not found");
        else
            error_num(r, 405, "Method not allowed");
        return 1;
    }
    if (r->body_len && !r->route->raw_body && ct_is_json(ct)) {
        json_error_t err;
        r->body_json = json_loadb(r->body, r->body_len, 0, &err);
        if (!r->body_json) {
            char msg[JSON_ERROR_TEXT_LENGTH + 32];
            snprintf(msg, sizeof msg, "Invalid JSON: %s", err.text);
            error_num(r, 400, msg);
            return 1;
        }
    }
    int p = 0;
    for (int k = 0; k < r->route->nsegs; k++) {
        if (r->route->segs[k][0] != ':')
            continue;
        if ((r->route->uuids & (1u << k)) && !uuid_ok(r->pvalues[p])) {
            respond_error(r, 400, r->route->err_style,
                          r->route->uuid_code ? r->route->uuid_code : "INVALID_ID",
                          r->route->uuid_error ? r->route->uuid_error : "Invalid ID format", NULL);
            return 1;
        }
        p++;
    }
    return 0;
}

ez_tk_reply *ez_tk_call(ez_tk *tk, const ez_tk_request *rq) {
    if (!tk || !rq || !rq->path || rq->path[0] != '/') {
        fputs("testkit: ez_tk_call needs a host and a request whose path starts with '/'\n",
              stderr);
        abort();
    }
    ez_req *r = tk_xcalloc(1, sizeof *r);
    r->tk = tk;
    r->next = tk->reqs;
    tk->reqs = r;
    r->reply.handler_rc = -1;
    r->reply.headers = json_object();
    r->headers_in = json_object();
    r->qcache = json_object();
    r->method = tk_xstrdup(rq->method ? rq->method : "GET");
    for (char *m = r->method; *m; m++)
        *m = (char)toupper((unsigned char)*m);
    const char *qm = strchr(rq->path, '?');
    size_t raw_len = qm ? (size_t)(qm - rq->path) : strlen(rq->path);
    r->path = decode_dup(rq->path, raw_len, 0);
    r->query = qm ? tk_xstrdup(qm + 1) : NULL;
    if (rq->body) {
        r->body_len = rq->body_len ? rq->body_len : strlen(rq->body);
        r->body = tk_xcalloc(1, r->body_len + 1);
        memcpy(r->body, rq->body, r->body_len);
        json_object_set_new(r->headers_in, "content-type",
                            json_string(rq->content_type ? rq->content_type : "application/json"));
    } else if (rq->content_type) {
        json_object_set_new(r->headers_in, "content-type", json_string(rq->content_type));
    }
    for (size_t i = 0; rq->headers && rq->headers[i] && rq->headers[i + 1]; i += 2) {
        char lower[256];
        size_t k = 0;
        for (; rq->headers[i][k] && k < sizeof lower - 1; k++)
            lower[k] = (char)tolower((unsigned char)rq->headers[i][k]);
        lower[k] = '\0';
        json_object_set_new(r->headers_in, lower, json_string(rq->headers[i + 1]));
    }
    r->remote = tk_xstrdup(rq->remote_addr ? rq->remote_addr : "127.0.0.1");
    r->authenticated = rq->authenticated;

    unsigned bit = method_bit(r->method);
    if (!bit) {
        error_num(r, 405, "Method not allowed");
    } else if (!dispatch_guard(tk, r, rq->path, raw_len, bit)) {
        int rc = r->route->route_fn(r, r->route->ud);
        r->reply.handler_rc = rc;
        if (rc != EZ_ASYNC && !r->answered && !r->streaming) {
            tk_fail(tk, "%s %s: handler returned %d without answering (the kernel sends 500)",
                    r->method, r->path, rc);
            error_num(r, 500, "Internal server error");
        }
    }
    ez_tk_run(tk);
    return &r->reply;
}

ez_tk_reply *ez_tk_get(ez_tk *tk, const char *path) {
    ez_tk_request rq = {.method = "GET", .path = path};
    return ez_tk_call(tk, &rq);
}

ez_tk_reply *ez_tk_send(ez_tk *tk, const char *method, const char *path, const char *json_body) {
    ez_tk_request rq = {.method = method, .path = path, .body = json_body};
    return ez_tk_call(tk, &rq);
}

void ez_tk_client_gone(ez_tk *tk, ez_tk_reply *reply) {
    (void)tk;
    if (reply)
        ((ez_req *)reply)->gone = 1;
}

int tk_reqs_pending(ez_tk *tk) {
    int n = 0;
    for (ez_req *r = tk->reqs; r; r = r->next)
        if (!r->answered && !r->gone)
            n++;
    return n;
}

void tk_reqs_free(ez_tk *tk) {
    ez_req *r = tk->reqs;
    while (r) {
        ez_req *next = r->next;
        json_decref(r->reply.json);
        json_decref(r->reply.headers);
        free(r->reply.body);
        free(r->reply.content_type);
        for (int i = 0; i < r->nparams; i++) {
            free(r->pnames[i]);
            free(r->pvalues[i]);
        }
        free(r->method);
        free(r->path);
        free(r->query);
        json_decref(r->body_json);
        free(r->body);
        json_decref(r->headers_in);
        json_decref(r->qcache);
        free(r->remote);
        free(r);
        r = next;
    }
    tk->reqs = NULL;
}
