/* model.v1 glue for the ELIZA engine: one conversation state per (agent, room), kept in a
 * bounded LRU table; answers are computed in generate() (microseconds) but delivered from a
 * 0 ms timer so no callback ever runs inside the caller's generate(). */
#include "eliza_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELP_BUCKETS 4096u
#define ELP_KEY_MAX 80

typedef struct elp_conv {
    char key[ELP_KEY_MAX]; /* "<agentId>/<roomId>" */
    uint64_t hash;
    el_conv *conv;
    struct elp_conv *hnext;               /* bucket chain */
    struct elp_conv *lru_prev, *lru_next; /* most recent at head */
} elp_conv;

struct ez_model_call {
    elp_state *st;
    ez_timer *timer;
    char *reply;
    char model[80];
    int prompt_tokens;
    int stream;
    int delivering, cancelled;
    ez_model_chunk_fn on_chunk;
    ez_model_done_fn on_done;
    void *ud;
    struct ez_model_call *prev, *next;
};

struct elp_state {
    ez_plugin *self;
    const ez_host_api *api;
    el_script *script;
    ez_model_v1 table;
    elp_conv *buckets[ELP_BUCKETS];
    elp_conv *lru_head, *lru_tail;
    int nconv, max_conv;
    ez_model_call *calls; /* pending deliveries */
    int chunk_words;
};

/* ---- conversation table ---- */

static void lru_unlink(elp_state *st, elp_conv *c) {
    if (c->lru_prev)
        c->lru_prev->lru_next = c->lru_next;
    else
        st->lru_head = c->lru_next;
    if (c->lru_next)
        c->lru_next->lru_prev = c->lru_prev;
    else
        st->lru_tail = c->lru_prev;
    c->lru_prev = c->lru_next = NULL;
}

static void lru_push(elp_state *st, elp_conv *c) {
    c->lru_next = st->lru_head;
    if (st->lru_head)
        st->lru_head->lru_prev = c;
    st->lru_head = c;
    if (!st->lru_tail)
        st->lru_tail = c;
}

static void conv_drop(elp_state *st, elp_conv *c) {
    elp_conv **pp = &st->buckets[c->hash % ELP_BUCKETS];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    lru_unlink(st, c);
    el_conv_free(c->conv);
    free(c);
    st->nconv--;
}

static el_conv *conv_get(elp_state *st, const char *agent, const char *room) {
    char key[ELP_KEY_MAX];
    snprintf(key, sizeof key, "%.37s/%.37s", agent, room);
    uint64_t h = el_hash(EL_FNV_OFFSET, key);
    for (elp_conv *c = st->buckets[h % ELP_BUCKETS]; c; c = c->hnext) {
        if (c->hash == h && strcmp(c->key, key) == 0) {
            lru_unlink(st, c);
            lru_push(st, c);
            return c->conv;
        }
    }
    elp_conv *c = calloc(1, sizeof(elp_conv));
    if (!c)
        return NULL;
    memcpy(c->key, key, sizeof key);
    c->hash = h;
    /* The seed depends on agent and room only, so a conversation replays the same way. */
    c->conv = el_conv_new(st->script, el_hash(el_hash(EL_FNV_OFFSET, agent), room));
    if (!c->conv) {
        free(c);
        return NULL;
    }
    c->hnext = st->buckets[h % ELP_BUCKETS];
    st->buckets[h % ELP_BUCKETS] = c;
    lru_push(st, c);
    if (++st->nconv > st->max_conv)
        conv_drop(st, st->lru_tail);
    return c->conv;
}

/* ---- calls ---- */

