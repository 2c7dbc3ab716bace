/* UUIDs the way elizaOS makes and checks them (COMPAT §1.6). */
#include "util_uuid.h"

#include <openssl/sha.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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

void kn_uuid_v4(char out[37]) {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n <= 0) {
            /* getrandom only fails on ancient kernels or EINTR storms; never hand out zeros */
            for (; got < sizeof b; got++)
                b[got] = (unsigned char)arc4random();
            break;
        }
        got += (size_t)n;
    }
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
