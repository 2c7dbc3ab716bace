/* elizad plugin ABI: the descriptor a plugin exports and the host API table it receives.
 *
 * Ownership words used in every comment of the SDK (docs/sdk.md has the long form):
 *   borrowed  valid until the callback returns; json_deep_copy() / strdup() to keep it
 *   stolen    the callee takes your reference even when it fails (functions ending in _new)
 *   new       a value you return or receive that the other side will release
 *   plugin lifetime  valid from init until destroy
 * Threads: every callback runs on the kernel loop thread and must not block. Functions marked
 * "any thread" only enqueue and wake the loop. */
#ifndef EZ_PLUGIN_H
#define EZ_PLUGIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MAJOR: removal, reorder or changed meaning -> plugins built for another major are refused.
 * MINOR: append-only change -> older plugins still load. See docs/abi-changelog.md. */
#define EZ_ABI_MAJOR 1u
#define EZ_ABI_MINOR 4u

#include <elizad/types.h>

/* ---- configuration schema: the kernel parses and validates, the plugin only declares ---- */
typedef enum ez_cfg_type {
    EZ_CFG_END = 0, /* terminates the schema array */
    EZ_CFG_BOOL,
    EZ_CFG_INT,
    EZ_CFG_DOUBLE,
    EZ_CFG_STRING,
    EZ_CFG_STRING_LIST,
} ez_cfg_type;

typedef struct ez_config_field {
    ez_cfg_type type;
    const char *key;           /* lower_snake_case */
    const char *default_value; /* textual default ("25000", "true", "a,b"); NULL = none */
    int required;              /* startup fails when a required key has no value */
    int secret;                /* redacted in /api/plugins and --describe */
    const char *help;
} ez_config_field;

/* ---- the descriptor: the only symbol a plugin exports, named EZ_PLUGIN_SYMBOL ---- */
typedef struct ez_plugin_desc {
    uint32_t abi_major; /* read first: they protect the rest of the struct */
    uint32_t abi_minor;
    uint32_t size; /* sizeof(ez_plugin_desc) as the plugin was built */
    const char *name;
    const char *version;
    const char *description;
    const char *const
        *requires; /* NULL-terminated names initialised before this one; may be NULL */
    const ez_config_field *config; /* terminated by EZ_CFG_END; may be NULL */
    /* cfg: the plugin's validated section with defaults applied (borrowed, plugin lifetime).
     * Register routes, events, subscriptions and exports here and nowhere else.
     * Return EZ_OK or a negative ez_status after logging the reason. */
    int (*init)(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state);
    int (*start)(void *state); /* optional: every plugin is initialised, the loop runs */
    void (*stop)(void *state); /* optional: reverse order; stop accepting work */
    void (*destroy)(void *state);
} ez_plugin_desc;

#define EZ_PLUGIN_SYMBOL "ez_plugin_v1"

/* Declares the descriptor with the version fields filled in. Usage:
 *   EZ_PLUGIN(.name = "hello", .version = "1.0.0", .init = hello_init, .destroy = hello_destroy);
 */
#define EZ_PLUGIN(...)                                                                             \
    EZ_EXPORT extern const ez_plugin_desc ez_plugin_v1;                                            \
    const ez_plugin_desc ez_plugin_v1 = {.abi_major = EZ_ABI_MAJOR,                                \
                                         .abi_minor = EZ_ABI_MINOR,                                \
                                         .size = sizeof(ez_plugin_desc),                           \
                                         __VA_ARGS__}

#ifdef __cplusplus
}
#endif

#include <elizad/host.h>

#endif
