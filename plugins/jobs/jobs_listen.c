/* Job completion. The official 1.7.2 server waits for the agent's reply on a bus its agents
 * never publish to, so its jobs always time out (COMPAT §9 [BUG]). Here every stored message
 * is published as messaging.message.created, the agent's reply included: a job completes when
 * its agent's reply in the job channel is stored, with the official rule for action messages. */
#include "jobs_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACTION_PREFIX "Executing action:"

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

/* result (new) = {message: {id, content, authorId, createdAt: ms, metadata?}, processingTimeMs}
 * from the bus form of the reply (snake_case, created_at in ms). */
static json_t *result_of(const json_t *bus, int64_t processing_ms) {
    json_t *m = json_object();
    json_object_set(m, "id", json_object_get(bus, "id"));
    json_object_set(m, "content", json_object_get(bus, "content"));
    json_object_set(m, "authorId", json_object_get(bus, "author_id"));
    json_object_set(m, "createdAt", json_object_get(bus, "created_at"));
    const json_t *meta = json_object_get(bus, "metadata");
    if (json_is_object(meta))
        json_object_set_new(m, "metadata", json_deep_copy(meta));
    return json_pack("{s:o,s:I}", "message", m, "processingTimeMs", (json_int_t)processing_ms);
}

static void complete(jb_state *st, jb_job *j, const json_t *bus, const char *text, int64_t now) {
    int64_t took = now - j->created;
    /* the reply text and, roughly, the objects around it */
    jb_grow(st, j, strlen(text) + 512);
    const json_t *meta = json_object_get(bus, "metadata");
    if (json_is_true(json_object_get(meta, "error"))) {
        /* the runtime's "Sorry — I could not answer: ..." is not an answer to hand back as one */
        jb_fail(st, j, strdup(text));
        EZ_LOG(st->api, st->self, EZ_INFO, "job %s failed: the agent reported an error", j->id);
        return;
    }
    json_t *result = result_of(bus, took);
    if (!result) {
        jb_fail(st, j, strdup("Failed to record the agent response"));
        return;
    }
    j->result = result;
    j->status = JB_COMPLETED;
    st->metrics.completed++;
    st->metrics.total_processing_ms += took;
    EZ_LOG(st->api, st->self, EZ_DEBUG, "job %s completed in %lld ms (%s)", j->id, (long long)took,
           j->action_seen ? "action result" : "direct reply");
}

void jb_on_message(const char *topic, const json_t *ev, void *ud) {
    (void)topic;
    jb_state *st = ud;
    const json_t *bus = json_object_get(ev, "bus");
    const char *id = str(bus, "id"), *channel = str(bus, "channel_id");
    const char *author = str(bus, "author_id"), *text = str(bus, "content");
    /* the official listener ignores messages missing any of these (an empty text included) */
    if (!id || !channel || !author || !text || !*text ||
        !json_is_integer(json_object_get(bus, "created_at")))
        return;
    jb_job *j = jb_find_channel(st, channel);
    if (!j || strcasecmp(author, j->agent_id) != 0 || strcmp(id, j->user_msg_id) == 0)
        return;
    int64_t now = st->api->now_ms();
    /* a reply after the deadline does not revive the job the client was told timed out */
    if (j->status != JB_PROCESSING || jb_check_expiry(st, j, now))
        return;
    /* "Executing action: ..." announces work in progress: the job completes on the next
     * message, the action's result (the official rule reduces to this) */
    if (strncmp(text, ACTION_PREFIX, strlen(ACTION_PREFIX)) == 0) {
        j->action_seen = 1;
        return;
    }
    complete(st, j, bus, text, now);
}
