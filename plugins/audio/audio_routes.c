/* The routes: the real server's paths and the seed list's names for the same operations
 * (COMPAT §2), all Style A, all for a started agent. Handlers validate, then hand a job to the
 * engines or the model and answer later (EZ_ASYNC). */
#include "audio_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AU_BASE "/api/audio/:agentId(uuid)"
#define AU_MAX_ID_TEXT 256 /* roomId, entityId, userName...: anything longer is refused */

static const struct {
    const char *pattern;
    au_kind kind;
} route_table[AU_NROUTES] = {
    {AU_BASE "/transcriptions", AU_TRANSCRIBE},
    {AU_BASE "/transcribe", AU_TRANSCRIBE}, /* seed name */
    {AU_BASE "/audio-messages", AU_AUDIO_MESSAGE},
    {AU_BASE "/message", AU_AUDIO_MESSAGE}, /* seed name */
    {AU_BASE "/audio-messages/synthesize", AU_SPEAK},
    {AU_BASE "/synthesize", AU_SPEAK}, /* seed name */
    {AU_BASE "/speech/generate", AU_SPEAK},
    {AU_BASE "/speech", AU_SPEAK}, /* seed name (api-client processSpeech) */
    {AU_BASE "/speech/conversation", AU_CONVERSATION},
    {AU_BASE "/conversation", AU_CONVERSATION}, /* seed name */
};

static int err(au_state *st, ez_req *req, int status, const char *code, const char *msg,
               const char *details) {
    if (status == 503)
        st->api->set_header(req, "Retry-After", "5");
    st->api->respond_error(req, status, EZ_ERR_STANDARD, code, msg, details);
    return EZ_DONE;
}

/* The trimmed text field (new), NULL when absent, not a string or blank. */
static char *text_field(const json_t *fields) {
    const char *s = json_string_value(json_object_get(fields, "text"));
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = 0;
    }
    return out;
}

static int engine_missing(au_state *st, ez_req *req, const char *what, const char *why) {
    char msg[AU_WHY + 64];
    snprintf(msg, sizeof msg, "Speech %s engine not available", what);
    return err(st, req, 503, "SERVICE_UNAVAILABLE", msg, why);
}

static int too_long(au_state *st, ez_req *req, const char *what) {
    char msg[128];
    snprintf(msg, sizeof msg, "Text is too long for %s (at most %zu bytes)", what, st->max_text);
    return err(st, req, 400, "INVALID_REQUEST", msg, NULL);
}

static int speak(au_state *st, ez_req *req, const char *agent_id, const au_input *in) {
    char *text = text_field(in->fields);
    if (!text)
        return err(st, req, 400, "INVALID_REQUEST", "Text is required for speech synthesis", NULL);
    if (strlen(text) > st->max_text) {
        free(text);
        return too_long(st, req, "speech synthesis");
    }
    if (!st->tts) {
        free(text);
        return engine_missing(st, req, "synthesis", st->tts_why);
    }
    au_job *j = au_job_new(st, req, AU_SPEAK, agent_id);
    if (!j) {
        free(text);
        return err(st, req, 500, "INTERNAL_ERROR", "Out of memory", NULL);
    }
    j->text = text;
    au_job_speak(j);
    return EZ_ASYNC;
}

static int transcribe(au_state *st, ez_req *req, au_kind kind, const char *agent_id,
                      const au_input *in) {
    if (!in->file)
        return err(st, req, 400, "INVALID_REQUEST", "No audio file provided", NULL);
    if (in->nfiles > 1)
        return err(st, req, 400, "INVALID_REQUEST", "Only one audio file may be uploaded", NULL);
    if (!st->stt)
        return engine_missing(st, req, "recognition", st->stt_why);
    au_job *j = au_job_new(st, req, kind, agent_id);
    if (!j)
        return err(st, req, 500, "INTERNAL_ERROR", "Out of memory", NULL);
    if (au_input_take_audio(j, in) == 0)
        au_job_recognize(j);
    return EZ_ASYNC;
}

