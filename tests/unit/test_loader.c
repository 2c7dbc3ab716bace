/* loader.c: the ABI gate on crafted descriptors and real shared objects, plugin lookup, config
 * sections, and the lifecycle with the hello plugin on a fake host API (registration window,
 * rollback of a failed init, undo at unload, describe with redaction).
 * argv[1]: path of ez_hello.so; argv[2]: the directory of the plugins-bad objects. */
#include "bus.h"
#include "check.h"
#include "config.h"
#include "fake_kernel.h"
#include "loader.h"
#include "log.h"
#include "store.h"
#include "timer.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <dlfcn.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- crafted descriptors ---- */

static int dummy_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    (void)self;
    (void)api;
    (void)cfg;
    (void)state;
    return EZ_OK;
}

static void dummy_destroy(void *state) {
    (void)state;
}

static ez_plugin_desc good_desc(void) {
    return (ez_plugin_desc){.abi_major = EZ_ABI_MAJOR,
                            .abi_minor = EZ_ABI_MINOR,
                            .size = sizeof(ez_plugin_desc),
                            .name = "demo",
                            .version = "1.0.0",
                            .init = dummy_init,
                            .destroy = dummy_destroy};
}

static void expect_gate(const ez_plugin_desc *d, size_t symsize, const char *expect, int want_rc,
                        const char *want_text) {
    char err[256] = "";
    int rc = kn_plugin_gate(d, symsize, expect, err, sizeof err);
    CHECK_INT(rc, want_rc);
    if (want_text && !strstr(err, want_text)) {
        check_failures++;
        fprintf(stderr, "gate reason \"%s\" lacks \"%s\"\n", err, want_text);
    }
}

static void test_gate(void) {
    ez_plugin_desc d = good_desc();
    expect_gate(&d, 0, "demo", EZ_OK, NULL);
    expect_gate(&d, sizeof d, NULL, EZ_OK, NULL);
    expect_gate(NULL, 0, NULL, EZ_EINVAL, "no descriptor");
    expect_gate(&d, 8, NULL, EZ_EINVAL, "too small");
    expect_gate(&d, 40, NULL, EZ_EINVAL, "below the ABI 1.0 size");
    d.abi_major = 2;
    expect_gate(&d, 0, NULL, EZ_ENOTSUP, "major differs");
    d = good_desc();
    d.abi_minor = EZ_ABI_MINOR + 1;
    expect_gate(&d, 0, NULL, EZ_ENOTSUP, "newer than the kernel");
    d = good_desc();
    d.size = 16;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "descriptor size 16");
    d = good_desc();
    d.size = sizeof(ez_plugin_desc) + 64; /* a later minor's bigger descriptor is fine */
    expect_gate(&d, 0, NULL, EZ_OK, NULL);
    d = good_desc();
    d.name = NULL;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "no name");
    d.name = "Bad-Name";
    expect_gate(&d, 0, NULL, EZ_EINVAL, "not a valid plugin name");
    d.name = "kernel";
    expect_gate(&d, 0, NULL, EZ_EINVAL, "not a valid plugin name");
    d = good_desc();
    expect_gate(&d, 0, "other", EZ_EINVAL, "differs from the config key \"other\"");
    d.init = NULL;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "no init");
    d = good_desc();
    d.destroy = NULL;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "no destroy");
    static const char *const reqs[] = {"ok_name", "Not OK", NULL};
    d = good_desc();
    d.requires = reqs;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "requires[1]");
    static const ez_config_field bad_default[] = {{EZ_CFG_DOUBLE, "ratio", "half", 0, 0, NULL},
                                                  {EZ_CFG_END, NULL, NULL, 0, 0, NULL}};
    d = good_desc();
    d.config = bad_default;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "ratio: default \"half\" is not a valid double");
    static const ez_config_field bad_type[] = {{(ez_cfg_type)42, "x", NULL, 0, 0, NULL},
                                               {EZ_CFG_END, NULL, NULL, 0, 0, NULL}};
    d.config = bad_type;
    expect_gate(&d, 0, NULL, EZ_EINVAL, "unknown type");
}

