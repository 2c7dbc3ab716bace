/* CORS as the real server's `cors` middleware does it (COMPAT §1.5): the configured origin, or
 * the request's own Origin reflected; credentials allowed; a preflight lists the methods and
 * headers (X-API-KEY for the REST key, X-Entity-Id and Accept that the web UI sends). Plus the
 * three helmet headers that matter. server.cors_origin may hold a comma-separated list: a
 * listed Origin is reflected, others get no Allow-Origin. */
#include "http_int.h"

#include <string.h>
#include <strings.h>

static const char *allowed_origin(const kn_http *h, const char *origin) {
    const char *cfg = h->cors_origin;
    if (!cfg)
        return origin; /* reflect (absent Origin: no header, like cors with origin:true) */
    if (!strchr(cfg, ','))
        return cfg;
    if (!origin)
        return NULL;
    size_t olen = strlen(origin);
    const char *p = cfg;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t && p[t - 1] == ' ')
            t--;
        if (t == olen && strncasecmp(p, origin, olen) == 0)
            return origin;
        p += n;
    }
    return NULL;
}

void kn_http_common_headers(const kn_http *h, const char *origin, kn_hdr_emit emit, void *arg) {
    emit(arg, "X-Content-Type-Options", "nosniff");
    emit(arg, "X-Frame-Options", "SAMEORIGIN");
    emit(arg, "Referrer-Policy", "no-referrer");
    const char *allow = allowed_origin(h, origin && *origin ? origin : NULL);
    if (allow) {
        emit(arg, "Access-Control-Allow-Origin", allow);
        emit(arg, "Access-Control-Allow-Credentials", "true");
    }
    if (!h->cors_origin || strchr(h->cors_origin, ','))
        emit(arg, "Vary", "Origin");
}

void kn_http_preflight_headers(kn_hdr_emit emit, void *arg) {
    emit(arg, "Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,PATCH,OPTIONS");
    emit(arg, "Access-Control-Allow-Headers",
         "Content-Type,Authorization,X-API-KEY,X-Entity-Id,Accept");
    emit(arg, "Access-Control-Max-Age", "600");
}
