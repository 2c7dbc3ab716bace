/* Socket.IO packet codec and JSON writer (see sio_codec.h). */
#include "sio_codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 512

/* ---- decoding ---- */

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int event_name_ok(const json_t *first) {
    static const char *const reserved[] = {
        "connect",     "connect_error",  "disconnect", "disconnecting",
        "newListener", "removeListener", NULL};
    if (json_is_number(first))
        return 1;
    if (!json_is_string(first))
        return 0;
    const char *name = json_string_value(first);
    for (int i = 0; reserved[i]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return 0;
    return 1;
}

static int payload_ok(int type, const json_t *d) {
    switch (type) {
    case SIO_CONNECT:
        return d == NULL || json_is_object(d);
    case SIO_DISCONNECT:
        return d == NULL;
    case SIO_CONNECT_ERROR:
        return json_is_object(d) || json_is_string(d);
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        return json_is_array(d) && json_array_size(d) > 0 && event_name_ok(json_array_get(d, 0));
    case SIO_ACK:
    case SIO_BINARY_ACK:
        return json_is_array(d);
    default:
        return 0;
    }
}

static json_t *parse_json(const char *s, size_t len) {
    json_error_t err;
    json_t *v = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    /* JavaScript numbers have no integer range: keep big ones as reals rather than refuse */
    if (!v && json_error_code(&err) == json_error_numeric_overflow)
        v = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &err);
    return v;
}

int sio_packet_decode(const char *s, size_t len, sio_packet *p) {
    memset(p, 0, sizeof *p);
    p->id = -1;
    p->nsp[0] = '/';
    if (len < 1 || s[0] < '0' || s[0] > '6')
        return -1;
    p->type = s[0] - '0';
    size_t i = 1;
    if (p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK) {
        size_t start = i;
        long n = 0;
        while (i < len && is_digit(s[i]) && i - start < 5)
            n = n * 10 + (s[i++] - '0');
        if (i == start || i >= len || s[i] != '-' || n > SIO_ATTACHMENTS_MAX)
            return -1;
        p->attachments = (int)n;
        i++;
    }
    if (i < len && s[i] == '/') {
        size_t start = i;
        while (i < len && s[i] != ',')
            i++;
        size_t n = i - start;
        if (n > SIO_NSP_MAX)
            return -1;
        memcpy(p->nsp, s + start, n);
        p->nsp[n] = '\0';
        if (i < len) /* skip the comma */
            i++;
    }
    if (i < len && is_digit(s[i])) {
        size_t start = i;
        int64_t id = 0;
        while (i < len && is_digit(s[i])) {
            if (i - start >= 15) /* beyond Number.MAX_SAFE_INTEGER territory */
                return -1;
            id = id * 10 + (s[i++] - '0');
        }
        p->id = id;
    }
    if (i < len) {
        p->data = parse_json(s + i, len - i);
        if (!p->data)
            return -1;
    }
    /* an event with no payload has no name to dispatch on */
    if ((p->type == SIO_EVENT || p->type == SIO_BINARY_EVENT) && !p->data)
        goto bad;
    if ((p->data || p->type == SIO_CONNECT_ERROR) && !payload_ok(p->type, p->data))
        goto bad;
    return 0;
bad:
    json_decref(p->data);
    p->data = NULL;
    return -1;
}

static json_t *placeholder_value(json_t *v, kn_pkt *const *atts, int natts, int *err) {
    json_t *ph = json_object_get(v, "_placeholder");
    if (!json_is_true(ph))
        return NULL;
    json_t *num = json_object_get(v, "num");
    if (!json_is_integer(num) || json_integer_value(num) < 0 || json_integer_value(num) >= natts) {
        *err = 1;
        return NULL;
    }
    const kn_pkt *a = atts[json_integer_value(num)];
    char *b64 = malloc(kn_b64_enc_len(a->len) + 1);
    if (!b64) {
        *err = 1;
        return NULL;
    }
    size_t n = kn_b64_encode((const uint8_t *)a->data, a->len, b64);
    json_t *out = json_object();
    if (!out || json_object_set_new(out, "$binary", json_stringn(b64, n)) != 0) {
        json_decref(out);
        out = NULL;
        *err = 1;
    }
    free(b64);
    return out;
}

