/* config.c: built-in defaults (= packaging/elizad.conf), file and environment layers, the
 * one-line "FILE:LINE: KEY: reason" errors, plugin sections against a schema. */
#include "check.h"
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const env_vars[] = {
    "SERVER_PORT",       "SERVER_HOST",     "ELIZA_SERVER_AUTH_TOKEN", "SERVER_API_KEY",
    "CORS_ORIGIN",       "API_CORS_ORIGIN", "EXPRESS_MAX_PAYLOAD",     "ELIZA_DATA_DIR",
    "ELIZAD_PLUGIN_DIR", "LOG_LEVEL"};

static void clear_env(void) {
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
        unsetenv(env_vars[i]);
}

static kn_config *load(const char *text, char *err) {
    err[0] = '\0';
    return kn_config_load_string(text, "t.conf", err);
}

static void test_defaults(void) {
    char err[KN_ERR_MAX];
    kn_config *c = load("", err);
    CHECK(c != NULL);
    if (!c)
        return;
    /* identical to packaging/elizad.conf */
    CHECK_STR(kn_config_get(c, "server.host"), "0.0.0.0");
    CHECK_STR(kn_config_get(c, "server.port"), "3000");
    CHECK_STR(kn_config_get(c, "server.data_dir"), "./.eliza");
    CHECK(kn_config_get(c, "server.auth_token") == NULL);
    CHECK(kn_config_get(c, "server.socket_api_key") == NULL);
    CHECK(kn_config_get(c, "server.cors_origin") == NULL);
    CHECK_STR(kn_config_get(c, "server.max_body"), "2097152");
    CHECK(kn_config_get(c, "server.plugin_dir") == NULL);
    CHECK_STR(kn_config_get(c, "server.max_upload"), "53477376");
    CHECK_STR(kn_config_get(c, "server.header_timeout_ms"), "10000");
    CHECK_STR(kn_config_get(c, "server.idle_timeout_ms"), "5000");
    CHECK_STR(kn_config_get(c, "server.request_timeout_ms"), "30000");
    CHECK_STR(kn_config_get(c, "server.workers"), "2");
    CHECK_STR(kn_config_get(c, "server.log_level"), "info");
    CHECK_STR(kn_config_get(c, "socketio.path"), "/socket.io/");
    CHECK_STR(kn_config_get(c, "socketio.ping_interval"), "25000");
    CHECK_STR(kn_config_get(c, "socketio.ping_timeout"), "20000");
    CHECK_STR(kn_config_get(c, "socketio.max_payload"), "1000000");
    CHECK_STR(kn_config_get(c, "socketio.connect_timeout"), "45000");
    CHECK(kn_config_get(c, "socketio.engineio_echo_path") == NULL);
    CHECK(kn_config_get(c, "server.nope") == NULL);
    CHECK_INT(kn_config_get_int(c, "server.port", 1), 3000);
    CHECK_INT(kn_config_get_int(c, "server.nope", 7), 7);
    CHECK_INT(kn_config_plugin_count(c), 10);
    CHECK_STR(kn_config_plugin_name(c, 0), "messaging");
    CHECK_STR(kn_config_plugin_name(c, 3), "model_eliza");
    CHECK_STR(kn_config_plugin_name(c, 4), "sessions");
    CHECK(kn_config_plugin_enabled(c, "agents"));
    CHECK(!kn_config_plugin_enabled(c, "hello"));
    kn_config_free(c);

    /* no file at all: the built-in text itself */
    c = kn_config_load_string("# nothing\n", "empty.conf", err);
    CHECK(c != NULL);
    kn_config_free(c);
}

