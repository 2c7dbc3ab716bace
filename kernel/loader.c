/* Plugin loader. The descriptor is read and checked before any plugin function runs; every
 * registration a plugin makes is recorded as an undo action against its record, so a failed
 * init or an unload removes exactly what it added (Mosquitto/Redis style). */
#include "loader.h"

#include "fdwatch.h"
#include "http.h"
#include "log.h"
#include "sio.h"
#include "timer.h"
#include "util_fs.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KN_REQUIRES_MAX 64
#define KN_SCHEMA_MAX 256

typedef enum {
    PH_LOADED,  /* gated, config validated, no code run */
    PH_READY,   /* init succeeded */
    PH_STARTED, /* start succeeded (or none) */
    PH_STOPPED,
    PH_DONE, /* destroyed, or init failed and rolled back */
} phase;

typedef struct undo_rec {
    void (*undo)(void *ctx);
    void *ctx;
} undo_rec;

typedef struct export_rec {
    struct export_rec *next;
    kn_loader *l;
    ez_plugin *owner;
    const void *table;
    char name[];
} export_rec;

struct ez_plugin {
    kn_kernel *k;
    kn_loader *l;
    char *name;
    void *dl;
    const ez_plugin_desc *desc; /* NULL for the kernel pseudo-plugin */
    json_t *cfg;
    void *state;
    phase ph;
    int registering;
    int mark; /* dependency walk: 0 new, 1 on the stack, 2 placed */
    undo_rec *undo;
    size_t nundo, capundo;
    char *data_dir;
};

struct kn_loader {
    kn_kernel *k;
    ez_plugin kernel_plugin;
    ez_plugin **loaded; /* config order */
    size_t nloaded;
    ez_plugin **order; /* init order */
    size_t norder;
    export_rec *exports;
    int no_dlclose;
};

/* ---- ez_plugin accessors (kernel.h) ---- */

kn_kernel *kn_plugin_kernel(const ez_plugin *p) {
    return p ? p->k : NULL;
}

const char *kn_plugin_name(const ez_plugin *p) {
    return p ? p->name : NULL;
}

int kn_plugin_may_register(const ez_plugin *p) {
    return p && p->registering;
}

int kn_plugin_track(ez_plugin *p, void (*undo)(void *ctx), void *ctx) {
    if (!p || !undo)
        return EZ_EINVAL;
    if (p->nundo == p->capundo) {
        size_t cap = p->capundo ? p->capundo * 2 : 16;
        undo_rec *n = realloc(p->undo, cap * sizeof *n);
        if (!n)
            return EZ_ENOMEM;
        p->undo = n;
        p->capundo = cap;
    }
    p->undo[p->nundo++] = (undo_rec){undo, ctx};
    return EZ_OK;
}

const ez_plugin_desc *kn_plugin_desc(const ez_plugin *p) {
    return p ? p->desc : NULL;
}

const json_t *kn_plugin_config(const ez_plugin *p) {
    return p ? p->cfg : NULL;
}

const char *kn_plugin_data_dir(ez_plugin *p) {
    if (!p)
        return NULL;
    if (!p->data_dir) {
        const char *base = kn_setting(p->k, "server.data_dir");
        char path[PATH_MAX];
        if (!base || snprintf(path, sizeof path, "%s/%s", base, p->name) >= (int)sizeof path)
            return NULL;
        if (kn_mkdir_p(path) != 0) {
            kn_log(p->k, p->name, EZ_ERR, "cannot create %s: %s", path, strerror(errno));
            return NULL;
        }
        p->data_dir = strdup(path);
    }
    return p->data_dir;
}

static void run_undo(ez_plugin *p) {
    /* reverse: later registrations may depend on earlier ones */
    while (p->nundo > 0) {
        undo_rec r = p->undo[--p->nundo];
        r.undo(r.ctx);
    }
    free(p->undo);
    p->undo = NULL;
    p->capundo = 0;
}

/* ---- the gate ---- */

static int valid_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 48 ||
            !(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return 0;
    return n > 0;
}

