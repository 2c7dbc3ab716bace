/* Configuration loading. The built-in copy of packaging/elizad.conf is parsed first, then the
 * file, then the environment; every layer goes through the same validation, so the defaults can
 * never disagree with the shipped file. */
#include "config.h"

#include "default_conf.h" /* generated from packaging/elizad.conf: kn_default_conf[] */
#include "log.h"

#include <libconfig.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum { T_STR, T_INT, T_SIZE, T_LEVEL, T_PATHSEG } setting_type;

typedef struct setting_def {
    const char *key;
    setting_type type;
    long long min, max;
    const char *env1, *env2;
    const char *fallback; /* when even the built-in file lacks the key */
} setting_def;

#define BIG 2147483647LL
static const setting_def defs[] = {
    {"server.host", T_STR, 0, 0, "SERVER_HOST", NULL, "0.0.0.0"},
    {"server.port", T_INT, 0, 65535, "SERVER_PORT", NULL, "3000"},
    {"server.data_dir", T_STR, 0, 0, "ELIZA_DATA_DIR", NULL, "./.eliza"},
    {"server.auth_token", T_STR, 0, 0, "ELIZA_SERVER_AUTH_TOKEN", NULL, ""},
    {"server.socket_api_key", T_STR, 0, 0, "SERVER_API_KEY", NULL, ""},
    {"server.cors_origin", T_STR, 0, 0, "CORS_ORIGIN", "API_CORS_ORIGIN", ""},
    {"server.max_body", T_SIZE, 1, 1LL << 30, "EXPRESS_MAX_PAYLOAD", NULL, "2097152"},
    /* multipart uploads (media, audio): multer's 50 MB in the real server */
    {"server.max_upload", T_SIZE, 1, 1LL << 32, NULL, NULL, "53477376"},
    {"server.plugin_dir", T_STR, 0, 0, "ELIZAD_PLUGIN_DIR", NULL, ""},
    {"server.header_timeout_ms", T_INT, 0, BIG, NULL, NULL, "10000"},
    {"server.idle_timeout_ms", T_INT, 0, BIG, NULL, NULL, "5000"},
    {"server.request_timeout_ms", T_INT, 0, BIG, NULL, NULL, "30000"},
    {"server.workers", T_INT, 1, 256, NULL, NULL, "2"},
    /* 1: hot-path writes (exec_later) run on a storage thread, answers wait for their commit;
     * 0: every write runs on the loop (store_writer.c) */
    {"server.write_behind", T_INT, 0, 1, "ELIZAD_WRITE_BEHIND", NULL, "1"},
    /* the write-ahead log is copied into the database by a thread of its own once it holds
     * this many pages; 0: by the commit that crossed SQLite's 1000 (store_sqlite_ckpt.c) */
    {"server.checkpoint_pages", T_INT, 0, 1000000, "ELIZAD_CHECKPOINT_PAGES", NULL, "16000"},
    /* 0: a known /api path asked with another method answers Express's 404 "API endpoint not
     * found", as the official server does (clients and their tests expect it); 1: 405 */
    {"server.method_not_allowed_405", T_INT, 0, 1, NULL, NULL, "0"},
    {"server.log_level", T_LEVEL, 0, 0, "LOG_LEVEL", NULL, "info"},
    {"socketio.path", T_PATHSEG, 0, 0, NULL, NULL, "/socket.io/"},
    {"socketio.ping_interval", T_INT, 1, BIG, NULL, NULL, "25000"},
    {"socketio.ping_timeout", T_INT, 1, BIG, NULL, NULL, "20000"},
    {"socketio.max_payload", T_INT, 1, 1LL << 30, NULL, NULL, "1000000"},
    {"socketio.connect_timeout", T_INT, 1, BIG, NULL, NULL, "45000"},
    {"socketio.engineio_echo_path", T_STR, 0, 0, NULL, NULL, ""},
};
#define NDEFS (sizeof defs / sizeof defs[0])

typedef struct section {
    char *name;
    int line;
} section;

struct kn_config {
    char *source; /* file name or "<built-in>" */
    config_t
        *cf; /* the file (or built-in) kept for the plugin sections; heap: settings point back */
    char *values[NDEFS];
    char **plugins;
    size_t nplugins;
    int plugins_line;
    section *sections;
    size_t nsections;
};

static const setting_def *find_def(const char *key) {
    for (size_t i = 0; i < NDEFS; i++)
        if (strcmp(defs[i].key, key) == 0)
            return &defs[i];
    return NULL;
}

