/* media's unit test. The multipart reader (the kernel's, through the host table: the testkit
 * links the same kernel/multipart.c) and the name/type helpers are called directly (every
 * prefix and thousands of mutations of a body, each in an exact-size heap block so that the
 * sanitizers catch a single byte read past the end); the routes run through the SDK testkit
 * (a fake host whose work_submit runs the worker function inline and done on the next turn). */
#include "media_int.h"

#include <elizad/testkit.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const ez_plugin_desc ez_plugin_v1;

#define AGENT "22222222-2222-4222-8222-222222222222"
#define CHANNEL "33333333-3333-4333-8333-333333333333"
#define OTHER "44444444-4444-4444-8444-444444444444"
#define CT "multipart/form-data; boundary=XyZ"

static const ez_host_api *mp; /* the host table of the test's fake host */

/* ---- building bodies ---- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s) {
    put(b, s, strlen(s));
}

/* One part: a file when filename is not NULL, a text field otherwise. */
static void part(buf *b, const char *name, const char *filename, const char *type, const void *d,
                 size_t n) {
    puts_(b, "--XyZ\r\nContent-Disposition: form-data; name=\"");
    puts_(b, name);
    puts_(b, "\"");
    if (filename) {
        puts_(b, "; filename=\"");
        puts_(b, filename);
        puts_(b, "\"");
    }
    puts_(b, "\r\n");
    if (type) {
        puts_(b, "Content-Type: ");
        puts_(b, type);
        puts_(b, "\r\n");
    }
    puts_(b, "\r\n");
    put(b, d, n);
    puts_(b, "\r\n");
}

static void close_form(buf *b) {
    puts_(b, "--XyZ--\r\n");
}

/* Binary content with the traps a parser can fall into: CR LF, "--", a near-boundary, NUL. */
static const unsigned char png[] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,   0,
                                    '-',  '-',  'X', 'y', '\r', '\n', '-',  '-',  'X', 'y',
                                    'z',  0xff, 0,   1,   2,    3,    '\r', '\n', '-', '-'};

/* ---- the parser, directly ---- */

typedef struct seen {
    int n;
    char names[4][EZ_MP_NAME_MAX + 1];
    char files[4][EZ_MP_FILENAME_MAX + 1];
    int has_file[4];
    char types[4][EZ_MP_TYPE_MAX + 1];
    size_t lens[4];
    const unsigned char *data[4];
    const char *lo, *hi; /* the body's bounds, to check every part lies inside */
    int outside;
    int stop_after;
} seen;

static int collect(const ez_mp_part *p, void *ud) {
    seen *s = ud;
    if ((const char *)p->data < s->lo || (const char *)p->data + p->len > s->hi)
        s->outside++;
    if (s->n < 4) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", p->name);
        memcpy(s->files[s->n], p->filename, p->filename_len + 1);
        s->has_file[s->n] = p->has_filename;
        snprintf(s->types[s->n], sizeof s->types[0], "%s", p->content_type);
        s->lens[s->n] = p->len;
        s->data[s->n] = p->data;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* Parses text (len bytes) from an exact-size copy. */
static ez_mp_status parse_exact(const char *text, size_t len, const char *boundary, seen *s) {
    char *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, text, len);
    int stop = s->stop_after;
    memset(s, 0, sizeof *s);
    s->stop_after = stop;
    s->lo = copy;
    s->hi = copy + len;
    ez_mp_part p;
    ez_mp_status rc = mp->mp_parse(copy, len, boundary, &p, collect, s);
    /* data pointers die with the copy: keep only the verdict and the copied strings */
    for (int i = 0; i < 4; i++)
        s->data[i] = NULL;
    free(copy);
    return rc;
}

static void boundary_cases(ez_tk *tk) {
    char b[EZ_MP_BOUNDARY_MAX + 1];
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data; boundary=abc", b), 3);
    EZ_TK_CHECK_STR(tk, b, "abc");
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data;charset=x; BOUNDARY=\"a b;c\"", b), 5);
    EZ_TK_CHECK_STR(tk, b, "a b;c");
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data; boundary=----x=+ ", b), 7);
    EZ_TK_CHECK_STR(tk, b, "----x=+");
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data", b), 0);
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data; boundary=", b), 0);
    EZ_TK_CHECK_INT(tk, mp->mp_boundary("multipart/form-data; boundary=\"unterminated", b), 0);
    char longct[400];
    snprintf(longct, sizeof longct, "multipart/form-data; boundary=%0250d", 7);
    EZ_TK_CHECK_INT(tk, mp->mp_boundary(longct, b), 0);
    EZ_TK_CHECK(tk, mp->mp_is_form(" Multipart/Form-Data; boundary=x"));
    EZ_TK_CHECK(tk, !mp->mp_is_form("multipart/form-dataX"));
    EZ_TK_CHECK(tk, !mp->mp_is_form("application/json"));
    EZ_TK_CHECK(tk, !mp->mp_is_form(NULL));
}

