/* The conversation's middle step: the user's words go to the agent's model provider
 * ("model.v1:<name>", chosen as the runtime chooses), the exchange is stored as the agent's
 * memories (best effort: a failed write is logged, the answer still comes), and the reply goes
 * on to speech synthesis. */
#include "audio_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

/* ---- the thinking list ---- */

static void link_job(au_state *st, au_job *j) {
    j->prev = NULL;
    j->next = st->thinking;
    if (st->thinking)
        st->thinking->prev = j;
    st->thinking = j;
}

static void unlink_job(au_state *st, au_job *j) {
    if (j->prev)
        j->prev->next = j->next;
    else if (st->thinking == j)
        st->thinking = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* ---- the provider ---- */

static const ez_model_v1 *import_provider(au_state *st, const char *name) {
    char key[AU_NAME + 16];
    snprintf(key, sizeof key, EZ_MODEL_V1_PREFIX "%s", name);
    const ez_model_v1 *m = st->api->import_api(st->self, key);
    /* a 1.0 provider's table ends after cancel; flags is read through EZ_MODEL_HAS */
    if (!m || m->size < offsetof(ez_model_v1, flags) || !m->generate || !m->cancel)
        return NULL;
    return m;
}

/* settings.model_provider, else the first loaded provider named in plugins
 * ("@elizaos/plugin-openai" -> "openai"), else default_provider: the runtime's rule. */
static const ez_model_v1 *provider_for(au_state *st, const json_t *agent, char name[AU_NAME]) {
    const char *explicit_name = str(json_object_get(agent, "settings"), "model_provider");
    if (explicit_name && *explicit_name) {
        snprintf(name, AU_NAME, "%s", explicit_name);
        return import_provider(st, name);
    }
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(agent, "plugins"), i, p) {
        const char *pkg = json_string_value(p);
        if (!pkg)
            continue;
        const char *slash = strrchr(pkg, '/');
        const char *base = slash ? slash + 1 : pkg;
        if (strncmp(base, "plugin-", 7) == 0)
            base += 7;
        snprintf(name, AU_NAME, "%s", base);
        const ez_model_v1 *m = *name ? import_provider(st, name) : NULL;
        if (m)
            return m;
    }
    snprintf(name, AU_NAME, "%s", st->default_provider);
    return import_provider(st, name);
}

/* ---- memories ---- */

static void remember(au_job *j, const char *entity, const char *text, const char *in_reply_to,
                     char id_out[AU_ID]) {
    au_state *st = j->st;
    json_t *content = json_pack("{s:s, s:s}", "text", text, "source", "audio");
    json_t *meta = json_object();
    if (in_reply_to)
        json_object_set_new(content, "inReplyTo", json_string(in_reply_to));
    if (strcmp(entity, j->agent_id) != 0 && j->user_name)
        json_object_set_new(meta, "entityName", json_string(j->user_name));
    json_t *m =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "type", "messages", "roomId", j->room_id,
                  "entityId", entity, "worldId", j->world_id, "content", content, "metadata", meta);
    int rc = m ? st->agents->memory_add(st->agents->self, j->agent_id, m, id_out) : EZ_ENOMEM;
    json_decref(m);
    if (rc != EZ_OK) {
        id_out[0] = 0;
        EZ_LOG(st->api, st->self, EZ_WARN, "agent %s: conversation memory not stored (%d)",
               j->agent_id, rc);
    }
}

static void ensure_room(au_job *j) {
    au_state *st = j->st;
    json_t *world = json_pack("{s:s, s:s}", "id", j->world_id, "name", "Audio conversations");
    json_t *room =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", j->room_id, "name", "Audio conversation",
                  "worldId", j->world_id, "type", "DM", "source", "audio");
    int rc = world ? st->agents->world_ensure(st->agents->self, j->agent_id, world) : EZ_ENOMEM;
    if (rc == EZ_OK)
        rc = room ? st->agents->room_ensure(st->agents->self, j->agent_id, room) : EZ_ENOMEM;
    json_decref(world);
    json_decref(room);
    if (rc != EZ_OK)
        EZ_LOG(st->api, st->self, EZ_WARN, "agent %s: conversation room not stored (%d)",
               j->agent_id, rc);
}

/* ---- the prompt ---- */

static json_t *prompt(au_job *j) {
    au_state *st = j->st;
    const char *name = str(j->agent, "name");
    const char *sys = str(j->agent, "system");
    char *head = NULL;
    if (!sys || !*sys) {
        size_t n = strlen(name ? name : "the agent") + 16;
        head = malloc(n);
        if (head)
            snprintf(head, n, "You are %s.", name ? name : "the agent");
        sys = head ? head : "";
    }
    json_t *msgs = json_array();
    /* the reply is heard, not read: keep it short and plain */
    json_array_append_new(
        msgs, json_pack("{s:s, s:s+}", "role", "system", "content", sys,
                        "\nYour reply will be spoken aloud: answer in a few short sentences of "
                        "plain text."));
    free(head);
    int last_only = EZ_MODEL_HAS(j->model, flags) && (j->model->flags & EZ_MODEL_LAST_MESSAGE_ONLY);
    if (!last_only && st->history_limit > 0) {
        /* newest first, the message being answered among them: find the oldest one within
         * the limit, then walk back to the newest */
        json_t *hist = st->agents->memories_recent(st->agents->self, j->agent_id, j->room_id,
                                                   "messages", st->history_limit + 1);
        size_t n = json_array_size(hist), first = 0;
        int taken = 0;
        for (size_t k = 0; k < n && taken < st->history_limit; k++) {
            const char *id = str(json_array_get(hist, k), "id");
            if (id && strcmp(id, j->user_mem_id) == 0)
                continue;
            taken++;
            first = k + 1;
        }
        for (size_t k = first; k-- > 0;) {
            const json_t *m = json_array_get(hist, k);
            const char *id = str(m, "id");
            const char *t = str(json_object_get(m, "content"), "text");
            if (!t || !*t || (id && strcmp(id, j->user_mem_id) == 0))
                continue;
            const char *ent = str(m, "entityId");
            int mine = ent && strcmp(ent, j->agent_id) == 0;
            json_array_append_new(
                msgs, json_pack("{s:s, s:s}", "role", mine ? "assistant" : "user", "content", t));
        }
        json_decref(hist);
    }
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", j->text));
    return msgs;
}

