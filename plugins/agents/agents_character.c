/* The character schema of @elizaos/core 1.7 (a strict zod object), re-done in C so errors read
 * exactly like the real server's: "Character validation failed: <path>: <zod message>; ...".
 * The root object is strict (unknown keys refused); nested objects strip unknown keys as zod's
 * default does, except message content, which keeps them (zod catchall). */
#include "agents_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

typedef struct vctx {
    ag_buf msg;
    int n;
    char path[512];
    size_t plen;
} vctx;

static void v_issue(vctx *v, const char *fmt, ...) EZ_PRINTF(2, 3);
static void v_issue(vctx *v, const char *fmt, ...) {
    v->n++;
    if (v->n > AG_MAX_ISSUES)
        return;
    if (v->n > 1)
        ag_buf_puts(&v->msg, "; ");
    ag_buf_put(&v->msg, v->path, v->plen);
    ag_buf_puts(&v->msg, ": ");
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    ag_buf_puts(&v->msg, tmp);
}

static size_t v_push_key(vctx *v, const char *key) {
    size_t saved = v->plen;
    int n = snprintf(v->path + v->plen, sizeof v->path - v->plen, "%s%s", v->plen ? "." : "", key);
    if (n > 0 && (size_t)n < sizeof v->path - v->plen)
        v->plen += (size_t)n;
    return saved;
}

static size_t v_push_idx(vctx *v, size_t i) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%zu", i);
    return v_push_key(v, tmp);
}

static void v_pop(vctx *v, size_t saved) {
    v->plen = saved;
    v->path[saved] = '\0';
}

static void v_type(vctx *v, const char *expected, const json_t *got) {
    v_issue(v, "Invalid input: expected %s, received %s", expected, ag_json_type(got));
}

/* Checks `key` of obj as an optional/required string; copies it into out when valid. */
static void v_string(vctx *v, const json_t *obj, const char *key, int required, json_t *out) {
    const json_t *x = json_object_get(obj, key);
    if (!x && !required)
        return;
    size_t s = v_push_key(v, key);
    if (!json_is_string(x))
        v_type(v, "string", x);
    else if (out)
        json_object_set(out, key, (json_t *)x);
    v_pop(v, s);
}

/* An optional string[] member. */
static void v_string_array(vctx *v, const json_t *obj, const char *key, json_t *out) {
    const json_t *x = json_object_get(obj, key);
    if (!x)
        return;
    size_t s = v_push_key(v, key);
    if (!json_is_array(x)) {
        v_type(v, "array", x);
    } else {
        size_t i;
        const json_t *e;
        int ok = 1;
        json_array_foreach(x, i, e) {
            if (!json_is_string(e)) {
                size_t s2 = v_push_idx(v, i);
                v_type(v, "string", e);
                v_pop(v, s2);
                ok = 0;
            }
        }
        if (ok && out)
            json_object_set(out, key, (json_t *)x);
    }
    v_pop(v, s);
}

