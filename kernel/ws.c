/* RFC 6455 framing and the WebSocket connection on a bufferevent. */
#include "ws.h"

#include "outgate.h"
#include "sio_pkt.h"

#include <elizad/types.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- framing ---- */

int kn_ws_parse_header(const uint8_t *buf, size_t avail, uint64_t max_payload, kn_ws_hdr *h) {
    if (avail < 2)
        return 0;
    uint8_t b0 = buf[0], b1 = buf[1];
    if (b0 & 0x70) /* RSV1-3: no extension was negotiated */
        return -KN_WS_PROTOCOL_ERROR;
    h->fin = (b0 & 0x80) != 0;
    h->opcode = b0 & 0x0F;
    h->masked = (b1 & 0x80) != 0;
    int control = h->opcode >= 0x8;
    switch (h->opcode) {
    case KN_WS_OP_CONT:
    case KN_WS_OP_TEXT:
    case KN_WS_OP_BINARY:
    case KN_WS_OP_CLOSE:
    case KN_WS_OP_PING:
    case KN_WS_OP_PONG:
        break;
    default:
        return -KN_WS_PROTOCOL_ERROR;
    }
    if (!h->masked)
        return -KN_WS_PROTOCOL_ERROR;
    uint64_t len = b1 & 0x7F;
    size_t need = 2;
    if (control && (!h->fin || len > 125))
        return -KN_WS_PROTOCOL_ERROR;
    if (len == 126) {
        need = 4;
        if (avail < need)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
    } else if (len == 127) {
        need = 10;
        if (avail < need)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        if (len >> 63)
            return -KN_WS_PROTOCOL_ERROR;
    }
    if (len > max_payload)
        return -KN_WS_TOO_BIG;
    if (avail < need + 4)
        return 0;
    memcpy(h->mask, buf + need, 4);
    h->len = len;
    return (int)(need + 4);
}

size_t kn_ws_frame_header(uint8_t *out, int opcode, uint64_t len) {
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

void kn_ws_unmask(uint8_t *p, size_t len, const uint8_t mask[4]) {
    size_t i = 0;
    /* word at a time: the payload is usually a pulled-up, unaligned evbuffer chunk */
    uint32_t m32;
    memcpy(&m32, mask, 4);
    uint64_t m64 = (uint64_t)m32 << 32 | m32;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m64;
        memcpy(p + i, &v, 8);
    }
    for (; i < len; i++)
        p[i] ^= mask[i & 3];
}

