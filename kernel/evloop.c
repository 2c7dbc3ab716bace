#include "evloop.h"

#include <event2/event.h>

void kn_event_base_release(struct event_base *base) {
    if (!base)
        return;
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
}