static void test_open(const char *hello, const char *baddir) {
    void *dl;
    const ez_plugin_desc *d;
    char err[256], path[1024];
    CHECK_INT(kn_plugin_open(hello, "hello", &dl, &d, err, sizeof err), EZ_OK);
    if (d) {
        CHECK_STR(d->name, "hello");
        CHECK(d->config && d->config[0].type == EZ_CFG_STRING);
        dlclose(dl);
    }
    CHECK_INT(kn_plugin_open(hello, "other", &dl, &d, err, sizeof err), EZ_EINVAL);
    CHECK(d == NULL && dl == NULL);
    CHECK_INT(kn_plugin_open("/nonexistent/ez_x.so", NULL, &dl, &d, err, sizeof err), EZ_EIO);
    CHECK(strstr(err, "cannot load") != NULL);
    snprintf(path, sizeof path, "%s/ez_bad_nodesc.so", baddir);
    CHECK_INT(kn_plugin_open(path, NULL, &dl, &d, err, sizeof err), EZ_EINVAL);
    CHECK(strstr(err, "no ez_plugin_v1 descriptor symbol") != NULL);
    snprintf(path, sizeof path, "%s/ez_bad_size.so", baddir);
    CHECK_INT(kn_plugin_open(path, NULL, &dl, &d, err, sizeof err), EZ_EINVAL);
    snprintf(path, sizeof path, "%s/ez_bad_major.so", baddir);
    CHECK_INT(kn_plugin_open(path, NULL, &dl, &d, err, sizeof err), EZ_ENOTSUP);

    /* lookup: the configured dir first, then the fallbacks; the error names every dir */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", hello);
    CHECK_INT(kn_plugin_find(dirname(dir), "hello", path, sizeof path, err, sizeof err), 0);
    CHECK_STR(path, hello);
    CHECK_INT(kn_plugin_find("/nonexistent", "nosuch", path, sizeof path, err, sizeof err), -1);
    CHECK(strstr(err, "ez_nosuch.so not found in /nonexistent,") != NULL);
    CHECK(strstr(err, EZ_PLUGIN_INSTALL_DIR) != NULL);
}

/* ---- a fake host API: routes are recorded, registration rules enforced like the kernel's ---- */

typedef struct fake_route {
    ez_plugin *owner;
    unsigned methods;
    char pattern[128];
    ez_route_fn fn;
    void *ud;
    ez_free_fn ud_free;
    int live;
} fake_route;

typedef struct fake_world {
    fake_route routes[32];
    int nroutes;
    int undone;
    json_t *last_body;
    int last_status;
} fake_world;

static fake_world world;

static void route_undo(void *ctx) {
    fake_route *r = ctx;
    r->live = 0;
    world.undone++;
    if (r->ud_free)
        r->ud_free(r->ud);
}

static int fk_route(ez_plugin *self, unsigned methods, const char *pattern, ez_route_fn fn,
                    void *ud, ez_free_fn ud_free) {
    if (!kn_plugin_may_register(self))
        return EZ_ESTATE;
    for (int i = 0; i < world.nroutes; i++)
        if (world.routes[i].live && world.routes[i].methods & methods &&
            strcmp(world.routes[i].pattern, pattern) == 0)
            return EZ_EEXIST;
    fake_route *r = &world.routes[world.nroutes++];
    *r = (fake_route){self, methods, "", fn, ud, ud_free, 1};
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    return kn_plugin_track(self, route_undo, r);
}

static void sub_undo(void *ctx) {
    kn_bus_unsubscribe(ctx);
}

static int fk_subscribe(ez_plugin *self, const char *glob, ez_bus_fn fn, void *ud,
                        ez_free_fn ud_free) {
    if (!kn_plugin_may_register(self))
        return EZ_ESTATE;
    kn_sub *s =
        kn_bus_subscribe(kn_kernel_bus(kn_plugin_kernel(self)), self, glob, fn, ud, ud_free);
    return s ? kn_plugin_track(self, sub_undo, s) : EZ_EINVAL;
}

