/* The channel cache (msg_channel_slot in messaging_int.h). Every write to channels or
 * participants goes through messaging_db.c, which clears the cache first; so does every
 * transaction's begin and end, and nothing read inside a transaction is kept, so a rollback
 * cannot leave a channel here that the store does not have. With several instances on one
 * database (PostgreSQL, later) another instance's writes must clear it too, over the
 * cross-instance bus. */
#include "messaging_int.h"

#include <string.h>

static msg_channel_slot *slot_of(msg_state *st, const char *id) {
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &st->channels[h % MSG_CHANNEL_SLOTS];
}

static msg_channel_slot *find(msg_state *st, const char *id) {
    if (!id || strlen(id) != 36)
        return NULL;
    msg_channel_slot *s = slot_of(st, id);
    return strcmp(s->id, id) == 0 ? s : NULL;
}

json_t *msg_channel_cached(msg_state *st, const char *channel_id) {
    msg_channel_slot *s = find(st, channel_id);
    return s && s->channel ? json_deep_copy(s->channel) : NULL;
}

json_t *msg_channel_shared(msg_state *st, const char *channel_id) {
    msg_channel_slot *s = find(st, channel_id);
    return s && s->channel ? json_incref(s->channel) : NULL;
}

json_t *msg_participants_cached(msg_state *st, const char *channel_id) {
    msg_channel_slot *s = find(st, channel_id);
    return s && s->participants ? json_deep_copy(s->participants) : NULL;
}

static void slot_free(msg_channel_slot *s) {
    json_decref(s->channel);
    json_decref(s->participants);
    s->channel = s->participants = NULL;
    s->id[0] = '\0';
}

/* The slot for id, emptied when it held another channel; NULL: not to be kept. */
static msg_channel_slot *claim(msg_state *st, const char *id) {
    if (st->tx_open || !id || strlen(id) != 36)
        return NULL;
    msg_channel_slot *s = slot_of(st, id);
    if (strcmp(s->id, id) != 0) {
        slot_free(s);
        memcpy(s->id, id, 37);
    }
    return s;
}

void msg_channel_keep(msg_state *st, const char *channel_id, const json_t *channel) {
    msg_channel_slot *s = channel ? claim(st, channel_id) : NULL;
    if (!s)
        return;
    json_decref(s->channel);
    s->channel = json_deep_copy(channel);
}

void msg_participants_keep(msg_state *st, const char *channel_id, const json_t *participants) {
    msg_channel_slot *s = participants ? claim(st, channel_id) : NULL;
    if (!s)
        return;
    json_decref(s->participants);
    s->participants = json_deep_copy(participants);
}

void msg_channel_cache_clear(msg_state *st) {
    for (int i = 0; i < MSG_CHANNEL_SLOTS; i++)
        slot_free(&st->channels[i]);
}
