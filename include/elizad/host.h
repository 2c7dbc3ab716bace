/* The host API table handed to a plugin's init: the only door into the kernel. Plugins link
 * libc and jansson (and whatever third-party library they need), never a kernel symbol. */
#ifndef EZ_HOST_H
#define EZ_HOST_H

#include <elizad/bus.h>
#include <elizad/http.h>
#include <elizad/multipart.h>
#include <elizad/socket.h>
#include <elizad/store.h>
#include <elizad/types.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ez_timer_fn)(void *ud);
/* Runs on a worker thread: may block; must not call the host API except functions marked
 * "any thread" and the store sub-table. */
typedef void (*ez_work_fn)(void *ud);
/* Runs on the loop thread after the work function returned. */
typedef void (*ez_done_fn)(void *ud);

/* ABI 1.1: file-descriptor readiness watches, for plugins that drive their own non-blocking
 * sockets on the loop (libcurl's multi interface, database clients...). A watch is
 * level-triggered and persistent: fn(fd, events, ud) runs on the loop thread whenever the fd is
 * ready for any of `events` (EZ_FD_READ | EZ_FD_WRITE) until the watch is cancelled.
 * The plugin owns the fd and the watch: it must cancel every watch before its fd is closed and
 * before its destroy returns. Cancelling is safe from inside the watch's own callback. */
typedef struct ez_watch ez_watch;
enum { EZ_FD_READ = 1u << 0, EZ_FD_WRITE = 1u << 1 };
typedef void (*ez_fd_fn)(int fd, unsigned events, void *ud);

/* Route options, passed to route_ex. Zeroed fields mean the defaults. */
typedef struct ez_route_opts {
    ez_err_style err_style; /* envelope for kernel-generated errors on this route (bad uuid...) */
    const char
        *uuid_error;       /* message for a bad ":x(uuid)" parameter; default "Invalid ID format" */
    const char *uuid_code; /* code for it (styles A/C); default "INVALID_ID" */
    int raw_body;          /* 1: do not parse JSON; the handler reads body() (multipart etc.) */
} ez_route_opts;

struct ez_host_api {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size; /* sizeof(ez_host_api) in the kernel; EZ_HAS checks members added later */

    /* ---- logging (loop thread or any thread) ---- */
    void (*log)(ez_plugin *self, ez_level level, const char *fmt, ...) EZ_PRINTF(3, 4);

    /* ---- registration: init only (EZ_ESTATE afterwards); undone by the kernel at unload,
     *      which then calls ud_free(ud) ---- */
    /* methods: EZ_GET|EZ_POST...; pattern as in http.h. The same handler may be registered under
     * several patterns (aliases). A (method, pattern) already taken fails with EZ_EEXIST and both
     * plugin names in the log. */
    int (*route)(ez_plugin *self, unsigned methods, const char *pattern, ez_route_fn fn, void *ud,
                 ez_free_fn ud_free);
    int (*route_ex)(ez_plugin *self, unsigned methods, const char *pattern,
                    const ez_route_opts *opts, ez_route_fn fn, void *ud, ez_free_fn ud_free);
    int (*subscribe)(ez_plugin *self, const char *topic_glob, ez_bus_fn fn, void *ud,
                     ez_free_fn ud_free);
    /* Publishes a table of functions under a versioned name ("agents.v1"). table: borrowed,
     * must stay valid for the plugin lifetime. */
    int (*export_api)(ez_plugin *self, const char *name, const void *table);
    /* Finds an exported table (any time on the loop thread after init of the exporter);
     * NULL when absent. Importers that need it at init list the exporter in requires[]. */
    const void *(*import_api)(ez_plugin *self, const char *name);