int kn_plugin_gate(const ez_plugin_desc *d, size_t symsize, const char *expect, char *err,
                   size_t errlen) {
    if (!d) {
        snprintf(err, errlen, "no descriptor");
        return EZ_EINVAL;
    }
    /* the three version words are all we may read before the size is trusted */
    if (symsize && symsize < 3 * sizeof(uint32_t)) {
        snprintf(err, errlen, "descriptor symbol is %zu bytes, too small to hold its version",
                 symsize);
        return EZ_EINVAL;
    }
    if (d->abi_major != EZ_ABI_MAJOR) {
        snprintf(err, errlen, "built for ABI %u.%u, the kernel speaks ABI %u.%u (major differs)",
                 d->abi_major, d->abi_minor, EZ_ABI_MAJOR, EZ_ABI_MINOR);
        return EZ_ENOTSUP;
    }
    if (d->abi_minor > EZ_ABI_MINOR) {
        snprintf(err, errlen, "built for ABI %u.%u, newer than the kernel's ABI %u.%u",
                 d->abi_major, d->abi_minor, EZ_ABI_MAJOR, EZ_ABI_MINOR);
        return EZ_ENOTSUP;
    }
    if (d->size < KN_DESC_SIZE_1_0 || (symsize && symsize < KN_DESC_SIZE_1_0)) {
        snprintf(err, errlen, "descriptor size %u (symbol %zu bytes) is below the ABI 1.0 size %zu",
                 d->size, symsize, (size_t)KN_DESC_SIZE_1_0);
        return EZ_EINVAL;
    }
    if (!d->name) {
        snprintf(err, errlen, "descriptor has no name");
        return EZ_EINVAL;
    }
    if (!valid_name(d->name) || strcmp(d->name, "kernel") == 0) {
        snprintf(err, errlen, "descriptor name \"%.48s\" is not a valid plugin name", d->name);
        return EZ_EINVAL;
    }
    if (expect && strcmp(d->name, expect) != 0) {
        snprintf(err, errlen, "descriptor name \"%s\" differs from the config key \"%s\"", d->name,
                 expect);
        return EZ_EINVAL;
    }
    if (!d->init) {
        snprintf(err, errlen, "descriptor has no init function");
        return EZ_EINVAL;
    }
    if (!d->destroy) {
        snprintf(err, errlen, "descriptor has no destroy function");
        return EZ_EINVAL;
    }
    size_t nreq = 0;
    for (; d->requires && d->requires[nreq]; nreq++)
        if (nreq >= KN_REQUIRES_MAX || !valid_name(d->requires[nreq])) {
            snprintf(err, errlen,
                     "requires[%zu] is not a valid plugin name (or the list is not "
                     "NULL-terminated)",
                     nreq);
            return EZ_EINVAL;
        }
    for (size_t i = 0; d->config && d->config[i].type != EZ_CFG_END; i++) {
        const ez_config_field *f = &d->config[i];
        if (i >= KN_SCHEMA_MAX) {
            snprintf(err, errlen, "config schema is not terminated by EZ_CFG_END");
            return EZ_EINVAL;
        }
        if (!f->key || (unsigned)f->type > EZ_CFG_STRING_LIST) {
            snprintf(err, errlen, "config schema field %zu has no key or an unknown type", i);
            return EZ_EINVAL;
        }
        if (f->default_value) {
            json_t *v = kn_config_parse_default(f);
            if (!v) {
                snprintf(err, errlen, "config key %s: default \"%.64s\" is not a valid %s", f->key,
                         f->default_value, kn_config_type_name(f->type));
                return EZ_EINVAL;
            }
            json_decref(v);
        }
    }
    return EZ_OK;
}

int kn_plugin_open(const char *path, const char *expect, void **dl, const ez_plugin_desc **desc,
                   char *err, size_t errlen) {
    *dl = NULL;
    *desc = NULL;
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "cannot load: %s", e ? e : path);
        return EZ_EIO;
    }
    void *sym = dlsym(h, EZ_PLUGIN_SYMBOL);
    if (!sym) {
        snprintf(err, errlen, "no %s descriptor symbol (not an elizad plugin?)", EZ_PLUGIN_SYMBOL);
        dlclose(h);
        return EZ_EINVAL;
    }
    size_t symsize = 0;
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    if (dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) && es)
        symsize = es->st_size;
    int rc = kn_plugin_gate(sym, symsize, expect, err, errlen);
    if (rc != EZ_OK) {
        dlclose(h);
        return rc;
    }
    *dl = h;
    *desc = sym;
    return EZ_OK;
}

