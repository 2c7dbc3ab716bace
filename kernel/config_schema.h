/* Plugin config schema helpers free of kernel state (the testkit compiles them too). */
#ifndef KN_CONFIG_SCHEMA_H
#define KN_CONFIG_SCHEMA_H

#include <elizad/plugin.h>
#include <jansson.h>

/* Decimal long long, surrounding-space tolerant at the start only; 0 or -1. */
int kn_parse_ll(const char *s, long long *out);

/* A field's textual default as JSON (new), or NULL when it has none or it does not parse. */
json_t *kn_config_parse_default(const ez_config_field *f);

#endif
