/* REST authentication (COMPAT §1.4): when server.auth_token is set, every request under /api
 * (matched case-insensitively, like Express mounts) except OPTIONS must carry X-API-KEY equal
 * to it. /health, /healthz, /socket.io/ and /media/... are outside /api and stay public.
 * Context free, any thread. */
#ifndef KN_AUTH_H
#define KN_AUTH_H

#include <stddef.h>

/* 1 when a request for this raw path (no query) needs the key: "/api" or "/api/...". */
int kn_auth_path_protected(const char *path, size_t len);

/* Constant-time comparison: the time depends on the lengths only, not on where the bytes
 * differ. 1 when equal. */
int kn_auth_equal(const char *a, size_t alen, const char *b, size_t blen);

/* The whole decision. token: the configured key (NULL or "" = auth off); presented: the
 * X-API-KEY header or NULL; options: 1 for an OPTIONS request. 1 = let it through. */
int kn_auth_allows(const char *token, const char *path, size_t path_len, int options,
                   const char *presented);

#endif