int kn_plugin_find(const char *plugin_dir, const char *name, char *out, size_t outlen, char *err,
                   size_t errlen) {
    char exe[PATH_MAX], exedir[PATH_MAX], prefixdir[PATH_MAX];
    const char *dirs[4];
    size_t n = 0;
    if (plugin_dir && *plugin_dir)
        dirs[n++] = plugin_dir;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            /* the build tree keeps plugins beside the binary */
            if (snprintf(exedir, sizeof exedir, "%s/plugins", exe) < (int)sizeof exedir)
                dirs[n++] = exedir;
            /* an install moved to another prefix: <prefix>/bin/elizad finds
             * <prefix>/<libdir>/elizad/plugins */
            if (snprintf(prefixdir, sizeof prefixdir, "%s/../%s", exe, EZ_PLUGIN_REL_DIR) <
                (int)sizeof prefixdir)
                dirs[n++] = prefixdir;
        }
    }
    dirs[n++] = EZ_PLUGIN_INSTALL_DIR;
    for (size_t i = 0; i < n; i++) {
        if (snprintf(out, outlen, "%s/ez_%s.so", dirs[i], name) >= (int)outlen)
            continue;
        if (access(out, R_OK) == 0)
            return 0;
    }
    size_t o = (size_t)snprintf(err, errlen, "ez_%s.so not found in", name);
    for (size_t i = 0; i < n && o < errlen; i++)
        o += (size_t)snprintf(err + o, errlen - o, "%s %s", i ? "," : "", dirs[i]);
    return -1;
}

/* ---- loader ---- */

kn_loader *kn_loader_new(kn_kernel *k) {
    kn_loader *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->k = k;
    l->kernel_plugin.k = k;
    l->kernel_plugin.l = l;
    l->kernel_plugin.name = "kernel";
    l->kernel_plugin.ph = PH_STARTED;
    const char *nd = getenv("ELIZAD_NO_DLCLOSE");
    l->no_dlclose = nd && strcmp(nd, "1") == 0;
    return l;
}

ez_plugin *kn_loader_kernel_plugin(kn_loader *l) {
    return &l->kernel_plugin;
}

void kn_loader_kernel_begin(kn_loader *l) {
    l->kernel_plugin.registering = 1;
}

void kn_loader_kernel_end(kn_loader *l) {
    l->kernel_plugin.registering = 0;
}

static ez_plugin *find_loaded(kn_loader *l, const char *name) {
    for (size_t i = 0; i < l->nloaded; i++)
        if (strcmp(l->loaded[i]->name, name) == 0)
            return l->loaded[i];
    return NULL;
}

/* Depth-first in config order, so independent plugins keep the order the admin wrote. */
static int place(kn_loader *l, ez_plugin *p, ez_plugin **stack, size_t depth, char *err) {
    if (!p || p->mark == 2)
        return 0;
    stack[depth] = p;
    if (p->mark == 1) {
        size_t start = 0;
        while (stack[start] != p)
            start++;
        size_t o = (size_t)snprintf(err, KN_ERR_MAX, "plugin %s: dependency cycle:", p->name);
        for (size_t i = start; i <= depth && o < KN_ERR_MAX; i++)
            o += (size_t)snprintf(err + o, KN_ERR_MAX - o, "%s%s", i > start ? " -> " : " ",
                                  stack[i]->name);
        return -1;
    }
    p->mark = 1;
    for (size_t i = 0; p->desc->requires && p->desc->requires[i]; i++) {
        ez_plugin *r = find_loaded(l, p->desc->requires[i]);
        if (!r) {
            snprintf(err, KN_ERR_MAX,
                     "plugin %s: requires plugin \"%s\", which is not enabled in plugins = [...]",
                     p->name, p->desc->requires[i]);
            return -1;
        }
        if (place(l, r, stack, depth + 1, err) != 0)
            return -1;
    }
    p->mark = 2;
    l->order[l->norder++] = p;
    return 0;
}

