/* The local .env behind GET/POST /api/system/env/local: found by walking up from the working
 * directory (like elizaOS), read with dotenv's rules, rewritten as `KEY=value` entries separated
 * by blank lines — but only after the whole new content validated, and atomically (temp file in
 * the same directory, fsync, rename), so a bad request or a crash never leaves a torn file
 * (COMPAT §18 #15). Values that need it are quoted so that reading them back gives them
 * unchanged. */
#include "http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_MAX (1024 * 1024)

char *kn_env_find(void) {
    char dir[PATH_MAX], path[PATH_MAX + 8];
    struct stat st;
    if (!getcwd(dir, sizeof dir))
        return NULL;
    for (;;) {
        snprintf(path, sizeof path, "%s/.env", strcmp(dir, "/") ? dir : "");
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return strdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash || strcmp(dir, "/") == 0)
            return NULL;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

/* dotenv's key class: [\w.-] */
static int key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

json_t *kn_env_parse(const char *s, size_t len) {
    json_t *out = json_object();
    size_t i = 0;
    while (out && i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
            i++;
        size_t line_end = i;
        while (line_end < len && s[line_end] != '\n')
            line_end++;
        if (i < len && s[i] == '#') {
            i = line_end;
            continue;
        }
        if (line_end - i > 7 && strncmp(s + i, "export ", 7) == 0)
            i += 7;
        while (i < line_end && s[i] == ' ')
            i++;
        size_t ks = i;
        while (i < line_end && key_char(s[i]))
            i++;
        size_t ke = i;
        while (i < line_end && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (ke == ks || i >= line_end || (s[i] != '=' && s[i] != ':')) {
            i = line_end;
            continue;
        }
        i++;
        while (i < line_end && (s[i] == ' ' || s[i] == '\t'))
            i++;
        char *val = NULL;
        size_t vlen = 0;
        char q = i < len ? s[i] : 0;
        const char *close = NULL;
        if (q == '\'' || q == '"' || q == '`')
            close = memchr(s + i + 1, q, len - i - 1); /* quoted values may span lines */
        if (close) {
            size_t n = (size_t)(close - (s + i + 1));
            if (!(val = malloc(n + 1)))
                break;
            for (size_t j = 0; j < n; j++) {
                char ch = s[i + 1 + j];
                if (q == '"' && ch == '\\' && j + 1 < n &&
                    (s[i + 2 + j] == 'n' || s[i + 2 + j] == 'r')) {
                    val[vlen++] = s[i + 2 + j] == 'n' ? '\n' : '\r';
                    j++;
                    continue;
                }
                val[vlen++] = ch;
            }
            line_end = (size_t)(close - s);
            while (line_end < len && s[line_end] != '\n')
                line_end++;
        } else {
            size_t e = i;
            while (e < line_end && s[e] != '#') /* dotenv: '#' always starts a comment here */
                e++;
            while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
                e--;
            vlen = e - i;
            if (!(val = malloc(vlen + 1)))
                break;
            memcpy(val, s + i, vlen);
        }
        val[vlen] = '\0';
        char key[256];
        size_t kl = ke - ks < sizeof key - 1 ? ke - ks : sizeof key - 1;
        memcpy(key, s + ks, kl);
        key[kl] = '\0';
        json_object_set_new(out, key, json_stringn(val, vlen));
        free(val);
        i = line_end;
    }
    return out;
}

static int needs_quotes(const char *v, size_t n) {
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        return 1;
    return strpbrk(v, "\n\r#'\"`") != NULL;
}

/* Appends `KEY=value` to buf; 0 on success, -1 when the pair cannot be written faithfully. */
static int render_pair(char **buf, size_t *len, const char *key, const json_t *v) {
    char num[64];
    const char *s;
    size_t n;
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
        if (strlen(s) != n)
            return -1; /* embedded NUL */
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
        n = strlen(num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.16g", json_real_value(v));
        s = num;
        n = strlen(num);
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        n = strlen(s);
    } else {
        return -1;
    }
    size_t klen = strlen(key);
    if (klen == 0 || klen > 255)
        return -1;
    for (size_t i = 0; i < klen; i++)
        if (!key_char(key[i]))
            return -1;
    char q = 0;
    if (needs_quotes(s, n)) {
        if (!memchr(s, '\'', n))
            q = '\'';
        else if (!memchr(s, '`', n))
            q = '`';
        else if (!memchr(s, '"', n) && !memchr(s, '\\', n))
            q = '"';
        else
            return -1;
    }
    size_t need = (*len ? 2 : 0) + klen + 1 + n + (q ? 2 : 0);
    if (*len + need + 2 > ENV_MAX)
        return -1;
    char *nb = realloc(*buf, *len + need + 2);
    if (!nb)
        return -1;
    *buf = nb;
    char *p = nb + *len;
    if (*len) {
        memcpy(p, "\n\n", 2);
        p += 2;
    }
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    if (q)
        *p++ = q;
    memcpy(p, s, n);
    p += n;
    if (q)
        *p++ = q;
    *p = '\0';
    *len = (size_t)(p - nb);
    return 0;
}

char *kn_env_render(const json_t *content) {
    if (!json_is_object(content))
        return NULL;
    char *buf = calloc(1, 1);
    size_t len = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)content, key, v) {
        if (!buf || render_pair(&buf, &len, key, v) != 0) {
            free(buf);
            return NULL;
        }
    }
    if (len) { /* end with a newline like any text file */
        buf[len++] = '\n';
        buf[len] = '\0';
    }
    return buf;
}

int kn_env_write_atomic(const char *path, const char *text) {
    char real[PATH_MAX], tmp[PATH_MAX + 32];
    if (!realpath(path, real))
        return errno ? errno : ENOENT;
    struct stat st;
    mode_t mode = 0600;
    if (stat(real, &st) == 0)
        mode = st.st_mode & 07777;
    const char *slash = strrchr(real, '/');
    int dlen = slash ? (int)(slash - real) : 0;
    snprintf(tmp, sizeof tmp, "%.*s/.env.tmp.XXXXXX", dlen, real);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno;
    int err = 0;
    size_t left = strlen(text);
    const char *p = text;
    while (left && !err) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno != EINTR)
                err = errno;
            continue;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!err && fchmod(fd, mode) != 0)
        err = errno;
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, real) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    return err;
}
