/* The in-memory job table: two hashes (job id for the REST lookups, channel id for the bus
 * listener) and a list in creation order for the listing, the sweep and the eviction. */
#include "jobs_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static unsigned bucket_of(const char *id) {
    unsigned h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ (unsigned)(*p | 0x20)) * 16777619u; /* channel ids compare case-insensitively */
    return h & (JB_BUCKETS - 1);
}

const char *jb_status_name(jb_status s) {
    static const char *const names[JB_NSTATUS] = {"pending", "processing", "completed", "failed",
                                                  "timeout"};
    return (unsigned)s < JB_NSTATUS ? names[s] : "failed";
}

jb_job *jb_find(jb_state *st, const char *id) {
    /* job ids are the server's own lower-case v4 strings: the official Map lookup is exact */
    for (jb_job *j = st->by_id[bucket_of(id)]; j; j = j->id_next)
        if (strcmp(j->id, id) == 0)
            return j;
    return NULL;
}

jb_job *jb_find_channel(jb_state *st, const char *channel_id) {
    for (jb_job *j = st->by_channel[bucket_of(channel_id)]; j; j = j->ch_next)
        if (strcasecmp(j->channel_id, channel_id) == 0)
            return j;
    return NULL;
}

void jb_job_free(jb_job *j) {
    if (!j)
        return;
    free(j->content);
    free(j->error);
    json_decref(j->metadata);
    json_decref(j->result);
    free(j);
}

static void unchain(jb_job **head, jb_job *j, int by_channel) {
    for (jb_job **pp = head; *pp; pp = by_channel ? &(*pp)->ch_next : &(*pp)->id_next) {
        if (*pp == j) {
            *pp = by_channel ? j->ch_next : j->id_next;
            return;
        }
    }
}

void jb_remove(jb_state *st, jb_job *j) {
    unchain(&st->by_id[bucket_of(j->id)], j, 0);
    if (j->channel_id[0])
        unchain(&st->by_channel[bucket_of(j->channel_id)], j, 1);
    if (j->prev)
        j->prev->next = j->next;
    else
        st->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        st->tail = j->prev;
    st->count--;
    st->bytes -= j->bytes;
    jb_job_free(j);
}

void jb_insert(jb_state *st, jb_job *j) {
    if (st->count >= st->max_jobs) {
        /* the official server drops the oldest 10 % whatever their state (COMPAT §9) */
        int drop = st->max_jobs / 10 > 0 ? st->max_jobs / 10 : 1;
        for (int i = 0; i < drop && st->head; i++)
            jb_remove(st, st->head);
        EZ_LOG(st->api, st->self, EZ_WARN, "job table full: dropped the %d oldest jobs", drop);
    }
    int dropped = 0;
    for (; st->head && st->bytes + j->bytes > st->max_bytes; dropped++)
        jb_remove(st, st->head);
    if (dropped)
        EZ_LOG(st->api, st->self, EZ_WARN, "job memory budget reached: dropped %d old jobs",
               dropped);
    unsigned b = bucket_of(j->id);
    j->id_next = st->by_id[b];
    st->by_id[b] = j;
    if (j->channel_id[0]) {
        b = bucket_of(j->channel_id);
        j->ch_next = st->by_channel[b];
        st->by_channel[b] = j;
    }
    j->prev = st->tail;
    j->next = NULL;
    if (st->tail)
        st->tail->next = j;
    else
        st->head = j;
    st->tail = j;
    st->count++;
    st->bytes += j->bytes;
}

void jb_grow(jb_state *st, jb_job *j, size_t more) {
    j->bytes += more;
    st->bytes += more;
    int dropped = 0;
    for (; st->head && st->head != j && st->bytes > st->max_bytes; dropped++)
        jb_remove(st, st->head);
    if (dropped)
        EZ_LOG(st->api, st->self, EZ_WARN, "job memory budget reached: dropped %d old jobs",
               dropped);
}

void jb_free_all(jb_state *st) {
    while (st->head) {
        jb_job *j = st->head;
        st->head = j->next;
        jb_job_free(j);
    }
    memset(st->by_id, 0, sizeof st->by_id);
    memset(st->by_channel, 0, sizeof st->by_channel);
    st->tail = NULL;
    st->count = 0;
    st->bytes = 0;
}

void jb_fail(jb_state *st, jb_job *j, char *error_new) {
    free(j->error);
    j->error = error_new;
    j->status = JB_FAILED;
    st->metrics.failed++;
}

int jb_check_expiry(jb_state *st, jb_job *j, int64_t now) {
    if (j->status != JB_PROCESSING || j->expires >= now)
        return 0;
    free(j->error);
    j->error = strdup(JB_TIMEOUT_ERROR);
    j->status = JB_TIMEOUT;
    st->metrics.timed_out++;
    EZ_LOG(st->api, st->self, EZ_WARN, "job %s timed out", j->id);
    return 1;
}

void jb_sweep(void *ud) {
    jb_state *st = ud;
    int64_t now = st->api->now_ms();
    int dropped = 0;
    jb_job *j = st->head;
    while (j) {
        jb_job *next = j->next;
        /* finished jobs are kept until their deadline has passed, then forgotten (official) */
        if (j->expires < now &&
            (j->status == JB_COMPLETED || j->status == JB_FAILED || j->status == JB_TIMEOUT)) {
            jb_remove(st, j);
            dropped++;
        } else {
            jb_check_expiry(st, j, now);
        }
        j = next;
    }
    if (dropped)
        EZ_LOG(st->api, st->self, EZ_DEBUG, "forgot %d finished jobs, %d left", dropped, st->count);
}

json_t *jb_details(const jb_job *j) {
    json_t *o = json_object();
    json_object_set_new(o, "jobId", json_string(j->id));
    json_object_set_new(o, "status", json_string(jb_status_name(j->status)));
    json_object_set_new(o, "agentId", json_string(j->agent_id));
    json_object_set_new(o, "userId", json_string(j->user_id));
    json_object_set_new(o, "prompt", json_string(j->content));
    json_object_set_new(o, "createdAt", json_integer(j->created));
    json_object_set_new(o, "expiresAt", json_integer(j->expires));
    if (j->result)
        json_object_set(o, "result", j->result);
    if (j->error)
        json_object_set_new(o, "error", json_string(j->error));
    json_object_set(o, "metadata", j->metadata);
    return o;
}
