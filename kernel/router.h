/* Method + path pattern -> route, on a segment trie. Independent of evhtp so it can be unit
 * tested alone. Patterns: "/api/agents/:agentId(uuid)/logs/:logId", literal segments (matched
 * case-insensitively), ":name" parameters, ":name(uuid)" validated parameters and one trailing
 * "*" (the rest of the path, maybe empty). A trailing slash is ignored on both sides.
 * Precedence at every segment: literal, then parameter, then "*", with backtracking, so
 * "/api/agents/worlds" beats "/api/agents/:agentId". A root catch-all (a lone "*" segment) never
 * turns a method mismatch on a more specific pattern into a match. Loop thread only. */
#ifndef KN_ROUTER_H
#define KN_ROUTER_H

#include <elizad/host.h>

#include <stddef.h>

#define KN_ROUTE_MAX_PARAMS 16
#define KN_ROUTE_MAX_SEGS 64
#define KN_ROUTE_MAX_PATTERN 1024

typedef struct kn_router kn_router;
typedef struct kn_rnode kn_rnode;

/* One registration. The router owns it (and the copies of pattern and option strings); fn, ud
 * and ud_free belong to the registrant, who gets ud_free called by kn_router_remove/free. */
typedef struct kn_route {
    unsigned methods; /* EZ_GET | EZ_POST ... */
    char *pattern;    /* as registered */
    ez_route_fn fn;
    void *ud;
    ez_free_fn ud_free;
    const void *owner; /* the registering plugin (opaque to the router) */
    ez_err_style err_style;
    char *uuid_code;  /* NULL = "INVALID_ID" */
    char *uuid_error; /* NULL = "Invalid ID format" */
    int raw_body;

    int nparams;
    const char *param_names[KN_ROUTE_MAX_PARAMS]; /* point into names_buf */
    unsigned char param_seg[KN_ROUTE_MAX_PARAMS]; /* segment index of each parameter */
    unsigned uuid_mask;                           /* bit i: parameter i is ":x(uuid)" */
    int nsegs;                                    /* fixed segments before "*" (or all) */
    int star;                                     /* pattern ends in "*" */
    char *names_buf;

    kn_rnode *node;
    struct kn_route *next_at_node; /* routes sharing a trie node */
    struct kn_route *prev, *next;  /* registration order */
} kn_route;

typedef enum kn_match_result {
    KN_MATCH_FOUND = 0,
    KN_MATCH_NOT_FOUND, /* no pattern matches the path */
    KN_MATCH_NO_METHOD, /* the path exists for other methods: see kn_match.allow */
    KN_MATCH_BAD_PARAM, /* route found but parameter bad_param is not a uuid */
} kn_match_result;

typedef struct kn_match {
    const kn_route *route;
    unsigned allow; /* KN_MATCH_NO_METHOD: the methods the path has */
    int nparams;    /* names/values: names borrowed from the route, values in the caller's buf */
    const char *names[KN_ROUTE_MAX_PARAMS + 1];
    const char *values[KN_ROUTE_MAX_PARAMS + 1]; /* percent-decoded; "*" is the last one */
    int bad_param;                               /* index into names/values, or -1 */
} kn_match;

/* info: methods, pattern, fn, ud, ud_free, owner and the option fields are read; the router
 * copies the strings. */
typedef struct kn_route_spec {
    unsigned methods;
    const char *pattern;
    ez_route_fn fn;
    void *ud;
    ez_free_fn ud_free;
    const void *owner;
    const ez_route_opts *opts; /* may be NULL */
} kn_route_spec;

kn_router *kn_router_new(void);
/* Frees every route (calling its ud_free) and the trie. */
void kn_router_free(kn_router *r);

/* Adds a route. EZ_OK with *out set (borrowed: the router owns it); EZ_EINVAL for a malformed
 * pattern or method mask; EZ_EEXIST when a route at the same pattern shape already has one of
 * the methods (*conflict set to it); EZ_ENOMEM. ud_free is not called on failure. */
int kn_router_add(kn_router *r, const kn_route_spec *spec, kn_route **out,
                  const kn_route **conflict);
/* Unlinks a route and frees it, calling its ud_free. */
void kn_router_remove(kn_router *r, kn_route *rt);

/* Matches a raw (still percent-encoded) path without its query. method: one EZ_* bit; HEAD also
 * finds GET routes. buf receives the decoded parameter values and must hold at least
 * kn_router_buf_size(path_len) bytes. */
kn_match_result kn_router_match(const kn_router *r, unsigned method, const char *path,
                                size_t path_len, kn_match *m, char *buf, size_t buf_len);
static inline size_t kn_router_buf_size(size_t path_len) {
    return path_len + KN_ROUTE_MAX_PARAMS + 2;
}

/* Calls fn for every route in registration order. */
void kn_router_foreach(const kn_router *r, void (*fn)(const kn_route *rt, void *arg), void *arg);

/* "GET", "POST"... for one method bit; NULL otherwise. */
const char *kn_method_name(unsigned method_bit);
/* Writes "GET, POST" for a mask into out (always terminated). */
void kn_methods_format(unsigned mask, char *out, size_t out_len);
/* Decodes %XX sequences (invalid ones are kept as written). out may equal in; returns the
 * decoded length; out gets a terminating NUL (needs len + 1 bytes). plus_space: '+' -> ' '. */
size_t kn_percent_decode(const char *in, size_t len, char *out, int plus_space);

#endif
