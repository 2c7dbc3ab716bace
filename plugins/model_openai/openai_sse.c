/* A bounded server-sent-events reader (the subset chat completions use: data lines, blank-line
 * event ends, comments and other fields ignored, CRLF or LF line ends). */
#include "openai_int.h"

#include <stdlib.h>
#include <string.h>

void oa_buf_add(oa_buf *b, const char *s, size_t n, size_t limit) {
    if (b->len + n > limit) {
        b->truncated = 1;
        n = limit > b->len ? limit - b->len : 0;
    }
    if (n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 512;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->truncated = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void oa_buf_reset(oa_buf *b) {
    b->len = 0;
    b->truncated = 0;
    if (b->p)
        b->p[0] = 0;
}

void oa_buf_free(oa_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int grow(char **p, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    char *np = realloc(*p, nc);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static void dispatch(oa_sse *s, oa_sse_fn fn, void *ud) {
    if (s->dlen == 0)
        return;
    s->data[s->dlen] = 0;
    fn(s->data, s->dlen, ud);
    s->dlen = 0;
}

static int on_line(oa_sse *s, const char *line, size_t n, oa_sse_fn fn, void *ud) {
    if (n == 0) {
        dispatch(s, fn, ud);
        return 0;
    }
    if (n < 5 || memcmp(line, "data:", 5) != 0)
        return 0; /* event:, id:, retry:, ": comment" */
    line += 5;
    n -= 5;
    if (n && *line == ' ') {
        line++;
        n--;
    }
    size_t need = s->dlen + n + 2;
    if (need > OA_SSE_MAX || grow(&s->data, &s->dcap, need) != 0) {
        s->overflow = 1;
        return -1;
    }
    if (s->dlen)
        s->data[s->dlen++] = '\n';
    memcpy(s->data + s->dlen, line, n);
    s->dlen += n;
    s->data[s->dlen] = 0;
    return 0;
}

int oa_sse_feed(oa_sse *s, const char *buf, size_t n, oa_sse_fn fn, void *ud) {
    if (s->overflow)
        return -1;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t take = nl ? (size_t)(nl - (buf + i)) : n - i;
        if (s->len + take + 1 > OA_SSE_MAX || grow(&s->line, &s->cap, s->len + take + 1) != 0) {
            s->overflow = 1;
            return -1;
        }
        memcpy(s->line + s->len, buf + i, take);
        s->len += take;
        i += take;
        if (!nl)
            break;
        i++; /* the \n */
        size_t ln = s->len;
        if (ln && s->line[ln - 1] == '\r')
            ln--;
        s->line[ln] = 0;
        s->len = 0;
        if (on_line(s, s->line, ln, fn, ud) != 0)
            return -1;
    }
    return 0;
}

void oa_sse_finish(oa_sse *s, oa_sse_fn fn, void *ud) {
    if (s->overflow)
        return;
    if (s->len) {
        size_t ln = s->len;
        if (s->line[ln - 1] == '\r')
            ln--;
        s->line[ln] = 0;
        s->len = 0;
        on_line(s, s->line, ln, fn, ud);
    }
    dispatch(s, fn, ud);
}

void oa_sse_free(oa_sse *s) {
    free(s->line);
    free(s->data);
    memset(s, 0, sizeof *s);
}
