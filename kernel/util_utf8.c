#include "util_utf8.h"

/* Length of the valid sequence at p (1..4), or 0 when invalid (overlong, surrogate, > U+10FFFF,
 * truncated): the same rules jansson applies. */
static size_t seq_len(const unsigned char *p, size_t avail) {
    unsigned c = p[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

size_t kn_utf8_sanitize(char *s, size_t len) {
    unsigned char *p = (unsigned char *)s;
    size_t i = 0, fixed = 0;
    while (i < len) {
        size_t n = seq_len(p + i, len - i);
        if (n == 0) {
            p[i++] = '?';
            fixed++;
            continue;
        }
        i += n;
    }
    return fixed;
}
