/* multipart/form-data (RFC 7578 over RFC 2046) for upload routes: the types of the kernel's
 * reader, which plugins call through the host table (host.h, ABI 1.2: mp_is_form, mp_boundary,
 * mp_parse, mp_message; any thread). It works on one complete body already in memory, never
 * reads outside [body, body + len), allocates nothing: every part is handed to a callback with
 * pointers into the body. Its messages are busboy's/multer's where the official server has one,
 * so routes can answer them verbatim (COMPAT §10: multer rejections are 500s). */
#ifndef EZ_MULTIPART_H
#define EZ_MULTIPART_H

#include <stddef.h>

/* RFC 2046 caps a boundary at 70 characters; a little slack for sloppy clients. */
#define EZ_MP_BOUNDARY_MAX 200
/* A part's header block (all lines) may not exceed this (busboy: 16 KiB). */
#define EZ_MP_HEADER_MAX (16 * 1024)
/* Parts beyond this are refused ("Too many parts"): nothing legitimate sends thousands. */
#define EZ_MP_PARTS_MAX 1000
/* busboy's fieldNameSize default: longer names are "Field name too long". */
#define EZ_MP_NAME_MAX 100
/* Longer filenames are refused; no file system keeps more than 255 bytes anyway. */
#define EZ_MP_FILENAME_MAX 1024
#define EZ_MP_TYPE_MAX 127

typedef enum ez_mp_status {
    EZ_MP_OK = 0,
    EZ_MP_STOPPED,           /* the callback asked to stop */
    EZ_MP_NO_BOUNDARY,       /* "Multipart: Boundary not found" */
    EZ_MP_UNEXPECTED_END,    /* "Unexpected end of form" */
    EZ_MP_BAD_HEADER,        /* "Malformed part header" */
    EZ_MP_TOO_MANY_PARTS,    /* "Too many parts" */
    EZ_MP_NAME_TOO_LONG,     /* "Field name too long" */
    EZ_MP_FILENAME_TOO_LONG, /* "Filename too long" */
} ez_mp_status;

/* One part. Strings are NUL-terminated copies held in the struct; data points into the body. */
typedef struct ez_mp_part {
    int form_data;    /* Content-Disposition is form-data (other parts are skipped by callers) */
    int has_name;     /* a name parameter was present */
    int has_filename; /* a filename (or filename*) parameter was present: the part is a file */
    char name[EZ_MP_NAME_MAX + 1];
    char filename[EZ_MP_FILENAME_MAX + 1]; /* may hold any byte but NUL */
    size_t filename_len;
    /* type/subtype in lower case, parameters dropped; busboy's defaults when absent or
     * unparsable: "application/octet-stream" for files, "text/plain" for fields */
    char content_type[EZ_MP_TYPE_MAX + 1];
    const unsigned char *data; /* borrowed from the body */
    size_t len;
} ez_mp_part;

/* Return 0 to continue, anything else to stop (mp_parse then returns EZ_MP_STOPPED). */
typedef int (*ez_mp_fn)(const ez_mp_part *part, void *ud);

#endif