static void wellformed(ez_tk *tk) {
    buf b = {0};
    puts_(&b, "preamble to ignore\r\n");
    part(&b, "metadata", NULL, NULL, "{\"a\":1}", 7);
    part(&b, "file", "pic.png", "Image/PNG; charset=binary", png, sizeof png);
    puts_(&b, "--XyZ--  \r\nepilogue to ignore");
    seen s = {0};
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &s), EZ_MP_OK);
    EZ_TK_CHECK_INT(tk, s.n, 2);
    EZ_TK_CHECK_INT(tk, s.outside, 0);
    EZ_TK_CHECK_STR(tk, s.names[0], "metadata");
    EZ_TK_CHECK_INT(tk, s.has_file[0], 0);
    EZ_TK_CHECK_STR(tk, s.types[0], "text/plain");
    EZ_TK_CHECK_INT(tk, s.lens[0], 7);
    EZ_TK_CHECK_STR(tk, s.names[1], "file");
    EZ_TK_CHECK_STR(tk, s.files[1], "pic.png");
    EZ_TK_CHECK_STR(tk, s.types[1], "image/png");
    EZ_TK_CHECK_INT(tk, s.lens[1], sizeof png);

    /* the bytes themselves, with the body still alive */
    ez_mp_part p;
    seen s2 = {.lo = b.p, .hi = b.p + b.n};
    EZ_TK_CHECK_INT(tk, mp->mp_parse(b.p, b.n, "XyZ", &p, collect, &s2), EZ_MP_OK);
    EZ_TK_CHECK(tk, s2.data[1] && memcmp(s2.data[1], png, sizeof png) == 0);

    /* every prefix: never OK before the close delimiter is complete, never out of bounds */
    const char *close = memmem(b.p, b.n, "--XyZ--", 7); /* the body holds NULs */
    size_t need = (size_t)(close - b.p) + 7;
    int early_ok = 0, outside = 0;
    for (size_t n = 0; n <= b.n; n++) {
        seen t = {0};
        ez_mp_status rc = parse_exact(b.p, n, "XyZ", &t);
        if (rc == EZ_MP_OK && n < need)
            early_ok++;
        outside += t.outside;
    }
    EZ_TK_CHECK_INT(tk, early_ok, 0);
    EZ_TK_CHECK_INT(tk, outside, 0);

    /* a stop from the callback */
    seen st = {.stop_after = 1};
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &st), EZ_MP_STOPPED);
    EZ_TK_CHECK_INT(tk, st.n, 1);
    free(b.p);
}

/* Random byte changes of a valid body: whatever comes out, no part may point outside it. */
static void mutations(ez_tk *tk) {
    buf b = {0};
    part(&b, "contentType", NULL, NULL, "image/png", 9);
    part(&b, "file", "a \\\"b\\\".png", "image/png", png, sizeof png);
    close_form(&b);
    static const char interesting[] = {'\r', '\n', '-', '"', ';', ':', '\\', '%', '\0', ' ', '='};
    unsigned seed = 12345;
    int outside = 0, ok = 0;
    char *m = malloc(b.n);
    for (int it = 0; it < 20000 && m; it++) {
        memcpy(m, b.p, b.n);
        int changes = 1 + (int)(seed % 4);
        for (int c = 0; c < changes; c++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % b.n;
            seed = seed * 1103515245u + 12345u;
            m[at] = (seed & 1) ? interesting[(seed >> 4) % sizeof interesting] : (char)(seed >> 16);
        }
        seed = seed * 1103515245u + 12345u;
        size_t n = b.n - (seed >> 12) % 8; /* sometimes also cut the end */
        seen t = {0};
        if (parse_exact(m, n, "XyZ", &t) == EZ_MP_OK)
            ok++;
        outside += t.outside;
    }
    free(m);
    EZ_TK_CHECK_INT(tk, outside, 0);
    EZ_TK_CHECK(tk, ok > 0); /* some mutations only touch data */
    free(b.p);
}

