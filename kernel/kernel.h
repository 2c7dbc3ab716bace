/* The kernel context shared by the subsystems. Internal: never installed, never seen by plugins.
 * One kn_kernel is created by main() and passed down; there are no mutable globals. */
#ifndef KN_KERNEL_H
#define KN_KERNEL_H

#include <elizad/plugin.h>
#include <jansson.h>

struct event_base;
typedef struct kn_kernel kn_kernel;
typedef struct kn_sio kn_sio;

/* The libevent loop every callback runs on. */
struct event_base *kn_kernel_base(kn_kernel *k);

/* Leveled log line tagged with a plugin name ("kernel" for the kernel itself): written to
 * stderr, kept in the in-memory ring and published on kernel.log. Any thread. */
void kn_log(kn_kernel *k, const char *plugin, ez_level level, const char *fmt, ...) EZ_PRINTF(4, 5);

/* Publishes on the bus; msg_new stolen. Any thread. */
int kn_bus_publish_new(kn_kernel *k, const char *topic, json_t *msg_new);

/* Server settings after config file and environment overrides, by dotted key
 * ("server.port", "server.auth_token", "socketio.ping_interval" ...); NULL when unset.
 * Borrowed, valid for the kernel's lifetime. */
const char *kn_setting(kn_kernel *k, const char *key);
long long kn_setting_int(kn_kernel *k, const char *key, long long fallback);

/* The Socket.IO engine and the HTTP server of this kernel (NULL before they are created). */
kn_sio *kn_kernel_sio(kn_kernel *k);
typedef struct kn_http kn_http;
kn_http *kn_kernel_http(kn_kernel *k);

/* Milliseconds since the epoch when the kernel started (for uptime). */
int64_t kn_kernel_started_ms(kn_kernel *k);
/* An exported inter-plugin table by name ("agents.v1"), or NULL. Loop thread. */
const void *kn_kernel_import(kn_kernel *k, const char *name);
/* Describes every loaded plugin for GET /api/plugins and --describe (new array of
 * {name, version, abi, description, requires, routes, socket_events, config} with secret
 * config values redacted). */
json_t *kn_kernel_plugins_describe(kn_kernel *k);
/* Begins a graceful shutdown (stop accepting, drain, stop plugins, exit the loop). Loop thread. */
void kn_kernel_shutdown(kn_kernel *k);
/* The in-memory log ring: entries newer than since_ms, at most limit, oldest first
 * (new array of {time, level (pino number), plugin, msg}); and clearing it. */
json_t *kn_log_recent(kn_kernel *k, int64_t since_ms, int limit);
void kn_log_clear(kn_kernel *k);

/* Registration bookkeeping for the loader. */
kn_kernel *kn_plugin_kernel(const ez_plugin *p);
const char *kn_plugin_name(const ez_plugin *p);
/* 1 while the plugin's init runs: the only time it may register anything. */
int kn_plugin_may_register(const ez_plugin *p);
/* Records an undo action run when the plugin is unloaded or its init fails (reverse order).
 * undo(ctx) must release ctx and call the registration's ud_free. */
int kn_plugin_track(ez_plugin *p, void (*undo)(void *ctx), void *ctx);

#endif