static json_t *model_request(au_job *j) {
    const json_t *settings = json_object_get(j->agent, "settings");
    const char *name = str(j->agent, "name");
    /* the provider reads the agent's settings (keys, model names) from the request */
    json_t *copy = json_is_object(settings) ? json_incref((json_t *)settings) : json_object();
    json_t *req = json_pack("{s:s, s:s, s:o, s:o, s:b, s:s}", "agentId", j->agent_id, "roomId",
                            j->room_id, "messages", prompt(j), "settings", copy, "stream", 0,
                            "agentName", name ? name : "Agent");
    const json_t *bio = json_object_get(j->agent, "bio");
    const char *line =
        json_is_string(bio) ? json_string_value(bio) : json_string_value(json_array_get(bio, 0));
    if (req && line && *line)
        json_object_set_new(req, "bio", json_stringn(line, strcspn(line, "\n")));
    return req;
}

/* ---- the answer ---- */

/* The reply, trimmed and cut at a word boundary to max_text bytes (new), or NULL if blank. */
static char *speakable(au_state *st, const char *text) {
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    if (n > st->max_text) {
        n = st->max_text;
        while (n > 0 && !isspace((unsigned char)text[n]))
            n--; /* never split a word (nor a UTF-8 sequence) */
        if (n == 0)
            n = st->max_text;
    }
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, text, n);
        out[n] = 0;
    }
    return out;
}

static void finish(au_job *j, const char *error, const json_t *result) {
    au_state *st = j->st;
    unlink_job(st, j);
    j->call = NULL;
    if (j->timer) {
        st->api->timer_cancel(j->timer);
        j->timer = NULL;
    }
    if (st->stopping) {
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
        return;
    }
    const char *text = str(result, "text");
    char *reply = !error && text ? speakable(st, text) : NULL;
    if (!reply) {
        char why[AU_WHY];
        if (j->timed_out)
            snprintf(why, sizeof why, "the model did not answer within %lld ms",
                     (long long)st->reply_timeout_ms);
        else
            snprintf(why, sizeof why, "%s", error ? error : "the model returned an empty reply");
        au_job_fail(j, 500, "MODEL_ERROR", "No response from model", why);
        return;
    }
    char id[AU_ID];
    remember(j, j->agent_id, reply, j->user_mem_id[0] ? j->user_mem_id : NULL, id);
    free(j->text);
    j->text = reply;
    au_job_speak(j);
}

static void on_done(const char *error, const json_t *result, void *ud) {
    au_job *j = ud;
    if (j->in_generate) { /* replayed once generate() returned, so the job is set up */
        j->early = 1;
        j->early_error = error ? strdup(error) : NULL;
        if (error && !j->early_error)
            j->early_error = strdup("out of memory");
        j->early_result = result ? json_deep_copy(result) : NULL;
        return;
    }
    finish(j, error, result);
}

static void on_timeout(void *ud) {
    au_job *j = ud;
    j->timer = NULL;
    if (!j->call)
        return;
    j->timed_out = 1;
    j->model->cancel(j->model->provider, j->call); /* on_done follows, now or later */
}

void au_conv_think(au_job *j) {
    au_state *st = j->st;
    if (st->stopping) {
        au_job_fail(j, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
        return;
    }
    /* the agent may have stopped while its audio was being transcribed */
    j->agent = st->agents->is_active(st->agents->self, j->agent_id)
                   ? st->agents->get(st->agents->self, j->agent_id)
                   : NULL;
    if (!j->agent) {
        au_job_fail(j, 404, "NOT_FOUND", "Agent not found", NULL);
        return;
    }
    char name[AU_NAME];
    j->model = provider_for(st, j->agent, name);
    if (!j->model) {
        char why[AU_WHY];
        snprintf(why, sizeof why, "the model provider \"%s\" is not loaded", name);
        au_job_fail(j, 500, "MODEL_ERROR", "No response from model", why);
        return;
    }
    ensure_room(j);
    remember(j, j->entity_id, j->text, NULL, j->user_mem_id);
    json_t *req = model_request(j);
    link_job(st, j);
    j->in_generate = 1;
    j->call = req ? j->model->generate(j->model->provider, req, NULL, on_done, j) : NULL;
    j->in_generate = 0;
    json_decref(req);
    if (j->early) {
        char *e = j->early_error;
        json_t *r = j->early_result;
        j->early_error = NULL;
        j->early_result = NULL;
        finish(j, e, r);
        free(e);
        json_decref(r);
        return;
    }
    if (!j->call) {
        unlink_job(st, j);
        au_job_fail(j, 500, "MODEL_ERROR", "No response from model",
                    "the model provider refused the request");
        return;
    }
    if (st->reply_timeout_ms > 0)
        j->timer = st->api->timer_start(st->self, st->reply_timeout_ms, 0, on_timeout, j);
}

void au_conv_stop(au_state *st) {
    /* each cancellation answers its job (finish unlinks it); a provider that answers later
     * leaves the job listed, and destroy drops it */
    au_job *j = st->thinking;
    while (j) {
        au_job *next = j->next;
        if (j->call)
            j->model->cancel(j->model->provider, j->call);
        j = next;
    }
}
