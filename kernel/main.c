/* elizad: flags, then hand over to the kernel. */
#include "config.h"
#include "core.h"
#include "loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: elizad [--config FILE] [--check-config]\n"
            "       elizad --check-plugin FILE.so | --describe NAME | --version | --help\n"
            "\n"
            "  --config FILE        configuration (default ./elizad.conf, then %s,\n"
            "                       then the built-in defaults)\n"
            "  --check-config       validate the configuration and every enabled plugin's\n"
            "                       section, then exit (0 = valid)\n"
            "  --check-plugin FILE  run the ABI gate on FILE.so and print its name, version, ABI,\n"
            "                       description and config schema; no code of it runs\n"
            "  --describe NAME      print the config keys of plugin NAME (found like at startup)\n"
            "  --version            print the version and the plugin ABI\n"
            "\n"
            "Environment: SERVER_PORT SERVER_HOST ELIZA_SERVER_AUTH_TOKEN SERVER_API_KEY\n"
            "CORS_ORIGIN API_CORS_ORIGIN EXPRESS_MAX_PAYLOAD ELIZA_DATA_DIR ELIZAD_PLUGIN_DIR\n"
            "LOG_LEVEL override the matching server keys; ELIZAD_NO_DLCLOSE=1 keeps plugins\n"
            "mapped at exit (sanitizer symbols).\n",
            EZ_DEFAULT_CONFIG);
}

static int check_plugin(const char *file) {
    char path[PATH_MAX], err[KN_ERR_MAX];
    /* dlopen searches the library path for a bare name; the user meant a file */
    snprintf(path, sizeof path, "%s%s", strchr(file, '/') ? "" : "./", file);
    void *dl;
    const ez_plugin_desc *d;
    if (kn_plugin_open(path, NULL, &dl, &d, err, sizeof err) != EZ_OK) {
        fprintf(stderr, "%s: %s\n", file, err);
        return 1;
    }
    kn_plugin_print(stdout, d);
    fflush(stdout);
    if (!getenv("ELIZAD_NO_DLCLOSE"))
        dlclose(dl);
    return 0;
}

static int describe(const kn_config *cfg, const char *name) {
    char path[PATH_MAX], err[KN_ERR_MAX];
    if (kn_plugin_find(kn_config_get(cfg, "server.plugin_dir"), name, path, sizeof path, err,
                       sizeof err) != 0) {
        fprintf(stderr, "plugin %s: %s\n", name, err);
        return 1;
    }
    void *dl;
    const ez_plugin_desc *d;
    if (kn_plugin_open(path, name, &dl, &d, err, sizeof err) != EZ_OK) {
        fprintf(stderr, "plugin %s: %s (%s)\n", name, err, path);
        return 1;
    }
    kn_plugin_print(stdout, d);
    printf("file:        %s\n", path);
    fflush(stdout);
    if (!getenv("ELIZAD_NO_DLCLOSE"))
        dlclose(dl);
    return 0;
}

/* "--flag VALUE" or "--flag=VALUE": 1 when argv[*i] is this flag (value in *val, NULL when
 * missing), else 0. */
static int flag_value(const char *flag, int argc, char **argv, int *i, const char **val) {
    size_t n = strlen(flag);
    const char *a = argv[*i];
    if (strncmp(a, flag, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

int main(int argc, char **argv) {
    const char *config_path = NULL, *plugin_file = NULL, *describe_name = NULL;
    int check_config = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            printf("elizad %s (plugin ABI %u.%u)\n", EZ_VERSION, EZ_ABI_MAJOR, EZ_ABI_MINOR);
            return 0;
        }
        if (strcmp(a, "--check-config") == 0) {
            check_config = 1;
            continue;
        }
        const char **slot = NULL;
        if (flag_value("--config", argc, argv, &i, &val) || flag_value("-c", argc, argv, &i, &val))
            slot = &config_path;
        else if (flag_value("--check-plugin", argc, argv, &i, &val))
            slot = &plugin_file;
        else if (flag_value("--describe", argc, argv, &i, &val))
            slot = &describe_name;
        if (!slot) {
            fprintf(stderr, "elizad: unknown argument \"%s\" (see --help)\n", a);
            return 2;
        }
        if (!val || !*val) {
            fprintf(stderr, "elizad: %s needs a value (see --help)\n", a);
            return 2;
        }
        *slot = val;
    }
    if (plugin_file)
        return check_plugin(plugin_file);

    char err[KN_ERR_MAX];
    kn_config *cfg = kn_config_load(config_path, err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return KN_EXIT_CONFIG;
    }
    if (describe_name) {
        int rc = describe(cfg, describe_name);
        kn_config_free(cfg);
        return rc;
    }
    /* a closed client socket must be an error on write, not a process kill; so must a file
     * grown past the operator's size limit (RLIMIT_FSIZE): the store reports it */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    kn_kernel *k = kn_kernel_new(cfg);
    if (!k)
        return 1;
    int rc = kn_kernel_prepare(k);
    if (rc == 0 && check_config) {
        printf("%s: configuration OK (%zu plugins)\n", kn_config_source(kn_kernel_config(k)),
               kn_loader_count(kn_kernel_loader(k)));
        fflush(stdout);
    } else if (rc == 0) {
        rc = kn_kernel_run(k);
    }
    kn_kernel_free(k);
    return rc;
}