static void malformed(ez_tk *tk) {
    seen s = {0};
    EZ_TK_CHECK_INT(tk, parse_exact("", 0, "XyZ", &s), EZ_MP_UNEXPECTED_END);
    EZ_TK_CHECK_INT(tk, parse_exact("no delimiter at all", 19, "XyZ", &s), EZ_MP_UNEXPECTED_END);
    EZ_TK_CHECK_INT(tk, parse_exact("--XyZ--", 7, "", &s), EZ_MP_NO_BOUNDARY);
    const char *cases[][2] = {
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "end"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n", "end"},
        {"--XyZ\r\nNo colon here\r\n\r\nx\r\n--XyZ--", "header"},
        {"--XyZ\r\n: empty name\r\n\r\nx\r\n--XyZ--", "header"},
        {"--XyZ\r\nBad Name: x\r\n\r\nx\r\n--XyZ--", "header"},
        {"--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--XyZ--", "header"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--", "header"},
        {"--XyZjunk\r\n\r\nx\r\n--XyZ--", "header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ez_mp_status want =
            strcmp(cases[i][1], "end") == 0 ? EZ_MP_UNEXPECTED_END : EZ_MP_BAD_HEADER;
        ez_mp_status got = parse_exact(cases[i][0], strlen(cases[i][0]), "XyZ", &s);
        if (!EZ_TK_CHECK_INT(tk, got, want))
            fprintf(stderr, "  case %zu: %s\n", i, cases[i][0]);
    }
    /* a NUL inside the headers */
    static const char nul[] = "--XyZ\r\nContent-Type: a\0b\r\n\r\nx\r\n--XyZ--";
    EZ_TK_CHECK_INT(tk, parse_exact(nul, sizeof nul - 1, "XyZ", &s), EZ_MP_BAD_HEADER);
    /* a header block over the cap, and one that is merely unfinished */
    buf b = {0};
    puts_(&b, "--XyZ\r\nX-Pad: ");
    for (int i = 0; i < EZ_MP_HEADER_MAX; i++)
        puts_(&b, "a");
    puts_(&b, "\r\n\r\nx\r\n--XyZ--");
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &s), EZ_MP_BAD_HEADER);
    free(b.p);
    /* names and file names over their caps */
    b = (buf){0};
    char longname[EZ_MP_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    part(&b, longname, NULL, NULL, "x", 1);
    close_form(&b);
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &s), EZ_MP_NAME_TOO_LONG);
    free(b.p);
    b = (buf){0};
    char *longfile = malloc(EZ_MP_FILENAME_MAX + 2);
    memset(longfile, 'f', EZ_MP_FILENAME_MAX + 1);
    longfile[EZ_MP_FILENAME_MAX + 1] = '\0';
    part(&b, "file", longfile, "image/png", "x", 1);
    close_form(&b);
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &s), EZ_MP_FILENAME_TOO_LONG);
    free(longfile);
    free(b.p);
    /* too many parts */
    b = (buf){0};
    for (int i = 0; i <= EZ_MP_PARTS_MAX; i++)
        part(&b, "f", NULL, NULL, "v", 1);
    close_form(&b);
    EZ_TK_CHECK_INT(tk, parse_exact(b.p, b.n, "XyZ", &s), EZ_MP_TOO_MANY_PARTS);
    free(b.p);
    EZ_TK_CHECK_STR(tk, mp->mp_message(EZ_MP_UNEXPECTED_END), "Unexpected end of form");
    EZ_TK_CHECK_STR(tk, mp->mp_message(EZ_MP_NO_BOUNDARY), "Multipart: Boundary not found");
}

