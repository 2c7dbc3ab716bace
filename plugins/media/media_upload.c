/* The upload routes (COMPAT §10): one multipart part named "file", checked like multer checks
 * it, written under the agent's or channel's directory. The handler only looks at headers and
 * copies the body (the request's buffer dies with the connection, and a worker may outlive
 * it); parsing, checking and writing happen on a worker; done answers on the loop. */
#include "media_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum up_kind {
    UP_AGENT,       /* /api/media/agents/:id/upload-media: Style A, type = category */
    UP_CHANNEL,     /* /api/media/channels/:id/upload-media: Style B, type = MIME */
    UP_MSG_CHANNEL, /* /api/messaging/channels/:id/upload-media: as UP_CHANNEL, plus the
                       original name may hold neither ".." nor "/" */
} up_kind;

typedef enum up_outcome {
    UP_SAVED,
    UP_MULTER,   /* 500 {"success":false,"error":{"message":M,"code":500}} */
    UP_NO_FILE,  /* 400 "No media file provided" */
    UP_BAD_NAME, /* 400 "Invalid filename detected" */
    UP_WRITE,    /* 500 "Failed to upload media file" */
} up_outcome;

/* Owned by the handler until work_submit succeeds, then by up_done, which frees it. */
typedef struct up_job {
    media_state *st;
    ez_req *req; /* valid until answered */
    up_kind kind;
    char id[37];
    char boundary[EZ_MP_BOUNDARY_MAX + 1];
    char *root; /* own copy: the worker must not depend on the state */
    char *body; /* own copy of the request body; freed by the worker once written */
    size_t len;
    size_t max_file;
    int64_t now_ms;
    /* filled by the worker */
    up_outcome outcome;
    char message[192]; /* UP_MULTER */
    int err;           /* UP_WRITE: errno */
    int files;         /* file parts seen */
    char filename[MEDIA_NAME_MAX + 1];
    char original[EZ_MP_FILENAME_MAX + 1];
    size_t original_len;
    char mime[EZ_MP_TYPE_MAX + 1];
    const unsigned char *data; /* into body */
    size_t size;
} up_job;

static void up_free(up_job *j) {
    free(j->root);
    free(j->body);
    free(j);
}

static int multer_error(up_job *j, const char *message) {
    j->outcome = UP_MULTER;
    snprintf(j->message, sizeof j->message, "%s", message);
    return 1;
}

/* busboy hands multer every file part; multer's single("file") with files:1 rejects in this
 * order: a second file, a nameless one, another field name, the type (fileFilter, before any
 * byte), then the size. Text fields (no filename) are ignored. */
static int on_part(const ez_mp_part *part, void *ud) {
    up_job *j = ud;
    if (!part->form_data || !part->has_filename)
        return 0;
    if (++j->files > 1)
        return multer_error(j, "Too many files");
    if (!part->has_name)
        return multer_error(j, "Field name missing");
    if (strcmp(part->name, "file") != 0)
        return multer_error(j, "Unexpected file field");
    if (!media_mime_allowed(part->content_type)) {
        char msg[sizeof j->message];
        snprintf(msg, sizeof msg, "Invalid file type: %s is not an allowed media type",
                 part->content_type);
        return multer_error(j, msg);
    }
    if (part->len > j->max_file)
        return multer_error(j, "File too large");
    memcpy(j->original, part->filename, part->filename_len + 1);
    j->original_len = part->filename_len;
    memcpy(j->mime, part->content_type, sizeof j->mime);
    j->data = part->data;
    j->size = part->len;
    return 0;
}

/* Worker thread: touches only the job. */
static void up_work(void *ud) {
    up_job *j = ud;
    ez_mp_part part;
    ez_mp_status rc = j->st->api->mp_parse(j->body, j->len, j->boundary, &part, on_part, j);
    if (rc == EZ_MP_STOPPED)
        return; /* on_part set the outcome */
    if (rc != EZ_MP_OK) {
        multer_error(j, j->st->api->mp_message(rc));
        return;
    }
    if (!j->data) {
        j->outcome = UP_NO_FILE;
        return;
    }
    if (j->kind == UP_MSG_CHANNEL &&
        (strstr(j->original, "..") || memchr(j->original, '/', j->original_len))) {
        j->outcome = UP_BAD_NAME;
        return;
    }
    char ext[MEDIA_EXT_MAX + 2];
    media_extname(j->original, j->original_len, ext);
    j->err = media_fs_save(j->root, j->id, ext, j->now_ms, j->data, j->size, j->filename);
    j->outcome = j->err ? UP_WRITE : UP_SAVED;
    free(j->body); /* the answer needs none of it: give the memory back before the loop runs */
    j->body = NULL;
    j->data = NULL;
}

/* Browsers and undici send UTF-8 file names; anything that is not UTF-8 is taken as Latin-1
 * (busboy's default parameter charset) so that originalName is always a JSON string. Returns a
 * new reference, NULL when out of memory. */
