/* X-API-KEY check. The comparison never exits early so a remote client cannot learn the key a
 * byte at a time from response timings. */
#include "auth.h"

#include <string.h>

int kn_auth_path_protected(const char *path, size_t len) {
    static const char api[] = "/api";
    if (len < 4)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        char c = path[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != api[i])
            return 0;
    }
    return len == 4 || path[4] == '/';
}

int kn_auth_equal(const char *a, size_t alen, const char *b, size_t blen) {
    /* compare over the longer length, reading within bounds, and fold the length difference in */
    volatile unsigned char diff = (unsigned char)(alen != blen);
    size_t n = alen > blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

int kn_auth_allows(const char *token, const char *path, size_t path_len, int options,
                   const char *presented) {
    if (!token || !*token || options || !kn_auth_path_protected(path, path_len))
        return 1;
    if (!presented)
        return 0;
    return kn_auth_equal(token, strlen(token), presented, strlen(presented));
}
