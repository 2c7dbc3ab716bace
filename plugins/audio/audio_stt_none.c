/* Stand-in when the plugin was built without pocketsphinx: transcription routes answer 503. */
#include "audio_engine.h"

#include <stdio.h>

au_stt *au_stt_new(const au_stt_paths *paths, char *why, size_t whylen) {
    (void)paths;
    snprintf(why, whylen,
             "this build has no speech recognition engine (libpocketsphinx-dev was missing)");
    return NULL;
}

int au_stt_recognize(au_stt *s, const int16_t *samples, size_t n, char **text, char *why,
                     size_t whylen) {
    (void)s;
    (void)samples;
    (void)n;
    *text = NULL;
    snprintf(why, whylen, "no speech recognition engine");
    return -1;
}

const char *au_stt_describe(const au_stt *s) {
    (void)s;
    return "none";
}

void au_stt_free(au_stt *s) {
    (void)s;
}
