/* Socket.IO packet codec (sio_codec.c), base64 and shared packets (sio_pkt.c), and the hash map
 * behind sids and rooms (sio_map.c). */
#include "check.h"
#include "sio_codec.h"
#include "sio_map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decode(const char *s, sio_packet *p) {
    return sio_packet_decode(s, strlen(s), p);
}

static char *dump(const json_t *v) {
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(none)");
}

#define CHECK_JSON(v, text)                                                                        \
    do {                                                                                           \
        char *d_ = dump(v);                                                                        \
        CHECK_STR(d_, text);                                                                       \
        free(d_);                                                                                  \
    } while (0)

static void test_decode_valid(void) {
    sio_packet p;
    CHECK_INT(decode("0", &p), 0);
    CHECK_INT(p.type, SIO_CONNECT);
    CHECK_STR(p.nsp, "/");
    CHECK_INT(p.id, -1);
    CHECK(p.data == NULL);

    CHECK_INT(decode("0{\"token\":\"123\"}", &p), 0);
    CHECK_JSON(p.data, "{\"token\":\"123\"}");
    json_decref(p.data);

    CHECK_INT(decode("0/custom,", &p), 0);
    CHECK_STR(p.nsp, "/custom");
    CHECK(p.data == NULL);
    CHECK_INT(decode("0/custom", &p), 0); /* the trailing comma is optional */
    CHECK_STR(p.nsp, "/custom");
    CHECK_INT(decode("0/custom,{\"a\":1}", &p), 0);
    CHECK_JSON(p.data, "{\"a\":1}");
    json_decref(p.data);

    CHECK_INT(decode("1", &p), 0);
    CHECK_INT(p.type, SIO_DISCONNECT);
    CHECK_INT(decode("1/admin,", &p), 0);
    CHECK_STR(p.nsp, "/admin");

    CHECK_INT(decode("2[\"message\",1,\"2\",{\"3\":[true]}]", &p), 0);
    CHECK_INT(p.type, SIO_EVENT);
    CHECK_INT(p.id, -1);
    CHECK_JSON(p.data, "[\"message\",1,\"2\",{\"3\":[true]}]");
    json_decref(p.data);

    CHECK_INT(decode("2/chat,12[\"x\"]", &p), 0);
    CHECK_STR(p.nsp, "/chat");
    CHECK_INT(p.id, 12);
    json_decref(p.data);
    CHECK_INT(decode("2456[\"message-with-ack\",1]", &p), 0);
    CHECK_INT(p.id, 456);
    json_decref(p.data);
    CHECK_INT(decode("2[7,\"numeric names are legal\"]", &p), 0);
    json_decref(p.data);

    CHECK_INT(decode("3456[1,\"2\"]", &p), 0);
    CHECK_INT(p.type, SIO_ACK);
    CHECK_INT(p.id, 456);
    json_decref(p.data);

    CHECK_INT(
        decode("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
               &p),
        0);
    CHECK_INT(p.type, SIO_BINARY_EVENT);
    CHECK_INT(p.attachments, 2);
    json_decref(p.data);
    CHECK_INT(decode("62-/x,789[{\"_placeholder\":true,\"num\":0}]", &p), 0);
    CHECK_INT(p.type, SIO_BINARY_ACK);
    CHECK_STR(p.nsp, "/x");
    CHECK_INT(p.id, 789);
    CHECK_INT(p.attachments, 2);
    json_decref(p.data);

    /* integers beyond int64 are kept (as reals), like JavaScript would */
    CHECK_INT(decode("2[\"big\",123456789012345678901234567890]", &p), 0);
    CHECK(json_is_real(json_array_get(p.data, 1)));
    json_decref(p.data);
}

