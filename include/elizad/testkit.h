/* elizad testkit: a fake host for plugin unit tests (libelizad-testkit.a).
 *
 * A test links the plugin's sources statically together with the testkit, loads the plugin's
 * descriptor into a fake host and drives it without a server, a socket or a thread:
 *
 *   extern const ez_plugin_desc ez_plugin_v1;
 *   int main(void) {
 *       ez_tk *tk = ez_tk_new();
 *       EZ_TK_CHECK(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"greeting\":\"hi\"}") == EZ_OK);
 *       ez_tk_reply *r = ez_tk_get(tk, "/api/hello");
 *       EZ_TK_CHECK_STATUS(tk, r, 200);
 *       EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.message"), "\"hi\"");
 *       return ez_tk_finish(tk);
 *   }
 *
 * What the fake host does, member by member of ez_host_api:
 *   registration  recorded per plugin, allowed only inside init (EZ_ESTATE afterwards), rolled back
 *                 with every ud_free when init fails, removed (ud_free called) at finish;
 *   routes        matched like the kernel (literal > ":param" > "*", ":x(uuid)" validated, trailing
 *                 slash ignored), with the kernel's 404 / 405 / 400 bodies, the JSON body parsed
 *                 once; a handler returning EZ_DONE without answering gets a 500 and a failure;
 *   bus           publish_new is captured (ez_tk_bus_log) and delivered to matching subscriptions
 *                 asynchronously, i.e. at the next ez_tk_run (every ez_tk_call ends with one);
 *   store         an in-memory SQLite database with the kernel's "@name" -> "<plugin>_name"
 *                 expansion, parameter binding, row conversion, migrations and transactions;
 *   timers        a fake clock: nothing fires until ez_tk_advance moves it;
 *   work_submit   runs work(ud) at once on the calling thread, done(ud) at the next ez_tk_run;
 *   sock          emits are captured (ez_tk_emit_log) with the sids they would reach; fake sockets
 *                 (ez_tk_sock_connect) run the guards, join rooms and receive events;
 *   fd_watch      (ABI 1.1) real fds polled by ez_tk_poll_fds;
 *   the rest      log captured (ez_tk_log; errors and warnings echoed on stderr, everything with
 *                 EZ_TK_LOG=debug), settings from ez_tk_set_setting, data_dir under a temporary
 *                 directory removed at finish, uuid/time helpers identical to the kernel's.
 *
 * Ownership: every pointer the testkit returns (replies, acks, logs, JSON) is owned by the ez_tk
 * and stays valid until ez_tk_finish unless a function says otherwise. Threads: one ez_tk per
 * process at a time (now_ms() has no context argument), used from one thread; publish_new,
 * emit_new and log may also be called from other threads, as on the real host. */
#ifndef EZ_TESTKIT_H
#define EZ_TESTKIT_H

#include <elizad/elizad.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ez_tk ez_tk;

/* The fake clock's start: 2025-11-28T11:47:50.806Z. */
#define EZ_TK_EPOCH_MS INT64_C(1764330470806)

/* ---- lifecycle ---- */

/* A fresh fake host (new; release it with ez_tk_finish). NULL when out of memory or when SQLite
 * cannot open an in-memory database. */
ez_tk *ez_tk_new(void);

/* Drains pending work, then stop() in reverse load order, destroy(), every registration's
 * ud_free, and frees the host and everything it returned. Counts as failures: a request answered
 * EZ_ASYNC that never got a response, an ack never answered, a stream never ended.
 * Prints "testkit: N checks, M failed" and returns 0 when nothing failed, else 1, so a test's
 * main can `return ez_tk_finish(tk);`. */
int ez_tk_finish(ez_tk *tk);

/* ---- plugins ---- */

/* Runs the kernel's ABI gate on desc (major equal, minor not newer, size, name, init, destroy),
 * checks that every requires[] name is loaded (or stubbed), validates config_json (a JSON object
 * text, or NULL for {}) against desc->config exactly like the kernel validates a config section
 * (unknown key, wrong type, missing required value -> EZ_EINVAL), applies the defaults, then calls
 * init with registration open. On failure the reason is in ez_tk_error() and, when init failed,
 * its registrations are already undone; destroy is not called (as in the kernel). */
int ez_tk_load(ez_tk *tk, const ez_plugin_desc *desc, const char *config_json);
/* Calls start() of every loaded plugin in load order, then delivers kernel.started. */
int ez_tk_start(ez_tk *tk);
/* A plugin without code, to satisfy requires[] and own tables made with ez_tk_export. */
int ez_tk_stub(ez_tk *tk, const char *name);
/* Publishes a table for import_api under name (e.g. a fake "agents.v1"); table borrowed, must
 * outlive the ez_tk. EZ_EEXIST when the name is taken. */
int ez_tk_export(ez_tk *tk, const char *name, const void *table);
/* The one-line reason of the last failure of ez_tk_load / ez_tk_start / ez_tk_stub ("" if none). */
const char *ez_tk_error(const ez_tk *tk);

