/* multipart/form-data, bounded: every read is checked against the end of the body, every copy
 * against its destination, and the delimiter search is glibc's linear-time memmem, so a hostile
 * body costs at most a few passes over its own bytes. */
#include "multipart.h"

#include <string.h>

typedef struct span {
    const char *p;
    size_t n;
} span;

static unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static int ci_eq(span s, const char *lit) {
    size_t n = strlen(lit);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_ws(char c) {
    return c == ' ' || c == '\t';
}

static span trim(span s) {
    while (s.n && is_ws(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

int kn_mp_is_form(const char *ct) {
    if (!ct)
        return 0;
    while (is_ws(*ct))
        ct++;
    span t = {ct, strcspn(ct, "; \t")};
    return ci_eq(t, "multipart/form-data");
}

/* ---- parameters: `; key=value` with value a token or a quoted-string ---- */

typedef struct param_reader {
    const char *p, *end;
} param_reader;

/* Reads the next parameter. Returns 1 with key and the raw value (quotes still on), 0 at the
 * end, -1 on an unterminated quoted-string. Parameters without '=' are skipped. */
static int next_param(param_reader *r, span *key, span *val) {
    for (;;) {
        while (r->p < r->end && (*r->p == ';' || is_ws(*r->p)))
            r->p++;
        if (r->p >= r->end)
            return 0;
        const char *k = r->p;
        while (r->p < r->end && *r->p != '=' && *r->p != ';')
            r->p++;
        if (r->p >= r->end || *r->p == ';')
            continue; /* no value: not a parameter we could use */
        *key = trim((span){k, (size_t)(r->p - k)});
        r->p++; /* '=' */
        while (r->p < r->end && is_ws(*r->p))
            r->p++;
        const char *v = r->p;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            while (r->p < r->end && *r->p != '"')
                r->p += (*r->p == '\\' && r->p + 1 < r->end) ? 2 : 1;
            if (r->p >= r->end)
                return -1;
            r->p++; /* closing quote */
            *val = (span){v, (size_t)(r->p - v)};
        } else {
            while (r->p < r->end && *r->p != ';')
                r->p++;
            *val = trim((span){v, (size_t)(r->p - v)});
        }
        return 1;
    }
}

/* Unquotes (backslash escapes) into out (cap bytes + NUL). Returns the length, or cap + 1 when
 * the value does not fit. */
static size_t unquote(span v, char *out, size_t cap) {
    size_t o = 0;
    if (v.n >= 2 && v.p[0] == '"') {
        for (size_t i = 1; i + 1 < v.n; i++) {
            if (v.p[i] == '\\' && i + 2 < v.n)
                i++;
            if (o == cap)
                return cap + 1;
            out[o++] = v.p[i];
        }
    } else {
        if (v.n > cap)
            return cap + 1;
        memcpy(out, v.p, v.n);
        o = v.n;
    }
    out[o] = '\0';
    return o;
}

size_t kn_mp_boundary(const char *ct, char out[EZ_MP_BOUNDARY_MAX + 1]) {
    if (!ct)
        return 0;
    const char *semi = strchr(ct, ';');
    if (!semi)
        return 0;
    param_reader r = {semi, semi + strlen(semi)};
    span k, v;
    while (next_param(&r, &k, &v) == 1) {
        if (!ci_eq(k, "boundary"))
            continue;
        size_t n = unquote(v, out, EZ_MP_BOUNDARY_MAX);
        return n > EZ_MP_BOUNDARY_MAX ? 0 : n;
    }
    return 0;
}

/* ---- part headers ---- */

/* RFC 5987 ext-value: charset'language'percent-encoded. UTF-8 is kept, ISO-8859-1 is turned
 * into UTF-8, anything else is refused (the plain filename, if any, stays). */
static ez_mp_status ext_filename(span v, ez_mp_part *part) {
    const char *q1 = memchr(v.p, '\'', v.n);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(v.p + v.n - q1 - 1)) : NULL;
    if (!q2)
        return EZ_MP_OK;
    span cs = {v.p, (size_t)(q1 - v.p)};
    int latin1 = ci_eq(cs, "iso-8859-1") || ci_eq(cs, "latin1");
    if (!latin1 && !ci_eq(cs, "utf-8") && !ci_eq(cs, "utf8"))
        return EZ_MP_OK;
    char buf[EZ_MP_FILENAME_MAX + 1] = {0};
    size_t o = 0;
    for (const char *s = q2 + 1; s < v.p + v.n; s++) {
        unsigned c = (unsigned char)*s;
        int hi = s + 2 < v.p + v.n ? hexval((unsigned char)s[1]) : -1;
        int lo = hi >= 0 ? hexval((unsigned char)s[2]) : -1;
        if (c == '%' && hi >= 0 && lo >= 0) {
            c = (unsigned)(hi << 4 | lo);
            s += 2;
        }
        if (c == 0)
            return EZ_MP_BAD_HEADER;
        if (latin1 && c >= 0x80) {
            if (o + 2 > EZ_MP_FILENAME_MAX)
                return EZ_MP_FILENAME_TOO_LONG;
            buf[o++] = (char)(0xC0 | c >> 6);
            buf[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            if (o + 1 > EZ_MP_FILENAME_MAX)
                return EZ_MP_FILENAME_TOO_LONG;
            buf[o++] = (char)c;
        }
    }
    memcpy(part->filename, buf, o);
    part->filename[o] = '\0';
    part->filename_len = o;
    part->has_filename = 1;
    return EZ_MP_OK;
}

static ez_mp_status disposition(span v, ez_mp_part *part) {
    size_t t = 0;
    while (t < v.n && v.p[t] != ';')
        t++;
    part->form_data = ci_eq(trim((span){v.p, t}), "form-data");
    param_reader r = {v.p + t, v.p + v.n};
    span k, val, ext = {NULL, 0};
    int rc;
    while ((rc = next_param(&r, &k, &val)) == 1) {
        if (ci_eq(k, "name")) {
            if (unquote(val, part->name, EZ_MP_NAME_MAX) > EZ_MP_NAME_MAX)
                return EZ_MP_NAME_TOO_LONG;
            part->has_name = 1;
        } else if (ci_eq(k, "filename")) {
            size_t n = unquote(val, part->filename, EZ_MP_FILENAME_MAX);
            if (n > EZ_MP_FILENAME_MAX)
                return EZ_MP_FILENAME_TOO_LONG;
            part->filename_len = n;
            part->has_filename = 1;
        } else if (ci_eq(k, "filename*")) {
            ext = val; /* wins over filename whatever the order */
        }
    }
    if (rc < 0)
        return EZ_MP_BAD_HEADER;
    return ext.p ? ext_filename(ext, part) : EZ_MP_OK;
}

/* "type/subtype" with token characters on both sides, lower-cased; 0 when it is not one. */
static int mime_type(span v, char out[EZ_MP_TYPE_MAX + 1]) {
    size_t n = 0;
    while (n < v.n && v.p[n] != ';')
        n++;
    span t = trim((span){v.p, n});
    if (t.n == 0 || t.n > EZ_MP_TYPE_MAX)
        return 0;
    int slash = -1;
    for (size_t i = 0; i < t.n; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (c == '/' && slash < 0 && i > 0)
            slash = (int)i;
        else if (!is_tchar(c))
            return 0;
        out[i] = (char)lower(c);
    }
    if (slash < 0 || (size_t)slash + 1 == t.n)
        return 0;
    out[t.n] = '\0';
    return 1;
}

/* Parses the header block [p, p + n) (lines separated by CRLF, no final CRLF). */
static ez_mp_status headers(const char *p, size_t n, ez_mp_part *part) {
    int seen_cd = 0, seen_ct = 0;
    if (memchr(p, '\0', n))
        return EZ_MP_BAD_HEADER;
    const char *end = p + n;
    while (p < end) {
        const char *eol = p;
        while (eol < end && !(*eol == '\r' && eol + 1 < end && eol[1] == '\n'))
            eol++;
        span line = {p, (size_t)(eol - p)};
        p = eol < end ? eol + 2 : end;
        if (line.n == 0 || is_ws(line.p[0])) /* no obsolete line folding (RFC 7578 §4.8) */
            return EZ_MP_BAD_HEADER;
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon || colon == line.p)
            return EZ_MP_BAD_HEADER;
        span name = {line.p, (size_t)(colon - line.p)};
        for (size_t i = 0; i < name.n; i++)
            if (!is_tchar((unsigned char)name.p[i]))
                return EZ_MP_BAD_HEADER;
        span value = trim((span){colon + 1, (size_t)(line.p + line.n - colon - 1)});
        if (ci_eq(name, "content-disposition") && !seen_cd) {
            seen_cd = 1;
            ez_mp_status st = disposition(value, part);
            if (st != EZ_MP_OK)
                return st;
        } else if (ci_eq(name, "content-type") && !seen_ct) {
            seen_ct = mime_type(value, part->content_type);
        }
    }
    if (!seen_ct)
        strcpy(part->content_type, part->has_filename ? "application/octet-stream" : "text/plain");
    return EZ_MP_OK;
}

/* ---- the body ---- */

ez_mp_status kn_mp_parse(const void *body, size_t len, const char *boundary, ez_mp_part *part,
                         ez_mp_fn fn, void *ud) {
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > EZ_MP_BOUNDARY_MAX)
        return EZ_MP_NO_BOUNDARY;
    /* "\r\n--boundary": every delimiter but a first one at offset 0 has the CRLF */
    char delim[EZ_MP_BOUNDARY_MAX + 5];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;
    const char *b = body ? body : "";
    const char *end = b + len;
    const char *p;
    if (len >= dlen - 2 && memcmp(b, delim + 2, dlen - 2) == 0) {
        p = b + dlen - 2;
    } else {
        const char *q = len ? memmem(b, len, delim, dlen) : NULL;
        if (!q)
            return EZ_MP_UNEXPECTED_END;
        p = q + dlen;
    }
    for (int nparts = 0;; nparts++) {
        size_t rem = (size_t)(end - p);
        if (rem >= 2 && p[0] == '-' && p[1] == '-')
            return EZ_MP_OK;         /* close delimiter; the epilogue is ignored */
        while (p < end && is_ws(*p)) /* transport padding */
            p++;
        rem = (size_t)(end - p);
        if (rem < 2)
            return EZ_MP_UNEXPECTED_END;
        if (p[0] != '\r' || p[1] != '\n')
            return EZ_MP_BAD_HEADER;
        p += 2;
        rem -= 2;
        if (nparts == EZ_MP_PARTS_MAX)
            return EZ_MP_TOO_MANY_PARTS;

        memset(part, 0, sizeof *part);
        const char *data;
        if (rem >= 2 && p[0] == '\r' && p[1] == '\n') {
            data = p + 2; /* no headers at all */
        } else {
            size_t window = rem < EZ_MP_HEADER_MAX + 4 ? rem : EZ_MP_HEADER_MAX + 4;
            const char *hend = memmem(p, window, "\r\n\r\n", 4);
            if (!hend)
                return rem < EZ_MP_HEADER_MAX + 4 ? EZ_MP_UNEXPECTED_END : EZ_MP_BAD_HEADER;
            ez_mp_status st = headers(p, (size_t)(hend - p), part);
            if (st != EZ_MP_OK)
                return st;
            data = hend + 4;
        }
        const char *q = memmem(data, (size_t)(end - data), delim, dlen);
        if (!q)
            return EZ_MP_UNEXPECTED_END;
        part->data = (const unsigned char *)data;
        part->len = (size_t)(q - data);
        if (fn && fn(part, ud) != 0)
            return EZ_MP_STOPPED;
        p = q + dlen;
    }
}

const char *kn_mp_message(ez_mp_status st) {
    switch (st) {
    case EZ_MP_OK:
    case EZ_MP_STOPPED:
        return "OK";
    case EZ_MP_NO_BOUNDARY:
        return "Multipart: Boundary not found";
    case EZ_MP_UNEXPECTED_END:
        return "Unexpected end of form";
    case EZ_MP_BAD_HEADER:
        return "Malformed part header";
    case EZ_MP_TOO_MANY_PARTS:
        return "Too many parts";
    case EZ_MP_NAME_TOO_LONG:
        return "Field name too long";
    case EZ_MP_FILENAME_TOO_LONG:
        return "Filename too long";
    }
    return "Malformed multipart body";
}
