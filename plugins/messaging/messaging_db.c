/* Storage: the plugin's tables through the kernel store (SQL text is constant so the kernel's
 * statement cache hits), and rendering of rows into the wire objects. Timestamps are epoch ms
 * integers; JSON columns are TEXT. */
#include "messaging_int.h"

#include <stdlib.h>
#include <string.h>

static const char SCHEMA_V1[] =
    "CREATE TABLE IF NOT EXISTS @servers ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, source_type TEXT NOT NULL, source_id TEXT,"
    " metadata TEXT, seq INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS @channels ("
    " id TEXT PRIMARY KEY, server_id TEXT NOT NULL REFERENCES @servers(id), name TEXT NOT NULL,"
    " type TEXT NOT NULL, source_type TEXT, source_id TEXT, topic TEXT, metadata TEXT,"
    " seq INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS @channels_by_server ON @channels(server_id, seq);"
    "CREATE INDEX IF NOT EXISTS @channels_by_name ON @channels(server_id, name);"
    "CREATE TABLE IF NOT EXISTS @participants ("
    " channel_id TEXT NOT NULL, entity_id TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (channel_id, entity_id));"
    "CREATE TABLE IF NOT EXISTS @messages ("
    " id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, server_id TEXT, author_id TEXT NOT NULL,"
    " content TEXT NOT NULL, raw_message TEXT, source_type TEXT, source_id TEXT,"
    " in_reply_to TEXT, metadata TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, item TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS @messages_by_channel ON @messages(channel_id, created_at);"
    "CREATE TABLE IF NOT EXISTS @server_agents ("
    " server_id TEXT NOT NULL, agent_id TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (server_id, agent_id));"
    "CREATE INDEX IF NOT EXISTS @server_agents_by_agent ON @server_agents(agent_id);";

static const char SQL_DEFAULT_SERVER[] =
    "INSERT INTO @servers (id, name, source_type, seq, created_at, updated_at)"
    " VALUES (?, 'Default Server', 'eliza_default', 0, ?, ?) ON CONFLICT (id) DO NOTHING";
static const char SQL_MAX_SEQ[] =
    "SELECT MAX(m) AS m FROM (SELECT MAX(seq) AS m FROM @servers UNION ALL"
    " SELECT MAX(seq) FROM @channels UNION ALL SELECT MAX(seq) FROM @participants UNION ALL"
    " SELECT MAX(seq) FROM @server_agents) t";

static const char SQL_SERVERS[] = "SELECT * FROM @servers ORDER BY seq, created_at";
static const char SQL_SERVER_GET[] = "SELECT * FROM @servers WHERE id = ?";
static const char SQL_SERVER_EXISTS[] = "SELECT 1 AS x FROM @servers WHERE id = ?";
static const char SQL_SERVER_INSERT[] =
    "INSERT INTO @servers (id, name, source_type, source_id, metadata, seq, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

static const char SQL_CHANNEL_GET[] = "SELECT * FROM @channels WHERE id = ?";
static const char SQL_CHANNELS_OF[] = "SELECT * FROM @channels WHERE server_id = ? ORDER BY seq";
static const char SQL_DM_FIND[] =
    "SELECT * FROM @channels WHERE server_id = ? AND name = ? AND type = 'DM' ORDER BY seq"
    " LIMIT 1";
static const char SQL_CHANNEL_INSERT[] =
    "INSERT INTO @channels (id, server_id, name, type, source_type, source_id, topic, metadata,"
    " seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CHANNEL_UPDATE[] =
    "UPDATE @channels SET name = COALESCE(?, name), metadata = COALESCE(?, metadata),"
    " updated_at = ? WHERE id = ?";
static const char SQL_CHANNEL_DELETE[] = "DELETE FROM @channels WHERE id = ?";

static const char SQL_PARTICIPANTS[] =
    "SELECT entity_id FROM @participants WHERE channel_id = ? ORDER BY seq";
static const char SQL_PARTICIPANT_ADD[] =
    "INSERT INTO @participants (channel_id, entity_id, seq) VALUES (?, ?, ?)"
    " ON CONFLICT (channel_id, entity_id) DO NOTHING";