static int resolve(json_t *v, kn_pkt *const *atts, int natts, int depth) {
    if (depth > JSON_DEPTH_MAX)
        return -1;
    int err = 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            if (json_is_object(e)) {
                json_t *r = placeholder_value(e, atts, natts, &err);
                if (err)
                    return -1;
                if (r) {
                    json_array_set_new(v, i, r);
                    continue;
                }
            }
            if (resolve(e, atts, natts, depth + 1) != 0)
                return -1;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, e) {
            if (json_is_object(e)) {
                json_t *r = placeholder_value(e, atts, natts, &err);
                if (err)
                    return -1;
                if (r) {
                    json_object_set_new(v, k, r);
                    continue;
                }
            }
            if (resolve(e, atts, natts, depth + 1) != 0)
                return -1;
        }
    }
    return 0;
}

int sio_placeholders_resolve(json_t *data, kn_pkt *const *atts, int natts) {
    return resolve(data, atts, natts, 0);
}

/* ---- buffers ---- */

int sio_buf_add(sio_buf *b, const void *data, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_addc(sio_buf *b, char c) {
    if (b->len + 2 <= b->cap) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return 0;
    }
    return sio_buf_add(b, &c, 1);
}

static int buf_adds(sio_buf *b, const char *s) {
    return sio_buf_add(b, s, strlen(s));
}

void sio_buf_free(sio_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void sio_out_release(sio_out *o) {
    kn_pkt_unref(o->text);
    for (int i = 0; i < o->natts; i++)
        kn_pkt_unref(o->atts[i]);
    free(o->atts);
    memset(o, 0, sizeof *o);
}

/* ---- JSON writer ---- */

int sio_json_write_string(sio_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    if (buf_addc(b, '"'))
        return -1;
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            if (c < 0x20) {
                ubuf[0] = '\\';
                ubuf[1] = 'u';
                ubuf[2] = '0';
                ubuf[3] = '0';
                ubuf[4] = hex[c >> 4];
                ubuf[5] = hex[c & 15];
                ubuf[6] = '\0';
                esc = ubuf;
            }
        }
        if (!esc) {
            run++;
            continue;
        }
        if (run && sio_buf_add(b, s + i - run, run))
            return -1;
        run = 0;
        if (buf_adds(b, esc))
            return -1;
    }
    if (run && sio_buf_add(b, s + len - run, run))
        return -1;
    return buf_addc(b, '"');
}