static int set_value(kn_config *c, const setting_def *d, const char *v) {
    char *dup = strdup(v);
    if (!dup)
        return EZ_ENOMEM;
    size_t i = (size_t)(d - defs);
    free(c->values[i]);
    c->values[i] = dup;
    return EZ_OK;
}

/* "2mb", "100kb", "512", "1.5 mb" -> bytes (1 kb = 1024, like the `bytes` package). */
static int parse_size(const char *s, long long *out) {
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    while (*end == ' ')
        end++;
    double mul = 1;
    if (*end == '\0' || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "kb") == 0)
        mul = 1024.0;
    else if (strcasecmp(end, "mb") == 0)
        mul = 1024.0 * 1024;
    else if (strcasecmp(end, "gb") == 0)
        mul = 1024.0 * 1024 * 1024;
    else
        return -1;
    double b = v * mul;
    if (b > 9e15)
        return -1;
    *out = (long long)b;
    return 0;
}

/* Validates a textual value for d and stores its canonical form. reason filled on error. */
static int accept_text(kn_config *c, const setting_def *d, const char *v, char *reason,
                       size_t rlen) {
    char num[32];
    long long n = 0;
    ez_level lvl;
    switch (d->type) {
    case T_STR:
        if (strcmp(d->key, "server.host") == 0 || strcmp(d->key, "server.data_dir") == 0) {
            if (!*v) {
                snprintf(reason, rlen, "must not be empty");
                return EZ_EINVAL;
            }
        }
        return set_value(c, d, v);
    case T_PATHSEG:
        if (v[0] != '/') {
            snprintf(reason, rlen, "must start with '/' (got \"%.64s\")", v);
            return EZ_EINVAL;
        }
        return set_value(c, d, v);
    case T_INT:
        if (kn_parse_ll(v, &n)) {
            snprintf(reason, rlen, "expected an integer (got \"%.64s\")", v);
            return EZ_EINVAL;
        }
        break;
    case T_SIZE:
        if (parse_size(v, &n)) {
            snprintf(reason, rlen, "expected a size like 2mb, 100kb or 512 (got \"%.64s\")", v);
            return EZ_EINVAL;
        }
        break;
    case T_LEVEL:
        if (kn_log_level_parse(v, &lvl)) {
            snprintf(reason, rlen, "expected error, warn, info or debug (got \"%.64s\")", v);
            return EZ_EINVAL;
        }
        static const char *const names[] = {"error", "warn", "info", "debug"};
        return set_value(c, d, names[lvl]);
    }
    if (n < d->min || n > d->max) {
        snprintf(reason, rlen, "%lld is out of range %lld..%lld", n, d->min, d->max);
        return EZ_EINVAL;
    }
    snprintf(num, sizeof num, "%lld", n);
    return set_value(c, d, num);
}

/* Validates a libconfig value for d. */
static int accept_setting(kn_config *c, const setting_def *d, config_setting_t *s, char *reason,
                          size_t rlen) {
    int t = config_setting_type(s);
    char num[32];
    switch (d->type) {
    case T_INT:
    case T_SIZE:
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
            snprintf(num, sizeof num, "%lld", config_setting_get_int64(s));
            return accept_text(c, d, num, reason, rlen);
        }
        if (d->type == T_SIZE && t == CONFIG_TYPE_STRING)
            return accept_text(c, d, config_setting_get_string(s), reason, rlen);
        snprintf(reason, rlen,
                 d->type == T_SIZE ? "expected a size (\"2mb\") or an integer"
                                   : "expected an integer");
        return EZ_EINVAL;
    default:
        if (t != CONFIG_TYPE_STRING) {
            snprintf(reason, rlen, "expected a string");
            return EZ_EINVAL;
        }
        return accept_text(c, d, config_setting_get_string(s), reason, rlen);
    }
}

