/* The kernel's multipart/form-data reader (kernel/multipart.c); plugins reach it through the
 * host table (include/elizad/multipart.h has the types and the rules). Any thread. */
#ifndef KN_MULTIPART_H
#define KN_MULTIPART_H

#include <elizad/multipart.h>

/* 1 when the Content-Type header value is multipart/form-data (any case, parameters after). */
int kn_mp_is_form(const char *content_type);

/* Copies the boundary parameter of a multipart Content-Type value (quoted or token) into out
 * (EZ_MP_BOUNDARY_MAX + 1 bytes). Returns its length, or 0 when absent, empty or too long. */
size_t kn_mp_boundary(const char *content_type, char out[EZ_MP_BOUNDARY_MAX + 1]);

/* Walks every part of body in order, calling fn for each; part is reused between calls.
 * Preamble and epilogue are ignored. The body must end with the close delimiter, else
 * EZ_MP_UNEXPECTED_END (also for an empty body). */
ez_mp_status kn_mp_parse(const void *body, size_t len, const char *boundary, ez_mp_part *part,
                         ez_mp_fn fn, void *ud);

/* The message the official server's stack gives for a status (static). */
const char *kn_mp_message(ez_mp_status st);

#endif