    /* ---- request accessors (loop thread; results borrowed until the response is sent) ---- */
    const char *(*method)(const ez_req *req);                  /* "GET" ... */
    const char *(*path)(const ez_req *req);                    /* decoded path, no query */
    const char *(*param)(const ez_req *req, const char *name); /* route parameter or NULL */
    const char *(*query)(const ez_req *req, const char *name); /* first value, decoded, or NULL */
    /* All values of a repeated query key (new array of strings, maybe empty). */
    json_t *(*query_all)(const ez_req *req, const char *name);
    const char *(*header)(const ez_req *req, const char *name); /* case-insensitive, or NULL */
    /* The parsed JSON body, or NULL when there was none (or the route has raw_body). */
    const json_t *(*body_json)(const ez_req *req);
    const void *(*body)(const ez_req *req, size_t *len);
    const char *(*remote_addr)(const ez_req *req);
    int (*is_loopback)(const ez_req *req);
    /* 1 when the server has an API key and this request presented it. */
    int (*is_authenticated)(const ez_req *req);

    /* ---- responses: exactly one per request; loop thread; body_new stolen ---- */
    int (*respond_json_new)(ez_req *req, int status, json_t *body_new);
    int (*respond_raw)(ez_req *req, int status, const char *content_type, const void *data,
                       size_t len);
    /* code may be NULL for styles without one; details may be NULL. details that are a JSON
     * object or array text are embedded as that value, any other text as a string. */
    int (*respond_error)(ez_req *req, int status, ez_err_style style, const char *code,
                         const char *message, const char *details);
    int (*respond_empty)(ez_req *req, int status); /* 204 and friends */
    /* Adds a response header before respond_* (copied). */
    int (*set_header)(ez_req *req, const char *name, const char *value);
    /* Streaming (SSE, chunked): start, then write any number of times, then end. */
    int (*stream_start)(ez_req *req, int status, const char *content_type);
    int (*stream_write)(ez_req *req, const void *data, size_t len);
    int (*stream_end)(ez_req *req);
    /* For EZ_ASYNC handlers: 1 when the client went away; respond_* then only frees. */
    int (*is_gone)(const ez_req *req);

    /* ---- bus: any thread; msg_new stolen ---- */
    int (*publish_new)(ez_plugin *self, const char *topic, json_t *msg_new);

    /* ---- time, timers, worker pool ---- */
    int64_t (*now_ms)(void);
    /* Loop thread. repeat: 0 = one shot. The handle is valid until it fires (one shot) or is
     * cancelled; the kernel cancels a plugin's timers before its destroy. */
    ez_timer *(*timer_start)(ez_plugin *self, int64_t delay_ms, int repeat, ez_timer_fn fn,
                             void *ud);
    void (*timer_cancel)(ez_timer *t);
    /* Runs work(ud) on a worker thread, then done(ud) on the loop. Loop thread. */
    int (*work_submit)(ez_plugin *self, ez_work_fn work, ez_done_fn done, void *ud);

    /* ---- sub-tables (each with its own size) ---- */
    const ez_store_api *store;
    const ez_sock_api *sock;

    /* ---- helpers ---- */
    /* a version-4 uuid whose first 48 bits are the time in ms (new ids sort last) */
    void (*uuid_v4)(char out[37]);
    int (*uuid_valid)(const char *s); /* any version, case-insensitive, zero uuid valid */
    /* elizaOS stringToUuid: s itself when it is a uuid, else SHA-1 of encodeURIComponent(s). */
    void (*uuid_from_string)(const char *s, char out[37]);
    /* ms -> "2026-11-28T11:47:50.806Z" (out >= 25 bytes). */
    void (*iso_time)(int64_t ms, char out[32]);
    /* Parses epoch ms or an ISO-8601 string; returns 0 and fills *ms, or EZ_EINVAL. */
    int (*parse_time)(const char *s, int64_t *ms);
    /* Directory for the plugin's files: <data_dir>/<plugin>, created on first call. */
    const char *(*data_dir)(ez_plugin *self);
    /* Server-wide settings read from config/env (borrowed, plugin lifetime), e.g.
     * "server.port", "server.auth_token"; NULL when unset. */
    const char *(*setting)(ez_plugin *self, const char *key);
    /* Stops the HTTP listener and shuts the server down gracefully (loop thread). */
    void (*shutdown)(ez_plugin *self);
    /* Recent log lines of the kernel ring, newest last (new array of {time,level,plugin,msg}). */
    json_t *(*log_recent)(ez_plugin *self, int64_t since_ms, int limit);
    void (*log_clear)(ez_plugin *self);
    const char *(*plugin_name)(const ez_plugin *self);