int kn_loader_prepare(kn_loader *l, const kn_config *cfg, char err[KN_ERR_MAX]) {
    size_t n = kn_config_plugin_count(cfg);
    const char *dir = kn_config_get(cfg, "server.plugin_dir");
    l->loaded = calloc(n + 1, sizeof *l->loaded);
    l->order = calloc(n + 1, sizeof *l->order);
    if (!l->loaded || !l->order) {
        snprintf(err, KN_ERR_MAX, "out of memory");
        return KN_EXIT_PLUGIN;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = kn_config_plugin_name(cfg, i);
        char path[PATH_MAX], why[KN_ERR_MAX - 64];
        if (kn_plugin_find(dir, name, path, sizeof path, why, sizeof why) != 0) {
            snprintf(err, KN_ERR_MAX, "plugin %s: %s", name, why);
            return KN_EXIT_PLUGIN;
        }
        ez_plugin *p = calloc(1, sizeof *p);
        if (!p || !(p->name = strdup(name))) {
            free(p);
            snprintf(err, KN_ERR_MAX, "out of memory");
            return KN_EXIT_PLUGIN;
        }
        p->k = l->k;
        p->l = l;
        l->loaded[l->nloaded++] = p;
        if (kn_plugin_open(path, name, &p->dl, &p->desc, why, sizeof why) != EZ_OK) {
            snprintf(err, KN_ERR_MAX, "plugin %s: %.300s (%.150s)", name, why, path);
            return KN_EXIT_PLUGIN;
        }
        kn_log(l->k, "kernel", EZ_DEBUG, "plugin %s %s: %s", name,
               p->desc->version ? p->desc->version : "?", path);
    }
    for (size_t i = 0; i < kn_config_section_count(cfg); i++) {
        const char *sec = kn_config_section_name(cfg, i);
        if (kn_config_plugin_enabled(cfg, sec))
            continue;
        char path[PATH_MAX], why[KN_ERR_MAX - 64];
        if (kn_plugin_find(dir, sec, path, sizeof path, why, sizeof why) != 0) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s: unknown top-level section (no plugin named %s)",
                     kn_config_source(cfg), kn_config_section_line(cfg, i), sec, sec);
            return KN_EXIT_CONFIG;
        }
        kn_log(l->k, "kernel", EZ_WARN, "%s:%d: %s: section ignored: the plugin is not enabled",
               kn_config_source(cfg), kn_config_section_line(cfg, i), sec);
    }
    for (size_t i = 0; i < l->nloaded; i++) {
        ez_plugin *p = l->loaded[i];
        if (!p)
            continue;
        if (kn_config_plugin_section(cfg, p->name, p->desc->config, &p->cfg, err) != EZ_OK)
            return KN_EXIT_CONFIG;
    }
    ez_plugin *stack[KN_REQUIRES_MAX * 4 + 1];
    if (l->nloaded > KN_REQUIRES_MAX * 4) {
        snprintf(err, KN_ERR_MAX, "too many plugins (%zu)", l->nloaded);
        return KN_EXIT_PLUGIN;
    }
    for (size_t i = 0; i < l->nloaded; i++)
        if (place(l, l->loaded[i], stack, 0, err) != 0)
            return KN_EXIT_PLUGIN;
    return 0;
}

static const char *status_name(int rc) {
    switch (rc) {
    case EZ_EINVAL:
        return "EZ_EINVAL";
    case EZ_ENOMEM:
        return "EZ_ENOMEM";
    case EZ_EEXIST:
        return "EZ_EEXIST (already registered)";
    case EZ_ENOENT:
        return "EZ_ENOENT";
    case EZ_ENOTSUP:
        return "EZ_ENOTSUP";
    case EZ_ESTATE:
        return "EZ_ESTATE (wrong lifecycle phase)";
    case EZ_EIO:
        return "EZ_EIO";
    case EZ_ECONSTRAINT:
        return "EZ_ECONSTRAINT";
    default:
        return "error";
    }
}

/* A watch left after init failed or after destroy would call into code about to be unloaded:
 * release it and name the plugin, since that is its bug (host.h asks it to cancel them). */
static void release_watches(kn_loader *l, const ez_plugin *p, const char *when) {
    size_t n = kn_fdwatches_release_owner(kn_kernel_fdwatches(l->k), p);
    if (n)
        kn_log(l->k, "kernel", EZ_WARN, "plugin %s left %zu fd watch%s after %s; released", p->name,
               n, n == 1 ? "" : "es", when);
}

