/* testkit: the helper members (uuid, time) with the kernel's exact results, the JSON helpers and
 * the check functions. SHA-1 is written out here so the testkit needs no crypto library. */
#include "tk_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- uuid ---- */

static void format_uuid(const unsigned char b[16], char out[37]) {
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

static void api_uuid_v4(char out[37]) {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0 && errno != EINTR)
            break;
        if (n > 0)
            got += (size_t)n;
    }
    for (; got < sizeof b; got++) /* getrandom unavailable: tests only need distinct ids */
        b[got] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    format_uuid(b, out);
}

static int api_uuid_valid(const char *s) {
    if (!s)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!isxdigit((unsigned char)c)) {
            return 0;
        }
    }
    return s[36] == '\0';
}

typedef struct sha1_ctx {
    uint32_t h[5];
    unsigned char block[64];
    size_t used;
    uint64_t bits;
} sha1_ctx;

static uint32_t rol(uint32_t v, int n) {
    return (v << n) | (v >> (32 - n));
}

static void sha1_block(sha1_ctx *c, const unsigned char *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & cc) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ cc ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & cc) | (b & d) | (cc & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ cc ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = cc;
        cc = rol(b, 30);
        b = a;
        a = t;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
}

static void sha1_update(sha1_ctx *c, const unsigned char *p, size_t n) {
    c->bits += (uint64_t)n * 8;
    while (n--) {
        c->block[c->used++] = *p++;
        if (c->used == 64) {
            sha1_block(c, c->block);
            c->used = 0;
        }
    }
}

static void sha1(const unsigned char *p, size_t n, unsigned char out[20]) {
    sha1_ctx c = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, {0}, 0, 0};
    sha1_update(&c, p, n);
    uint64_t bits = c.bits;
    unsigned char pad = 0x80;
    sha1_update(&c, &pad, 1);
    pad = 0;
    while (c.used != 56)
        sha1_update(&c, &pad, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(&c, len, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(c.h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c.h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c.h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c.h[i];
    }
}

/* JavaScript's encodeURIComponent keeps these bytes; everything else is %XX of the UTF-8. */
static int uri_unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
           c == '\'' || c == '(' || c == ')';
}

/* elizaOS stringToUuid: the string itself when it is a uuid, else SHA-1 of encodeURIComponent. */
static void api_uuid_from_string(const char *s, char out[37]) {
    if (!s)
        s = "";
    if (api_uuid_valid(s)) {
        memcpy(out, s, 37);
        return;
    }
    size_t n = strlen(s);
    char *enc = tk_xcalloc(1, n * 3 + 1);
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (uri_unreserved(c)) {
            enc[o++] = (char)c;
        } else {
            enc[o++] = '%';
            enc[o++] = hex[c >> 4];
            enc[o++] = hex[c & 15];
        }
    }
    unsigned char md[20];
    sha1((const unsigned char *)enc, o, md);
    free(enc);
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80);
    md[6] = (unsigned char)(md[6] & 0x0F);
    format_uuid(md, out);
}

/* ---- time: proleptic Gregorian arithmetic, no TZ database ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void api_iso_time(int64_t ms, char out[32]) {
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m, d,
             (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
             (unsigned)rem);
    memcpy(out, tmp, 31);
    out[31] = '\0';
}

static int digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_iso(const char *p, int64_t *ms) {
    int y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return EZ_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return EZ_EINVAL;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return EZ_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s))
                return EZ_EINVAL;
            if (*p == '.' || *p == ',') {
                p++;
                int n = 0;
                while (isdigit((unsigned char)*p)) {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    n++;
                    p++;
                }
                if (n == 0)
                    return EZ_EINVAL;
                for (; n < 3; n++)
                    frac *= 10;
            }
        }
        if (h > 24 || mi > 59 || s > 60)
            return EZ_EINVAL;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh))
                return EZ_EINVAL;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
                return EZ_EINVAL;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (*p != '\0')
        return EZ_EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + s) - offset_min * 60) * 1000 + frac;
    return EZ_OK;
}

static int api_parse_time(const char *s, int64_t *ms) {
    if (!s || !*s || !ms)
        return EZ_EINVAL;
    const char *p = *s == '-' ? s + 1 : s;
    int all_digits = *p != '\0';
    for (const char *q = p; *q && all_digits; q++)
        all_digits = isdigit((unsigned char)*q) != 0;
    if (all_digits) {
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return EZ_EINVAL;
        *ms = v;
        return EZ_OK;
    }
    return parse_iso(s, ms);
}

void tk_util_fill(ez_tk *tk) {
    tk->api.uuid_v4 = api_uuid_v4;
    tk->api.uuid_valid = api_uuid_valid;
    tk->api.uuid_from_string = api_uuid_from_string;
    tk->api.iso_time = api_iso_time;
    tk->api.parse_time = api_parse_time;
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
