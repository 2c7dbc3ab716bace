/* Text to speech with flite 2.2 (CMU, BSD-like licence, voices compiled into shared libraries:
 * no data files, no network). Its lexicon, language list and voice objects are process-wide
 * globals that are not thread-safe, and register_cmu_us_<v>() hands every caller the same voice
 * object: one process-wide mutex and reference counts guard them. These are the plugin's only
 * mutable globals, on purpose — they mirror the library's own global state. */
#include "audio_engine.h"
#include "audio_wav.h"

#include <flite/flite.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The voice libraries declare these in no header. */
cst_voice *register_cmu_us_slt(const char *voxdir);
void unregister_cmu_us_slt(cst_voice *v);
cst_voice *register_cmu_us_kal(const char *voxdir);
void unregister_cmu_us_kal(cst_voice *v);
cst_voice *register_cmu_us_kal16(const char *voxdir);
void unregister_cmu_us_kal16(cst_voice *v);
cst_voice *register_cmu_us_awb(const char *voxdir);
void unregister_cmu_us_awb(cst_voice *v);
cst_voice *register_cmu_us_rms(const char *voxdir);
void unregister_cmu_us_rms(cst_voice *v);

typedef struct voice_def {
    const char *name;
    cst_voice *(*reg)(const char *voxdir);
    void (*unreg)(cst_voice *v);
    const char *label;
} voice_def;

static const voice_def voices[] = {
    {"slt", register_cmu_us_slt, unregister_cmu_us_slt, "flite 2.2 (cmu_us_slt, 16 kHz)"},
    {"kal16", register_cmu_us_kal16, unregister_cmu_us_kal16, "flite 2.2 (cmu_us_kal16, 16 kHz)"},
    {"kal", register_cmu_us_kal, unregister_cmu_us_kal, "flite 2.2 (cmu_us_kal, 8 kHz)"},
    {"awb", register_cmu_us_awb, unregister_cmu_us_awb, "flite 2.2 (cmu_us_awb, 16 kHz)"},
    {"rms", register_cmu_us_rms, unregister_cmu_us_rms, "flite 2.2 (cmu_us_rms, 16 kHz)"},
};
#define NVOICES (sizeof voices / sizeof voices[0])

static pthread_mutex_t flite_mu = PTHREAD_MUTEX_INITIALIZER;
static int flite_ready;
static int voice_refs[NVOICES];
static cst_voice *voice_obj[NVOICES];

struct au_tts {
    size_t voice; /* index in voices */
};

au_tts *au_tts_new(const char *voice, char *why, size_t whylen) {
    if (!voice || !*voice)
        voice = "slt";
    size_t i = 0;
    while (i < NVOICES && strcmp(voices[i].name, voice) != 0)
        i++;
    if (i == NVOICES) {
        snprintf(why, whylen, "unknown flite voice \"%s\" (slt, kal16, kal, awb, rms)", voice);
        return NULL;
    }
    au_tts *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    t->voice = i;
    pthread_mutex_lock(&flite_mu);
    if (!flite_ready) {
        flite_init();
        flite_ready = 1;
    }
    if (voice_refs[i] == 0)
        voice_obj[i] = voices[i].reg(NULL);
    if (voice_obj[i])
        voice_refs[i]++;
    int ok = voice_obj[i] != NULL;
    pthread_mutex_unlock(&flite_mu);
    if (!ok) {
        snprintf(why, whylen, "flite could not load the voice \"%s\"", voice);
        free(t);
        return NULL;
    }
    return t;
}

int au_tts_speak(au_tts *t, const char *text, unsigned char **wav, size_t *wav_len, char *why,
                 size_t whylen) {
    *wav = NULL;
    *wav_len = 0;
    pthread_mutex_lock(&flite_mu);
    cst_wave *w = flite_text_to_wave(text, voice_obj[t->voice]);
    pthread_mutex_unlock(&flite_mu);
    if (!w) {
        snprintf(why, whylen, "flite produced no audio");
        return -1;
    }
    /* a text with nothing to pronounce gives zero samples: still a valid (empty) WAV file */
    size_t n = w->num_samples > 0 && w->samples ? (size_t)w->num_samples : 0;
    int mono = w->num_channels <= 1;
    if (!mono) { /* flite voices are mono; keep the first channel should one not be */
        for (size_t i = 0; i < n; i++)
            w->samples[i] = w->samples[i * (size_t)w->num_channels];
    }
    *wav = au_wav_encode(w->samples, n, (unsigned)w->sample_rate, wav_len);
    delete_wave(w);
    if (!*wav) {
        snprintf(why, whylen, "out of memory while encoding the WAV file");
        return -1;
    }
    return 0;
}

const char *au_tts_describe(const au_tts *t) {
    return voices[t->voice].label;
}

void au_tts_free(au_tts *t) {
    if (!t)
        return;
    pthread_mutex_lock(&flite_mu);
    if (--voice_refs[t->voice] == 0) {
        voices[t->voice].unreg(voice_obj[t->voice]);
        voice_obj[t->voice] = NULL;
    }
    pthread_mutex_unlock(&flite_mu);
    free(t);
}
