/* Plugin config schema values that need no config file: integer parsing and the textual
 * defaults of ez_config_field. Shared by the kernel's config and the SDK testkit. */
#include "config_schema.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int kn_parse_ll(const char *s, long long *out) {
    errno = 0;
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static json_t *split_list(const char *s) {
    json_t *a = json_array();
    while (a && *s) {
        while (*s == ' ' || *s == '\t')
            s++;
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        size_t m = n;
        while (m && (s[m - 1] == ' ' || s[m - 1] == '\t'))
            m--;
        if (m)
            json_array_append_new(a, json_stringn(s, m));
        s += n;
        if (*s == ',')
            s++;
    }
    return a;
}

json_t *kn_config_parse_default(const ez_config_field *f) {
    const char *v = f->default_value;
    if (!v)
        return NULL;
    switch (f->type) {
    case EZ_CFG_BOOL:
        if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
            return json_true();
        if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
            return json_false();
        return NULL;
    case EZ_CFG_INT: {
        long long n;
        return kn_parse_ll(v, &n) ? NULL : json_integer(n);
    }
    case EZ_CFG_DOUBLE: {
        errno = 0;
        char *end;
        double d = strtod(v, &end);
        return errno || end == v || *end ? NULL : json_real(d);
    }
    case EZ_CFG_STRING:
        return json_string(v);
    case EZ_CFG_STRING_LIST:
        return split_list(v);
    default:
        return NULL;
    }
}
