/* fd watches: a plugin asks to be called when its own non-blocking fd is readable/writable.
 * The plugin owns both the fd and the watch (host.h): the kernel keeps no list of them, so a
 * cancelled watch costs nothing afterwards. */
#include "fdwatch.h"

#include <event2/event.h>
#include <stdlib.h>

struct ez_watch {
    struct event *ev;
    struct event_base *base;
    ez_fd_fn fn;
    void *ud;
    int fd;
    unsigned events;
};

static short ev_flags(unsigned events) {
    return (short)(EV_PERSIST | ((events & EZ_FD_READ) ? EV_READ : 0) |
                   ((events & EZ_FD_WRITE) ? EV_WRITE : 0));
}

static void on_ready(evutil_socket_t fd, short what, void *arg) {
    ez_watch *w = arg;
    unsigned ev = ((what & EV_READ) ? EZ_FD_READ : 0u) | ((what & EV_WRITE) ? EZ_FD_WRITE : 0u);
    /* libevent touches nothing of a persistent event after its callback, so fn may cancel
     * (free) the watch. */
    w->fn((int)fd, ev, w->ud);
}

/* Arms (or disarms, for events == 0) the event with the wanted flags. */
static int arm(ez_watch *w, unsigned events) {
    if (w->ev) {
        event_del(w->ev);
        if (event_assign(w->ev, w->base, w->fd, ev_flags(events), on_ready, w) != 0)
            return EZ_EINVAL;
    } else {
        w->ev = event_new(w->base, w->fd, ev_flags(events), on_ready, w);
        if (!w->ev)
            return EZ_ENOMEM;
    }
    w->events = events;
    if (events && event_add(w->ev, NULL) != 0)
        return EZ_EINVAL;
    return EZ_OK;
}

static ez_watch *api_fd_watch(ez_plugin *self, int fd, unsigned events, ez_fd_fn fn, void *ud) {
    struct event_base *base = kn_kernel_base(kn_plugin_kernel(self));
    if (!base || fd < 0 || !fn || (events & ~(unsigned)(EZ_FD_READ | EZ_FD_WRITE)))
        return NULL;
    ez_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->base = base;
    w->fd = fd;
    w->fn = fn;
    w->ud = ud;
    if (arm(w, events) != EZ_OK) {
        if (w->ev)
            event_free(w->ev);
        free(w);
        return NULL;
    }
    return w;
}

static int api_fd_watch_update(ez_watch *w, unsigned events) {
    if (!w || (events & ~(unsigned)(EZ_FD_READ | EZ_FD_WRITE)))
        return EZ_EINVAL;
    if (events == w->events)
        return EZ_OK;
    return arm(w, events);
}

static void api_fd_watch_cancel(ez_watch *w) {
    if (!w)
        return;
    if (w->ev)
        event_free(w->ev); /* also deletes it, even when active */
    free(w);
}

void kn_fdwatch_fill(ez_host_api *api) {
    api->fd_watch = api_fd_watch;
    api->fd_watch_update = api_fd_watch_update;
    api->fd_watch_cancel = api_fd_watch_cancel;
}