static json_t *name_json(const char *s, size_t n) {
    json_t *v = json_stringn(s, n);
    if (v)
        return v;
    char *buf = malloc(2 * n + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = (char)(0xC0 | c >> 6);
            buf[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    v = json_stringn(buf, o);
    free(buf);
    return v;
}

static void answer_error(ez_req *req, const ez_host_api *api, up_kind kind, int status,
                         const char *code, const char *message, const char *details) {
    if (kind == UP_AGENT)
        api->respond_error(req, status, EZ_ERR_STANDARD, code, message, details);
    else
        api->respond_error(req, status, EZ_ERR_MESSAGING, NULL, message, NULL);
}

static void answer_multer(ez_req *req, const ez_host_api *api, const char *message) {
    api->respond_json_new(
        req, 500,
        json_pack("{s:b,s:{s:s,s:i}}", "success", 0, "error", "message", message, "code", 500));
}

static void answer_saved(up_job *j) {
    const ez_host_api *api = j->st->api;
    const char *tree = j->kind == UP_AGENT ? "agents" : "channels";
    char url[sizeof j->filename + 96];
    snprintf(url, sizeof url, "/media/uploads/%s/%s/%s", tree, j->id, j->filename);
    json_t *data = json_pack("{s:s,s:s,s:s,s:o*,s:I}", "url", url, "type",
                             j->kind == UP_AGENT ? media_mime_category(j->mime) : j->mime,
                             "filename", j->filename, "originalName",
                             name_json(j->original, j->original_len), "size", (json_int_t)j->size);
    if (!data || !json_object_get(data, "originalName")) {
        json_decref(data);
        answer_error(j->req, api, j->kind, 500, "UPLOAD_ERROR", "Failed to upload media file",
                     "out of memory");
        return;
    }
    api->log(j->st->self, EZ_INFO, "stored %s (%zu bytes, %s)", url, j->size, j->mime);
    api->respond_json_new(j->req, 200, json_pack("{s:b,s:o}", "success", 1, "data", data));
}

/* Loop thread. Answers even when the client left (is_gone): respond_* then only frees. */
static void up_done(void *ud) {
    up_job *j = ud;
    const ez_host_api *api = j->st->api;
    switch (j->outcome) {
    case UP_SAVED:
        answer_saved(j);
        break;
    case UP_MULTER:
        answer_multer(j->req, api, j->message);
        break;
    case UP_NO_FILE:
        answer_error(j->req, api, j->kind, 400, "INVALID_REQUEST", "No media file provided", NULL);
        break;
    case UP_BAD_NAME:
        answer_error(j->req, api, j->kind, 400, "INVALID_REQUEST", "Invalid filename detected",
                     NULL);
        break;
    case UP_WRITE:
        api->log(j->st->self, EZ_ERR, "cannot store an upload under %s/%s: %s", j->root, j->id,
                 strerror(j->err));
        answer_error(j->req, api, j->kind, 500, "UPLOAD_ERROR", "Failed to upload media file",
                     strerror(j->err));
        break;
    }
    up_free(j);
}

static int h_upload(ez_req *req, void *ud) {
    const media_route *rt = ud;
    media_state *st = rt->st;
    const ez_host_api *api = st->api;
    up_kind kind = (up_kind)rt->kind;
    const char *id = api->param(req, kind == UP_AGENT ? "agentId" : "channelId");
    const char *ct = api->header(req, "Content-Type");
    size_t len = 0;
    const void *body = api->body(req, &len);
    /* multer only looks at multipart requests with a body; for anything else there is no file */
    if (!api->mp_is_form(ct) || !body || len == 0) {
        answer_error(req, api, kind, 400, "INVALID_REQUEST", "No media file provided", NULL);
        return EZ_DONE;
    }
    up_job *j = calloc(1, sizeof *j);
    if (!j) {
        answer_multer(req, api, "Out of memory");
        return EZ_DONE;
    }
    if (!api->mp_boundary(ct, j->boundary)) {
        free(j);
        answer_multer(req, api, api->mp_message(EZ_MP_NO_BOUNDARY));
        return EZ_DONE;
    }
    j->st = st;
    j->req = req;
    j->kind = kind;
    snprintf(j->id, sizeof j->id, "%s", id ? id : ""); /* the kernel checked it is a uuid */
    j->root = strdup(st->roots[kind == UP_AGENT ? MEDIA_AGENTS : MEDIA_CHANNELS]);
    j->body = malloc(len);
    j->len = len;
    j->max_file = st->max_file;
    j->now_ms = api->now_ms();
    if (!j->root || !j->body) {
        up_free(j);
        answer_multer(req, api, "Out of memory");
        return EZ_DONE;
    }
    memcpy(j->body, body, len);
    if (api->work_submit(st->self, up_work, up_done, j) != EZ_OK) {
        up_free(j);
        answer_error(req, api, kind, 503, "UNAVAILABLE", "The server is shutting down", NULL);
        return EZ_DONE;
    }
    /* cppcheck-suppress memleak ; j belongs to the worker job now (up_done frees it) */
    return EZ_ASYNC;
}

int media_upload_register(media_state *st) {
    static const struct {
        const char *pattern;
        up_kind kind;
    } routes[] = {
        {"/api/media/agents/:agentId(uuid)/upload-media", UP_AGENT},
        {"/api/media/:agentId(uuid)/upload", UP_AGENT}, /* the seed's name */
        {"/api/media/channels/:channelId(uuid)/upload-media", UP_CHANNEL},
        {"/api/media/channels/:channelId(uuid)/upload", UP_CHANNEL}, /* the seed's name */
        {"/api/messaging/channels/:channelId(uuid)/upload-media", UP_MSG_CHANNEL},
    };
    for (int k = UP_AGENT; k <= UP_MSG_CHANNEL; k++)
        st->upload_ud[k] = (media_route){st, k};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        up_kind k = routes[i].kind;
        ez_route_opts opts = {
            .err_style = k == UP_AGENT ? EZ_ERR_STANDARD : EZ_ERR_MESSAGING,
            .uuid_error = k == UP_AGENT ? "Invalid agent ID format" : "Invalid channelId format",
            .uuid_code = "INVALID_ID",
            .raw_body = 1,
        };
        int rc = st->api->route_ex(st->self, EZ_POST, routes[i].pattern, &opts, h_upload,
                                   &st->upload_ud[k], NULL);
        if (rc != EZ_OK) {
            st->api->log(st->self, EZ_ERR, "cannot register POST %s (%d)", routes[i].pattern, rc);
            return rc;
        }
    }
    return EZ_OK;
}