static void test_decode_invalid(void) {
    static const char *const bad[] = {
        "",                         /* nothing */
        "7",                        /* unknown type */
        "abc",                      /* not a type */
        "2{}",                      /* an event must be an array */
        "2[]",                      /* ... with a name */
        "2",                        /* ... at all */
        "2[\"connect\"]",           /* reserved names */
        "2[\"disconnect\",1]",      /* reserved names */
        "2[{}]",                    /* a name is a string or a number */
        "2abc[\"message\"]",        /* an ack id is digits */
        "2[\"a\"",                  /* broken JSON */
        "2[\"a\"] trailing",        /* trailing bytes */
        "0[1]",                     /* CONNECT takes an object */
        "0\"x\"",                   /* CONNECT takes an object */
        "1{}",                      /* DISCONNECT takes nothing */
        "3{}",                      /* an ACK takes an array */
        "4",                        /* CONNECT_ERROR needs a reason */
        "5-[\"m\"]",                /* attachment count missing */
        "52[\"m\"]",                /* dash missing */
        "51001-[\"m\"]",            /* too many attachments */
        "21234567890123456[\"a\"]", /* 16-digit ack id */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sio_packet p;
        int rc = decode(bad[i], &p);
        if (rc != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK(p.data == NULL);
    }
    char longnsp[300] = "0/";
    memset(longnsp + 2, 'n', 250);
    longnsp[252] = '\0';
    sio_packet p;
    CHECK_INT(decode(longnsp, &p), -1);
}

static void test_encode(void) {
    sio_buf b = {0};
    sio_out o;
    json_t *args = json_pack("[i,s,{s:[b]}]", 1, "2", "3", 1);
    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/", -1, "message-back", args), 0);
    CHECK_STR(o.text->data, "42[\"message-back\",1,\"2\",{\"3\":[true]}]");
    CHECK_INT(o.natts, 0);
    sio_out_release(&o);
    json_decref(args);

    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/custom", -1, "auth", NULL), 0);
    CHECK_STR(o.text->data, "42/custom,[\"auth\"]");
    sio_out_release(&o);

    json_t *one = json_pack("{s:i}", "a", 1); /* a single non-array value is the only argument */
    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/", -1, "ev", one), 0);
    CHECK_STR(o.text->data, "42[\"ev\",{\"a\":1}]");
    sio_out_release(&o);
    json_decref(one);

    json_t *ackargs = json_pack("[i,s]", 1, "x");
    CHECK_INT(sio_encode(&b, &o, SIO_ACK, "/x", 7, NULL, ackargs), 0);
    CHECK_STR(o.text->data, "43/x,7[1,\"x\"]");
    sio_out_release(&o);
    json_decref(ackargs);

    json_t *err = json_pack("{s:s}", "message", "Invalid namespace");
    CHECK_INT(sio_encode(&b, &o, SIO_CONNECT_ERROR, "/random", -1, NULL, err), 0);
    CHECK_STR(o.text->data, "44/random,{\"message\":\"Invalid namespace\"}");
    sio_out_release(&o);
    json_decref(err);

    CHECK_INT(sio_encode(&b, &o, SIO_DISCONNECT, "/", -1, NULL, NULL), 0);
    CHECK_STR(o.text->data, "41");
    sio_out_release(&o);

    /* binary: {"$binary": base64} becomes a placeholder and an attachment */
    json_t *bin = json_pack("[{s:s},{s:{s:s}},{s:s,s:i}]", "$binary", "AQID", "deep", "$binary",
                            "BAUG", "$binary", "AQID", "other", 1);
    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/", -1, "m", bin), 0);
    CHECK_STR(o.text->data, "452-[\"m\",{\"_placeholder\":true,\"num\":0},"
                            "{\"deep\":{\"_placeholder\":true,\"num\":1}},"
                            "{\"$binary\":\"AQID\",\"other\":1}]");
    CHECK_INT(o.natts, 2);
    CHECK(o.natts == 2 && o.atts[0]->binary && o.atts[0]->len == 3 &&
          memcmp(o.atts[0]->data, "\x01\x02\x03", 3) == 0);
    CHECK(o.natts == 2 && o.atts[1]->len == 3 && memcmp(o.atts[1]->data, "\x04\x05\x06", 3) == 0);
    sio_out_release(&o);
    CHECK_INT(sio_encode(&b, &o, SIO_ACK, "/", 789, NULL, bin), 0);
    CHECK(strncmp(o.text->data, "462-789[{\"_placeholder\":true,\"num\":0}", 37) == 0);
    sio_out_release(&o);
    json_decref(bin);

    json_t *notb64 = json_pack("[{s:s}]", "$binary", "not base64!");
    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/", -1, "m", notb64), 0);
    CHECK_STR(o.text->data, "42[\"m\",{\"$binary\":\"not base64!\"}]");
    sio_out_release(&o);
    json_decref(notb64);
    sio_buf_free(&b);
}

static void check_write(const json_t *v, const char *expect) {
    sio_buf b = {0};
    CHECK_INT(sio_json_write(&b, v, NULL), 0);
    CHECK_STR(b.p, expect);
    sio_buf_free(&b);
}

/* The spelling JSON.stringify uses, which the conformance suites compare byte for byte. */
static void test_json_writer(void) {
    json_t *s = json_string("q\"b\\n\n\t\x01 é€/");
    check_write(s, "\"q\\\"b\\\\n\\n\\t\\u0001 é€/\"");
    json_decref(s);
    json_t *nul = json_stringn("a\0b", 3);
    check_write(nul, "\"a\\u0000b\"");
    json_decref(nul);
    static const struct {
        double v;
        const char *text;
    } reals[] = {{1.5, "1.5"},
                 {0.1, "0.1"},
                 {2.0, "2"},
                 {-0.0, "0"},
                 {1e21, "1e+21"},
                 {1e-7, "1e-7"},
                 {-3.25, "-3.25"},
                 {1e20, "100000000000000000000"},
                 {1.0 / 3, "0.3333333333333333"}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        json_t *r = json_real(reals[i].v);
        check_write(r, reals[i].text);
        json_decref(r);
    }
    json_t *big = json_integer(9007199254740993LL);
    check_write(big, "9007199254740993");
    json_decref(big);
    json_t *obj = json_pack("{s:n,s:b,s:[]}", "z", "t", 0, "e");
    check_write(obj, "{\"z\":null,\"t\":false,\"e\":[]}"); /* insertion order kept */
    json_decref(obj);
    /* too deep for the writer: an error, not a stack overflow */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 600; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    sio_buf b = {0};
    CHECK_INT(sio_json_write(&b, deep, NULL), -1);
    sio_buf_free(&b);
    CHECK(kn_json_text(deep, NULL) == NULL);
    json_decref(deep);
    CHECK(kn_json_text(NULL, NULL) == NULL);
}

/* kn_json_text (the host's json_text): integers without printf, any value at the top, and a
 * text jansson reads back as the same value. */
static void test_json_text(void) {
    static const struct {
        json_int_t v;
        const char *text;
    } ints[] = {{0, "0"},
                {-7, "-7"},
                {1795957195353LL, "1795957195353"},
                {INT64_MIN, "-9223372036854775808"},
                {INT64_MAX, "9223372036854775807"}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        json_t *n = json_integer(ints[i].v);
        size_t len = 0;
        char *t = kn_json_text(n, &len);
        CHECK_STR(t, ints[i].text);
        CHECK_INT(len, strlen(ints[i].text));
        free(t);
        json_decref(n);
    }
    json_t *str = json_string("plain");
    char *t = kn_json_text(str, NULL);
    CHECK_STR(t, "\"plain\"");
    free(t);
    json_decref(str);
    json_t *msg = json_pack("{s:s, s:s, s:{s:s, s:s, s:[s]}, s:{s:b, s:n, s:f}, s:I}", "id",
                            "01a22764-024d-4504-aac0-7ef2fefdb539", "content",
                            "Tab\there, \"quotes\", \\ and \x1f \xC3\xA9", "rawMessage", "text",
                            "x", "thought", "", "actions", "REPLY", "metadata", "isDm", 1, "none",
                            "score", 0.25, "created_at", (json_int_t)1795957195353LL);
    size_t len = 0;
    t = kn_json_text(msg, &len);
    CHECK(t != NULL && len == strlen(t));
    json_t *back = t ? json_loads(t, 0, NULL) : NULL;
    CHECK(back != NULL && json_equal(back, msg));
    json_decref(back);
    free(t);
    json_decref(msg);
}

static void test_placeholders(void) {
    sio_packet p;
    CHECK_INT(decode("52-[\"m\",{\"_placeholder\":true,\"num\":1},{\"x\":[{\"_placeholder\":true,"
                     "\"num\":0}]},{\"_placeholder\":false,\"num\":0}]",
                     &p),
              0);
    kn_pkt *atts[2] = {kn_pkt_new("\x01\x02\x03", 3, 1), kn_pkt_new("hi", 2, 1)};
    CHECK_INT(sio_placeholders_resolve(p.data, atts, 2), 0);
    CHECK_JSON(p.data, "[\"m\",{\"$binary\":\"aGk=\"},{\"x\":[{\"$binary\":\"AQID\"}]},"
                       "{\"_placeholder\":false,\"num\":0}]");
    /* re-encoding gives the attachments back in wire order */
    sio_buf b = {0};
    sio_out o;
    json_t *args = json_deep_copy(p.data);
    json_array_remove(args, 0);
    CHECK_INT(sio_encode(&b, &o, SIO_EVENT, "/", -1, "m", args), 0);
    CHECK_INT(o.natts, 2);
    CHECK(o.natts == 2 && o.atts[0]->len == 2 && memcmp(o.atts[0]->data, "hi", 2) == 0);
    sio_out_release(&o);
    json_decref(args);
    sio_buf_free(&b);
    json_decref(p.data);

    CHECK_INT(decode("51-[\"m\",{\"_placeholder\":true,\"num\":3}]", &p), 0);
    CHECK_INT(sio_placeholders_resolve(p.data, atts, 1), -1); /* out of range */
    json_decref(p.data);
    CHECK_INT(decode("51-[\"m\",{\"_placeholder\":true,\"num\":\"0\"}]", &p), 0);
    CHECK_INT(sio_placeholders_resolve(p.data, atts, 1), -1); /* num must be a number */
    json_decref(p.data);
    kn_pkt_unref(atts[0]);
    kn_pkt_unref(atts[1]);
}

static void test_base64(void) {
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        uint8_t back[16];
        kn_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        CHECK_STR(out, enc[i]);
        CHECK_INT(kn_b64_enc_len(strlen(plain[i])), strlen(enc[i]));
        long n = kn_b64_decode(enc[i], strlen(enc[i]), back);
        CHECK_INT(n, strlen(plain[i]));
        CHECK(n >= 0 && memcmp(back, plain[i], (size_t)n) == 0);
    }
    uint8_t back[16];
    CHECK_INT(kn_b64_decode("Zm9vYg", 6, back), 4); /* padding may be left out */
    CHECK_INT(kn_b64_decode("_-8", 3, back), 2);    /* the URL alphabet too */
    CHECK_INT(kn_b64_decode("Zm9v!", 5, back), -1);
    CHECK_INT(kn_b64_decode("Zm9vY", 5, back), -1); /* one dangling character */
    CHECK_INT(kn_b64_decode("Zm 9v", 5, back), -1);
}

