/* model_openai private header. One libcurl multi handle per plugin, driven by the kernel loop
 * through fd watches (host API 1.1) and a timer; each generation is one easy handle. */
#ifndef OPENAI_INT_H
#define OPENAI_INT_H

#include <curl/curl.h>
#include <elizad/elizad.h>

typedef struct oa_state oa_state;
typedef struct ez_model_call oa_call;

/* ---- openai_sse.c: server-sent events ---- */
typedef void (*oa_sse_fn)(const char *data, size_t len, void *ud);
typedef struct oa_sse {
    char *line; /* the unfinished line */
    size_t len, cap;
    char *data; /* data: lines of the current event, joined by \n */
    size_t dlen, dcap;
    int overflow; /* a line or event exceeded OA_SSE_MAX */
} oa_sse;
#define OA_SSE_MAX (1024u * 1024u)
/* Feeds bytes; fn(data) runs for each complete event. Returns -1 once an event is too large. */
int oa_sse_feed(oa_sse *s, const char *buf, size_t n, oa_sse_fn fn, void *ud);
/* End of stream: dispatches an event left without its blank line. */
void oa_sse_finish(oa_sse *s, oa_sse_fn fn, void *ud);
void oa_sse_free(oa_sse *s);

/* ---- a growable byte buffer with a hard limit ---- */
typedef struct oa_buf {
    char *p;
    size_t len, cap;
    int truncated;
} oa_buf;
void oa_buf_add(oa_buf *b, const char *s, size_t n, size_t limit);
void oa_buf_reset(oa_buf *b);
void oa_buf_free(oa_buf *b);

/* ---- one generation (openai_call.c, openai_request.c, openai_response.c) ---- */
struct ez_model_call {
    oa_state *st;
    struct ez_model_call *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *url, *body, *model;
    int stream;
    ez_model_chunk_fn on_chunk;
    ez_model_done_fn on_done;
    void *ud;
    int attempt;
    int in_multi;          /* added to the multi handle */
    ez_timer *start_timer; /* a retry backoff, or a start deferred out of a curl callback */
    char *early_error;     /* refused before any request: delivered from start_timer */
    /* the current response */
    long status;
    int is_sse;
    int64_t retry_after_ms;
    oa_sse sse;
    oa_buf raw;  /* non-streamed body, or the error body */
    oa_buf text; /* the answer so far */
    json_t *usage;
    char finish_reason[32];
    int saw_done;
    char *stream_error;
    int chunks; /* chunks handed to on_chunk: no retry after the first */
    int cancel_pending, cancelled;
    char errbuf[CURL_ERROR_SIZE];
};

/* openai_call.c: the list of calls and their single exit. */
void oa_call_link(oa_state *st, oa_call *c);
void oa_call_unlink(oa_state *st, oa_call *c);
void oa_call_free(oa_call *c);
/* Detaches the call from curl and the loop, reports to on_done (error NULL = success with the
 * text so far), frees it. */
void oa_call_end(oa_call *c, const char *error, const char *code, long status);
/* Clears what a previous attempt received. */
void oa_call_reset(oa_call *c);
/* start_timer callback: the deferred first attempt, a retry, or an early error. */
void oa_call_on_start(void *ud);
/* Schedules another attempt when allowed (before the first chunk, retries left); 1 if so. */
int oa_call_retry(oa_call *c);

/* openai_response.c: libcurl header and body callbacks. */
size_t oa_on_header(char *buf, size_t size, size_t n, void *ud);
size_t oa_on_body(char *buf, size_t size, size_t n, void *ud);

/* model.v1 entry points. */
ez_model_call *oa_generate(void *provider, const json_t *request, ez_model_chunk_fn on_chunk,
                           ez_model_done_fn on_done, void *ud);
void oa_cancel(void *provider, ez_model_call *call);
/* A transfer ended (called by openai_multi.c after curl_multi_info_read). */
void oa_call_transfer_done(oa_call *c, CURLcode rc);
/* Fails every call with "provider stopped". */
void oa_calls_stop(oa_state *st);
/* Releases every call without callbacks (teardown). */
void oa_calls_free(oa_state *st);

/* ---- openai_multi.c: libcurl multi on the kernel loop ---- */
struct oa_state {
    ez_plugin *self;
    const ez_host_api *api;
    CURLM *multi;
    ez_timer *curl_timer; /* the timeout curl asked for */
    ez_timer *poll_timer; /* ABI 1.0 kernels (no fd watches): periodic curl_multi_perform */
    int have_watch;
    int in_curl; /* inside curl_multi_socket_action / perform: no re-entry */
    int destroying;
    struct oa_sock *socks;
    oa_call *calls;
    ez_model_v1 table;
    /* configuration */
    char *base_url, *api_key, *model;
    long connect_timeout_ms, timeout_ms, retry_base_ms, retry_max_ms;
    int max_retries, stream_usage;
};

int oa_multi_init(oa_state *st);
void oa_multi_cleanup(oa_state *st);
/* Adds / removes an easy handle. Loop thread, never inside a curl callback (in_curl). */
int oa_multi_add(oa_state *st, CURL *easy);
void oa_multi_remove(oa_state *st, CURL *easy);
/* Finishes cancellations requested while curl was running. */
void oa_calls_after_curl(oa_state *st);

#endif
