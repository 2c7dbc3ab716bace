/* Segment trie router: one node per pattern prefix, literal children matched
 * case-insensitively, one shared parameter child per node (parameter names live on the route,
 * so "/a/:id" and "/a/:name" are the same shape), and the routes ending in "*" kept on the node
 * where the star starts. Matching is a depth-first walk, literal before parameter before star,
 * that backtracks when a branch has no route for the method. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#define ALL_METHODS (EZ_GET | EZ_POST | EZ_PUT | EZ_PATCH | EZ_DELETE | EZ_HEAD | EZ_OPTIONS)

struct kn_rnode {
    char *seg; /* lower-case literal; NULL for the root and parameter nodes */
    size_t seg_len;
    kn_rnode **lits;
    size_t nlits, caplits;
    kn_rnode *param;
    kn_route *routes;      /* patterns ending exactly here */
    kn_route *star_routes; /* patterns ending in "*" right after this node */
};

struct kn_router {
    kn_rnode root;
    kn_route *first, *last;
};

static const char *const method_names[] = {"GET",    "POST", "PUT",    "PATCH",
                                           "DELETE", "HEAD", "OPTIONS"};

const char *kn_method_name(unsigned bit) {
    for (unsigned i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
        if (bit == (1u << i))
            return method_names[i];
    return NULL;
}

void kn_methods_format(unsigned mask, char *out, size_t out_len) {
    size_t o = 0;
    if (out_len == 0)
        return;
    out[0] = '\0';
    for (unsigned i = 0; i < sizeof method_names / sizeof method_names[0]; i++) {
        if (!(mask & (1u << i)))
            continue;
        size_t n = strlen(method_names[i]);
        size_t sep = o ? 2 : 0;
        if (o + sep + n + 1 > out_len)
            break;
        if (sep) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        memcpy(out + o, method_names[i], n);
        o += n;
        out[o] = '\0';
    }
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t kn_percent_decode(const char *in, size_t len, char *out, int plus_space) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%' && i + 2 < len) {
            int hi = hexval((unsigned char)in[i + 1]), lo = hexval((unsigned char)in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[o++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        out[o++] = (plus_space && c == '+') ? ' ' : (char)c;
    }
    out[o] = '\0';
    return o;
}

/* COMPAT §1.6: 8-4-4-4-12 hex, any version, either case. Kept here (not util_uuid) so the
 * router has no dependencies and its unit test links it alone. */
static int uuid_ok(const char *s) {
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (hexval((unsigned char)s[i]) < 0) {
            return 0;
        }
    }
    return s[36] == '\0';
}

static inline unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* seg is already lower case */
static int seg_equal(const kn_rnode *n, const char *s, size_t len) {
    if (n->seg_len != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n->seg[i] != lower((unsigned char)s[i]))
            return 0;
    return 1;
}

static kn_rnode *find_literal(const kn_rnode *n, const char *s, size_t len) {
    for (size_t i = 0; i < n->nlits; i++)
        if (seg_equal(n->lits[i], s, len))
            return n->lits[i];
    return NULL;
}

static kn_rnode *add_literal(kn_rnode *n, const char *s, size_t len) {
    kn_rnode *c = find_literal(n, s, len);
    if (c)
        return c;
    if (n->nlits == n->caplits) {
        size_t cap = n->caplits ? n->caplits * 2 : 4;
        kn_rnode **l = realloc(n->lits, cap * sizeof *l);
        if (!l)
            return NULL;
        n->lits = l;
        n->caplits = cap;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->seg = malloc(len + 1))) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < len; i++)
        c->seg[i] = (char)lower((unsigned char)s[i]);
    c->seg[len] = '\0';
    c->seg_len = len;
    n->lits[n->nlits++] = c;
    return c;
}

static void node_free(kn_rnode *n, int self) {
    for (size_t i = 0; i < n->nlits; i++)
        node_free(n->lits[i], 1);
    free(n->lits);
    if (n->param)
        node_free(n->param, 1);
    free(n->seg);
    if (self)
        free(n);
}

kn_router *kn_router_new(void) {
    return calloc(1, sizeof(kn_router));
}

static void route_free(kn_route *rt) {
    if (rt->ud_free)
        rt->ud_free(rt->ud);
    free(rt->pattern);
    free(rt->uuid_code);
    free(rt->uuid_error);
    free(rt->names_buf);
    free(rt);
}

void kn_router_free(kn_router *r) {
    if (!r)
        return;
    kn_route *rt = r->first;
    while (rt) {
        kn_route *next = rt->next;
        route_free(rt);
        rt = next;
    }
    node_free(&r->root, 0);
    free(r);
}

