/* One Engine.IO packet encoded once and shared by every recipient of a broadcast. The bytes are
 * preceded by their WebSocket frame header, so a websocket recipient gets the whole frame with
 * one reference and a polling recipient gets the packet text. Loop thread only: the reference
 * count is plain. */
#ifndef KN_SIO_PKT_H
#define KN_SIO_PKT_H

#include <stddef.h>
#include <stdint.h>

#define KN_PKT_HEAD 14 /* largest server frame header: 2 + 8 bytes, rounded for alignment */

typedef struct kn_pkt {
    uint32_t refs;
    uint32_t len;   /* payload bytes */
    uint8_t binary; /* 1: raw bytes (websocket binary frame, polling "b<base64>") */
    uint8_t hdr_len;
    uint8_t head[KN_PKT_HEAD]; /* frame header, right-aligned so it touches data[] */
    char data[];               /* len bytes, then a NUL */
} kn_pkt;

/* A packet of len bytes copied from data (NULL: left for the caller to fill before it is sent).
 * new (refs = 1); NULL when out of memory or len > UINT32_MAX. */
kn_pkt *kn_pkt_new(const void *data, size_t len, int binary);
/* Two-part text packet: a + b (e.g. the packet type character and the body). new. */
kn_pkt *kn_pkt_new2(const char *a, size_t alen, const char *b, size_t blen);
static inline kn_pkt *kn_pkt_ref(kn_pkt *p) {
    p->refs++;
    return p;
}
void kn_pkt_unref(kn_pkt *p);
/* The websocket frame (header + payload) of the packet. */
static inline const uint8_t *kn_pkt_frame(const kn_pkt *p, size_t *len) {
    *len = (size_t)p->hdr_len + p->len;
    return p->head + KN_PKT_HEAD - p->hdr_len;
}

/* Standard base64 (with padding). enc_len/dec_max give the output sizes; encode writes a NUL
 * after the text. decode returns the byte count, or -1 on a malformed input (whitespace is not
 * accepted; missing padding is). */
size_t kn_b64_enc_len(size_t n);
size_t kn_b64_encode(const uint8_t *in, size_t n, char *out);
static inline size_t kn_b64_dec_max(size_t n) {
    return n / 4 * 3 + 3;
}
long kn_b64_decode(const char *in, size_t n, uint8_t *out);

#endif