static void call_unlink(elp_state *st, ez_model_call *c) {
    if (c->prev)
        c->prev->next = c->next;
    else if (st->calls == c)
        st->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void call_free(ez_model_call *c) {
    free(c->reply);
    free(c);
}

static void call_fail(ez_model_call *c, const char *error) {
    json_t *res = json_pack("{s:s}", "code", "cancelled");
    c->on_done(error, res, c->ud);
    json_decref(res);
    call_free(c);
}

/* Streams the reply in chunks of st->chunk_words words (the space before a word starts its
 * chunk); the chunks concatenate to exactly the final text. The whole answer is ready at once,
 * so a chunk per word only multiplies packets, for the server and every client in the channel
 * alike: a few words per chunk still shows the reply as a stream. */
static void call_deliver(void *ud) {
    ez_model_call *c = ud;
    elp_state *st = c->st;
    c->timer = NULL;
    call_unlink(st, c);
    c->delivering = 1;
    const char *p = c->reply;
    char chunk[256];
    while (c->stream && *p && !c->cancelled) {
        const char *end = p;
        for (int w = 0; w < st->chunk_words && *end; w++) {
            const char *sp = strchr(end + 1, ' ');
            end = sp ? sp : end + strlen(end);
        }
        size_t n = (size_t)(end - p);
        if (n >= sizeof chunk)
            n = sizeof chunk - 1;
        memcpy(chunk, p, n);
        chunk[n] = 0;
        c->on_chunk(chunk, c->ud);
        p += n;
    }
    if (c->cancelled) {
        call_fail(c, "cancelled");
        return;
    }
    int words = el_count_words(c->reply);
    json_t *res = json_pack("{s:s, s:s, s:{s:i, s:i, s:i}}", "text", c->reply, "model", c->model,
                            "usage", "promptTokens", c->prompt_tokens, "completionTokens", words,
                            "totalTokens", c->prompt_tokens + words);
    c->on_done(NULL, res, c->ud);
    json_decref(res);
    call_free(c);
}

static const char *str_or(const json_t *o, const char *key, const char *dflt) {
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : dflt;
}

static ez_model_call *elp_generate(void *provider, const json_t *req, ez_model_chunk_fn on_chunk,
                                   ez_model_done_fn on_done, void *ud) {
    elp_state *st = provider;
    if (!json_is_object(req) || !on_done)
        return NULL;
    const json_t *msgs = json_object_get(req, "messages");
    const char *input = "";
    int prompt_tokens = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *text = str_or(m, "content", "");
        prompt_tokens += el_count_words(text);
        if (strcmp(str_or(m, "role", ""), "user") == 0)
            input = text;
    }
    el_conv *conv = conv_get(st, str_or(req, "agentId", ""), str_or(req, "roomId", ""));
    if (!conv)
        return NULL;
    el_persona who = {str_or(req, "agentName", NULL), str_or(req, "bio", NULL)};
    ez_model_call *c = calloc(1, sizeof(ez_model_call));
    if (!c)
        return NULL;
    c->reply = el_respond(st->script, conv, input, &who);
    if (!c->reply) {
        free(c);
        return NULL;
    }
    c->st = st;
    c->on_chunk = on_chunk;
    c->on_done = on_done;
    c->ud = ud;
    c->prompt_tokens = prompt_tokens;
    c->stream = on_chunk && !json_is_false(json_object_get(req, "stream"));
    snprintf(c->model, sizeof c->model, "eliza:%s", st->script->name);
    c->timer = st->api->timer_start(st->self, 0, 0, call_deliver, c);
    if (!c->timer) {
        call_free(c);
        return NULL;
    }
    c->next = st->calls;
    if (st->calls)
        st->calls->prev = c;
    st->calls = c;
    return c;
}

static void elp_cancel(void *provider, ez_model_call *c) {
    elp_state *st = provider;
    if (!c || c->cancelled)
        return;
    if (c->delivering) { /* inside our own chunk callback: finish after it returns */
        c->cancelled = 1;
        return;
    }
    if (c->timer)
        st->api->timer_cancel(c->timer);
    c->timer = NULL;
    call_unlink(st, c);
    call_fail(c, "cancelled");
}

void elp_stop(elp_state *st) {
    while (st->calls) {
        ez_model_call *c = st->calls;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        if (c->timer)
            st->api->timer_cancel(c->timer);
        c->timer = NULL;
        call_unlink(st, c);
        call_fail(c, "provider stopped");
    }
}

/* ---- setup ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 16384;
            if (cap > 8u * 1024u * 1024u) {
                snprintf(err, errlen, "file larger than 8 MB");
                free(buf);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "read error");
        return NULL;
    }
    *len = n;
    return buf;
}

static long long cfg_int(const json_t *cfg, const char *key, long long dflt) {
    const json_t *v = json_object_get(cfg, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return dflt;
}

elp_state *elp_new(ez_plugin *self, const ez_host_api *api, const json_t *cfg) {
    elp_state *st = calloc(1, sizeof(elp_state));
    if (!st)
        return NULL;
    st->self = self;
    st->api = api;
    st->max_conv = (int)cfg_int(cfg, "max_conversations", 10000);
    st->chunk_words = (int)cfg_int(cfg, "chunk_words", 4);
    if (st->chunk_words < 1)
        st->chunk_words = 1;
    if (st->max_conv < 1)
        st->max_conv = 1;
    const char *file = json_string_value(json_object_get(cfg, "script_file"));
    char err[256];
    if (file && *file) {
        size_t len = 0;
        char *text = read_file(file, &len, err, sizeof err);
        if (text) {
            st->script = el_script_load(text, len, err, sizeof err);
            free(text);
        }
        if (!st->script) {
            EZ_LOG(api, self, EZ_ERR, "script_file %s: %s", file, err);
            free(st);
            return NULL;
        }
    } else {
        st->script = el_script_load((const char *)eliza_default_script, eliza_default_script_len,
                                    err, sizeof err);
        if (!st->script) {
            EZ_LOG(api, self, EZ_ERR, "compiled-in script: %s", err);
            free(st);
            return NULL;
        }
    }
    st->table.size = sizeof(ez_model_v1);
    st->table.name = "eliza";
    st->table.provider = st;
    st->table.generate = elp_generate;
    st->table.cancel = elp_cancel;
    st->table.flags = EZ_MODEL_LAST_MESSAGE_ONLY; /* conversation state lives in elp_conv */
    EZ_LOG(api, self, EZ_INFO, "script \"%s\": %d keywords", st->script->name, st->script->nkws);
    return st;
}

const ez_model_v1 *elp_table(elp_state *st) {
    return &st->table;
}

void elp_free(elp_state *st) {
    if (!st)
        return;
    /* Pending calls whose timers the kernel already cancelled are released without callbacks:
     * their owner (the runtime) is being torn down too. */
    while (st->calls) {
        ez_model_call *c = st->calls;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        call_unlink(st, c);
        call_free(c);
    }
    while (st->lru_head)
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): list head unlinked before free */
        conv_drop(st, st->lru_head);
    el_script_free(st->script);
    free(st);
}
