/* Router: patterns, parameters, uuid validation, "*", precedence, aliases, 404/405 decisions,
 * trailing slash, case, duplicates, removal and ud_free ownership. */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);                  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || strcmp(a_, b_) != 0) {                                                          \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, b_,        \
                    a_ ? a_ : "(null)");                                                           \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static const char UUID_A[] = "5d53d7ff-18e0-05c1-92f8-b792e6b0fd11";

/* Distinct handlers so a match can be told apart by its fn; ud carries a label. */
static int h1(ez_req *r, void *ud) {
    (void)r;
    (void)ud;
    return 1;
}
static int h2(ez_req *r, void *ud) {
    (void)r;
    (void)ud;
    return 2;
}

static int add(kn_router *r, unsigned methods, const char *pattern, const char *label) {
    kn_route_spec s = {.methods = methods, .pattern = pattern, .fn = h1, .ud = (void *)label};
    return kn_router_add(r, &s, NULL, NULL);
}

typedef struct result {
    kn_match_result rc;
    kn_match m;
    char buf[2048];
} result;

static result *match(const kn_router *r, unsigned method, const char *path) {
    static result res;
    memset(&res, 0, sizeof res);
    res.rc = kn_router_match(r, method, path, strlen(path), &res.m, res.buf, sizeof res.buf);
    return &res;
}

static const char *label(const result *res) {
    return res->m.route ? (const char *)res->m.route->ud : "(none)";
}

static const char *param(const result *res, const char *name) {
    for (int i = 0; i < res->m.nparams; i++)
        if (strcmp(res->m.names[i], name) == 0)
            return res->m.values[i];
    return NULL;
}

static void test_literals_and_params(void) {
    kn_router *r = kn_router_new();
    CHECK(add(r, EZ_GET, "/api/agents", "list") == EZ_OK);
    CHECK(add(r, EZ_GET | EZ_PATCH | EZ_DELETE, "/api/agents/:agentId", "one") == EZ_OK);
    CHECK(add(r, EZ_GET, "/api/agents/worlds", "worlds") == EZ_OK);
    CHECK(add(r, EZ_PATCH, "/api/agents/:agentId/worlds/:worldId", "world") == EZ_OK);
    CHECK(add(r, EZ_GET, "/", "root") == EZ_OK);

    result *m = match(r, EZ_GET, "/api/agents");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK_STR(label(m), "list");
    CHECK(m->m.nparams == 0);

    m = match(r, EZ_GET, "/api/agents/abc");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK_STR(label(m), "one");
    CHECK_STR(param(m, "agentId"), "abc");

    /* literal beats parameter, regardless of registration order */
    m = match(r, EZ_GET, "/api/agents/worlds");
    CHECK_STR(label(m), "worlds");
    /* ...but the literal has no PATCH, so the parameter route takes it (backtracking) */
    m = match(r, EZ_PATCH, "/api/agents/worlds");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK_STR(label(m), "one");
    CHECK_STR(param(m, "agentId"), "worlds");

    m = match(r, EZ_PATCH, "/api/agents/a1/worlds/w2");
    CHECK_STR(label(m), "world");
    CHECK_STR(param(m, "agentId"), "a1");
    CHECK_STR(param(m, "worldId"), "w2");
    CHECK(m->m.nparams == 2);

    m = match(r, EZ_GET, "/");
    CHECK_STR(label(m), "root");
    m = match(r, EZ_GET, "");
    CHECK_STR(label(m), "root");
    kn_router_free(r);
}

static void test_trailing_slash_and_case(void) {
    kn_router *r = kn_router_new();
    CHECK(add(r, EZ_GET, "/api/server/ping", "ping") == EZ_OK);
    CHECK(add(r, EZ_GET, "/api/Items/:Id/", "item") == EZ_OK); /* trailing slash in pattern */

    CHECK_STR(label(match(r, EZ_GET, "/api/server/ping/")), "ping");
    CHECK_STR(label(match(r, EZ_GET, "/API/Server/PING")), "ping");
    CHECK_STR(label(match(r, EZ_GET, "/api/items/X1")), "item");
    result *m = match(r, EZ_GET, "/api/ITEMS/MiXeD/");
    CHECK_STR(param(m, "Id"), "MiXeD"); /* values keep their case */
    /* double slashes do not collapse */
    CHECK(match(r, EZ_GET, "/api//server/ping")->rc == KN_MATCH_NOT_FOUND);
    CHECK(match(r, EZ_GET, "/api/server/ping/x")->rc == KN_MATCH_NOT_FOUND);
    CHECK(match(r, EZ_GET, "/api/server")->rc == KN_MATCH_NOT_FOUND);
    kn_router_free(r);
}

