/* The kernel context: owns every subsystem, runs startup and the graceful shutdown sequence.
 * Startup: store -> Socket.IO -> HTTP -> kernel routes -> plugin init -> start -> listen.
 * Shutdown: stop accepting -> wait for in-flight requests (5 s max) -> close sockets -> stop
 * plugins (reverse) -> drain workers and bus -> leave the loop -> destroy (reverse) -> close. */
#include "core.h"

#include "bus.h"
#include "config.h"
#include "evloop.h"
#include "fdwatch.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "outgate.h"
#include "sio.h"
#include "store.h"
#include "timer.h"
#include "util_time.h"
#include "worker.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KN_DRAIN_MS 5000
#define KN_DRAIN_POLL_MS 20

struct kn_kernel {
    struct event_base *base;
    kn_config *cfg;
    kn_logger *log;
    kn_bus *bus;
    kn_timers *timers;
    kn_fdwatches *fdwatches;
    kn_workers *workers;
    kn_store *store;
    struct kn_outgate *gate;
    kn_loader *loader;
    kn_http *http;
    kn_sio *sio;
    ez_host_api api;
    int64_t started_ms;
    struct event *sigterm, *sigint;
    struct event *shutdown_tick;
    int shutdown_phase; /* 0 running, 1 draining requests, 2 done */
    int64_t drain_deadline;
    int exit_code;
};

/* ---- accessors ---- */

struct event_base *kn_kernel_base(kn_kernel *k) {
    return k ? k->base : NULL;
}
kn_logger *kn_kernel_logger(kn_kernel *k) {
    return k ? k->log : NULL;
}
kn_bus *kn_kernel_bus(kn_kernel *k) {
    return k ? k->bus : NULL;
}
kn_timers *kn_kernel_timers(kn_kernel *k) {
    return k ? k->timers : NULL;
}

kn_fdwatches *kn_kernel_fdwatches(kn_kernel *k) {
    return k ? k->fdwatches : NULL;
}
kn_workers *kn_kernel_workers(kn_kernel *k) {
    return k ? k->workers : NULL;
}
kn_store *kn_kernel_store(kn_kernel *k) {
    return k ? k->store : NULL;
}
struct kn_outgate *kn_kernel_outgate(kn_kernel *k) {
    return k ? k->gate : NULL;
}
kn_loader *kn_kernel_loader(kn_kernel *k) {
    return k ? k->loader : NULL;
}
const kn_config *kn_kernel_config(kn_kernel *k) {
    return k ? k->cfg : NULL;
}
const ez_host_api *kn_kernel_api(kn_kernel *k) {
    return k ? &k->api : NULL;
}
kn_sio *kn_kernel_sio(kn_kernel *k) {
    return k ? k->sio : NULL;
}
kn_http *kn_kernel_http(kn_kernel *k) {
    return k ? k->http : NULL;
}
int64_t kn_kernel_started_ms(kn_kernel *k) {
    return k ? k->started_ms : 0;
}

const char *kn_setting(kn_kernel *k, const char *key) {
    if (!k || !key)
        return NULL;
    if (strcmp(key, "kernel.version") == 0)
        return EZ_VERSION;
    if (strcmp(key, "kernel.config_file") == 0)
        return kn_config_source(k->cfg);
    return kn_config_get(k->cfg, key);
}

long long kn_setting_int(kn_kernel *k, const char *key, long long fallback) {
    return k ? kn_config_get_int(k->cfg, key, fallback) : fallback;
}

int kn_bus_publish_new(kn_kernel *k, const char *topic, json_t *msg_new) {
    if (!k) {
        json_decref(msg_new);
        return EZ_EINVAL;
    }
    return kn_bus_publish(k->bus, topic, msg_new);
}

const void *kn_kernel_import(kn_kernel *k, const char *name) {
    return k ? kn_loader_import(k->loader, name) : NULL;
}

json_t *kn_kernel_plugins_describe(kn_kernel *k) {
    return k ? kn_loader_describe(k->loader) : json_array();
}

json_t *kn_log_recent(kn_kernel *k, int64_t since_ms, int limit) {
    return kn_logger_recent(k ? k->log : NULL, since_ms, limit);
}

void kn_log_clear(kn_kernel *k) {
    if (k)
        kn_logger_clear(k->log);
}

/* ---- shutdown ---- */

