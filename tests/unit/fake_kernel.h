/* A kernel context for unit tests that link a subset of kernel sources: the accessors of
 * kernel.h/core.h backed by whatever subsystems the test creates, no HTTP, no Socket.IO. */
#ifndef FAKE_KERNEL_H
#define FAKE_KERNEL_H

#include "core.h"

struct kn_kernel {
    struct event_base *base;
    kn_config *cfg;
    kn_logger *log;
    kn_bus *bus;
    kn_timers *timers;
    kn_workers *workers;
    kn_store *store;
    kn_loader *loader;
    ez_host_api api;
};

#endif
