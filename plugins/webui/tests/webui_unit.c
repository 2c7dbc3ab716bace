/* Unit tests of the webui plugin against the SDK testkit: a throw-away dist in a temporary
 * directory, with a secret beside it and symlinks pointing in and out. Paths are sent raw
 * (percent-encoded as a client would), so the testkit decodes them once as the kernel does. */
#include "webui_int.h"

#include <elizad/testkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const ez_plugin_desc ez_plugin_v1;

static const char index_html[] = "<!doctype html><div id=\"root\"></div>\n";

static void put(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void link_to(const char *dir, const char *name, const char *target) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (symlink(target, path) != 0) {
        perror(path);
        exit(2);
    }
}

static const char *header(const ez_tk_reply *r, const char *name) {
    return json_string_value(json_object_get(r->headers, name));
}

static ez_tk_reply *get_with(ez_tk *tk, const char *method, const char *path,
                             const char *const *headers) {
    ez_tk_request rq = {.method = method, .path = path, .headers = headers};
    return ez_tk_call(tk, &rq);
}

static void check_status(ez_tk *tk, const char *path, int want) {
    ez_tk_reply *r = ez_tk_get(tk, path);
    if (!ez_tk_check_status(tk, r, want, __FILE__, __LINE__))
        fprintf(stderr, "  for GET %s\n", path);
}

static void check_serving(ez_tk *tk) {
    ez_tk_reply *r = ez_tk_get(tk, "/");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->content_type, "text/html; charset=utf-8");
    EZ_TK_CHECK_STR(tk, r->body, index_html);
    EZ_TK_CHECK_STR(tk, header(r, "Cache-Control"), "no-cache");
    EZ_TK_CHECK(tk, header(r, "ETag") != NULL && header(r, "Last-Modified") != NULL);

    /* client-side routes get index.html */
    r = ez_tk_get(tk, "/chat/0b7d1a52-43a4-4d8c-9c3a-3b5e4b2f1e11");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->body, index_html);
    r = ez_tk_get(tk, "/settings/");
    EZ_TK_CHECK_STR(tk, r->body, index_html);
    r = ez_tk_get(tk, "/assets"); /* a directory: no listing, the SPA */
    EZ_TK_CHECK_STR(tk, r->body, index_html);

    r = ez_tk_get(tk, "/assets/main-Ab12Cd34.js");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->content_type, "text/javascript; charset=utf-8");
    EZ_TK_CHECK_STR(tk, r->body, "export default 1;\n");
    EZ_TK_CHECK_STR(tk, header(r, "Cache-Control"), "public, max-age=31536000, immutable");
    r = ez_tk_get(tk, "/assets/style-Zz.css");
    EZ_TK_CHECK_STR(tk, r->content_type, "text/css; charset=utf-8");
    r = ez_tk_get(tk, "/favicon.ico");
    EZ_TK_CHECK_STR(tk, r->content_type, "image/x-icon");
    EZ_TK_CHECK_STR(tk, header(r, "Cache-Control"), "public, max-age=0");
    r = ez_tk_get(tk, "/index.html");
    EZ_TK_CHECK_STR(tk, header(r, "Cache-Control"), "no-cache");
    r = ez_tk_get(tk, "/inside.js"); /* a symlink that stays inside the dist */
    EZ_TK_CHECK_STATUS(tk, r, 200);
    r = ez_tk_get(tk, "/with%20space.txt"); /* decoded once */
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->body, "spaced\n");

    /* missing files are 404s, a missing module the official JavaScript one */
    r = ez_tk_get(tk, "/assets/gone-123.js");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK_STR(tk, r->content_type, "application/javascript; charset=utf-8");
    EZ_TK_CHECK_STR(tk, r->body, "// JavaScript module not found: /assets/gone-123.js\n");
    check_status(tk, "/missing.png", 404);
    check_status(tk, "/assets/nothing", 404);
    check_status(tk, "/.webui-version", 404);
    check_status(tk, "/.git/config", 404);

    /* unknown /api paths keep the official JSON 404 */
    r = ez_tk_get(tk, "/api/nope");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK_JSON(tk, r->json,
                     "{\"success\":false,\"error\":{\"message\":\"API endpoint not found\","
                     "\"code\":404}}");
    r = ez_tk_get(tk, "/API");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK(tk, r->json != NULL);
    check_status(tk, "/apiary", 200); /* only the /api segment is the API's */
}

