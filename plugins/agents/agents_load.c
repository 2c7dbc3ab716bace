/* POST /api/agents with characterPath: a file below the configured characters directory, or an
 * http(s) URL when the operator enabled it. The real server tries a dozen locations around its
 * working directory; here a path is resolved against one folder only and must stay inside it
 * after symlinks are followed (realpath), so a request can never read an arbitrary file.
 * File and network I/O run on a worker thread; the answer is built back on the loop. */
#include "agents_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct ag_load_job {
    ag_state *st;
    ez_req *req;
    char *label;  /* owned: the characterPath as given, for messages */
    char *target; /* owned: candidate path (no extension added) or URL */
    int is_url;
    char *data; /* owned: file / response bytes */
    size_t len;
    char *err; /* owned: error message, answered 400 CREATE_ERROR */
} ag_load_job;

static void ag_job_free(ag_load_job *j) {
    free(j->label);
    free(j->target);
    free(j->data);
    free(j->err);
    free(j);
}

/* prefix + middle + suffix (new). */
static char *ag_cat3(const char *prefix, const char *middle, const char *suffix) {
    size_t a = strlen(prefix), b = strlen(middle), c = strlen(suffix);
    char *s = malloc(a + b + c + 1);
    if (s) {
        memcpy(s, prefix, a);
        memcpy(s + a, middle, b);
        memcpy(s + a + b, suffix, c + 1);
    }
    return s;
}

/* Worker: reads the file at `path` if it resolves inside dir. 0 ok, -1 not found, -2 escape,
 * -3 too large / unreadable. */
static int ag_read_inside(const char *dir, const char *path, char **data, size_t *len) {
    char real[PATH_MAX];
    if (!realpath(path, real))
        return -1;
    size_t dl = strlen(dir);
    if (strncmp(real, dir, dl) != 0 || real[dl] != '/')
        return -2;
    struct stat sb;
    if (stat(real, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    if ((size_t)sb.st_size > AG_MAX_FILE)
        return -3;
    FILE *f = fopen(real, "rb");
    if (!f)
        return -3;
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)sb.st_size) {
        free(buf);
        return -3;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static void ag_work_file(ag_load_job *j) {
    const char *dir = j->st->characters_dir;
    size_t tl = strlen(j->target);
    int rc = ag_read_inside(dir, j->target, &j->data, &j->len);
    if (rc == -1 && !(tl >= 5 && strcmp(j->target + tl - 5, ".json") == 0)) {
        char *alt = ag_cat3("", j->target, ".json");
        if (alt)
            rc = ag_read_inside(dir, alt, &j->data, &j->len);
        free(alt);
    }
    if (rc == -1)
        j->err = ag_cat3("Character '", j->label,
                         "' not found. Please check if the file exists and the path is correct.");
    else if (rc == -2)
        j->err = ag_cat3("Character path '", j->label, "' is outside the characters directory");
    else if (rc == -3)
        j->err = ag_cat3("Character file '", j->label,
                         "' cannot be read (not a regular file or larger than 2 MB)");
}

static size_t ag_curl_write(char *ptr, size_t size, size_t nmemb, void *ud) {
    ag_load_job *j = ud;
    size_t n = size * nmemb;
    if (j->len + n > AG_MAX_FILE)
        return 0; /* aborts the transfer */
    char *p = realloc(j->data, j->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + j->len, ptr, n);
    j->data = p;
    j->len += n;
    p[j->len] = '\0';
    return n;
}

/* Resolves libcurl once (worker thread); returns the table or NULL when it cannot be loaded. */
static const ag_curl *ag_curl_get(ag_state *st) {
    pthread_mutex_lock(&st->curl_mu);
    ag_curl *cu = &st->curl;
    if (!cu->lib && (cu->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) != NULL) {
        *(void **)&cu->easy_init = dlsym(cu->lib, "curl_easy_init");
        *(void **)&cu->easy_setopt = dlsym(cu->lib, "curl_easy_setopt");
        *(void **)&cu->easy_perform = dlsym(cu->lib, "curl_easy_perform");
        *(void **)&cu->easy_getinfo = dlsym(cu->lib, "curl_easy_getinfo");
        *(void **)&cu->easy_cleanup = dlsym(cu->lib, "curl_easy_cleanup");
    }
    int ok = cu->lib && cu->easy_init && cu->easy_setopt && cu->easy_perform && cu->easy_getinfo &&
             cu->easy_cleanup;
    pthread_mutex_unlock(&st->curl_mu);
    return ok ? cu : NULL;
}

static void ag_work_url(ag_load_job *j) {
    const ag_curl *cu = ag_curl_get(j->st);
    CURL *c = cu ? cu->easy_init() : NULL;
    long code = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (c) {
        cu->easy_setopt(c, CURLOPT_URL, j->target);
        cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        cu->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        cu->easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
        cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, ag_curl_write);
        cu->easy_setopt(c, CURLOPT_WRITEDATA, j);
        rc = cu->easy_perform(c);
        cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        cu->easy_cleanup(c);
    }
    if (rc != CURLE_OK || code < 200 || code > 299) {
        free(j->data);
        j->data = NULL;
        j->err = ag_cat3("Failed to fetch character from URL '", j->label,
                         "'. The URL may be incorrect or unavailable.");
    }
}

static void ag_load_work(void *ud) {
    ag_load_job *j = ud;
    if (j->is_url)
        ag_work_url(j);
    else
        ag_work_file(j);
}

static void ag_load_done(void *ud) {
    ag_load_job *j = ud;
    ag_state *st = j->st;
    if (j->err) {
        ag_err(st, j->req, 400, "CREATE_ERROR", j->err, j->err);
        ag_job_free(j);
        return;
    }
    json_t *doc = json_loadb(j->data ? j->data : "", j->len, JSON_DECODE_ANY, NULL);
    if (!doc) {
        char *msg = j->is_url ? ag_cat3("Invalid JSON response from URL '", j->label,
                                        "'. The resource may not contain valid character data.")
                              : ag_cat3("Character file '", j->label,
                                        "' has malformed JSON. Please check the file content.");
        ag_err(st, j->req, 400, "CREATE_ERROR", msg ? msg : "malformed JSON", msg);
        free(msg);
        ag_job_free(j);
        return;
    }
    /* a URL may serve an array of characters: the first one is used */
    const json_t *ch = json_is_array(doc) ? json_array_get(doc, 0) : doc;
    ag_create_from_json(st, j->req, ch, j->label);
    json_decref(doc);
    ag_job_free(j);
}

static int ag_has_dotdot(const char *p) {
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
        int start = s == p || s[-1] == '/';
        int end = s[2] == '\0' || s[2] == '/';
        if (start && end)
            return 1;
    }
    return 0;
}

