/* The file system side, run on worker threads only: it may block, and touches nothing but its
 * arguments. Containment is checked on the resolved path (realpath), so a symlink inside the
 * dist that points outside it is refused, and the file is then opened without following a
 * symlink that might have been swapped in since. */
#include "webui_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int webui_find_root(char *const *dirs, int ndirs, char *root) {
    for (int i = 0; i < ndirs; i++) {
        if (!realpath(dirs[i], root))
            continue;
        char index[PATH_MAX];
        struct stat sb;
        if (snprintf(index, sizeof index, "%s/index.html", root) < (int)sizeof index &&
            stat(index, &sb) == 0 && S_ISREG(sb.st_mode))
            return 0;
    }
    return -1;
}

/* IMF-fixdate by hand: strftime's %a/%b follow the locale. */
static void http_date(time_t t, char out[40]) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
        out[0] = '\0';
        return;
    }
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* If-None-Match holds "*" or a comma-separated list of (maybe weak) tags; GET compares them
 * weakly (RFC 9110 §13.1.2), i.e. without the W/ prefixes. */
static int etag_matches(const char *header, const char *etag) {
    const char *want = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
    size_t want_len = strlen(want);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        const char *tag = p;
        if (t == 1 && tag[0] == '*')
            return 1;
        if (t >= 2 && strncmp(tag, "W/", 2) == 0) {
            tag += 2;
            t -= 2;
        }
        if (t == want_len && memcmp(tag, want, t) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static webui_load read_all(int fd, size_t size, webui_file *out) {
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        out->err = ENOMEM;
        return WEBUI_LOAD_ERROR;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            out->err = errno;
            free(buf);
            return WEBUI_LOAD_ERROR;
        }
        if (n == 0)
            break; /* truncated while we read: serve what is there */
        got += (size_t)n;
    }
    out->data = buf;
    out->len = got;
    return WEBUI_LOAD_OK;
}

static int inside(const char *real, const char *root) {
    size_t rl = strlen(root);
    if (rl == 1) /* root "/" contains everything */
        return 1;
    return strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0');
}

webui_load webui_file_load(const char *root, const char *rel, const char *if_none_match, size_t max,
                           webui_file *out) {
    memset(out, 0, sizeof *out);
    char cand[PATH_MAX], real[PATH_MAX];
    if (snprintf(cand, sizeof cand, "%s%s", root, rel) >= (int)sizeof cand)
        return WEBUI_LOAD_MISSING;
    if (!realpath(cand, real)) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
            return WEBUI_LOAD_MISSING;
        if (errno == ELOOP)
            return WEBUI_LOAD_FORBIDDEN;
        out->err = errno;
        return WEBUI_LOAD_ERROR;
    }
    if (!inside(real, root))
        return WEBUI_LOAD_FORBIDDEN;
    /* O_NONBLOCK: a FIFO planted in the dist must not hang a worker in open() */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            return WEBUI_LOAD_FORBIDDEN;
        if (errno == ENOENT || errno == ENOTDIR)
            return WEBUI_LOAD_MISSING;
        out->err = errno;
        return WEBUI_LOAD_ERROR;
    }
    struct stat sb;
    webui_load rc;
    if (fstat(fd, &sb) != 0) {
        out->err = errno;
        rc = WEBUI_LOAD_ERROR;
    } else if (!S_ISREG(sb.st_mode)) {
        rc = WEBUI_LOAD_MISSING; /* directories fall back to the SPA like unknown routes */
    } else {
        long long mtime_ms = (long long)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
        /* npm tarballs stamp every file 1985-10-26: with only size and mtime (express's tag) a
         * same-size index.html of another release would look unchanged; the inode differs */
        snprintf(out->etag, sizeof out->etag, "W/\"%llx-%llx-%llx\"",
                 (unsigned long long)sb.st_size, (unsigned long long)mtime_ms,
                 (unsigned long long)sb.st_ino);
        http_date(sb.st_mtim.tv_sec, out->last_modified);
        if (if_none_match && etag_matches(if_none_match, out->etag))
            rc = WEBUI_LOAD_NOT_MODIFIED;
        else if ((unsigned long long)sb.st_size > max)
            rc = WEBUI_LOAD_TOO_LARGE;
        else
            rc = read_all(fd, (size_t)sb.st_size, out);
    }
    close(fd);
    return rc;
}
