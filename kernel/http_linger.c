/* Early refusals (413 by Content-Length, or once a body outgrows its limit). Closing right
 * after the answer while the client is still uploading makes the kernel reset the connection,
 * and the client then loses the answer. So the connection is taken from evhtp, the answer
 * written, our side shut down once it left, and whatever the client still sends is read and
 * dropped until it closes or linger_to passes. */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct kn_linger {
    kn_http *h;
    struct bufferevent *bev;
    struct event *timer;
    kn_linger *prev, *next;
};

static void linger_free(kn_linger *l) {
    if (l->prev)
        l->prev->next = l->next;
    else
        l->h->lingers = l->next;
    if (l->next)
        l->next->prev = l->prev;
    if (l->timer)
        event_free(l->timer);
    bufferevent_free(l->bev);
    free(l);
}

void kn_linger_free_all(kn_http *h) {
    while (h->lingers)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        linger_free(h->lingers);
}

static void l_read(struct bufferevent *bev, void *arg) {
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void l_write(struct bufferevent *bev, void *arg) {
    (void)arg;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0)
        shutdown(fd, SHUT_WR);
}

static void l_event(struct bufferevent *bev, short events, void *arg) {
    (void)bev;
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        linger_free(arg);
}

static void l_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    linger_free(arg);
}

static void emit_line(void *arg, const char *name, const char *value) {
    evbuffer_add_printf(arg, "%s: %s\r\n", name, value);
}

static const char *reason(int status) {
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Error";
    }
}

void kn_http_reject_early(kn_conn *c, evhtp_request_t *ev, int status, const char *json_body) {
    kn_http *h = c->h;
    struct evbuffer *out = evbuffer_new();
    kn_linger *l = calloc(1, sizeof *l);
    struct bufferevent *bev = evhtp_connection_take_ownership(c->ev);
    kn_conn_detach(c); /* evhtp will free its connection without telling us */
    if (!bev || !out || !l || !(l->timer = evtimer_new(h->base, l_timeout, l))) {
        if (bev)
            bufferevent_free(bev);
        if (out)
            evbuffer_free(out);
        free(l);
        return;
    }
    size_t blen = strlen(json_body);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, reason(status));
    kn_http_common_headers(h, evhtp_header_find(ev->headers_in, "Origin"), emit_line, out);
    evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        KN_JSON_CT, blen);
    evbuffer_add(out, json_body, blen);
    l->h = h;
    l->bev = bev;
    l->next = h->lingers;
    if (h->lingers)
        h->lingers->prev = l;
    h->lingers = l;
    /* the input still holds what evhtp is parsing right now: drained on the next read */
    bufferevent_setcb(bev, l_read, l_write, l_event, l);
    bufferevent_write_buffer(bev, out);
    evbuffer_free(out);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    evtimer_add(l->timer, &h->linger_to);
}