static void test_percent_decoding(void) {
    kn_router *r = kn_router_new();
    CHECK(add(r, EZ_GET, "/files/:name", "file") == EZ_OK);
    result *m = match(r, EZ_GET, "/files/a%20b%2Fc%zz%4");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK_STR(param(m, "name"), "a b/c%zz%4"); /* %2F stays inside the parameter */
    m = match(r, EZ_GET, "/files/plus+sign");
    CHECK_STR(param(m, "name"), "plus+sign"); /* '+' is literal in paths */

    char out[32];
    CHECK(kn_percent_decode("a+b%41", 6, out, 1) == 4);
    CHECK_STR(out, "a bA");
    kn_router_free(r);
}

static void test_uuid_params(void) {
    kn_router *r = kn_router_new();
    ez_route_opts o = {.err_style = EZ_ERR_MESSAGING, .uuid_error = "Invalid channelId format"};
    kn_route_spec s = {.methods = EZ_GET,
                       .pattern = "/api/messaging/channels/:channelId(uuid)/messages",
                       .fn = h1,
                       .ud = "msgs",
                       .opts = &o};
    kn_route *rt = NULL;
    CHECK(kn_router_add(r, &s, &rt, NULL) == EZ_OK);
    CHECK(rt && rt->err_style == EZ_ERR_MESSAGING && rt->uuid_code == NULL);
    if (!rt) {
        kn_router_free(r);
        return;
    }
    CHECK_STR(rt->uuid_error, "Invalid channelId format");
    CHECK(rt->uuid_error != o.uuid_error); /* copied */

    result *m =
        match(r, EZ_GET, "/api/messaging/channels/5D53D7FF-18E0-05C1-92F8-B792E6B0FD11/messages");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK(m->m.bad_param == -1);
    CHECK_STR(param(m, "channelId"), "5D53D7FF-18E0-05C1-92F8-B792E6B0FD11");

    m = match(r, EZ_GET, "/api/messaging/channels/not-a-uuid/messages");
    CHECK(m->rc == KN_MATCH_BAD_PARAM);
    CHECK(m->m.route == rt);
    CHECK(m->m.bad_param == 0);
    CHECK_STR(m->m.names[m->m.bad_param], "channelId");

    /* the zero uuid is valid; a uuid with a trailing char is not */
    m = match(r, EZ_GET, "/api/messaging/channels/00000000-0000-0000-0000-000000000000/messages");
    CHECK(m->rc == KN_MATCH_FOUND);
    m = match(r, EZ_GET, "/api/messaging/channels/5d53d7ff-18e0-05c1-92f8-b792e6b0fd11x/messages");
    CHECK(m->rc == KN_MATCH_BAD_PARAM);

    /* several parameters: the first bad one is reported */
    CHECK(add(r, EZ_DELETE, "/api/agents/:agentId(uuid)/logs/:logId(uuid)", "log") == EZ_OK);
    char path[200];
    snprintf(path, sizeof path, "/api/agents/%s/logs/nope", UUID_A);
    m = match(r, EZ_DELETE, path);
    CHECK(m->rc == KN_MATCH_BAD_PARAM);
    CHECK_STR(m->m.names[m->m.bad_param], "logId");
    kn_router_free(r);
}

static void test_star(void) {
    kn_router *r = kn_router_new();
    CHECK(add(r, EZ_GET, "/media/*", "media") == EZ_OK);
    CHECK(add(r, EZ_GET, "/media/special", "special") == EZ_OK);
    CHECK(add(r, EZ_GET | EZ_POST, "/api/agents/:agentId/plugins/*", "plugins") == EZ_OK);
    CHECK(add(r, EZ_GET, "/api/agents/:agentId/plugins/fixed/:x", "fixed") == EZ_OK);

    result *m = match(r, EZ_GET, "/media/uploads/agents/a/b%20c.png");
    CHECK_STR(label(m), "media");
    CHECK_STR(param(m, "*"), "uploads/agents/a/b c.png");
    CHECK_STR(label(match(r, EZ_GET, "/media/special")), "special"); /* literal beats star */
    m = match(r, EZ_GET, "/media/special/more");
    CHECK_STR(label(m), "media");
    CHECK_STR(param(m, "*"), "special/more");
    m = match(r, EZ_GET, "/media/");
    CHECK_STR(label(m), "media");
    CHECK_STR(param(m, "*"), "");

    m = match(r, EZ_POST, "/api/agents/A/plugins/x/y/");
    CHECK_STR(label(m), "plugins");
    CHECK_STR(param(m, "agentId"), "A");
    CHECK_STR(param(m, "*"), "x/y");
    /* parameter beats star; when the deeper parameter branch fails the star still catches */
    CHECK_STR(label(match(r, EZ_GET, "/api/agents/A/plugins/fixed/1")), "fixed");
    CHECK_STR(label(match(r, EZ_GET, "/api/agents/A/plugins/fixed/1/2")), "plugins");
    CHECK_STR(label(match(r, EZ_POST, "/api/agents/A/plugins/fixed/1")), "plugins");

    /* star must be the last segment */
    CHECK(add(r, EZ_GET, "/bad/*/x", "x") == EZ_EINVAL);
    CHECK(add(r, EZ_GET, "/bad/a*", "x") == EZ_EINVAL);
    kn_router_free(r);
}