static int valid_plugin_name(const char *s) {
    if (!s || !*s || strlen(s) > 48)
        return 0;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

static void free_plugins(kn_config *c) {
    for (size_t i = 0; i < c->nplugins; i++)
        free(c->plugins[i]);
    free(c->plugins);
    c->plugins = NULL;
    c->nplugins = 0;
}

static int read_plugins(kn_config *c, config_setting_t *s, const char *src, char *err) {
    int line = config_setting_source_line(s);
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
        snprintf(err, KN_ERR_MAX, "%s:%d: plugins: expected a list of names [ \"a\", \"b\" ]", src,
                 line);
        return EZ_EINVAL;
    }
    free_plugins(c);
    int n = config_setting_length(s);
    c->plugins = calloc((size_t)n + 1, sizeof *c->plugins);
    if (!c->plugins)
        return EZ_ENOMEM;
    c->plugins_line = line;
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_get_string(e);
        if (!name) {
            snprintf(err, KN_ERR_MAX, "%s:%d: plugins[%d]: expected a string", src, line, i);
            return EZ_EINVAL;
        }
        if (!valid_plugin_name(name)) {
            snprintf(err, KN_ERR_MAX,
                     "%s:%d: plugins[%d]: \"%.64s\" is not a plugin name (lower_snake_case)", src,
                     line, i, name);
            return EZ_EINVAL;
        }
        for (size_t j = 0; j < c->nplugins; j++)
            if (strcmp(c->plugins[j], name) == 0) { // NOLINT: entries below nplugins are set
                snprintf(err, KN_ERR_MAX, "%s:%d: plugins: \"%s\" is listed twice", src, line,
                         name);
                return EZ_EINVAL;
            }
        if (!(c->plugins[c->nplugins] = strdup(name)))
            return EZ_ENOMEM;
        c->nplugins++;
    }
    return EZ_OK;
}

static int read_group(kn_config *c, config_setting_t *g, const char *src, char *err) {
    const char *gname = config_setting_name(g);
    if (!config_setting_is_group(g)) {
        snprintf(err, KN_ERR_MAX, "%s:%d: %s: expected a section { ... }", src,
                 config_setting_source_line(g), gname);
        return EZ_EINVAL;
    }
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char key[128], reason[256];
        snprintf(key, sizeof key, "%s.%s", gname, config_setting_name(s));
        const setting_def *d = find_def(key);
        if (!d) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s: unknown key", src, config_setting_source_line(s),
                     key);
            return EZ_EINVAL;
        }
        if (accept_setting(c, d, s, reason, sizeof reason) != EZ_OK) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s: %s", src, config_setting_source_line(s), key,
                     reason);
            return EZ_EINVAL;
        }
    }
    return EZ_OK;
}

static int apply_config(kn_config *c, config_t *cf, const char *src, int keep_sections, char *err) {
    config_setting_t *root = config_root_setting(cf);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        int rc;
        if (strcmp(name, "server") == 0 || strcmp(name, "socketio") == 0) {
            rc = read_group(c, s, src, err);
        } else if (strcmp(name, "plugins") == 0) {
            rc = read_plugins(c, s, src, err);
        } else if (config_setting_is_group(s)) {
            if (!keep_sections)
                continue;
            section *ns = realloc(c->sections, (c->nsections + 1) * sizeof *ns);
            if (!ns)
                return EZ_ENOMEM;
            c->sections = ns;
            if (!(ns[c->nsections].name = strdup(name)))
                return EZ_ENOMEM;
            ns[c->nsections++].line = config_setting_source_line(s);
            rc = EZ_OK;
        } else {
            snprintf(err, KN_ERR_MAX,
                     "%s:%d: %s: unknown top-level key (expected server, socketio, plugins or a "
                     "plugin section)",
                     src, config_setting_source_line(s), name);
            rc = EZ_EINVAL;
        }
        if (rc != EZ_OK) {
            if (rc == EZ_ENOMEM)
                snprintf(err, KN_ERR_MAX, "%s: out of memory", src);
            return rc;
        }
    }
    return EZ_OK;
}

static int apply_env(kn_config *c, char *err) {
    for (size_t i = 0; i < NDEFS; i++) {
        const setting_def *d = &defs[i];
        const char *var = d->env1;
        const char *v = var ? getenv(var) : NULL;
        if (!v && d->env2) {
            var = d->env2;
            v = getenv(var);
        }
        if (!v)
            continue;
        char reason[256];
        if (accept_text(c, d, v, reason, sizeof reason) != EZ_OK) {
            snprintf(err, KN_ERR_MAX, "environment:0: %s (from %s): %s", d->key, var, reason);
            return EZ_EINVAL;
        }
    }
    return EZ_OK;
}

static void parse_error(const config_t *cf, const char *src, char *err) {
    const char *file = config_error_file(cf);
    snprintf(err, KN_ERR_MAX, "%s:%d: syntax: %s", file ? file : src, config_error_line(cf),
             config_error_text(cf));
}

void kn_config_free(kn_config *c) {
    if (!c)
        return;
    if (c->cf) {
        config_destroy(c->cf);
        free(c->cf);
    }
    for (size_t i = 0; i < NDEFS; i++)
        free(c->values[i]);
    free_plugins(c);
    for (size_t i = 0; i < c->nsections; i++)
        free(c->sections[i].name);
    free(c->sections);
    free(c->source);
    free(c);
}

static void cf_free(config_t *cf) {
    if (cf) {
        config_destroy(cf);
        free(cf);
    }
}

