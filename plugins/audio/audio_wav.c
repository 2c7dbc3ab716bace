/* WAV (RIFF) parsing, down-mixing / resampling to what the recogniser eats, and encoding the
 * synthesiser's samples. Bytes are assembled by hand: the file format is little-endian whatever
 * the host is. */
#include "audio_wav.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tail of the KSDATAFORMAT_SUBTYPE_* GUIDs of WAVE_FORMAT_EXTENSIBLE (after the 2-byte
 * format code): only these subtypes mean plain PCM / IEEE float. */
static const unsigned char ext_guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
#define WAVE_FORMAT_EXTENSIBLE 0xFFFEu

static uint32_t le16(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int au_wav_sniff(const void *buf, size_t len) {
    const unsigned char *p = buf;
    return len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0;
}

static au_wav_rc fail(au_wav_rc rc, char *why, size_t whylen, const char *msg) {
    snprintf(why, whylen, "%s", msg);
    return rc;
}

/* Reads a fmt chunk body of n bytes into w (format, channels, rate, bits, block_align). */
static au_wav_rc parse_fmt(const unsigned char *p, size_t n, au_wav *w, char *why, size_t whylen) {
    if (n < 16)
        return fail(AU_WAV_MALFORMED, why, whylen, "the fmt chunk is shorter than 16 bytes");
    unsigned tag = le16(p);
    w->channels = le16(p + 2);
    w->rate = le32(p + 4);
    w->block_align = le16(p + 12);
    w->bits = le16(p + 14);
    if (tag == WAVE_FORMAT_EXTENSIBLE) {
        if (n < 40 || le16(p + 16) < 22)
            return fail(AU_WAV_MALFORMED, why, whylen,
                        "the extensible fmt chunk is shorter than 40 bytes");
        if (memcmp(p + 26, ext_guid_tail, sizeof ext_guid_tail) != 0)
            return fail(AU_WAV_UNSUPPORTED, why, whylen,
                        "the extensible sub-format is neither PCM nor IEEE float");
        tag = le16(p + 24);
    }
    if (tag != AU_WAV_PCM && tag != AU_WAV_FLOAT) {
        snprintf(why, whylen,
                 "WAV encoding %u is not supported (only PCM and IEEE float can be decoded)", tag);
        return AU_WAV_UNSUPPORTED;
    }
    w->format = tag;
    if (w->channels < 1 || w->channels > AU_WAV_CHANNELS_MAX) {
        snprintf(why, whylen, "%u channels: between 1 and %u are supported", w->channels,
                 AU_WAV_CHANNELS_MAX);
        return w->channels < 1 ? AU_WAV_MALFORMED : AU_WAV_UNSUPPORTED;
    }
    if (w->rate < AU_WAV_RATE_MIN || w->rate > AU_WAV_RATE_MAX) {
        snprintf(why, whylen, "sample rate %u Hz: between %u and %u Hz are supported", w->rate,
                 AU_WAV_RATE_MIN, AU_WAV_RATE_MAX);
        return w->rate == 0 ? AU_WAV_MALFORMED : AU_WAV_UNSUPPORTED;
    }
    int bits_ok = tag == AU_WAV_PCM
                      ? (w->bits == 8 || w->bits == 16 || w->bits == 24 || w->bits == 32)
                      : (w->bits == 32 || w->bits == 64);
    if (!bits_ok) {
        snprintf(why, whylen, "%u-bit %s samples are not supported", w->bits,
                 tag == AU_WAV_PCM ? "PCM" : "float");
        return AU_WAV_UNSUPPORTED;
    }
    if (w->block_align != w->channels * (w->bits / 8))
        return fail(AU_WAV_MALFORMED, why, whylen,
                    "the fmt chunk's block align does not match channels and bits");
    return AU_WAV_OK;
}

au_wav_rc au_wav_parse(const void *buf, size_t len, au_wav *out, char *why, size_t whylen) {
    const unsigned char *p = buf;
    memset(out, 0, sizeof *out);
    if (!au_wav_sniff(buf, len))
        return fail(AU_WAV_MALFORMED, why, whylen, "the RIFF/WAVE header is missing");
    size_t pos = 12;
    int have_fmt = 0;
    const unsigned char *data = NULL;
    size_t data_len = 0;
    /* every chunk advances pos by at least 8 bytes, so the walk ends */
    while (len - pos >= 8) {
        uint32_t size = le32(p + pos + 4);
        const unsigned char *body = p + pos + 8;
        size_t avail = len - pos - 8;
        if (memcmp(p + pos, "data", 4) == 0) {
            if (!have_fmt)
                return fail(AU_WAV_MALFORMED, why, whylen, "the data chunk comes before fmt");
            data = body;
            data_len = size <= avail ? size : avail; /* streamed or truncated: take what exists */
            break;
        }
        if (size > avail)
            return fail(AU_WAV_MALFORMED, why, whylen, "a chunk runs past the end of the file");
        if (memcmp(p + pos, "fmt ", 4) == 0) {
            if (have_fmt)
                return fail(AU_WAV_MALFORMED, why, whylen, "the file has two fmt chunks");
            au_wav_rc rc = parse_fmt(body, size, out, why, whylen);
            if (rc != AU_WAV_OK)
                return rc;
            have_fmt = 1;
        }
        size_t step = (size_t)size + (size & 1u); /* chunks are padded to even sizes */
        if (step > avail)
            break; /* the pad byte of the last chunk may be missing */
        pos += 8 + step;
    }
    if (!have_fmt)
        return fail(AU_WAV_MALFORMED, why, whylen, "the fmt chunk is missing");
    if (!data)
        return fail(AU_WAV_MALFORMED, why, whylen, "the data chunk is missing");
    out->data = data;
    out->frames = data_len / out->block_align;
    if (out->frames == 0)
        return fail(AU_WAV_MALFORMED, why, whylen, "the data chunk holds no audio samples");
    return AU_WAV_OK;
}

/* One sample on the 16-bit scale. */
static double sample_at(const au_wav *w, const unsigned char *s) {
    switch (w->bits) {
    case 8:
        if (w->format == AU_WAV_PCM)
            return ((double)s[0] - 128.0) * 256.0; /* 8-bit PCM is unsigned */
        break;
    case 16:
        return (double)(int16_t)(uint16_t)le16(s);
    case 24: {
        uint32_t u = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16;
        int32_t v = (u & 0x800000u) ? (int32_t)(u | 0xFF000000u) : (int32_t)u;
        return (double)v / 256.0;
    }
    case 32:
        if (w->format == AU_WAV_PCM)
            return (double)(int32_t)le32(s) / 65536.0;
        else {
            uint32_t u = le32(s);
            float f;
            memcpy(&f, &u, sizeof f);
            return f == f ? (double)f * 32767.0 : 0.0; /* NaN would spread to its neighbours */
        }
    case 64: {
        uint64_t u = (uint64_t)le32(s) | (uint64_t)le32(s + 4) << 32;
        double d;
        memcpy(&d, &u, sizeof d);
        return d == d ? d * 32767.0 : 0.0;
    }
    default:
        break;
    }
    return 0.0;
}

static double frame_mono(const au_wav *w, size_t i) {
    const unsigned char *f = w->data + i * w->block_align;
    unsigned bytes = w->bits / 8;
    double sum = 0.0;
    for (unsigned c = 0; c < w->channels; c++)
        sum += sample_at(w, f + (size_t)c * bytes);
    return sum / w->channels;
}

static int16_t clamp16(double v) {
    if (!(v == v)) /* NaN in a float file */
        return 0;
    if (v >= 32767.0)
        return 32767;
    if (v <= -32768.0)
        return -32768;
    return (int16_t)(v >= 0 ? v + 0.5 : v - 0.5);
}

size_t au_wav_mono16k_len(const au_wav *w) {
    return (size_t)((uint64_t)w->frames * AU_STT_RATE / w->rate);
}

void au_wav_to_mono16k(const au_wav *w, int16_t *out) {
    size_t n = au_wav_mono16k_len(w);
    for (size_t i = 0; i < n; i++) {
        double v;
        if (w->rate > AU_STT_RATE) {
            /* the mean of the input frames this output sample covers: a cheap low-pass */
            size_t a = (size_t)((uint64_t)i * w->rate / AU_STT_RATE);
            size_t b = (size_t)((uint64_t)(i + 1) * w->rate / AU_STT_RATE);
            if (b > w->frames)
                b = w->frames;
            if (b <= a)
                b = a + 1;
            double sum = 0.0;
            for (size_t k = a; k < b; k++)
                sum += frame_mono(w, k);
            v = sum / (double)(b - a);
        } else {
            uint64_t num = (uint64_t)i * w->rate;
            size_t k = (size_t)(num / AU_STT_RATE);
            double frac = (double)(num % AU_STT_RATE) / AU_STT_RATE;
            double s0 = frame_mono(w, k);
            double s1 = frac > 0 && k + 1 < w->frames ? frame_mono(w, k + 1) : s0;
            v = s0 + (s1 - s0) * frac;
        }
        out[i] = clamp16(v);
    }
}

static void put16(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)(v >> 8 & 0xFF);
}

static void put32(unsigned char *p, uint32_t v) {
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

unsigned char *au_wav_encode(const int16_t *samples, size_t n, unsigned rate, size_t *len_out) {
    if (n > (UINT32_MAX - 36u) / 2u)
        return NULL;
    uint32_t data_bytes = (uint32_t)(n * 2u);
    size_t total = 44u + (size_t)data_bytes;
    unsigned char *f = malloc(total);
    if (!f)
        return NULL;
    memcpy(f, "RIFF", 4);
    put32(f + 4, 36u + data_bytes);
    memcpy(f + 8, "WAVEfmt ", 8);
    put32(f + 16, 16);         /* fmt chunk size */
    put16(f + 20, AU_WAV_PCM); /* format */
    put16(f + 22, 1);          /* channels */
    put32(f + 24, rate);       /* sample rate */
    put32(f + 28, rate * 2u);  /* byte rate */
    put16(f + 32, 2);          /* block align */
    put16(f + 34, 16);         /* bits per sample */
    memcpy(f + 36, "data", 4);
    put32(f + 40, data_bytes);
    for (size_t i = 0; i < n; i++)
        put16(f + 44 + 2 * i, (uint16_t)samples[i]);
    *len_out = total;
    return f;
}
