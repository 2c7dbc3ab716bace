/* Configuration: the libconfig file (or the built-in copy of packaging/elizad.conf), the
 * environment overrides with elizaOS's variable names, and per-plugin sections validated
 * against each plugin's schema. Errors are one line "FILE:LINE: KEY: reason". */
#ifndef KN_CONFIG_H
#define KN_CONFIG_H

#include "config_schema.h"
#include "core.h"

#include <stddef.h>

#define KN_ERR_MAX 512

/* path NULL: ./elizad.conf if present, else EZ_DEFAULT_CONFIG if present, else the built-in
 * defaults. Reads the environment for overrides. NULL on error with the reason in err. */
kn_config *kn_config_load(const char *path, char err[KN_ERR_MAX]);
/* Parses text instead of a file (tests); `name` is used in error messages. */
kn_config *kn_config_load_string(const char *text, const char *name, char err[KN_ERR_MAX]);
void kn_config_free(kn_config *c);

/* "file" or "<built-in>". */
const char *kn_config_source(const kn_config *c);
/* Setting by dotted key, as a string (numbers in decimal; server.max_body in bytes); NULL when
 * unknown or empty. Borrowed, config lifetime. */
const char *kn_config_get(const kn_config *c, const char *key);
long long kn_config_get_int(const kn_config *c, const char *key, long long fallback);

/* The allow-list, in file order. */
size_t kn_config_plugin_count(const kn_config *c);
const char *kn_config_plugin_name(const kn_config *c, size_t i);

/* Top-level groups that are not server/socketio: plugin sections. For sections whose plugin is
 * not enabled the loader decides between a warning and an error. */
size_t kn_config_section_count(const kn_config *c);
const char *kn_config_section_name(const kn_config *c, size_t i);
int kn_config_section_line(const kn_config *c, size_t i);
int kn_config_plugin_enabled(const kn_config *c, const char *name);

/* Builds the plugin's section as a JSON object validated against schema (may be NULL: then the
 * section must be empty): types, unknown keys, required keys, defaults filled, STRING_LIST as
 * arrays of strings. *out new on success. EZ_EINVAL with the one-line reason in err. */
int kn_config_plugin_section(const kn_config *c, const char *plugin, const ez_config_field *schema,
                             json_t **out, char err[KN_ERR_MAX]);

/* "bool", "int", "double", "string", "string list". */
const char *kn_config_type_name(ez_cfg_type t);

#endif