/* A parsed config_t on the heap, or NULL with the syntax error in err. */
static config_t *cf_parse(const char *text, const char *path, const char *name, char *err) {
    config_t *cf = malloc(sizeof *cf);
    if (!cf) {
        snprintf(err, KN_ERR_MAX, "out of memory");
        return NULL;
    }
    config_init(cf);
    /* read_file (not fopen + read) so libconfig records the file name for @include and errors */
    int ok = path ? config_read_file(cf, path) : config_read_string(cf, text);
    if (ok != CONFIG_TRUE) {
        parse_error(cf, name, err);
        cf_free(cf);
        return NULL;
    }
    return cf;
}

/* Built-in defaults, then `cf` (stolen; NULL for none), then the environment. */
static kn_config *build(config_t *cf, const char *src, char *err) {
    kn_config *c = calloc(1, sizeof *c);
    if (!c || !(c->source = strdup(src))) {
        snprintf(err, KN_ERR_MAX, "out of memory");
        free(c);
        cf_free(cf);
        return NULL;
    }
    for (size_t i = 0; i < NDEFS; i++)
        if (set_value(c, &defs[i], defs[i].fallback) != EZ_OK) {
            snprintf(err, KN_ERR_MAX, "out of memory");
            goto fail;
        }
    config_t *builtin = cf_parse(kn_default_conf, NULL, "<built-in>", err);
    if (!builtin)
        goto fail;
    int rc = apply_config(c, builtin, "<built-in>", cf == NULL, err);
    if (cf == NULL)
        c->cf = builtin;
    else
        cf_free(builtin);
    if (rc != EZ_OK)
        goto fail;
    if (cf) {
        c->cf = cf;
        cf = NULL;
        if (apply_config(c, c->cf, c->source, 1, err) != EZ_OK)
            goto fail;
    }
    if (apply_env(c, err) != EZ_OK)
        goto fail;
    return c;
fail:
    cf_free(cf);
    kn_config_free(c);
    return NULL;
}

kn_config *kn_config_load_string(const char *text, const char *name, char err[KN_ERR_MAX]) {
    config_t *cf = cf_parse(text, NULL, name, err);
    return cf ? build(cf, name, err) : NULL;
}

