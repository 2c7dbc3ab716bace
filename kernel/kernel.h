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

/* The Socket.IO engine of this kernel (NULL before it is created). */
kn_sio *kn_kernel_sio(kn_kernel *k);

/* Registration bookkeeping for the loader. */
kn_kernel *kn_plugin_kernel(const ez_plugin *p);
const char *kn_plugin_name(const ez_plugin *p);
/* 1 while the plugin's init runs: the only time it may register anything. */
int kn_plugin_may_register(const ez_plugin *p);
/* Records an undo action run when the plugin is unloaded or its init fails (reverse order).
 * undo(ctx) must release ctx and call the registration's ud_free. */
int kn_plugin_track(ez_plugin *p, void (*undo)(void *ctx), void *ctx);

#endif