static void header_details(ez_tk *tk) {
    seen s = {0};
    /* escapes in a quoted filename; a part without Content-Type; a non-form-data part */
    static const char a[] = "--XyZ\r\n"
                            "content-disposition: FORM-DATA; filename=\"a \\\"q\\\".txt\"; "
                            "name=file\r\n\r\nx\r\n"
                            "--XyZ\r\nContent-Type: Bogus\r\n"
                            "Content-Disposition: attachment; name=\"z\"; filename=\"z\"\r\n\r\n"
                            "\r\n--XyZ\r\n\r\nheaderless\r\n--XyZ--";
    EZ_TK_CHECK_INT(tk, parse_exact(a, sizeof a - 1, "XyZ", &s), EZ_MP_OK);
    EZ_TK_CHECK_INT(tk, s.n, 3);
    EZ_TK_CHECK_STR(tk, s.names[0], "file");
    EZ_TK_CHECK_STR(tk, s.files[0], "a \"q\".txt");
    EZ_TK_CHECK_STR(tk, s.types[0], "application/octet-stream");
    EZ_TK_CHECK_STR(tk, s.types[1], "application/octet-stream"); /* "Bogus" is no type */
    EZ_TK_CHECK_INT(tk, s.lens[1], 0);
    EZ_TK_CHECK_INT(tk, s.has_file[2], 0);
    EZ_TK_CHECK_INT(tk, s.lens[2], 10);
    /* filename* wins (UTF-8 kept, Latin-1 converted) */
    static const char b[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename*=UTF-8''%C3%A9t%C3%A9.png;"
        " filename=\"plain.png\"\r\n\r\nx\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=iso-8859-1'en'%E9.txt\r\n"
        "\r\ny\r\n--XyZ--";
    EZ_TK_CHECK_INT(tk, parse_exact(b, sizeof b - 1, "XyZ", &s), EZ_MP_OK);
    EZ_TK_CHECK_STR(tk, s.files[0], "\xc3\xa9t\xc3\xa9.png");
    EZ_TK_CHECK_STR(tk, s.files[1], "\xc3\xa9.txt");
    static const char c[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''a%00b\r\n"
        "\r\ny\r\n--XyZ--";
    EZ_TK_CHECK_INT(tk, parse_exact(c, sizeof c - 1, "XyZ", &s), EZ_MP_BAD_HEADER);
}

static void helpers(ez_tk *tk) {
    char ext[MEDIA_EXT_MAX + 2];
    const char *cases[][2] = {
        {"a.png", ".png"},
        {"x.tar.gz", ".gz"},
        {".bashrc", ""},
        {"..", ""},
        {"...", "."},
        {"a.", "."},
        {"a/b.c/", ".c"},
        {"dir.x/name", ""},
        {"a.p<g", ""},
        {"blob", ""},
        {"a.abcdefghijklmnopq", ""},
        {"../../x.JPG", ".JPG"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        media_extname(cases[i][0], strlen(cases[i][0]), ext);
        if (!EZ_TK_CHECK_STR(tk, ext, cases[i][1]))
            fprintf(stderr, "  extname(%s)\n", cases[i][0]);
    }
    EZ_TK_CHECK(tk, media_name_safe("1764330470806-12.png"));
    EZ_TK_CHECK(tk, media_name_safe("a.b"));
    EZ_TK_CHECK(tk, !media_name_safe(".."));
    EZ_TK_CHECK(tk, !media_name_safe("."));
    EZ_TK_CHECK(tk, !media_name_safe(".hidden"));
    EZ_TK_CHECK(tk, !media_name_safe("a..b"));
    EZ_TK_CHECK(tk, !media_name_safe("a/b"));
    EZ_TK_CHECK(tk, !media_name_safe("a\\b"));
    EZ_TK_CHECK(tk, !media_name_safe("a\x01"));
    EZ_TK_CHECK(tk, !media_name_safe(""));
    EZ_TK_CHECK(tk, !media_name_safe(NULL));
    char longname[MEDIA_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    EZ_TK_CHECK(tk, !media_name_safe(longname));
    longname[MEDIA_NAME_MAX] = '\0';
    EZ_TK_CHECK(tk, media_name_safe(longname));
    EZ_TK_CHECK_STR(tk, media_type_for("x.PNG"), "image/png");
    EZ_TK_CHECK_STR(tk, media_type_for("x.txt"), "text/plain; charset=UTF-8");
    EZ_TK_CHECK_STR(tk, media_type_for("x.html"), "application/octet-stream");
    EZ_TK_CHECK_STR(tk, media_type_for("x.svg"), "application/octet-stream");
    EZ_TK_CHECK_STR(tk, media_type_for("blob"), "application/octet-stream");
    EZ_TK_CHECK(tk, media_mime_allowed("audio/x-wav"));
    EZ_TK_CHECK(tk, media_mime_allowed("application/pdf"));
    EZ_TK_CHECK(tk, !media_mime_allowed("image/svg+xml"));
    EZ_TK_CHECK(tk, !media_mime_allowed("IMAGE/PNG"));
    EZ_TK_CHECK_STR(tk, media_mime_category("video/webm"), "video");
    EZ_TK_CHECK_STR(tk, media_mime_category("text/plain"), "document");
}

/* ---- the routes, through the testkit ---- */

static ez_tk_reply *upload(ez_tk *tk, const char *path, const char *ct, const buf *b) {
    ez_tk_request rq = {.method = "POST",
                        .path = path,
                        .body = b ? b->p : NULL,
                        .body_len = b ? b->n : 0,
                        .content_type = ct};
    return ez_tk_call(tk, &rq);
}

static ez_tk_reply *upload_file(ez_tk *tk, const char *path, const char *field,
                                const char *filename, const char *type, const void *d, size_t n) {
    buf b = {0};
    part(&b, "contentType", NULL, NULL, "ignored", 7);
    part(&b, field, filename, type, d, n);
    close_form(&b);
    ez_tk_reply *r = upload(tk, path, CT, &b);
    free(b.p);
    return r;
}

static const char *str_at(const ez_tk_reply *r, const char *path) {
    const char *s = json_string_value(ez_tk_json_at(r->json, path));
    return s ? s : "";
}

static void check_multer(ez_tk *tk, const ez_tk_reply *r, const char *message) {
    EZ_TK_CHECK_STATUS(tk, r, 500);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "success"), "false");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "error.code"), "500");
    const char *got = str_at(r, "error.message");
    if (!EZ_TK_CHECK(tk, strncmp(got, message, strlen(message)) == 0))
        fprintf(stderr, "  got \"%s\", want \"%s...\"\n", got, message);
}