static int write_real(sio_buf *b, double v) {
    char tmp[40];
    if (!isfinite(v))
        return buf_adds(b, "null"); /* what JSON.stringify writes for NaN and Infinity */
    if (v == 0)
        return buf_addc(b, '0');
    if (v == floor(v) && fabs(v) < 1e21) {
        snprintf(tmp, sizeof tmp, "%.0f", v);
        return buf_adds(b, tmp);
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
    return buf_adds(b, tmp);
}

static int att_push(sio_out *o, kn_pkt *p) {
    if (o->natts == o->atts_cap) {
        int cap = o->atts_cap ? o->atts_cap * 2 : 4;
        kn_pkt **na = realloc(o->atts, (size_t)cap * sizeof *na);
        if (!na)
            return -1;
        o->atts = na;
        o->atts_cap = cap;
    }
    o->atts[o->natts++] = p;
    return 0;
}

/* {"$binary":"<base64>"} and nothing else: an attachment written as a placeholder. */
static int write_binary(sio_buf *b, const json_t *v, sio_out *atts, int *done) {
    *done = 0;
    if (json_object_size(v) != 1)
        return 0;
    const json_t *s = json_object_get(v, "$binary");
    if (!json_is_string(s))
        return 0;
    size_t n = json_string_length(s);
    kn_pkt *p = kn_pkt_new(NULL, kn_b64_dec_max(n), 1);
    if (!p)
        return -1;
    long got = kn_b64_decode(json_string_value(s), n, (uint8_t *)p->data);
    if (got < 0) { /* not base64 after all: an ordinary object */
        kn_pkt_unref(p);
        return 0;
    }
    kn_pkt_unref(p);
    p = kn_pkt_new(NULL, (size_t)got, 1); /* exact length for the frame header */
    if (!p || kn_b64_decode(json_string_value(s), n, (uint8_t *)p->data) != got ||
        att_push(atts, p) != 0) {
        kn_pkt_unref(p);
        return -1;
    }
    char tmp[48];
    snprintf(tmp, sizeof tmp, "{\"_placeholder\":true,\"num\":%d}", atts->natts - 1);
    *done = 1;
    return buf_adds(b, tmp);
}

static int write_value(sio_buf *b, const json_t *v, sio_out *atts, int depth) {
    char tmp[32];
    if (depth > JSON_DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (atts) {
            int done;
            if (write_binary(b, v, atts, &done) != 0)
                return -1;
            if (done)
                return 0;
        }
        if (buf_addc(b, '{'))
            return -1;
        const char *k;
        const json_t *e;
        int first = 1;
        json_object_foreach((json_t *)v, k, e) {
            if (!first && buf_addc(b, ','))
                return -1;
            first = 0;
            if (sio_json_write_string(b, k, strlen(k)) || buf_addc(b, ':') ||
                write_value(b, e, atts, depth + 1))
                return -1;
        }
        return buf_addc(b, '}');
    }
    case JSON_ARRAY: {
        if (buf_addc(b, '['))
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i && buf_addc(b, ','))
                return -1;
            if (write_value(b, json_array_get(v, i), atts, depth + 1))
                return -1;
        }
        return buf_addc(b, ']');
    }
    case JSON_STRING:
        return sio_json_write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf_adds(b, tmp);
    case JSON_REAL:
        return write_real(b, json_real_value(v));
    case JSON_TRUE:
        return buf_adds(b, "true");
    case JSON_FALSE:
        return buf_adds(b, "false");
    default:
        return buf_adds(b, "null");
    }
}

int sio_json_write(sio_buf *b, const json_t *v, sio_out *atts) {
    return write_value(b, v, atts, 0);
}

int sio_encode(sio_buf *scratch, sio_out *o, int type, const char *nsp, int64_t id,
               const char *event, const json_t *data) {
    memset(o, 0, sizeof *o);
    scratch->len = 0;
    int rc = 0;
    if (event) {
        rc |= buf_addc(scratch, '[');
        rc |= sio_json_write_string(scratch, event, strlen(event));
        if (json_is_array(data)) {
            for (size_t i = 0; i < json_array_size(data) && !rc; i++) {
                rc |= buf_addc(scratch, ',');
                rc |= write_value(scratch, json_array_get(data, i), o, 1);
            }
        } else if (data) {
            rc |= buf_addc(scratch, ',');
            rc |= write_value(scratch, data, o, 1);
        }
        rc |= buf_addc(scratch, ']');
    } else if (data) {
        rc |= write_value(scratch, data, o, 0);
    }
    if (rc)
        goto fail;
    if (o->natts && type == SIO_EVENT)
        type = SIO_BINARY_EVENT;
    else if (o->natts && type == SIO_ACK)
        type = SIO_BINARY_ACK;
    /* prefix: Engine.IO "message" type, packet type, attachments, namespace, ack id */
    char head[SIO_NSP_MAX + 64];
    size_t h = 0;
    head[h++] = '4';
    head[h++] = (char)('0' + type);
    if (o->natts)
        h += (size_t)snprintf(head + h, sizeof head - h, "%d-", o->natts);
    if (nsp && strcmp(nsp, "/") != 0) {
        size_t n = strlen(nsp);
        if (n > SIO_NSP_MAX)
            goto fail;
        memcpy(head + h, nsp, n);
        h += n;
        head[h++] = ',';
    }
    if (id >= 0)
        h += (size_t)snprintf(head + h, sizeof head - h, "%lld", (long long)id);
    o->text = kn_pkt_new2(head, h, scratch->p ? scratch->p : "", scratch->len);
    if (!o->text)
        goto fail;
    return 0;
fail:
    sio_out_release(o);
    return -1;
}
