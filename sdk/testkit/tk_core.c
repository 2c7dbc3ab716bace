/* testkit: the fake host's life cycle, the loader (ABI gate, requires, config schema), the
 * registration records and the logging members. */
#include "tk_int.h"

#include "config_schema.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TK_DESC_SIZE_1_0 (offsetof(ez_plugin_desc, destroy) + sizeof(void (*)(void *)))
#define TK_SCHEMA_MAX 256

/* ---- small helpers ---- */

void *tk_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("testkit: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *tk_xstrdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = tk_xcalloc(1, n);
    memcpy(d, s, n);
    return d;
}

int tk_append(void ***arr, size_t *n, void *item) {
    void **grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown) {
        fputs("testkit: out of memory\n", stderr);
        abort();
    }
    grown[(*n)++] = item;
    *arr = grown;
    return EZ_OK;
}

/* Same semantics as the kernel's bus globs: '*' matches any run of characters, dots included. */
int tk_glob_match(const char *g, const char *t) {
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*g == '*') {
            star = g++;
            resume = t;
        } else if (*g == *t) {
            g++;
            t++;
        } else if (star) {
            g = star + 1;
            t = ++resume;
        } else {
            return 0;
        }
    }
    while (*g == '*')
        g++;
    return *g == '\0';
}

void tk_fail(ez_tk *tk, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tk->checks++;
    tk->failures++;
    fprintf(stderr, "testkit: FAIL %s\n", msg);
}

static int set_err(ez_tk *tk, int rc, const char *fmt, ...) EZ_PRINTF(3, 4);
static int set_err(ez_tk *tk, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tk->err, sizeof tk->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- logging ---- */

static int pino_level(ez_level level) {
    switch (level) {
    case EZ_ERR:
        return 50;
    case EZ_WARN:
        return 40;
    case EZ_INFO:
        return 30;
    default:
        return 20;
    }
}

void tk_log_write(ez_tk *tk, const char *plugin, ez_level level, const char *msg) {
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if ((unsigned)level > EZ_DEBUG)
        level = EZ_DEBUG;
    if ((int)level <= tk->log_level)
        fprintf(stderr, "testkit: %s [%s] %s\n", names[level], plugin, msg);
    json_t *entry = json_pack("{s:I,s:i,s:s,s:s?}", "time", (json_int_t)ez_tk_now(tk), "level",
                              pino_level(level), "plugin", plugin, "msg", msg);
    if (!entry)
        return;
    pthread_mutex_lock(&tk->mu);
    json_array_append(tk->log, entry);
    int publish = !tk->delivering_log;
    pthread_mutex_unlock(&tk->mu);
    /* the kernel publishes every log line on kernel.log, except from inside that delivery */
    if (publish) {
        tk_item *it = tk_xcalloc(1, sizeof *it);
        it->kind = TK_ITEM_BUS;
        it->topic = tk_xstrdup("kernel.log");
        it->msg = entry;
        tk_queue_push(tk, it);
    } else {
        json_decref(entry);
    }
}

static void api_log(ez_plugin *self, ez_level level, const char *fmt, ...) {
    if (!self)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tk_log_write(self->tk, self->name, level, msg);
}

static json_t *api_log_recent(ez_plugin *self, int64_t since_ms, int limit) {
    json_t *out = json_array();
    if (!self || !out)
        return out;
    ez_tk *tk = self->tk;
    pthread_mutex_lock(&tk->mu);
    size_t n = json_array_size(tk->log), first = 0;
    size_t matching = 0;
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_object_get(json_array_get(tk->log, i), "time")) >= since_ms)
            matching++;
    if (limit > 0 && matching > (size_t)limit)
        first = matching - (size_t)limit;
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(tk->log, i);
        if (json_integer_value(json_object_get(e, "time")) < since_ms)
            continue;
        if (seen++ >= first)
            json_array_append_new(out, json_deep_copy(e));
    }
    pthread_mutex_unlock(&tk->mu);
    return out;
}

static void api_log_clear(ez_plugin *self) {
    if (!self)
        return;
    pthread_mutex_lock(&self->tk->mu);
    json_array_clear(self->tk->log);
    pthread_mutex_unlock(&self->tk->mu);
}

/* ---- registrations ---- */

