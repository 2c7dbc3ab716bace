/* The kernel's JSON writer (see json_text.h). */
#include "json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the NUL after them. 0, or -1 out of memory. */
static int kn_jbuf_reserve(kn_jbuf *b, size_t n) {
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np)
        return -1;
    b->p = np;
    b->cap = cap;
    return 0;
}

int kn_jbuf_add(kn_jbuf *b, const void *data, size_t n) {
    if (kn_jbuf_reserve(b, n))
        return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int kn_jbuf_addc(kn_jbuf *b, char c) {
    if (b->len + 2 <= b->cap) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return 0;
    }
    return kn_jbuf_add(b, &c, 1);
}

static int add_str(kn_jbuf *b, const char *s) {
    return kn_jbuf_add(b, s, strlen(s));
}

void kn_jbuf_free(kn_jbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* The escape JSON.stringify writes for byte c, or NULL when c is written as it is. */
static const char *escape_of(unsigned char c, char ubuf[7]) {
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        if (c >= 0x20)
            return NULL;
        memcpy(ubuf, "\\u00", 4);
        ubuf[4] = hex[c >> 4];
        ubuf[5] = hex[c & 15];
        ubuf[6] = '\0';
        return ubuf;
    }
}

/* 1 for the bytes a JSON string cannot hold as they are: controls, '"' and '\\'. */
static const unsigned char must_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};

int kn_json_write_string(kn_jbuf *b, const char *s, size_t len) {
    /* room for the text as it is and the quotes up front; each escape makes room for itself
     * and the rest: the plain runs, most of the text, are copied without a check per byte */
    if (len > (size_t)-1 / 2 || kn_jbuf_reserve(b, len + 2))
        return -1;
    size_t at = b->len;
    b->p[at++] = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (;;) {
        const unsigned char *run = p;
        while (p < end && !must_escape[*p])
            p++;
        memcpy(b->p + at, run, (size_t)(p - run));
        at += (size_t)(p - run);
        if (p == end)
            break;
        char ubuf[7];
        const char *esc = escape_of(*p++, ubuf);
        size_t n = strlen(esc);
        b->len = at;
        if (kn_jbuf_reserve(b, n + (size_t)(end - p) + 1))
            return -1;
        memcpy(b->p + at, esc, n);
        at += n;
    }
    b->p[at++] = '"';
    b->p[at] = '\0';
    b->len = at;
    return 0;
}

static int write_real(kn_jbuf *b, double v) {
    char tmp[40];
    if (!isfinite(v))
        return add_str(b, "null"); /* what JSON.stringify writes for NaN and Infinity */
    if (v == 0)
        return kn_jbuf_addc(b, '0');
    if (v == floor(v) && fabs(v) < 1e21) {
        snprintf(tmp, sizeof tmp, "%.0f", v);
        return add_str(b, tmp);
    }
    for (int prec = 15; prec <= 17; prec++) { /* shortest text that reads back the same */
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* JavaScript spells exponents without padding: 1e-7, 1.5e+21 */
    char *e = strchr(tmp, 'e');
    if (e) {
        char *d = e + 2;
        char *z = d;
        while (*z == '0' && z[1])
            z++;
        memmove(d, z, strlen(z) + 1);
    }
    return add_str(b, tmp);
}

/* Decimal digits of v, without the printf family (a hot path: ids, timestamps, counters). */
static int write_integer(kn_jbuf *b, json_int_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return kn_jbuf_add(b, p, (size_t)(end - p));
}

static int write_value(kn_jbuf *b, const json_t *v, kn_json_hook hook, void *ud, int depth) {
    if (depth > KN_JSON_DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (hook) {
            int done = 0;
            if (hook(b, v, ud, &done) != 0)
                return -1;
            if (done)
                return 0;
        }
        if (kn_jbuf_addc(b, '{'))
            return -1;
        const char *k;
        const json_t *e;
        int first = 1;
        json_object_foreach((json_t *)v, k, e) {
            if (!first && kn_jbuf_addc(b, ','))
                return -1;
            first = 0;
            if (kn_json_write_string(b, k, strlen(k)) || kn_jbuf_addc(b, ':') ||
                write_value(b, e, hook, ud, depth + 1))
                return -1;
        }
        return kn_jbuf_addc(b, '}');
    }
    case JSON_ARRAY: {
        if (kn_jbuf_addc(b, '['))
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i && kn_jbuf_addc(b, ','))
                return -1;
            if (write_value(b, json_array_get(v, i), hook, ud, depth + 1))
                return -1;
        }
        return kn_jbuf_addc(b, ']');
    }
    case JSON_STRING:
        return kn_json_write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return write_integer(b, json_integer_value(v));
    case JSON_REAL:
        return write_real(b, json_real_value(v));
    case JSON_TRUE:
        return add_str(b, "true");
    case JSON_FALSE:
        return add_str(b, "false");
    default:
        return add_str(b, "null");
    }
}

int kn_json_write(kn_jbuf *b, const json_t *v, kn_json_hook hook, void *ud) {
    return write_value(b, v, hook, ud, 0);
}

char *kn_json_text(const json_t *v, size_t *len_out) {
    kn_jbuf b = {0};
    if (!v || kn_json_write(&b, v, NULL, NULL) != 0 || !b.p) {
        kn_jbuf_free(&b);
        return NULL;
    }
    if (len_out)
        *len_out = b.len;
    return b.p;
}
