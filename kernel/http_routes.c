/* Route registration for plugins (route, route_ex) and the kernel. A plugin may register only
 * while its init runs; each registration is recorded with the loader, whose undo removes the
 * route and calls its ud_free. A (method, pattern shape) taken by another registration fails
 * with EZ_EEXIST and one log line naming both plugins. */
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The loader keeps these until it unloads the plugin. If the server goes first (shutdown order),
 * kn_http_routes_detach empties them and the undo only frees the record. */
struct kn_route_undo {
    kn_http *h;
    kn_route *rt;
    kn_route_undo *prev, *next;
};

static void undo_unlink(kn_route_undo *u) {
    if (u->prev)
        u->prev->next = u->next;
    else if (u->h && u->h->undos == u)
        u->h->undos = u->next;
    if (u->next)
        u->next->prev = u->prev;
}

static void route_undo(void *ctx) {
    kn_route_undo *u = ctx;
    if (u->h) {
        undo_unlink(u);
        kn_router_remove(u->h->router, u->rt); /* calls ud_free */
    }
    free(u);
}

void kn_http_routes_detach(kn_http *h) {
    for (kn_route_undo *u = h->undos; u; u = u->next) {
        u->h = NULL;
        u->rt = NULL;
    }
    h->undos = NULL;
}

static const char *plugin_name(const void *p) {
    const char *n = p ? kn_plugin_name(p) : NULL;
    return n ? n : "?";
}

int kn_http_route_add(kn_http *h, ez_plugin *owner, int track, unsigned methods,
                      const char *pattern, const ez_route_opts *opts, ez_route_fn fn, void *ud,
                      ez_free_fn ud_free) {
    kn_route_spec spec = {.methods = methods,
                          .pattern = pattern,
                          .fn = fn,
                          .ud = ud,
                          .ud_free = ud_free,
                          .owner = owner,
                          .opts = opts};
    kn_route *rt = NULL;
    const kn_route *conflict = NULL;
    int rc = kn_router_add(h->router, &spec, &rt, &conflict);
    if (rc == EZ_EEXIST) {
        char m[64];
        kn_methods_format(methods & conflict->methods, m, sizeof m);
        kn_log(h->k, "kernel", EZ_ERR,
               "route %s %s of plugin '%s' conflicts with %s of plugin '%s' (registered first)", m,
               pattern, plugin_name(owner), conflict->pattern, plugin_name(conflict->owner));
        return rc;
    }
    if (rc == EZ_EINVAL) {
        kn_log(h->k, "kernel", EZ_ERR, "plugin '%s': invalid route \"%s\" (methods 0x%x)",
               plugin_name(owner), pattern ? pattern : "(null)", methods);
        return rc;
    }
    if (rc != EZ_OK)
        return rc;
    if (!track)
        return EZ_OK;
    kn_route_undo *u = calloc(1, sizeof *u);
    if (!u || kn_plugin_track(owner, route_undo, u) != EZ_OK) {
        free(u);
        rt->ud_free = NULL; /* failed registration: the caller keeps ud */
        kn_router_remove(h->router, rt);
        return EZ_ENOMEM;
    }
    u->h = h;
    u->rt = rt;
    u->next = h->undos;
    if (h->undos)
        h->undos->prev = u;
    h->undos = u;
    return EZ_OK;
}

static kn_http *http_of(ez_plugin *self) {
    kn_kernel *k = self ? kn_plugin_kernel(self) : NULL;
    return k ? kn_kernel_http(k) : NULL;
}

static int api_route_ex(ez_plugin *self, unsigned methods, const char *pattern,
                        const ez_route_opts *opts, ez_route_fn fn, void *ud, ez_free_fn ud_free) {
    kn_http *h = http_of(self);
    if (!h || !pattern || !fn)
        return h ? EZ_EINVAL : EZ_ESTATE;
    if (!kn_plugin_may_register(self)) {
        kn_log(h->k, kn_plugin_name(self), EZ_ERR, "route %s registered outside init: refused",
               pattern);
        return EZ_ESTATE;
    }
    return kn_http_route_add(h, self, 1, methods, pattern, opts, fn, ud, ud_free);
}

static int api_route(ez_plugin *self, unsigned methods, const char *pattern, ez_route_fn fn,
                     void *ud, ez_free_fn ud_free) {
    return api_route_ex(self, methods, pattern, NULL, fn, ud, ud_free);
}

void kn_http_fill_route_api(ez_host_api *api) {
    api->route = api_route;
    api->route_ex = api_route_ex;
}

typedef struct routes_of_ctx {
    const ez_plugin *p;
    json_t *out;
} routes_of_ctx;

static void collect(const kn_route *rt, void *arg) {
    routes_of_ctx *x = arg;
    if (rt->owner != x->p)
        return;
    for (unsigned bit = 1; bit <= EZ_OPTIONS; bit <<= 1) {
        if (!(rt->methods & bit))
            continue;
        char line[KN_ROUTE_MAX_PATTERN + 16];
        snprintf(line, sizeof line, "%s %s", kn_method_name(bit), rt->pattern);
        json_array_append_new(x->out, json_string(line));
    }
}

json_t *kn_http_routes_of(kn_http *h, const ez_plugin *p) {
    routes_of_ctx x = {.p = p, .out = json_array()};
    if (h && x.out)
        kn_router_foreach(h->router, collect, &x);
    return x.out;
}
