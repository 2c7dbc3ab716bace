/* GET/HEAD on every path nobody else claims, through a root catch-all route that the router
 * tries only after every literal and parameter route (kernel/router.h): the API, /health,
 * /healthz, the media files and Socket.IO keep their paths. The handler only checks the path
 * and queues a job; the file system is touched on a worker, and the answer is written by the
 * job's done callback. */
#include "webui_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_CT "text/plain; charset=utf-8"
#define HTML_CT "text/html; charset=utf-8"
#define NO_STORE "no-store"

/* Owned by the handler until work_submit succeeds, then by job_done, which frees it. */
typedef struct webui_job {
    webui_state *st;
    ez_req *req;                   /* valid until answered */
    char path[WEBUI_PATH_MAX + 1]; /* the checked request path */
    char *if_none_match;           /* own copy, or NULL */
    int status;                    /* the answer, filled by job_work */
    const char *type, *cache;      /* static strings */
    webui_file file;               /* file.data: own */
    const char *text;              /* static body when file.data is NULL */
    size_t text_len;
} webui_job;

static void answer_text(webui_job *j, int status, const char *type, const char *text) {
    j->status = status;
    j->type = type;
    j->cache = NO_STORE;
    j->text = text;
    j->text_len = strlen(text);
    j->file.etag[0] = j->file.last_modified[0] = '\0'; /* validators of a file not served */
}

/* The official server answers a missing .js with a JavaScript 404, so a stale module import
 * fails loudly instead of parsing index.html as a script. */
static void answer_missing(webui_job *j) {
    size_t n = strlen(j->path);
    if (n > 3 && (strcmp(j->path + n - 3, ".js") == 0 || strcmp(j->path + n - 4, ".mjs") == 0)) {
        static const char head[] = "// JavaScript module not found: ";
        char *body = malloc(sizeof head + n + 1);
        if (body) {
            j->file.len = (size_t)sprintf(body, "%s%s\n", head, j->path);
            j->file.data = body;
            j->status = 404;
            j->type = "application/javascript; charset=utf-8";
            j->cache = NO_STORE;
            return;
        }
    }
    answer_text(j, 404, TEXT_CT, "Not found\n");
}

/* Maps a load result to the answer; returns 1 when the result was a miss (nothing answered). */
static int answer_load(webui_job *j, webui_load rc, const char *served) {
    const webui_state *st = j->st;
    switch (rc) {
    case WEBUI_LOAD_OK:
    case WEBUI_LOAD_NOT_MODIFIED:
        j->status = rc == WEBUI_LOAD_OK ? 200 : 304;
        j->type = webui_mime_type(served);
        j->cache = webui_cache_control(served);
        return 0;
    case WEBUI_LOAD_MISSING:
        return 1;
    case WEBUI_LOAD_FORBIDDEN:
        answer_text(j, 403, TEXT_CT, "Forbidden\n");
        return 0;
    case WEBUI_LOAD_TOO_LARGE:
        st->api->log(st->self, EZ_WARN, "%s is larger than max_file_size (%zu bytes): not served",
                     served, st->max_file);
        answer_text(j, 500, TEXT_CT, "File too large to serve\n");
        return 0;
    case WEBUI_LOAD_ERROR:
    default:
        st->api->log(st->self, EZ_ERR, "cannot read %s: %s", served, strerror(j->file.err));
        answer_text(j, 500, TEXT_CT, "Cannot read the file\n");
        return 0;
    }
}

/* Worker thread: touches only the job and the state's read-only fields. */
static void job_work(void *ud) {
    webui_job *j = ud;
    const webui_state *st = j->st;
    char root[PATH_MAX];
    if (webui_find_root(st->dirs, st->ndirs, root) != 0) {
        j->status = 503;
        j->type = HTML_CT;
        j->cache = NO_STORE;
        j->text = webui_page_not_installed(&j->text_len);
        return;
    }
    const char *p = j->path;
    size_t n = strlen(p);
    if (webui_path_has_dotfile(p)) {
        answer_missing(j);
        return;
    }
    if (p[n - 1] != '/') { /* "/" and "/x/" are routes, never files: no directory indexes */
        webui_load rc = webui_file_load(root, p, j->if_none_match, st->max_file, &j->file);
        if (!answer_load(j, rc, p))
            return;
        if (webui_path_is_file_like(p) || strncmp(p, "/assets/", 8) == 0) {
            answer_missing(j);
            return;
        }
    }
    /* the SPA fallback: the client-side router renders the path */
    webui_load rc = webui_file_load(root, "/index.html", j->if_none_match, st->max_file, &j->file);
    if (rc == WEBUI_LOAD_MISSING) /* removed since webui_find_root looked */
        answer_text(j, 503, TEXT_CT, "The web UI is being replaced; retry\n");
    else
        answer_load(j, rc, "/index.html");
}

static void job_free(webui_job *j) {
    free(j->file.data);
    free(j->if_none_match);
    free(j);
}

/* Loop thread. Answers even when the client left (is_gone): respond_* then only frees. */
static void job_done(void *ud) {
    webui_job *j = ud;
    const ez_host_api *api = j->st->api;
    ez_req *req = j->req;
    if (j->cache)
        api->set_header(req, "Cache-Control", j->cache);
    if (j->file.etag[0])
        api->set_header(req, "ETag", j->file.etag);
    if (j->file.last_modified[0])
        api->set_header(req, "Last-Modified", j->file.last_modified);
    if (j->status == 304)
        api->respond_empty(req, 304);
    else if (j->file.data)
        api->respond_raw(req, j->status, j->type, j->file.data, j->file.len);
    else
        api->respond_raw(req, j->status, j->type, j->text, j->text_len);
    job_free(j);
}

static int webui_get(ez_req *req, void *ud) {
    webui_state *st = ud;
    const ez_host_api *api = st->api;
    const char *path = api->path(req);
    if (!path) {
        api->respond_raw(req, 500, TEXT_CT, "Out of memory\n", 14);
        return EZ_DONE;
    }
    /* the catch-all also sees unknown GET /api paths: they keep the official JSON 404 */
    if (webui_path_is_api(path)) {
        api->respond_json_new(req, 404,
                              json_pack("{s:b,s:{s:s,s:i}}", "success", 0, "error", "message",
                                        "API endpoint not found", "code", 404));
        return EZ_DONE;
    }
    int bad = webui_path_check(path);
    if (bad) {
        const char *msg = bad == 414 ? "Path too long\n" : "Bad request path\n";
        api->respond_raw(req, bad, TEXT_CT, msg, strlen(msg));
        return EZ_DONE;
    }
    webui_job *j = calloc(1, sizeof *j);
    const char *inm = api->header(req, "If-None-Match");
    if (!j || (inm && !(j->if_none_match = strdup(inm)))) {
        if (j)
            job_free(j);
        api->respond_raw(req, 500, TEXT_CT, "Out of memory\n", 14);
        return EZ_DONE;
    }
    j->st = st;
    j->req = req;
    memcpy(j->path, path, strlen(path) + 1); /* webui_path_check bounded it */
    if (api->work_submit(st->self, job_work, job_done, j) != EZ_OK) {
        job_free(j);
        api->respond_raw(req, 503, TEXT_CT, "The server is shutting down\n", 28);
        return EZ_DONE;
    }
    /* cppcheck-suppress memleak ; j belongs to the worker job now (job_done frees it) */
    return EZ_ASYNC;
}

int webui_routes_register(webui_state *st) {
    return st->api->route(st->self, EZ_GET | EZ_HEAD, "/*", webui_get, st, NULL);
}
