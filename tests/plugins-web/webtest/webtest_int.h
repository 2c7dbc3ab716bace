/* webtest: private state and handlers. */
#ifndef WEBTEST_INT_H
#define WEBTEST_INT_H

#include <elizad/plugin.h>

typedef struct webtest_pending webtest_pending;

typedef struct webtest_state {
    ez_plugin *self;
    webtest_pending *pending; /* async work in progress; freed by destroy if never finished */
    const ez_host_api *api;
    int async_done;  /* async answers sent to a client still there */
    int async_gone;  /* async answers whose client had left */
    int stream_gone; /* streams that noticed the client leaving */
    int stream_done; /* streams that ended normally */
    int watch_fired; /* the forgotten fd watch's callbacks */
} webtest_state;

int webtest_echo(ez_req *req, void *ud);
int webtest_async(ez_req *req, void *ud);
int webtest_stream(ez_req *req, void *ud);
int webtest_forgot(ez_req *req, void *ud);
int webtest_item(ez_req *req, void *ud);
int webtest_raw(ez_req *req, void *ud);
int webtest_files(ez_req *req, void *ud);
int webtest_stats(ez_req *req, void *ud);
int webtest_headers(ez_req *req, void *ud);
int webtest_error(ez_req *req, void *ud);
int webtest_forget_watch(ez_req *req, void *ud);
void webtest_pending_free_all(webtest_state *st);

#endif