static int fk_publish(ez_plugin *self, const char *topic, json_t *msg) {
    return kn_bus_publish(kn_kernel_bus(kn_plugin_kernel(self)), topic, msg);
}

static int fk_respond_json_new(ez_req *req, int status, json_t *body) {
    (void)req;
    json_decref(world.last_body);
    world.last_body = body;
    world.last_status = status;
    return EZ_OK;
}

static const json_t *fk_body_json(const ez_req *req) {
    (void)req;
    return NULL;
}

static int fk_export(ez_plugin *self, const char *name, const void *table) {
    return kn_loader_export(self, name, table);
}

static void fk_log(ez_plugin *self, ez_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kn_logv(kn_plugin_kernel(self), kn_plugin_name(self), level, fmt, ap);
    va_end(ap);
}

static fake_route *find_route(const char *pattern) {
    for (int i = 0; i < world.nroutes; i++)
        if (world.routes[i].live && strcmp(world.routes[i].pattern, pattern) == 0)
            return &world.routes[i];
    return NULL;
}

typedef struct env {
    struct kn_kernel k;
    char tmp[64];
} env;

static int env_open(env *e, const char *conf_text, char *err) {
    memset(e, 0, sizeof *e);
    memset(&world, 0, sizeof world);
    snprintf(e->tmp, sizeof e->tmp, "/tmp/elizad-test-loader-XXXXXX");
    if (!mkdtemp(e->tmp))
        return -1;
    e->k.cfg = kn_config_load_string(conf_text, "loader.conf", err);
    if (!e->k.cfg)
        return -1;
    e->k.base = event_base_new();
    e->k.log = kn_logger_new(EZ_INFO);
    e->k.bus = kn_bus_new(e->k.base);
    e->k.timers = kn_timers_new(e->k.base);
    e->k.store = kn_store_open(&e->k, e->tmp);
    e->k.loader = kn_loader_new(&e->k);
    kn_logger_set_bus(e->k.log, e->k.bus);
    ez_host_api *a = &e->k.api;
    a->abi_major = EZ_ABI_MAJOR;
    a->abi_minor = EZ_ABI_MINOR;
    a->size = sizeof *a;
    a->log = fk_log;
    a->route = fk_route;
    a->subscribe = fk_subscribe;
    a->publish_new = fk_publish;
    a->export_api = fk_export;
    a->respond_json_new = fk_respond_json_new;
    a->body_json = fk_body_json;
    a->store = kn_store_api();
    return 0;
}

static void env_close(env *e) {
    kn_loader_free(e->k.loader);
    kn_logger_set_bus(e->k.log, NULL);
    kn_store_close(e->k.store);
    kn_timers_free(e->k.timers);
    kn_bus_free(e->k.bus);
    kn_logger_free(e->k.log);
    event_base_free(e->k.base);
    kn_config_free(e->k.cfg);
    json_decref(world.last_body);
    world.last_body = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
}

