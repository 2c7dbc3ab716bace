/* The speech engines behind one small interface. CMake compiles the flite / pocketsphinx
 * implementations when their libraries are found, else stand-ins that only say why they are not
 * available (the routes then answer 503). Functions marked "worker" block and run on the pool;
 * the others run on the main or loop thread. */
#ifndef AUDIO_ENGINE_H
#define AUDIO_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* ---- text to speech ---- */
typedef struct au_tts au_tts;

/* Loads voice ("slt", "kal"...; NULL = the default). NULL with a reason in why when the engine
 * or the voice is not available. The result is the caller's: au_tts_free. */
au_tts *au_tts_new(const char *voice, char *why, size_t whylen);
/* Worker. Synthesises text into a complete 16-bit mono WAV file (*wav new: the caller frees it).
 * 0, or -1 with a reason in why. Calls may overlap: the engine serialises what must be. */
int au_tts_speak(au_tts *t, const char *text, unsigned char **wav, size_t *wav_len, char *why,
                 size_t whylen);
/* "flite 2.2 (cmu_us_slt)", for logs and the README's story. */
const char *au_tts_describe(const au_tts *t);
void au_tts_free(au_tts *t);

/* ---- speech to text ---- */
typedef struct au_stt au_stt;

typedef struct au_stt_paths {
    const char *hmm, *lm, *dict; /* NULL or "" = the defaults the engine was built with */
} au_stt_paths;

/* Checks that the engine and its model files exist; the model itself is loaded by the first
 * recognition (seconds, on a worker), not at startup. NULL with a reason when not available.
 * The result is the caller's: au_stt_free. */
au_stt *au_stt_new(const au_stt_paths *paths, char *why, size_t whylen);
/* Worker. Recognises 16 kHz mono 16-bit samples. *text (new, maybe "") is the caller's.
 * 0, or -1 with a reason in why. Calls may overlap: the engine serialises what must be. */
int au_stt_recognize(au_stt *s, const int16_t *samples, size_t n, char **text, char *why,
                     size_t whylen);
const char *au_stt_describe(const au_stt *s);
void au_stt_free(au_stt *s);

#endif