static int v_is_uuid(const char *s) {
    static const int dash[] = {8, 13, 18, 23};
    if (strlen(s) != 36)
        return 0;
    for (int i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

static void v_enum(vctx *v, const json_t *obj, const char *key, const char *const *values,
                   json_t *out) {
    const json_t *x = json_object_get(obj, key);
    if (!x)
        return;
    size_t s = v_push_key(v, key);
    int ok = 0;
    if (json_is_string(x))
        for (const char *const *p = values; *p; p++)
            if (strcmp(*p, json_string_value(x)) == 0)
                ok = 1;
    if (ok) {
        if (out)
            json_object_set(out, key, (json_t *)x);
    } else {
        char list[256] = "";
        for (const char *const *p = values; *p; p++) {
            strncat(list, p == values ? "\"" : "|\"", sizeof list - strlen(list) - 1);
            strncat(list, *p, sizeof list - strlen(list) - 1);
            strncat(list, "\"", sizeof list - strlen(list) - 1);
        }
        v_issue(v, "Invalid option: expected one of %s", list);
    }
    v_pop(v, s);
}

static const char *const ag_content_types[] = {"image", "video", "audio", "document", "link", NULL};
static const char *const ag_channel_types[] = {"SELF",        "DM",   "GROUP",  "VOICE_DM",
                                               "VOICE_GROUP", "FEED", "THREAD", "WORLD",
                                               "FORUM",       "API",  NULL};

static json_t *v_media(vctx *v, const json_t *m) {
    if (!json_is_object(m)) {
        v_type(v, "object", m);
        return NULL;
    }
    json_t *out = json_object();
    v_string(v, m, "id", 1, out);
    v_string(v, m, "url", 1, out);
    v_string(v, m, "title", 0, out);
    v_string(v, m, "source", 0, out);
    v_string(v, m, "description", 0, out);
    v_string(v, m, "text", 0, out);
    v_enum(v, m, "contentType", ag_content_types, out);
    return out;
}

/* Message content: known keys typed, others kept. */
static json_t *v_content(vctx *v, const json_t *c) {
    if (!json_is_object(c)) {
        v_type(v, "object", c);
        return NULL;
    }
    json_t *out = json_deep_copy(c);
    v_string(v, c, "text", 0, NULL);
    v_string(v, c, "thought", 0, NULL);
    v_string_array(v, c, "actions", NULL);
    v_string_array(v, c, "providers", NULL);
    v_string(v, c, "source", 0, NULL);
    v_string(v, c, "target", 0, NULL);
    v_string(v, c, "url", 0, NULL);
    const json_t *irt = json_object_get(c, "inReplyTo");
    if (irt) {
        size_t s = v_push_key(v, "inReplyTo");
        if (!json_is_string(irt))
            v_type(v, "string", irt);
        else if (!v_is_uuid(json_string_value(irt)))
            v_issue(v, "Invalid UUID format");
        v_pop(v, s);
    }
    const json_t *att = json_object_get(c, "attachments");
    if (att) {
        size_t s = v_push_key(v, "attachments");
        if (!json_is_array(att)) {
            v_type(v, "array", att);
        } else {
            json_t *arr = json_array();
            size_t i;
            const json_t *e;
            json_array_foreach(att, i, e) {
                size_t s2 = v_push_idx(v, i);
                json_t *m = v_media(v, e);
                if (m)
                    json_array_append_new(arr, m);
                v_pop(v, s2);
            }
            json_object_set_new_nocheck(out, "attachments", arr);
        }
        v_pop(v, s);
    }
    v_enum(v, c, "channelType", ag_channel_types, NULL);
    return out;
}

static void v_message_examples(vctx *v, const json_t *x, json_t *out) {
    size_t s = v_push_key(v, "messageExamples");
    if (!json_is_array(x)) {
        v_type(v, "array", x);
        v_pop(v, s);
        return;
    }
    json_t *arr = json_array();
    size_t i, j;
    const json_t *conv, *ex;
    json_array_foreach(x, i, conv) {
        size_t s1 = v_push_idx(v, i);
        if (!json_is_array(conv)) {
            v_type(v, "array", conv);
        } else {
            json_t *c_out = json_array();
            json_array_foreach(conv, j, ex) {
                size_t s2 = v_push_idx(v, j);
                if (!json_is_object(ex)) {
                    v_type(v, "object", ex);
                } else {
                    json_t *e_out = json_object();
                    v_string(v, ex, "name", 1, e_out);
                    const json_t *content = json_object_get(ex, "content");
                    size_t s3 = v_push_key(v, "content");
                    json_t *c = v_content(v, content);
                    if (c)
                        json_object_set_new_nocheck(e_out, "content", c);
                    v_pop(v, s3);
                    json_array_append_new(c_out, e_out);
                }
                v_pop(v, s2);
            }
            json_array_append_new(arr, c_out);
        }
        v_pop(v, s1);
    }
    json_object_set_new_nocheck(out, "messageExamples", arr);
    v_pop(v, s);
}

/* {path|directory: string, shared?: boolean} with unknown keys stripped; NULL when no match. */
static json_t *v_knowledge_obj(const json_t *e, const char *key) {
    const json_t *p = json_object_get(e, key), *sh = json_object_get(e, "shared");
    if (!json_is_string(p) || (sh && !json_is_boolean(sh)))
        return NULL;
    json_t *o = json_object();
    json_object_set(o, key, (json_t *)p);
    if (sh)
        json_object_set_nocheck(o, "shared", (json_t *)sh);
    return o;
}

static void v_knowledge(vctx *v, const json_t *x, json_t *out) {
    size_t s = v_push_key(v, "knowledge");
    if (!json_is_array(x)) {
        v_type(v, "array", x);
        v_pop(v, s);
        return;
    }
    json_t *arr = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(x, i, e) {
        json_t *item = NULL;
        if (json_is_string(e))
            item = json_incref((json_t *)e);
        else if (json_is_object(e) && !(item = v_knowledge_obj(e, "path")))
            item = v_knowledge_obj(e, "directory");
        if (item) {
            json_array_append_new(arr, item);
        } else {
            size_t s2 = v_push_idx(v, i);
            v_issue(v, "Invalid input");
            v_pop(v, s2);
        }
    }
    json_object_set_new_nocheck(out, "knowledge", arr);
    v_pop(v, s);
}

/* record(string, union(...)): ok(value) decides membership. */
static void v_record(vctx *v, const json_t *x, const char *key, int (*ok)(const json_t *),
                     json_t *out) {
    size_t s = v_push_key(v, key);
    if (!json_is_object(x)) {
        v_type(v, "record", x);
    } else {
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)x, k, e) {
            if (!ok(e)) {
                size_t s2 = v_push_key(v, k);
                v_issue(v, "Invalid input");
                v_pop(v, s2);
            }
        }
        json_object_set(out, key, (json_t *)x);
    }
    v_pop(v, s);
}

