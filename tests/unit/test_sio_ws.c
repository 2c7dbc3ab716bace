/* ws.c framing: Sec-WebSocket-Accept, frame headers both ways, unmasking, UTF-8 checks,
 * message reassembly and every protocol violation the parser must refuse; then a byte stream
 * cut at every possible point, and random garbage that must never crash the parser. */
#include "check.h"
#include "evloop.h"
#include "sio_pkt.h"
#include "ws.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Builds one client frame (masked with a fixed key) into out; returns its length. */
static size_t client_frame(uint8_t *out, int fin, int opcode, const void *payload, size_t len) {
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
    return h + len;
}

/* Parses and decodes one complete frame from buf; returns the decoder's verdict. */
static int feed(kn_ws_dec *d, uint8_t *buf, size_t len, kn_ws_msg *m) {
    kn_ws_hdr h;
    int hl = kn_ws_parse_header(buf, len, d->max, &h);
    if (hl <= 0)
        return hl == 0 ? -1 : hl;
    kn_ws_unmask(buf + hl, (size_t)h.len, h.mask);
    return kn_ws_dec_frame(d, &h, buf + hl, m);
}

static void test_accept_key(void) {
    char out[29];
    /* the worked example of RFC 6455 section 1.3 */
    CHECK_INT(kn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(kn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", out), -1);   /* not 24 chars */
    CHECK_INT(kn_ws_accept_key("dGhlIHNhbXBsZSBub25j!Q==", out), -1); /* not base64 */
    CHECK_INT(kn_ws_accept_key("dGhlIHNhbXBsZSBub25jZQo=", out), -1); /* 17 bytes... */
    CHECK_INT(kn_ws_accept_key(NULL, out), -1);
}

static void test_server_header(void) {
    uint8_t h[16];
    CHECK_INT(kn_ws_frame_header(h, KN_WS_OP_TEXT, 0), 2);
    CHECK_INT(h[0], 0x81);
    CHECK_INT(h[1], 0);
    CHECK_INT(kn_ws_frame_header(h, KN_WS_OP_BINARY, 125), 2);
    CHECK_INT(h[0], 0x82);
    CHECK_INT(h[1], 125);
    CHECK_INT(kn_ws_frame_header(h, KN_WS_OP_TEXT, 126), 4);
    CHECK_INT(h[1], 126);
    CHECK_INT(h[2] << 8 | h[3], 126);
    CHECK_INT(kn_ws_frame_header(h, KN_WS_OP_TEXT, 65535), 4);
    CHECK_INT(h[2] << 8 | h[3], 65535);
    CHECK_INT(kn_ws_frame_header(h, KN_WS_OP_TEXT, 65536), 10);
    CHECK_INT(h[1], 127);
    CHECK_INT(h[7] << 16 | h[8] << 8 | h[9], 65536);
    CHECK_INT(h[2] | h[3] | h[4] | h[5] | h[6], 0);

    /* a packet carries its own header right before its bytes */
    kn_pkt *p = kn_pkt_new("4hello", 6, 0);
    size_t flen;
    const uint8_t *f = kn_pkt_frame(p, &flen);
    CHECK_INT(flen, 8);
    CHECK_INT(f[0], 0x81);
    CHECK_INT(f[1], 6);
    CHECK(memcmp(f + 2, "4hello", 6) == 0);
    kn_pkt_unref(p);
    uint8_t big[70000] = {0};
    p = kn_pkt_new(big, sizeof big, 1);
    f = kn_pkt_frame(p, &flen);
    CHECK_INT(flen, sizeof big + 10);
    CHECK_INT(f[0], 0x82);
    CHECK_INT(f[1], 127);
    kn_pkt_unref(p);
}

static void test_parse_header(void) {
    uint8_t buf[80000];
    kn_ws_hdr h;
    size_t n = client_frame(buf, 1, KN_WS_OP_TEXT, "hi", 2);
    CHECK_INT(n, 8);
    for (size_t cut = 0; cut < 6; cut++) /* header incomplete: ask for more */
        CHECK_INT(kn_ws_parse_header(buf, cut, 1000, &h), 0);
    CHECK_INT(kn_ws_parse_header(buf, n, 1000, &h), 6);
    CHECK_INT(h.fin, 1);
    CHECK_INT(h.opcode, KN_WS_OP_TEXT);
    CHECK_INT(h.len, 2);

    uint8_t payload[70000];
    memset(payload, 'x', sizeof payload);
    n = client_frame(buf, 1, KN_WS_OP_BINARY, payload, 300);
    CHECK_INT(kn_ws_parse_header(buf, 3, 100000, &h), 0);
    CHECK_INT(kn_ws_parse_header(buf, n, 100000, &h), 8);
    CHECK_INT(h.len, 300);
    n = client_frame(buf, 1, KN_WS_OP_BINARY, payload, 70000);
    CHECK_INT(kn_ws_parse_header(buf, 9, 100000, &h), 0);
    CHECK_INT(kn_ws_parse_header(buf, n, 100000, &h), 14);
    CHECK_INT(h.len, 70000);
    /* over the limit: refused from the header alone, before any payload is buffered */
    CHECK_INT(kn_ws_parse_header(buf, 14, 69999, &h), -KN_WS_TOO_BIG);

    uint8_t f[16];
    client_frame(f, 1, KN_WS_OP_TEXT, "a", 1);
    f[1] &= 0x7F; /* unmasked client frame */
    CHECK_INT(kn_ws_parse_header(f, 7, 1000, &h), -KN_WS_PROTOCOL_ERROR);
    client_frame(f, 1, KN_WS_OP_TEXT, "a", 1);
    f[0] |= 0x40; /* RSV1 without a negotiated extension */
    CHECK_INT(kn_ws_parse_header(f, 7, 1000, &h), -KN_WS_PROTOCOL_ERROR);
    for (int op = 3; op <= 0xF; op++) {
        if (op >= 8 && op <= 10)
            continue;
        client_frame(f, 1, op, "a", 1);
        CHECK_INT(kn_ws_parse_header(f, 7, 1000, &h), -KN_WS_PROTOCOL_ERROR);
    }
    client_frame(f, 0, KN_WS_OP_PING, "a", 1); /* fragmented control frame */
    CHECK_INT(kn_ws_parse_header(f, 7, 1000, &h), -KN_WS_PROTOCOL_ERROR);
    n = client_frame(buf, 1, KN_WS_OP_PING, payload, 126); /* control frame > 125 bytes */
    CHECK_INT(kn_ws_parse_header(buf, n, 1000, &h), -KN_WS_PROTOCOL_ERROR);
    uint8_t huge[14] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}; /* MSB set */
    CHECK_INT(kn_ws_parse_header(huge, 14, UINT64_MAX, &h), -KN_WS_PROTOCOL_ERROR);
}

static void test_unmask(void) {
    uint8_t mask[4] = {1, 2, 3, 0xF0};
    for (size_t len = 0; len < 40; len++) {
        uint8_t a[64], b[64];
        for (size_t i = 0; i <= len; i++)
            a[i] = b[i] = (uint8_t)(i * 7 + 3);
        kn_ws_unmask(a + 1, len, mask); /* unaligned on purpose */
        int ok = 1;
        for (size_t i = 0; i < len; i++)
            ok &= a[i + 1] == (uint8_t)(b[i + 1] ^ mask[i & 3]);
        CHECK(ok);
    }
}

static void test_utf8(void) {
    CHECK(kn_ws_utf8_valid((const uint8_t *)"", 0));
    CHECK(kn_ws_utf8_valid((const uint8_t *)"plain ascii", 11));
    const char *ok = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* é € 😀 */
    CHECK(kn_ws_utf8_valid((const uint8_t *)ok, strlen(ok)));
    static const char *const bad[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xe0\x80\x80",     /* overlong */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* truncated */
        "\x80",             /* lone continuation */
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!kn_ws_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
}

static void test_messages(void) {
    kn_ws_dec d = {.max = 64};
    kn_ws_msg m = {0};
    uint8_t f[256];

    size_t n = client_frame(f, 1, KN_WS_OP_TEXT, "4hello", 6);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.op, KN_WS_OP_TEXT);
    CHECK_INT(m.len, 6);
    CHECK(m.data && memcmp(m.data, "4hello", 6) == 0);

    /* fragments, with a ping in the middle as RFC 6455 allows */
    n = client_frame(f, 0, KN_WS_OP_TEXT, "ab", 2);
    CHECK_INT(feed(&d, f, n, &m), 0);
    n = client_frame(f, 1, KN_WS_OP_PING, "p", 1);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.op, KN_WS_OP_PING);
    n = client_frame(f, 0, KN_WS_OP_CONT, "\xc3", 1); /* é split across frames */
    CHECK_INT(feed(&d, f, n, &m), 0);
    n = client_frame(f, 1, KN_WS_OP_CONT, "\xa9z", 2);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.op, KN_WS_OP_TEXT);
    CHECK_INT(m.len, 5);
    CHECK(m.data && memcmp(m.data, "ab\xc3\xa9z", 5) == 0);

    n = client_frame(f, 1, KN_WS_OP_BINARY, "\x00\xff", 2);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.op, KN_WS_OP_BINARY);

    n = client_frame(f, 1, KN_WS_OP_CONT, "x", 1); /* continuation of nothing */
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_PROTOCOL_ERROR);
    n = client_frame(f, 0, KN_WS_OP_BINARY, "x", 1);
    CHECK_INT(feed(&d, f, n, &m), 0);
    n = client_frame(f, 1, KN_WS_OP_TEXT, "y", 1); /* a new message inside a fragmented one */
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_PROTOCOL_ERROR);
    kn_ws_dec_free(&d);
    d = (kn_ws_dec){.max = 64};

    /* the whole message counts against the limit, not each fragment */
    uint8_t chunk[40];
    memset(chunk, 'q', sizeof chunk);
    n = client_frame(f, 0, KN_WS_OP_TEXT, chunk, 40);
    CHECK_INT(feed(&d, f, n, &m), 0);
    n = client_frame(f, 1, KN_WS_OP_CONT, chunk, 40);
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_TOO_BIG);
    kn_ws_dec_free(&d);
    d = (kn_ws_dec){.max = 64};

    n = client_frame(f, 1, KN_WS_OP_TEXT, "\xc3(", 2);
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_INVALID_DATA);

    /* close frames: no body, code + reason, and the malformed kinds */
    n = client_frame(f, 1, KN_WS_OP_CLOSE, "", 0);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.close_code, KN_WS_NO_STATUS);
    n = client_frame(f, 1, KN_WS_OP_CLOSE,
                     "\x03\xe8"
                     "bye",
                     5);
    CHECK_INT(feed(&d, f, n, &m), 1);
    CHECK_INT(m.close_code, 1000);
    n = client_frame(f, 1, KN_WS_OP_CLOSE, "\x03", 1);
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_PROTOCOL_ERROR);
    n = client_frame(f, 1, KN_WS_OP_CLOSE, "\x03\xed", 2); /* 1005 may not be sent */
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_PROTOCOL_ERROR);
    n = client_frame(f, 1, KN_WS_OP_CLOSE, "\x0b\xb8\xff", 3); /* 3000 + bad UTF-8 reason */
    CHECK_INT(feed(&d, f, n, &m), -KN_WS_INVALID_DATA);
    kn_ws_dec_free(&d);
}

