/* The agent table, cached whole in memory: agents are few and read on every request (list,
 * details, "is it running?"), so reads never touch SQLite; every change writes through. The
 * rendered bodies of GET /api/agents and GET /api/agents/:id are cached too and dropped on
 * any change, which is what makes the polled list cheap. */
#include "agents_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void ag_agent_free(ag_agent *a) {
    if (!a)
        return;
    json_decref(a->character);
    json_decref(a->shared);
    free(a->detail);
    free(a);
}

ag_agent *ag_find(ag_state *st, const char *id) {
    if (!id)
        return NULL;
    for (size_t i = 0; i < st->n_agents; i++) {
        ag_agent *a = st->agents[i];
        if (a->id[0] == id[0] && strcasecmp(a->id, id) == 0)
            return a;
    }
    return NULL;
}

int ag_cache_add(ag_state *st, ag_agent *a) {
    if (st->n_agents == st->cap_agents) {
        size_t cap = st->cap_agents ? st->cap_agents * 2 : 16;
        ag_agent **p = realloc(st->agents, cap * sizeof *p);
        if (!p) {
            ag_agent_free(a);
            return EZ_ENOMEM;
        }
        st->agents = p;
        st->cap_agents = cap;
    }
    st->agents[st->n_agents++] = a;
    free(st->list_body);
    st->list_body = NULL;
    return EZ_OK;
}

void ag_cache_remove(ag_state *st, ag_agent *a) {
    for (size_t i = 0; i < st->n_agents; i++) {
        if (st->agents[i] == a) {
            memmove(st->agents + i, st->agents + i + 1, (st->n_agents - i - 1) * sizeof a);
            st->n_agents--;
            break;
        }
    }
    ag_agent_free(a);
    free(st->list_body);
    st->list_body = NULL;
}

void ag_cache_touch(ag_state *st, ag_agent *a) {
    free(a->detail);
    a->detail = NULL;
    json_decref(a->shared); /* callers holding it keep their reference: a snapshot */
    a->shared = NULL;
    free(st->list_body);
    st->list_body = NULL;
}

void ag_cache_free(ag_state *st) {
    for (size_t i = 0; i < st->n_agents; i++)
        ag_agent_free(st->agents[i]);
    free(st->agents);
    st->agents = NULL;
    st->n_agents = st->cap_agents = 0;
    free(st->list_body);
    st->list_body = NULL;
}

int ag_cache_load(ag_state *st) {
    json_t *rows = st->db->query(
        st->self,
        "SELECT id, character, status, enabled, created_at, updated_at FROM @agents ORDER BY "
        "created_at",
        NULL);
    if (!rows)
        return EZ_EIO;
    size_t i;
    json_t *row;
    int rc = EZ_OK;
    json_array_foreach(rows, i, row) {
        const char *id = ag_col_str(row, "id");
        json_t *c = ag_col_json(row, "character", NULL);
        if (!id || strlen(id) != 36 || !json_is_object(c)) {
            st->api->log(st->self, EZ_WARN, "skipping unreadable agent row %s", id ? id : "?");
            json_decref(c);
            continue;
        }
        ag_agent *a = calloc(1, sizeof *a);
        if (!a) {
            json_decref(c);
            rc = EZ_ENOMEM;
            break;
        }
        memcpy(a->id, id, 37);
        a->character = c;
        const char *status = ag_col_str(row, "status");
        a->active = status && strcmp(status, "active") == 0;
        a->enabled = ag_col_i64(row, "enabled") != 0;
        a->created_at = ag_col_i64(row, "created_at");
        a->updated_at = ag_col_i64(row, "updated_at");
        if ((rc = ag_cache_add(st, a)) != EZ_OK)
            break;
    }
    json_decref(rows);
    return rc;
}

