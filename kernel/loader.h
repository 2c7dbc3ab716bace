/* Plugin loader (DESIGN §3): find ez_<name>.so, dlopen, ABI gate before any plugin code runs,
 * config section validation, dependency order, init/start/stop/destroy, registration tracking
 * and rollback, named table exports. Loop thread. */
#ifndef KN_LOADER_H
#define KN_LOADER_H

#include "config.h"
#include "core.h"

#include <stdio.h>

/* The 1.0 descriptor ends with destroy: anything shorter is refused. */
#define KN_DESC_SIZE_1_0 (offsetof(ez_plugin_desc, destroy) + sizeof(void (*)(void *)))

/* Process exit codes of startup failures. */
#define KN_EXIT_CONFIG 2
#define KN_EXIT_PLUGIN 1

kn_loader *kn_loader_new(kn_kernel *k);
/* Unloads whatever is still loaded (kn_loader_unload_all) and frees. */
void kn_loader_free(kn_loader *l);

/* The pseudo-plugin "kernel" the kernel registers its own routes and subscriptions under.
 * kn_loader_kernel_begin/end bracket that registration. */
ez_plugin *kn_loader_kernel_plugin(kn_loader *l);
void kn_loader_kernel_begin(kn_loader *l);
void kn_loader_kernel_end(kn_loader *l);

/* Loads and gates every enabled plugin, validates their config sections, checks sections of
 * disabled plugins and orders by requires[]. No plugin function is called. On failure returns
 * KN_EXIT_CONFIG or KN_EXIT_PLUGIN with the one-line reason in err; 0 on success. */
int kn_loader_prepare(kn_loader *l, const kn_config *cfg, char err[KN_ERR_MAX]);
/* init in dependency order; a failing init is rolled back and stops the sequence (the
 * initialised ones stay for kn_loader_unload_all). KN_EXIT_PLUGIN + err on failure. */
int kn_loader_init_all(kn_loader *l, char err[KN_ERR_MAX]);
int kn_loader_start_all(kn_loader *l, char err[KN_ERR_MAX]);
/* stop in reverse order (only the started ones). */
void kn_loader_stop_all(kn_loader *l);
/* Reverse order: cancel timers, undo registrations (ud_free), destroy, dlclose (unless
 * ELIZAD_NO_DLCLOSE=1). Also the kernel pseudo-plugin's registrations, last. */
void kn_loader_unload_all(kn_loader *l);

size_t kn_loader_count(kn_loader *l);
ez_plugin *kn_loader_at(kn_loader *l, size_t i); /* init order */
const ez_plugin_desc *kn_plugin_desc(const ez_plugin *p);
/* The validated config section (borrowed). */
const json_t *kn_plugin_config(const ez_plugin *p);
/* <data_dir>/<name>, created on first call (borrowed, plugin lifetime); NULL on failure. */
const char *kn_plugin_data_dir(ez_plugin *p);

/* export_api / import_api. */
int kn_loader_export(ez_plugin *p, const char *name, const void *table);
const void *kn_loader_import(kn_loader *l, const char *name);

/* GET /api/plugins: see kn_kernel_plugins_describe. */
json_t *kn_loader_describe(kn_loader *l);

/* ---- the gate, shared with --check-plugin and --describe ---- */
/* Checks a descriptor read from a shared object. symsize: the ELF size of the symbol (0 when
 * unknown). expect_name: the config key, or NULL to accept any valid name. */
int kn_plugin_gate(const ez_plugin_desc *d, size_t symsize, const char *expect_name, char *err,
                   size_t errlen);
/* dlopen + dlsym + gate. On success *dl and *desc are set (dlclose(*dl) when done). */
int kn_plugin_open(const char *path, const char *expect_name, void **dl,
                   const ez_plugin_desc **desc, char *err, size_t errlen);
/* Finds ez_<name>.so: plugin_dir (may be NULL), <dir of the executable>/plugins, the install
 * dir. Returns 0 and fills out, or -1 with the searched directories in err. */
int kn_plugin_find(const char *plugin_dir, const char *name, char *out, size_t outlen, char *err,
                   size_t errlen);
/* Human-readable name, version, ABI, description, requires and config schema. */
void kn_plugin_print(FILE *f, const ez_plugin_desc *d);

#endif