static void test_map(void) {
    enum { N = 20000 };
    kn_map m = {0};
    static char keys[N][12];
    static int present[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        CHECK_INT(kn_map_put(&m, keys[i], keys[i]), 0);
        present[i] = 1;
    }
    CHECK_INT(m.count, N);
    /* random deletions and re-insertions against a reference */
    uint32_t x = 12345;
    int errors = 0;
    for (int step = 0; step < 100000; step++) {
        x = x * 1103515245u + 12345u;
        int i = (int)((x >> 8) % N);
        if (present[i]) {
            errors += kn_map_del(&m, keys[i]) != keys[i];
            present[i] = 0;
        } else {
            errors += kn_map_put(&m, keys[i], keys[i]) != 0;
            present[i] = 1;
        }
    }
    size_t expect = 0;
    for (int i = 0; i < N; i++) {
        expect += present[i];
        errors += (kn_map_get(&m, keys[i]) != NULL) != present[i];
    }
    CHECK_INT(errors, 0);
    CHECK_INT(m.count, expect);
    CHECK(kn_map_get(&m, "missing") == NULL);
    CHECK(kn_map_del(&m, "missing") == NULL);
    kn_map_free(&m);
    CHECK(kn_map_get(&m, "k1") == NULL);
}

int main(void) {
    test_decode_valid();
    test_decode_invalid();
    test_encode();
    test_json_writer();
    test_json_text();
    test_placeholders();
    test_base64();
    test_map();
    CHECK_DONE();
}