static void test_lifecycle(const char *plugin_dir) {
    char conf[2048], err[KN_ERR_MAX];
    snprintf(conf, sizeof conf,
             "server: { plugin_dir = \"%s\"; };\nplugins = [ \"hello\" ];\n"
             "hello: { greeting = \"hi there\"; secret = \"s3cret\"; };\n",
             plugin_dir);
    env e;
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), 0);
    CHECK_INT(kn_loader_count(e.k.loader), 1);
    ez_plugin *p = kn_loader_at(e.k.loader, 0);
    CHECK_STR(kn_plugin_name(p), "hello");
    const json_t *cfg = kn_plugin_config(p);
    CHECK_STR(json_string_value(json_object_get(cfg, "greeting")), "hi there");
    CHECK_INT(json_integer_value(json_object_get(cfg, "answer")), 42);
    CHECK_INT(json_array_size(json_object_get(cfg, "tags")), 2);
    CHECK(!kn_plugin_may_register(p));

    CHECK_INT(kn_loader_init_all(e.k.loader, err), 0);
    CHECK_INT(world.nroutes, 5);
    CHECK(!kn_plugin_may_register(p));
    /* after init the window is closed */
    CHECK_INT(e.k.api.route(p, EZ_GET, "/api/late", NULL, NULL, NULL), EZ_ESTATE);
    CHECK_INT(e.k.api.subscribe(p, "late.*", NULL, NULL, NULL), EZ_ESTATE);
    CHECK_INT(kn_loader_export(p, "late.v1", &world), EZ_ESTATE);
    CHECK_INT(kn_loader_start_all(e.k.loader, err), 0);

    /* the plugin really works: its route answers with the configured greeting */
    fake_route *r = find_route("/api/hello");
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->fn((ez_req *)&world, r->ud), EZ_DONE);
        CHECK_INT(world.last_status, 200);
        CHECK_STR(json_string_value(json_object_get(world.last_body, "greeting")), "hi there");
        CHECK_STR(json_string_value(json_object_get(world.last_body, "hello")), "world");
    }
    /* its bus subscription receives hello.* */
    kn_bus_publish(e.k.bus, "hello.test", json_pack("{s:i}", "n", 0));
    kn_bus_publish(e.k.bus, "other.test", json_pack("{s:i}", "n", 0));
    kn_bus_drain(e.k.bus);
    r = find_route("/api/hello/bus");
    if (r) {
        r->fn((ez_req *)&world, r->ud);
        CHECK_INT(json_integer_value(json_object_get(world.last_body, "count")), 1);
        CHECK_STR(json_string_value(json_object_get(world.last_body, "last_topic")), "hello.test");
    }
    /* its migration ran in its own namespace */
    json_t *t = kn_store_query(
        e.k.store, "x", "SELECT name FROM sqlite_master WHERE name = 'hello_notes'", NULL, 1);
    CHECK(t != NULL);
    json_decref(t);
    CHECK_INT(kn_store_version(e.k.store, "hello"), 1);

    json_t *desc = kn_loader_describe(e.k.loader);
    CHECK_INT(json_array_size(desc), 1);
    json_t *d0 = json_array_get(desc, 0);
    CHECK_STR(json_string_value(json_object_get(d0, "name")), "hello");
    CHECK_STR(json_string_value(json_object_get(d0, "version")), "1.0.0");
    char abi[16];
    snprintf(abi, sizeof abi, "%u.%u", EZ_ABI_MAJOR, EZ_ABI_MINOR); /* hello is built in-tree */
    CHECK_STR(json_string_value(json_object_get(d0, "abi")), abi);
    json_t *dc = json_object_get(d0, "config");
    CHECK_STR(json_string_value(json_object_get(dc, "secret")), "***");
    CHECK_STR(json_string_value(json_object_get(dc, "greeting")), "hi there");
    CHECK(json_is_array(json_object_get(d0, "routes")));
    CHECK(json_is_array(json_object_get(d0, "socket_events")));
    CHECK(json_is_array(json_object_get(d0, "requires")));
    json_decref(desc);

    kn_loader_stop_all(e.k.loader);
    kn_loader_unload_all(e.k.loader);
    CHECK_INT(world.undone, 5);
    CHECK_INT(kn_loader_count(e.k.loader), 0);
    /* the subscription went with it */
    kn_bus_publish(e.k.bus, "hello.after", json_object());
    CHECK_INT(kn_bus_drain(e.k.bus), 1);
    env_close(&e);
}