static int name_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Parses spec->pattern into rt's parameter table and walks/creates the trie path. */
static int parse_pattern(kn_router *r, kn_route *rt, kn_rnode **leaf) {
    const char *p = rt->pattern;
    size_t plen = strlen(p);
    if (plen == 0 || p[0] != '/' || plen > KN_ROUTE_MAX_PATTERN)
        return EZ_EINVAL;
    /* names_buf holds every parameter name, NUL-terminated; never longer than the pattern */
    rt->names_buf = malloc(plen + 1);
    if (!rt->names_buf)
        return EZ_ENOMEM;
    size_t nb = 0;
    kn_rnode *n = &r->root;
    size_t i = 1;
    int seg_index = 0;
    while (i < plen) {
        size_t start = i;
        while (i < plen && p[i] != '/')
            i++;
        size_t len = i - start;
        const char *s = p + start;
        int last = (i >= plen) || (i == plen - 1); /* "/a/" : the trailing slash ends it */
        if (i < plen)
            i++; /* skip '/' */
        if (len == 0)
            return EZ_EINVAL; /* "//" inside a pattern */
        if (rt->star)
            return EZ_EINVAL; /* something after "*" */
        if (seg_index >= KN_ROUTE_MAX_SEGS)
            return EZ_EINVAL;
        if (len == 1 && s[0] == '*') {
            if (!last)
                return EZ_EINVAL;
            rt->star = 1;
            continue;
        }
        if (s[0] == ':') {
            const char *name = s + 1;
            size_t nlen = len - 1;
            int uuid = 0;
            if (nlen > 6 && memcmp(name + nlen - 6, "(uuid)", 6) == 0) {
                nlen -= 6;
                uuid = 1;
            }
            if (nlen == 0 || rt->nparams >= KN_ROUTE_MAX_PARAMS)
                return EZ_EINVAL;
            for (size_t j = 0; j < nlen; j++)
                if (!name_char((unsigned char)name[j]))
                    return EZ_EINVAL;
            memcpy(rt->names_buf + nb, name, nlen);
            rt->names_buf[nb + nlen] = '\0';
            rt->param_names[rt->nparams] = rt->names_buf + nb;
            rt->param_seg[rt->nparams] = (unsigned char)seg_index;
            if (uuid)
                rt->uuid_mask |= 1u << rt->nparams;
            rt->nparams++;
            nb += nlen + 1;
            if (!n->param && !(n->param = calloc(1, sizeof(kn_rnode))))
                return EZ_ENOMEM;
            n = n->param;
        } else {
            for (size_t j = 0; j < len; j++)
                if (s[j] == '*')
                    return EZ_EINVAL;
            if (!(n = add_literal(n, s, len)))
                return EZ_ENOMEM;
        }
        seg_index++;
    }
    rt->nsegs = seg_index;
    *leaf = n;
    return EZ_OK;
}

int kn_router_add(kn_router *r, const kn_route_spec *spec, kn_route **out,
                  const kn_route **conflict) {
    if (conflict)
        *conflict = NULL;
    if (!r || !spec || !spec->pattern || !spec->fn || spec->methods == 0 ||
        (spec->methods & ~(unsigned)ALL_METHODS))
        return EZ_EINVAL;
    kn_route *rt = calloc(1, sizeof *rt);
    if (!rt || !(rt->pattern = strdup(spec->pattern))) {
        free(rt);
        return EZ_ENOMEM;
    }
    const ez_route_opts *o = spec->opts;
    if (o) {
        rt->err_style = o->err_style;
        rt->raw_body = o->raw_body;
        if ((o->uuid_code && !(rt->uuid_code = strdup(o->uuid_code))) ||
            (o->uuid_error && !(rt->uuid_error = strdup(o->uuid_error)))) {
            rt->ud_free = NULL;
            route_free(rt);
            return EZ_ENOMEM;
        }
    }
    kn_rnode *leaf = NULL;
    int rc = parse_pattern(r, rt, &leaf);
    if (rc == EZ_OK) {
        for (kn_route *x = rt->star ? leaf->star_routes : leaf->routes; x; x = x->next_at_node) {
            if (x->methods & spec->methods) {
                if (conflict)
                    *conflict = x;
                rc = EZ_EEXIST;
                break;
            }
        }
    }
    if (rc != EZ_OK) {
        route_free(rt); /* ud_free still NULL: the caller keeps ud */
        return rc;
    }
    rt->methods = spec->methods;
    rt->fn = spec->fn;
    rt->ud = spec->ud;
    rt->ud_free = spec->ud_free;
    rt->owner = spec->owner;
    rt->node = leaf;
    kn_route **head = rt->star ? &leaf->star_routes : &leaf->routes;
    while (*head)
        head = &(*head)->next_at_node;
    *head = rt;
    rt->prev = r->last;
    if (r->last)
        r->last->next = rt;
    else
        r->first = rt;
    r->last = rt;
    if (out)
        *out = rt;
    return EZ_OK;
}

