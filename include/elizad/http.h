/* HTTP routes and responses as plugins see them. No evhtp or libevent type appears here. */
#ifndef EZ_HTTP_H
#define EZ_HTTP_H

#include <elizad/types.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Methods, combinable in a mask for route(). */
enum {
    EZ_GET = 1u << 0,
    EZ_POST = 1u << 1,
    EZ_PUT = 1u << 2,
    EZ_PATCH = 1u << 3,
    EZ_DELETE = 1u << 4,
    EZ_HEAD = 1u << 5,
    EZ_OPTIONS = 1u << 6,
};

/* A route handler's return value: EZ_DONE once it has called a respond_* function, or EZ_ASYNC
 * when it will answer later (from a worker completion, a timer, a model callback). A handler that
 * returns EZ_DONE without responding gets a 500 from the kernel. */
#define EZ_DONE 0
#define EZ_ASYNC 1

/* Loop thread. req is borrowed until a respond_* function is called on it. */
typedef int (*ez_route_fn)(ez_req *req, void *ud);

/* Error envelopes, one per API area (COMPAT.md §1.3); the kernel renders them all. */
typedef enum ez_err_style {
    EZ_ERR_STANDARD,  /* A: {"success":false,"error":{"code":C,"message":M[,"details":D]}} */
    EZ_ERR_MESSAGING, /* B: {"success":false,"error":M[,"details":D]} */
    EZ_ERR_SESSIONS,  /* C: {"error":{"code":C,"message":M,"timestamp":ISO[,"details":D]}} */
    EZ_ERR_JOBS,      /* D: {"success":false,"error":M} */
    EZ_ERR_RAW,       /* E: {"error":M} */
} ez_err_style;

/* Route patterns: literal segments, ":name" parameters and one trailing "*" (the rest of the
 * path, read with param(req, "*")). A parameter written ":name(uuid)" is validated by the kernel
 * before the handler runs; a bad value is answered 400 in the style the route was registered with
 * (see route_opts). Matching ignores a trailing slash. */

#ifdef __cplusplus
}
#endif

#endif