void tk_reg_free(tk_reg *r) {
    if (!r)
        return;
    for (int i = 0; r->segs && i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->segs);
    free(r->pattern);
    free(r->shape);
    free(r->uuid_code);
    free(r->uuid_error);
    free(r->glob);
    free(r->nsp);
    free(r->event);
    free(r);
}

int tk_reg_add(ez_tk *tk, ez_plugin *self, tk_reg *r, const char *what) {
    if (!self->registering) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s outside init refused", what);
        tk_log_write(tk, self->name, EZ_ERR, msg);
        tk_reg_free(r);
        return EZ_ESTATE;
    }
    r->owner = self;
    return tk_append((void ***)&tk->regs, &tk->nregs, r);
}

/* Removes every registration of owner (newest first, as an undo log), calling each ud_free. */
void tk_undo_owner(ez_tk *tk, ez_plugin *owner) {
    for (size_t i = tk->nregs; i-- > 0;) {
        tk_reg *r = tk->regs[i];
        if (r->owner != owner)
            continue;
        memmove(&tk->regs[i], &tk->regs[i + 1], (tk->nregs - i - 1) * sizeof *tk->regs);
        tk->nregs--;
        if (r->ud_free)
            r->ud_free(r->ud);
        tk_reg_free(r);
    }
}

static int api_subscribe(ez_plugin *self, const char *glob, ez_bus_fn fn, void *ud,
                         ez_free_fn ud_free) {
    if (!self || !glob || !*glob || !fn)
        return EZ_EINVAL;
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_SUB;
    r->glob = tk_xstrdup(glob);
    r->bus_fn = fn;
    r->ud = ud;
    r->ud_free = ud_free;
    char what[300];
    snprintf(what, sizeof what, "subscribe(\"%.256s\")", glob);
    return tk_reg_add(self->tk, self, r, what);
}

static const tk_reg *find_export(const ez_tk *tk, const char *name) {
    for (size_t i = 0; i < tk->nregs; i++)
        if (tk->regs[i]->kind == TK_EXPORT && strcmp(tk->regs[i]->event, name) == 0)
            return tk->regs[i];
    return NULL;
}

static int api_export(ez_plugin *self, const char *name, const void *table) {
    if (!self || !name || !*name || !table)
        return EZ_EINVAL;
    if (find_export(self->tk, name))
        return EZ_EEXIST;
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_EXPORT;
    r->event = tk_xstrdup(name);
    r->table = table;
    char what[300];
    snprintf(what, sizeof what, "export_api(\"%.256s\")", name);
    return tk_reg_add(self->tk, self, r, what);
}

static const void *api_import(ez_plugin *self, const char *name) {
    if (!self || !name)
        return NULL;
    const tk_reg *r = find_export(self->tk, name);
    return r ? r->table : NULL;
}

/* ---- misc members ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const char *api_data_dir(ez_plugin *self) {
    if (!self)
        return NULL;
    ez_tk *tk = self->tk;
    if (!tk->tmpdir) {
        const char *base = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/ez-testkit-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpl))
            return NULL;
        tk->tmpdir = tk_xstrdup(tmpl);
    }
    if (!self->data_dir) {
        size_t n = strlen(tk->tmpdir) + strlen(self->name) + 2;
        char *d = tk_xcalloc(1, n);
        snprintf(d, n, "%s/%s", tk->tmpdir, self->name);
        if (mkdir(d, 0700) != 0 && errno != EEXIST) {
            free(d);
            return NULL;
        }
        self->data_dir = d;
    }
    return self->data_dir;
}

static const char *api_setting(ez_plugin *self, const char *key) {
    if (!self || !key)
        return NULL;
    return json_string_value(json_object_get(self->tk->settings, key));
}

static void api_shutdown(ez_plugin *self) {
    if (self)
        self->tk->shutdown = 1;
}

static const char *api_plugin_name(const ez_plugin *self) {
    return self ? self->name : NULL;
}

/* ---- life cycle ---- */