/* An optional string field for the conversation: 1 ok (absent included), 0 answered. */
static int opt_str(au_state *st, ez_req *req, const json_t *fields, const char *key,
                   const char **out) {
    const json_t *v = json_object_get(fields, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 1;
    char msg[96];
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > AU_MAX_ID_TEXT) {
        snprintf(msg, sizeof msg, "%s must be a non-empty string of at most %d bytes", key,
                 AU_MAX_ID_TEXT);
        err(st, req, 400, "INVALID_REQUEST", msg, NULL);
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

/* createUniqueUuid(agent, base) as elizaOS derives it (COMPAT §1.6). */
static void unique_uuid(au_state *st, const char *agent_id, const char *base, char out[AU_ID]) {
    if (strcmp(base, agent_id) == 0) {
        snprintf(out, AU_ID, "%s", agent_id);
        return;
    }
    char buf[AU_MAX_ID_TEXT + 64];
    snprintf(buf, sizeof buf, "%s:%s", base, agent_id);
    st->api->uuid_from_string(buf, out);
}

/* Conversation ids as upstream: room createUniqueUuid(agent, roomId ?? "default-room-<agent>"),
 * entity createUniqueUuid(agent, entityId ?? "Anon"), world worldId ?? createUniqueUuid(agent,
 * "direct"). 0, or -1 after answering. */
static int conv_ids(au_state *st, ez_req *req, const json_t *fields, au_job *j) {
    const char *room, *entity, *world, *user, *name;
    if (!opt_str(st, req, fields, "roomId", &room) ||
        !opt_str(st, req, fields, "entityId", &entity) ||
        !opt_str(st, req, fields, "worldId", &world) ||
        !opt_str(st, req, fields, "userName", &user) || !opt_str(st, req, fields, "name", &name))
        return -1;
    if (world && !st->api->uuid_valid(world)) {
        err(st, req, 400, "INVALID_ID", "Invalid world ID format", NULL);
        return -1;
    }
    char dflt_room[AU_ID + 16];
    snprintf(dflt_room, sizeof dflt_room, "default-room-%s", j->agent_id);
    unique_uuid(st, j->agent_id, room ? room : dflt_room, j->room_id);
    unique_uuid(st, j->agent_id, entity ? entity : "Anon", j->entity_id);
    if (world)
        snprintf(j->world_id, sizeof j->world_id, "%s", world);
    else
        unique_uuid(st, j->agent_id, "direct", j->world_id);
    const char *who = user ? user : name;
    if (who && !(j->user_name = strdup(who))) {
        err(st, req, 500, "INTERNAL_ERROR", "Out of memory", NULL);
        return -1;
    }
    return 0;
}

static int converse(au_state *st, ez_req *req, const char *agent_id, const au_input *in) {
    char *text = text_field(in->fields);
    if (!text && !in->file)
        return err(st, req, 400, "INVALID_REQUEST", "Text is required for conversation", NULL);
    if (text && strlen(text) > st->max_text) {
        free(text);
        return too_long(st, req, "conversation");
    }
    if (!st->tts || (!text && !st->stt)) {
        free(text);
        return st->tts ? engine_missing(st, req, "recognition", st->stt_why)
                       : engine_missing(st, req, "synthesis", st->tts_why);
    }
    au_job *j = au_job_new(st, req, AU_CONVERSATION, agent_id);
    if (!j) {
        free(text);
        return err(st, req, 500, "INTERNAL_ERROR", "Out of memory", NULL);
    }
    j->text = text;
    if (conv_ids(st, req, in->fields, j) != 0) {
        au_job_free(j);
        return EZ_DONE;
    }
    if (text)
        au_conv_think(j);
    else if (in->nfiles > 1)
        au_job_fail(j, 400, "INVALID_REQUEST", "Only one audio file may be uploaded", NULL);
    else if (au_input_take_audio(j, in) == 0)
        au_job_recognize(j); /* the reply follows the transcript */
    return EZ_ASYNC;
}

static int handle(ez_req *req, void *ud) {
    const au_route *r = ud;
    au_state *st = r->st;
    const char *agent_id = st->api->param(req, "agentId");
    if (st->stopping)
        return err(st, req, 503, "SERVICE_UNAVAILABLE", "The server is stopping", NULL);
    if (!agent_id || !st->agents->is_active(st->agents->self, agent_id))
        return err(st, req, 404, "NOT_FOUND", "Agent not found", NULL);
    au_input in;
    if (au_input_read(st, req, &in) != 0) {
        au_input_clear(&in);
        return EZ_DONE;
    }
    int rc;
    switch (r->kind) {
    case AU_SPEAK:
        rc = speak(st, req, agent_id, &in);
        break;
    case AU_TRANSCRIBE:
    case AU_AUDIO_MESSAGE:
        rc = transcribe(st, req, r->kind, agent_id, &in);
        break;
    case AU_CONVERSATION:
    default:
        rc = converse(st, req, agent_id, &in);
        break;
    }
    au_input_clear(&in);
    return rc;
}

int au_routes_register(au_state *st) {
    ez_route_opts opts = {.err_style = EZ_ERR_STANDARD,
                          .uuid_error = "Invalid agent ID format",
                          .uuid_code = "INVALID_ID",
                          .raw_body = 1}; /* JSON and multipart share these routes */
    for (int i = 0; i < AU_NROUTES; i++) {
        au_route *r = &st->routes[i];
        r->st = st;
        r->kind = route_table[i].kind;
        r->pattern = route_table[i].pattern;
        int rc = st->api->route_ex(st->self, EZ_POST, r->pattern, &opts, handle, r, NULL);
        if (rc != EZ_OK) {
            EZ_LOG(st->api, st->self, EZ_ERR, "cannot register POST %s (%d)", r->pattern, rc);
            return rc;
        }
    }
    return EZ_OK;
}