/* Several frames in one byte stream, delivered cut at every offset: the reader must only act
 * on complete frames and resume exactly where it stopped. */
static void test_stream(void) {
    uint8_t stream[512], copy[512];
    size_t n = 0;
    n += client_frame(stream + n, 1, KN_WS_OP_TEXT, "40", 2);
    n += client_frame(stream + n, 0, KN_WS_OP_TEXT, "42[\"a\",", 7);
    n += client_frame(stream + n, 1, KN_WS_OP_CONT, "1]", 2);
    n += client_frame(stream + n, 1, KN_WS_OP_BINARY, "\x01\x02\x03", 3);
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(copy, stream, n);
        kn_ws_dec d = {.max = 1000};
        size_t pos = 0, avail = cut;
        int msgs = 0, texts_ok = 1;
        for (int round = 0; round < 2; round++) {
            for (;;) {
                kn_ws_hdr h;
                int hl = kn_ws_parse_header(copy + pos, avail - pos, d.max, &h);
                if (hl <= 0 || avail - pos < (size_t)hl + h.len)
                    break;
                kn_ws_unmask(copy + pos + hl, (size_t)h.len, h.mask);
                kn_ws_msg m;
                int r = kn_ws_dec_frame(&d, &h, copy + pos + hl, &m);
                if (r == 1) {
                    msgs++;
                    if (msgs == 2)
                        texts_ok &= m.len == 9 && memcmp(m.data, "42[\"a\",1]", 9) == 0;
                }
                pos += (size_t)hl + h.len;
            }
            avail = n; /* the rest of the bytes arrive */
        }
        CHECK_INT(msgs, 3);
        CHECK(texts_ok);
        CHECK_INT(pos, n);
        kn_ws_dec_free(&d);
    }
}