int kn_loader_init_all(kn_loader *l, char err[KN_ERR_MAX]) {
    const ez_host_api *api = kn_kernel_api(l->k);
    for (size_t i = 0; i < l->norder; i++) {
        ez_plugin *p = l->order[i];
        if (p->ph != PH_LOADED)
            continue;
        p->registering = 1;
        void *state = NULL;
        int rc = p->desc->init(p, api, p->cfg, &state);
        p->registering = 0;
        if (rc != EZ_OK) {
            /* roll back what it registered; nothing else of it is ever called */
            kn_timers_cancel_owner(kn_kernel_timers(l->k), p);
            release_watches(l, p, "a failed init");
            run_undo(p);
            p->ph = PH_DONE;
            snprintf(err, KN_ERR_MAX, "plugin %s: init failed: %s (%d)", p->name, status_name(rc),
                     rc);
            return KN_EXIT_PLUGIN;
        }
        p->state = state;
        p->ph = PH_READY;
        kn_log(l->k, "kernel", EZ_DEBUG, "plugin %s initialised", p->name);
    }
    return 0;
}

int kn_loader_start_all(kn_loader *l, char err[KN_ERR_MAX]) {
    for (size_t i = 0; i < l->norder; i++) {
        ez_plugin *p = l->order[i];
        if (p->ph != PH_READY)
            continue;
        int rc = p->desc->start ? p->desc->start(p->state) : EZ_OK;
        if (rc != EZ_OK) {
            snprintf(err, KN_ERR_MAX, "plugin %s: start failed: %s (%d)", p->name, status_name(rc),
                     rc);
            return KN_EXIT_PLUGIN;
        }
        p->ph = PH_STARTED;
    }
    return 0;
}

void kn_loader_stop_all(kn_loader *l) {
    for (size_t i = l->norder; i-- > 0;) {
        ez_plugin *p = l->order[i];
        if (p->ph != PH_STARTED)
            continue;
        if (p->desc->stop)
            p->desc->stop(p->state);
        p->ph = PH_STOPPED;
    }
}

void kn_loader_unload_all(kn_loader *l) {
    kn_loader_stop_all(l);
    for (size_t i = l->norder; i-- > 0;) {
        ez_plugin *p = l->order[i];
        if (p->ph == PH_DONE || p->ph == PH_LOADED)
            continue;
        /* nothing may call into the plugin once its state is gone */
        kn_timers_cancel_owner(kn_kernel_timers(l->k), p);
        run_undo(p);
        p->desc->destroy(p->state);
        release_watches(l, p, "destroy");
        p->state = NULL;
        p->ph = PH_DONE;
    }
    run_undo(&l->kernel_plugin);
    for (size_t i = l->nloaded; i-- > 0;) {
        ez_plugin *p = l->loaded[i];
        run_undo(p); /* a plugin that never ran has nothing, this is for symmetry */
        if (p->dl && !l->no_dlclose)
            dlclose(p->dl);
        p->dl = NULL;
        json_decref(p->cfg);
        p->cfg = NULL;
        free(p->data_dir);
        free(p->name);
        free(p);
    }
    l->nloaded = l->norder = 0;
}

void kn_loader_free(kn_loader *l) {
    if (!l)
        return;
    kn_loader_unload_all(l);
    free(l->loaded);
    free(l->order);
    free(l);
}

size_t kn_loader_count(kn_loader *l) {
    return l ? l->norder : 0;
}

ez_plugin *kn_loader_at(kn_loader *l, size_t i) {
    return l && i < l->norder ? l->order[i] : NULL;
}

/* ---- exports ---- */

