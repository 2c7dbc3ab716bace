/* The in-memory session table: a hash on the id for lookups, a list in creation order for the
 * listing and the sweep. Expiry and renewal rules are COMPAT §8.1. */
#include "sessions_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MINUTE_MS 60000.0

static unsigned bucket_of(const char *id) {
    unsigned h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ (unsigned)(*p | 0x20)) * 16777619u; /* ids compare case-insensitively */
    return h & (SS_BUCKETS - 1);
}

ss_session *ss_find(ss_state *st, const char *id) {
    for (ss_session *s = st->buckets[bucket_of(id)]; s; s = s->bucket_next)
        if (strcasecmp(s->id, id) == 0)
            return s;
    return NULL;
}

void ss_insert(ss_state *st, ss_session *s) {
    unsigned b = bucket_of(s->id);
    s->bucket_next = st->buckets[b];
    st->buckets[b] = s;
    s->prev = st->tail;
    s->next = NULL;
    if (st->tail)
        st->tail->next = s;
    else
        st->head = s;
    st->tail = s;
    st->count++;
}

static void session_free(ss_session *s) {
    json_decref(s->metadata);
    json_decref(s->channel_meta);
    free(s);
}

void ss_remove(ss_state *st, ss_session *s) {
    ss_session **pp = &st->buckets[bucket_of(s->id)];
    while (*pp && *pp != s)
        pp = &(*pp)->bucket_next;
    if (*pp)
        *pp = s->bucket_next;
    if (s->prev)
        s->prev->next = s->next;
    else
        st->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        st->tail = s->prev;
    st->count--;
    session_free(s);
}

void ss_free_all(ss_state *st) {
    while (st->head) {
        ss_session *s = st->head;
        st->head = s->next;
        session_free(s);
    }
    memset(st->buckets, 0, sizeof st->buckets);
    st->tail = NULL;
    st->count = 0;
}

int64_t ss_expiry(const ss_session *s, int64_t now) {
    int64_t timeout = (int64_t)(s->cfg.timeout_min * MINUTE_MS);
    int64_t max_life = (int64_t)(s->cfg.max_duration_min * MINUTE_MS);
    if ((now - s->created) + timeout > max_life)
        return s->created + max_life;
    return (s->cfg.auto_renew ? s->last_activity : s->created) + timeout;
}

int ss_renew(ss_state *st, ss_session *s, int64_t now) {
    if (now - s->created >= (int64_t)(s->cfg.max_duration_min * MINUTE_MS))
        return 0;
    s->last_activity = now;
    s->renewals++;
    s->expires = ss_expiry(s, now);
    s->warned = 0;
    json_t *ev = json_object();
    json_object_set_new(ev, "sessionId", json_string(s->id));
    json_object_set_new(ev, "channelId", json_string(s->channel_id));
    json_object_set_new(ev, "expiresAt", ss_iso(st, s->expires));
    json_object_set_new(ev, "renewalCount", json_integer(s->renewals));
    st->api->sock->emit_new(st->self, "/", s->channel_id, NULL, "sessionRenewed", ev);
    return 1;
}

int64_t ss_remaining(const ss_session *s, int64_t now) {
    return s->expires > now ? s->expires - now : 0;
}

int ss_near_expiry(const ss_session *s, int64_t now) {
    int64_t left = ss_remaining(s, now);
    return left > 0 && (double)left <= s->cfg.warning_min * MINUTE_MS;
}

json_t *ss_iso(ss_state *st, int64_t ms) {
    char buf[32];
    st->api->iso_time(ms, buf);
    return json_string(buf);
}

json_t *ss_info(ss_state *st, const ss_session *s, int64_t now) {
    json_t *o = json_object();
    json_object_set_new(o, "sessionId", json_string(s->id));
    json_object_set_new(o, "channelId", json_string(s->channel_id));
    json_object_set_new(o, "agentId", json_string(s->agent_id));
    json_object_set_new(o, "userId", json_string(s->user_id));
    json_object_set_new(o, "createdAt", ss_iso(st, s->created));
    json_object_set_new(o, "lastActivity", ss_iso(st, s->last_activity));
    json_object_set(o, "metadata", s->metadata);
    json_object_set_new(o, "expiresAt", ss_iso(st, s->expires));
    json_object_set_new(o, "timeoutConfig", ss_timeout_json(&s->cfg));
    json_object_set_new(o, "renewalCount", json_integer(s->renewals));
    json_object_set_new(o, "timeRemaining", json_integer(ss_remaining(s, now)));
    json_object_set_new(o, "isNearExpiration", json_boolean(ss_near_expiry(s, now)));
    return o;
}

/* The seed's socket events (the official server has none: COMPAT §8.1): sent to the session's
 * channel room, where its clients already listen for the agent's replies. */
static void emit_state(ss_state *st, const ss_session *s, const char *event, int64_t now) {
    json_t *ev = json_object();
    json_object_set_new(ev, "sessionId", json_string(s->id));
    json_object_set_new(ev, "channelId", json_string(s->channel_id));
    json_object_set_new(ev, "expiresAt", ss_iso(st, s->expires));
    json_object_set_new(ev, "timeRemaining", json_integer(ss_remaining(s, now)));
    st->api->sock->emit_new(st->self, "/", s->channel_id, NULL, event, ev);
}

void ss_sweep(void *ud) {
    ss_state *st = ud;
    int64_t now = st->api->now_ms();
    ss_session *s = st->head;
    while (s) {
        ss_session *next = s->next;
        if (now >= s->expires) {
            emit_state(st, s, "sessionExpired", now);
            ss_remove(st, s);
        } else if (!s->warned && ss_near_expiry(s, now)) {
            emit_state(st, s, "sessionExpirationWarning", now);
            s->warned = 1;
        }
        s = next;
    }
}

void ss_expire(ss_state *st, ss_session *s, int64_t now) {
    emit_state(st, s, "sessionExpired", now);
    ss_remove(st, s);
}
