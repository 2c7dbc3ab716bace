/* A small multipart/form-data reader (RFC 7578 over RFC 2046) for the upload routes. It works
 * on one complete body already in memory, never reads outside [body, body + len), allocates
 * nothing and knows nothing of the host: every part is handed to a callback with pointers into
 * the body. Its error messages are busboy's/multer's where the official server has one, so the
 * routes can answer them verbatim (COMPAT §10: multer rejections are 500s). */
#ifndef MEDIA_MULTIPART_H
#define MEDIA_MULTIPART_H

#include <stddef.h>

/* RFC 2046 caps a boundary at 70 characters; a little slack for sloppy clients. */
#define MEDIA_MP_BOUNDARY_MAX 200
/* A part's header block (all lines) may not exceed this (busboy: 16 KiB). */
#define MEDIA_MP_HEADER_MAX (16 * 1024)
/* Parts beyond this are refused ("Too many parts"): nothing legitimate sends thousands. */
#define MEDIA_MP_PARTS_MAX 1000
/* busboy's fieldNameSize default: longer names are "Field name too long". */
#define MEDIA_MP_NAME_MAX 100
/* Longer filenames are refused; no file system keeps more than 255 bytes anyway. */
#define MEDIA_MP_FILENAME_MAX 1024
#define MEDIA_MP_TYPE_MAX 127

typedef enum media_mp_status {
    MEDIA_MP_OK = 0,
    MEDIA_MP_STOPPED,           /* the callback asked to stop */
    MEDIA_MP_NO_BOUNDARY,       /* "Multipart: Boundary not found" */
    MEDIA_MP_UNEXPECTED_END,    /* "Unexpected end of form" */
    MEDIA_MP_BAD_HEADER,        /* "Malformed part header" */
    MEDIA_MP_TOO_MANY_PARTS,    /* "Too many parts" */
    MEDIA_MP_NAME_TOO_LONG,     /* "Field name too long" */
    MEDIA_MP_FILENAME_TOO_LONG, /* "Filename too long" */
} media_mp_status;

/* One part. Strings are NUL-terminated copies held in the struct; data points into the body. */
typedef struct media_mp_part {
    int form_data;    /* Content-Disposition is form-data (other parts are skipped by callers) */
    int has_name;     /* a name parameter was present */
    int has_filename; /* a filename (or filename*) parameter was present: the part is a file */
    char name[MEDIA_MP_NAME_MAX + 1];
    char filename[MEDIA_MP_FILENAME_MAX + 1]; /* may hold any byte but NUL */
    size_t filename_len;
    /* type/subtype in lower case, parameters dropped; busboy's defaults when absent or
     * unparsable: "application/octet-stream" for files, "text/plain" for fields */
    char content_type[MEDIA_MP_TYPE_MAX + 1];
    const unsigned char *data; /* borrowed from the body */
    size_t len;
} media_mp_part;

/* Return 0 to continue, anything else to stop (media_mp_parse then returns MEDIA_MP_STOPPED). */
typedef int (*media_mp_fn)(const media_mp_part *part, void *ud);

/* 1 when the Content-Type header value is multipart/form-data (any case, parameters after). */
int media_mp_is_form(const char *content_type);

/* Copies the boundary parameter of a multipart Content-Type value (quoted or token) into out
 * (MEDIA_MP_BOUNDARY_MAX + 1 bytes). Returns its length, or 0 when absent, empty or too long. */
size_t media_mp_boundary(const char *content_type, char out[MEDIA_MP_BOUNDARY_MAX + 1]);

/* Walks every part of body in order, calling fn for each; part is reused between calls.
 * Preamble and epilogue are ignored. The body must end with the close delimiter, else
 * MEDIA_MP_UNEXPECTED_END (also for an empty body). */
media_mp_status media_mp_parse(const void *body, size_t len, const char *boundary,
                               media_mp_part *part, media_mp_fn fn, void *ud);

/* The message the official server's stack gives for a status (static). */
const char *media_mp_message(media_mp_status st);

#endif