static void check_b(ez_tk *tk, const ez_tk_reply *r, int status, const char *message) {
    EZ_TK_CHECK_STATUS(tk, r, status);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "success"), "false");
    EZ_TK_CHECK_STR(tk, str_at(r, "error"), message);
}

static void check_raw(ez_tk *tk, const ez_tk_reply *r, int status, const char *message) {
    EZ_TK_CHECK_STATUS(tk, r, status);
    EZ_TK_CHECK_STR(tk, str_at(r, "error"), message);
}

/* Uploads, checks the answer and that the URL gives the same bytes back; returns the URL. */
static char *round_trip(ez_tk *tk, const char *path, const char *tree, const char *id,
                        const char *type_want) {
    size_t works = ez_tk_work_count(tk);
    ez_tk_reply *r = upload_file(tk, path, "file", "pic.png", "image/png", png, sizeof png);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_INT(tk, ez_tk_work_count(tk), works + 1); /* written off the loop */
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "success"), "true");
    EZ_TK_CHECK_STR(tk, str_at(r, "data.type"), type_want);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.originalName"), "pic.png");
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.size"), "30");
    const char *filename = str_at(r, "data.filename");
    regex_t re;
    regcomp(&re, "^[0-9]{13}-[0-9]{1,10}\\.png$", REG_EXTENDED | REG_NOSUB);
    if (!EZ_TK_CHECK(tk, regexec(&re, filename, 0, NULL, 0) == 0))
        fprintf(stderr, "  filename %s\n", filename);
    regfree(&re);
    char want[512];
    snprintf(want, sizeof want, "/media/uploads/%s/%s/%s", tree, id, filename);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.url"), want);
    ez_tk_reply *g = ez_tk_get(tk, want);
    EZ_TK_CHECK_STATUS(tk, g, 200);
    EZ_TK_CHECK_STR(tk, g->content_type, "image/png");
    EZ_TK_CHECK_INT(tk, g->body_len, sizeof png);
    EZ_TK_CHECK(tk, g->body && memcmp(g->body, png, sizeof png) == 0);
    return strdup(want);
}

