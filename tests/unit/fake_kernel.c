/* See fake_kernel.h. Only the accessors; each test builds the struct it needs. */
#include "fake_kernel.h"

#include "config.h"
#include "http.h"
#include "sio.h"

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
    (void)k;
    return NULL; /* no plugin of the loader test watches an fd */
}
kn_workers *kn_kernel_workers(kn_kernel *k) {
    return k ? k->workers : NULL;
}
kn_store *kn_kernel_store(kn_kernel *k) {
    return k ? k->store : NULL;
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
kn_http *kn_kernel_http(kn_kernel *k) {
    (void)k;
    return NULL;
}
kn_sio *kn_kernel_sio(kn_kernel *k) {
    (void)k;
    return NULL;
}
const char *kn_setting(kn_kernel *k, const char *key) {
    return k && k->cfg ? kn_config_get(k->cfg, key) : NULL;
}
json_t *kn_http_routes_of(kn_http *h, const ez_plugin *p) {
    (void)h;
    (void)p;
    return json_array();
}
json_t *kn_sio_events_of(kn_sio *s, const ez_plugin *p) {
    (void)s;
    (void)p;
    return json_array();
}
