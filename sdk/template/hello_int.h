/* hello: private state and the functions hello.c registers. */
#ifndef HELLO_INT_H
#define HELLO_INT_H

#include <elizad/plugin.h>

#define HELLO_NAME_MAX 64

typedef struct hello_state {
    ez_plugin *self;        /* plugin lifetime */
    const ez_host_api *api; /* plugin lifetime */
    const char *greeting;   /* from the validated config: plugin lifetime */
    long long messages_seen;
} hello_state;

/* GET /api/hello[?name=Ada] */
int hello_get(ez_req *req, void *ud);
/* messaging.message.created */
void hello_on_message(const char *topic, const json_t *msg, void *ud);

#endif