static void test_garbage(void) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    uint8_t buf[300];
    int refused = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len = (size_t)(x % sizeof buf);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        if (len > 1)
            buf[1] |= 0x80; /* mostly masked, so the parser gets past the first check */
        kn_ws_dec d = {.max = 200};
        kn_ws_hdr h;
        int hl = kn_ws_parse_header(buf, len, d.max, &h);
        if (hl < 0)
            refused++;
        if (hl > 0 && (size_t)hl + h.len <= len) {
            kn_ws_unmask(buf + hl, (size_t)h.len, h.mask);
            kn_ws_msg m;
            kn_ws_dec_frame(&d, &h, buf + hl, &m);
        }
        kn_ws_dec_free(&d);
    }
    CHECK(refused > 0);
}

/* A connection adopted (its first read is a deferred callback) and freed at shutdown before
 * the loop ran again: the bufferevent must not outlive the base. Only the sanitizer preset's
 * leak check sees the difference; the checks here keep the steps honest. */
static void test_free_at_shutdown(void) {
    CHECK(evthread_use_pthreads() == 0); /* the kernel runs with threads; the leak needs them */
    struct event_base *base = event_base_new();
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
    bufferevent_enable(bev, EV_READ);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(event_base_loop(base, EVLOOP_ONCE) == 0);
    kn_ws_set set = {0};
    static const kn_ws_cbs cbs = {0};
    CHECK(kn_ws_adopt(&set, bev, NULL, &cbs, NULL, 1000) != NULL);
    CHECK(set.count == 1);
    kn_ws_set_free_all(&set);
    CHECK(set.count == 0 && set.head == NULL);
    kn_event_base_release(base);
    close(sv[1]);
}

int main(void) {
    test_accept_key();
    test_server_header();
    test_parse_header();
    test_unmask();
    test_utf8();
    test_messages();
    test_stream();
    test_garbage();
    test_free_at_shutdown();
    CHECK_DONE();
}