int ag_create_from_path(ag_state *st, ez_req *req, const char *path) {
    size_t n = strlen(path);
    if (n > AG_MAX_PATH)
        return ag_err(st, req, 400, "CREATE_ERROR", "characterPath is too long",
                      "characterPath is too long");
    int is_url = strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0;
    ag_load_job *j = calloc(1, sizeof *j);
    if (!j)
        return ag_err(st, req, 500, "CREATE_ERROR", "out of memory", NULL);
    j->st = st;
    j->req = req;
    j->is_url = is_url;
    j->label = strdup(path);
    if (is_url) {
        if (!st->allow_urls) {
            const char *m = "Loading characters from URLs is disabled on this server "
                            "(agents.allow_character_urls)";
            ag_job_free(j);
            return ag_err(st, req, 400, "CREATE_ERROR", m, m);
        }
        j->target = strdup(path);
    } else {
        if (!st->characters_dir || ag_has_dotdot(path)) {
            const char *m = st->characters_dir
                                ? "characterPath must not contain '..' components"
                                : "No characters directory is configured (agents.characters_dir)";
            ag_job_free(j);
            return ag_err(st, req, 400, "CREATE_ERROR", m, m);
        }
        /* absolute paths are accepted only when they point inside the folder (checked on the
         * worker after realpath); relative ones are taken relative to it */
        j->target = path[0] == '/' ? strdup(path) : NULL;
        if (!j->target) {
            size_t dl = strlen(st->characters_dir);
            j->target = malloc(dl + n + 2);
            if (j->target)
                snprintf(j->target, dl + n + 2, "%s/%s", st->characters_dir, path);
        }
    }
    if (!j->label || !j->target) {
        ag_job_free(j);
        return ag_err(st, req, 500, "CREATE_ERROR", "out of memory", NULL);
    }
    if (st->api->work_submit(st->self, ag_load_work, ag_load_done, j) != EZ_OK) {
        ag_job_free(j);
        return ag_err(st, req, 500, "CREATE_ERROR", "Cannot schedule the character load", NULL);
    }
    /* cppcheck-suppress memleak ; j belongs to the worker job now (ag_load_done frees it) */
    return EZ_ASYNC;
}
