/* Tearing down the kernel's event_base. */
#ifndef KN_EVLOOP_H
#define KN_EVLOOP_H

struct event_base;

/* Frees base (owned; NULL is fine) once every owner of events on it has let go. A bufferevent
 * freed while one of its deferred callbacks is still queued keeps a reference until that
 * callback runs; with libevent's threading enabled event_base_free only cancels the callback
 * and the bufferevent leaks, so one non-blocking pass runs those (now empty) callbacks first. */
void kn_event_base_release(struct event_base *base);

#endif
