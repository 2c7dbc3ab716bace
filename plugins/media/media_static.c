/* GET /media/...: the stored files, public like the official server's (outside /api, so no API
 * key), with its raw error bodies {"error":"..."}. Channel uploads are served from where the
 * upload routes write them (COMPAT §10's recommendation; 1.7.2 looks in the wrong tree). The
 * handler checks the name; the file is read on a worker; done answers. */
#include "media_int.h"

#include <stdlib.h>
#include <string.h>

/* Owned by the handler until work_submit succeeds, then by st_done, which frees it. */
typedef struct st_job {
    media_state *st;
    ez_req *req; /* valid until answered */
    media_root root;
    char *dir;  /* own copy of the root */
    char *name; /* own copy, media_name_safe */
    char id[37];
    size_t max;
    /* filled by the worker */
    media_load rc;
    int err;
    char *data; /* own */
    size_t len;
} st_job;

static void st_free(st_job *j) {
    free(j->dir);
    free(j->name);
    free(j->data);
    free(j);
}

/* The official texts differ per tree: uploads/agents has its own. */
static const char *not_found_text(media_root root) {
    return root == MEDIA_AGENTS ? "File does not exist!!!!!!!" : "File not found";
}

static void deny(const ez_host_api *api, ez_req *req) {
    api->respond_error(req, 403, EZ_ERR_RAW, NULL, "Access denied", NULL);
}

/* Worker thread: touches only the job. */
static void st_work(void *ud) {
    st_job *j = ud;
    j->rc = media_fs_load(j->dir, j->id, j->name, j->max, &j->data, &j->len, &j->err);
}

/* Loop thread. Answers even when the client left (is_gone): respond_* then only frees. */
static void st_done(void *ud) {
    st_job *j = ud;
    const ez_host_api *api = j->st->api;
    switch (j->rc) {
    case MEDIA_LOAD_OK:
        /* the kernel adds X-Content-Type-Options: nosniff to every answer, and the type map
         * has no runnable types: an uploaded page is never run on the server's origin */
        api->respond_raw(j->req, 200, media_type_for(j->name), j->data, j->len);
        break;
    case MEDIA_LOAD_MISSING:
        api->respond_error(j->req, 404, EZ_ERR_RAW, NULL, not_found_text(j->root), NULL);
        break;
    case MEDIA_LOAD_DENIED:
        api->log(j->st->self, EZ_WARN, "refused a symlink under %s/%s", j->dir, j->id);
        deny(api, j->req);
        break;
    case MEDIA_LOAD_TOO_LARGE:
        api->log(j->st->self, EZ_WARN, "%s/%s/%s is larger than max_serve_size: not served", j->dir,
                 j->id, j->name);
        api->respond_error(j->req, 500, EZ_ERR_RAW, NULL, "File too large to serve", NULL);
        break;
    case MEDIA_LOAD_ERROR:
    default:
        api->log(j->st->self, EZ_ERR, "cannot read %s/%s/%s: %s", j->dir, j->id, j->name,
                 strerror(j->err));
        api->respond_error(j->req, 500, EZ_ERR_RAW, NULL, "Failed to read file", NULL);
        break;
    }
    st_free(j);
}

static int h_file(ez_req *req, void *ud) {
    const media_route *rt = ud;
    media_state *st = rt->st;
    const ez_host_api *api = st->api;
    media_root root = (media_root)rt->kind;
    const char *id = api->param(req, root == MEDIA_CHANNELS ? "channelId" : "agentId");
    const char *name = api->param(req, "filename");
    /* decoded already: "%2e%2e" and "%2f" arrive here as ".." and "/" */
    if (!media_name_safe(name)) {
        deny(api, req);
        return EZ_DONE;
    }
    st_job *j = calloc(1, sizeof *j);
    if (j) {
        j->dir = strdup(st->roots[root]);
        j->name = strdup(name);
    }
    if (!j || !j->dir || !j->name) {
        if (j)
            st_free(j);
        api->respond_error(req, 500, EZ_ERR_RAW, NULL, "Out of memory", NULL);
        return EZ_DONE;
    }
    j->st = st;
    j->req = req;
    j->root = root;
    j->max = st->max_serve;
    memcpy(j->id, id, 36); /* the kernel checked it is a uuid */
    if (api->work_submit(st->self, st_work, st_done, j) != EZ_OK) {
        st_free(j);
        api->respond_error(req, 503, EZ_ERR_RAW, NULL, "The server is shutting down", NULL);
        return EZ_DONE;
    }
    /* cppcheck-suppress memleak ; j belongs to the worker job now (st_done frees it) */
    return EZ_ASYNC;
}

/* Anything else under /media: a ".." segment is refused as the named routes refuse it, the
 * rest is not there (and never falls through to the web UI's page). */
static int h_other(ez_req *req, void *ud) {
    const media_route *rt = ud;
    const ez_host_api *api = rt->st->api;
    const char *rest = api->param(req, "*");
    for (const char *p = rest ? rest : ""; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            deny(api, req);
            return EZ_DONE;
        }
        p += n + (p[n] == '/');
    }
    api->respond_error(req, 404, EZ_ERR_RAW, NULL, "File not found", NULL);
    return EZ_DONE;
}

int media_static_register(media_state *st) {
    static const struct {
        const char *pattern;
        media_root root;
        const char *uuid_error;
    } routes[] = {
        {"/media/uploads/agents/:agentId(uuid)/:filename", MEDIA_AGENTS, "Invalid agent ID format"},
        {"/media/generated/:agentId(uuid)/:filename", MEDIA_GENERATED, "Invalid agent ID format"},
        {"/media/uploads/channels/:channelId(uuid)/:filename", MEDIA_CHANNELS,
         "Invalid channel ID format"},
    };
    for (int r = 0; r < MEDIA_ROOTS; r++)
        st->static_ud[r] = (media_route){st, r};
    int rc = EZ_OK;
    for (size_t i = 0; i < sizeof routes / sizeof *routes && rc == EZ_OK; i++) {
        ez_route_opts opts = {.err_style = EZ_ERR_RAW, .uuid_error = routes[i].uuid_error};
        rc = st->api->route_ex(st->self, EZ_GET | EZ_HEAD, routes[i].pattern, &opts, h_file,
                               &st->static_ud[routes[i].root], NULL);
        if (rc != EZ_OK)
            st->api->log(st->self, EZ_ERR, "cannot register GET %s (%d)", routes[i].pattern, rc);
    }
    if (rc == EZ_OK) {
        ez_route_opts opts = {.err_style = EZ_ERR_RAW};
        rc = st->api->route_ex(st->self, EZ_GET | EZ_HEAD, "/media/*", &opts, h_other,
                               &st->static_ud[MEDIA_AGENTS], NULL);
        if (rc != EZ_OK)
            st->api->log(st->self, EZ_ERR, "cannot register GET /media/* (%d)", rc);
    }
    return rc;
}