static int v_ok_template(const json_t *e) {
    return json_is_string(e);
}
static int v_ok_setting(const json_t *e) {
    return json_is_string(e) || json_is_boolean(e) || json_is_number(e) || json_is_object(e) ||
           json_is_array(e);
}
static int v_ok_secret(const json_t *e) {
    return json_is_string(e) || json_is_boolean(e) || json_is_number(e);
}

static void v_style(vctx *v, const json_t *x, json_t *out) {
    size_t s = v_push_key(v, "style");
    if (!json_is_object(x)) {
        v_type(v, "object", x);
    } else {
        json_t *o = json_object();
        v_string_array(v, x, "all", o);
        v_string_array(v, x, "chat", o);
        v_string_array(v, x, "post", o);
        json_object_set_new_nocheck(out, "style", o);
    }
    v_pop(v, s);
}

static const char *const ag_known_keys[] = {
    "id",           "name",   "username",   "system",    "templates", "bio",      "messageExamples",
    "postExamples", "topics", "adjectives", "knowledge", "plugins",   "settings", "secrets",
    "style",        NULL};

static int v_known(const char *k) {
    for (const char *const *p = ag_known_keys; *p; p++)
        if (strcmp(*p, k) == 0)
            return 1;
    return 0;
}

char *ag_character_validate(const json_t *in, json_t **out) {
    vctx v;
    memset(&v, 0, sizeof v);
    *out = NULL;
    json_t *o = json_object();
    if (!json_is_object(in)) {
        v_type(&v, "object", in);
    } else {
        const json_t *id = json_object_get(in, "id");
        if (id) {
            size_t s = v_push_key(&v, "id");
            if (!json_is_string(id))
                v_type(&v, "string", id);
            else if (!v_is_uuid(json_string_value(id)))
                v_issue(&v, "Invalid UUID format");
            else
                json_object_set_nocheck(o, "id", (json_t *)id);
            v_pop(&v, s);
        }
        const json_t *name = json_object_get(in, "name");
        if (json_is_string(name) && json_string_length(name) == 0) {
            size_t s = v_push_key(&v, "name");
            v_issue(&v, "Character name is required");
            v_pop(&v, s);
        } else {
            v_string(&v, in, "name", 1, o);
        }
        v_string(&v, in, "username", 0, o);
        v_string(&v, in, "system", 0, o);
        const json_t *x;
        if ((x = json_object_get(in, "templates")))
            v_record(&v, x, "templates", v_ok_template, o);
        x = json_object_get(in, "bio");
        {
            size_t s = v_push_key(&v, "bio");
            int ok = json_is_string(x);
            if (json_is_array(x)) {
                size_t i;
                const json_t *e;
                ok = 1;
                json_array_foreach(x, i, e) ok = ok && json_is_string(e);
            }
            if (ok)
                json_object_set_nocheck(o, "bio", (json_t *)x);
            else
                v_issue(&v, "Invalid input");
            v_pop(&v, s);
        }
        if ((x = json_object_get(in, "messageExamples")))
            v_message_examples(&v, x, o);
        v_string_array(&v, in, "postExamples", o);
        v_string_array(&v, in, "topics", o);
        v_string_array(&v, in, "adjectives", o);
        if ((x = json_object_get(in, "knowledge")))
            v_knowledge(&v, x, o);
        v_string_array(&v, in, "plugins", o);
        if ((x = json_object_get(in, "settings")))
            v_record(&v, x, "settings", v_ok_setting, o);
        if ((x = json_object_get(in, "secrets")))
            v_record(&v, x, "secrets", v_ok_secret, o);
        if ((x = json_object_get(in, "style")))
            v_style(&v, x, o);

        /* zod reports all unknown keys of one object in a single issue at the object's path */
        ag_buf keys = {0};
        int n_unknown = 0;
        const char *k;
        json_object_foreach((json_t *)in, k, x) {
            if (v_known(k))
                continue;
            if (n_unknown++)
                ag_buf_puts(&keys, ", ");
            ag_buf_put_jstr(&keys, k);
        }
        if (n_unknown)
            v_issue(&v, "Unrecognized key%s: %s", n_unknown > 1 ? "s" : "", keys.p ? keys.p : "");
        ag_buf_free(&keys);
    }
    if (v.n == 0) {
        ag_buf_free(&v.msg);
        /* keep the output's copies independent from the caller's tree */
        *out = json_deep_copy(o);
        json_decref(o);
        return *out ? NULL : strdup("Character validation failed: out of memory");
    }
    json_decref(o);
    ag_buf res = {0};
    ag_buf_puts(&res, "Character validation failed: ");
    ag_buf_put(&res, v.msg.p ? v.msg.p : "", v.msg.len);
    if (v.n > AG_MAX_ISSUES)
        ag_buf_puts(&res, "; ...");
    ag_buf_free(&v.msg);
    return res.p ? res.p : strdup("Character validation failed");
}

