/* Text to speech with flite 2.2 (CMU, BSD-like licence, voices compiled into shared libraries:
 * no data files, no network). Its lexicon, language list and voice objects are process-wide
 * globals that are not thread-safe, and register_cmu_us_<v>() hands every caller the same voice
 * object: one process-wide mutex and reference counts guard them. These are the plugin's only
 * mutable globals, on purpose — they mirror the library's own global state. */
#include "audio_engine.h"
#include "audio_wav.h"

#include <dlfcn.h>
#include <flite/flite.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each voice is a shared library of its own (1.5-2 MB of relocated data once mapped): only the
 * configured one is loaded, with dlopen, instead of linking all five into the plugin. */
typedef struct voice_def {
    const char *name;
    const char *soname;
    const char *label;
} voice_def;

static const voice_def voices[] = {
    {"slt", "libflite_cmu_us_slt.so.1", "flite 2.2 (cmu_us_slt, 16 kHz)"},
    {"kal16", "libflite_cmu_us_kal16.so.1", "flite 2.2 (cmu_us_kal16, 16 kHz)"},
    {"kal", "libflite_cmu_us_kal.so.1", "flite 2.2 (cmu_us_kal, 8 kHz)"},
    {"awb", "libflite_cmu_us_awb.so.1", "flite 2.2 (cmu_us_awb, 16 kHz)"},
    {"rms", "libflite_cmu_us_rms.so.1", "flite 2.2 (cmu_us_rms, 16 kHz)"},
};
#define NVOICES (sizeof voices / sizeof voices[0])

typedef cst_voice *(*voice_reg_fn)(const char *voxdir);
typedef void (*voice_unreg_fn)(cst_voice *v);

static pthread_mutex_t flite_mu = PTHREAD_MUTEX_INITIALIZER;
static int flite_ready;
static int voice_refs[NVOICES];
static cst_voice *voice_obj[NVOICES];
/* Kept open for the process: flite's globals may point into a voice library after use. */
static void *voice_lib[NVOICES];
static voice_unreg_fn voice_unreg[NVOICES];

/* Under flite_mu. Registers voice i from its library; NULL with why filled on failure. */
static cst_voice *voice_load(size_t i, char *why, size_t whylen) {
    if (!voice_lib[i] && !(voice_lib[i] = dlopen(voices[i].soname, RTLD_NOW | RTLD_LOCAL))) {
        snprintf(why, whylen, "flite voice library %s not found (package flite1-dev / libflite1)",
                 voices[i].soname);
        return NULL;
    }
    char sym[48];
    snprintf(sym, sizeof sym, "register_cmu_us_%s", voices[i].name);
    voice_reg_fn reg;
    /* POSIX: a data pointer from dlsym converts to a function pointer through memcpy */
    void *p = dlsym(voice_lib[i], sym);
    memcpy(&reg, &p, sizeof reg);
    snprintf(sym, sizeof sym, "unregister_cmu_us_%s", voices[i].name);
    p = dlsym(voice_lib[i], sym);
    memcpy(&voice_unreg[i], &p, sizeof voice_unreg[i]);
    cst_voice *v = reg && voice_unreg[i] ? reg(NULL) : NULL;
    if (!v)
        snprintf(why, whylen, "flite could not load the voice \"%s\"", voices[i].name);
    return v;
}

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
    /* the voice is loaded by the first synthesis, on a worker: an idle server does not carry it */
    pthread_mutex_lock(&flite_mu);
    voice_refs[i]++;
    pthread_mutex_unlock(&flite_mu);
    return t;
}

int au_tts_speak(au_tts *t, const char *text, unsigned char **wav, size_t *wav_len, char *why,
                 size_t whylen) {
    *wav = NULL;
    *wav_len = 0;
    pthread_mutex_lock(&flite_mu);
    if (!flite_ready) {
        flite_init();
        flite_ready = 1;
    }
    if (!voice_obj[t->voice] && !(voice_obj[t->voice] = voice_load(t->voice, why, whylen))) {
        pthread_mutex_unlock(&flite_mu);
        return -1;
    }
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
    if (--voice_refs[t->voice] == 0 && voice_obj[t->voice]) {
        voice_unreg[t->voice](voice_obj[t->voice]);
        voice_obj[t->voice] = NULL;
    }
    pthread_mutex_unlock(&flite_mu);
    free(t);
}
