/* WebSocket (RFC 6455) on the kernel's libevent loop. The HTTP layer (evhtp) parses the upgrade
 * request; the connection is then taken over and framed here, on the same thread as everything
 * else (docs/socketio.md explains why libwebsockets is not used). Server side only: frames from
 * the client must be masked, ours are not; no extensions. Loop thread only. */
#ifndef KN_WS_H
#define KN_WS_H

#include <stddef.h>
#include <stdint.h>

enum {
    KN_WS_OP_CONT = 0x0,
    KN_WS_OP_TEXT = 0x1,
    KN_WS_OP_BINARY = 0x2,
    KN_WS_OP_CLOSE = 0x8,
    KN_WS_OP_PING = 0x9,
    KN_WS_OP_PONG = 0xA,
};

/* Close codes used here. */
enum {
    KN_WS_NORMAL = 1000,
    KN_WS_GOING_AWAY = 1001,
    KN_WS_PROTOCOL_ERROR = 1002,
    KN_WS_NO_STATUS = 1005,
    KN_WS_ABNORMAL = 1006,
    KN_WS_INVALID_DATA = 1007,
    KN_WS_TOO_BIG = 1009,
};

/* ---- framing, pure functions (no I/O; the unit tests and fuzzers drive these) ---- */

typedef struct kn_ws_hdr {
    uint8_t fin;
    uint8_t opcode;
    uint8_t masked;
    uint8_t mask[4];
    uint64_t len;
} kn_ws_hdr;

/* Parses the frame header at buf[0..avail). Returns its length (2..14) when complete, 0 when
 * more bytes are needed, or -(close code): reserved bits or opcodes, a fragmented or oversized
 * control frame, an unmasked client frame (PROTOCOL_ERROR), payload > max_payload (TOO_BIG). */
int kn_ws_parse_header(const uint8_t *buf, size_t avail, uint64_t max_payload, kn_ws_hdr *h);
/* Writes an unmasked, final frame header into out (>= 10 bytes); returns its length. */
size_t kn_ws_frame_header(uint8_t *out, int opcode, uint64_t len);
void kn_ws_unmask(uint8_t *p, size_t len, const uint8_t mask[4]);
/* 1 when p is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int kn_ws_utf8_valid(const uint8_t *p, size_t len);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: 0, or -1 when the key is not base64 of 16
 * bytes. */
int kn_ws_accept_key(const char *key, char out[29]);

/* Message reassembly across continuation frames. Zero-initialise, set max. */
typedef struct kn_ws_dec {
    uint64_t max;    /* largest message accepted */
    uint8_t frag_op; /* opcode of the fragmented message in progress, 0 = none */
    uint8_t *buf;    /* fragments so far (owned) */
    size_t len, cap;
} kn_ws_dec;

typedef struct kn_ws_msg {
    int op; /* TEXT, BINARY, CLOSE, PING, PONG */
    const uint8_t *data;
    size_t len;
    int close_code; /* for CLOSE: the peer's code, KN_WS_NO_STATUS when it sent none */
} kn_ws_msg;

/* Feeds one complete frame (payload already unmasked). Returns 1 with *m filled for a whole
 * message or a control frame (m->data is borrowed until the next call), 0 after a non-final
 * fragment, or -(close code) for a protocol violation, bad UTF-8 in a text message or a close
 * reason, or a message longer than max. */
int kn_ws_dec_frame(kn_ws_dec *d, const kn_ws_hdr *h, const uint8_t *payload, kn_ws_msg *m);
void kn_ws_dec_free(kn_ws_dec *d);

/* ---- connections ---- */

struct bufferevent;
typedef struct kn_ws kn_ws;
struct kn_pkt;

/* Every connection of one owner, so the owner can free them all at once (a connection that was
 * let go with kn_ws_close lives on until its close frame is written). */
typedef struct kn_ws_set {
    kn_ws *head;
    size_t count;
    struct kn_outgate *gate; /* borrowed, may be NULL: frames wait there for the store */
} kn_ws_set;
/* Frees every connection of the set now, without callbacks. */
void kn_ws_set_free_all(kn_ws_set *set);

typedef struct kn_ws_cbs {
    /* A whole text or binary message (data borrowed). */
    void (*on_message)(kn_ws *w, const uint8_t *data, size_t len, int binary, void *ud);
    /* The connection ended (peer close frame, protocol error, EOF, output overflow). Called at
     * most once and never after kn_ws_close; w must be forgotten (ws.c frees it). */
    void (*on_close)(kn_ws *w, int code, void *ud);
} kn_ws_cbs;

/* Takes over an upgraded connection: bev is stolen (freed with the connection), accept is the
 * Sec-WebSocket-Accept value for the 101 answer written first. set and cbs borrowed (they
 * outlive the connection). NULL when out of memory (bev freed). */
kn_ws *kn_ws_adopt(kn_ws_set *set, struct bufferevent *bev, const char *accept,
                   const kn_ws_cbs *cbs, void *ud, uint64_t max_payload);
void kn_ws_set_ud(kn_ws *w, void *ud);
/* Sends a shared packet as one frame (pkt borrowed; a reference is kept until written).
 * EZ_OK, or EZ_EIO when the connection is closing or its output is over the limit (the
 * connection is then closed from the loop, never inside this call). */
int kn_ws_send_pkt(kn_ws *w, struct kn_pkt *pkt);
/* Sends one frame of any opcode, copying the payload. */
int kn_ws_send(kn_ws *w, int opcode, const void *data, size_t len);
/* Starts the closing handshake with code (0 = no status) and lets go: no more callbacks; the
 * connection is freed once the close frame is written (bounded by a linger timeout). */
void kn_ws_close(kn_ws *w, int code);
/* Writes what is buffered to the socket now (as much as it takes without blocking) instead of
 * at the end of the loop iteration: a packet that must not share a TCP segment with the next. */
void kn_ws_flush(kn_ws *w);
/* Bytes waiting in the output buffer (tests, backpressure). */
size_t kn_ws_pending(const kn_ws *w);

#endif
