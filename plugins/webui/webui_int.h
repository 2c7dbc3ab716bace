/* webui: serves the official elizaOS web UI (@elizaos/client's prebuilt dist/) and its SPA
 * fallback. Private declarations shared by the plugin's files. */
#ifndef WEBUI_INT_H
#define WEBUI_INT_H

#include <elizad/host.h>
#include <elizad/plugin.h>

#include <stddef.h>

/* A decoded request path longer than this is refused (414): the dist's longest is ~50 bytes,
 * and the bound keeps every buffer built from it small and fixed. */
#define WEBUI_PATH_MAX 1024
/* Candidate directories for the dist: the configured one, or the two defaults. */
#define WEBUI_MAX_DIRS 2

typedef struct webui_state {
    ez_plugin *self;
    const ez_host_api *api;
    /* Absolute directories tried in order on every request (so a UI installed after start is
     * picked up without a restart). Own; read-only after init, hence safe on workers. */
    char *dirs[WEBUI_MAX_DIRS];
    int ndirs;
    size_t max_file; /* bytes; a larger file is not served */
} webui_state;

/* ---- webui_path.c: request path rules (pure) ---- */

/* 1 for "/api" and "/api/..." (case-insensitive, as the kernel's own /api test): paths that
 * must keep the API's JSON 404 even though the root catch-all matched them. */
int webui_path_is_api(const char *path);
/* 0 when path (decoded once, by the kernel) may be looked up under the dist, else the HTTP
 * status to refuse it with: 414 too long, 400 for "." or ".." segments, empty inner segments,
 * backslashes and control bytes. */
int webui_path_check(const char *path);
/* 1 when the last segment names a file ("main-1a2b.js", not "chat" or a uuid): such paths get
 * a 404 when missing instead of index.html. Dot files count as files. */
int webui_path_is_file_like(const char *path);
/* 1 for a segment starting with '.' anywhere in path: never served (as express.static's
 * default dotfiles: "ignore"), which also hides the version marker fetch-webui.sh writes. */
int webui_path_has_dotfile(const char *path);

/* ---- webui_mime.c: response metadata by file name (pure) ---- */

/* Content-Type for the file name's extension; application/octet-stream when unknown.
 * Static string. */
const char *webui_mime_type(const char *path);
/* Cache-Control for a served file: index.html is revalidated every time, Vite's hashed
 * files under /assets/ are immutable, everything else revalidates through its ETag. Static string.
 */
const char *webui_cache_control(const char *path);

/* ---- webui_file.c: the file system side (worker threads only) ---- */

typedef enum webui_load {
    WEBUI_LOAD_OK,
    WEBUI_LOAD_NOT_MODIFIED, /* If-None-Match matched: no body was read */
    WEBUI_LOAD_MISSING,      /* absent, a directory, or not a regular file */
    WEBUI_LOAD_FORBIDDEN,    /* resolves (through a symlink) outside the root */
    WEBUI_LOAD_TOO_LARGE,
    WEBUI_LOAD_ERROR, /* I/O error or out of memory (errno in err) */
} webui_load;

typedef struct webui_file {
    char *data; /* own (malloc); NULL unless WEBUI_LOAD_OK */
    size_t len;
    char etag[80];          /* W/"size-mtime-inode" */
    char last_modified[40]; /* IMF-fixdate */
    int err;
} webui_file;

/* Finds the first of dirs that holds an index.html and writes its realpath into root (PATH_MAX
 * bytes). 0 when found, -1 when the UI is not installed in any of them. */
int webui_find_root(char *const *dirs, int ndirs, char *root);
/* Loads root + rel (rel checked by webui_path_check, starting with '/'). if_none_match may be
 * NULL. Fills *out; the caller frees out->data. */
webui_load webui_file_load(const char *root, const char *rel, const char *if_none_match, size_t max,
                           webui_file *out);

/* ---- webui_page.c ---- */

/* The HTML page answered while the UI is not installed (static, NUL-terminated). */
const char *webui_page_not_installed(size_t *len);

/* ---- webui_route.c ---- */

/* Registers the catch-all route. EZ_OK or the route() status. */
int webui_routes_register(webui_state *st);

#endif
