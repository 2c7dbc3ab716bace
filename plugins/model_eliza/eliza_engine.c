/* The responder: normalise the input, apply the pre substitutions, pick the clause with a
 * keyword, try the keywords by rank, match decomposition patterns, and assemble a reply from a
 * rotating reassembly with reflected captures. No I/O, no global state: a conversation's state
 * is the el_conv the caller passes in. */
#include "eliza_engine.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define EL_MAX_INPUT 4096
#define EL_MAX_GOTO 8
#define EL_DELIM "."

typedef struct el_text {
    char *buf;  /* the substituted input as written, tokens NUL-separated inside it */
    char *lbuf; /* the same, lower case: what patterns match */
    char **tok; /* ntok tokens as written, then ntok lower-case tokens (borrowed from buffers) */
    char **low;
    int ntok;
} el_text;

typedef struct el_span {
    int start, len;
} el_span;

/* A growable output buffer; on allocation failure it keeps what it had and sets oom. */
typedef struct el_buf {
    char *p;
    size_t len, cap;
    int oom;
} el_buf;

static void buf_add(el_buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 128;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_str(el_buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

uint64_t el_hash(uint64_t h, const char *s) {
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

el_conv *el_conv_new(const el_script *s, uint64_t seed) {
    el_conv *c = calloc(1, sizeof(el_conv));
    if (!c)
        return NULL;
    c->seed = seed;
    c->nslots = s->nslots;
    c->rot = calloc((size_t)(s->nslots ? s->nslots : 1), sizeof(uint32_t));
    if (!c->rot) {
        free(c);
        return NULL;
    }
    return c;
}

void el_conv_free(el_conv *c) {
    if (!c)
        return;
    for (int i = 0; i < c->nmemory; i++)
        free(c->memory[i]);
    free(c->rot);
    free(c);
}

int el_count_words(const char *text) {
    int n = 0, in = 0;
    for (const char *p = text; p && *p; p++) {
        int sp = isspace((unsigned char)*p);
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

static int is_word_byte(unsigned char c) {
    return isalnum(c) || c == '\'' || c == '-' || c >= 0x80;
}

static int is_delim_byte(unsigned char c) {
    return c == '.' || c == ',' || c == ';' || c == '!' || c == '?' || c == ':';
}

static void text_free(el_text *t) {
    free(t->tok);
    free(t->buf);
    free(t->lbuf);
    t->tok = NULL;
    t->buf = t->lbuf = NULL;
}

/* Keeps the input's case (captures are echoed as written), turns the typographic apostrophe into ',
 * marks clause delimiters as " . " and applies the pre substitutions word by word; then splits into
 * tokens. */
static int text_prepare(const el_script *s, const char *input, el_text *t) {
    el_buf norm = {0}, sub = {0};
    size_t n = strlen(input);
    if (n > EL_MAX_INPUT)
        n = EL_MAX_INPUT;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)input[i];
        if (c == 0xE2 && i + 2 < n && (unsigned char)input[i + 1] == 0x80 &&
            ((unsigned char)input[i + 2] == 0x99 || (unsigned char)input[i + 2] == 0x98)) {
            buf_add(&norm, "'", 1);
            i += 2;
        } else if (is_word_byte(c)) {
            buf_add(&norm, (const char *)&c, 1);
        } else if (is_delim_byte(c)) {
            buf_add(&norm, " " EL_DELIM " ", 3);
        } else {
            buf_add(&norm, " ", 1);
        }
    }
    buf_add(&norm, "", 0);
    if (norm.oom)
        goto oom;
    /* pre substitutions: one pass, a replacement is not substituted again */
    char *save = NULL;
    for (char *w = strtok_r(norm.p ? norm.p : (char *)"", " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        while (*w == '\'')
            w++;
        size_t wl = strlen(w);
        while (wl && w[wl - 1] == '\'')
            w[--wl] = 0;
        if (!wl)
            continue;
        char lw[72];
        const char *rep = NULL;
        if (wl < sizeof lw) {
            for (size_t i = 0; i <= wl; i++)
                lw[i] = (char)tolower((unsigned char)w[i]);
            rep = el_pair_find(s->pre, s->npre, lw);
        }
        buf_str(&sub, rep ? rep : w);
        buf_add(&sub, " ", 1);
    }
    buf_add(&sub, "", 0);
    free(norm.p);
    norm.p = NULL;
    if (sub.oom)
        goto oom;
    t->buf = sub.p;
    t->lbuf = malloc(sub.len + 1);
    size_t cap = sub.len / 2 + 2;
    t->tok = malloc(2 * cap * sizeof(char *));
    if (!t->tok || !t->lbuf) {
        text_free(t);
        return -1;
    }
    for (size_t i = 0; i <= sub.len; i++)
        t->lbuf[i] = (char)tolower((unsigned char)sub.p[i]);
    t->low = t->tok + cap;
    t->ntok = 0;
    save = NULL;
    for (char *w = strtok_r(t->buf, " ", &save); w && (size_t)t->ntok < cap;
         w = strtok_r(NULL, " ", &save)) {
        t->tok[t->ntok] = w;
        t->low[t->ntok] = t->lbuf + (w - t->buf);
        t->low[t->ntok][strlen(w)] = 0;
        t->ntok++;
    }
    return 0;
oom:
    free(norm.p);
    free(sub.p);
    t->buf = NULL;
    return -1;
}

static int is_delim(const char *w) {
    return strcmp(w, EL_DELIM) == 0 || strcmp(w, "but") == 0;
}

/* First index entry for word, or -1. */
static int index_first(const el_script *s, const char *word) {
    int lo = 0, hi = s->nindex - 1, found = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(word, s->index[mid].word);
        if (c == 0) {
            found = mid;
            hi = mid - 1;
        } else if (c < 0) {
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    return found;
}

/* Backtracking match; '*' takes as few words as it can. caps receives one span per '*' or
 * '@group'. */
static int match(const el_script *s, char *const *pat, int np, char *const *tok, int base, int nt,
                 el_span *caps, int ci) {
    if (np == 0)
        return nt == 0;
    const char *p = pat[0];
    if (p[0] == '*') {
        for (int k = 0; k <= nt; k++) {
            caps[ci].start = base;
            caps[ci].len = k;
            if (match(s, pat + 1, np - 1, tok + k, base + k, nt - k, caps, ci + 1))
                return 1;
        }
        return 0;
    }
    if (nt == 0)
        return 0;
    if (p[0] == '@') {
        const el_group *g = el_group_find(s, p + 1);
        if (!g || !el_group_has(g, tok[0]))
            return 0;
        caps[ci].start = base;
        caps[ci].len = 1;
        return match(s, pat + 1, np - 1, tok + 1, base + 1, nt - 1, caps, ci + 1);
    }
    if (strcmp(p, tok[0]) != 0)
        return 0;
    return match(s, pat + 1, np - 1, tok + 1, base + 1, nt - 1, caps, ci);
}

/* Appends the reflection of tok[0..n) to b; low holds the same tokens in lower case. */
static void reflect_into(const el_script *s, char *const *tok, char *const *low, int n, el_buf *b) {
    int first = 1;
    for (int i = 0; i < n; i++) {
        const char *out = NULL;
        if (i + 1 < n) {
            char two[2 * 64 + 2];
            size_t a = strlen(low[i]), c = strlen(low[i + 1]);
            if (a + c + 2 <= sizeof two) {
                memcpy(two, low[i], a);
                two[a] = ' ';
                memcpy(two + a + 1, low[i + 1], c + 1);
                out = el_pair_find(s->post, s->npost, two);
                if (out)
                    i++;
            }
        }
        if (!out && i == 0)
            out = el_pair_find(s->post_start, s->npost_start, low[i]);
        if (!out)
            out = el_pair_find(s->post, s->npost, low[i]);
        if (!first)
            buf_add(b, " ", 1);
        buf_str(b, out ? out : tok[i]);
        first = 0;
    }
}

char *el_reflect(const el_script *s, const char *text) {
    el_text t = {0};
    el_buf b = {0};
    if (text_prepare(s, text, &t))
        return NULL;
    reflect_into(s, t.tok, t.low, t.ntok, &b);
    buf_add(&b, "", 0);
    text_free(&t);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Tidies an assembled reply: single spaces, none before punctuation, capital first letter. */
static char *tidy(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == ' ' && (w == s || w[-1] == ' '))
            continue;
        if ((*r == '?' || *r == '.' || *r == '!' || *r == ',') && w > s && w[-1] == ' ')
            w--;
        *w++ = *r;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = 0;
    if (s[0])
        s[0] = (char)toupper((unsigned char)s[0]);
    return s;
}

static const char *pick(const el_rule *r, el_conv *c) {
    uint32_t off = (uint32_t)mix64(c->seed ^ (uint64_t)(r->slot + 1));
    uint32_t k = (c->rot[r->slot] + off) % (uint32_t)r->nreplies;
    c->rot[r->slot]++;
    return r->replies[k];
}

static char *assemble(const el_script *s, const char *tpl, char *const *tok, char *const *low,
                      const el_span *caps, int ncaps, const el_persona *p) {
    el_buf b = {0};
    for (const char *q = tpl; *q;) {
        if (*q == '(' && isdigit((unsigned char)q[1])) {
            char *end;
            long n = strtol(q + 1, &end, 10);
            if (*end == ')' && n >= 1 && n <= ncaps) {
                reflect_into(s, tok + caps[n - 1].start, low + caps[n - 1].start, caps[n - 1].len,
                             &b);
                q = end + 1;
                continue;
            }
        }
        if (strncmp(q, "{name}", 6) == 0) {
            buf_str(&b, p && p->name && *p->name ? p->name : "Eliza");
            q += 6;
            continue;
        }
        if (strncmp(q, "{bio}", 5) == 0) {
            buf_str(&b, p && p->bio ? p->bio : "");
            q += 5;
            continue;
        }
        buf_add(&b, q, 1);
        q++;
    }
    buf_add(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return tidy(b.p);
}

static int count_caps(const el_rule *r) {
    int n = 0;
    for (int i = 0; i < r->npat; i++)
        if (r->pat[i][0] == '*' || r->pat[i][0] == '@')
            n++;
    return n;
}

/* Tries a rule list on the clause; returns a reply (new) or NULL. */
static char *try_rules(const el_script *s, el_conv *c, const el_rule *rules, int nrules,
                       char *const *tok, char *const *low, int nt, const el_persona *p, int depth) {
    el_span caps[EL_MAX_CAPS];
    for (int i = 0; i < nrules; i++) {
        const el_rule *r = &rules[i];
        if (!match(s, r->pat, r->npat, low, 0, nt, caps, 0))
            continue;
        if (r->goto_kw >= 0) {
            if (depth >= EL_MAX_GOTO)
                return NULL;
            const el_keyword *k = &s->kws[r->goto_kw];
            return try_rules(s, c, k->rules, k->nrules, tok, low, nt, p, depth + 1);
        }
        return assemble(s, pick(r, c), tok, low, caps, count_caps(r), p);
    }
    return NULL;
}

typedef struct el_hit {
    int kw, rank, pos;
} el_hit;

static int hit_cmp(const void *a, const void *b) {
    const el_hit *x = a, *y = b;
    if (x->rank != y->rank)
        return y->rank - x->rank;
    return x->pos - y->pos;
}

static void remember(el_conv *c, char *reply) {
    if (!reply)
        return;
    if (c->nmemory == EL_MEMORY_MAX) {
        free(c->memory[0]);
        memmove(c->memory, c->memory + 1, (EL_MEMORY_MAX - 1) * sizeof(char *));
        c->nmemory--;
    }
    c->memory[c->nmemory++] = reply;
}

char *el_respond(const el_script *s, el_conv *c, const char *input, const el_persona *p) {
    el_text t = {0};
    if (text_prepare(s, input ? input : "", &t))
        return NULL;
    /* The clause: text between delimiters; keep the first one that holds a keyword. */
    int start = 0, end = t.ntok, seen = 0;
    for (int i = 0; i < t.ntok; i++) {
        if (is_delim(t.low[i])) {
            if (seen) {
                end = i;
                break;
            }
            start = i + 1;
        } else if (index_first(s, t.low[i]) >= 0) {
            seen = 1;
        }
    }
    if (!seen)
        start = end = 0;
    if (end - start > EL_MAX_CLAUSE)
        end = start + EL_MAX_CLAUSE;
    char *const *tok = t.tok + start;
    char *const *low = t.low + start;
    int nt = end - start;

    el_hit hits[EL_MAX_CLAUSE * 2] = {{0}};
    int nh = 0;
    for (int i = 0; i < nt; i++) {
        for (int x = index_first(s, low[i]);
             x >= 0 && x < s->nindex && strcmp(s->index[x].word, low[i]) == 0; x++) {
            int dup = 0;
            for (int h = 0; h < nh; h++)
                dup |= hits[h].kw == s->index[x].kw;
            if (!dup && nh < (int)(sizeof hits / sizeof hits[0]))
                hits[nh++] = (el_hit){s->index[x].kw, s->kws[s->index[x].kw].rank, i};
        }
    }
    qsort(hits, (size_t)nh, sizeof(el_hit), hit_cmp);

    char *reply = NULL;
    if (nh > 0 && s->kws[hits[0].kw].nmemory > 0) {
        const el_keyword *k = &s->kws[hits[0].kw];
        remember(c, try_rules(s, c, k->memory, k->nmemory, tok, low, nt, p, EL_MAX_GOTO));
    }
    for (int h = 0; h < nh && !reply; h++) {
        const el_keyword *k = &s->kws[hits[h].kw];
        reply = try_rules(s, c, k->rules, k->nrules, tok, low, nt, p, 0);
    }
    if (!reply && c->nmemory > 0) {
        reply = c->memory[0];
        memmove(c->memory, c->memory + 1, (size_t)(c->nmemory - 1) * sizeof(char *));
        c->nmemory--;
    }
    if (!reply)
        reply = assemble(s, pick(&s->fallback, c), tok, low, NULL, 0, p);
    text_free(&t);
    return reply;
}