static const char SQL_PARTICIPANT_DEL[] =
    "DELETE FROM @participants WHERE channel_id = ? AND entity_id = ?";
static const char SQL_PARTICIPANTS_DEL[] = "DELETE FROM @participants WHERE channel_id = ?";

static const char SQL_MSG_INSERT[] =
    "INSERT INTO @messages (id, channel_id, server_id, author_id, content, raw_message,"
    " source_type, source_id, in_reply_to, metadata, created_at, updated_at, item)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_MSG_ROW[] =
    "SELECT id, channel_id, server_id, author_id, content, raw_message, source_type, source_id,"
    " in_reply_to, metadata, created_at, updated_at FROM @messages WHERE id = ?";
static const char SQL_MSG_REWRITE[] =
    "UPDATE @messages SET author_id = ?, content = ?, raw_message = ?, source_type = ?,"
    " in_reply_to = ?, metadata = ?, server_id = ?, updated_at = ?, item = ? WHERE id = ?";
static const char SQL_MSG_DELETE[] = "DELETE FROM @messages WHERE id = ? AND channel_id = ?";
static const char SQL_MSGS_CLEAR[] = "DELETE FROM @messages WHERE channel_id = ?";
static const char SQL_MSG_LAST_TS[] =
    "SELECT MAX(created_at) AS m FROM @messages WHERE channel_id = ?";
static const char SQL_ITEMS_BEFORE[] =
    "SELECT item FROM @messages WHERE channel_id = ? AND created_at < ?"
    " ORDER BY created_at DESC LIMIT ?";
static const char SQL_ITEMS_AFTER[] =
    "SELECT item FROM (SELECT item, created_at FROM @messages WHERE channel_id = ?"
    " AND created_at > ? ORDER BY created_at ASC LIMIT ?) t ORDER BY created_at DESC";
static const char SQL_ITEMS_RANGE[] =
    "SELECT item FROM @messages WHERE channel_id = ? AND created_at > ? AND created_at < ?"
    " ORDER BY created_at DESC LIMIT ?";

static const char SQL_SERVER_AGENTS[] =
    "SELECT agent_id FROM @server_agents WHERE server_id = ? ORDER BY seq";
static const char SQL_AGENT_SERVERS[] =
    "SELECT server_id FROM @server_agents WHERE agent_id = ? ORDER BY seq";
static const char SQL_SERVER_AGENT_ADD[] =
    "INSERT INTO @server_agents (server_id, agent_id, seq) VALUES (?, ?, ?)"
    " ON CONFLICT (server_id, agent_id) DO NOTHING";
static const char SQL_SERVER_AGENT_DEL[] =
    "DELETE FROM @server_agents WHERE server_id = ? AND agent_id = ?";
static const char SQL_AGENT_FORGET[] = "DELETE FROM @server_agents WHERE agent_id = ?";

/* ---------------------------------------------------------------------------------------- */

/* Compact JSON text of v (new), or NULL for NULL: the kernel's writer when there is one. */
static char *dump_or_null(const msg_state *st, const json_t *v) {
    if (!v)
        return NULL;
    return EZ_HAS(st->api, json_text) ? st->api->json_text(v, NULL)
                                      : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static json_t *column_strings(json_t *rows, const char *col) {
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        /* shared, not copied: json_string() would re-validate every byte as UTF-8 */
        json_t *v = json_object_get(row, col);
        if (json_is_string(v))
            json_array_append(out, v);
    }
    json_decref(rows);
    return out;
}

int msg_db_migrate(msg_state *st) {
    int rc = st->db->migrate(st->self, 1, SCHEMA_V1);
    if (rc != EZ_OK)
        return rc;
    int64_t now = st->api->now_ms();
    json_t *p = json_pack("[sII]", EZ_DEFAULT_SERVER_ID, (json_int_t)now, (json_int_t)now);
    int64_t n = st->db->exec(st->self, SQL_DEFAULT_SERVER, p);
    json_decref(p);
    if (n < 0)
        return (int)n;
    json_t *row = st->db->query_one(st->self, SQL_MAX_SEQ, NULL);
    st->seq = row ? msg_row_int(row, "m") + 1 : 1;
    json_decref(row);
    return EZ_OK;
}