static void arm_tick(kn_kernel *k, int ms) {
    struct timeval tv = {.tv_sec = 0, .tv_usec = ms * 1000};
    event_add(k->shutdown_tick, &tv);
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    kn_kernel *k = arg;
    if (k->shutdown_phase != 1)
        return;
    int inflight = k->http ? kn_http_inflight(k->http) : 0;
    if (inflight > 0 && kn_mono_ms() < k->drain_deadline) {
        arm_tick(k, KN_DRAIN_POLL_MS);
        return;
    }
    if (inflight > 0)
        kn_log(k, "kernel", EZ_WARN, "shutdown: %d request(s) still in flight after %d ms",
               inflight, KN_DRAIN_MS);
    k->shutdown_phase = 2;
    if (k->sio)
        kn_sio_close_all(k->sio);
    kn_loader_stop_all(k->loader);
    kn_store_flush(k->store); /* a worker may be waiting for this turn's commit */
    kn_workers_drain(k->workers);
    kn_bus_drain(k->bus);
    event_base_loopexit(k->base, NULL);
}

void kn_kernel_shutdown(kn_kernel *k) {
    if (!k || k->shutdown_phase != 0)
        return;
    k->shutdown_phase = 1;
    k->drain_deadline = kn_mono_ms() + KN_DRAIN_MS;
    kn_log(k, "kernel", EZ_INFO, "shutting down");
    kn_bus_publish(k->bus, "kernel.stopping", json_object());
    if (k->http)
        kn_http_stop_accepting(k->http);
    /* never inside the caller's stack (a route handler): the loop runs the next step */
    arm_tick(k, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    kn_kernel *k = arg;
    if (k->shutdown_phase == 0) {
        kn_log(k, "kernel", EZ_INFO, "%s received", sig == SIGINT ? "SIGINT" : "SIGTERM");
        kn_kernel_shutdown(k);
    } else {
        kn_log(k, "kernel", EZ_WARN, "second signal: leaving the loop now");
        event_base_loopbreak(k->base);
    }
}

/* ---- lifecycle ---- */

kn_kernel *kn_kernel_new(kn_config *cfg) {
    ez_level lvl = EZ_INFO;
    kn_log_level_parse(kn_config_get(cfg, "server.log_level"), &lvl);
    /* libevent must know about threads before the base exists: workers and publishers on other
     * threads wake the loop with event_active */
    if (evthread_use_pthreads() != 0) {
        kn_log(NULL, "kernel", EZ_ERR, "libevent has no pthreads support");
        kn_config_free(cfg);
        return NULL;
    }
    kn_kernel *k = calloc(1, sizeof *k);
    if (!k) {
        kn_config_free(cfg);
        return NULL;
    }
    k->cfg = cfg;
    k->started_ms = kn_now_ms();
    k->log = kn_logger_new(lvl);
    k->base = event_base_new();
    /* priority 0 is the store's end-of-turn commit, which must run before write callbacks;
     * everything else gets the default, 1. Set before any event exists. */
    if (!k->log || !k->base || event_base_priority_init(k->base, 2) != 0)
        goto fail;
    k->bus = kn_bus_new(k->base);
    k->timers = kn_timers_new(k->base);
    k->fdwatches = kn_fdwatches_new();
    k->workers = kn_workers_new(k->base, (int)kn_config_get_int(cfg, "server.workers", 2));
    k->loader = kn_loader_new(k);
    k->shutdown_tick = evtimer_new(k->base, on_shutdown_tick, k);
    if (!k->bus || !k->timers || !k->fdwatches || !k->workers || !k->loader || !k->shutdown_tick)
        goto fail;
    kn_logger_set_bus(k->log, k->bus);
    k->api.abi_major = EZ_ABI_MAJOR;
    k->api.abi_minor = EZ_ABI_MINOR;
    k->api.size = sizeof k->api;
    kn_hostapi_fill(&k->api);
    return k;
fail:
    kn_log(NULL, "kernel", EZ_ERR, "cannot create the kernel (out of memory?)");
    kn_kernel_free(k);
    return NULL;
}

int kn_kernel_prepare(kn_kernel *k) {
    char err[KN_ERR_MAX];
    int rc = kn_loader_prepare(k->loader, k->cfg, err);
    /* config errors are the bare "FILE:LINE: KEY: reason" line, like file-level ones */
    if (rc == KN_EXIT_CONFIG)
        fprintf(stderr, "%s\n", err);
    else if (rc != 0)
        kn_log(k, "kernel", EZ_ERR, "%s", err);
    return rc;
}

static void plugin_list(kn_kernel *k, char *out, size_t cap) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < kn_loader_count(k->loader) && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "",
                              kn_plugin_name(kn_loader_at(k->loader, i)));
}

static uint64_t store_out_tag(const void *store) {
    return kn_store_out_tag(store);
}