static void test_failures(const char *good_dir, const char *bad_dir) {
    char conf[2048], err[KN_ERR_MAX];
    env e;

    /* init failure: its registrations are rolled back, nothing else of it is called */
    snprintf(conf, sizeof conf,
             "server: { plugin_dir = \"%s\"; };\nplugins = [ \"bad_initfail\" ];\n", bad_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), 0);
    CHECK_INT(kn_loader_init_all(e.k.loader, err), KN_EXIT_PLUGIN);
    CHECK(strncmp(err, "plugin bad_initfail: init failed: EZ_EIO", 40) == 0);
    CHECK_INT(world.nroutes, 1);
    CHECK_INT(world.undone, 1);
    CHECK_INT(world.routes[0].live, 0);
    kn_loader_unload_all(e.k.loader); /* destroy must not be called: it would abort() */
    env_close(&e);

    /* duplicate export */
    snprintf(
        conf, sizeof conf,
        "server: { plugin_dir = \"%s\"; };\nplugins = [ \"bad_export_a\", \"bad_export_b\" ];\n",
        bad_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), 0);
    CHECK_INT(kn_loader_init_all(e.k.loader, err), KN_EXIT_PLUGIN);
    CHECK(strstr(err, "plugin bad_export_b: init failed: EZ_EEXIST") != NULL);
    CHECK(kn_loader_import(e.k.loader, "dup.v1") != NULL); /* a's export stays */
    kn_loader_unload_all(e.k.loader);
    CHECK(kn_loader_import(e.k.loader, "dup.v1") == NULL); /* removed at unload */
    env_close(&e);

    /* ordering: requires[] and cycles */
    snprintf(conf, sizeof conf,
             "server: { plugin_dir = \"%s\"; };\nplugins = [ \"bad_cycle_a\", \"bad_cycle_b\" ];\n",
             bad_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), KN_EXIT_PLUGIN);
    CHECK_STR(err,
              "plugin bad_cycle_a: dependency cycle: bad_cycle_a -> bad_cycle_b -> bad_cycle_a");
    env_close(&e);
    snprintf(conf, sizeof conf, "server: { plugin_dir = \"%s\"; };\nplugins = [ \"bad_needs\" ];\n",
             bad_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), KN_EXIT_PLUGIN);
    CHECK(strstr(err, "requires plugin \"hello\", which is not enabled") != NULL);
    env_close(&e);

    /* config sections */
    snprintf(
        conf, sizeof conf,
        "server: { plugin_dir = \"%s\"; };\nplugins = [ \"hello\" ];\nhello: {\n  nope = 1;\n};\n",
        good_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), KN_EXIT_CONFIG);
    CHECK_STR(err, "loader.conf:4: hello.nope: unknown key (see elizad --describe hello)");
    env_close(&e);
    snprintf(conf, sizeof conf,
             "server: { plugin_dir = \"%s\"; };\nplugins = [ ];\nhello: { greeting = \"x\"; };\n"
             "zzz: { a = 1; };\n",
             good_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), KN_EXIT_CONFIG);
    CHECK_STR(err, "loader.conf:4: zzz: unknown top-level section (no plugin named zzz)");
    env_close(&e);
    snprintf(conf, sizeof conf,
             "server: { plugin_dir = \"%s\"; };\nplugins = [ ];\nhello: { greeting = \"x\"; };\n",
             good_dir);
    CHECK_INT(env_open(&e, conf, err), 0);
    /* a section of a known but disabled plugin is only a warning */
    CHECK_INT(kn_loader_prepare(e.k.loader, e.k.cfg, err), 0);
    json_t *recent = kn_logger_recent(e.k.log, 0, 10);
    int warned = 0;
    for (size_t i = 0; i < json_array_size(recent); i++)
        warned |= strstr(json_string_value(json_object_get(json_array_get(recent, i), "msg")),
                         "hello: section ignored: the plugin is not enabled") != NULL;
    CHECK(warned);
    json_decref(recent);
    env_close(&e);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_loader HELLO_SO BAD_DIR\n");
        return 2;
    }
    evthread_use_pthreads();
    unsetenv("ELIZAD_PLUGIN_DIR");
    char good_dir[1024];
    snprintf(good_dir, sizeof good_dir, "%s", argv[1]);
    dirname(good_dir);
    test_gate();
    test_open(argv[1], argv[2]);
    test_lifecycle(good_dir);
    test_failures(good_dir, argv[2]);
    libevent_global_shutdown();
    CHECK_DONE();
}
