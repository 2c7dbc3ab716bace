/* webui: the descriptor, its configuration and init/destroy. Which directory holds the dist is
 * decided here; serving is in webui_route.c (handler) and webui_file.c (workers). */
#include "webui_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EZ_WEBUI_INSTALL_DIR
#define EZ_WEBUI_INSTALL_DIR "/usr/local/share/elizad/webui"
#endif

static const ez_config_field webui_config[] = {
    {EZ_CFG_STRING, "dir", "", 0, 0,
     "directory holding @elizaos/client's dist (index.html, assets/); empty = <directory of "
     "the elizad binary>/webui, then " EZ_WEBUI_INSTALL_DIR},
    {EZ_CFG_INT, "max_file_size", "67108864", 0, 0,
     "bytes; a larger file under dir is answered 500 instead of being read into memory"},
    {EZ_CFG_END, NULL, NULL, 0, 0, NULL},
};

/* New string: path made absolute against the current directory, so later lookups on workers
 * do not depend on it. NULL when out of memory or the cwd is unknown. */
static char *absolute(const char *path) {
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + 1 + strlen(path) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", cwd, path);
    return out;
}

/* New string: "<directory of the running binary>/webui", where packaging/fetch-webui.sh puts
 * the UI by default (build/webui beside build/elizad). NULL when /proc is unavailable. */
static char *beside_binary(void) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    size_t len = strlen(exe) + sizeof "/webui";
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/webui", exe);
    return out;
}

static void state_free(webui_state *st) {
    if (!st)
        return;
    for (int i = 0; i < st->ndirs; i++)
        free(st->dirs[i]);
    free(st);
}

static int has_index(const char *dir) {
    char path[PATH_MAX];
    struct stat sb;
    return snprintf(path, sizeof path, "%s/index.html", dir) < (int)sizeof path &&
           stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* init runs before the loop: checking the directories here blocks nobody. A missing UI is
 * worth one warning, not a failed start: the API is the server's main job. */
static void report_dirs(const webui_state *st) {
    for (int i = 0; i < st->ndirs; i++) {
        if (has_index(st->dirs[i])) {
            st->api->log(st->self, EZ_INFO, "serving the web UI from %s", st->dirs[i]);
            return;
        }
    }
    st->api->log(st->self, EZ_WARN,
                 "web UI not installed: no index.html in %s%s%s; run packaging/fetch-webui.sh "
                 "%s (or set webui.dir); until then / explains how",
                 st->dirs[0], st->ndirs > 1 ? " nor in " : "", st->ndirs > 1 ? st->dirs[1] : "",
                 st->dirs[0]);
}

static int webui_init(ez_plugin *self, const ez_host_api *api, const json_t *cfg, void **state) {
    webui_state *st = calloc(1, sizeof *st);
    if (!st)
        return EZ_ENOMEM;
    st->self = self;
    st->api = api;
    const char *dir = json_string_value(json_object_get(cfg, "dir"));
    json_int_t max = json_integer_value(json_object_get(cfg, "max_file_size"));
    if (max <= 0) {
        api->log(self, EZ_ERR, "max_file_size must be positive (got %lld)", (long long)max);
        state_free(st);
        return EZ_EINVAL;
    }
    st->max_file = (size_t)max;
    if (dir && *dir) {
        if (strlen(dir) >= PATH_MAX - WEBUI_PATH_MAX) {
            api->log(self, EZ_ERR, "dir is too long (%zu bytes)", strlen(dir));
            state_free(st);
            return EZ_EINVAL;
        }
        if ((st->dirs[0] = absolute(dir)))
            st->ndirs = 1;
    } else {
        if ((st->dirs[0] = beside_binary()))
            st->ndirs = 1;
        if ((st->dirs[st->ndirs] = strdup(EZ_WEBUI_INSTALL_DIR)))
            st->ndirs++;
    }
    if (st->ndirs == 0) {
        api->log(self, EZ_ERR, "cannot work out the web UI directory (out of memory?)");
        state_free(st);
        return EZ_ENOMEM;
    }
    report_dirs(st);
    int rc = webui_routes_register(st);
    if (rc != EZ_OK) {
        api->log(self, EZ_ERR, "cannot register GET /* (status %d)", rc);
        state_free(st);
        return rc;
    }
    *state = st;
    return EZ_OK;
}

static void webui_destroy(void *state) {
    state_free(state);
}

EZ_PLUGIN(.name = "webui", .version = "1.0.0",
          .description = "Serves the official elizaOS web UI (@elizaos/client dist) with SPA "
                         "fallback",
          .config = webui_config, .init = webui_init, .destroy = webui_destroy);
