/* Loading and validating an ELIZA script (the JSON format is documented in README.md).
 * Everything is checked here once, so the engine can trust the tables it walks. */
#include "eliza_engine.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EL_MAX_SCRIPT (4u * 1024u * 1024u)
#define EL_MAX_WORD 64
#define EL_MAX_TEMPLATE 1024

typedef struct ld {
    el_script *s;
    char *err;
    size_t errlen;
} ld;

static int fail(ld *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ld *l, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (l->err && l->errlen)
        vsnprintf(l->err, l->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static char *lower_dup(const char *s) {
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return d;
}

/* A word of a pattern, a keyword or a map key: no spaces, not empty, bounded. */
static int word_ok(const char *w, int allow_space) {
    size_t n = strlen(w);
    if (n == 0 || n > EL_MAX_WORD)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] == ' ' && !allow_space)
            return 0;
    return 1;
}

static int pair_cmp(const void *a, const void *b) {
    return strcmp(((const el_pair *)a)->from, ((const el_pair *)b)->from);
}

static int str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int index_cmp(const void *a, const void *b) {
    const el_kwindex *x = a, *y = b;
    int c = strcmp(x->word, y->word);
    return c ? c : x->kw - y->kw;
}

static int load_pairs(ld *l, const json_t *root, const char *key, el_pair **out, int *n,
                      int allow_space) {
    const json_t *obj = json_object_get(root, key);
    *out = NULL;
    *n = 0;
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return fail(l, "%s: must be an object of word -> text", key);
    size_t cnt = json_object_size(obj);
    if (cnt == 0)
        return 0;
    *out = calloc(cnt, sizeof(el_pair));
    if (!*out)
        return fail(l, "out of memory");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!word_ok(k, allow_space))
            return fail(l, "%s: key \"%.40s\" must be 1-%d characters%s", key, k, EL_MAX_WORD,
                        allow_space ? "" : " without spaces");
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > EL_MAX_WORD * 4)
            return fail(l, "%s.%s: must be a non-empty string", key, k);
        el_pair *p = &(*out)[(*n)++];
        p->from = lower_dup(k);
        p->to = strdup(json_string_value(v));
        if (!p->from || !p->to)
            return fail(l, "out of memory");
    }
    qsort(*out, (size_t)*n, sizeof(el_pair), pair_cmp);
    return 0;
}

static int load_groups(ld *l, const json_t *root) {
    const json_t *obj = json_object_get(root, "groups");
    el_script *s = l->s;
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return fail(l, "groups: must be an object of name -> [words]");
    s->groups = calloc(json_object_size(obj) + 1, sizeof(el_group));
    if (!s->groups)
        return fail(l, "out of memory");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!word_ok(k, 0))
            return fail(l, "groups: name \"%.40s\" must be 1-%d characters without spaces", k,
                        EL_MAX_WORD);
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail(l, "groups.%s: must be a non-empty array of words", k);
        el_group *g = &s->groups[s->ngroups++];
        g->name = lower_dup(k);
        g->words = calloc(json_array_size(v), sizeof(char *));
        if (!g->name || !g->words)
            return fail(l, "out of memory");
        size_t i;
        const json_t *w;
        json_array_foreach(v, i, w) {
            if (!json_is_string(w) || !word_ok(json_string_value(w), 0))
                return fail(l, "groups.%s[%zu]: must be a word (1-%d characters, no spaces)", k, i,
                            EL_MAX_WORD);
            if (!(g->words[g->nwords++] = lower_dup(json_string_value(w))))
                return fail(l, "out of memory");
        }
        qsort(g->words, (size_t)g->nwords, sizeof(char *), str_cmp);
    }
    return 0;
}

