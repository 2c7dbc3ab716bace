/* Speech to text with CMU pocketsphinx 5prealpha ("0.8" in Debian) and its US English model
 * (acoustic model, 3-gram language model, CMU dictionary; package pocketsphinx-en-us). The
 * decoder is loaded by the first recognition (half a second and ~95 MB, on a worker) and then
 * kept; a decoder is not thread-safe, so each instance has one behind its own mutex.
 *
 * The library itself is dlopen'ed by that first recognition too, not linked: through
 * sphinxbase -> lapack -> gfortran it brings libquadmath, whose constructor registers printf
 * handlers, and from then on glibc formats every printf-family call of the process on its slow
 * path (+60 % per snprintf: the loop's timestamps, jansson's numbers). A server that never
 * transcribes never pays for it. */
#include "audio_engine.h"

#include <dlfcn.h>
#include <pocketsphinx.h>
#include <pthread.h>
#include <sphinxbase/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef AUDIO_PS_MODELDIR
#define AUDIO_PS_MODELDIR "/usr/share/pocketsphinx/model"
#endif

#ifndef AUDIO_PS_SONAME
#define AUDIO_PS_SONAME "libpocketsphinx.so.3"
#endif

#define PATH_LEN 512

/* The library's entry points, resolved once for the process (sphinxbase's through
 * pocketsphinx's handle, which depends on it); the handle is never closed. */
static struct {
    __typeof__(&err_set_logfp) err_set_logfp;
    __typeof__(&cmd_ln_init) cmd_ln_init;
    __typeof__(&cmd_ln_free_r) cmd_ln_free_r;
    __typeof__(&ps_args) ps_args;
    __typeof__(&ps_init) ps_init;
    __typeof__(&ps_free) ps_free;
    __typeof__(&ps_start_utt) ps_start_utt;
    __typeof__(&ps_process_raw) ps_process_raw;
    __typeof__(&ps_end_utt) ps_end_utt;
    __typeof__(&ps_get_hyp) ps_get_hyp;
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_error[256]; /* empty once lib is complete; written once, under lib_once */

static void lib_open(void) {
    void *h = dlopen(AUDIO_PS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib_error, sizeof lib_error, "pocketsphinx could not be loaded: %s",
                 e ? e : AUDIO_PS_SONAME);
        return;
    }
    struct {
        void **slot;
        const char *name;
    } const syms[] = {
        {(void **)&lib.err_set_logfp, "err_set_logfp"},
        {(void **)&lib.cmd_ln_init, "cmd_ln_init"},
        {(void **)&lib.cmd_ln_free_r, "cmd_ln_free_r"},
        {(void **)&lib.ps_args, "ps_args"},
        {(void **)&lib.ps_init, "ps_init"},
        {(void **)&lib.ps_free, "ps_free"},
        {(void **)&lib.ps_start_utt, "ps_start_utt"},
        {(void **)&lib.ps_process_raw, "ps_process_raw"},
        {(void **)&lib.ps_end_utt, "ps_end_utt"},
        {(void **)&lib.ps_get_hyp, "ps_get_hyp"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(h, syms[i].name);
        if (!*syms[i].slot) {
            snprintf(lib_error, sizeof lib_error, "pocketsphinx has no %s (%s)", syms[i].name,
                     AUDIO_PS_SONAME);
            return;
        }
    }
}

struct au_stt {
    char hmm[PATH_LEN], lm[PATH_LEN], dict[PATH_LEN];
    pthread_mutex_t mu; /* guards everything below */
    cmd_ln_t *config;
    ps_decoder_t *ps;
};

static int is_set(const char *s) {
    return s && *s;
}

static int exists(const char *path, int want_dir) {
    struct stat sb;
    return stat(path, &sb) == 0 && (want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
}

au_stt *au_stt_new(const au_stt_paths *paths, char *why, size_t whylen) {
    au_stt *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    snprintf(s->hmm, sizeof s->hmm, "%s",
             is_set(paths->hmm) ? paths->hmm : AUDIO_PS_MODELDIR "/en-us/en-us");
    snprintf(s->lm, sizeof s->lm, "%s",
             is_set(paths->lm) ? paths->lm : AUDIO_PS_MODELDIR "/en-us/en-us.lm.bin");
    snprintf(s->dict, sizeof s->dict, "%s",
             is_set(paths->dict) ? paths->dict : AUDIO_PS_MODELDIR "/en-us/cmudict-en-us.dict");
    const char *missing = !exists(s->hmm, 1)    ? s->hmm
                          : !exists(s->lm, 0)   ? s->lm
                          : !exists(s->dict, 0) ? s->dict
                                                : NULL;
    if (missing) {
        snprintf(why, whylen, "pocketsphinx model file missing: %s (package pocketsphinx-en-us)",
                 missing);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

/* Under s->mu. */
static int load(au_stt *s, char *why, size_t whylen) {
    if (s->ps)
        return 0;
    pthread_once(&lib_once, lib_open);
    if (lib_error[0]) {
        snprintf(why, whylen, "%s", lib_error);
        return -1;
    }
    lib.err_set_logfp(NULL); /* the library logs pages of INFO lines to stderr otherwise */
    s->config = lib.cmd_ln_init(NULL, lib.ps_args(), TRUE, "-hmm", s->hmm, "-lm", s->lm, "-dict",
                                s->dict, NULL);
    if (s->config)
        s->ps = lib.ps_init(s->config);
    if (!s->ps) {
        if (s->config)
            lib.cmd_ln_free_r(s->config);
        s->config = NULL;
        snprintf(why, whylen, "pocketsphinx could not load its model (%s)", s->hmm);
        return -1;
    }
    return 0;
}

int au_stt_recognize(au_stt *s, const int16_t *samples, size_t n, char **text, char *why,
                     size_t whylen) {
    *text = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = load(s, why, whylen);
    if (rc == 0 && lib.ps_start_utt(s->ps) < 0) {
        snprintf(why, whylen, "pocketsphinx could not start an utterance");
        rc = -1;
    }
    if (rc == 0) {
        /* one call with the whole utterance: batch cepstral mean normalisation recognises a
         * short clip better than live mode */
        int frames = lib.ps_process_raw(s->ps, samples, n, FALSE, TRUE);
        if (lib.ps_end_utt(s->ps) < 0 || frames < 0) {
            snprintf(why, whylen, "pocketsphinx failed to decode the audio");
            rc = -1;
        }
    }
    if (rc == 0) {
        int32 score = 0;
        const char *hyp = lib.ps_get_hyp(s->ps, &score);
        *text = strdup(hyp ? hyp : "");
        if (!*text) {
            snprintf(why, whylen, "out of memory");
            rc = -1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

const char *au_stt_describe(const au_stt *s) {
    (void)s;
    return "pocketsphinx 5prealpha (en-us)";
}

void au_stt_free(au_stt *s) {
    if (!s)
        return;
    if (s->ps) /* a decoder exists only once lib is complete */
        lib.ps_free(s->ps);
    if (s->config)
        lib.cmd_ln_free_r(s->config);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