ez_tk *ez_tk_new(void) {
    ez_tk *tk = calloc(1, sizeof *tk);
    if (!tk)
        return NULL;
    pthread_mutex_init(&tk->mu, NULL);
    tk->bus_log = json_array();
    tk->emit_log = json_array();
    tk->log = json_array();
    tk->disc_log = json_array();
    tk->kept = json_array();
    tk->settings = json_pack("{s:s,s:s,s:s}", "server.host", "127.0.0.1", "server.port", "3000",
                             "server.auth_token", "");
    const char *lvl = getenv("EZ_TK_LOG");
    tk->log_level = EZ_WARN;
    if (lvl && (!strcmp(lvl, "debug") || !strcmp(lvl, "all")))
        tk->log_level = EZ_DEBUG;
    else if (lvl && !strcmp(lvl, "info"))
        tk->log_level = EZ_INFO;
    else if (lvl && (!strcmp(lvl, "error") || !strcmp(lvl, "quiet")))
        tk->log_level = EZ_ERR;
    tk_clock_set(EZ_TK_EPOCH_MS);

    tk->api.abi_major = EZ_ABI_MAJOR;
    tk->api.abi_minor = EZ_ABI_MINOR;
    tk->api.size = sizeof(ez_host_api);
    tk->api.log = api_log;
    tk->api.subscribe = api_subscribe;
    tk->api.export_api = api_export;
    tk->api.import_api = api_import;
    tk->api.data_dir = api_data_dir;
    tk->api.setting = api_setting;
    tk->api.shutdown = api_shutdown;
    tk->api.log_recent = api_log_recent;
    tk->api.log_clear = api_log_clear;
    tk->api.plugin_name = api_plugin_name;
    tk_http_fill(tk);
    tk_bus_fill(tk);
    tk_time_fill(tk);
    tk_store_fill(tk);
    tk_sock_fill(tk);
    tk_util_fill(tk);
    if (!tk->bus_log || !tk->emit_log || !tk->log || !tk->disc_log || !tk->kept || !tk->settings ||
        tk_store_open(tk) != EZ_OK) {
        fprintf(stderr, "testkit: cannot create the fake host: %s\n", tk->err);
        ez_tk_finish(tk);
        return NULL;
    }
    return tk;
}

static void plugin_free(ez_plugin *p) {
    json_decref(p->cfg);
    free(p->data_dir);
    free(p->name);
    free(p);
}

