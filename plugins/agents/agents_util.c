/* Small helpers shared by the agents plugin: a byte buffer for hot responses, envelopes, query
 * parsing, row accessors and transactions. */
#include "agents_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_buf_put(ag_buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ag_buf_puts(ag_buf *b, const char *s) {
    ag_buf_put(b, s, strlen(s));
}

void ag_buf_put_jstr(ag_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    if (!s) {
        ag_buf_puts(b, "null");
        return;
    }
    ag_buf_put(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\')
            continue;
        ag_buf_put(b, run, (size_t)((const char *)p - run));
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        ag_buf_put(b, esc, n);
        run = (const char *)p + 1;
    }
    ag_buf_puts(b, run);
    ag_buf_put(b, "\"", 1);
}

void ag_buf_put_i64(ag_buf *b, int64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    ag_buf_put(b, tmp, (size_t)n);
}

static int ag_buf_dump_cb(const char *s, size_t n, void *ud) {
    ag_buf_put(ud, s, n);
    return 0;
}

void ag_buf_put_json(ag_buf *b, const json_t *v) {
    if (!v) {
        ag_buf_puts(b, "null");
        return;
    }
    json_dump_callback(v, ag_buf_dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY);
}

void ag_buf_free(ag_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

void ag_time_uuid(ag_state *st, char out[37]) {
    static const char hex[] = "0123456789abcdef";
    st->api->uuid_v4(out); /* the random bits and the variant */
    uint64_t ms = (uint64_t)st->api->now_ms();
    for (int digit = 11; digit >= 0; digit--, ms >>= 4)
        out[digit < 8 ? digit : digit + 1] = hex[ms & 15]; /* digit 8 is after the dash */
    out[14] = '7';
}

void ag_unique_uuid(ag_state *st, const char *agent_id, const char *base, char out[37]) {
    if (strcmp(base, agent_id) == 0) {
        memcpy(out, agent_id, 37);
        return;
    }
    size_t a = strlen(base), b = strlen(agent_id);
    char *s = malloc(a + b + 2);
    if (!s) {
        st->api->uuid_v4(out);
        return;
    }
    memcpy(s, base, a);
    s[a] = ':';
    memcpy(s + a + 1, agent_id, b + 1);
    st->api->uuid_from_string(s, out);
    free(s);
}

int64_t ag_unique_ms(ag_state *st) {
    int64_t now = st->api->now_ms();
    if (now <= st->last_ms)
        now = st->last_ms + 1;
    st->last_ms = now;
    return now;
}

int ag_ok(ag_state *st, ez_req *req, int status, json_t *data_new) {
    json_t *body = json_object();
    json_object_set_new_nocheck(body, "success", json_true());
    json_object_set_new_nocheck(body, "data", data_new ? data_new : json_null());
    return st->api->respond_json_new(req, status, body);
}

int ag_err(ag_state *st, ez_req *req, int status, const char *code, const char *msg,
           const char *details) {
    return st->api->respond_error(req, status, EZ_ERR_STANDARD, code, msg, details);
}

int ag_ok_raw(ag_state *st, ez_req *req, int status, const char *body, size_t len) {
    return st->api->respond_raw(req, status, "application/json; charset=utf-8", body, len);
}

/* Number(x) for the query strings the real server reads: decimal integers only here. */
int ag_query_i64(ag_state *st, const ez_req *req, const char *name, int64_t *out, int *present) {
    const char *s = st->api->query(req, name);
    if (present)
        *present = s && *s;
    if (!s || !*s)
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end)
        return -1;
    *out = v;
    return 0;
}

int ag_query_time(ag_state *st, const ez_req *req, const char *name, int64_t *out, int *present) {
    const char *s = st->api->query(req, name);
    if (present)
        *present = s && *s;
    if (!s || !*s)
        return 0;
    int64_t ms = 0;
    if (st->api->parse_time(s, &ms) != EZ_OK)
        return -1;
    *out = ms;
    return 0;
}

/* JavaScript truthiness for JSON values. */
int ag_truthy(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_real(v))
        return json_real_value(v) != 0.0;
    return 1;
}

const char *ag_json_type(const json_t *v) {
    if (!v)
        return "undefined";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

char *ag_json_text(const ag_state *st, const json_t *v) {
    if (!v)
        return NULL;
    return EZ_HAS(st->api, json_text) ? st->api->json_text(v, NULL)
                                      : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int ag_write(ag_state *st, const char *sql, const json_t *params) {
    if (EZ_STORE_HAS(st->db, exec_later))
        return st->db->exec_later(st->self, sql, params);
    int64_t rc = st->db->exec(st->self, sql, params);
    return rc < 0 ? (int)rc : EZ_OK;
}

int ag_tx_begin(ag_state *st) {
    int rc = st->db->begin(st->self);
    if (rc == EZ_OK)
        return 1;
    if (rc == EZ_ESTATE)
        return 0; /* a caller's transaction is open: our writes join it */
    return rc;
}

void ag_tx_end(ag_state *st, int owned, int ok) {
    if (owned != 1)
        return;
    if (ok)
        st->db->commit(st->self);
    else
        st->db->rollback(st->self);
}

json_t *ag_col_json(const json_t *row, const char *col, json_t *fallback_new) {
    const char *s = json_string_value(json_object_get(row, col));
    if (s) {
        json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
        if (v) {
            json_decref(fallback_new);
            return v;
        }
    }
    return fallback_new;
}

const char *ag_col_str(const json_t *row, const char *col) {
    return json_string_value(json_object_get(row, col));
}

int64_t ag_col_i64(const json_t *row, const char *col) {
    const json_t *v = json_object_get(row, col);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

json_t *ag_str_or_null(const char *s) {
    return s ? json_string_nocheck(s) : json_null();
}

int ag_add_route(ag_state *st, unsigned methods, const char *pattern, const char *uuid_msg,
                 ez_route_fn fn, const ag_route *ud) {
    ez_route_opts o = {.err_style = EZ_ERR_STANDARD,
                       .uuid_error = uuid_msg ? uuid_msg : "Invalid agent ID format",
                       .uuid_code = "INVALID_ID"};
    int rc = st->api->route_ex(st->self, methods, pattern, &o, fn, (void *)ud, NULL);
    if (rc != EZ_OK)
        st->api->log(st->self, EZ_ERR, "cannot register %s (%d)", pattern, rc);
    return rc;
}
