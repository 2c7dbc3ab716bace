/* The page cache of GET .../channels/:id/messages (see msg_page in messaging_int.h). Every
 * function that changes a channel's messages calls msg_cache_drop, in messaging_db.c, so a page
 * can never outlive the rows it was made from. */
#include "messaging_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const msg_page *msg_cache_get(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                              int64_t after) {
    for (int i = 0; i < MSG_CACHE_SLOTS; i++) {
        msg_page *p = &st->pages[i];
        if (p->body && p->limit == limit && p->before == before && p->after == after &&
            strcmp(p->channel, channel_id) == 0) {
            p->used = ++st->page_clock;
            return p;
        }
    }
    return NULL;
}

void msg_cache_put(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                   int64_t after, const char *body, size_t len) {
    if (len > MSG_CACHE_MAX_BODY || strlen(channel_id) >= sizeof st->pages[0].channel)
        return;
    msg_page *victim = &st->pages[0];
    for (int i = 0; i < MSG_CACHE_SLOTS; i++) {
        msg_page *p = &st->pages[i];
        if (!p->body) {
            victim = p;
            break;
        }
        if (p->used < victim->used)
            victim = p;
    }
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, body, len);
    free(victim->body);
    snprintf(victim->channel, sizeof victim->channel, "%s", channel_id);
    victim->limit = limit;
    victim->before = before;
    victim->after = after;
    victim->body = copy;
    victim->len = len;
    victim->used = ++st->page_clock;
}

void msg_cache_drop(msg_state *st, const char *channel_id) {
    for (int i = 0; i < MSG_CACHE_SLOTS; i++) {
        msg_page *p = &st->pages[i];
        if (p->body && (!channel_id || strcasecmp(p->channel, channel_id) == 0)) {
            free(p->body);
            p->body = NULL;
        }
    }
}
