/* webtest handlers: each exercises one part of the request/response host API. */
#include "webtest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static int query_int(const ez_host_api *api, ez_req *req, const char *name, int fallback) {
    const char *v = api->query(req, name);
    return v && *v ? atoi(v) : fallback;
}

int webtest_echo(ez_req *req, void *ud) {
    webtest_state *st = ud;
    const ez_host_api *api = st->api;
    const json_t *body = api->body_json(req);
    json_t *o = json_object();
    json_object_set_new(o, "method", json_string(api->method(req)));
    json_object_set_new(o, "path", str_or_null(api->path(req)));
    json_object_set_new(o, "a", str_or_null(api->query(req, "a")));
    json_object_set_new(o, "tags", api->query_all(req, "tag"));
    json_object_set_new(o, "x_test", str_or_null(api->header(req, "x-test")));
    json_object_set_new(o, "word", str_or_null(api->param(req, "word")));
    json_object_set_new(o, "remote", str_or_null(api->remote_addr(req)));
    json_object_set_new(o, "loopback", json_boolean(api->is_loopback(req)));
    json_object_set_new(o, "authed", json_boolean(api->is_authenticated(req)));
    json_object_set_new(o, "body", body ? json_deep_copy(body) : json_null());
    api->respond_json_new(req, 200, o);
    return EZ_DONE;
}

typedef struct webtest_pending pending;
struct webtest_pending {
    webtest_state *st;
    ez_req *req;
    int left;
    int delay;
    int sent;
    pending *prev, *next;
};

static pending *pending_new(webtest_state *st, ez_req *req) {
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->st = st;
    p->req = req;
    p->next = st->pending;
    if (st->pending)
        st->pending->prev = p;
    st->pending = p;
    return p;
}

static void pending_free(pending *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        p->st->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
}

void webtest_pending_free_all(webtest_state *st) {
    while (st->pending)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        pending_free(st->pending);
}

static void async_fire(void *ud) {
    pending *p = ud;
    webtest_state *st = p->st;
    if (st->api->is_gone(p->req))
        st->async_gone++;
    else
        st->async_done++;
    /* on a gone request this only releases it */
    st->api->respond_json_new(p->req, 200, json_pack("{s:b}", "ok", 1));
    pending_free(p);
}

int webtest_async(ez_req *req, void *ud) {
    webtest_state *st = ud;
    pending *p = pending_new(st, req);
    if (!p)
        return EZ_DONE; /* the kernel answers 500 */
    if (!st->api->timer_start(st->self, query_int(st->api, req, "delay", 50), 0, async_fire, p)) {
        pending_free(p);
        return EZ_DONE;
    }
    return EZ_ASYNC;
}

static void stream_tick(void *ud) {
    pending *p = ud;
    webtest_state *st = p->st;
    const ez_host_api *api = st->api;
    char line[64];
    int n = snprintf(line, sizeof line, "data: {\"i\":%d}\n\n", p->sent);
    if (api->is_gone(p->req) || api->stream_write(p->req, line, (size_t)n) != EZ_OK) {
        st->stream_gone++;
        api->stream_end(p->req);
        pending_free(p);
        return;
    }
    p->sent++;
    if (--p->left <= 0) {
        st->stream_done++;
        api->stream_end(p->req);
        pending_free(p);
        return;
    }
    api->timer_start(st->self, p->delay, 0, stream_tick, p);
}

int webtest_stream(ez_req *req, void *ud) {
    webtest_state *st = ud;
    pending *p = pending_new(st, req);
    if (!p)
        return EZ_DONE;
    p->left = query_int(st->api, req, "n", 3);
    p->delay = query_int(st->api, req, "delay", 20);
    st->api->set_header(req, "Cache-Control", "no-cache");
    st->api->stream_start(req, 200, "text/event-stream");
    st->api->timer_start(st->self, p->delay, 0, stream_tick, p);
    return EZ_ASYNC;
}

int webtest_forgot(ez_req *req, void *ud) {
    (void)req;
    (void)ud;
    return EZ_DONE; /* and no answer: the kernel must send a 500 */
}

int webtest_item(ez_req *req, void *ud) {
    webtest_state *st = ud;
    st->api->respond_json_new(req, 200,
                              json_pack("{s:s}", "itemId", st->api->param(req, "itemId")));
    return EZ_DONE;
}

int webtest_raw(ez_req *req, void *ud) {
    webtest_state *st = ud;
    size_t len = 0;
    st->api->body(req, &len);
    json_t *o =
        json_pack("{s:I,s:b}", "len", (json_int_t)len, "parsed", st->api->body_json(req) != NULL);
    st->api->respond_json_new(req, 200, o);
    return EZ_DONE;
}

int webtest_files(ez_req *req, void *ud) {
    webtest_state *st = ud;
    st->api->respond_json_new(req, 200, json_pack("{s:s}", "rest", st->api->param(req, "*")));
    return EZ_DONE;
}

int webtest_stats(ez_req *req, void *ud) {
    webtest_state *st = ud;
    st->api->respond_json_new(req, 200,
                              json_pack("{s:i,s:i,s:i,s:i,s:i}", "async_done", st->async_done,
                                        "async_gone", st->async_gone, "stream_gone",
                                        st->stream_gone, "stream_done", st->stream_done,
                                        "watch_fired", st->watch_fired));
    return EZ_DONE;
}

static void forgotten_watch_ready(int fd, unsigned events, void *ud) {
    webtest_state *st = ud;
    char b[16];
    if ((events & EZ_FD_READ) && read(fd, b, sizeof b) > 0)
        st->watch_fired++;
}

/* Watches a pipe and never cancels the watch (nor closes the pipe): the kernel must release
 * the watch when the plugin is unloaded, and say so. */
int webtest_forget_watch(ez_req *req, void *ud) {
    webtest_state *st = ud;
    int fds[2];
    if (pipe(fds) != 0 || !EZ_HAS(st->api, fd_watch) ||
        !st->api->fd_watch(st->self, fds[0], EZ_FD_READ, forgotten_watch_ready, st)) {
        st->api->respond_json_new(req, 500, json_pack("{s:s}", "error", "no watch"));
        return EZ_DONE;
    }
    ssize_t n = write(fds[1], "x", 1); /* one callback, on the next loop turn */
    st->api->respond_json_new(req, 200, json_pack("{s:b}", "watching", n == 1));
    return EZ_DONE;
}

int webtest_headers(ez_req *req, void *ud) {
    webtest_state *st = ud;
    const ez_host_api *api = st->api;
    int bad = api->set_header(req, "Bad\r\nName", "x") == EZ_EINVAL &&
              api->set_header(req, "X-Split", "a\r\nInjected: 1") == EZ_EINVAL;
    api->set_header(req, "X-Custom", "yes");
    char text[32];
    int n = snprintf(text, sizeof text, "bad-rejected=%d", bad);
    api->respond_raw(req, 201, "text/plain; charset=utf-8", text, (size_t)n);
    return EZ_DONE;
}

/* /api/webtest/error/:style?code=&details= : respond_error in envelope style 0..4 */
int webtest_error(ez_req *req, void *ud) {
    webtest_state *st = ud;
    const ez_host_api *api = st->api;
    int style = atoi(api->param(req, "style"));
    api->respond_error(req, 418, (ez_err_style)style, api->query(req, "code"), "Teapot",
                       api->query(req, "details"));
    return EZ_DONE;
}