/* Splits a pattern on spaces; checks groups; returns the number of captures or -1. */
static int load_pattern(ld *l, el_rule *r, const char *pat, const char *where) {
    char *copy = lower_dup(pat);
    int caps = 0;
    if (!copy)
        return fail(l, "out of memory");
    size_t max = strlen(copy) / 2 + 2;
    r->pat = calloc(max, sizeof(char *));
    if (!r->pat) {
        free(copy);
        return fail(l, "out of memory");
    }
    char *save = NULL;
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (t[0] == '@' && !el_group_find(l->s, t + 1)) {
            fail(l, "%s.pattern: unknown group \"%.40s\"", where, t);
            free(copy);
            return -1;
        }
        if (strlen(t) > EL_MAX_WORD) {
            fail(l, "%s.pattern: word longer than %d characters", where, EL_MAX_WORD);
            free(copy);
            return -1;
        }
        if ((t[0] == '*' || t[0] == '@') && ++caps > EL_MAX_CAPS) {
            fail(l, "%s.pattern: more than %d captures", where, EL_MAX_CAPS);
            free(copy);
            return -1;
        }
        if (!(r->pat[r->npat++] = strdup(t))) {
            free(copy);
            return fail(l, "out of memory");
        }
    }
    free(copy);
    if (r->npat == 0)
        return fail(l, "%s.pattern: must not be empty", where);
    return caps;
}

/* Checks "(n)" references against the number of captures. */
static int check_template(ld *l, const char *t, int caps, const char *where) {
    if (strlen(t) == 0 || strlen(t) > EL_MAX_TEMPLATE)
        return fail(l, "%s: must be 1-%d characters", where, EL_MAX_TEMPLATE);
    for (const char *p = t; *p; p++) {
        if (*p != '(' || !isdigit((unsigned char)p[1]))
            continue;
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (*end != ')')
            continue;
        if (n < 1 || n > caps)
            return fail(l, "%s: \"(%ld)\" but the pattern has %d capture%s", where, n, caps,
                        caps == 1 ? "" : "s");
    }
    return 0;
}

static int load_replies(ld *l, el_rule *r, const json_t *arr, int caps, const char *where) {
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(l, "%s.replies: must be a non-empty array of strings", where);
    r->replies = calloc(json_array_size(arr), sizeof(char *));
    if (!r->replies)
        return fail(l, "out of memory");
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        char w[160];
        snprintf(w, sizeof w, "%s.replies[%zu]", where, i);
        if (!json_is_string(v))
            return fail(l, "%s: must be a string", w);
        if (check_template(l, json_string_value(v), caps, w))
            return -1;
        if (!(r->replies[r->nreplies++] = strdup(json_string_value(v))))
            return fail(l, "out of memory");
    }
    r->slot = l->s->nslots++;
    return 0;
}

/* goto targets are resolved after every keyword is known; -2 marks "pending" with the name
 * parked in replies[0]. */
static int load_rules(ld *l, const json_t *arr, el_rule **out, int *n, const char *where,
                      int allow_goto) {
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(l, "%s: must be a non-empty array of rules", where);
    *out = calloc(json_array_size(arr), sizeof(el_rule));
    if (!*out)
        return fail(l, "out of memory");
    size_t i;
    const json_t *rj;
    json_array_foreach(arr, i, rj) {
        char w[128];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        el_rule *r = &(*out)[(*n)++];
        r->goto_kw = -1;
        r->slot = -1;
        if (!json_is_object(rj))
            return fail(l, "%s: must be an object {pattern, replies | goto}", w);
        const json_t *pat = json_object_get(rj, "pattern");
        if (!json_is_string(pat) || json_string_length(pat) == 0)
            return fail(l, "%s.pattern: must be a non-empty string", w);
        int caps = load_pattern(l, r, json_string_value(pat), w);
        if (caps < 0)
            return -1;
        const json_t *go = json_object_get(rj, "goto");
        const json_t *rep = json_object_get(rj, "replies");
        if (go && rep)
            return fail(l, "%s: has both replies and goto", w);
        if (go) {
            if (!allow_goto)
                return fail(l, "%s.goto: not allowed in memory rules", w);
            if (!json_is_string(go) || json_string_length(go) == 0)
                return fail(l, "%s.goto: must be a keyword", w);
            r->goto_kw = -2;
            r->replies = calloc(1, sizeof(char *));
            if (!r->replies || !(r->replies[0] = lower_dup(json_string_value(go))))
                return fail(l, "out of memory");
            r->nreplies = 0; /* a goto rule has no replies of its own */
        } else if (load_replies(l, r, rep, caps, w)) {
            return -1;
        }
    }
    return 0;
}

static int add_index(ld *l, int *cap, const char *word, int kw) {
    el_script *s = l->s;
    if (s->nindex == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        el_kwindex *ni = realloc(s->index, (size_t)nc * sizeof(el_kwindex));
        if (!ni)
            return fail(l, "out of memory");
        s->index = ni;
        *cap = nc;
    }
    s->index[s->nindex].word = word;
    s->index[s->nindex].kw = kw;
    s->nindex++;
    return 0;
}

