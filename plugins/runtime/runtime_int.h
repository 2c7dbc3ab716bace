/* runtime private header. The runtime answers stored user messages for the started agents of a
 * channel: one conversation (agent, channel) at a time answers one message; later messages wait
 * in that conversation's bounded queue. Everything runs on the loop thread. */
#ifndef RUNTIME_INT_H
#define RUNTIME_INT_H

#include <elizad/elizad.h>

#define RT_ID 37
#define RT_NAME 64

typedef enum rt_respond { RT_RESPOND_MENTION, RT_RESPOND_ALWAYS, RT_RESPOND_NEVER } rt_respond;

/* One message waiting to be answered. */
typedef struct rt_job {
    struct rt_job *next;
    json_t *ev; /* the messaging.message.created payload (own reference) */
} rt_job;

typedef struct rt_gen rt_gen;
typedef struct rt_state rt_state;
typedef struct rt_conv rt_conv;

/* A generation's phase: its writes wait for the next batch flush (START, END) or the model is
 * working (GENERATING). */
typedef enum rt_phase { RT_PH_START, RT_PH_GENERATING, RT_PH_END } rt_phase;

/* One answer in progress. Owned by its conversation (conv->active) from start to finish. */
struct rt_gen {
    rt_state *st;
    rt_conv *conv;
    rt_gen *bnext; /* batch list link */
    rt_phase phase;
    json_t *ev;    /* the user message's bus payload (own reference) */
    json_t *agent; /* the agent record (own; loaded by the start writes) */
    char reply_id[RT_ID];
    char run_id[RT_ID];
    char entity_id[RT_ID];   /* the author, as the agent sees it */
    char user_mem_id[RT_ID]; /* memory id of the user message */
    char provider[RT_NAME];
    const ez_model_v1 *model;
    ez_model_call *call;
    ez_timer *timeout;
    json_t *prompt; /* chat messages sent to the model (own) */
    char *text;     /* streamed so far */
    size_t len, cap;
    int index;
    int64_t t0, t_model;
    int in_generate, timed_out, cancelled, post_failure;
    int launched; /* disable_input was emitted: enable_input must follow */
    char *cancel_reason;
    /* on_done that arrived inside generate(): replayed once generate() returned */
    int early;
    char *early_error;
    json_t *early_result;
    /* the outcome, written by the end writes */
    int ok;
    char *reason;     /* failure text (own) */
    char *final_text; /* the answer, or the error reply text once posted (own) */
    json_t *result;   /* the provider's result (own, may be NULL) */
    int posted;       /* a reply (answer or error) was stored and broadcast */
};

struct rt_conv {
    rt_state *st;
    char agent_id[RT_ID];
    char channel_id[RT_ID];
    char room_id[RT_ID]; /* createUniqueUuid(agent, channel) */
    uint64_t hash;
    struct rt_conv *hnext;
    rt_job *head, *tail;
    int depth;      /* queued jobs, not counting the active one */
    rt_gen *active; /* the generation in flight, or NULL */
    ez_timer *kick; /* pending "start the next job" */
    int room_ready; /* room and world ensured */
};

struct rt_state {
    ez_plugin *self;
    const ez_host_api *api;
    const ez_messaging_v1 *msg;
    const ez_agents_v1 *agents;
    char default_provider[RT_NAME];
    rt_respond respond;
    int queue_depth;
    int history_limit;
    int64_t reply_timeout_ms;
    rt_conv **buckets;
    unsigned nbuckets;
    int nconv;
    rt_gen *starts, **starts_tail; /* generations waiting for their start writes */
    rt_gen *ends, **ends_tail;     /* ... for their end writes */
    ez_timer *flush;               /* the pending batch flush */
    uint64_t nflush, nflushed;     /* flushes and generations written (stop logs the ratio) */
    int stopping;
    int destroying; /* the kernel already cancelled our timers: do not touch them */
};

/* ---- runtime_conv.c: conversations and their queues ---- */
/* The conversation of (agent, channel), created when absent (NULL on out of memory). */
rt_conv *rt_conv_get(rt_state *st, const char *agent_id, const char *channel_id);
/* Queues ev (borrowed; a reference is taken) or starts it at once when the conversation is
 * idle. A full queue answers with a visible error reply instead. */
void rt_conv_submit(rt_conv *c, const json_t *ev);
/* Called by the generation when it ended: frees it and schedules the next job. */
void rt_conv_finished(rt_conv *c);
/* Cancels the active generation (reason reported to the user when post is 1) and answers or
 * drops the queued jobs. */
void rt_conv_abort(rt_conv *c, const char *reason, int post);
/* Visits every conversation (fn may abort but not free them). */
void rt_conv_each(rt_state *st, void (*fn)(rt_conv *c, void *ud), void *ud);
void rt_conv_free_all(rt_state *st);

