/* libcurl's multi-socket interface on the kernel loop: curl tells us which sockets to watch
 * (socket callback -> fd watches) and when to call it back (timer callback -> a kernel timer);
 * we hand readiness back with curl_multi_socket_action. No thread, no blocking call. On a
 * kernel without fd watches (ABI 1.0) a 5 ms timer drives curl_multi_perform instead. */
#include "openai_int.h"

#include <stdlib.h>
#include <unistd.h>

#define OA_POLL_MS 5

/* A socket curl uses, with its watch. Listed so teardown can cancel what curl left behind. */
typedef struct oa_sock {
    oa_state *st;
    curl_socket_t fd;
    ez_watch *w;
    struct oa_sock *prev, *next;
} oa_sock;

static void sock_unlink(oa_state *st, oa_sock *s) {
    if (s->prev)
        s->prev->next = s->next;
    else
        st->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

static void sock_free(oa_state *st, oa_sock *s) {
    if (s->w)
        st->api->fd_watch_cancel(s->w);
    sock_unlink(st, s);
    free(s);
}

static void check_done(oa_state *st) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(st->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        oa_call *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        CURLcode rc = m->data.result;
        if (c)
            oa_call_transfer_done(c, rc); /* removes the handle; m is invalid afterwards */
    }
}

static void drive(oa_state *st, curl_socket_t fd, int flags) {
    int running = 0;
    st->in_curl = 1;
    curl_multi_socket_action(st->multi, fd, flags, &running);
    st->in_curl = 0;
    oa_calls_after_curl(st);
    check_done(st);
}

static void on_fd(int fd, unsigned events, void *ud) {
    oa_state *st = ud;
    int flags = ((events & EZ_FD_READ) ? CURL_CSELECT_IN : 0) |
                ((events & EZ_FD_WRITE) ? CURL_CSELECT_OUT : 0);
    drive(st, (curl_socket_t)fd, flags);
}

static void on_curl_timer(void *ud) {
    oa_state *st = ud;
    st->curl_timer = NULL;
    drive(st, CURL_SOCKET_TIMEOUT, 0);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)easy;
    oa_state *st = userp;
    oa_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(st->multi, fd, NULL);
            sock_free(st, s);
        }
        return 0;
    }
    unsigned ev =
        ((what & CURL_POLL_IN) ? EZ_FD_READ : 0u) | ((what & CURL_POLL_OUT) ? EZ_FD_WRITE : 0u);
    if (s)
        return st->api->fd_watch_update(s->w, ev) == EZ_OK ? 0 : -1;
    s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->st = st;
    s->fd = fd;
    s->w = st->api->fd_watch(st->self, (int)fd, ev, on_fd, st);
    if (!s->w) {
        free(s);
        return -1;
    }
    s->next = st->socks;
    if (st->socks)
        st->socks->prev = s;
    st->socks = s;
    curl_multi_assign(st->multi, fd, s);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    oa_state *st = userp;
    if (st->curl_timer) {
        st->api->timer_cancel(st->curl_timer);
        st->curl_timer = NULL;
    }
    if (timeout_ms >= 0 && !st->destroying) {
        st->curl_timer = st->api->timer_start(st->self, timeout_ms, 0, on_curl_timer, st);
        if (!st->curl_timer)
            return -1;
    }
    return 0;
}

/* The fd must leave the loop before curl closes it: a recycled fd number must never meet a
 * stale watch. */
static int close_cb(void *clientp, curl_socket_t fd) {
    oa_state *st = clientp;
    for (oa_sock *s = st->socks; s; s = s->next) {
        if (s->fd == fd) {
            curl_multi_assign(st->multi, fd, NULL);
            sock_free(st, s);
            break;
        }
    }
    return close(fd);
}

static void on_poll(void *ud) {
    oa_state *st = ud;
    int running = 0;
    st->in_curl = 1;
    curl_multi_perform(st->multi, &running);
    st->in_curl = 0;
    oa_calls_after_curl(st);
    check_done(st);
    if (!st->calls && st->poll_timer) {
        st->api->timer_cancel(st->poll_timer);
        st->poll_timer = NULL;
    }
}

int oa_multi_init(oa_state *st) {
    st->multi = curl_multi_init();
    if (!st->multi)
        return EZ_ENOMEM;
    st->have_watch = EZ_HAS(st->api, fd_watch) && EZ_HAS(st->api, fd_watch_update) &&
                     EZ_HAS(st->api, fd_watch_cancel);
    if (st->have_watch) {
        curl_multi_setopt(st->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(st->multi, CURLMOPT_SOCKETDATA, st);
        curl_multi_setopt(st->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(st->multi, CURLMOPT_TIMERDATA, st);
    } else {
        EZ_LOG(st->api, st->self, EZ_WARN,
               "the kernel has no fd watches (host ABI < 1.1): polling curl every %d ms",
               OA_POLL_MS);
    }
    return EZ_OK;
}

int oa_multi_add(oa_state *st, CURL *easy) {
    if (st->have_watch) {
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, st);
    }
    if (curl_multi_add_handle(st->multi, easy) != CURLM_OK)
        return EZ_EIO;
    if (!st->have_watch && !st->poll_timer)
        st->poll_timer = st->api->timer_start(st->self, OA_POLL_MS, 1, on_poll, st);
    return EZ_OK;
}

void oa_multi_remove(oa_state *st, CURL *easy) {
    curl_multi_remove_handle(st->multi, easy);
}

void oa_multi_cleanup(oa_state *st) {
    if (!st->multi)
        return;
    /* Our timers are gone already at destroy (the kernel cancelled them). */
    st->curl_timer = NULL;
    st->poll_timer = NULL;
    curl_multi_cleanup(st->multi); /* closes cached connections through close_cb */
    st->multi = NULL;
    while (st->socks)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        sock_free(st, st->socks);
}