void ag_character_fill_defaults(json_t *c) {
    static const char *const arrays[] = {"messageExamples", "postExamples", "topics", "adjectives",
                                         "knowledge",       "plugins",      NULL};
    if (!json_object_get(c, "username"))
        json_object_set_new_nocheck(c, "username", json_string(""));
    for (const char *const *p = arrays; *p; p++)
        if (!json_object_get(c, *p))
            json_object_set_new(c, *p, json_array());
    if (!json_object_get(c, "settings"))
        json_object_set_new_nocheck(c, "settings", json_object());
    if (!json_object_get(c, "style"))
        json_object_set_new_nocheck(c, "style", json_object());
}

void ag_character_env_secrets(json_t *c) {
    const char *base = json_string_value(json_object_get(c, "id"));
    if (!base)
        base = json_string_value(json_object_get(c, "name"));
    if (!base || !environ)
        return;
    ag_buf prefix = {0};
    ag_buf_puts(&prefix, "CHARACTER.");
    for (const char *p = base; *p; p++) {
        char ch = *p == ' ' ? '_' : *p;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        ag_buf_put(&prefix, &ch, 1);
    }
    ag_buf_puts(&prefix, ".");
    json_t *found = json_object();
    for (char **e = environ; prefix.p && *e; e++) {
        if (strncmp(*e, prefix.p, prefix.len) != 0)
            continue;
        const char *kv = *e + prefix.len, *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            continue;
        char *key = strndup(kv, (size_t)(eq - kv));
        if (key)
            json_object_set_new(found, key, json_string(eq + 1));
        free(key);
    }
    ag_buf_free(&prefix);
    if (json_object_size(found) == 0) {
        json_decref(found);
        return;
    }
    /* precedence as in jsonToCharacter: env < secrets < settings.secrets */
    json_object_update(found, json_object_get(c, "secrets"));
    json_t *ss = json_object_get(json_object_get(c, "settings"), "secrets");
    if (json_is_object(ss))
        json_object_update(found, ss);
    if (!json_object_get(c, "settings"))
        json_object_set_new_nocheck(c, "settings", json_object());
    json_object_set_new_nocheck(c, "secrets", found);
}

void ag_json_merge(json_t *dst, const json_t *patch) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        json_t *cur = json_object_get(dst, k);
        if (json_is_null(v))
            json_object_del(dst, k);
        else if (json_is_object(v) && json_is_object(cur))
            ag_json_merge(cur, v);
        else if (json_is_object(v)) {
            json_t *fresh = json_object(); /* so nested nulls delete here too */
            ag_json_merge(fresh, v);
            json_object_set_new(dst, k, fresh);
        } else
            json_object_set_new(dst, k, json_deep_copy(v));
    }
}

const char *ag_character_list_bio(const json_t *c) {
    const json_t *bio = json_object_get(c, "bio");
    if (json_is_string(bio))
        return json_string_value(bio);
    if (json_is_array(bio) && json_array_size(bio) > 0)
        return json_string_value(json_array_get(bio, 0));
    return "";
}

const char *ag_character_name(const json_t *c) {
    const char *n = json_string_value(json_object_get(c, "name"));
    return n ? n : "";
}