void kn_router_remove(kn_router *r, kn_route *rt) {
    if (!r || !rt)
        return;
    kn_route **head = rt->star ? &rt->node->star_routes : &rt->node->routes;
    while (*head && *head != rt)
        head = &(*head)->next_at_node;
    if (*head)
        *head = rt->next_at_node;
    if (rt->prev)
        rt->prev->next = rt->next;
    else
        r->first = rt->next;
    if (rt->next)
        rt->next->prev = rt->prev;
    else
        r->last = rt->prev;
    route_free(rt);
}

void kn_router_foreach(const kn_router *r, void (*fn)(const kn_route *rt, void *arg), void *arg) {
    for (const kn_route *rt = r ? r->first : NULL; rt; rt = rt->next)
        fn(rt, arg);
}

typedef struct walk {
    const char *seg[KN_ROUTE_MAX_SEGS];
    size_t len[KN_ROUTE_MAX_SEGS];
    int n;
    unsigned mask;
    unsigned allow;
} walk;

static const kn_route *pick(const kn_route *list, walk *w) {
    for (const kn_route *x = list; x; x = x->next_at_node)
        if (x->methods & w->mask)
            return x;
    for (const kn_route *x = list; x; x = x->next_at_node)
        w->allow |= x->methods;
    return NULL;
}

static const kn_route *dfs(const kn_rnode *n, int i, walk *w) {
    const kn_route *r;
    if (i == w->n) {
        if ((r = pick(n->routes, w)))
            return r;
        return pick(n->star_routes, w);
    }
    const kn_rnode *c = find_literal(n, w->seg[i], w->len[i]);
    if (c && (r = dfs(c, i + 1, w)))
        return r;
    if (n->param && w->len[i] > 0 && (r = dfs(n->param, i + 1, w)))
        return r;
    return pick(n->star_routes, w);
}

kn_match_result kn_router_match(const kn_router *r, unsigned method, const char *path,
                                size_t path_len, kn_match *m, char *buf, size_t buf_len) {
    walk w;
    memset(m, 0, sizeof *m);
    m->bad_param = -1;
    w.n = 0;
    w.allow = 0;
    w.mask = method == EZ_HEAD ? (EZ_HEAD | EZ_GET) : method;
    size_t i = (path_len > 0 && path[0] == '/') ? 1 : 0;
    while (i < path_len) {
        size_t start = i;
        while (i < path_len && path[i] != '/')
            i++;
        if (w.n == KN_ROUTE_MAX_SEGS)
            return KN_MATCH_NOT_FOUND;
        w.seg[w.n] = path + start;
        w.len[w.n] = i - start;
        w.n++;
        if (i < path_len)
            i++;
    }
    /* a trailing slash ends the loop without an empty segment; "//" yields one, which only a
     * "*" can match. An unknown method (mask 0) still walks, to collect what the path allows. */
    const kn_route *rt = dfs(&r->root, 0, &w);
    /* A root catch-all (a lone "*" segment: the web UI's pages) yields to a more specific pattern
     * that has this path for other methods: that request is a method mismatch, not a page. */
    if (rt && rt->star && rt->nsegs == 0 && w.allow)
        rt = NULL;
    if (!rt) {
        m->allow = w.allow;
        return w.allow ? KN_MATCH_NO_METHOD : KN_MATCH_NOT_FOUND;
    }
    if (buf_len < kn_router_buf_size(path_len))
        return KN_MATCH_NOT_FOUND;
    m->route = rt;
    size_t o = 0;
    for (int j = 0; j < rt->nparams; j++) {
        int s = rt->param_seg[j];
        m->names[j] = rt->param_names[j];
        m->values[j] = buf + o;
        o += kn_percent_decode(w.seg[s], w.len[s], buf + o, 0) + 1;
        if ((rt->uuid_mask & (1u << j)) && m->bad_param < 0 && !uuid_ok(m->values[j]))
            m->bad_param = j;
    }
    m->nparams = rt->nparams;
    if (rt->star) {
        const char *rest = "";
        size_t rlen = 0;
        if (rt->nsegs < w.n) {
            rest = w.seg[rt->nsegs];
            /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): n > nsegs */
            rlen = (size_t)((w.seg[w.n - 1] + w.len[w.n - 1]) - rest);
        }
        m->names[m->nparams] = "*";
        m->values[m->nparams] = buf + o;
        kn_percent_decode(rest, rlen, buf + o, 0);
        m->nparams++;
    }
    return m->bad_param >= 0 ? KN_MATCH_BAD_PARAM : KN_MATCH_FOUND;
}
