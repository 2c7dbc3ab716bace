/* The file system side, on worker threads only. Below a configured root every step is taken
 * with openat() from a directory descriptor and O_NOFOLLOW, so a symlink planted in an upload
 * tree (by hand, by another program) can never lead a request outside it; the root itself may be
 * a symlink: the operator chose it. */
#include "media_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p: the roots are created on first use, not at start, so that a server that never
 * receives an upload leaves no empty trees behind. */
static int mkdir_p(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errno;
        buf[i] = c;
    }
    return 0;
}

/* Math.round(Math.random() * 1e9): 0..1e9 inclusive. Uniqueness comes from O_EXCL, not from
 * here; the kernel's generator just makes a retry unlikely. */
static unsigned random_suffix(int64_t now_ms, unsigned attempt) {
    uint32_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)((uint64_t)now_ms * 2654435761u) ^ (attempt * 40503u) ^
            (uint32_t)(uintptr_t)&r;
    return (unsigned)(r % 1000000001u);
}

static int write_all(int fd, const char *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The directory <root>/<id>, opened without following a symlink at <id>; -1 with errno set. */
static int open_dir(const char *root, const char *id, int create) {
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0)
        return -1;
    if (create && mkdirat(rfd, id, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        close(rfd);
        errno = e;
        return -1;
    }
    int dfd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    struct stat sb;
    /* Linux says ENOTDIR for a symlink under O_DIRECTORY | O_NOFOLLOW: tell the two apart */
    if (dfd < 0 && e == ENOTDIR && fstatat(rfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(sb.st_mode))
        e = ELOOP;
    close(rfd);
    errno = e;
    return dfd;
}

int media_fs_save(const char *root, const char *id, const char *ext, int64_t now_ms,
                  const void *data, size_t len, char name[MEDIA_NAME_MAX + 1]) {
    int err = mkdir_p(root);
    if (err)
        return err;
    int dfd = open_dir(root, id, 1);
    if (dfd < 0)
        return errno;
    int fd = -1;
    for (unsigned attempt = 0; attempt < 16 && fd < 0; attempt++) {
        snprintf(name, MEDIA_NAME_MAX + 1, "%lld-%u%s", (long long)now_ms,
                 random_suffix(now_ms, attempt), ext);
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        err = errno;
        close(dfd);
        return err;
    }
    err = write_all(fd, data, len);
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) /* never leave half a file behind a URL nobody was given */
        unlinkat(dfd, name, 0);
    close(dfd);
    return err;
}

static media_load fail(int e, int *err) {
    if (e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG)
        return MEDIA_LOAD_MISSING;
    if (e == ELOOP)
        return MEDIA_LOAD_DENIED;
    *err = e;
    return MEDIA_LOAD_ERROR;
}

media_load media_fs_load(const char *root, const char *id, const char *name, size_t max,
                         char **data, size_t *len, int *err) {
    *data = NULL;
    *len = 0;
    *err = 0;
    int dfd = open_dir(root, id, 0);
    if (dfd < 0)
        return fail(errno, err);
    /* O_NONBLOCK: a FIFO planted in the tree must not hang a worker in open() */
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    close(dfd);
    if (fd < 0)
        return fail(e, err);
    struct stat sb;
    media_load rc = MEDIA_LOAD_OK;
    if (fstat(fd, &sb) != 0) {
        rc = fail(errno, err);
    } else if (!S_ISREG(sb.st_mode)) {
        rc = MEDIA_LOAD_MISSING;
    } else if ((unsigned long long)sb.st_size > max) {
        rc = MEDIA_LOAD_TOO_LARGE;
    } else {
        size_t size = (size_t)sb.st_size;
        char *buf = malloc(size ? size : 1);
        size_t got = 0;
        if (!buf) {
            *err = ENOMEM;
            rc = MEDIA_LOAD_ERROR;
        }
        while (buf && got < size) {
            ssize_t n = read(fd, buf + got, size - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                *err = errno;
                rc = MEDIA_LOAD_ERROR;
                break;
            }
            if (n == 0)
                break; /* truncated while we read: serve what is there */
            got += (size_t)n;
        }
        if (rc == MEDIA_LOAD_OK) {
            *data = buf;
            *len = got;
        } else {
            free(buf);
        }
    }
    close(fd);
    return rc;
}