int msg_db_tx_begin(msg_state *st) {
    msg_channel_cache_clear(st);
    int rc = st->db->begin(st->self);
    st->tx_open += rc == EZ_OK;
    return rc;
}

int msg_db_tx_end(msg_state *st, int ok) {
    msg_channel_cache_clear(st);
    if (st->tx_open > 0)
        st->tx_open--;
    if (ok && st->db->commit(st->self) == EZ_OK)
        return 1;
    st->db->rollback(st->self);
    return 0;
}

/* ---- servers ---- */

json_t *msg_db_servers(msg_state *st) {
    json_t *rows = st->db->query(st->self, SQL_SERVERS, NULL);
    if (!rows)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(out, msg_render_server(st, row));
    json_decref(rows);
    return out;
}

json_t *msg_db_server_get(msg_state *st, const char *id) {
    json_t *p = json_pack("[s]", id);
    json_t *row = st->db->query_one(st->self, SQL_SERVER_GET, p);
    json_decref(p);
    if (!row)
        return NULL;
    json_t *out = msg_render_server(st, row);
    json_decref(row);
    return out;
}

int msg_db_server_exists(msg_state *st, const char *id) {
    json_t *p = json_pack("[s]", id);
    json_t *row = st->db->query_one(st->self, SQL_SERVER_EXISTS, p);
    json_decref(p);
    int found = row != NULL;
    json_decref(row);
    return found;
}

json_t *msg_db_server_create(msg_state *st, const char *name, const char *source_type,
                             const char *source_id, const json_t *metadata) {
    char id[37];
    st->api->uuid_v4(id);
    int64_t now = st->api->now_ms();
    char *meta = dump_or_null(st, metadata);
    json_t *p = json_pack("[ssss?s?III]", id, name, source_type, source_id, meta,
                          (json_int_t)st->seq++, (json_int_t)now, (json_int_t)now);
    free(meta);
    int64_t n = p ? st->db->exec(st->self, SQL_SERVER_INSERT, p) : -1;
    json_decref(p);
    return n == 1 ? msg_db_server_get(st, id) : NULL;
}

/* ---- channels ---- */

json_t *msg_db_channel_get(msg_state *st, const char *id) {
    json_t *out = msg_channel_cached(st, id);
    if (out)
        return out;
    json_t *p = json_pack("[s]", id);
    json_t *row = st->db->query_one(st->self, SQL_CHANNEL_GET, p);
    json_decref(p);
    if (!row)
        return NULL;
    out = msg_render_channel(st, row);
    json_decref(row);
    msg_channel_keep(st, id, out);
    return out;
}

json_t *msg_db_channel_read(msg_state *st, const char *id) {
    json_t *shared = msg_channel_shared(st, id);
    return shared ? shared : msg_db_channel_get(st, id);
}

static json_t *render_channels(msg_state *st, json_t *rows) {
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(out, msg_render_channel(st, row));
    json_decref(rows);
    return out;
}

json_t *msg_db_channels_of_server(msg_state *st, const char *server_id) {
    json_t *p = json_pack("[s]", server_id);
    json_t *rows = st->db->query(st->self, SQL_CHANNELS_OF, p);
    json_decref(p);
    return rows ? render_channels(st, rows) : NULL;
}

json_t *msg_db_dm_find(msg_state *st, const char *server_id, const char *name) {
    json_t *p = json_pack("[ss]", server_id, name);
    json_t *row = st->db->query_one(st->self, SQL_DM_FIND, p);
    json_decref(p);
    if (!row)
        return NULL;
    json_t *out = msg_render_channel(st, row);
    json_decref(row);
    return out;
}

