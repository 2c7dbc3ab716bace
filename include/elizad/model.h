/* "model.v1": the table a model-provider plugin exports, under the name "model.v1:<provider>"
 * (e.g. "model.v1:eliza", "model.v1:openai"). The runtime picks the provider per agent. */
#ifndef EZ_MODEL_H
#define EZ_MODEL_H

#include <elizad/types.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EZ_MODEL_V1_PREFIX "model.v1:"

typedef struct ez_model_call ez_model_call; /* one generation in flight, owned by the provider */

/* Each streamed piece of text (loop thread; text borrowed). */
typedef void (*ez_model_chunk_fn)(const char *text, void *ud);
/* Exactly once per successful generate() call, on the loop thread, after the last chunk.
 * On success error is NULL and result is {"text": full text, "model": name,
 * "usage": {"promptTokens","completionTokens","totalTokens"}?} (borrowed).
 * On failure error is a message (borrowed) and result may hold {"code": "...", "status": n}.
 * After done the call handle is invalid. */
typedef void (*ez_model_done_fn)(const char *error, const json_t *result, void *ud);

typedef struct ez_model_v1 {
    uint32_t size;
    const char *name; /* provider name, e.g. "eliza" */
    void *provider;   /* provider state, first argument of every function */

    /* request (borrowed): {
     *   "agentId": uuid, "roomId": uuid,
     *   "messages": [{"role":"system"|"user"|"assistant","content":"...","name"?}],
     *   "settings": {..agent settings, secrets decrypted..},  "stream": true|false,
     *   "maxTokens"?: n, "temperature"?: x }
     * Returns a handle (for cancel) or NULL when the request was refused at once (then no
     * callback runs). Loop thread. Never blocks. */
    ez_model_call *(*generate)(void *provider, const json_t *request, ez_model_chunk_fn on_chunk,
                               ez_model_done_fn on_done, void *ud);
    /* Aborts a call: on_done runs with error "cancelled" (loop thread). */
    void (*cancel)(void *provider, ez_model_call *call);

    /* ---- appended in ABI 1.1: read only when size covers it ---- */
    uint32_t flags; /* EZ_MODEL_* below */
} ez_model_v1;

/* The provider answers from the last user message alone (it keeps its own conversation state):
 * callers may leave the room history out of "messages". */
#define EZ_MODEL_LAST_MESSAGE_ONLY 1u

/* True when a model table has `member` (appended after its first version). */
#define EZ_MODEL_HAS(m, member) (offsetof(ez_model_v1, member) + sizeof((m)->member) <= (m)->size)

#ifdef __cplusplus
}
#endif

#endif
