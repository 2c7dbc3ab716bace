/* UUIDs the way elizaOS makes and checks them (COMPAT §1.6). */
#include "util_uuid.h"

#include <openssl/sha.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

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

/* Random bytes from a per-thread pool: one getrandom call per few dozen ids, not one each. */
static void random_bytes(unsigned char *out, size_t n) {
    static _Thread_local unsigned char pool[512];
    static _Thread_local size_t left;
    while (n) {
        if (!left) {
            size_t got = 0;
            while (got < sizeof pool) {
                ssize_t r = getrandom(pool + got, sizeof pool - got, 0);
                if (r <= 0) {
                    /* getrandom only fails on ancient kernels or EINTR storms; never zeros */
                    for (; got < sizeof pool; got++)
                        pool[got] = (unsigned char)arc4random();
                    break;
                }
                got += (size_t)r;
            }
            left = sizeof pool;
        }
        size_t take = n < left ? n : left;
        memcpy(out, pool + sizeof pool - left, take);
        memset(pool + sizeof pool - left, 0, take); /* a used byte never stays around */
        left -= take;
        out += take;
        n -= take;
    }
}

void kn_uuid_v4(char out[37]) {
    unsigned char b[16];
    random_bytes(b + 6, sizeof b - 6);
    /* The first 48 bits are the time in milliseconds (the layout of RFC 9562's version 7), the
     * rest is random and the version stays 4: new rows' ids land at the end of every index on
     * them instead of on a random page each, which is most of what a commit writes. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (int i = 5; i >= 0; i--, ms >>= 8)
        b[i] = (unsigned char)(ms & 0xFF);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    format_uuid(b, out);
}

int kn_uuid_valid(const char *s) {
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

/* JavaScript's encodeURIComponent keeps these bytes; everything else is %XX of the UTF-8. */
static int uri_unreserved(unsigned char c) {
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
           c == '\'' || c == '(' || c == ')';
}

void kn_uuid_from_string(const char *s, char out[37]) {
    if (!s)
        s = "";
    if (kn_uuid_valid(s)) {
        memcpy(out, s, 37);
        return;
    }
    size_t n = strlen(s);
    char stackbuf[512] = "";
    /* worst case every byte becomes %XX */
    char *enc = n * 3 + 1 <= sizeof stackbuf ? stackbuf : calloc(1, n * 3 + 1);
    if (!enc) {
        memset(out, '0', 36);
        out[8] = out[13] = out[18] = out[23] = '-';
        out[36] = '\0';
        return;
    }
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
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)enc, o, md);
    if (enc != stackbuf)
        free(enc);
    md[8] = (unsigned char)((md[8] & 0x3F) | 0x80);
    md[6] = (unsigned char)(md[6] & 0x0F);
    format_uuid(md, out);
}
