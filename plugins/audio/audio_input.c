/* The request body: JSON or multipart/form-data read into one object of fields (so every route
 * takes {text} either way), and the uploaded file checked as audio the recogniser can decode. */
#include "audio_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* COMPAT §10: the audio MIME allow-list, exact match. */
static const char *const audio_types[] = {
    "audio/mpeg", "audio/mp3", "audio/wav",  "audio/ogg",   "audio/webm",
    "audio/mp4",  "audio/aac", "audio/flac", "audio/x-wav", "audio/wave",
};

static int in_list(const char *t) {
    for (size_t i = 0; i < sizeof audio_types / sizeof audio_types[0]; i++)
        if (strcmp(t, audio_types[i]) == 0)
            return 1;
    return 0;
}

static int is_wav_type(const char *t) {
    return strcmp(t, "audio/wav") == 0 || strcmp(t, "audio/x-wav") == 0 ||
           strcmp(t, "audio/wave") == 0;
}

/* Types a client uses when it does not know: a Blob without a type travels as octet-stream. */
static int is_generic_type(const char *t) {
    return !*t || strcmp(t, "application/octet-stream") == 0;
}

static int media_is(const char *ct, const char *type) {
    size_t n = strlen(type);
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

void au_input_clear(au_input *in) {
    json_decref(in->fields);
    in->fields = NULL;
}

static int answer(au_state *st, ez_req *req, int status, const char *code, const char *msg) {
    st->api->respond_error(req, status, EZ_ERR_STANDARD, code, msg, NULL);
    return -1;
}

static int read_json(au_state *st, ez_req *req, const char *body, size_t len, au_input *in) {
    json_error_t err;
    json_t *v = json_loadb(body, len, 0, &err);
    if (!v) { /* the kernel's answer to bad JSON on its parsed routes */
        char msg[JSON_ERROR_TEXT_LENGTH + 32];
        snprintf(msg, sizeof msg, "Invalid JSON: %s", err.text);
        st->api->respond_json_new(
            req, 400,
            json_pack("{s:b, s:{s:s, s:i}}", "success", 0, "error", "message", msg, "code", 400));
        return -1;
    }
    if (json_is_object(v)) {
        json_decref(in->fields);
        in->fields = v;
    } else {
        json_decref(v); /* not an object: no fields, the route says what is missing */
    }
    return 0;
}

/* Keeps the form-data parts, up to AU_MP_MAX_PARTS (then stops the reader). */
static int keep_part(const ez_mp_part *p, void *ud) {
    au_input *in = ud;
    if (!p->form_data)
        return 0;
    if (in->nparts == AU_MP_MAX_PARTS)
        return 1;
    au_part *a = &in->parts[in->nparts++];
    snprintf(a->name, sizeof a->name, "%s", p->has_name ? p->name : "");
    snprintf(a->type, sizeof a->type, "%s", p->content_type);
    a->is_file = p->has_filename;
    a->data = p->data;
    a->len = p->len;
    return 0;
}

static int read_multipart(au_state *st, ez_req *req, const char *ct, const char *body, size_t len,
                          au_input *in) {
    const ez_host_api *api = st->api;
    char boundary[EZ_MP_BOUNDARY_MAX + 1], msg[200];
    ez_mp_part part;
    ez_mp_status rc = api->mp_boundary(ct, boundary)
                          ? api->mp_parse(body, len, boundary, &part, keep_part, in)
                          : EZ_MP_NO_BOUNDARY;
    if (rc != EZ_MP_OK) {
        in->nparts = 0;
        snprintf(msg, sizeof msg, "Malformed multipart body: %s",
                 rc == EZ_MP_STOPPED ? "Too many parts" : api->mp_message(rc));
        return answer(st, req, 400, "INVALID_REQUEST", msg);
    }
    for (int i = 0; i < in->nparts; i++) {
        const au_part *p = &in->parts[i];
        if (strcmp(p->name, "file") == 0) {
            if (!in->file)
                in->file = p;
            in->nfiles++;
        } else if (!p->is_file && p->name[0] && !json_object_get(in->fields, p->name)) {
            /* text fields become strings; bytes that are not UTF-8 are left out */
            json_t *s = json_stringn((const char *)p->data, p->len);
            if (s)
                json_object_set_new(in->fields, p->name, s);
        }
    }
    return 0;
}

int au_input_read(au_state *st, ez_req *req, au_input *in) {
    memset(in, 0, sizeof *in);
    in->fields = json_object();
    if (!in->fields)
        return answer(st, req, 500, "INTERNAL_ERROR", "Out of memory");
    size_t len = 0;
    const char *body = st->api->body(req, &len);
    if (!body || len == 0)
        return 0;
    const char *ct = st->api->header(req, "Content-Type");
    if (media_is(ct, "application/json"))
        return read_json(st, req, body, len, in);
    if (st->api->mp_is_form(ct))
        return read_multipart(st, req, ct, body, len, in);
    if (media_is(ct, "application/x-www-form-urlencoded"))
        return 0; /* accepted but not parsed, as upstream: the route reports what is missing */
    /* what the kernel's guard says on routes that do not read raw bodies */
    return answer(st, req, 400, "INVALID_CONTENT_TYPE", "Invalid or missing Content-Type header");
}

int au_input_take_audio(au_job *j, const au_input *in) {
    au_state *st = j->st;
    const au_part *f = in->file;
    char msg[AU_WHY + 64], why[AU_WHY];
    if (f->len == 0) {
        au_job_fail(j, 400, "INVALID_REQUEST", "The audio file is empty", NULL);
        return -1;
    }
    if (!in_list(f->type) && !is_generic_type(f->type)) {
        snprintf(msg, sizeof msg, "Invalid file type: %s is not an allowed audio type", f->type);
        au_job_fail(j, 415, "UNSUPPORTED_MEDIA_TYPE", msg, NULL);
        return -1;
    }
    if (!au_wav_sniff(f->data, f->len) && !is_wav_type(f->type) && !is_generic_type(f->type)) {
        snprintf(msg, sizeof msg,
                 "Cannot decode %s audio: only WAV (PCM or float) can be transcribed", f->type);
        au_job_fail(j, 415, "UNSUPPORTED_MEDIA_TYPE", msg, NULL);
        return -1;
    }
    au_wav w;
    au_wav_rc rc = au_wav_parse(f->data, f->len, &w, why, sizeof why);
    if (rc != AU_WAV_OK) {
        snprintf(msg, sizeof msg, "%s: %s",
                 rc == AU_WAV_MALFORMED ? "Malformed WAV file" : "Unsupported WAV file", why);
        if (rc == AU_WAV_MALFORMED)
            au_job_fail(j, 400, "INVALID_AUDIO", msg, NULL);
        else
            au_job_fail(j, 415, "UNSUPPORTED_MEDIA_TYPE", msg, NULL);
        return -1;
    }
    int64_t ms = (int64_t)((uint64_t)w.frames * 1000u / w.rate);
    if (ms > st->max_audio_ms) {
        snprintf(msg, sizeof msg, "Audio is too long to transcribe: %lld s (at most %lld s)",
                 (long long)(ms / 1000), (long long)(st->max_audio_ms / 1000));
        au_job_fail(j, 400, "INVALID_AUDIO", msg, NULL);
        return -1;
    }
    /* the body lives as long as the request, but it belongs to the connection: the worker
     * reads a copy of the samples */
    size_t bytes = w.frames * w.block_align;
    j->audio = malloc(bytes);
    if (!j->audio) {
        au_job_fail(j, 500, "INTERNAL_ERROR", "Out of memory", NULL);
        return -1;
    }
    memcpy(j->audio, w.data, bytes);
    j->wav = w;
    j->wav.data = j->audio;
    return 0;
}