json_t *msg_db_channel_insert(msg_state *st, const char *id, const char *server_id,
                              const char *name, const char *type, const char *source_type,
                              const char *source_id, const char *topic, const json_t *metadata,
                              const json_t *participants) {
    char idbuf[37];
    if (!id) {
        st->api->uuid_v4(idbuf);
        id = idbuf;
    }
    msg_channel_cache_clear(st);
    int64_t now = st->api->now_ms();
    json_t *empty = json_object();
    char *meta = dump_or_null(st, metadata ? metadata : empty);
    json_decref(empty);
    json_t *p = json_pack("[sssss?s?s?sIII]", id, server_id, name, type, source_type, source_id,
                          topic, meta, (json_int_t)st->seq++, (json_int_t)now, (json_int_t)now);
    free(meta);
    int64_t n = p ? st->db->exec(st->self, SQL_CHANNEL_INSERT, p) : -1;
    json_decref(p);
    if (n != 1)
        return NULL;
    size_t i;
    json_t *pid;
    json_array_foreach(participants, i, pid) {
        if (json_is_string(pid) && msg_db_participant_add(st, id, json_string_value(pid)) < 0)
            return NULL;
    }
    return msg_db_channel_get(st, id);
}

int msg_db_channel_update(msg_state *st, const char *id, const char *name, const json_t *metadata) {
    msg_channel_cache_clear(st);
    char *meta = dump_or_null(st, metadata);
    json_t *p = json_pack("[s?s?Is]", name, meta, (json_int_t)st->api->now_ms(), id);
    free(meta);
    int64_t n = p ? st->db->exec(st->self, SQL_CHANNEL_UPDATE, p) : -1;
    json_decref(p);
    return n < 0 ? (int)n : EZ_OK;
}

int msg_db_channel_delete(msg_state *st, const char *id) {
    json_t *p = json_pack("[s]", id);
    msg_cache_drop(st, id);
    msg_channel_cache_clear(st);
    int ok = msg_db_tx_begin(st) == EZ_OK;
    if (ok)
        ok = st->db->exec(st->self, SQL_MSGS_CLEAR, p) >= 0 &&
             st->db->exec(st->self, SQL_PARTICIPANTS_DEL, p) >= 0 &&
             st->db->exec(st->self, SQL_CHANNEL_DELETE, p) >= 0;
    json_decref(p);
    msg_db_tx_end(st, ok);
    return ok ? EZ_OK : EZ_EIO;
}

/* ---- participants ---- */

json_t *msg_db_participants(msg_state *st, const char *channel_id) {
    json_t *out = msg_participants_cached(st, channel_id);
    if (out)
        return out;
    json_t *p = json_pack("[s]", channel_id);
    json_t *rows = st->db->query(st->self, SQL_PARTICIPANTS, p);
    json_decref(p);
    if (!rows)
        return json_array(); /* a failed read is not kept */
    out = column_strings(rows, "entity_id");
    msg_participants_keep(st, channel_id, out);
    return out;
}

int msg_db_participant_add(msg_state *st, const char *channel_id, const char *entity_id) {
    msg_channel_cache_clear(st);
    json_t *p = json_pack("[ssI]", channel_id, entity_id, (json_int_t)st->seq++);
    int64_t n = st->db->exec(st->self, SQL_PARTICIPANT_ADD, p);
    json_decref(p);
    return (int)(n < 0 ? n : (n > 0));
}

int msg_db_participant_remove(msg_state *st, const char *channel_id, const char *entity_id) {
    msg_channel_cache_clear(st);
    json_t *p = json_pack("[ss]", channel_id, entity_id);
    int64_t n = st->db->exec(st->self, SQL_PARTICIPANT_DEL, p);
    json_decref(p);
    return (int)(n < 0 ? n : (n > 0));
}

int msg_db_participants_replace(msg_state *st, const char *channel_id, const json_t *ids) {
    msg_channel_cache_clear(st);
    json_t *p = json_pack("[s]", channel_id);
    int64_t n = st->db->exec(st->self, SQL_PARTICIPANTS_DEL, p);
    json_decref(p);
    if (n < 0)
        return (int)n;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (msg_db_participant_add(st, channel_id, json_string_value(v)) < 0)
            return EZ_EIO;
    }
    return EZ_OK;
}

/* ---- messages ---- */

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

#define MAX_DRIFT_MS 1000

