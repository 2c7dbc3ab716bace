/* Shared packets and base64. */
#include "sio_pkt.h"

#include "ws.h"

#include <stdlib.h>
#include <string.h>

static kn_pkt *pkt_alloc(size_t len, int binary) {
    if (len > UINT32_MAX - 1)
        return NULL;
    kn_pkt *p = malloc(sizeof *p + len + 1);
    if (!p)
        return NULL;
    p->refs = 1;
    p->len = (uint32_t)len;
    p->binary = binary ? 1 : 0;
    uint8_t hdr[KN_PKT_HEAD];
    size_t n = kn_ws_frame_header(hdr, binary ? KN_WS_OP_BINARY : KN_WS_OP_TEXT, len);
    p->hdr_len = (uint8_t)n;
    memcpy(p->head + KN_PKT_HEAD - n, hdr, n);
    p->data[len] = '\0';
    return p;
}

kn_pkt *kn_pkt_new(const void *data, size_t len, int binary) {
    kn_pkt *p = pkt_alloc(len, binary);
    if (p && data && len)
        memcpy(p->data, data, len);
    return p;
}

kn_pkt *kn_pkt_new2(const char *a, size_t alen, const char *b, size_t blen) {
    if (blen > SIZE_MAX - alen)
        return NULL;
    kn_pkt *p = pkt_alloc(alen + blen, 0);
    if (!p)
        return NULL;
    memcpy(p->data, a, alen);
    if (blen)
        memcpy(p->data + alen, b, blen);
    return p;
}

void kn_pkt_unref(kn_pkt *p) {
    if (p && --p->refs == 0)
        free(p);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t kn_b64_enc_len(size_t n) {
    return (n + 2) / 3 * 4;
}

size_t kn_b64_encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = b64chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64chars[v >> 18];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = b64chars[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

long kn_b64_decode(const char *in, size_t n, uint8_t *out) {
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}
