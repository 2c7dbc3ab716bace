/* hello: private state shared by hello.c and hello_routes.c. */
#ifndef HELLO_INT_H
#define HELLO_INT_H

#include <elizad/plugin.h>

typedef struct hello_state {
    ez_plugin *self;
    const ez_host_api *api;
    const json_t *cfg; /* plugin lifetime */
    long long bus_count;
    char last_topic[128];
    json_t *last_msg;
    long long ticks;
} hello_state;

int hello_get(ez_req *req, void *ud);
int hello_get_bus(ez_req *req, void *ud);
int hello_post_publish(ez_req *req, void *ud);
int hello_get_notes(ez_req *req, void *ud);
int hello_post_notes(ez_req *req, void *ud);
void hello_on_bus(const char *topic, const json_t *msg, void *ud);

#endif
