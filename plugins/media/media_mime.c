/* Which uploads are accepted, how they are categorised, and what a stored file is served as. */
#include "media_int.h"

#include <string.h>
#include <strings.h>

static const char *const allowed[] = {
    /* audio */
    "audio/mpeg", "audio/mp3", "audio/wav", "audio/ogg", "audio/webm", "audio/mp4", "audio/aac",
    "audio/flac", "audio/x-wav", "audio/wave",
    /* the rest of the media list */
    "image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm",
    "application/pdf", "text/plain"};

int media_mime_allowed(const char *mime) {
    if (!mime)
        return 0;
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (strcmp(mime, allowed[i]) == 0)
            return 1;
    return 0;
}

const char *media_mime_category(const char *mime) {
    if (strncmp(mime, "image/", 6) == 0)
        return "image";
    if (strncmp(mime, "video/", 6) == 0)
        return "video";
    if (strncmp(mime, "audio/", 6) == 0)
        return "audio";
    return "document";
}

size_t media_extname(const char *name, size_t len, char out[MEDIA_EXT_MAX + 2]) {
    out[0] = '\0';
    while (len && name[len - 1] == '/') /* as Node: "a/b.c/" has ".c" */
        len--;
    size_t base = len;
    while (base && name[base - 1] != '/')
        base--;
    size_t dot = len;
    for (size_t i = len; i > base; i--) {
        if (name[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (dot == len || dot == base || (len - base == 2 && name[base] == '.'))
        return 0; /* no dot, a dot file, or ".." */
    size_t n = len - dot;
    if (n > MEDIA_EXT_MAX + 1)
        return 0;
    for (size_t i = dot + 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    memcpy(out, name + dot, n);
    out[n] = '\0';
    return n;
}

/* express (send/mime) names, with its charset for text */
static const struct {
    const char *ext, *type;
} by_ext[] = {
    {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"},     {"png", "image/png"},
    {"gif", "image/gif"},   {"webp", "image/webp"},     {"mp4", "video/mp4"},
    {"m4v", "video/mp4"},   {"webm", "video/webm"},     {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"},   {"ogg", "audio/ogg"},       {"oga", "audio/ogg"},
    {"m4a", "audio/mp4"},   {"aac", "audio/aac"},       {"flac", "audio/flac"},
    {"weba", "audio/webm"}, {"pdf", "application/pdf"}, {"txt", "text/plain; charset=UTF-8"},
};

const char *media_type_for(const char *filename) {
    const char *dot = strrchr(filename, '.');
    if (dot && dot != filename) {
        for (size_t i = 0; i < sizeof by_ext / sizeof *by_ext; i++)
            if (strcasecmp(dot + 1, by_ext[i].ext) == 0)
                return by_ext[i].type;
    }
    return "application/octet-stream";
}

int media_name_safe(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MEDIA_NAME_MAX || name[0] == '.' || strstr(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return 0;
    }
    return 1;
}
