/* The WAV reader against well-formed and hostile inputs. Every buffer is a
 * malloc'ed copy of exactly its length, so ASan flags any read past the end. */
#include "audio_wav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* An exact-length heap copy (new: the caller frees it). */
static unsigned char *dup_exact(const void *p, size_t n) {
    unsigned char *b = malloc(n ? n : 1);
    if (n)
        memcpy(b, p, n);
    return b;
}

static void put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)(v >> 8 & 0xFF);
}

static void put32(unsigned char *p, unsigned long v) {
    put16(p, (unsigned)(v & 0xFFFF));
    put16(p + 2, (unsigned)(v >> 16 & 0xFFFF));
}

/* A WAV header + data of the given layout into buf (at least 44 + data bytes); returns size. */
static size_t make_wav(unsigned char *buf, unsigned fmt, unsigned ch, unsigned rate, unsigned bits,
                       const void *data, size_t n) {
    memcpy(buf, "RIFF", 4);
    put32(buf + 4, 36 + n);
    memcpy(buf + 8, "WAVEfmt ", 8);
    put32(buf + 16, 16);
    put16(buf + 20, fmt);
    put16(buf + 22, ch);
    put32(buf + 24, rate);
    put32(buf + 28, rate * ch * bits / 8);
    put16(buf + 32, ch * bits / 8);
    put16(buf + 34, bits);
    memcpy(buf + 36, "data", 4);
    put32(buf + 40, n);
    memcpy(buf + 44, data, n);
    return 44 + n;
}

static au_wav_rc parse_copy(const unsigned char *src, size_t n, au_wav *w, char *why) {
    unsigned char *b = dup_exact(src, n);
    au_wav_rc rc = au_wav_parse(b, n, w, why, 128);
    w->data = NULL; /* b is gone below */
    free(b);
    return rc;
}

static void test_wav(void) {
    char why[128];
    au_wav w;
    unsigned char buf[44 + 64000];
    int16_t pcm[16000];
    for (int i = 0; i < 16000; i++)
        pcm[i] = (int16_t)((i % 100) * 300 - 15000);
    size_t n = make_wav(buf, 1, 1, 16000, 16, pcm, sizeof pcm);
    CHECK(au_wav_sniff(buf, n));
    CHECK(parse_copy(buf, n, &w, why) == AU_WAV_OK && w.frames == 16000 && w.rate == 16000);

    /* 16 kHz mono passes through unchanged */
    CHECK(au_wav_parse(buf, n, &w, why, sizeof why) == AU_WAV_OK);
    CHECK(au_wav_mono16k_len(&w) == 16000);
    int16_t *out = malloc(16000 * sizeof *out);
    au_wav_to_mono16k(&w, out);
    CHECK(memcmp(out, pcm, sizeof pcm) == 0);
    free(out);

    /* 48 kHz stereo of a constant: 1/3 of the frames, the channel mean */
    int16_t st[2 * 4800];
    for (int i = 0; i < 4800; i++) {
        st[2 * i] = 1000;
        st[2 * i + 1] = 3000;
    }
    n = make_wav(buf, 1, 2, 48000, 16, st, sizeof st);
    CHECK(au_wav_parse(buf, n, &w, why, sizeof why) == AU_WAV_OK);
    CHECK(au_wav_mono16k_len(&w) == 1600);
    out = malloc(1600 * sizeof *out);
    au_wav_to_mono16k(&w, out);
    CHECK(out[0] == 2000 && out[1599] == 2000);
    free(out);

    /* 8 kHz 8-bit unsigned: twice the frames, silence stays silence */
    unsigned char u8[800];
    memset(u8, 128, sizeof u8);
    n = make_wav(buf, 1, 1, 8000, 8, u8, sizeof u8);
    CHECK(au_wav_parse(buf, n, &w, why, sizeof why) == AU_WAV_OK);
    CHECK(au_wav_mono16k_len(&w) == 1600);
    out = malloc(1600 * sizeof *out);
    au_wav_to_mono16k(&w, out);
    CHECK(out[0] == 0 && out[1599] == 0);
    free(out);

    /* float with NaN and out-of-range samples: clamped, never undefined */
    float fl[4] = {0.5f, 2.0f, -3.0f, 0.0f};
    fl[3] = fl[3] / fl[3] * 0.0f; /* NaN without <math.h> */
    n = make_wav(buf, 3, 1, 16000, 32, fl, sizeof fl);
    CHECK(au_wav_parse(buf, n, &w, why, sizeof why) == AU_WAV_OK);
    int16_t f16[4];
    au_wav_to_mono16k(&w, f16);
    CHECK(f16[0] == 16384 && f16[1] == 32767 && f16[2] == -32768 && f16[3] == 0);

    /* a streamed file whose data size is 0xFFFFFFFF: cut to what exists */
    n = make_wav(buf, 1, 1, 16000, 16, pcm, 200);
    put32(buf + 40, 0xFFFFFFFFul);
    CHECK(parse_copy(buf, n, &w, why) == AU_WAV_OK && w.frames == 100);

    /* hostile and broken files: every prefix of a valid file, and damaged fields */
    (void)make_wav(buf, 1, 1, 16000, 16, pcm, 20);
    for (size_t k = 0; k < 44; k++)
        CHECK(parse_copy(buf, k, &w, why) == AU_WAV_MALFORMED);
    unsigned char bad[64];
    memcpy(bad, buf, 64);
    put32(bad + 16, 0x7FFFFFF0ul); /* fmt chunk larger than the file */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_MALFORMED && strstr(why, "past the end"));
    memcpy(bad, buf, 64);
    put16(bad + 20, 2); /* MS ADPCM */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_UNSUPPORTED);
    memcpy(bad, buf, 64);
    put16(bad + 22, 0); /* no channels */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_MALFORMED);
    memcpy(bad, buf, 64);
    put32(bad + 24, 0); /* rate 0 */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_MALFORMED);
    memcpy(bad, buf, 64);
    put16(bad + 32, 7); /* block align inconsistent */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_MALFORMED);
    memcpy(bad, buf, 64);
    memcpy(bad + 36, "junk", 4); /* no data chunk: the walk runs off the end safely */
    CHECK(parse_copy(bad, 64, &w, why) == AU_WAV_MALFORMED && strstr(why, "data"));
    const char *garbage = "RIFF\x10\0\0\0WAVEfmt \xff\xff\xff\xff";
    CHECK(parse_copy((const unsigned char *)garbage, 20, &w, why) == AU_WAV_MALFORMED);
    CHECK(parse_copy((const unsigned char *)"hello", 5, &w, why) == AU_WAV_MALFORMED);

    /* the encoder's output reads back */
    size_t len = 0;
    unsigned char *enc = au_wav_encode(pcm, 1000, 16000, &len);
    CHECK(enc && len == 44 + 2000);
    CHECK(enc && au_wav_parse(enc, len, &w, why, sizeof why) == AU_WAV_OK && w.frames == 1000 &&
          memcmp(w.data, pcm, 2000) == 0);
    free(enc);
}

int main(void) {
    test_wav();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