int ag_persist(ag_state *st, const ag_agent *a, int insert) {
    char *text = json_dumps(a->character, JSON_COMPACT);
    if (!text)
        return EZ_ENOMEM;
    json_t *p;
    int64_t rc;
    if (insert) {
        p = json_pack("[ssssbII]", a->id, ag_character_name(a->character), text,
                      a->active ? "active" : "inactive", a->enabled, (json_int_t)a->created_at,
                      (json_int_t)a->updated_at);
        rc = st->db->exec(st->self,
                          "INSERT INTO @agents (id, name, character, status, enabled, "
                          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          p);
    } else {
        p = json_pack("[sssbIs]", ag_character_name(a->character), text,
                      a->active ? "active" : "inactive", a->enabled, (json_int_t)a->updated_at,
                      a->id);
        rc = st->db->exec(st->self,
                          "UPDATE @agents SET name = ?, character = ?, status = ?, enabled = ?, "
                          "updated_at = ? WHERE id = ?",
                          p);
    }
    json_decref(p);
    free(text);
    return rc < 0 ? (int)rc : EZ_OK;
}

/* Character keys in the order the real server returns them; unknown extras follow. */
static const char *const ag_char_order[] = {
    "name",         "username", "system",     "bio",       "templates", "messageExamples",
    "postExamples", "topics",   "adjectives", "knowledge", "plugins",   "settings",
    "secrets",      "style",    NULL};

json_t *ag_agent_json(const ag_agent *a) {
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "id", json_string(a->id));
    json_object_set_new_nocheck(o, "enabled", json_boolean(a->enabled));
    json_object_set_new_nocheck(o, "server_id", json_null());
    json_object_set_new_nocheck(o, "createdAt", json_integer(a->created_at));
    json_object_set_new_nocheck(o, "updatedAt", json_integer(a->updated_at));
    for (const char *const *k = ag_char_order; *k; k++) {
        json_t *v = json_object_get(a->character, *k);
        if (!v)
            continue;
        if (strcmp(*k, "system") == 0 && json_is_string(v) && json_string_length(v) == 0)
            continue;
        json_object_set(o, *k, v);
    }
    const char *k;
    json_t *v;
    json_object_foreach(a->character, k, v) {
        if (!json_object_get(o, k))
            json_object_set(o, k, v);
    }
    json_object_set_new_nocheck(o, "status", json_string(a->active ? "active" : "inactive"));
    return o;
}

const char *ag_detail_body(ag_state *st, ag_agent *a, size_t *len) {
    if (!a->detail) {
        json_t *body = json_object();
        json_object_set_new_nocheck(body, "success", json_true());
        json_object_set_new_nocheck(body, "data", ag_agent_json(a));
        a->detail = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        a->detail_len = a->detail ? strlen(a->detail) : 0;
    }
    *len = a->detail_len;
    return a->detail;
}

/* Node's localeCompare for the names people give agents: case-insensitive first, then
 * lower case before upper case. */
static int ag_name_cmp(const char *x, const char *y) {
    int c = strcasecmp(x, y);
    if (c)
        return c;
    return -strcmp(x, y);
}

static int ag_list_cmp(const void *pa, const void *pb) {
    const ag_agent *a = *(ag_agent *const *)pa, *b = *(ag_agent *const *)pb;
    if (a->active != b->active)
        return a->active ? -1 : 1;
    return ag_name_cmp(ag_character_name(a->character), ag_character_name(b->character));
}

const char *ag_list_body(ag_state *st, size_t *len) {
    if (!st->list_body) {
        ag_agent **sorted = malloc((st->n_agents ? st->n_agents : 1) * sizeof *sorted);
        if (!sorted)
            return NULL;
        if (st->n_agents) { /* st->agents is NULL while empty: memcpy/qsort forbid that */
            memcpy(sorted, st->agents, st->n_agents * sizeof *sorted);
            qsort(sorted, st->n_agents, sizeof *sorted, ag_list_cmp);
        }
        ag_buf b = {0};
        ag_buf_puts(&b, "{\"success\":true,\"data\":{\"agents\":[");
        for (size_t i = 0; i < st->n_agents; i++) {
            const ag_agent *a = sorted[i];
            const char *name = ag_character_name(a->character);
            ag_buf_puts(&b, i ? ",{\"id\":\"" : "{\"id\":\"");
            ag_buf_puts(&b, a->id);
            ag_buf_puts(&b, "\",\"name\":");
            ag_buf_put_jstr(&b, name);
            ag_buf_puts(&b, ",\"characterName\":");
            ag_buf_put_jstr(&b, name);
            ag_buf_puts(&b, ",\"bio\":");
            const char *bio = ag_character_list_bio(a->character);
            ag_buf_put_jstr(&b, bio ? bio : "");
            ag_buf_puts(&b, a->active ? ",\"status\":\"active\"}" : ",\"status\":\"inactive\"}");
        }
        ag_buf_puts(&b, "]}}");
        free(sorted);
        if (b.oom) {
            ag_buf_free(&b);
            return NULL;
        }
        st->list_body = b.p;
        st->list_len = b.len;
    }
    *len = st->list_len;
    return st->list_body;
}

