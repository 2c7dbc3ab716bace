/* fd watches: a plugin asks to be called when its own non-blocking fd is readable/writable.
 * The plugin owns both the fd and the watch (host.h). The kernel also lists them by owner, only
 * to release what a plugin left behind when it is unloaded. */
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
    const ez_plugin *owner;
    kn_fdwatches *set;
    ez_watch *prev, *next;
};

struct kn_fdwatches {
    ez_watch *head;
};

kn_fdwatches *kn_fdwatches_new(void) {
    return calloc(1, sizeof(kn_fdwatches));
}

static void unlink_watch(ez_watch *w) {
    if (w->prev)
        w->prev->next = w->next;
    else if (w->set->head == w)
        w->set->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void watch_free(ez_watch *w) {
    unlink_watch(w);
    if (w->ev)
        event_free(w->ev); /* also deletes it, even when active */
    free(w);
}

size_t kn_fdwatches_release_owner(kn_fdwatches *set, const ez_plugin *owner) {
    size_t n = 0;
    if (!set)
        return 0;
    for (ez_watch *w = set->head, *next; w; w = next) {
        next = w->next;
        if (w->owner == owner) {
            watch_free(w);
            n++;
        }
    }
    return n;
}

void kn_fdwatches_free(kn_fdwatches *set) {
    if (!set)
        return;
    while (set->head)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        watch_free(set->head);
    free(set);
}

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
    kn_kernel *k = kn_plugin_kernel(self);
    struct event_base *base = kn_kernel_base(k);
    kn_fdwatches *set = kn_kernel_fdwatches(k);
    if (!base || !set || fd < 0 || !fn || (events & ~(unsigned)(EZ_FD_READ | EZ_FD_WRITE)))
        return NULL;
    ez_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->base = base;
    w->fd = fd;
    w->fn = fn;
    w->ud = ud;
    w->owner = self;
    w->set = set;
    w->next = set->head;
    if (set->head)
        set->head->prev = w;
    set->head = w;
    if (arm(w, events) != EZ_OK) {
        watch_free(w);
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
    if (w)
        watch_free(w);
}

void kn_fdwatch_fill(ez_host_api *api) {
    api->fd_watch = api_fd_watch;
    api->fd_watch_update = api_fd_watch_update;
    api->fd_watch_cancel = api_fd_watch_cancel;
}
