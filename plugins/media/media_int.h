/* The media plugin's private state and the functions its files share. */
#ifndef MEDIA_INT_H
#define MEDIA_INT_H

#include <elizad/elizad.h>

#include <stddef.h>
#include <stdint.h>

/* The three trees of COMPAT §10, each holding one directory per agent / channel id. */
typedef enum media_root {
    MEDIA_AGENTS,    /* data/uploads/agents: agent uploads */
    MEDIA_CHANNELS,  /* data/uploads/channels: channel uploads */
    MEDIA_GENERATED, /* data/generated: files agents made (served only) */
    MEDIA_ROOTS
} media_root;

struct media_state;

/* A route's user data: which of the plugin's routes it is. Lives in media_state. */
typedef struct media_route {
    struct media_state *st;
    int kind; /* media_upload.c's up_kind or media_static.c's root */
} media_route;

typedef struct media_state {
    ez_plugin *self;
    const ez_host_api *api;
    media_route upload_ud[3];
    media_route static_ud[MEDIA_ROOTS];
    char *roots[MEDIA_ROOTS]; /* own; absolute or relative to the working directory */
    size_t max_file;          /* largest file part accepted (multer's fileSize) */
    size_t max_serve;         /* largest file read back by the static routes */
} media_state;

/* A stored file name is "<ms>-<0..1e9><ext>": 13 + 1 + 10 digits + the extension. */
#define MEDIA_EXT_MAX 16
#define MEDIA_NAME_MAX 255

/* ---- media_mime.c: pure tables, any thread ---- */

/* COMPAT §10 allow-list, exact (case-sensitive, as multer compares). */
int media_mime_allowed(const char *mime);
/* "image" | "video" | "audio" | "document" (static). */
const char *media_mime_category(const char *mime);
/* Node's path.extname of name[0..len) ("" / ".png" / "."), kept only when it is at most
 * MEDIA_EXT_MAX letters, digits, '-' or '_' after the dot; otherwise "". Returns its length. */
size_t media_extname(const char *name, size_t len, char out[MEDIA_EXT_MAX + 2]);
/* The Content-Type a stored file is served with, by extension (static). Types a browser would
 * run (HTML, SVG, scripts) are deliberately absent: unknown means application/octet-stream. */
const char *media_type_for(const char *filename);
/* 1 when a requested file name can be looked up: 1..MEDIA_NAME_MAX bytes, no '/', '\\', "..",
 * control character, nor a leading '.'. */
int media_name_safe(const char *name);

/* ---- media_fs.c: worker threads only (they block) ---- */

/* Writes data to <root>/<id>/<a fresh "<now_ms>-<random><ext>">, creating the directories, never
 * replacing a file and never following a symlink below root. name receives the file name.
 * Returns 0 or an errno value. */
int media_fs_save(const char *root, const char *id, const char *ext, int64_t now_ms,
                  const void *data, size_t len, char name[MEDIA_NAME_MAX + 1]);

typedef enum media_load {
    MEDIA_LOAD_OK,
    MEDIA_LOAD_MISSING,   /* nothing there, or not a regular file */
    MEDIA_LOAD_DENIED,    /* a symlink where a directory or the file should be */
    MEDIA_LOAD_TOO_LARGE, /* larger than max */
    MEDIA_LOAD_ERROR,     /* *err holds the errno */
} media_load;

/* Reads <root>/<id>/<name> (name already checked with media_name_safe) without following a
 * symlink below root. On MEDIA_LOAD_OK *data is new (free() it) and *len its size. */
media_load media_fs_load(const char *root, const char *id, const char *name, size_t max,
                         char **data, size_t *len, int *err);

/* ---- registration ---- */

int media_upload_register(media_state *st);
int media_static_register(media_state *st);

#endif