/* ---- runtime_dispatch.c: bus subscriptions ---- */
int rt_dispatch_register(rt_state *st);

/* ---- runtime_reply.c: one generation ---- */
/* Starts answering ev (borrowed) in conversation c: c->active is set until the answer ended (a
 * job may also end at the first flush: duplicate, agent gone). */
void rt_gen_start(rt_conv *c, const json_t *ev);
/* Called by the flush once the start writes are committed: asks the model. */
void rt_gen_launch(rt_gen *g);
/* The model finished (error NULL) or failed: records the outcome, queues the end writes. */
void rt_gen_done(rt_gen *g, const char *error, const json_t *result);
/* Called by the flush after the end writes: emits the closing events, frees g, lets the
 * conversation go on. */
void rt_gen_finish(rt_gen *g);
/* Cancels a generation; its end is reported through the usual path. post 0 = no reply. */
void rt_gen_cancel(rt_gen *g, const char *reason, int post);
/* Frees a generation without any callback or event (plugin teardown only). */
void rt_gen_discard(rt_gen *g);
void rt_emit_control(rt_gen *g, const char *action);

/* ---- runtime_writes.c: storage, batched ---- */
/* Queue a generation for the next flush; the flush runs from a 0 ms timer so every reply of one
 * loop turn shares one transaction (one commit instead of a handful per reply). */
void rt_batch_start(rt_state *st, rt_gen *g);
void rt_batch_end(rt_state *st, rt_gen *g);
/* Runs the pending writes now (also used by stop). */
void rt_flush(rt_state *st);
/* Posts a visible error reply for ev without a generation (queue full, agent stopped). */
void rt_post_error(rt_state *st, const char *agent_id, const json_t *ev, const char *reason);

/* ---- runtime_prompt.c: the prompt and the provider ---- */
/* The chat messages for the model (new array): system prompt from the character, then the
 * room history oldest first (history borrowed, newest first as agents.v1 returns it), then
 * the message being answered (text borrowed). *system_out is borrowed from the result. */
json_t *rt_prompt_build(rt_state *st, const json_t *agent, const json_t *history,
                        const char *skip_memory_id, const char *text, const char *sender_name,
                        int group, const char **system_out);
/* The first line of the character's bio, bounded (new, or NULL). */
char *rt_bio_line(const json_t *agent);
/* The provider of an agent: settings.model_provider, else a loaded provider named in plugins,
 * else default_provider. NULL with a reason in why when it is not loaded. name_out receives
 * the provider name either way. */
const ez_model_v1 *rt_provider_for(rt_state *st, const json_t *agent, char name_out[RT_NAME],
                                   char *why, size_t whylen);

/* ---- helpers (runtime_util.c) ---- */
/* createUniqueUuid(agentId, base) as elizaOS derives it (COMPAT §1.6). */
void rt_unique_uuid(rt_state *st, const char *agent_id, const char *base, char out[RT_ID]);
const char *rt_str(const json_t *o, const char *key);
/* The longest prefix of text[0..len) that ends on a UTF-8 character boundary: a byte cut of
 * valid UTF-8 may end inside a character, and jansson refuses such text. */
size_t rt_utf8_prefix(const char *text, size_t len);
/* Ends s (a bounded copy of valid UTF-8, from snprintf) on a character boundary, in place. */
void rt_utf8_trim(char *s);
/* Replaces, in place, every byte that does not belong to a valid UTF-8 character with '?' (the
 * host's utf8_sanitize): a provider's error text may have been cut anywhere, or come from the
 * network unchecked. */
void rt_utf8_sanitize(const rt_state *st, char *s);
/* The agent as agents.v1 has it (new reference, read only: the snapshot the agents plugin
 * shares until the agent changes), or NULL when unknown. */
json_t *rt_agent(rt_state *st, const char *agent_id);
/* The channel type of a messaging.message.created payload ("GROUP" when unknown). */
const char *rt_channel_type(const json_t *ev);
int rt_is_dm(const json_t *ev);
const char *rt_server_id(const json_t *ev);
const char *rt_sender_name(const json_t *ev);
/* One storage transaction around a reply's writes (agents.v1 and messaging.v1 join it): a few
 * commits per reply instead of one per row. Returns 1 when this call opened it, 0 when it joined
 * an open one (or could not open one); pass the result to rt_tx_end. */
int rt_tx_begin(rt_state *st);
void rt_tx_end(rt_state *st, int owned);
/* Emits a socket event to the channel room; obj_new stolen. */
void rt_emit(rt_state *st, const char *channel_id, const char *event, json_t *obj_new);

#endif