kn_config *kn_config_load(const char *path, char err[KN_ERR_MAX]) {
    if (!path) {
        if (access("elizad.conf", R_OK) == 0)
            path = "elizad.conf";
        else if (access(EZ_DEFAULT_CONFIG, R_OK) == 0)
            path = EZ_DEFAULT_CONFIG;
        else
            return build(NULL, "<built-in>", err);
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, KN_ERR_MAX, "%s:0: config: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    config_t *cf = cf_parse(NULL, path, path, err);
    return cf ? build(cf, path, err) : NULL;
}

const char *kn_config_source(const kn_config *c) {
    return c->source;
}

const char *kn_config_get(const kn_config *c, const char *key) {
    if (!c || !key)
        return NULL;
    const setting_def *d = find_def(key);
    if (!d)
        return NULL;
    const char *v = c->values[d - defs];
    return v && *v ? v : NULL;
}

long long kn_config_get_int(const kn_config *c, const char *key, long long fallback) {
    const char *v = kn_config_get(c, key);
    long long n;
    return v && kn_parse_ll(v, &n) == 0 ? n : fallback;
}

size_t kn_config_plugin_count(const kn_config *c) {
    return c->nplugins;
}

const char *kn_config_plugin_name(const kn_config *c, size_t i) {
    return i < c->nplugins ? c->plugins[i] : NULL;
}

size_t kn_config_section_count(const kn_config *c) {
    return c->nsections;
}

const char *kn_config_section_name(const kn_config *c, size_t i) {
    return i < c->nsections ? c->sections[i].name : NULL;
}

int kn_config_section_line(const kn_config *c, size_t i) {
    return i < c->nsections ? c->sections[i].line : 0;
}

int kn_config_plugin_enabled(const kn_config *c, const char *name) {
    for (size_t i = 0; i < c->nplugins; i++)
        if (strcmp(c->plugins[i], name) == 0)
            return 1;
    return 0;
}

const char *kn_config_type_name(ez_cfg_type t) {
    switch (t) {
    case EZ_CFG_BOOL:
        return "bool";
    case EZ_CFG_INT:
        return "int";
    case EZ_CFG_DOUBLE:
        return "double";
    case EZ_CFG_STRING:
        return "string";
    case EZ_CFG_STRING_LIST:
        return "string list";
    default:
        return "?";
    }
}

#define KN_SCHEMA_MAX 256

static const ez_config_field *find_field(const ez_config_field *schema, const char *key) {
    for (int i = 0; schema && i < KN_SCHEMA_MAX && schema[i].type != EZ_CFG_END; i++)
        if (schema[i].key && strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

/* libconfig value -> JSON of the field's type; NULL with reason on mismatch. */
static json_t *convert(const ez_config_field *f, config_setting_t *s, char *reason, size_t rlen) {
    int t = config_setting_type(s);
    json_t *v = NULL;
    switch (f->type) {
    case EZ_CFG_BOOL:
        if (t == CONFIG_TYPE_BOOL)
            return json_boolean(config_setting_get_bool(s));
        snprintf(reason, rlen, "expected true or false");
        return NULL;
    case EZ_CFG_INT:
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
            return json_integer(config_setting_get_int64(s));
        snprintf(reason, rlen, "expected an integer");
        return NULL;
    case EZ_CFG_DOUBLE:
        if (t == CONFIG_TYPE_FLOAT)
            return json_real(config_setting_get_float(s));
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
            return json_real((double)config_setting_get_int64(s));
        snprintf(reason, rlen, "expected a number");
        return NULL;
    case EZ_CFG_STRING:
        if (t != CONFIG_TYPE_STRING) {
            snprintf(reason, rlen, "expected a string");
            return NULL;
        }
        if (!(v = json_string(config_setting_get_string(s))))
            snprintf(reason, rlen, "not valid UTF-8");
        return v;
    case EZ_CFG_STRING_LIST:
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
            snprintf(reason, rlen, "expected a list of strings [ \"a\", \"b\" ]");
            return NULL;
        }
        v = json_array();
        for (int i = 0; v && i < config_setting_length(s); i++) {
            const char *e = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
            json_t *js = e ? json_string(e) : NULL;
            if (!js) {
                snprintf(reason, rlen, "element %d: expected a UTF-8 string", i);
                json_decref(v);
                return NULL;
            }
            json_array_append_new(v, js);
        }
        return v;
    default:
        snprintf(reason, rlen, "the plugin declares an unknown type %d", (int)f->type);
        return NULL;
    }
}

int kn_config_plugin_section(const kn_config *c, const char *plugin, const ez_config_field *schema,
                             json_t **out, char err[KN_ERR_MAX]) {
    config_setting_t *sec =
        c->cf ? config_setting_get_member(config_root_setting(c->cf), plugin) : NULL;
    int sec_line = sec ? (int)config_setting_source_line(sec) : c->plugins_line;
    json_t *obj = json_object();
    if (!obj) {
        snprintf(err, KN_ERR_MAX, "out of memory");
        return EZ_ENOMEM;
    }
    if (sec && !config_setting_is_group(sec)) {
        snprintf(err, KN_ERR_MAX, "%s:%d: %s: expected a section { ... }", c->source, sec_line,
                 plugin);
        goto fail;
    }
    for (int i = 0; sec && i < config_setting_length(sec); i++) {
        config_setting_t *s = config_setting_get_elem(sec, (unsigned)i);
        const char *key = config_setting_name(s);
        const ez_config_field *f = find_field(schema, key);
        char reason[160];
        if (!f) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s.%s: unknown key (see elizad --describe %s)",
                     c->source, config_setting_source_line(s), plugin, key, plugin);
            goto fail;
        }
        json_t *v = convert(f, s, reason, sizeof reason);
        if (!v) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s.%s: %s", c->source, config_setting_source_line(s),
                     plugin, key, reason);
            goto fail;
        }
        json_object_set_new(obj, key, v);
    }
    for (int i = 0; schema && i < KN_SCHEMA_MAX && schema[i].type != EZ_CFG_END; i++) {
        const ez_config_field *f = &schema[i];
        if (!f->key)
            continue;
        json_t *have = json_object_get(obj, f->key);
        if (!have && f->default_value) {
            json_t *d = kn_config_parse_default(f);
            if (!d) {
                snprintf(err, KN_ERR_MAX,
                         "%s:%d: %s.%s: the plugin's default \"%.64s\" is not a valid %s",
                         c->source, sec_line, plugin, f->key, f->default_value,
                         kn_config_type_name(f->type));
                goto fail;
            }
            json_object_set_new(obj, f->key, d);
            have = d;
        }
        int empty = !have || (json_is_string(have) && json_string_length(have) == 0);
        if (f->required && empty) {
            snprintf(err, KN_ERR_MAX, "%s:%d: %s.%s: required value missing", c->source, sec_line,
                     plugin, f->key);
            goto fail;
        }
    }
    *out = obj;
    return EZ_OK;
fail:
    json_decref(obj);
    return EZ_EINVAL;
}
