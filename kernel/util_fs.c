#include "util_fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int kn_mkdir_p(const char *dir) {
    char path[4096];
    size_t n = dir ? strlen(dir) : 0;
    if (n == 0 || n >= sizeof path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