static void export_undo(void *ctx) {
    export_rec *e = ctx;
    for (export_rec **pp = &e->l->exports; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    free(e);
}

int kn_loader_export(ez_plugin *p, const char *name, const void *table) {
    if (!p || !name || !*name || !table || strlen(name) > 128)
        return EZ_EINVAL;
    if (!p->registering)
        return EZ_ESTATE;
    kn_loader *l = p->l;
    for (export_rec *e = l->exports; e; e = e->next)
        if (strcmp(e->name, name) == 0) {
            kn_log(l->k, "kernel", EZ_ERR, "export \"%s\" by plugin %s: already exported by %s",
                   name, p->name, e->owner->name);
            return EZ_EEXIST;
        }
    size_t n = strlen(name);
    export_rec *e = calloc(1, sizeof *e + n + 1);
    if (!e)
        return EZ_ENOMEM;
    memcpy(e->name, name, n + 1);
    e->l = l;
    e->owner = p;
    e->table = table;
    e->next = l->exports;
    l->exports = e;
    if (kn_plugin_track(p, export_undo, e) != EZ_OK) {
        export_undo(e);
        return EZ_ENOMEM;
    }
    return EZ_OK;
}

const void *kn_loader_import(kn_loader *l, const char *name) {
    if (!l || !name)
        return NULL;
    for (export_rec *e = l->exports; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e->table;
    return NULL;
}

/* ---- description ---- */

static json_t *redacted_config(const ez_plugin *p) {
    json_t *c = p->cfg ? json_deep_copy(p->cfg) : json_object();
    for (size_t i = 0; c && p->desc->config && p->desc->config[i].type != EZ_CFG_END; i++) {
        const ez_config_field *f = &p->desc->config[i];
        json_t *v = json_object_get(c, f->key);
        /* an empty secret stays "" so an admin can tell it is unset */
        if (f->secret && v && !(json_is_string(v) && json_string_length(v) == 0))
            json_object_set_new(c, f->key, json_string("***"));
    }
    return c;
}

json_t *kn_loader_describe(kn_loader *l) {
    json_t *out = json_array();
    for (size_t i = 0; out && l && i < l->norder; i++) {
        const ez_plugin *p = l->order[i];
        const ez_plugin_desc *d = p->desc;
        json_t *req = json_array();
        for (size_t r = 0; d->requires && d->requires[r]; r++)
            json_array_append_new(req, json_string(d->requires[r]));
        char abi[32];
        snprintf(abi, sizeof abi, "%u.%u", d->abi_major, d->abi_minor);
        kn_http *h = kn_kernel_http(l->k);
        kn_sio *s = kn_kernel_sio(l->k);
        json_t *o = json_pack(
            "{s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:o}", "name", p->name, "version",
            d->version ? d->version : "", "abi", abi, "description", d->description, "requires",
            req, "routes", h ? kn_http_routes_of(h, p) : json_array(), "socket_events",
            s ? kn_sio_events_of(s, p) : json_array(), "config", redacted_config(p));
        if (o)
            json_array_append_new(out, o);
    }
    return out;
}

/* ---- human-readable description (--check-plugin, --describe) ---- */

void kn_plugin_print(FILE *f, const ez_plugin_desc *d) {
    fprintf(f, "name:        %s\n", d->name);
    fprintf(f, "version:     %s\n", d->version ? d->version : "?");
    fprintf(f, "abi:         %u.%u (kernel %u.%u, descriptor %u bytes)\n", d->abi_major,
            d->abi_minor, EZ_ABI_MAJOR, EZ_ABI_MINOR, d->size);
    fprintf(f, "description: %s\n", d->description ? d->description : "");
    fprintf(f, "requires:   ");
    if (!d->requires || !d->requires[0])
        fprintf(f, " (none)");
    for (size_t i = 0; d->requires && d->requires[i]; i++)
        fprintf(f, "%s %s", i ? "," : "", d->requires[i]);
    fprintf(f, "\nconfig:      section \"%s\" in elizad.conf\n", d->name);
    if (!d->config || d->config[0].type == EZ_CFG_END)
        fprintf(f, "  (no keys)\n");
    for (size_t i = 0; d->config && d->config[i].type != EZ_CFG_END; i++) {
        const ez_config_field *c = &d->config[i];
        char dflt[96];
        if (c->default_value)
            snprintf(dflt, sizeof dflt, "default \"%s\"", c->default_value);
        else
            snprintf(dflt, sizeof dflt, "no default");
        fprintf(f, "  %-24s %-12s %s%s%s\n", c->key, kn_config_type_name(c->type), dflt,
                c->required ? ", required" : "", c->secret ? ", secret" : "");
        if (c->help)
            fprintf(f, "      %s\n", c->help);
    }
}