static void uploads(ez_tk *tk) {
    free(round_trip(tk, "/api/media/agents/" AGENT "/upload-media", "agents", AGENT, "image"));
    free(round_trip(tk, "/api/media/" AGENT "/upload", "agents", AGENT, "image"));
    free(round_trip(tk, "/api/media/channels/" CHANNEL "/upload-media", "channels", CHANNEL,
                    "image/png"));
    free(
        round_trip(tk, "/api/media/channels/" CHANNEL "/upload", "channels", CHANNEL, "image/png"));
    char *url = round_trip(tk, "/api/messaging/channels/" CHANNEL "/upload-media", "channels",
                           CHANNEL, "image/png");
    /* a channel file is not visible through the agents tree */
    char other[512];
    snprintf(other, sizeof other, "/media/uploads/agents/%s/%s", CHANNEL, strrchr(url, '/') + 1);
    check_raw(tk, ez_tk_get(tk, other), 404, "File does not exist!!!!!!!");
    free(url);

    /* categories */
    ez_tk_reply *r = upload_file(tk, "/api/media/agents/" AGENT "/upload-media", "file", "a.pdf",
                                 "application/pdf", "%PDF", 4);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.type"), "document");
    r = upload_file(tk, "/api/media/agents/" AGENT "/upload-media", "file", "a.wav", "audio/wav",
                    "RIFF", 4);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.type"), "audio");
    /* an empty file is a file */
    r = upload_file(tk, "/api/media/agents/" AGENT "/upload-media", "file", "e.txt", "text/plain",
                    "", 0);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_JSON(tk, ez_tk_json_at(r->json, "data.size"), "0");
    /* an unsafe extension is dropped; a hostile original name never reaches the disk */
    r = upload_file(tk, "/api/media/channels/" CHANNEL "/upload-media", "file", "../../x.p$g",
                    "image/png", "x", 1);
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK(tk, strchr(str_at(r, "data.filename"), '.') == NULL);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.originalName"), "../../x.p$g");
    /* originalName that is not UTF-8 is read as Latin-1 */
    r = upload_file(tk, "/api/media/channels/" CHANNEL "/upload-media", "file", "caf\xe9.txt",
                    "text/plain", "x", 1);
    EZ_TK_CHECK_STR(tk, str_at(r, "data.originalName"), "caf\xc3\xa9.txt");
}

static void upload_errors(ez_tk *tk) {
    const char *agent = "/api/media/agents/" AGENT "/upload-media";
    const char *chan = "/api/media/channels/" CHANNEL "/upload-media";
    const char *msg = "/api/messaging/channels/" CHANNEL "/upload-media";
    check_multer(tk, upload_file(tk, agent, "upload", "a.png", "image/png", "x", 1),
                 "Unexpected file field");
    check_multer(tk, upload_file(tk, chan, "file", "a.svg", "image/svg+xml", "<svg/>", 6),
                 "Invalid file type");
    check_multer(tk, upload_file(tk, msg, "file", "a.bin", NULL, "x", 1), "Invalid file type");
    char big[65] = {0};
    check_multer(tk, upload_file(tk, agent, "file", "big.png", "image/png", big, sizeof big),
                 "File too large");
    EZ_TK_CHECK_INT(tk, upload_file(tk, agent, "file", "ok.png", "image/png", big, 64)->status,
                    200);

    buf b = {0};
    part(&b, "file", "a.png", "image/png", "x", 1);
    part(&b, "file", "b.png", "image/png", "y", 1);
    close_form(&b);
    check_multer(tk, upload(tk, agent, CT, &b), "Too many files");
    free(b.p);

    b = (buf){0};
    part(&b, "file", "a.png", "image/png", "x", 1); /* no close delimiter */
    check_multer(tk, upload(tk, agent, CT, &b), "Unexpected end of form");
    check_multer(tk, upload(tk, agent, "multipart/form-data", &b), "Multipart: Boundary not found");

    /* no file: only fields, no body, another content type */
    buf f = {0};
    part(&f, "file", NULL, NULL, "not a file: no filename", 23);
    close_form(&f);
    ez_tk_reply *r = upload(tk, agent, CT, &f);
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK_STR(tk, str_at(r, "error.code"), "INVALID_REQUEST");
    EZ_TK_CHECK_STR(tk, str_at(r, "error.message"), "No media file provided");
    check_b(tk, upload(tk, chan, CT, &f), 400, "No media file provided");
    check_b(tk, upload(tk, msg, CT, NULL), 400, "No media file provided");
    check_b(tk, upload(tk, msg, "text/plain", &b), 400, "No media file provided");
    free(f.p);
    free(b.p);

    /* the messaging route refuses suspicious original names, the media one stores them */
    check_b(tk, upload_file(tk, msg, "file", "../a.png", "image/png", "x", 1), 400,
            "Invalid filename detected");
    check_b(tk, upload_file(tk, msg, "file", "a/b.png", "image/png", "x", 1), 400,
            "Invalid filename detected");
    EZ_TK_CHECK_INT(tk, upload_file(tk, chan, "file", "a/b.png", "image/png", "x", 1)->status, 200);

    /* bad ids, in each route's envelope */
    r = upload_file(tk, "/api/media/agents/nope/upload-media", "file", "a.png", "image/png", "x",
                    1);
    EZ_TK_CHECK_STATUS(tk, r, 400);
    EZ_TK_CHECK_STR(tk, str_at(r, "error.code"), "INVALID_ID");
    EZ_TK_CHECK_STR(tk, str_at(r, "error.message"), "Invalid agent ID format");
    check_b(tk,
            upload_file(tk, "/api/media/channels/nope/upload-media", "file", "a.png", "image/png",
                        "x", 1),
            400, "Invalid channelId format");
    check_b(tk,
            upload_file(tk, "/api/messaging/channels/nope/upload-media", "file", "a.png",
                        "image/png", "x", 1),
            400, "Invalid channelId format");
}

