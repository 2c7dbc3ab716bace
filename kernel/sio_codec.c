/* Socket.IO packet codec (see sio_codec.h); the JSON it writes comes from json_text.c. */
#include "sio_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (depth > KN_JSON_DEPTH_MAX)
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

void sio_out_release(sio_out *o) {
    kn_pkt_unref(o->text);
    for (int i = 0; i < o->natts; i++)
        kn_pkt_unref(o->atts[i]);
    free(o->atts);
    memset(o, 0, sizeof *o);
}

/* ---- writing ---- */

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
static int write_binary(kn_jbuf *b, const json_t *v, void *ud, int *done) {
    sio_out *atts = ud;
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
    return kn_jbuf_add(b, tmp, strlen(tmp));
}

int sio_json_write(sio_buf *b, const json_t *v, sio_out *atts) {
    return kn_json_write(b, v, atts ? write_binary : NULL, atts);
}

int sio_encode(sio_buf *scratch, sio_out *o, int type, const char *nsp, int64_t id,
               const char *event, const json_t *data) {
    memset(o, 0, sizeof *o);
    scratch->len = 0;
    int rc = 0;
    if (event) {
        rc |= kn_jbuf_addc(scratch, '[');
        rc |= kn_json_write_string(scratch, event, strlen(event));
        if (json_is_array(data)) {
            for (size_t i = 0; i < json_array_size(data) && !rc; i++) {
                rc |= kn_jbuf_addc(scratch, ',');
                rc |= sio_json_write(scratch, json_array_get(data, i), o);
            }
        } else if (data) {
            rc |= kn_jbuf_addc(scratch, ',');
            rc |= sio_json_write(scratch, data, o);
        }
        rc |= kn_jbuf_addc(scratch, ']');
    } else if (data) {
        rc |= sio_json_write(scratch, data, o);
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
