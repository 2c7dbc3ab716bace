/* Requires a plugin that is not enabled: refused before any init. */
#include <elizad/plugin.h>

#include <stdlib.h>

static const char *const needs_requires[] = {"hello", NULL};

static int needs_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)self;
    (void)api;
    (void)cfg;
    (void)state;
    abort();
}

static void needs_destroy(void *state) {
    (void)state;
}

EZ_PLUGIN(.name = "bad_needs", .version = "1", .requires = needs_requires, .init = needs_init,
          .destroy = needs_destroy);