int ez_tk_finish(ez_tk *tk) {
    if (!tk)
        return 1;
    ez_tk_run(tk);
    for (size_t i = tk->nplugins; i-- > 0;) {
        ez_plugin *p = tk->plugins[i];
        if (p->phase == TK_STARTED) {
            if (p->desc && p->desc->stop)
                p->desc->stop(p->state);
            p->phase = TK_STOPPED;
        }
    }
    ez_tk_run(tk);
    int pending = tk_reqs_pending(tk);
    if (pending)
        tk_fail(tk, "%d request(s) answered EZ_ASYNC never got a response (or a stream_end)",
                pending);
    int acks = tk_acks_pending(tk);
    if (acks)
        tk_fail(tk, "%d socket acknowledgement(s) never answered nor dropped", acks);
    for (size_t i = tk->nplugins; i-- > 0;) {
        ez_plugin *p = tk->plugins[i];
        if (p->phase == TK_DONE)
            continue;
        tk_timers_cancel_owner(tk, p);
        tk_undo_owner(tk, p);
        if (p->desc && p->phase != TK_LOADED)
            p->desc->destroy(p->state);
        p->state = NULL;
        p->phase = TK_DONE;
    }
    for (size_t i = 0; i < tk->nwatches; i++)
        if (!tk->watches[i]->cancelled)
            tk_fail(tk, "plugin %s left an fd watch on fd %d after destroy",
                    tk->watches[i]->owner->name, tk->watches[i]->fd);
    for (size_t i = tk->nplugins; i-- > 0;)
        tk_undo_owner(tk, tk->plugins[i]);
    tk_undo_owner(tk, NULL); /* ez_tk_export's tables */
    tk_queue_free(tk);
    tk_timers_free(tk);
    tk_reqs_free(tk);
    tk_acks_free(tk);
    tk_socks_free(tk);
    for (size_t i = 0; i < tk->nwatches; i++)
        free(tk->watches[i]);
    free(tk->watches);
    tk_store_close(tk);
    if (tk->tmpdir) {
        nftw(tk->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tk->tmpdir);
    }
    for (size_t i = 0; i < tk->nplugins; i++)
        plugin_free(tk->plugins[i]);
    free(tk->plugins);
    free(tk->regs);
    json_decref(tk->bus_log);
    json_decref(tk->emit_log);
    json_decref(tk->log);
    json_decref(tk->disc_log);
    json_decref(tk->kept);
    json_decref(tk->settings);
    pthread_mutex_destroy(&tk->mu);
    int failures = tk->failures, checks = tk->checks;
    free(tk);
    fprintf(stderr, "testkit: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}

/* ---- loading ---- */

static int valid_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 48 ||
            !(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
            return 0;
    return n > 0;
}

static ez_plugin *find_plugin(const ez_tk *tk, const char *name) {
    for (size_t i = 0; i < tk->nplugins; i++)
        if (strcmp(tk->plugins[i]->name, name) == 0)
            return tk->plugins[i];
    return NULL;
}

static const ez_config_field *find_field(const ez_config_field *schema, const char *key) {
    for (int i = 0; schema && i < TK_SCHEMA_MAX && schema[i].type != EZ_CFG_END; i++)
        if (schema[i].key && strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

/* A JSON config value -> the type the kernel would hand over; NULL (with reason) on mismatch. */
static json_t *convert(const ez_config_field *f, json_t *v, const char **reason) {
    switch (f->type) {
    case EZ_CFG_BOOL:
        if (json_is_boolean(v))
            return json_incref(v);
        *reason = "expected true or false";
        return NULL;
    case EZ_CFG_INT:
        if (json_is_integer(v))
            return json_incref(v);
        *reason = "expected an integer";
        return NULL;
    case EZ_CFG_DOUBLE:
        if (json_is_number(v))
            return json_real(json_number_value(v));
        *reason = "expected a number";
        return NULL;
    case EZ_CFG_STRING:
        if (json_is_string(v))
            return json_incref(v);
        *reason = "expected a string";
        return NULL;
    case EZ_CFG_STRING_LIST: {
        size_t i;
        json_t *e;
        if (!json_is_array(v)) {
            *reason = "expected a list of strings [ \"a\", \"b\" ]";
            return NULL;
        }
        json_array_foreach(v, i, e) if (!json_is_string(e)) {
            *reason = "expected a list of strings [ \"a\", \"b\" ]";
            return NULL;
        }
        return json_incref(v);
    }
    default:
        *reason = "the plugin declares an unknown type";
        return NULL;
    }
}

static int build_config(ez_tk *tk, const ez_plugin_desc *d, const char *text, json_t **out) {
    json_error_t jerr;
    json_t *in = text ? json_loads(text, 0, &jerr) : json_object();
    if (!in)
        return set_err(tk, EZ_EINVAL, "plugin %s: config is not JSON: %s", d->name, jerr.text);
    if (!json_is_object(in)) {
        json_decref(in);
        return set_err(tk, EZ_EINVAL, "plugin %s: config must be a JSON object", d->name);
    }
    json_t *obj = json_object();
    const char *key;
    json_t *v;
    int rc = EZ_OK;
    json_object_foreach(in, key, v) {
        const ez_config_field *f = find_field(d->config, key);
        const char *reason = NULL;
        if (!f) {
            rc = set_err(tk, EZ_EINVAL, "%s.%s: unknown key (see elizad --describe %s)", d->name,
                         key, d->name);
            goto done;
        }
        json_t *c = convert(f, v, &reason);
        if (!c) {
            rc = set_err(tk, EZ_EINVAL, "%s.%s: %s", d->name, key, reason);
            goto done;
        }
        json_object_set_new(obj, key, c);
    }
    for (int i = 0; d->config && i < TK_SCHEMA_MAX && d->config[i].type != EZ_CFG_END; i++) {
        const ez_config_field *f = &d->config[i];
        if (!f->key)
            continue;
        json_t *have = json_object_get(obj, f->key);
        if (!have && f->default_value) {
            json_t *def = kn_config_parse_default(f);
            if (!def) {
                rc = set_err(tk, EZ_EINVAL, "%s.%s: the plugin's default \"%.64s\" is invalid",
                             d->name, f->key, f->default_value);
                goto done;
            }
            json_object_set_new(obj, f->key, def);
            have = def;
        }
        if (f->required && (!have || (json_is_string(have) && json_string_length(have) == 0))) {
            rc = set_err(tk, EZ_EINVAL, "%s.%s: required value missing", d->name, f->key);
            goto done;
        }
    }
done:
    json_decref(in);
    if (rc != EZ_OK) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return EZ_OK;
}

static int gate(ez_tk *tk, const ez_plugin_desc *d) {
    if (!d)
        return set_err(tk, EZ_EINVAL, "no descriptor");
    if (d->abi_major != EZ_ABI_MAJOR)
        return set_err(tk, EZ_ENOTSUP, "built for ABI %u.%u, the host speaks ABI %u.%u",
                       d->abi_major, d->abi_minor, EZ_ABI_MAJOR, EZ_ABI_MINOR);
    if (d->abi_minor > EZ_ABI_MINOR)
        return set_err(tk, EZ_ENOTSUP, "built for ABI %u.%u, newer than the host's ABI %u.%u",
                       d->abi_major, d->abi_minor, EZ_ABI_MAJOR, EZ_ABI_MINOR);
    if (d->size < TK_DESC_SIZE_1_0)
        return set_err(tk, EZ_EINVAL, "descriptor size %u is below the ABI 1.0 size %zu", d->size,
                       (size_t)TK_DESC_SIZE_1_0);
    if (!d->name || !valid_name(d->name) || !strcmp(d->name, "kernel"))
        return set_err(tk, EZ_EINVAL, "descriptor name is missing or not a valid plugin name");
    if (!d->init)
        return set_err(tk, EZ_EINVAL, "plugin %s: descriptor has no init function", d->name);
    if (!d->destroy)
        return set_err(tk, EZ_EINVAL, "plugin %s: descriptor has no destroy function", d->name);
    if (find_plugin(tk, d->name))
        return set_err(tk, EZ_EEXIST, "plugin %s: already loaded", d->name);
    for (size_t i = 0; d->requires && d->requires[i]; i++)
        if (!find_plugin(tk, d->requires[i]))
            return set_err(tk, EZ_ENOENT,
                           "plugin %s: requires %s, which is not loaded (ez_tk_load or "
                           "ez_tk_stub it first)",
                           d->name, d->requires[i]);
    return EZ_OK;
}

static const char *status_name(int rc) {
    switch (rc) {
    case EZ_EINVAL:
        return "EZ_EINVAL";
    case EZ_ENOMEM:
        return "EZ_ENOMEM";
    case EZ_EEXIST:
        return "EZ_EEXIST";
    case EZ_ENOENT:
        return "EZ_ENOENT";
    case EZ_ENOTSUP:
        return "EZ_ENOTSUP";
    case EZ_ESTATE:
        return "EZ_ESTATE";
    case EZ_EIO:
        return "EZ_EIO";
    case EZ_ECONSTRAINT:
        return "EZ_ECONSTRAINT";
    default:
        return "error";
    }
}

int ez_tk_load(ez_tk *tk, const ez_plugin_desc *desc, const char *config_json) {
    if (!tk)
        return EZ_EINVAL;
    tk->err[0] = '\0';
    int rc = gate(tk, desc);
    json_t *cfg = NULL;
    if (rc == EZ_OK)
        rc = build_config(tk, desc, config_json, &cfg);
    if (rc != EZ_OK)
        return rc;
    ez_plugin *p = tk_xcalloc(1, sizeof *p);
    p->tk = tk;
    p->name = tk_xstrdup(desc->name);
    p->desc = desc;
    p->cfg = cfg;
    tk_append((void ***)&tk->plugins, &tk->nplugins, p);
    p->registering = 1;
    void *state = NULL;
    rc = desc->init(p, &tk->api, p->cfg, &state);
    p->registering = 0;
    if (rc != EZ_OK) {
        tk_timers_cancel_owner(tk, p);
        tk_undo_owner(tk, p);
        p->phase = TK_DONE;
        return set_err(tk, rc < 0 ? rc : EZ_EINVAL, "plugin %s: init failed: %s (%d)", p->name,
                       status_name(rc), rc);
    }
    p->state = state;
    p->phase = TK_READY;
    return EZ_OK;
}

int ez_tk_start(ez_tk *tk) {
    if (!tk)
        return EZ_EINVAL;
    for (size_t i = 0; i < tk->nplugins; i++) {
        ez_plugin *p = tk->plugins[i];
        if (p->phase != TK_READY)
            continue;
        int rc = p->desc && p->desc->start ? p->desc->start(p->state) : EZ_OK;
        if (rc != EZ_OK)
            return set_err(tk, rc < 0 ? rc : EZ_EINVAL, "plugin %s: start failed: %s (%d)", p->name,
                           status_name(rc), rc);
        p->phase = TK_STARTED;
    }
    json_t *m = json_object();
    tk_deliver_now(tk, "kernel.started", m);
    json_decref(m);
    ez_tk_run(tk);
    return EZ_OK;
}

int ez_tk_stub(ez_tk *tk, const char *name) {
    if (!tk || !name || !valid_name(name))
        return tk ? set_err(tk, EZ_EINVAL, "stub: invalid plugin name") : EZ_EINVAL;
    if (find_plugin(tk, name))
        return set_err(tk, EZ_EEXIST, "stub %s: already loaded", name);
    ez_plugin *p = tk_xcalloc(1, sizeof *p);
    p->tk = tk;
    p->name = tk_xstrdup(name);
    p->cfg = json_object();
    p->phase = TK_READY;
    tk_append((void ***)&tk->plugins, &tk->nplugins, p);
    return EZ_OK;
}

int ez_tk_export(ez_tk *tk, const char *name, const void *table) {
    if (!tk || !name || !*name || !table)
        return EZ_EINVAL;
    if (find_export(tk, name))
        return EZ_EEXIST;
    tk_reg *r = tk_xcalloc(1, sizeof *r);
    r->kind = TK_EXPORT;
    r->event = tk_xstrdup(name);
    r->table = table;
    return tk_append((void ***)&tk->regs, &tk->nregs, r);
}

const char *ez_tk_error(const ez_tk *tk) {
    return tk ? tk->err : "";
}

const ez_host_api *ez_tk_api(ez_tk *tk) {
    return tk ? &tk->api : NULL;
}

ez_plugin *ez_tk_plugin(ez_tk *tk, const char *name) {
    return tk && name ? find_plugin(tk, name) : NULL;
}

void *ez_tk_state(ez_tk *tk, const char *name) {
    ez_plugin *p = ez_tk_plugin(tk, name);
    return p ? p->state : NULL;
}

const json_t *ez_tk_config(ez_tk *tk, const char *name) {
    ez_plugin *p = ez_tk_plugin(tk, name);
    return p ? p->cfg : NULL;
}

int ez_tk_set_setting(ez_tk *tk, const char *key, const char *value) {
    if (!tk || !key)
        return EZ_EINVAL;
    if (!value)
        return json_object_del(tk->settings, key) == 0 ? EZ_OK : EZ_ENOENT;
    return json_object_set_new(tk->settings, key, json_string(value)) == 0 ? EZ_OK : EZ_EINVAL;
}

int ez_tk_shutdown_requested(const ez_tk *tk) {
    return tk ? tk->shutdown : 0;
}

/* ---- captured logs ---- */

const json_t *ez_tk_bus_log(const ez_tk *tk) {
    return tk ? tk->bus_log : NULL;
}

const json_t *ez_tk_emit_log(const ez_tk *tk) {
    return tk ? tk->emit_log : NULL;
}

const json_t *ez_tk_log(const ez_tk *tk) {
    return tk ? tk->log : NULL;
}

const json_t *ez_tk_disconnect_log(const ez_tk *tk) {
    return tk ? tk->disc_log : NULL;
}

void ez_tk_clear_logs(ez_tk *tk) {
    if (!tk)
        return;
    pthread_mutex_lock(&tk->mu);
    json_array_clear(tk->bus_log);
    json_array_clear(tk->emit_log);
    json_array_clear(tk->log);
    json_array_clear(tk->disc_log);
    pthread_mutex_unlock(&tk->mu);
}

static int entry_matches(const json_t *e, const char *key, const char *glob) {
    if (!glob)
        return 1;
    const char *v = json_string_value(json_object_get(e, key));
    return v && tk_glob_match(glob, v);
}

size_t ez_tk_count(const json_t *log, const char *key, const char *glob) {
    size_t n = 0, i;
    const json_t *e;
    json_array_foreach(log, i, e) n += (size_t)entry_matches(e, key, glob);
    return n;
}

const json_t *ez_tk_last(const json_t *log, const char *key, const char *glob) {
    for (size_t i = json_array_size(log); i-- > 0;) {
        const json_t *e = json_array_get(log, i);
        if (entry_matches(e, key, glob))
            return e;
    }
    return NULL;
}
