/* Stand-in when the plugin was built without flite: every route that speaks answers 503. */
#include "audio_engine.h"

#include <stdio.h>

au_tts *au_tts_new(const char *voice, char *why, size_t whylen) {
    (void)voice;
    snprintf(why, whylen, "this build has no speech synthesis engine (flite1-dev was missing)");
    return NULL;
}

int au_tts_speak(au_tts *t, const char *text, unsigned char **wav, size_t *wav_len, char *why,
                 size_t whylen) {
    (void)t;
    (void)text;
    *wav = NULL;
    *wav_len = 0;
    snprintf(why, whylen, "no speech synthesis engine");
    return -1;
}

const char *au_tts_describe(const au_tts *t) {
    (void)t;
    return "none";
}

void au_tts_free(au_tts *t) {
    (void)t;
}
