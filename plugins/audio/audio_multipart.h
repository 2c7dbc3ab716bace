/* A bounded multipart/form-data reader (RFC 7578) for the audio routes, free of any host call.
 * It never reads outside [body, body + len) and never copies part bodies. */
#ifndef AUDIO_MULTIPART_H
#define AUDIO_MULTIPART_H

#include <stddef.h>

#define AU_MP_MAX_PARTS 16
#define AU_MP_NAME_MAX 64
#define AU_MP_FILENAME_MAX 256
#define AU_MP_TYPE_MAX 128
#define AU_MP_HEADERS_MAX 8192 /* bytes of headers one part may have */

typedef struct au_part {
    char name[AU_MP_NAME_MAX];         /* form field name ("" when absent) */
    char filename[AU_MP_FILENAME_MAX]; /* as sent, cut to fit */
    char type[AU_MP_TYPE_MAX];         /* media type, lower case, parameters dropped; "" if none */
    int is_file;                       /* a filename parameter was present */
    const unsigned char *data;         /* borrowed from the body */
    size_t len;
} au_part;

/* 1 when content_type is multipart/form-data (parameters allowed). */
int au_mp_is_form(const char *content_type);

/* Splits body into parts (at most max). Returns the number of parts, or -1 with a sentence for
 * the client in why (no boundary, unterminated part, headers too long, too many parts...). */
int au_mp_parse(const char *content_type, const void *body, size_t len, au_part *parts, int max,
                char *why, size_t whylen);

/* The first part named name, or NULL. */
const au_part *au_mp_find(const au_part *parts, int n, const char *name);

#endif