    /* ABI 1.1+: append below this line only, and record it in docs/abi-changelog.md */

    /* ---- ABI 1.1: fd watches (check with EZ_HAS(api, fd_watch)); loop thread ---- */
    /* events: EZ_FD_READ | EZ_FD_WRITE (0 = keep the watch but wait for nothing). Returns the
     * watch (valid until fd_watch_cancel) or NULL on bad arguments / out of memory. */
    ez_watch *(*fd_watch)(ez_plugin *self, int fd, unsigned events, ez_fd_fn fn, void *ud);
    /* Changes the events a watch waits for. EZ_OK or EZ_EINVAL. */
    int (*fd_watch_update)(ez_watch *w, unsigned events);
    /* Stops and frees a watch (NULL is a no-op). Does not close the fd. */
    void (*fd_watch_cancel)(ez_watch *w);

    /* ---- ABI 1.2: multipart/form-data (elizad/multipart.h; check with EZ_HAS(api,
     * mp_parse)); any thread: pure functions over the bytes they are given ---- */
    /* 1 when the Content-Type value is multipart/form-data (any case, parameters after). */
    int (*mp_is_form)(const char *content_type);
    /* Copies its boundary parameter (quoted or token) into out; its length, or 0 when absent,
     * empty or longer than EZ_MP_BOUNDARY_MAX. */
    size_t (*mp_boundary)(const char *content_type, char out[EZ_MP_BOUNDARY_MAX + 1]);
    /* Calls fn for every part of body, in order (part is reused between calls); EZ_MP_OK, the
     * error of a malformed body, or EZ_MP_STOPPED when fn returned non-zero. */
    ez_mp_status (*mp_parse)(const void *body, size_t len, const char *boundary, ez_mp_part *part,
                             ez_mp_fn fn, void *ud);
    /* busboy's/multer's message for a status (static text). */
    const char *(*mp_message)(ez_mp_status st);

    /* ---- appended in ABI 1.3: check with EZ_HAS(api, json_text) ---- */

    /* v's compact JSON text (any value): what json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
     * means, written by the kernel's Socket.IO writer (strings escaped as JSON.stringify does),
     * with several times fewer instructions per byte: for texts a plugin stores on a hot path.
     * New (free() it), its length in *len_out when len_out is set; NULL when v is NULL, deeper
     * than 512 levels, or out of memory. Any thread. */
    char *(*json_text)(const json_t *v, size_t *len_out);

    /* ---- appended in ABI 1.4: check with EZ_HAS(api, utf8_sanitize) ---- */

    /* Replaces, in place, every byte of s[0..len) that does not belong to a valid UTF-8
     * character (RFC 3629, what jansson accepts) with '?'; returns how many. For text cut to a
     * byte bound or read from the network that must become a JSON string. Any thread. */
    size_t (*utf8_sanitize)(char *s, size_t len);
};

/* Imports an inter-plugin table (its first member is its uint32_t size) that must be at least
 * min_size bytes, the sizeof the importer was built with. NULL, with an error logged naming the
 * table, when it is missing or older. Header only: no ABI change. */
static inline const void *ez_import_table(const ez_host_api *api, ez_plugin *self, const char *name,
                                          size_t min_size) {
    const void *t = api->import_api(self, name);
    if (!t || *(const uint32_t *)t < min_size) {
        api->log(self, EZ_ERR, "%s is missing or too old", name);
        return NULL;
    }
    return t;
}

/* True when the host has `member` (added after 1.0) and it is set. */
#define EZ_HAS(api, member)                                                                        \
    (offsetof(ez_host_api, member) + sizeof((api)->member) <= (api)->size && (api)->member != NULL)

#define EZ_LOG(api, self, lvl, ...)                                                                \
    do {                                                                                           \
        (api)->log((self), (lvl), __VA_ARGS__);                                                    \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