int kn_ws_utf8_valid(const uint8_t *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = p[i + k];
            if ((cc & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (cc & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

int kn_ws_accept_key(const char *key, char out[29]) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t klen = key ? strlen(key) : 0;
    uint8_t raw[20];
    if (klen != 24 || kn_b64_decode(key, klen, raw) != 16)
        return -1;
    char cat[24 + sizeof guid];
    memcpy(cat, key, 24);
    memcpy(cat + 24, guid, sizeof guid);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(cat, 24 + sizeof guid - 1, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return -1;
    kn_b64_encode(md, 20, out);
    return 0;
}

static int close_code_valid(int code) {
    if (code >= 3000 && code <= 4999)
        return 1;
    return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

static int dec_append(kn_ws_dec *d, const uint8_t *p, size_t n) {
    if (n == 0)
        return 0;
    if (n > d->max - d->len)
        return -KN_WS_TOO_BIG;
    if (d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n)
            cap *= 2;
        uint8_t *nb = realloc(d->buf, cap);
        if (!nb)
            return -KN_WS_TOO_BIG;
        d->buf = nb;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return 0;
}

int kn_ws_dec_frame(kn_ws_dec *d, const kn_ws_hdr *h, const uint8_t *payload, kn_ws_msg *m) {
    size_t n = (size_t)h->len;
    memset(m, 0, sizeof *m);
    if (h->opcode >= 0x8) { /* control frames may arrive between fragments */
        m->op = h->opcode;
        m->data = payload;
        m->len = n;
        if (h->opcode == KN_WS_OP_CLOSE) {
            if (n == 1)
                return -KN_WS_PROTOCOL_ERROR;
            m->close_code = KN_WS_NO_STATUS;
            if (n >= 2) {
                m->close_code = payload[0] << 8 | payload[1];
                if (!close_code_valid(m->close_code))
                    return -KN_WS_PROTOCOL_ERROR;
                if (!kn_ws_utf8_valid(payload + 2, n - 2))
                    return -KN_WS_INVALID_DATA;
            }
        }
        return 1;
    }
    if (h->opcode == KN_WS_OP_CONT) {
        if (!d->frag_op)
            return -KN_WS_PROTOCOL_ERROR;
        int r = dec_append(d, payload, n);
        if (r < 0)
            return r;
        if (!h->fin)
            return 0;
        m->op = d->frag_op;
        m->data = d->buf;
        m->len = d->len;
        d->frag_op = 0;
        d->len = 0;
    } else {
        if (d->frag_op) /* a new message may not start inside another */
            return -KN_WS_PROTOCOL_ERROR;
        if (!h->fin) {
            d->frag_op = h->opcode;
            d->len = 0;
            return dec_append(d, payload, n);
        }
        m->op = h->opcode;
        m->data = payload;
        m->len = n;
    }
    if (m->op == KN_WS_OP_TEXT && !kn_ws_utf8_valid(m->data, m->len))
        return -KN_WS_INVALID_DATA;
    return 1;
}

void kn_ws_dec_free(kn_ws_dec *d) {
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = 0;
    d->frag_op = 0;
}

/* ---- connections ---- */

/* Output above PAUSE stops reading from the peer until it drains below RESUME; above the hard
 * limit the peer is not reading at all and is dropped. */
#define WS_OUT_PAUSE (1u << 20)
#define WS_OUT_RESUME (256u << 10)
#define WS_OUT_LIMIT_MIN (8u << 20)
#define WS_LINGER_SEC 5

enum { WS_OPEN, WS_CLOSING, WS_DEAD };

struct kn_ws {
    kn_ws_set *set;
    kn_ws *prev, *next; /* in set */
    struct bufferevent *bev;
    const kn_ws_cbs *cbs; /* NULL once the user let go or was told */
    void *ud;
    kn_ws_dec dec;
    uint64_t max;
    size_t out_limit;
    uint8_t state;
    uint8_t in_read;
    uint8_t read_paused;
    uint8_t free_pending;
    kn_outq held; /* frames reporting writes not committed yet (outgate.h) */
};

static void ws_free(kn_ws *w) {
    if (w->in_read) {
        w->free_pending = 1;
        return;
    }
    kn_outq_clear(w->set->gate, &w->held);
    if (w->prev)
        w->prev->next = w->next;
    else
        w->set->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->set->count--;
    if (w->bev)
        bufferevent_free(w->bev);
    kn_ws_dec_free(&w->dec);
    free(w);
}

static void ws_notify(kn_ws *w, int code) {
    const kn_ws_cbs *cbs = w->cbs;
    w->cbs = NULL;
    if (cbs && cbs->on_close)
        cbs->on_close(w, code, w->ud);
}

static int ws_after_send(kn_ws *w);

/* Where the next frame goes: the socket's output, or behind frames the gate holds. */
static struct evbuffer *ws_out(kn_ws *w) {
    struct evbuffer *held = kn_outq_target(w->set->gate, &w->held);
    return held ? held : bufferevent_get_output(w->bev);
}

static void ws_release(kn_outq *q, struct evbuffer *buf, void *ud) {
    (void)q;
    kn_ws *w = ud;
    struct evbuffer *out = bufferevent_get_output(w->bev);
    evbuffer_add_buffer(out, buf);
    if (w->state == WS_CLOSING) {
        bufferevent_enable(w->bev, EV_WRITE); /* its close frame may be in there */
        return;
    }
    kn_ws_flush(w); /* now rather than on the next loop turn: these frames waited already */
    ws_after_send(w);
}

/* Writes some held frames reported were lost: drop the connection rather than carry on as if
 * they were stored (the client reconnects and reads what is there). */
static void ws_fail_held(kn_outq *q, void *ud) {
    (void)q;
    kn_ws *w = ud;
    if (w->state == WS_DEAD)
        return;
    w->state = WS_DEAD;
    bufferevent_disable(w->bev, EV_READ | EV_WRITE);
    bufferevent_trigger_event(w->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
}

static void ws_write_frame(kn_ws *w, int opcode, const void *data, size_t len) {
    uint8_t hdr[KN_PKT_HEAD];
    size_t hl = kn_ws_frame_header(hdr, opcode, len);
    struct evbuffer *out = ws_out(w);
    evbuffer_add(out, hdr, hl);
    if (len)
        evbuffer_add(out, data, len);
}

/* Sends a close frame, stops reading and frees the connection once it is written. */
static void ws_begin_close(kn_ws *w, int code) {
    if (w->state != WS_OPEN)
        return;
    w->state = WS_CLOSING;
    uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    ws_write_frame(w, KN_WS_OP_CLOSE, body, code && code != KN_WS_NO_STATUS ? 2 : 0);
    bufferevent_disable(w->bev, EV_READ);
    bufferevent_setwatermark(w->bev, EV_WRITE, 0, 0);
    struct timeval tv = {WS_LINGER_SEC, 0};
    bufferevent_set_timeouts(w->bev, NULL, &tv);
    bufferevent_enable(w->bev, EV_WRITE);
}

static void ws_fail(kn_ws *w, int code) {
    ws_begin_close(w, code);
    ws_notify(w, code);
}

static void ws_handle(kn_ws *w, const kn_ws_msg *m) {
    switch (m->op) {
    case KN_WS_OP_TEXT:
    case KN_WS_OP_BINARY:
        if (w->cbs && w->cbs->on_message)
            w->cbs->on_message(w, m->data, m->len, m->op == KN_WS_OP_BINARY, w->ud);
        break;
    case KN_WS_OP_PING:
        ws_write_frame(w, KN_WS_OP_PONG, m->data, m->len);
        break;
    case KN_WS_OP_CLOSE:
        /* echo the peer's code, as RFC 6455 §5.5.1 asks */
        ws_fail(w, m->close_code == KN_WS_NO_STATUS ? 0 : m->close_code);
        break;
    default: /* PONG: nothing to do, Engine.IO has its own heartbeat */
        break;
    }
}

static void ws_readcb(struct bufferevent *bev, void *arg) {
    kn_ws *w = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    w->in_read = 1;
    while (w->state == WS_OPEN) {
        size_t avail = evbuffer_get_length(in);
        uint8_t tmp[KN_PKT_HEAD];
        size_t peek = avail < sizeof tmp ? avail : sizeof tmp;
        if (peek < 2)
            break;
        evbuffer_copyout(in, tmp, peek);
        kn_ws_hdr h;
        int hl = kn_ws_parse_header(tmp, peek, w->max, &h);
        if (hl == 0)
            break;
        if (hl < 0) {
            ws_fail(w, -hl);
            break;
        }
        size_t total = (size_t)hl + (size_t)h.len;
        if (avail < total)
            break;
        uint8_t *frame = evbuffer_pullup(in, (ev_ssize_t)total);
        if (!frame) {
            ws_fail(w, KN_WS_TOO_BIG);
            break;
        }
        kn_ws_unmask(frame + hl, (size_t)h.len, h.mask);
        kn_ws_msg m;
        int r = kn_ws_dec_frame(&w->dec, &h, frame + hl, &m);
        if (r < 0) {
            ws_fail(w, -r);
            break;
        }
        if (r == 1)
            ws_handle(w, &m);
        evbuffer_drain(in, total);
    }
    w->in_read = 0;
    if (w->state != WS_OPEN)
        evbuffer_drain(in, evbuffer_get_length(in));
    if (w->free_pending)
        ws_free(w);
}

static void ws_writecb(struct bufferevent *bev, void *arg) {
    kn_ws *w = arg;
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
    if (w->state == WS_CLOSING) {
        if (pending == 0 && !kn_outq_held(&w->held)) {
            w->state = WS_DEAD;
            ws_free(w);
        }
        return;
    }
    if (w->read_paused && pending <= WS_OUT_RESUME && w->state == WS_OPEN) {
        w->read_paused = 0;
        bufferevent_enable(bev, EV_READ);
    }
}

static void ws_eventcb(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    kn_ws *w = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    w->state = WS_DEAD;
    ws_notify(w, KN_WS_ABNORMAL);
    ws_free(w);
}

kn_ws *kn_ws_adopt(kn_ws_set *set, struct bufferevent *bev, const char *accept,
                   const kn_ws_cbs *cbs, void *ud, uint64_t max_payload) {
    kn_ws *w = calloc(1, sizeof *w);
    if (!w) {
        bufferevent_free(bev);
        return NULL;
    }
    w->set = set;
    w->next = set->head;
    if (set->head)
        set->head->prev = w;
    set->head = w;
    set->count++;
    w->bev = bev;
    w->cbs = cbs;
    w->ud = ud;
    w->max = max_payload;
    w->dec.max = max_payload;
    w->out_limit = WS_OUT_LIMIT_MIN;
    if (max_payload < SIZE_MAX / 8 && max_payload * 8 > w->out_limit)
        w->out_limit = (size_t)max_payload * 8;
    w->state = WS_OPEN;
    kn_outq_init(&w->held, ws_release, ws_fail_held, w);
    int fd = (int)bufferevent_getfd(bev);
    if (fd >= 0) { /* small frames must not wait for the peer's delayed ACK */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_setcb(bev, ws_readcb, ws_writecb, ws_eventcb, w);
    /* a frame can never exceed max_payload + header, so this bound always lets us progress */
    size_t high = max_payload + (64u << 10);
    bufferevent_setwatermark(bev, EV_READ, 0, high);
    bufferevent_setwatermark(bev, EV_WRITE, WS_OUT_RESUME, 0);
    if (accept) {
        char resp[160];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                         accept);
        bufferevent_write(bev, resp, (size_t)n);
    }
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* bytes that came with the upgrade request are processed once the HTTP layer let go */
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
    return w;
}

void kn_ws_set_ud(kn_ws *w, void *ud) {
    w->ud = ud;
}

void kn_ws_flush(kn_ws *w) {
    if (w->state != WS_OPEN)
        return;
    evutil_socket_t fd = bufferevent_getfd(w->bev);
    struct evbuffer *out = bufferevent_get_output(w->bev);
    if (fd >= 0 && evbuffer_get_length(out)) {
        /* a socket bufferevent keeps its output's start frozen outside its own write callback
         * (evbuffer_write would refuse): thaw it for this write, as that callback does */
        evbuffer_unfreeze(out, 1);
        evbuffer_write(out, fd); /* the rest, if any, goes out the usual way */
        evbuffer_freeze(out, 1);
    }
}

size_t kn_ws_pending(const kn_ws *w) {
    return w->bev ? evbuffer_get_length(bufferevent_get_output(w->bev)) : 0;
}

/* Called after every send: pause reading from a peer that does not read, drop one that
 * stopped. The drop is an error event delivered later from the loop. */
static int ws_after_send(kn_ws *w) {
    size_t pending = kn_ws_pending(w);
    if (pending > w->out_limit) {
        w->state = WS_DEAD;
        bufferevent_disable(w->bev, EV_READ | EV_WRITE);
        bufferevent_trigger_event(w->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
        return EZ_EIO;
    }
    if (pending > WS_OUT_PAUSE && !w->read_paused) {
        w->read_paused = 1;
        bufferevent_disable(w->bev, EV_READ);
    }
    return EZ_OK;
}

static void pkt_cleanup(const void *data, size_t len, void *arg) {
    (void)data;
    (void)len;
    kn_pkt_unref(arg);
}

int kn_ws_send_pkt(kn_ws *w, struct kn_pkt *pkt) {
    if (w->state != WS_OPEN)
        return EZ_EIO;
    size_t flen;
    const uint8_t *frame = kn_pkt_frame(pkt, &flen);
    struct evbuffer *out = ws_out(w);
    /* small frames are cheaper to copy than to reference (a chain per reference) */
    if (flen <= 512) {
        evbuffer_add(out, frame, flen);
    } else {
        kn_pkt_ref(pkt);
        if (evbuffer_add_reference(out, frame, flen, pkt_cleanup, pkt) != 0) {
            kn_pkt_unref(pkt);
            return EZ_EIO;
        }
    }
    return ws_after_send(w);
}

int kn_ws_send(kn_ws *w, int opcode, const void *data, size_t len) {
    if (w->state != WS_OPEN)
        return EZ_EIO;
    ws_write_frame(w, opcode, data, len);
    return ws_after_send(w);
}

void kn_ws_close(kn_ws *w, int code) {
    w->cbs = NULL;
    if (w->state == WS_OPEN) {
        ws_begin_close(w, code);
        return;
    }
    if (w->state == WS_DEAD) /* overflowed: its error event frees it */
        return;
}

void kn_ws_set_free_all(kn_ws_set *set) {
    while (set->head) {
        kn_ws *w = set->head;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        w->cbs = NULL;
        w->in_read = 0;
        ws_free(w);
    }
}
