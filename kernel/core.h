/* Kernel-internal accessors to the subsystems hanging off the one kn_kernel (kernel.c). Only
 * the kernel's own files include this; the HTTP and Socket.IO layers use kernel.h. */
#ifndef KN_CORE_H
#define KN_CORE_H

#include "kernel.h"

typedef struct kn_logger kn_logger;
typedef struct kn_bus kn_bus;
typedef struct kn_timers kn_timers;
typedef struct kn_fdwatches kn_fdwatches;
typedef struct kn_workers kn_workers;
typedef struct kn_store kn_store;
typedef struct kn_loader kn_loader;
typedef struct kn_config kn_config;

/* All borrowed: owned by the kernel and valid until kn_kernel_free (NULL before creation). */
kn_logger *kn_kernel_logger(kn_kernel *k);
kn_bus *kn_kernel_bus(kn_kernel *k);
kn_timers *kn_kernel_timers(kn_kernel *k);
kn_fdwatches *kn_kernel_fdwatches(kn_kernel *k);
kn_workers *kn_kernel_workers(kn_kernel *k);
kn_store *kn_kernel_store(kn_kernel *k);
/* NULL before the store exists, or without a storage thread's gate (out of memory). */
struct kn_outgate *kn_kernel_outgate(kn_kernel *k);
kn_loader *kn_kernel_loader(kn_kernel *k);
const kn_config *kn_kernel_config(kn_kernel *k);
/* The host API table handed to every plugin (kernel lifetime). */
const ez_host_api *kn_kernel_api(kn_kernel *k);
/* ---- lifecycle, driven by main.c ---- */
/* Creates the loop and the core subsystems around a loaded config (stolen, also on failure).
 * NULL on failure (logged). */
kn_kernel *kn_kernel_new(kn_config *cfg_new);
/* Loads, gates and orders the plugins and validates their sections; 0 or an exit code
 * (KN_EXIT_CONFIG / KN_EXIT_PLUGIN) with the reason logged. */
int kn_kernel_prepare(kn_kernel *k);
/* Opens the store, creates HTTP + Socket.IO, inits and starts the plugins, listens and runs the
 * loop until a graceful shutdown completes. Returns the process exit code. */
int kn_kernel_run(kn_kernel *k);
/* Tears everything down (plugins destroyed in reverse order, store closed). */
void kn_kernel_free(kn_kernel *k);

/* Fills the kernel's members of the host API (hostapi.c). */
void kn_hostapi_fill(ez_host_api *api);

#endif