/* Keyword words are owned by the script (owned[]); the index borrows them. */
static const char *own_word(el_script *s, const char *w) {
    if (s->nowned == s->owned_cap) {
        int nc = s->owned_cap ? s->owned_cap * 2 : 64;
        char **nw = realloc(s->owned, (size_t)nc * sizeof(char *));
        if (!nw)
            return NULL;
        s->owned = nw;
        s->owned_cap = nc;
    }
    char *d = lower_dup(w);
    if (d)
        s->owned[s->nowned++] = d;
    return d;
}

static int load_keywords(ld *l, const json_t *root) {
    el_script *s = l->s;
    const json_t *arr = json_object_get(root, "keywords");
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(l, "keywords: must be a non-empty array");
    if (json_array_size(arr) > 4096)
        return fail(l, "keywords: at most 4096");
    s->kws = calloc(json_array_size(arr), sizeof(el_keyword));
    if (!s->kws)
        return fail(l, "out of memory");
    int cap = 0;
    size_t i;
    const json_t *kj;
    json_array_foreach(arr, i, kj) {
        char w[64];
        snprintf(w, sizeof w, "keywords[%zu]", i);
        el_keyword *k = &s->kws[s->nkws++];
        if (!json_is_object(kj))
            return fail(l, "%s: must be an object {words, rank, rules, memory?}", w);
        const json_t *words = json_object_get(kj, "words");
        if (!json_is_array(words) || json_array_size(words) == 0)
            return fail(l, "%s.words: must be a non-empty array of words", w);
        size_t j;
        const json_t *wj;
        json_array_foreach(words, j, wj) {
            if (!json_is_string(wj) || !word_ok(json_string_value(wj), 0))
                return fail(l, "%s.words[%zu]: must be a word (1-%d characters, no spaces)", w, j,
                            EL_MAX_WORD);
            const char *word = json_string_value(wj);
            if (word[0] == '@') {
                const el_group *g = el_group_find(s, word + 1);
                if (!g)
                    return fail(l, "%s.words[%zu]: unknown group \"%s\"", w, j, word);
                for (int gi = 0; gi < g->nwords; gi++)
                    if (add_index(l, &cap, g->words[gi], (int)i))
                        return -1;
                continue;
            }
            const char *owned = own_word(s, word);
            if (!owned)
                return fail(l, "out of memory");
            if (!k->label && !(k->label = strdup(owned)))
                return fail(l, "out of memory");
            if (add_index(l, &cap, owned, (int)i))
                return -1;
        }
        if (!k->label) {
            const char *g = json_string_value(json_array_get(words, 0));
            if (!(k->label = lower_dup(g)))
                return fail(l, "out of memory");
        }
        const json_t *rank = json_object_get(kj, "rank");
        if (rank && (!json_is_integer(rank) || json_integer_value(rank) < -1000 ||
                     json_integer_value(rank) > 1000))
            return fail(l, "%s.rank: must be an integer in -1000..1000", w);
        k->rank = rank ? (int)json_integer_value(rank) : 0;
        char rw[80];
        snprintf(rw, sizeof rw, "%s.rules", w);
        if (load_rules(l, json_object_get(kj, "rules"), &k->rules, &k->nrules, rw, 1))
            return -1;
        const json_t *mem = json_object_get(kj, "memory");
        if (mem) {
            snprintf(rw, sizeof rw, "%s.memory", w);
            if (load_rules(l, mem, &k->memory, &k->nmemory, rw, 0))
                return -1;
        }
    }
    qsort(s->index, (size_t)s->nindex, sizeof(el_kwindex), index_cmp);
    return 0;
}

static int find_label(const el_script *s, const char *name) {
    for (int i = 0; i < s->nkws; i++)
        if (strcmp(s->kws[i].label, name) == 0)
            return i;
    /* Any word of a keyword names it too. */
    for (int i = 0; i < s->nindex; i++)
        if (strcmp(s->index[i].word, name) == 0)
            return s->index[i].kw;
    return -1;
}