static void test_not_found_and_method(void) {
    kn_router *r = kn_router_new();
    CHECK(add(r, EZ_GET | EZ_POST, "/api/server/logs", "logs") == EZ_OK);
    CHECK(add(r, EZ_DELETE, "/api/server/logs", "logs-del") == EZ_OK);
    CHECK(add(r, EZ_PUT, "/api/things/:id", "put") == EZ_OK);

    result *m = match(r, EZ_PATCH, "/api/server/logs");
    CHECK(m->rc == KN_MATCH_NO_METHOD);
    CHECK(m->m.allow == (EZ_GET | EZ_POST | EZ_DELETE));
    char allow[64];
    kn_methods_format(m->m.allow, allow, sizeof allow);
    CHECK_STR(allow, "GET, POST, DELETE");

    CHECK(match(r, EZ_GET, "/api/nothing")->rc == KN_MATCH_NOT_FOUND);
    CHECK(match(r, EZ_GET, "/api/things/1")->rc == KN_MATCH_NO_METHOD);
    CHECK(match(r, EZ_GET, "/api/things/1")->m.allow == EZ_PUT);
    /* an unknown method (mask 0) on an existing path is a 405, on a missing path a 404 */
    CHECK(match(r, 0, "/api/server/logs")->rc == KN_MATCH_NO_METHOD);
    CHECK(match(r, 0, "/nope")->rc == KN_MATCH_NOT_FOUND);

    /* HEAD falls back to GET routes */
    m = match(r, EZ_HEAD, "/api/server/logs");
    CHECK(m->rc == KN_MATCH_FOUND);
    CHECK_STR(label(m), "logs");

    /* a root catch-all (a web UI) serves unknown paths but not other methods of known ones */
    CHECK(add(r, EZ_GET, "/*", "ui") == EZ_OK);
    CHECK_STR(label(match(r, EZ_GET, "/chat/1")), "ui");
    CHECK_STR(label(match(r, EZ_GET, "/api/nothing")), "ui");
    m = match(r, EZ_GET, "/api/things/1");
    CHECK(m->rc == KN_MATCH_NO_METHOD);
    CHECK(m->m.allow == EZ_PUT);
    CHECK(match(r, EZ_PATCH, "/api/server/logs")->m.allow == (EZ_GET | EZ_POST | EZ_DELETE));

    char small[4];
    kn_methods_format(EZ_GET | EZ_POST, small, sizeof small);
    CHECK_STR(small, "GET");
    kn_router_free(r);
}

static void test_duplicates_and_aliases(void) {
    kn_router *r = kn_router_new();
    const kn_route *conflict = NULL;
    kn_route_spec a = {
        .methods = EZ_GET | EZ_POST, .pattern = "/api/x/:id", .fn = h1, .owner = (void *)0x1};
    kn_route_spec b = {
        .methods = EZ_POST, .pattern = "/API/X/:other", .fn = h2, .owner = (void *)0x2};
    kn_route *ra = NULL;
    CHECK(kn_router_add(r, &a, &ra, &conflict) == EZ_OK && conflict == NULL);
    /* same shape (case and parameter name do not matter) + overlapping method */
    CHECK(kn_router_add(r, &b, NULL, &conflict) == EZ_EEXIST);
    CHECK(conflict == ra && conflict->owner == (void *)0x1);
    /* same shape, other method: fine */
    b.methods = EZ_DELETE;
    CHECK(kn_router_add(r, &b, NULL, &conflict) == EZ_OK && conflict == NULL);
    result *m = match(r, EZ_DELETE, "/api/x/7");
    CHECK(m->m.route->fn == h2);
    CHECK_STR(param(m, "other"), "7");
    m = match(r, EZ_GET, "/api/x/7");
    CHECK(m->m.route->fn == h1);
    CHECK_STR(param(m, "id"), "7");

    /* star routes only conflict with star routes */
    CHECK(add(r, EZ_GET, "/api/x/*", "star") == EZ_OK);
    CHECK(add(r, EZ_GET, "/api/x/*", "star2") == EZ_EEXIST);

    /* aliases: one handler, several patterns */
    kn_route_spec p1 = {.methods = EZ_GET, .pattern = "/api/server/ping", .fn = h2, .ud = "ping"};
    kn_route_spec p2 = {.methods = EZ_GET, .pattern = "/api/ping", .fn = h2, .ud = "ping"};
    CHECK(kn_router_add(r, &p1, NULL, NULL) == EZ_OK);
    CHECK(kn_router_add(r, &p2, NULL, NULL) == EZ_OK);
    CHECK(match(r, EZ_GET, "/api/ping")->m.route->fn == h2);
    CHECK(match(r, EZ_GET, "/api/server/ping")->m.route->fn == h2);

    /* malformed patterns and masks */
    CHECK(add(r, EZ_GET, "no-slash", "x") == EZ_EINVAL);
    CHECK(add(r, EZ_GET, "/a//b", "x") == EZ_EINVAL);
    CHECK(add(r, EZ_GET, "/a/:", "x") == EZ_EINVAL);
    CHECK(add(r, EZ_GET, "/a/:(uuid)", "x") == EZ_EINVAL);
    CHECK(add(r, EZ_GET, "/a/:na-me", "x") == EZ_EINVAL);
    CHECK(add(r, 0, "/a", "x") == EZ_EINVAL);
    CHECK(add(r, 1u << 12, "/a", "x") == EZ_EINVAL);
    kn_router_free(r);
}

