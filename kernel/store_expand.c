/* "@name" -> "<plugin>_name" outside quotes and comments: the storage namespace rule, shared by
 * the kernel's store and the SDK testkit. */
#include "store_expand.h"

#include <stdlib.h>
#include <string.h>

static int name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* snprintf-like: writes at most cap bytes (NUL included), returns the full length. */
static size_t expand_into(const char *ns, size_t nslen, const char *sql, char *out, size_t cap) {
    size_t o = 0;
/* copies the current byte and advances; evaluates nothing twice or conditionally */
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        char ch_ = (ch);                                                                           \
        if (o + 1 < cap)                                                                           \
            out[o] = ch_;                                                                          \
        o++;                                                                                       \
    } while (0)
    const char *p = sql;
    while (*p) {
        /* plain text up to the next byte that may start a quote, a comment or a name: copied
         * at once (this runs for every statement a plugin sends) */
        size_t run = strcspn(p, "'\"`[-/@");
        if (run) {
            if (o + 1 < cap)
                memcpy(out + o, p, o + run < cap ? run : cap - 1 - o);
            o += run;
            p += run;
            continue;
        }
        char c = *p;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            PUT(*p++);
            while (*p) {
                char d = *p;
                PUT(*p++);
                if (d == close) {
                    if (close != ']' && *p == close) { /* doubled quote: still inside */
                        PUT(*p++);
                        continue;
                    }
                    break;
                }
            }
        } else if (c == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                PUT(*p++);
        } else if (c == '/' && p[1] == '*') {
            PUT(*p++);
            PUT(*p++);
            while (*p && !(p[0] == '*' && p[1] == '/'))
                PUT(*p++);
            if (*p) {
                PUT(*p++);
                PUT(*p++);
            }
        } else if (c == '@' && name_char(p[1]) && (p == sql || !name_char(p[-1]))) {
            for (size_t i = 0; i < nslen; i++)
                PUT(ns[i]);
            PUT('_');
            p++;
        } else {
            PUT(*p++);
        }
    }
#undef PUT
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return o;
}

char *kn_store_expand(const char *ns, const char *sql, char *buf, size_t cap, size_t *len) {
    size_t nslen = strlen(ns);
    size_t n = expand_into(ns, nslen, sql, buf, cap);
    *len = n;
    if (n < cap)
        return buf;
    char *heap = malloc(n + 1);
    if (heap)
        expand_into(ns, nslen, sql, heap, n + 1);
    return heap;
}