static void test_file_and_env(void) {
    char err[KN_ERR_MAX];
    kn_config *c =
        load("server: {\n  port = 4000;\n  max_body = \"100kb\";\n  log_level = \"DEBUG\";\n"
             "  auth_token = \"secret\";\n};\nsocketio = { ping_interval = 100; };\n"
             "plugins = [ \"hello\" ];\nhello: { greeting = \"hi\"; };\n",
             err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_STR(kn_config_get(c, "server.port"), "4000");
    CHECK_STR(kn_config_get(c, "server.max_body"), "102400");
    CHECK_STR(kn_config_get(c, "server.log_level"), "debug");
    CHECK_STR(kn_config_get(c, "server.auth_token"), "secret");
    CHECK_STR(kn_config_get(c, "socketio.ping_interval"), "100");
    CHECK_STR(kn_config_get(c, "socketio.ping_timeout"), "20000"); /* default kept */
    CHECK_INT(kn_config_plugin_count(c), 1);
    CHECK_INT(kn_config_section_count(c), 1);
    CHECK_STR(kn_config_section_name(c, 0), "hello");
    CHECK_INT(kn_config_section_line(c, 0), 9);
    kn_config_free(c);

    setenv("SERVER_PORT", "5001", 1);
    setenv("SERVER_HOST", "127.0.0.1", 1);
    setenv("ELIZA_SERVER_AUTH_TOKEN", "tok", 1);
    setenv("SERVER_API_KEY", "sock", 1);
    setenv("API_CORS_ORIGIN", "http://b", 1);
    setenv("EXPRESS_MAX_PAYLOAD", "1mb", 1);
    setenv("ELIZA_DATA_DIR", "/tmp/x", 1);
    setenv("ELIZAD_PLUGIN_DIR", "/tmp/p", 1);
    setenv("LOG_LEVEL", "warn", 1);
    c = load("server: { port = 4000; };", err);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(kn_config_get(c, "server.port"), "5001"); /* env beats the file */
        CHECK_STR(kn_config_get(c, "server.host"), "127.0.0.1");
        CHECK_STR(kn_config_get(c, "server.auth_token"), "tok");
        CHECK_STR(kn_config_get(c, "server.socket_api_key"), "sock");
        CHECK_STR(kn_config_get(c, "server.cors_origin"), "http://b");
        CHECK_STR(kn_config_get(c, "server.max_body"), "1048576");
        CHECK_STR(kn_config_get(c, "server.data_dir"), "/tmp/x");
        CHECK_STR(kn_config_get(c, "server.plugin_dir"), "/tmp/p");
        CHECK_STR(kn_config_get(c, "server.log_level"), "warn");
        kn_config_free(c);
    }
    setenv("CORS_ORIGIN", "http://a", 1); /* CORS_ORIGIN wins over API_CORS_ORIGIN */
    c = load("", err);
    CHECK(c && kn_config_get(c, "server.cors_origin") &&
          strcmp(kn_config_get(c, "server.cors_origin"), "http://a") == 0);
    kn_config_free(c);
    /* an empty variable clears the value (auth off) */
    setenv("ELIZA_SERVER_AUTH_TOKEN", "", 1);
    c = load("server: { auth_token = \"x\"; };", err);
    CHECK(c && kn_config_get(c, "server.auth_token") == NULL);
    kn_config_free(c);

    setenv("SERVER_PORT", "abc", 1);
    c = load("", err);
    CHECK(c == NULL);
    CHECK_STR(err,
              "environment:0: server.port (from SERVER_PORT): expected an integer (got \"abc\")");
    setenv("SERVER_PORT", "70000", 1);
    CHECK((c = load("", err)) == NULL);
    CHECK(strstr(err, "server.port") && strstr(err, "out of range"));
    clear_env();
    setenv("LOG_LEVEL", "loud", 1);
    CHECK((c = load("", err)) == NULL);
    CHECK(strstr(err, "server.log_level (from LOG_LEVEL)") != NULL);
    clear_env();
}

/* Each bad text must fail with exactly this one-line error. */
static void expect_error(const char *text, const char *want) {
    char err[KN_ERR_MAX];
    kn_config *c = load(text, err);
    CHECK(c == NULL);
    kn_config_free(c);
    CHECK(strchr(err, '\n') == NULL);
    if (strncmp(err, want, strlen(want)) != 0) {
        check_failures++;
        fprintf(stderr, "config error mismatch:\n  got:  %s\n  want: %s...\n", err, want);
    }
    check_count++;
}

static void test_errors(void) {
    expect_error("server: {\n  port = 1;\n  bogus = 2;\n};\n",
                 "t.conf:3: server.bogus: unknown key");
    expect_error("server: {\n  port = \"abc\";\n};\n",
                 "t.conf:2: server.port: expected an integer");
    expect_error("server: { port = 99999; };",
                 "t.conf:1: server.port: 99999 is out of range 0..65535");
    expect_error("server: { workers = 0; };", "t.conf:1: server.workers: 0 is out of range");
    expect_error("server: { host = 5; };", "t.conf:1: server.host: expected a string");
    expect_error("server: { host = \"\"; };", "t.conf:1: server.host: must not be empty");
    expect_error("server: { max_body = \"2 parsecs\"; };",
                 "t.conf:1: server.max_body: expected a size");
    expect_error("server: { log_level = \"chatty\"; };",
                 "t.conf:1: server.log_level: expected error");
    expect_error("socketio: { path = \"socket.io\"; };",
                 "t.conf:1: socketio.path: must start with '/'");
    expect_error("socketio: { pingInterval = 5; };",
                 "t.conf:1: socketio.pingInterval: unknown key");
    expect_error("\n\nfoo = 1;\n", "t.conf:3: foo: unknown top-level key");
    expect_error("server = 5;", "t.conf:1: server: expected a section");
    expect_error("plugins = \"hello\";", "t.conf:1: plugins: expected a list");
    expect_error("plugins = [ \"Hello\" ];",
                 "t.conf:1: plugins[0]: \"Hello\" is not a plugin name");
    expect_error("plugins = [ \"a\", \"a\" ];", "t.conf:1: plugins: \"a\" is listed twice");
    expect_error("plugins = [ 1 ];", "t.conf:1: plugins[0]: expected a string");
    expect_error("server: {\n  port = ;\n};", "t.conf:2: syntax:");
}