static void check_refusals(ez_tk *tk) {
    static const char *const bad[] = {
        "/%2e%2e/secret",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/assets/%2e%2e%2fsecret",
        "/assets/%2e%2e",
        "/a%5cb",
        "/%5c..%5csecret",
        "/x/%2e/index.html",
        "/a%2f%2fetc/passwd",
        "/x%01y",
        "/%2fetc/passwd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_status(tk, bad[i], 400);
    /* decoded once: a double-encoded dot-dot is a (missing) literal name, not a parent */
    check_status(tk, "/assets/%252e%252e%252fsecret", 404);

    char longp[WEBUI_PATH_MAX + 64] = "/";
    memset(longp + 1, 'a', sizeof longp - 2);
    longp[sizeof longp - 1] = '\0';
    check_status(tk, longp, 414);

    /* symlinks leading out of the dist, to a file or through a directory */
    check_status(tk, "/escape.txt", 403);
    check_status(tk, "/up/secret", 403);
    ez_tk_reply *r = ez_tk_get(tk, "/up/secret");
    EZ_TK_CHECK(tk, r->body && strstr(r->body, "TOP SECRET") == NULL);
}

static void check_conditional(ez_tk *tk) {
    ez_tk_reply *r = ez_tk_get(tk, "/assets/main-Ab12Cd34.js");
    const char *etag = header(r, "ETag");
    EZ_TK_CHECK(tk, etag && strncmp(etag, "W/\"", 3) == 0);
    char tag[80];
    snprintf(tag, sizeof tag, "%s", etag ? etag : "");
    const char *h1[] = {"If-None-Match", tag, NULL};
    r = get_with(tk, "GET", "/assets/main-Ab12Cd34.js", h1);
    EZ_TK_CHECK_STATUS(tk, r, 304);
    char list[128];
    snprintf(list, sizeof list, "\"nope\", %s", tag + 2); /* strong form in a list */
    const char *h2[] = {"If-None-Match", list, NULL};
    r = get_with(tk, "GET", "/assets/main-Ab12Cd34.js", h2);
    EZ_TK_CHECK_STATUS(tk, r, 304);
    const char *h3[] = {"If-None-Match", "W/\"0-0\"", NULL};
    r = get_with(tk, "GET", "/assets/main-Ab12Cd34.js", h3);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    r = get_with(tk, "HEAD", "/", NULL);
    EZ_TK_CHECK_STATUS(tk, r, 200);
}

static int run_installed(const char *top, const char *dist) {
    ez_tk *tk = ez_tk_new();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"dir\":\"%s\"}", dist);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, cfg), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_log(tk), "msg", "serving the web UI from *"), 1);
    check_serving(tk);
    check_refusals(tk);
    check_conditional(tk);
    (void)top;
    return ez_tk_finish(tk);
}

static int run_too_large(const char *dist) {
    ez_tk *tk = ez_tk_new();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"dir\":\"%s\",\"max_file_size\":10}", dist);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, cfg), EZ_OK);
    check_status(tk, "/assets/main-Ab12Cd34.js", 500);
    check_status(tk, "/favicon.ico", 200); /* 4 bytes */
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_log(tk), "msg", "*larger than max_file_size*"), 1);
    return ez_tk_finish(tk);
}

static int run_missing(const char *top) {
    ez_tk *tk = ez_tk_new();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"dir\":\"%s/not-there\"}", top);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, cfg), EZ_OK);
    EZ_TK_CHECK_INT(tk, ez_tk_count(ez_tk_log(tk), "msg", "web UI not installed*"), 1);
    ez_tk_reply *r = ez_tk_get(tk, "/");
    EZ_TK_CHECK_STATUS(tk, r, 503);
    EZ_TK_CHECK_STR(tk, r->content_type, "text/html; charset=utf-8");
    EZ_TK_CHECK(tk, r->body && strstr(r->body, "packaging/fetch-webui.sh") != NULL);
    EZ_TK_CHECK(tk, r->body && strstr(r->body, top) == NULL); /* no server path leaks */
    r = ez_tk_get(tk, "/api/agents/nope");
    EZ_TK_CHECK_STATUS(tk, r, 404);
    EZ_TK_CHECK(tk, r->json != NULL);
    check_status(tk, "/%2e%2e/x", 400);
    /* installed later: served without a restart */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/not-there", top);
    EZ_TK_CHECK(tk, mkdir(dir, 0700) == 0);
    put(dir, "index.html", index_html);
    check_status(tk, "/", 200);
    return ez_tk_finish(tk);
}

int main(void) {
    char top[] = "/tmp/webui-unit-XXXXXX";
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        return 2;
    }
    char dist[300], assets[320], git[320];
    snprintf(dist, sizeof dist, "%s/dist", top);
    snprintf(assets, sizeof assets, "%s/assets", dist);
    snprintf(git, sizeof git, "%s/.git", dist);
    if (mkdir(dist, 0700) || mkdir(assets, 0700) || mkdir(git, 0700)) {
        perror("mkdir");
        return 2;
    }
    put(top, "secret", "TOP SECRET\n");
    put(dist, "index.html", index_html);
    put(dist, "favicon.ico", "ICO\n");
    put(dist, "with space.txt", "spaced\n");
    put(dist, ".webui-version", "@elizaos/client@1.7.2\n");
    put(git, "config", "[core]\n");
    put(assets, "main-Ab12Cd34.js", "export default 1;\n");
    put(assets, "style-Zz.css", "body{}\n");
    link_to(dist, "escape.txt", "../secret");
    link_to(dist, "up", "..");
    link_to(dist, "inside.js", "assets/main-Ab12Cd34.js");

    int failed = run_installed(top, dist);
    failed |= run_too_large(dist);
    failed |= run_missing(top);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", top);
    return failed ? 1 : 0;
}
