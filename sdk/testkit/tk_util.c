/* testkit: the helper members (uuid, time) from the kernel's own sources, the JSON helpers and
 * the check functions. */
#include "tk_int.h"
#include "util_time.h"
#include "util_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void tk_util_fill(ez_tk *tk) {
    /* the kernel's own implementations (compiled into the testkit), so ids and timestamps in a
     * unit test are exactly what the server produces */
    tk->api.uuid_v4 = kn_uuid_v4;
    tk->api.uuid_valid = kn_uuid_valid;
    tk->api.uuid_from_string = kn_uuid_from_string;
    tk->api.iso_time = kn_iso_time;
    tk->api.parse_time = kn_parse_time;
}

/* ---- JSON helpers ---- */

const json_t *ez_tk_json_at(const json_t *root, const char *path) {
    const json_t *v = root;
    const char *p = path ? path : "";
    while (v && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            errno = 0;
            long idx = strtol(p + 1, &end, 10);
            if (errno || *end != ']' || idx < 0 || !json_is_array(v))
                return NULL;
            v = json_array_get(v, (size_t)idx);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (!json_is_object(v) || n >= 256)
            return NULL;
        char key[256];
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p += n;
    }
    return v;
}

/* json_equal, except that 1 and 1.0 are equal (a test writes numbers, not types). */
static int loose_equal(const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (!a || !b)
        return a == b;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach((json_t *)a, k, v) {
            const json_t *w = json_object_get(b, k);
            if (!w || !loose_equal(v, w))
                return 0;
        }
        return 1;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!loose_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    return json_equal(a, b);
}

int ez_tk_json_eq(const json_t *v, const char *json_text) {
    if (!v || !json_text)
        return 0;
    json_t *want = json_loads(json_text, JSON_DECODE_ANY, NULL);
    int eq = want && loose_equal(v, want);
    json_decref(want);
    return eq;
}

/* ---- checks ---- */

int ez_tk_check(ez_tk *tk, int ok, const char *what, const char *detail, const char *file,
                int line) {
    if (tk) {
        tk->checks++;
        tk->failures += !ok;
    }
    if (!ok)
        fprintf(stderr, "%s:%d: FAIL %s%s%s\n", file, line, what, detail ? ": " : "",
                detail ? detail : "");
    return ok;
}

int ez_tk_check_status(ez_tk *tk, const ez_tk_reply *r, int want, const char *file, int line) {
    char what[64], detail[600];
    snprintf(what, sizeof what, "status == %d", want);
    if (!r)
        return ez_tk_check(tk, 0, what, "no reply", file, line);
    snprintf(detail, sizeof detail, "got %d, body %.500s", r->status, r->body ? r->body : "");
    return ez_tk_check(tk, r->status == want, what, detail, file, line);
}

int ez_tk_check_str(ez_tk *tk, const char *got, const char *want, const char *what,
                    const char *file, int line) {
    int ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
    char detail[600];
    snprintf(detail, sizeof detail, "got \"%.250s\", want \"%.250s\"", got ? got : "(null)",
             want ? want : "(null)");
    return ez_tk_check(tk, ok, what, ok ? NULL : detail, file, line);
}

int ez_tk_check_int(ez_tk *tk, long long got, long long want, const char *what, const char *file,
                    int line) {
    char detail[100];
    snprintf(detail, sizeof detail, "got %lld, want %lld", got, want);
    return ez_tk_check(tk, got == want, what, got == want ? NULL : detail, file, line);
}

int ez_tk_check_json(ez_tk *tk, const json_t *got, const char *want_text, const char *what,
                     const char *file, int line) {
    int ok = ez_tk_json_eq(got, want_text);
    if (ok)
        return ez_tk_check(tk, 1, what, NULL, file, line);
    char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char detail[900];
    snprintf(detail, sizeof detail, "got %.400s, want %.400s", g ? g : "(absent)",
             want_text ? want_text : "(null)");
    free(g);
    return ez_tk_check(tk, 0, what, detail, file, line);
}

int ez_tk_failures(const ez_tk *tk) {
    return tk ? tk->failures : 0;
}