static void mkdir_p(const char *dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void statics(ez_tk *tk) {
    const media_state *ms = ez_tk_state(tk, "media");
    char path[4096], target[4096];

    check_raw(tk, ez_tk_get(tk, "/media/uploads/agents/nope/x.png"), 400,
              "Invalid agent ID format");
    check_raw(tk, ez_tk_get(tk, "/media/generated/nope/x.png"), 400, "Invalid agent ID format");
    check_raw(tk, ez_tk_get(tk, "/media/uploads/channels/nope/x.png"), 400,
              "Invalid channel ID format");
    check_raw(tk, ez_tk_get(tk, "/media/uploads/agents/" AGENT "/missing.png"), 404,
              "File does not exist!!!!!!!");
    check_raw(tk, ez_tk_get(tk, "/media/generated/" AGENT "/missing.png"), 404, "File not found");
    check_raw(tk, ez_tk_get(tk, "/media/uploads/channels/" CHANNEL "/missing.png"), 404,
              "File not found");
    check_raw(tk, ez_tk_get(tk, "/media/uploads/agents/" OTHER "/missing.png"), 404,
              "File does not exist!!!!!!!");

    static const char *const denied[] = {
        "/media/uploads/agents/" AGENT "/..",
        "/media/uploads/agents/" AGENT "/%2e%2e",
        "/media/uploads/agents/" AGENT "/a%2fb",
        "/media/uploads/agents/" AGENT "/..%2fx",
        "/media/generated/" AGENT "/.hidden",
        "/media/uploads/channels/" CHANNEL "/a%5cb",
        "/media/uploads/channels/" CHANNEL "/%01",
        "/media/uploads/agents/" AGENT "/../../x",
        "/media/x/../y",
    };
    for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) {
        ez_tk_reply *r = ez_tk_get(tk, denied[i]);
        if (!EZ_TK_CHECK_STATUS(tk, r, 403))
            fprintf(stderr, "  GET %s\n", denied[i]);
        EZ_TK_CHECK_STR(tk, str_at(r, "error"), "Access denied");
    }
    char longpath[512];
    snprintf(longpath, sizeof longpath, "/media/uploads/agents/" AGENT "/%0300d.png", 1);
    check_raw(tk, ez_tk_get(tk, longpath), 403, "Access denied");
    check_raw(tk, ez_tk_get(tk, "/media/uploads/agents/" AGENT), 404, "File not found");
    check_raw(tk, ez_tk_get(tk, "/media/whatever"), 404, "File not found");

    /* generated files are only served (and by extension) */
    snprintf(path, sizeof path, "%s/%s", ms->roots[MEDIA_GENERATED], AGENT);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/%s/note.txt", ms->roots[MEDIA_GENERATED], AGENT);
    write_file(path, "hello");
    ez_tk_reply *r = ez_tk_get(tk, "/media/generated/" AGENT "/note.txt");
    EZ_TK_CHECK_STATUS(tk, r, 200);
    EZ_TK_CHECK_STR(tk, r->content_type, "text/plain; charset=UTF-8");
    EZ_TK_CHECK_STR(tk, r->body, "hello");
    snprintf(path, sizeof path, "%s/%s/page.html", ms->roots[MEDIA_GENERATED], AGENT);
    write_file(path, "<script>alert(1)</script>");
    r = ez_tk_get(tk, "/media/generated/" AGENT "/page.html");
    EZ_TK_CHECK_STR(tk, r->content_type, "application/octet-stream");
    /* a directory is not a file */
    snprintf(path, sizeof path, "%s/%s/sub", ms->roots[MEDIA_GENERATED], AGENT);
    mkdir(path, 0755);
    check_raw(tk, ez_tk_get(tk, "/media/generated/" AGENT "/sub"), 404, "File not found");
    /* over max_serve_size (configured to 100 bytes) */
    snprintf(path, sizeof path, "%s/%s/big.txt", ms->roots[MEDIA_GENERATED], AGENT);
    char big[200];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(path, big);
    check_raw(tk, ez_tk_get(tk, "/media/generated/" AGENT "/big.txt"), 500,
              "File too large to serve");

    /* symlinks below a root are never followed: at the file, and at the id directory */
    snprintf(target, sizeof target, "%s/../outside.txt", ms->roots[MEDIA_GENERATED]);
    write_file(target, "secret");
    snprintf(path, sizeof path, "%s/%s/link.txt", ms->roots[MEDIA_GENERATED], AGENT);
    EZ_TK_CHECK_INT(tk, symlink(target, path), 0);
    check_raw(tk, ez_tk_get(tk, "/media/generated/" AGENT "/link.txt"), 403, "Access denied");
    snprintf(target, sizeof target, "%s/%s", ms->roots[MEDIA_GENERATED], AGENT);
    snprintf(path, sizeof path, "%s/%s", ms->roots[MEDIA_GENERATED], OTHER);
    EZ_TK_CHECK_INT(tk, symlink(target, path), 0);
    check_raw(tk, ez_tk_get(tk, "/media/generated/" OTHER "/note.txt"), 403, "Access denied");
    /* and an upload into a symlinked id directory fails instead of writing through it */
    snprintf(target, sizeof target, "%s/%s", ms->roots[MEDIA_AGENTS], AGENT);
    snprintf(path, sizeof path, "%s/%s", ms->roots[MEDIA_AGENTS], OTHER);
    EZ_TK_CHECK_INT(tk, symlink(target, path), 0);
    r = upload_file(tk, "/api/media/agents/" OTHER "/upload-media", "file", "a.png", "image/png",
                    "x", 1);
    EZ_TK_CHECK_STATUS(tk, r, 500);
    EZ_TK_CHECK_STR(tk, str_at(r, "error.code"), "UPLOAD_ERROR");
    EZ_TK_CHECK_STR(tk, str_at(r, "error.message"), "Failed to upload media file");

    /* HEAD answers like GET */
    ez_tk_request rq = {.method = "HEAD", .path = "/media/generated/" AGENT "/note.txt"};
    EZ_TK_CHECK_STATUS(tk, ez_tk_call(tk, &rq), 200);
}