static const ez_config_field schema[] = {
    {EZ_CFG_STRING, "name", "anon", 0, 0, "a string"},
    {EZ_CFG_INT, "count", "3", 0, 0, NULL},
    {EZ_CFG_DOUBLE, "ratio", "0.5", 0, 0, NULL},
    {EZ_CFG_BOOL, "on", "true", 0, 0, NULL},
    {EZ_CFG_STRING_LIST, "tags", "x, y ,z", 0, 0, NULL},
    {EZ_CFG_STRING, "key", NULL, 1, 1, "required secret"},
    {EZ_CFG_STRING, "opt", NULL, 0, 0, "no default, optional"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

static json_t *section(const char *text, char *err) {
    kn_config *c = load(text, err);
    if (!c)
        return NULL;
    json_t *out = NULL;
    if (kn_config_plugin_section(c, "demo", schema, &out, err) != EZ_OK)
        out = NULL;
    kn_config_free(c);
    return out;
}

static void test_sections(void) {
    char err[KN_ERR_MAX];
    json_t *o =
        section("plugins = [\"demo\"];\ndemo: { key = \"k\"; ratio = 2; tags = [\"a\"]; };", err);
    CHECK(o != NULL);
    if (o) {
        char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
        CHECK_STR(s, "{\"count\":3,\"key\":\"k\",\"name\":\"anon\",\"on\":true,\"ratio\":2.0,"
                     "\"tags\":[\"a\"]}");
        free(s);
        json_decref(o);
    }
    o = section("plugins = [\"demo\"];\ndemo: { key = \"k\"; on = false; count = 7L; name = \"n\"; "
                "opt = \"o\"; };",
                err);
    CHECK(o != NULL);
    if (o) {
        CHECK(json_is_false(json_object_get(o, "on")));
        CHECK_INT(json_integer_value(json_object_get(o, "count")), 7);
        CHECK_STR(json_string_value(json_object_get(o, "opt")), "o");
        json_t *tags = json_object_get(o, "tags");
        CHECK_INT(json_array_size(tags), 3);
        CHECK_STR(json_string_value(json_array_get(tags, 1)), "y");
        json_decref(o);
    }
    CHECK(section("plugins = [\"demo\"];\n", err) == NULL);
    CHECK_STR(err, "t.conf:1: demo.key: required value missing");
    CHECK(section("plugins = [\"demo\"];\ndemo: {\n key = \"\";\n};", err) == NULL);
    CHECK_STR(err, "t.conf:2: demo.key: required value missing");
    CHECK(section("plugins = [\"demo\"];\ndemo: {\n key = \"k\";\n nope = 1;\n};", err) == NULL);
    CHECK_STR(err, "t.conf:4: demo.nope: unknown key (see elizad --describe demo)");
    CHECK(section("plugins = [\"demo\"];\ndemo: {\n key = \"k\";\n count = \"3\";\n};", err) ==
          NULL);
    CHECK_STR(err, "t.conf:4: demo.count: expected an integer");
    CHECK(section("plugins = [\"demo\"];\ndemo: { key = \"k\"; on = 1; };", err) == NULL);
    CHECK_STR(err, "t.conf:2: demo.on: expected true or false");
    CHECK(section("plugins = [\"demo\"];\ndemo: { key = \"k\"; tags = \"a\"; };", err) == NULL);
    CHECK_STR(err, "t.conf:2: demo.tags: expected a list of strings [ \"a\", \"b\" ]");
    CHECK(section("plugins = [\"demo\"];\ndemo: { key = \"k\"; tags = [1]; };", err) == NULL);
    CHECK(strstr(err, "demo.tags: element 0") != NULL);
    CHECK(section("plugins = [\"demo\"];\ndemo: { key = 5; };", err) == NULL);
    CHECK_STR(err, "t.conf:2: demo.key: expected a string");

    /* schema defaults parse per type */
    ez_config_field f = {EZ_CFG_BOOL, "b", "maybe", 0, 0, NULL};
    CHECK(kn_config_parse_default(&f) == NULL);
    f.default_value = "yes";
    json_t *v = kn_config_parse_default(&f);
    CHECK(json_is_true(v));
    f = (ez_config_field){EZ_CFG_INT, "i", "12x", 0, 0, NULL};
    CHECK(kn_config_parse_default(&f) == NULL);
    f = (ez_config_field){EZ_CFG_STRING_LIST, "l", "", 0, 0, NULL};
    v = kn_config_parse_default(&f);
    CHECK(json_is_array(v) && json_array_size(v) == 0);
    json_decref(v);
}

static void test_files(void) {
    char err[KN_ERR_MAX];
    CHECK(kn_config_load("/nonexistent/elizad.conf", err) == NULL);
    CHECK(strncmp(err, "/nonexistent/elizad.conf:0: config: cannot open", 47) == 0);
    char path[] = "/tmp/elizad-test-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "# comment\nserver: {\n  port = 3100;\n  colour = \"blue\";\n};\n";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    CHECK(kn_config_load(path, err) == NULL);
    char want[256];
    snprintf(want, sizeof want, "%s:4: server.colour: unknown key", path);
    CHECK_STR(err, want);
    unlink(path);
}

int main(void) {
    clear_env();
    test_defaults();
    test_file_and_env();
    test_errors();
    test_sections();
    test_files();
    CHECK_DONE();
}