/* The host table plugins receive (borrowed, valid until finish). */
const ez_host_api *ez_tk_api(ez_tk *tk);
/* A loaded (or stubbed) plugin's handle, to call the host API on its behalf; NULL if unknown. */
ez_plugin *ez_tk_plugin(ez_tk *tk, const char *name);
/* The state pointer init returned, and the validated config it received (borrowed). */
void *ez_tk_state(ez_tk *tk, const char *name);
const json_t *ez_tk_config(ez_tk *tk, const char *name);

/* Sets a value returned by api->setting (both strings copied). Defaults: server.host 127.0.0.1,
 * server.port 3000, server.auth_token "" and the rest unset. */
int ez_tk_set_setting(ez_tk *tk, const char *key, const char *value);
/* 1 once a plugin has called api->shutdown. */
int ez_tk_shutdown_requested(const ez_tk *tk);

/* ---- HTTP ---- */

typedef struct ez_tk_request {
    const char *method;         /* "GET" when NULL */
    const char *path;           /* "/api/x/y?limit=5&tag=a" (the query follows '?'), raw-encoded */
    const char *body;           /* request body bytes, or NULL */
    size_t body_len;            /* 0: strlen(body) */
    const char *content_type;   /* NULL: "application/json" when there is a body */
    const char *const *headers; /* NULL or {"Name", "value", ..., NULL} */
    const char *remote_addr;    /* NULL: "127.0.0.1" */
    int authenticated;          /* what is_authenticated answers */
} ez_tk_request;

/* A captured response. Owned by the ez_tk; fields are filled when the plugin answers, which for
 * an EZ_ASYNC handler may be during a later ez_tk_run / ez_tk_advance. */
typedef struct ez_tk_reply {
    int status;         /* 0 while nobody answered */
    json_t *json;       /* the body parsed as JSON, or NULL */
    char *body;         /* the raw body, NUL-terminated; NULL while nobody answered */
    size_t body_len;    /* without the NUL */
    char *content_type; /* NULL for respond_empty */
    json_t *headers;    /* {"Name": "value"} added with set_header */
    int handler_rc;     /* EZ_DONE or EZ_ASYNC; -1 when the host answered (404, 405, 400...) */
    const char *route;  /* the pattern that matched, or NULL */
    int streamed;       /* stream_start was called */
    int stream_ended;   /* stream_end was called */
} ez_tk_reply;

/* Runs one request through the fake host's pipeline and the handler, then ez_tk_run.
 * Never NULL (out of memory aborts the test). */
ez_tk_reply *ez_tk_call(ez_tk *tk, const ez_tk_request *rq);
/* Shorthands: GET path; method + path + JSON text body (NULL = no body). */
ez_tk_reply *ez_tk_get(ez_tk *tk, const char *path);
ez_tk_reply *ez_tk_send(ez_tk *tk, const char *method, const char *path, const char *json_body);
/* Makes is_gone() answer 1 for a pending request, as when the client disconnects. */
void ez_tk_client_gone(ez_tk *tk, ez_tk_reply *reply);

/* ---- bus, loop, time ---- */

/* Delivers msg (borrowed) on topic to every matching subscription, as if another plugin or the
 * kernel published it, then runs ez_tk_run. Not captured in ez_tk_bus_log. Returns the number of
 * subscriptions called. */
int ez_tk_deliver(ez_tk *tk, const char *topic, const json_t *msg);
/* Same with the message as JSON text; -1 when the text does not parse. */
int ez_tk_deliver_text(ez_tk *tk, const char *topic, const char *json_text);
/* Delivers queued bus messages and completes submitted work until nothing is left. Returns the
 * number of callbacks run. */
int ez_tk_run(ez_tk *tk);
/* The fake clock (what api->now_ms returns). */
int64_t ez_tk_now(const ez_tk *tk);
/* Moves the clock forward by ms, firing due timers in due-time order (a repeating timer fires
 * as often as it is due), running ez_tk_run after each. Returns the number of timers fired. */
int ez_tk_advance(ez_tk *tk, int64_t ms);
/* Pending timers. */
size_t ez_tk_timer_count(const ez_tk *tk);
/* Number of work_submit calls so far. */
size_t ez_tk_work_count(const ez_tk *tk);
/* Polls the fds watched with api->fd_watch for up to timeout_ms and dispatches the ready ones,
 * then ez_tk_run. Returns the number of watch callbacks run. */
int ez_tk_poll_fds(ez_tk *tk, int timeout_ms);

/* ---- sockets ---- */

/* A pending acknowledgement captured from a fake socket event. Owned by the ez_tk. */
typedef struct ez_tk_ack {
    int answered; /* 1 once the plugin called ack_new */
    json_t *args; /* what it answered with (an array), or NULL (dropped / not yet) */
} ez_tk_ack;

