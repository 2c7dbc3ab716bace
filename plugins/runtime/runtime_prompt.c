/* The prompt (character + room history + the message) and the choice of model provider. */
#include "runtime_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_SYSTEM_MAX (16u * 1024u)
#define RT_BIO_LINE_MAX 240

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > RT_SYSTEM_MAX)
        n = RT_SYSTEM_MAX > b->len + 1 ? RT_SYSTEM_MAX - b->len - 1 : 0;
    if (n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Appends the strings of a string-or-array field, one per line with a prefix. */
static void add_lines(sbuf *b, const json_t *v, const char *prefix) {
    if (json_is_string(v)) {
        sb_add(b, prefix);
        sb_add(b, json_string_value(v));
        sb_add(b, "\n");
        return;
    }
    size_t i;
    const json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s))
            continue;
        sb_add(b, prefix);
        sb_add(b, json_string_value(s));
        sb_add(b, "\n");
    }
}

static void add_joined(sbuf *b, const json_t *arr) {
    size_t i;
    const json_t *s;
    int first = 1;
    json_array_foreach(arr, i, s) {
        if (!json_is_string(s))
            continue;
        if (!first)
            sb_add(b, ", ");
        sb_add(b, json_string_value(s));
        first = 0;
    }
}

static int nonempty(const json_t *v) {
    return (json_is_string(v) && json_string_length(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static char *system_prompt(const json_t *agent) {
    sbuf b = {0};
    const char *name = rt_str(agent, "name");
    if (!name)
        name = "the agent";
    const char *sys = rt_str(agent, "system");
    if (sys && *sys) {
        sb_add(&b, sys);
    } else {
        sb_add(&b, "You are ");
        sb_add(&b, name);
        sb_add(&b, ".");
    }
    sb_add(&b, "\n");
    const json_t *bio = json_object_get(agent, "bio");
    if (nonempty(bio)) {
        sb_add(&b, "\n# About ");
        sb_add(&b, name);
        sb_add(&b, "\n");
        add_lines(&b, bio, "");
    }
    const json_t *adj = json_object_get(agent, "adjectives");
    if (nonempty(adj)) {
        sb_add(&b, "\n");
        sb_add(&b, name);
        sb_add(&b, " is ");
        add_joined(&b, adj);
        sb_add(&b, ".\n");
    }
    const json_t *topics = json_object_get(agent, "topics");
    if (nonempty(topics)) {
        sb_add(&b, "\n");
        sb_add(&b, name);
        sb_add(&b, " knows about ");
        add_joined(&b, topics);
        sb_add(&b, ".\n");
    }
    const json_t *style = json_object_get(agent, "style");
    if (nonempty(json_object_get(style, "all")) || nonempty(json_object_get(style, "chat"))) {
        sb_add(&b, "\n# Style\n");
        add_lines(&b, json_object_get(style, "all"), "- ");
        add_lines(&b, json_object_get(style, "chat"), "- ");
    }
    const json_t *ex = json_object_get(agent, "messageExamples");
    if (json_is_array(ex) && json_array_size(ex) > 0) {
        sb_add(&b, "\n# Example conversations\n");
        size_t i, j;
        const json_t *conv, *turn;
        json_array_foreach(ex, i, conv) {
            json_array_foreach(conv, j, turn) {
                const char *who = rt_str(turn, "name");
                const char *text = rt_str(json_object_get(turn, "content"), "text");
                if (!text)
                    continue;
                sb_add(&b, who ? who : "user");
                sb_add(&b, ": ");
                sb_add(&b, text);
                sb_add(&b, "\n");
            }
            sb_add(&b, "\n");
        }
    }
    while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == ' '))
        b.p[--b.len] = 0;
    return b.p;
}

/* OpenAI accepts a speaker name of [A-Za-z0-9_-]{1,64}. */
static json_t *speaker_name(const char *name) {
    char out[65];
    size_t n = 0;
    for (const char *p = name; *p && n < 64; p++)
        out[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
    out[n] = 0;
    return n ? json_string(out) : NULL;
}

json_t *rt_prompt_build(rt_state *st, const json_t *agent, const json_t *history,
                        const char *skip_memory_id, const char *text, const char *sender_name,
                        int group, const char **system_out) {
    json_t *msgs = json_array();
    char *sys = system_prompt(agent);
    json_array_append_new(msgs,
                          json_pack("{s:s, s:s}", "role", "system", "content", sys ? sys : ""));
    free(sys);
    const char *agent_id = rt_str(agent, "id");
    size_t n = json_array_size(history);
    /* history is newest first: find the oldest entry within the limit, then walk back */
    size_t first = 0, taken = 0;
    for (size_t k = 0; k < n && taken < (size_t)st->history_limit; k++) {
        const json_t *m = json_array_get(history, k);
        const char *id = rt_str(m, "id");
        if (id && skip_memory_id && strcmp(id, skip_memory_id) == 0)
            continue;
        taken++;
        first = k + 1;
    }
    for (size_t k = first; k-- > 0;) {
        const json_t *m = json_array_get(history, k);
        const char *id = rt_str(m, "id");
        if (id && skip_memory_id && strcmp(id, skip_memory_id) == 0)
            continue;
        const char *t = rt_str(json_object_get(m, "content"), "text");
        if (!t || !*t)
            continue;
        const char *ent = rt_str(m, "entityId");
        int mine = ent && agent_id && strcmp(ent, agent_id) == 0;
        json_t *o = json_pack("{s:s, s:s}", "role", mine ? "assistant" : "user", "content", t);
        const char *who = rt_str(json_object_get(m, "metadata"), "entityName");
        if (group && !mine && who)
            json_object_set_new_nocheck(o, "name", speaker_name(who));
        json_array_append_new(msgs, o);
    }
    json_t *cur = json_pack("{s:s, s:s}", "role", "user", "content", text ? text : "");
    if (group && sender_name) {
        json_t *nm = speaker_name(sender_name);
        if (nm)
            json_object_set_new_nocheck(cur, "name", nm);
    }
    json_array_append_new(msgs, cur);
    if (system_out)
        *system_out = rt_str(json_array_get(msgs, 0), "content");
    return msgs;
}

char *rt_bio_line(const json_t *agent) {
    const json_t *bio = json_object_get(agent, "bio");
    const char *s =
        json_is_string(bio) ? json_string_value(bio) : json_string_value(json_array_get(bio, 0));
    if (!s || !*s)
        return NULL;
    size_t n = strcspn(s, "\n");
    if (n > RT_BIO_LINE_MAX)
        n = RT_BIO_LINE_MAX;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

static const ez_model_v1 *import_provider(rt_state *st, const char *name) {
    char key[RT_NAME + 16];
    snprintf(key, sizeof key, EZ_MODEL_V1_PREFIX "%s", name);
    const ez_model_v1 *m = st->api->import_api(st->self, key);
    /* a 1.0 provider's table ends after cancel; later members are read through EZ_MODEL_HAS */
    if (!m || m->size < offsetof(ez_model_v1, flags) || !m->generate || !m->cancel)
        return NULL;
    return m;
}

/* "@elizaos/plugin-openai" -> "openai"; "plugin-foo" -> "foo"; "bar" -> "bar". */
static void plugin_provider_name(const char *pkg, char out[RT_NAME]) {
    const char *slash = strrchr(pkg, '/');
    const char *p = slash ? slash + 1 : pkg;
    if (strncmp(p, "plugin-", 7) == 0)
        p += 7;
    snprintf(out, RT_NAME, "%s", p);
    rt_utf8_trim(out);
}

const ez_model_v1 *rt_provider_for(rt_state *st, const json_t *agent, char name_out[RT_NAME],
                                   char *why, size_t whylen) {
    const json_t *settings = json_object_get(agent, "settings");
    const char *explicit_name = rt_str(settings, "model_provider");
    if (explicit_name && *explicit_name) {
        snprintf(name_out, RT_NAME, "%s", explicit_name);
        rt_utf8_trim(name_out); /* it is quoted in the error the user sees */
        const ez_model_v1 *m = import_provider(st, name_out);
        if (!m)
            snprintf(why, whylen, "the model provider \"%s\" is not loaded", name_out);
        return m;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(agent, "plugins"), i, p) {
        if (!json_is_string(p))
            continue;
        char name[RT_NAME];
        plugin_provider_name(json_string_value(p), name);
        const ez_model_v1 *m = name[0] ? import_provider(st, name) : NULL;
        if (m) {
            snprintf(name_out, RT_NAME, "%s", name);
            return m;
        }
    }
    snprintf(name_out, RT_NAME, "%s", st->default_provider);
    rt_utf8_trim(name_out);
    const ez_model_v1 *m = import_provider(st, name_out);
    if (!m)
        snprintf(why, whylen, "the model provider \"%s\" is not loaded", name_out);
    return m;
}
