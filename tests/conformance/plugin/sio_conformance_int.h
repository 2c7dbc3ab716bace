/* sio_conformance: private declarations. */
#ifndef SIO_CONFORMANCE_INT_H
#define SIO_CONFORMANCE_INT_H

#include <elizad/plugin.h>

typedef struct sioc_state {
    ez_plugin *self;
    const ez_host_api *api;
} sioc_state;

/* The namespaces the suite talks to, then the extra one that has a guard. */
#define SIOC_NSP_CUSTOM "/custom"
#define SIOC_NSP_GUARDED "/guarded"

int sioc_register(sioc_state *st, const char *nsp);
int sioc_register_guarded(sioc_state *st);
void sioc_on_connected(const char *topic, const json_t *msg, void *ud);

#endif