/* The created_at for the next message of a channel: now, or one past the channel's last. */
static int64_t next_ts(msg_state *st, const char *channel_id) {
    int64_t now = st->api->now_ms();
    if (strlen(channel_id) != 36)
        return now;
    if (st->ts_used >= MSG_TSMAP_SLOTS * 3 / 4) {
        /* Forgetting is safe: the next lookup reads the channel's max from the index. */
        memset(st->ts, 0, sizeof st->ts);
        st->ts_used = 0;
    }
    uint32_t i = fnv1a(channel_id) % MSG_TSMAP_SLOTS;
    while (st->ts[i].id[0] && strcmp(st->ts[i].id, channel_id) != 0)
        i = (i + 1) % MSG_TSMAP_SLOTS;
    msg_ts_slot *slot = &st->ts[i];
    if (!slot->id[0]) {
        memcpy(slot->id, channel_id, 37);
        json_t *p = json_pack("[s]", channel_id);
        json_t *row = st->db->query_one(st->self, SQL_MSG_LAST_TS, p);
        json_decref(p);
        slot->last = row ? msg_row_int(row, "m") : 0;
        json_decref(row);
        st->ts_used++;
    }
    /* Unique per channel, but never more than MAX_DRIFT_MS ahead of the clock: beyond that
     * (a sustained flood over 1000 messages/s into one channel) milliseconds are shared. */
    int64_t ts = now > slot->last ? now : slot->last + 1;
    if (ts > now + MAX_DRIFT_MS)
        ts = slot->last;
    slot->last = ts;
    return ts;
}

/* Builds the row object of a message as the store would return it. */
/* The row as stored, for rendering, except that raw_message and metadata are copies of the
 * parsed values rather than their text: msg_json_col takes either, and a copy is cheaper than
 * parsing back what was just serialised. */
static json_t *make_row(const msg_in *in, const char *id, int64_t ts) {
    return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:o?, s:s?, s:s?, s:s?, s:o?, s:I, s:I}", "id", id,
                     "channel_id", in->channel_id, "server_id", in->server_id, "author_id",
                     in->author_id, "content", in->content, "raw_message",
                     in->raw ? json_deep_copy(in->raw) : NULL, "source_type", in->source_type,
                     "source_id", in->source_id, "in_reply_to", in->in_reply_to, "metadata",
                     in->metadata ? json_deep_copy(in->metadata) : NULL, "created_at",
                     (json_int_t)ts, "updated_at", (json_int_t)ts);
}

/* A text parameter of the insert. Every value goes to the storage thread, which frees it:
 * nothing in the array may be shared with what the loop keeps (jansson's reference counts do
 * not order the loop's reads before that thread's free), so each is a value of its own. The
 * text is valid UTF-8 (it comes from parsed JSON or from json_dumps): no second check. */
static json_t *text_param(const char *v) {
    return v ? json_string_nocheck(v) : json_null();
}

/* rawMessage and metadata as stored: compact JSON text, or NULL. */
static json_t *json_param(const msg_state *st, const json_t *row, const char *col) {
    const json_t *v = json_object_get(row, col);
    if (!v || json_is_null(v))
        return json_null();
    char *text = dump_or_null(st, v);
    json_t *s = text ? json_string_nocheck(text) : NULL;
    free(text);
    return s;
}

