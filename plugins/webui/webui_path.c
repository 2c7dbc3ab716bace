/* Request path rules. The kernel has decoded the path exactly once; nothing here decodes
 * again, so "%252e%252e" stays the harmless literal name "%2e%2e". Everything refused here is
 * refused before any file system call. */
#include "webui_int.h"

#include <string.h>
#include <strings.h>

int webui_path_is_api(const char *path) {
    return strncasecmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

int webui_path_check(const char *path) {
    size_t len = strlen(path);
    if (len > WEBUI_PATH_MAX)
        return 414;
    if (path[0] != '/')
        return 400;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        /* a backslash is a separator on other systems and in some proxies' eyes */
        if (c < 0x20 || c == 0x7f || c == '\\')
            return 400;
    }
    const char *seg = path + 1;
    for (;;) {
        size_t n = strcspn(seg, "/");
        int last = seg[n] == '\0';
        /* "//" would make the rest look absolute to a naive join; only a trailing "/" is empty */
        if (n == 0 && !last)
            return 400;
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 400;
        if (last)
            return 0;
        seg += n + 1;
    }
}

static const char *last_segment(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int webui_path_is_file_like(const char *path) {
    const char *name = last_segment(path);
    return strchr(name, '.') != NULL;
}

int webui_path_has_dotfile(const char *path) {
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
        if (p[1] == '.')
            return 1;
    return 0;
}