static void config_and_roots(void) {
    /* the environment names the trees; the default is <server.data_dir>/data/... */
    ez_tk *tk = ez_tk_new();
    ez_tk_set_setting(tk, "server.data_dir", "/srv/eliza-data");
    setenv("ELIZA_DATA_DIR_GENERATED", "/srv/gen", 1);
    EZ_TK_CHECK_INT(tk, ez_tk_load(tk, &ez_plugin_v1, "{\"uploads_channels_dir\":\"/srv/ch\"}"),
                    EZ_OK);
    const media_state *ms = ez_tk_state(tk, "media");
    EZ_TK_CHECK_STR(tk, ms->roots[MEDIA_AGENTS], "/srv/eliza-data/data/uploads/agents");
    EZ_TK_CHECK_STR(tk, ms->roots[MEDIA_CHANNELS], "/srv/ch");
    EZ_TK_CHECK_STR(tk, ms->roots[MEDIA_GENERATED], "/srv/gen");
    EZ_TK_CHECK_INT(tk, ms->max_file, 52428800);
    unsetenv("ELIZA_DATA_DIR_GENERATED");
    if (ez_tk_finish(tk) != 0)
        exit(1);
}

int main(void) {
    config_and_roots();
    ez_tk *tk = ez_tk_new();
    mp = ez_tk_api(tk);
    EZ_TK_CHECK_INT(
        tk, ez_tk_load(tk, &ez_plugin_v1, "{\"max_file_size\":64,\"max_serve_size\":100}"), EZ_OK);
    boundary_cases(tk);
    wellformed(tk);
    mutations(tk);
    malformed(tk);
    header_details(tk);
    helpers(tk);
    uploads(tk);
    upload_errors(tk);
    statics(tk);
    return ez_tk_finish(tk);
}