/* SQL_MSG_INSERT's parameters for row and its list item (new), or NULL without memory. */
static json_t *insert_params(const msg_state *st, const json_t *row, const json_t *item) {
    static const char *const text_cols[] = {"id", "channel_id", "server_id", "author_id",
                                            "content"};
    char *item_text = dump_or_null(st, item);
    int64_t ts = msg_row_int(row, "created_at");
    json_t *p = item_text ? json_array() : NULL;
    int ok = p != NULL;
    for (size_t i = 0; ok && i < sizeof text_cols / sizeof text_cols[0]; i++)
        ok = json_array_append_new(p, text_param(msg_row_str(row, text_cols[i]))) == 0;
    ok = ok && json_array_append_new(p, json_param(st, row, "raw_message")) == 0;
    ok = ok && json_array_append_new(p, text_param(msg_row_str(row, "source_type"))) == 0;
    ok = ok && json_array_append_new(p, text_param(msg_row_str(row, "source_id"))) == 0;
    ok = ok && json_array_append_new(p, text_param(msg_row_str(row, "in_reply_to"))) == 0;
    ok = ok && json_array_append_new(p, json_param(st, row, "metadata")) == 0;
    ok = ok && json_array_append_new(p, json_integer(ts)) == 0;
    ok = ok && json_array_append_new(p, json_integer(ts)) == 0;
    ok = ok && json_array_append_new(p, text_param(item_text)) == 0;
    free(item_text);
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static void remember_id(msg_state *st, const char *id) {
    memcpy(st->recent_ids[st->recent_pos++ % MSG_RECENT_IDS], id, 37);
}

void msg_id_reserve(msg_state *st, char id_out[37]) {
    st->api->uuid_v4(id_out);
    memcpy(st->reserved_ids[st->reserved_pos++ % MSG_RESERVED_IDS], id_out, 37);
}

/* Slot of a reserved id, or -1. */
static int reserved_slot(const msg_state *st, const char *id) {
    for (int i = 0; i < MSG_RESERVED_IDS; i++)
        if (st->reserved_ids[i][0] == id[0] && memcmp(st->reserved_ids[i], id, 37) == 0)
            return i;
    return -1;
}

/* Whether a message with this id exists: among the newest (maybe not committed yet), else in
 * the store. A reserved id is free for the internal post it was made for (a new random id: no
 * lookup) and taken for anyone else. */
static int id_taken(msg_state *st, const char *id, int internal) {
    if (strlen(id) != 36)
        return 0; /* not a UUID: the caller validated; the insert reports it */
    int r = reserved_slot(st, id);
    if (r >= 0) {
        if (internal)
            st->reserved_ids[r][0] = '\0';
        return !internal;
    }
    for (unsigned i = 0; i < MSG_RECENT_IDS; i++)
        if (st->recent_ids[i][0] == id[0] && memcmp(st->recent_ids[i], id, 37) == 0)
            return 1;
    json_t *p = json_pack("[s]", id);
    json_t *row = st->db->query_one(st->self, "SELECT 1 AS x FROM @messages WHERE id = ?", p);
    json_decref(p);
    json_decref(row);
    return row != NULL;
}

json_t *msg_db_message_insert(msg_state *st, const msg_in *in, int64_t *ts_out, int *err_out) {
    char idbuf[37];
    const char *id = in->id;
    if (!id) {
        st->api->uuid_v4(idbuf);
        id = idbuf;
    }
    if (in->id && id_taken(st, id, in->internal)) {
        *err_out = EZ_ECONSTRAINT;
        return NULL;
    }
    int64_t ts = next_ts(st, in->channel_id);
    json_t *row = make_row(in, id, ts);
    json_t *item = row ? msg_render_message(st, row, 1) : NULL;
    json_t *p = item ? insert_params(st, row, item) : NULL;
    json_decref(item);
    int rc = !p ? EZ_ENOMEM
             : EZ_STORE_HAS(st->db, exec_later)
                 ? st->db->exec_later(st->self, SQL_MSG_INSERT, p)
                 : (int)(st->db->exec(st->self, SQL_MSG_INSERT, p) == 1 ? EZ_OK : EZ_EIO);
    json_decref(p);
    if (rc != EZ_OK) {
        json_decref(row);
        *err_out = rc == EZ_ECONSTRAINT ? EZ_ECONSTRAINT : EZ_EIO;
        return NULL;
    }
    remember_id(st, id);
    msg_cache_drop(st, in->channel_id);
    json_t *root = msg_render_message(st, row, 0);
    json_decref(row);
    *ts_out = ts;
    *err_out = EZ_OK;
    return root;
}

json_t *msg_db_message_row(msg_state *st, const char *id) {
    json_t *p = json_pack("[s]", id);
    json_t *row = st->db->query_one(st->self, SQL_MSG_ROW, p);
    json_decref(p);
    return row;
}

int msg_db_message_rewrite(msg_state *st, const json_t *row) {
    json_t *item = msg_render_message(st, row, 1);
    char *item_txt = dump_or_null(st, item);
    json_decref(item);
    if (!item_txt)
        return EZ_ENOMEM;
    json_t *p =
        json_pack("[sss?s?s?s?s?Iss]", msg_row_str(row, "author_id"), msg_row_str(row, "content"),
                  msg_row_str(row, "raw_message"), msg_row_str(row, "source_type"),
                  msg_row_str(row, "in_reply_to"), msg_row_str(row, "metadata"),
                  msg_row_str(row, "server_id"), (json_int_t)msg_row_int(row, "updated_at"),
                  item_txt, msg_row_str(row, "id"));
    free(item_txt);
    msg_cache_drop(st, msg_row_str(row, "channel_id"));
    int64_t n = p ? st->db->exec(st->self, SQL_MSG_REWRITE, p) : EZ_ENOMEM;
    json_decref(p);
    return n < 0 ? (int)n : EZ_OK;
}

int64_t msg_db_message_delete(msg_state *st, const char *channel_id, const char *message_id) {
    json_t *p = json_pack("[ss]", message_id, channel_id);
    msg_cache_drop(st, channel_id);
    int64_t n = st->db->exec(st->self, SQL_MSG_DELETE, p);
    json_decref(p);
    return n;
}

int64_t msg_db_messages_clear(msg_state *st, const char *channel_id) {
    json_t *p = json_pack("[s]", channel_id);
    msg_cache_drop(st, channel_id);
    int64_t n = st->db->exec(st->self, SQL_MSGS_CLEAR, p);
    json_decref(p);
    return n;
}

json_t *msg_db_message_items(msg_state *st, const char *channel_id, int64_t limit, int64_t before,
                             int64_t after) {
    json_t *p, *rows;
    if (after > 0 && before > 0) {
        p = json_pack("[sIII]", channel_id, (json_int_t)after, (json_int_t)before,
                      (json_int_t)limit);
        rows = st->db->query(st->self, SQL_ITEMS_RANGE, p);
    } else if (after > 0) {
        p = json_pack("[sII]", channel_id, (json_int_t)after, (json_int_t)limit);
        rows = st->db->query(st->self, SQL_ITEMS_AFTER, p);
    } else {
        p = json_pack("[sII]", channel_id, (json_int_t)(before > 0 ? before : INT64_MAX),
                      (json_int_t)limit);
        rows = st->db->query(st->self, SQL_ITEMS_BEFORE, p);
    }
    json_decref(p);
    return rows ? column_strings(rows, "item") : NULL;
}

/* ---- message-server membership of agents ---- */

json_t *msg_db_server_agents(msg_state *st, const char *server_id) {
    json_t *p = json_pack("[s]", server_id);
    json_t *rows = st->db->query(st->self, SQL_SERVER_AGENTS, p);
    json_decref(p);
    return rows ? column_strings(rows, "agent_id") : NULL;
}

json_t *msg_db_agent_servers(msg_state *st, const char *agent_id) {
    json_t *p = json_pack("[s]", agent_id);
    json_t *rows = st->db->query(st->self, SQL_AGENT_SERVERS, p);
    json_decref(p);
    return rows ? column_strings(rows, "server_id") : NULL;
}

int64_t msg_db_server_agent_add(msg_state *st, const char *server_id, const char *agent_id) {
    json_t *p = json_pack("[ssI]", server_id, agent_id, (json_int_t)st->seq++);
    int64_t n = st->db->exec(st->self, SQL_SERVER_AGENT_ADD, p);
    json_decref(p);
    return n;
}

int64_t msg_db_server_agent_remove(msg_state *st, const char *server_id, const char *agent_id) {
    json_t *p = json_pack("[ss]", server_id, agent_id);
    int64_t n = st->db->exec(st->self, SQL_SERVER_AGENT_DEL, p);
    json_decref(p);
    return n;
}

int64_t msg_db_agent_forget(msg_state *st, const char *agent_id) {
    json_t *p = json_pack("[s]", agent_id);
    int64_t n = st->db->exec(st->self, SQL_AGENT_FORGET, p);
    json_decref(p);
    return n;
}
