/* multipart/form-data, bounded: every search and copy is limited by the body length or by the
 * fixed size of the field it fills, so a hostile body can cost time linear in its size only. */
#include "audio_multipart.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70 /* RFC 2046 */

static int is_ws(char c) {
    return c == ' ' || c == '\t';
}

/* The first occurrence of needle in [h, h + hn), or NULL. The needles used here start with a
 * byte they do not repeat ("\r"), so memchr + memcmp stays linear. */
static const unsigned char *find(const unsigned char *h, size_t hn, const void *needle, size_t nn) {
    const unsigned char *nd = needle;
    if (nn == 0 || hn < nn)
        return NULL;
    const unsigned char *last = h + (hn - nn);
    for (const unsigned char *p = h; p <= last; p++) {
        p = memchr(p, nd[0], (size_t)(last - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, nd, nn) == 0)
            return p;
    }
    return NULL;
}

/* Copies the parameter `key` of a header value v[0..n) ("type; a=b; c=\"d\"") into out (cut to
 * outsz - 1 bytes). Returns 1 when present; *full gets its length before cutting. */
static int param_get(const char *v, size_t n, const char *key, char *out, size_t outsz,
                     size_t *full) {
    size_t klen = strlen(key), i = 0;
    while (i < n && v[i] != ';')
        i++;
    while (i < n) {
        i++; /* the ';' */
        while (i < n && is_ws(v[i]))
            i++;
        size_t ks = i;
        while (i < n && v[i] != '=' && v[i] != ';')
            i++;
        size_t ke = i;
        while (ke > ks && is_ws(v[ke - 1]))
            ke--;
        if (i >= n || v[i] == ';')
            continue; /* a parameter without a value */
        i++;          /* the '=' */
        while (i < n && is_ws(v[i]))
            i++;
        int match = ke - ks == klen && strncasecmp(v + ks, key, klen) == 0;
        size_t o = 0, vl = 0;
        if (i < n && v[i] == '"') {
            for (i++; i < n && v[i] != '"'; i++, vl++) {
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                if (match && o + 1 < outsz)
                    out[o++] = v[i];
            }
            while (i < n && v[i] != ';')
                i++;
        } else {
            size_t vs = i;
            while (i < n && v[i] != ';')
                i++;
            size_t ve = i;
            while (ve > vs && is_ws(v[ve - 1]))
                ve--;
            for (size_t k = vs; k < ve; k++, vl++)
                if (match && o + 1 < outsz)
                    out[o++] = v[k];
        }
        if (match) {
            out[o] = 0;
            if (full)
                *full = vl;
            return 1;
        }
    }
    return 0;
}

/* The media type of a Content-Type value, lower case, without parameters. */
static void media_type(const char *v, size_t n, char *out, size_t outsz) {
    size_t s = 0, e, o = 0;
    while (s < n && is_ws(v[s]))
        s++;
    for (e = s; e < n && v[e] != ';'; e++)
        ;
    while (e > s && is_ws(v[e - 1]))
        e--;
    for (size_t k = s; k < e && o + 1 < outsz; k++)
        out[o++] = (char)tolower((unsigned char)v[k]);
    out[o] = 0;
}

int au_mp_is_form(const char *content_type) {
    if (!content_type)
        return 0;
    char t[64];
    media_type(content_type, strlen(content_type), t, sizeof t);
    return strcmp(t, "multipart/form-data") == 0;
}

static int header_is(const char *line, size_t n, const char *name) {
    size_t k = strlen(name);
    return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

/* Reads the header block [hs, he) of one part into pt. */
static void part_headers(const unsigned char *hs, const unsigned char *he, au_part *pt) {
    const unsigned char *ls = hs;
    while (ls < he) {
        const unsigned char *le = find(ls, (size_t)(he - ls), "\r\n", 2);
        if (!le)
            le = he;
        const char *line = (const char *)ls;
        size_t n = (size_t)(le - ls);
        if (header_is(line, n, "content-disposition")) {
            const char *v = line + 20;
            size_t vn = n - 20;
            param_get(v, vn, "name", pt->name, sizeof pt->name, NULL);
            pt->is_file = param_get(v, vn, "filename", pt->filename, sizeof pt->filename, NULL);
        } else if (header_is(line, n, "content-type")) {
            media_type(line + 13, n - 13, pt->type, sizeof pt->type);
        }
        ls = le + (le < he ? 2 : 0);
    }
}

static int fail(char *why, size_t whylen, const char *msg) {
    snprintf(why, whylen, "%s", msg);
    return -1;
}

int au_mp_parse(const char *content_type, const void *body, size_t len, au_part *parts, int max,
                char *why, size_t whylen) {
    char boundary[BOUNDARY_MAX + 2];
    size_t blen = 0;
    if (!au_mp_is_form(content_type) ||
        !param_get(content_type, strlen(content_type), "boundary", boundary, sizeof boundary,
                   &blen) ||
        blen == 0 || blen > BOUNDARY_MAX || strlen(boundary) != blen || strpbrk(boundary, "\r\n"))
        return fail(why, whylen, "multipart/form-data without a valid boundary parameter");
    char delim[BOUNDARY_MAX + 5]; /* CRLF "--" boundary */
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const unsigned char *b = body, *end = b + len, *p;
    /* the first boundary line has no CRLF before it, unless a preamble precedes it */
    if (len >= (size_t)dl - 2 && memcmp(b, delim + 2, (size_t)dl - 2) == 0) {
        p = b + dl - 2;
    } else {
        const unsigned char *q = find(b, len, delim, (size_t)dl);
        if (!q)
            return fail(why, whylen, "the multipart body has no boundary line");
        p = q + dl;
    }
    int n = 0;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return n; /* closing boundary; an epilogue is ignored */
        while (p < end && is_ws((char)*p))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return fail(why, whylen, "the multipart body ends without its closing boundary");
        p += 2;
        if (n >= max) {
            snprintf(why, whylen, "too many multipart parts (at most %d)", max);
            return -1;
        }
        au_part *pt = &parts[n];
        memset(pt, 0, sizeof *pt);
        const unsigned char *ds;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            ds = p + 2; /* a part without headers */
        } else {
            size_t lim =
                (size_t)(end - p) < AU_MP_HEADERS_MAX ? (size_t)(end - p) : AU_MP_HEADERS_MAX;
            const unsigned char *he = find(p, lim, "\r\n\r\n", 4);
            if (!he)
                return fail(why, whylen,
                            "a multipart part has unterminated headers (or more than 8 KB)");
            part_headers(p, he, pt);
            ds = he + 4;
        }
        const unsigned char *de = find(ds, (size_t)(end - ds), delim, (size_t)dl);
        if (!de)
            return fail(why, whylen, "a multipart part is not closed by a boundary line");
        pt->data = ds;
        pt->len = (size_t)(de - ds);
        n++;
        p = de + dl;
    }
}

const au_part *au_mp_find(const au_part *parts, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}
