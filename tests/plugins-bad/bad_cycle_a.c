/* Requires bad_cycle_b, which requires this one: a dependency cycle the loader refuses. */
#include <elizad/plugin.h>

#include <stdlib.h>

static const char *const cycle_requires[] = {"bad_cycle_b", NULL};

static int cycle_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)self;
    (void)api;
    (void)cfg;
    (void)state;
    abort(); /* ordering fails before any init */
}

static void cycle_destroy(void *state) {
    (void)state;
}

EZ_PLUGIN(.name = "bad_cycle_a", .version = "1", .requires = cycle_requires, .init = cycle_init,
          .destroy = cycle_destroy);