void ag_publish(ag_state *st, const char *topic, const ag_agent *a) {
    st->api->publish_new(
        st->self, topic,
        json_pack("{ssss}", "agentId", a->id, "name", ag_character_name(a->character)));
}

int ag_agent_start(ag_state *st, ag_agent *a, int publish_always) {
    if (a->active && !publish_always)
        return EZ_OK;
    if (!a->active) {
        a->active = 1;
        a->updated_at = st->api->now_ms();
        int rc = ag_persist(st, a, 0);
        if (rc != EZ_OK) {
            a->active = 0;
            return rc;
        }
    }
    a->start_seq = ++st->start_counter;
    ag_cache_touch(st, a);
    /* the agent's own SELF room, as the elizaOS runtime creates it at initialisation */
    json_t *self_room = json_pack(
        "{ss ss ss ss ss ss ss}", "id", a->id, "name", ag_character_name(a->character), "channelId",
        a->id, "messageServerId", a->id, "worldId", a->id, "type", "SELF", "source", "elizaos");
    ag_room_ensure(st, a->id, self_room);
    json_decref(self_room);
    ag_publish(st, "agents.agent.started", a);
    return EZ_OK;
}

int ag_agent_stop(ag_state *st, ag_agent *a) {
    if (!a->active)
        return EZ_ENOENT;
    a->active = 0;
    a->updated_at = st->api->now_ms();
    int rc = ag_persist(st, a, 0);
    if (rc != EZ_OK) {
        a->active = 1;
        return rc;
    }
    ag_cache_touch(st, a);
    ag_publish(st, "agents.agent.stopped", a);
    return EZ_OK;
}

int ag_agent_delete(ag_state *st, ag_agent *a) {
    static const char *const sql[] = {"DELETE FROM @memories WHERE agent_id = ?",
                                      "DELETE FROM @rooms WHERE agent_id = ?",
                                      "DELETE FROM @worlds WHERE agent_id = ?",
                                      "DELETE FROM @runs WHERE agent_id = ?",
                                      "DELETE FROM @logs WHERE agent_id = ?",
                                      "DELETE FROM @agents WHERE id = ?",
                                      NULL};
    int owned = ag_tx_begin(st);
    if (owned < 0)
        return owned;
    json_t *p = json_pack("[s]", a->id);
    int ok = 1;
    for (const char *const *q = sql; *q && ok; q++)
        ok = st->db->exec(st->self, *q, p) >= 0;
    json_decref(p);
    ag_tx_end(st, owned, ok);
    if (!ok)
        return EZ_EIO;
    if (a->active)
        ag_publish(st, "agents.agent.stopped", a);
    ag_publish(st, "agents.agent.deleted", a);
    /* panels registered for this agent go with it */
    size_t i = 0;
    while (i < json_array_size(st->panels)) {
        const char *pid =
            json_string_value(json_object_get(json_array_get(st->panels, i), "agentId"));
        if (pid && strcasecmp(pid, a->id) == 0)
            json_array_remove(st->panels, i);
        else
            i++;
    }
    ag_cache_remove(st, a);
    return EZ_OK;
}

ag_agent *ag_route_agent(const ag_route *r, ez_req *req) {
    ag_state *st = r->st;
    ag_agent *a = ag_find(st, st->api->param(req, "agentId"));
    if (!a || (r->need_running && !a->active)) {
        ag_err(st, req, 404, "NOT_FOUND", "Agent not found", NULL);
        return NULL;
    }
    return a;
}
