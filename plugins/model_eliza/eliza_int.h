/* model_eliza private header: the provider glue between the engine and the host. */
#ifndef ELIZA_INT_H
#define ELIZA_INT_H

#include "eliza_engine.h"
#include <elizad/elizad.h>

typedef struct elp_state elp_state;
/* Loads the script (cfg script_file or the compiled-in one) and builds the model.v1 table.
 * Returns the provider state (new) or NULL after logging why. */
elp_state *elp_new(ez_plugin *self, const ez_host_api *api, const json_t *cfg);
const ez_model_v1 *elp_table(elp_state *st);
/* Fails every pending call with "provider stopped" (loop thread). */
void elp_stop(elp_state *st);
void elp_free(elp_state *st);

#endif