static int freed;
static void count_free(void *ud) {
    freed += (int)(size_t)ud;
}

static void collect(const kn_route *rt, void *arg) {
    char *out = arg;
    strcat(out, rt->pattern);
    strcat(out, ";");
}

static void test_remove_and_free(void) {
    kn_router *r = kn_router_new();
    kn_route *ra = NULL, *rb = NULL;
    kn_route_spec a = {
        .methods = EZ_GET, .pattern = "/a/:id", .fn = h1, .ud = (void *)1, .ud_free = count_free};
    kn_route_spec b = {
        .methods = EZ_GET, .pattern = "/b", .fn = h1, .ud = (void *)10, .ud_free = count_free};
    CHECK(kn_router_add(r, &a, &ra, NULL) == EZ_OK);
    CHECK(kn_router_add(r, &b, &rb, NULL) == EZ_OK);
    /* a failed registration does not take ud */
    freed = 0;
    CHECK(kn_router_add(r, &b, NULL, NULL) == EZ_EEXIST);
    CHECK(freed == 0);

    char order[128] = "";
    kn_router_foreach(r, collect, order);
    CHECK_STR(order, "/a/:id;/b;");

    kn_router_remove(r, ra);
    CHECK(freed == 1);
    CHECK(match(r, EZ_GET, "/a/1")->rc == KN_MATCH_NOT_FOUND);
    /* the slot is free again */
    CHECK(kn_router_add(r, &a, &ra, NULL) == EZ_OK);
    CHECK(match(r, EZ_GET, "/a/1")->rc == KN_MATCH_FOUND);
    kn_router_free(r);
    CHECK(freed == 12);
}

static void test_many_routes(void) {
    /* hundreds of routes: every one is found with its own parameters */
    kn_router *r = kn_router_new();
    char pat[128], path[128];
    static char labels[400][16];
    for (int i = 0; i < 400; i++) {
        snprintf(pat, sizeof pat, "/api/area%d/:id/sub%d/:x", i % 20, i);
        snprintf(labels[i], sizeof labels[i], "r%d", i);
        CHECK(add(r, EZ_GET, pat, labels[i]) == EZ_OK);
    }
    for (int i = 0; i < 400; i++) {
        snprintf(path, sizeof path, "/api/area%d/ID%d/sub%d/X", i % 20, i, i);
        result *m = match(r, EZ_GET, path);
        CHECK(m->rc == KN_MATCH_FOUND);
        CHECK_STR(label(m), labels[i]);
        char want[32];
        snprintf(want, sizeof want, "ID%d", i);
        CHECK_STR(param(m, "id"), want);
    }
    /* a path with more segments than the router handles is simply not found */
    char longp[400] = "";
    for (int i = 0; i < KN_ROUTE_MAX_SEGS + 2; i++)
        strcat(longp, "/a");
    CHECK(match(r, EZ_GET, longp)->rc == KN_MATCH_NOT_FOUND);
    /* buffer too small for the decoded values is refused, not overrun */
    kn_match mm;
    char tiny[4];
    CHECK(kn_router_match(r, EZ_GET, "/api/area0/i/sub0/x", 19, &mm, tiny, sizeof tiny) ==
          KN_MATCH_NOT_FOUND);
    kn_router_free(r);
}

int main(void) {
    test_literals_and_params();
    test_trailing_slash_and_case();
    test_percent_decoding();
    test_uuid_params();
    test_star();
    test_not_found_and_method();
    test_duplicates_and_aliases();
    test_remove_and_free();
    test_many_routes();
    if (failures) {
        fprintf(stderr, "test_router: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_router: ok\n");
    return 0;
}
