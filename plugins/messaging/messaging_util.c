/* Input validation and response helpers shared by the route files. */
#include "messaging_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int msg_valid_uuid_s(const msg_state *st, const char *s) {
    return s != NULL && st->api->uuid_valid(s);
}

int msg_valid_uuid(const msg_state *st, const json_t *v) {
    return json_is_string(v) && st->api->uuid_valid(json_string_value(v));
}

const char *msg_str(const json_t *obj, const char *key) {
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *msg_str_nonempty(const json_t *obj, const char *key) {
    const char *s = msg_str(obj, key);
    return s && *s ? s : NULL;
}

/* Counts code points the way a JS string length would for the BMP: continuation bytes are not
 * counted. Astral characters count once here (twice in JS) — a bound, not an exact mirror. */
size_t msg_utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

const json_t *msg_body(msg_state *st, ez_req *req) {
    const json_t *b = st->api->body_json(req);
    return json_is_object(b) ? b : NULL;
}

int msg_fail(msg_state *st, ez_req *req, int status, const char *message) {
    st->api->respond_error(req, status, EZ_ERR_MESSAGING, NULL, message, NULL);
    return EZ_DONE;
}

int msg_fail_d(msg_state *st, ez_req *req, int status, const char *message, const char *details) {
    st->api->respond_error(req, status, EZ_ERR_MESSAGING, NULL, message, details);
    return EZ_DONE;
}

int msg_ok(msg_state *st, ez_req *req, int status, json_t *data_new) {
    if (!data_new)
        return msg_fail(st, req, 500, "Internal server error");
    json_t *body = json_object();
    json_object_set_new_nocheck(body, "success", json_true());
    json_object_set_new_nocheck(body, "data", data_new);
    st->api->respond_json_new(req, status, body);
    return EZ_DONE;
}

static int month_index(const char *m) {
    static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncmp(m, names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* JS Date.prototype.toString(), which is what @elizaos/api-client sends for a Date cursor
 * ("Sat Nov 28 2026 11:47:50 GMT+0100 (Central European Standard Time)"): rewritten as ISO
 * and handed to the kernel's parser. */
static int parse_js_date(msg_state *st, const char *s, int64_t *ms) {
    char mon[4] = {0};
    int day, year, h, mi, sec, n = 0;
    char sign = '+';
    int oh = 0, om = 0;
    if (sscanf(s, "%*3s %3s %d %d %d:%d:%d GMT%n", mon, &day, &year, &h, &mi, &sec, &n) != 6 ||
        n == 0)
        return EZ_EINVAL;
    const char *z = s + n;
    if (*z == '+' || *z == '-') {
        sign = *z;
        if (!isdigit((unsigned char)z[1]) || !isdigit((unsigned char)z[2]) ||
            !isdigit((unsigned char)z[3]) || !isdigit((unsigned char)z[4]))
            return EZ_EINVAL;
        oh = (z[1] - '0') * 10 + (z[2] - '0');
        om = (z[3] - '0') * 10 + (z[4] - '0');
    }
    int mo = month_index(mon);
    if (!mo || year < 0 || year > 9999)
        return EZ_EINVAL;
    char iso[48];
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d.000%c%02d:%02d", year, mo, day, h, mi,
             sec, sign, oh, om);
    return st->api->parse_time(iso, ms);
}

int msg_parse_time(msg_state *st, const char *s, int64_t *ms) {
    if (!s || !*s || strlen(s) > 100)
        return EZ_EINVAL;
    if (st->api->parse_time(s, ms) == 0)
        return 0;
    return parse_js_date(st, s, ms);
}

json_t *msg_iso(msg_state *st, int64_t ms) {
    char buf[32];
    st->api->iso_time(ms, buf);
    return json_string(buf);
}

int64_t msg_limit(msg_state *st, const char *s, int64_t def) {
    if (!s || !*s)
        return def;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return def;
    if (v < 1)
        return def;
    return v > st->max_page ? st->max_page : v;
}

int msg_content_ok(msg_state *st, const char *content) {
    /* A cheap byte bound first: code points never exceed bytes. */
    size_t bytes = strlen(content);
    if ((int64_t)bytes <= st->max_content)
        return 1;
    if ((int64_t)bytes > st->max_content * 4)
        return 0;
    return (int64_t)msg_utf8_len(content) <= st->max_content;
}

int msg_is_channel_type(const char *t) {
    static const char *const types[] = {"SELF", "DM",     "GROUP", "VOICE_DM", "VOICE_GROUP",
                                        "FEED", "THREAD", "WORLD", "FORUM",    "API"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(t, types[i]) == 0)
            return 1;
    return 0;
}

json_t *msg_json_col(const json_t *row, const char *col) {
    json_t *v = json_object_get(row, col);
    if (json_is_object(v) || json_is_array(v))
        return json_incref(v); /* a row built in memory (make_row) */
    if (!json_is_string(v))
        return NULL;
    return json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, NULL);
}

const char *msg_row_str(const json_t *row, const char *col) {
    const json_t *v = json_object_get(row, col);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t msg_row_int(const json_t *row, const char *col) {
    const json_t *v = json_object_get(row, col);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

int msg_route(msg_state *st, unsigned methods, const char *pattern, ez_route_fn fn) {
    ez_route_opts opts = {.err_style = EZ_ERR_MESSAGING};
    int rc = st->api->route_ex(st->self, methods, pattern, &opts, fn, st, NULL);
    if (rc != EZ_OK)
        st->api->log(st->self, EZ_ERR, "cannot register route %s (%d)", pattern, rc);
    return rc;
}
