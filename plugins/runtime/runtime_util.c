/* Small helpers shared by the runtime's files: ids, payload fields, socket emits. */
#include "runtime_int.h"

#include <stdio.h>
#include <string.h>

size_t rt_utf8_prefix(const char *text, size_t len) {
    size_t start = len;
    while (start > 0 && ((unsigned char)text[start - 1] & 0xC0) == 0x80)
        start--; /* back over continuation bytes to the lead byte of the last character */
    if (start == 0)
        return 0;
    unsigned char lead = (unsigned char)text[start - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return len - (start - 1) >= need ? len : start - 1;
}

void rt_utf8_trim(char *s) {
    s[rt_utf8_prefix(s, strlen(s))] = 0;
}

void rt_utf8_sanitize(const rt_state *st, char *s) {
    if (EZ_HAS(st->api, utf8_sanitize))
        st->api->utf8_sanitize(s, strlen(s));
    else
        rt_utf8_trim(s); /* an older kernel: at least the cut at the end */
}

void rt_unique_uuid(rt_state *st, const char *agent_id, const char *base, char out[RT_ID]) {
    if (strcmp(base, agent_id) == 0) {
        memcpy(out, agent_id, RT_ID);
        out[RT_ID - 1] = 0;
        return;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%s", base, agent_id);
    st->api->uuid_from_string(buf, out);
}

json_t *rt_agent(rt_state *st, const char *agent_id) {
    return EZ_AGENTS_HAS(st->agents, get_shared)
               ? st->agents->get_shared(st->agents->self, agent_id)
               : st->agents->get(st->agents->self, agent_id);
}

const char *rt_str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static const json_t *msg_meta(const json_t *ev) {
    return json_object_get(json_object_get(ev, "message"), "metadata");
}

const char *rt_channel_type(const json_t *ev) {
    const char *t = rt_str(json_object_get(ev, "channel"), "type");
    if (!t)
        t = rt_str(msg_meta(ev), "channelType");
    if (!t)
        t = rt_str(msg_meta(ev), "channel_type");
    return t && *t ? t : "GROUP";
}

int rt_is_dm(const json_t *ev) {
    const char *t = rt_channel_type(ev);
    return strcmp(t, "DM") == 0 || strcmp(t, "VOICE_DM") == 0 ||
           json_is_true(json_object_get(msg_meta(ev), "isDm"));
}

const char *rt_server_id(const json_t *ev) {
    const char *s = rt_str(json_object_get(ev, "bus"), "message_server_id");
    if (!s)
        s = rt_str(json_object_get(ev, "channel"), "messageServerId");
    if (!s)
        s = rt_str(json_object_get(ev, "message"), "messageServerId");
    return s && *s ? s : EZ_DEFAULT_SERVER_ID;
}

const char *rt_sender_name(const json_t *ev) {
    const char *n = rt_str(json_object_get(ev, "bus"), "author_display_name");
    if (!n)
        n = rt_str(msg_meta(ev), "user_display_name");
    if (!n)
        n = rt_str(json_object_get(json_object_get(ev, "message"), "rawMessage"), "senderName");
    return n && *n ? n : "User";
}

void rt_emit(rt_state *st, const char *channel_id, const char *event, json_t *obj_new) {
    if (!obj_new)
        return;
    if (!st->api->sock || !st->api->sock->emit_new) { /* a kernel without Socket.IO */
        json_decref(obj_new);
        return;
    }
    st->api->sock->emit_new(st->self, "/", channel_id, NULL, event, obj_new);
}

int rt_tx_begin(rt_state *st) {
    const ez_store_api *db = st->api->store;
    /* With the kernel's storage thread the flush's writes are queued (exec_later) and commit
     * together anyway; a transaction of ours would make each of them wait for the thread. */
    if (!db || !db->begin || EZ_STORE_HAS(db, exec_later))
        return 0;
    return db->begin(st->self) == EZ_OK;
}

void rt_tx_end(rt_state *st, int owned) {
    /* The callees report their own failures; what they wrote is kept (they do not roll back a
     * transaction they joined), so commit. */
    if (owned && st->api->store->commit(st->self) != EZ_OK)
        EZ_LOG(st->api, st->self, EZ_WARN, "commit failed");
}
