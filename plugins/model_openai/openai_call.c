/* The life of one chat-completions call: the list of calls, attempts and retries with backoff,
 * cancellation, and the single exit (call_end) that reports to the caller and frees. The request
 * is built in openai_request.c, the answer read in openai_response.c. */
#include "openai_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OA_RETRY_AFTER_MAX_MS 60000

/* ---- list ---- */

void oa_call_link(oa_state *st, oa_call *c) {
    c->next = st->calls;
    if (st->calls)
        st->calls->prev = c;
    st->calls = c;
}

void oa_call_unlink(oa_state *st, oa_call *c) {
    if (c->prev)
        c->prev->next = c->next;
    else if (st->calls == c)
        st->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void oa_call_free(oa_call *c) {
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->body);
    free(c->model);
    free(c->early_error);
    free(c->stream_error);
    oa_sse_free(&c->sse);
    oa_buf_free(&c->raw);
    oa_buf_free(&c->text);
    json_decref(c->usage);
    free(c);
}

/* Detaches the call from curl and the loop, reports, frees. */
void oa_call_end(oa_call *c, const char *error, const char *code, long status) {
    oa_state *st = c->st;
    if (c->in_multi) {
        oa_multi_remove(st, c->easy);
        c->in_multi = 0;
    }
    if (c->start_timer) {
        st->api->timer_cancel(c->start_timer);
        c->start_timer = NULL;
    }
    oa_call_unlink(st, c);
    json_t *res;
    if (error) {
        res = json_pack("{s:s}", "code", code ? code : "error");
        if (status > 0)
            json_object_set_new(res, "status", json_integer(status));
        if (c->text.len)
            json_object_set_new(res, "partialText", json_stringn(c->text.p, c->text.len));
    } else {
        res = json_pack("{s:s%, s:s}", "text", c->text.p ? c->text.p : "", c->text.len, "model",
                        c->model);
        if (c->usage)
            json_object_set(res, "usage", c->usage);
    }
    c->on_done(error, res, c->ud);
    json_decref(res);
    oa_call_free(c);
}

/* ---- attempts ---- */

void oa_call_reset(oa_call *c) {
    c->status = 0;
    c->is_sse = 0;
    c->retry_after_ms = -1;
    oa_sse_free(&c->sse);
    oa_buf_reset(&c->raw);
    oa_buf_reset(&c->text);
    c->finish_reason[0] = 0;
    c->saw_done = 0;
    free(c->stream_error);
    c->stream_error = NULL;
    c->errbuf[0] = 0;
}

static void start_attempt(oa_call *c) {
    oa_call_reset(c);
    c->attempt++;
    if (oa_multi_add(c->st, c->easy) != EZ_OK) {
        oa_call_end(c, "cannot start the HTTP request", "internal", 0);
        return;
    }
    c->in_multi = 1;
}

void oa_call_on_start(void *ud) {
    oa_call *c = ud;
    c->start_timer = NULL;
    if (c->early_error) {
        char *e = c->early_error;
        c->early_error = NULL;
        oa_call_end(c, e, "config", 0);
        free(e);
        return;
    }
    start_attempt(c);
}

/* Retries later when allowed; returns 1 when a retry is scheduled. */
int oa_call_retry(oa_call *c) {
    oa_state *st = c->st;
    if (c->chunks > 0 || c->attempt > st->max_retries || c->cancelled)
        return 0;
    int64_t delay = st->retry_base_ms;
    for (int i = 1; i < c->attempt && delay < st->retry_max_ms; i++)
        delay *= 2;
    if (delay > st->retry_max_ms)
        delay = st->retry_max_ms;
    if (c->retry_after_ms >= 0)
        delay =
            c->retry_after_ms > OA_RETRY_AFTER_MAX_MS ? OA_RETRY_AFTER_MAX_MS : c->retry_after_ms;
    if (c->in_multi) {
        oa_multi_remove(st, c->easy);
        c->in_multi = 0;
    }
    c->start_timer = st->api->timer_start(st->self, delay, 0, oa_call_on_start, c);
    if (!c->start_timer)
        return 0;
    EZ_LOG(st->api, st->self, EZ_INFO, "%s: retry %d in %lld ms (HTTP %ld)", c->url, c->attempt,
           (long long)delay, c->status);
    return 1;
}

/* ---- cancellation and teardown ---- */

void oa_cancel(void *provider, ez_model_call *c) {
    oa_state *st = provider;
    if (!c || c->cancelled || c->cancel_pending)
        return;
    if (st->in_curl) { /* curl is running: finish once it returned (oa_calls_after_curl) */
        c->cancel_pending = 1;
        return;
    }
    c->cancelled = 1;
    oa_call_end(c, "cancelled", "cancelled", 0);
}

void oa_calls_after_curl(oa_state *st) {
    for (oa_call *c = st->calls, *next; c; c = next) {
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        next = c->next;
        if (c->cancel_pending) {
            c->cancelled = 1;
            oa_call_end(c, "cancelled", "cancelled", 0);
            next = st->calls; /* the callback may have ended other calls: start over */
        }
    }
}

void oa_calls_stop(oa_state *st) {
    while (st->calls) {
        oa_call *c = st->calls;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        c->cancelled = 1;
        oa_call_end(c, "provider stopped", "cancelled", 0);
    }
}

void oa_calls_free(oa_state *st) {
    while (st->calls) {
        oa_call *c = st->calls;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        if (c->in_multi && st->multi)
            curl_multi_remove_handle(st->multi, c->easy);
        oa_call_unlink(st, c);
        oa_call_free(c);
    }
}