/* Connects a fake socket: runs the namespace's guards with auth (JSON text, NULL = {}), then
 * creates the socket (in the room named by its sid) and delivers socket.connected. Returns EZ_OK,
 * or EZ_EINVAL when a guard refused (its message in *refused when refused is not NULL),
 * EZ_EEXIST for a duplicate sid. */
int ez_tk_sock_connect(ez_tk *tk, const char *nsp, const char *sid, const char *auth_json,
                       const char **refused);
/* Sends an event from a fake socket: args_json is the argument array text (NULL = []). With ack
 * not NULL the client asks for an acknowledgement and *ack tracks it. Runs the owner of the event
 * (or the namespace's "*" handler), then ez_tk_run. EZ_ENOENT when no socket or no handler. */
int ez_tk_sock_event(ez_tk *tk, const char *nsp, const char *sid, const char *event,
                     const char *args_json, ez_tk_ack **ack);
/* Disconnects a fake socket (client side) and delivers socket.disconnected. */
int ez_tk_sock_disconnect(ez_tk *tk, const char *nsp, const char *sid, const char *reason);
/* 1 when the socket is connected and in room; 0 otherwise. */
int ez_tk_sock_in_room(const ez_tk *tk, const char *nsp, const char *sid, const char *room);
/* The socket's data object (data_set_new), or NULL. */
const json_t *ez_tk_sock_data(const ez_tk *tk, const char *nsp, const char *sid);

/* ---- captured output: JSON arrays owned by the ez_tk, oldest first ---- */

/* [{"plugin", "topic", "msg"}] for every publish_new. */
const json_t *ez_tk_bus_log(const ez_tk *tk);
/* [{"plugin", "nsp", "room" (or null), "except" (or null), "event", "args", "to": [sids]}]. */
const json_t *ez_tk_emit_log(const ez_tk *tk);
/* [{"time", "level" (pino number), "plugin", "msg"}] for every log call. */
const json_t *ez_tk_log(const ez_tk *tk);
/* [{"plugin", "nsp", "sid"}] for every server-side disconnect. */
const json_t *ez_tk_disconnect_log(const ez_tk *tk);
/* Empties all captured logs (does not touch the replies). */
void ez_tk_clear_logs(ez_tk *tk);

/* Counts the entries of a captured log whose string member `key` matches glob ("*" wildcards,
 * as bus subscriptions; NULL glob matches everything). */
size_t ez_tk_count(const json_t *log, const char *key, const char *glob);
/* The last such entry (borrowed), or NULL. */
const json_t *ez_tk_last(const json_t *log, const char *key, const char *glob);

/* ---- JSON helpers ---- */

/* Walks "data.items[0].name" (object members separated by '.', array indexes in brackets;
 * "" is the root; a key holding '.' or '[' cannot be reached). Borrowed, or NULL when absent. */
const json_t *ez_tk_json_at(const json_t *root, const char *path);
/* 1 when v equals the JSON value written as text (integers and reals compare by value). */
int ez_tk_json_eq(const json_t *v, const char *json_text);
/* The body of a store query as a convenience: runs sql with params_json (text, NULL = none) as
 * plugin `name` and returns the rows (owned by the ez_tk), NULL on error. */
const json_t *ez_tk_query(ez_tk *tk, const char *name, const char *sql, const char *params_json);

/* ---- checks ---- */

/* Records one check. ok 0 prints "file:line: FAIL what" (and detail when not NULL). Returns ok. */
int ez_tk_check(ez_tk *tk, int ok, const char *what, const char *detail, const char *file,
                int line);
int ez_tk_check_status(ez_tk *tk, const ez_tk_reply *r, int want, const char *file, int line);
int ez_tk_check_str(ez_tk *tk, const char *got, const char *want, const char *what,
                    const char *file, int line);
int ez_tk_check_int(ez_tk *tk, long long got, long long want, const char *what, const char *file,
                    int line);
int ez_tk_check_json(ez_tk *tk, const json_t *got, const char *want_text, const char *what,
                     const char *file, int line);
/* Number of failed checks so far (host-side failures included). */
int ez_tk_failures(const ez_tk *tk);

#define EZ_TK_CHECK(tk, cond) ez_tk_check((tk), (cond) ? 1 : 0, #cond, NULL, __FILE__, __LINE__)
#define EZ_TK_CHECK_STATUS(tk, reply, want)                                                        \
    ez_tk_check_status((tk), (reply), (want), __FILE__, __LINE__)
#define EZ_TK_CHECK_STR(tk, got, want)                                                             \
    ez_tk_check_str((tk), (got), (want), #got, __FILE__, __LINE__)
#define EZ_TK_CHECK_INT(tk, got, want)                                                             \
    ez_tk_check_int((tk), (long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define EZ_TK_CHECK_JSON(tk, got, want_text)                                                       \
    ez_tk_check_json((tk), (got), (want_text), #got, __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif

#endif
