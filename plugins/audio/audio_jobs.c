/* Job lifetime and the two engine steps: the worker functions (no host call but none needed)
 * and their completions on the loop, which answer the request or pass the job on. */
#include "audio_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

au_job *au_job_new(au_state *st, ez_req *req, au_kind kind, const char *agent_id) {
    au_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->st = st;
    j->req = req;
    j->kind = kind;
    strncpy(j->agent_id, agent_id, AU_ID - 1);
    return j;
}

void au_job_free(au_job *j) {
    if (!j)
        return;
    free(j->text);
    free(j->audio);
    free(j->out);
    free(j->transcript);
    free(j->user_name);
    free(j->early_error);
    json_decref(j->agent);
    json_decref(j->early_result);
    free(j);
}

void au_job_fail(au_job *j, int status, const char *code, const char *message,
                 const char *details) {
    const ez_host_api *api = j->st->api;
    if (status == 503)
        api->set_header(j->req, "Retry-After", "5");
    api->respond_error(j->req, status, EZ_ERR_STANDARD, code, message, details);
    au_job_free(j);
}

/* Removes leading and trailing white space in place; returns s. */
static char *trim(char *s) {
    size_t n = strlen(s), a = 0;
    while (a < n && isspace((unsigned char)s[a]))
        a++;
    while (n > a && isspace((unsigned char)s[n - 1]))
        n--;
    memmove(s, s + a, n - a);
    s[n - a] = 0;
    return s;
}

/* ---- recognition ---- */

static void stt_work(void *ud) {
    au_job *j = ud;
    size_t n = au_wav_mono16k_len(&j->wav);
    int16_t *pcm = malloc((n ? n : 1) * sizeof *pcm);
    if (!pcm) {
        j->failed = 1;
        strcpy(j->why, "out of memory");
        return;
    }
    au_wav_to_mono16k(&j->wav, pcm);
    free(j->audio); /* the upload is not needed any more: give its memory back early */
    j->audio = NULL;
    j->wav.data = NULL;
    if (au_stt_recognize(j->st->stt, pcm, n, &j->transcript, j->why, sizeof j->why) != 0)
        j->failed = 1;
    free(pcm);
}

static void stt_done(au_job *j) {
    au_state *st = j->st;
    if (j->failed) {
        au_job_fail(j, 500, "PROCESSING_ERROR", "Error transcribing audio", j->why);
        return;
    }
    const char *text = trim(j->transcript);
    if (!*text) { /* as upstream: an empty result is a failure */
        au_job_fail(j, 500, "PROCESSING_ERROR", "Failed to transcribe audio",
                    "no speech was recognised");
        return;
    }
    json_t *data = NULL;
    switch (j->kind) {
    case AU_TRANSCRIBE:
        data = json_pack("{s:s}", "text", text);
        break;
    case AU_AUDIO_MESSAGE:
        data = json_pack("{s:s, s:s}", "transcription", text, "message",
                         "Audio transcribed, further processing TBD.");
        break;
    case AU_CONVERSATION:
        free(j->text);
        j->text = j->transcript;
        j->transcript = NULL;
        au_conv_think(j);
        return;
    case AU_SPEAK:
        break;
    }
    st->api->respond_json_new(j->req, 200, json_pack("{s:b, s:o*}", "success", 1, "data", data));
    au_job_free(j);
}

void au_job_recognize(au_job *j) {
    au_state *st = j->st;
    if (st->stopping)
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
    else if (au_lane_submit(st, &st->stt_lane, j) != 0)
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE",
                    "The speech recognition engine is busy, try again later", NULL);
}

/* ---- synthesis ---- */

static void tts_work(void *ud) {
    au_job *j = ud;
    if (au_tts_speak(j->st->tts, j->text, &j->out, &j->out_len, j->why, sizeof j->why) != 0)
        j->failed = 1;
}

static void tts_done(au_job *j) {
    const ez_host_api *api = j->st->api;
    if (j->failed) {
        au_job_fail(j, 500, "PROCESSING_ERROR", "Error generating speech", j->why);
        return;
    }
    /* COMPAT §11: audio/wav when the bytes are RIFF....WAVE (ours always are), else mpeg */
    const char *type = au_wav_sniff(j->out, j->out_len) ? "audio/wav" : "audio/mpeg";
    api->respond_raw(j->req, 200, type, j->out, j->out_len);
    au_job_free(j);
}

void au_job_speak(au_job *j) {
    au_state *st = j->st;
    if (st->stopping)
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
    else if (au_lane_submit(st, &st->tts_lane, j) != 0)
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE",
                    "The speech synthesis engine is busy, try again later", NULL);
}

/* ---- lanes ---- */

void au_lanes_init(au_state *st) {
    au_lane_init(&st->tts_lane, "synthesis", tts_work, tts_done);
    au_lane_init(&st->stt_lane, "recognition", stt_work, stt_done);
}

static void fail_all(au_job *list) {
    while (list) {
        au_job *next = list->next;
        au_job_fail(list, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
        list = next;
    }
}

void au_lanes_stop(au_state *st) {
    fail_all(au_lane_drain(&st->tts_lane));
    fail_all(au_lane_drain(&st->stt_lane));
}