static int resolve_gotos(ld *l) {
    el_script *s = l->s;
    for (int k = 0; k < s->nkws; k++) {
        for (int r = 0; r < s->kws[k].nrules; r++) {
            el_rule *ru = &s->kws[k].rules[r];
            if (ru->goto_kw != -2)
                continue;
            int t = find_label(s, ru->replies[0]);
            if (t < 0)
                return fail(l, "keywords[%d].rules[%d].goto: unknown keyword \"%.40s\"", k, r,
                            ru->replies[0]);
            if (t == k)
                return fail(l, "keywords[%d].rules[%d].goto: a keyword may not go to itself", k, r);
            ru->goto_kw = t;
        }
    }
    return 0;
}

static void free_rule(el_rule *r) {
    for (int i = 0; i < r->npat; i++)
        free(r->pat[i]);
    free(r->pat);
    int nrep = r->goto_kw == -1 ? r->nreplies : (r->replies ? 1 : 0);
    for (int i = 0; i < nrep; i++)
        free(r->replies[i]);
    free(r->replies);
}

static void free_pairs(el_pair *p, int n) {
    for (int i = 0; i < n; i++) {
        free(p[i].from);
        free(p[i].to);
    }
    free(p);
}

void el_script_free(el_script *s) {
    if (!s)
        return;
    free(s->name);
    free_pairs(s->pre, s->npre);
    free_pairs(s->post, s->npost);
    free_pairs(s->post_start, s->npost_start);
    for (int g = 0; g < s->ngroups; g++) {
        for (int i = 0; i < s->groups[g].nwords; i++)
            free(s->groups[g].words[i]);
        free(s->groups[g].words);
        free(s->groups[g].name);
    }
    free(s->groups);
    for (int k = 0; k < s->nkws; k++) {
        el_keyword *kw = &s->kws[k];
        free(kw->label);
        if (kw->rules)
            for (int r = 0; r < kw->nrules; r++)
                free_rule(&kw->rules[r]);
        free(kw->rules);
        if (kw->memory)
            for (int r = 0; r < kw->nmemory; r++)
                free_rule(&kw->memory[r]);
        free(kw->memory);
    }
    free(s->kws);
    for (int i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->index);
    free_rule(&s->fallback);
    free(s);
}

static int load_fallback(ld *l, const json_t *root) {
    el_rule *r = &l->s->fallback;
    r->goto_kw = -1;
    return load_replies(l, r, json_object_get(root, "fallback"), 0, "fallback");
}

el_script *el_script_load(const char *json_text, size_t len, char *err, size_t errlen) {
    ld l = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = 0;
    if (len > EL_MAX_SCRIPT) {
        fail(&l, "script larger than %u bytes", EL_MAX_SCRIPT);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        fail(&l, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        fail(&l, "the script must be a JSON object");
        json_decref(root);
        return NULL;
    }
    l.s = calloc(1, sizeof(el_script));
    if (!l.s) {
        json_decref(root);
        return NULL;
    }
    el_script *s = l.s;
    s->fallback.goto_kw = -1;
    const json_t *name = json_object_get(root, "name");
    int rc = 0;
    if (name && !json_is_string(name))
        rc = fail(&l, "name: must be a string");
    if (!rc)
        s->name = strdup(name ? json_string_value(name) : "custom");
    if (!rc && !s->name)
        rc = fail(&l, "out of memory");
    if (!rc)
        rc = load_pairs(&l, root, "pre", &s->pre, &s->npre, 0);
    if (!rc)
        rc = load_pairs(&l, root, "post", &s->post, &s->npost, 1);
    if (!rc)
        rc = load_pairs(&l, root, "post_start", &s->post_start, &s->npost_start, 0);
    if (!rc)
        rc = load_groups(&l, root);
    if (!rc)
        rc = load_keywords(&l, root);
    if (!rc)
        rc = resolve_gotos(&l);
    if (!rc)
        rc = load_fallback(&l, root);
    json_decref(root);
    if (rc) {
        el_script_free(s);
        return NULL;
    }
    return s;
}

const char *el_pair_find(const el_pair *tab, int n, const char *word) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(word, tab[mid].from);
        if (c == 0)
            return tab[mid].to;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const el_group *el_group_find(const el_script *s, const char *name) {
    for (int i = 0; i < s->ngroups; i++)
        if (strcmp(s->groups[i].name, name) == 0)
            return &s->groups[i];
    return NULL;
}

int el_group_has(const el_group *g, const char *word) {
    const char *key = word;
    return bsearch(&key, g->words, (size_t)g->nwords, sizeof(char *), str_cmp) != NULL;
}
