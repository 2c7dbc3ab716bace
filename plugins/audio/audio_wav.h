/* WAV (RIFF) reading and writing, free of any host call so the unit test can drive it alone.
 * Reading is bounded by the buffer: every chunk is checked against the bytes that exist. */
#ifndef AUDIO_WAV_H
#define AUDIO_WAV_H

#include <stddef.h>
#include <stdint.h>

#define AU_WAV_PCM 1u
#define AU_WAV_FLOAT 3u
#define AU_WAV_RATE_MIN 4000u
#define AU_WAV_RATE_MAX 192000u
#define AU_WAV_CHANNELS_MAX 16u
#define AU_STT_RATE 16000u /* what the recogniser wants: 16 kHz mono 16-bit */

typedef struct au_wav {
    unsigned format;           /* AU_WAV_PCM or AU_WAV_FLOAT (extensible files are resolved) */
    unsigned channels;         /* 1..AU_WAV_CHANNELS_MAX */
    unsigned rate;             /* AU_WAV_RATE_MIN..AU_WAV_RATE_MAX */
    unsigned bits;             /* container bits per sample: 8, 16, 24, 32 (PCM); 32, 64 (float) */
    unsigned block_align;      /* bytes per frame = channels * bits / 8 */
    const unsigned char *data; /* borrowed from the parsed buffer: whole frames only */
    size_t frames;
} au_wav;

typedef enum au_wav_rc {
    AU_WAV_OK = 0,
    AU_WAV_MALFORMED = -1,   /* not a well-formed RIFF/WAVE file */
    AU_WAV_UNSUPPORTED = -2, /* well formed, but an encoding we cannot decode (ADPCM, mu-law...) */
} au_wav_rc;

/* 1 when buf starts with "RIFF....WAVE". */
int au_wav_sniff(const void *buf, size_t len);

/* Finds the fmt and data chunks of buf (borrowed; out->data points into it). why receives a
 * sentence for the client on failure. A data chunk that claims more bytes than exist (streamed
 * writers leave 0 or 0xFFFFFFFF there) is cut to what exists. */
au_wav_rc au_wav_parse(const void *buf, size_t len, au_wav *out, char *why, size_t whylen);

/* Number of samples au_wav_to_mono16k produces for w. */
size_t au_wav_mono16k_len(const au_wav *w);

/* Downmixes (channel mean) and resamples (box average when shrinking, linear interpolation when
 * growing) w to 16 kHz mono 16-bit. out must hold au_wav_mono16k_len(w) samples (caller's). */
void au_wav_to_mono16k(const au_wav *w, int16_t *out);

/* A complete 16-bit PCM mono WAV file for samples (new, malloc'ed; the caller frees it), or NULL
 * when out of memory or too large for RIFF's 32-bit sizes. */
unsigned char *au_wav_encode(const int16_t *samples, size_t n, unsigned rate, size_t *len_out);

#endif