int kn_kernel_run(kn_kernel *k) {
    char err[KN_ERR_MAX];
    int rc = KN_EXIT_PLUGIN;
    k->store = kn_store_open(k, kn_setting(k, "server.data_dir"));
    if (!k->store)
        return 1;
    if (kn_setting_int(k, "server.write_behind", 1) == 0)
        kn_store_no_write_behind(k->store);
    kn_store_checkpoint_pages(k->store, (int)kn_setting_int(k, "server.checkpoint_pages", 16000));
    if (kn_store_group_commit(k->store, k->base) != EZ_OK)
        kn_log(k, "kernel", EZ_WARN, "store: no group commit (out of memory?); writes autocommit");
    k->gate = kn_outgate_new(store_out_tag, k->store);
    if (!k->gate) {
        kn_log(k, "kernel", EZ_ERR, "out of memory");
        return 1;
    }
    kn_store_on_commit(k->store, kn_outgate_release, k->gate);
    k->sio = kn_sio_new(k);
    k->http = k->sio ? kn_http_new(k) : NULL;
    if (!k->sio || !k->http) {
        kn_log(k, "kernel", EZ_ERR, "cannot create the HTTP server");
        return 1;
    }
    ez_plugin *kp = kn_loader_kernel_plugin(k->loader);
    kn_loader_kernel_begin(k->loader);
    int sr = kn_http_register_system_routes(k->http, kp);
    kn_loader_kernel_end(k->loader);
    if (sr != EZ_OK) {
        kn_log(k, "kernel", EZ_ERR, "cannot register the system routes (%d)", sr);
        return 1;
    }
    if (kn_loader_init_all(k->loader, err) != 0 || kn_loader_start_all(k->loader, err) != 0) {
        kn_log(k, "kernel", EZ_ERR, "%s", err);
        goto abort;
    }
    if (kn_http_listen(k->http) != EZ_OK) {
        rc = 1;
        goto abort;
    }
    k->sigterm = evsignal_new(k->base, SIGTERM, on_signal, k);
    k->sigint = evsignal_new(k->base, SIGINT, on_signal, k);
    if (!k->sigterm || !k->sigint || event_add(k->sigterm, NULL) || event_add(k->sigint, NULL)) {
        kn_log(k, "kernel", EZ_ERR, "cannot install signal handlers");
        rc = 1;
        goto abort;
    }
    char names[512];
    plugin_list(k, names, sizeof names);
    kn_log(k, "kernel", EZ_INFO, "elizad %s listening on http://%s:%s (plugins: %s)", EZ_VERSION,
           kn_setting(k, "server.host"), kn_setting(k, "server.port"), *names ? names : "none");
    kn_bus_publish(k->bus, "kernel.started", json_object());
    event_base_dispatch(k->base);
    kn_log(k, "kernel", EZ_INFO, "stopped");
    return k->exit_code;
abort:
    /* startup failed after some plugins ran: wind down what exists, then report */
    kn_loader_stop_all(k->loader);
    kn_store_flush(k->store); /* a worker may be waiting for this turn's commit */
    kn_workers_drain(k->workers);
    kn_bus_drain(k->bus);
    return rc;
}

void kn_kernel_free(kn_kernel *k) {
    if (!k)
        return;
    if (k->loader) {
        kn_loader_stop_all(k->loader);
        kn_store_flush(k->store); /* a worker may be waiting for this turn's commit */
        if (k->workers)
            kn_workers_drain(k->workers);
        if (k->bus)
            kn_bus_drain(k->bus);
        kn_loader_free(k->loader);
    }
    if (k->bus) {
        kn_bus_close(k->bus);
        kn_logger_set_bus(k->log, NULL);
    }
    if (k->sio)
        kn_sio_free(k->sio);
    if (k->http)
        kn_http_free(k->http);
    k->sio = NULL;
    k->http = NULL;
    if (k->store)
        kn_store_on_commit(k->store, NULL, NULL);
    kn_outgate_free(k->gate);
    k->gate = NULL;
    kn_store_close(k->store);
    kn_workers_free(k->workers);
    kn_timers_free(k->timers);
    kn_fdwatches_free(k->fdwatches);
    kn_bus_free(k->bus);
    if (k->sigterm)
        event_free(k->sigterm);
    if (k->sigint)
        event_free(k->sigint);
    if (k->shutdown_tick)
        event_free(k->shutdown_tick);
    kn_event_base_release(k->base);
    kn_logger_free(k->log);
    kn_config_free(k->cfg);
    free(k);
}
