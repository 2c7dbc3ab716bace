/* The host API table plugins receive: the kernel's members here, the HTTP members from
 * kn_http_fill_api (http.c), the socket sub-table from sio.c and the store sub-table from
 * store.c. Each function finds the kernel through the plugin handle: no globals. */
#include "bus.h"
#include "core.h"
#include "fdwatch.h"
#include "http.h"
#include "json_text.h"
#include "loader.h"
#include "log.h"
#include "multipart.h"
#include "sio.h"
#include "store.h"
#include "timer.h"
#include "util_time.h"
#include "util_utf8.h"
#include "util_uuid.h"
#include "worker.h"

#include <stdarg.h>

static void api_log(ez_plugin *self, ez_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kn_logv(kn_plugin_kernel(self), self ? kn_plugin_name(self) : "?", level, fmt, ap);
    va_end(ap);
}

static void sub_undo(void *ctx) {
    kn_bus_unsubscribe(ctx);
}

static int api_subscribe(ez_plugin *self, const char *glob, ez_bus_fn fn, void *ud,
                         ez_free_fn ud_free) {
    if (!self || !fn || !glob)
        return EZ_EINVAL;
    kn_kernel *k = kn_plugin_kernel(self);
    if (!kn_plugin_may_register(self)) {
        kn_log(k, kn_plugin_name(self), EZ_ERR, "subscribe(\"%s\") outside init refused", glob);
        return EZ_ESTATE;
    }
    kn_sub *s = kn_bus_subscribe(kn_kernel_bus(k), self, glob, fn, ud, ud_free);
    if (!s)
        return EZ_EINVAL;
    if (kn_plugin_track(self, sub_undo, s) != EZ_OK) {
        kn_bus_unsubscribe(s);
        return EZ_ENOMEM;
    }
    return EZ_OK;
}

static int api_export(ez_plugin *self, const char *name, const void *table) {
    int rc = kn_loader_export(self, name, table);
    if (rc == EZ_ESTATE)
        kn_log(kn_plugin_kernel(self), kn_plugin_name(self), EZ_ERR,
               "export_api(\"%s\") outside init refused", name ? name : "");
    return rc;
}

static const void *api_import(ez_plugin *self, const char *name) {
    return kn_kernel_import(kn_plugin_kernel(self), name);
}

static int api_publish(ez_plugin *self, const char *topic, json_t *msg_new) {
    if (!self) {
        json_decref(msg_new);
        return EZ_EINVAL;
    }
    return kn_bus_publish(kn_kernel_bus(kn_plugin_kernel(self)), topic, msg_new);
}

static ez_timer *api_timer_start(ez_plugin *self, int64_t delay_ms, int repeat, ez_timer_fn fn,
                                 void *ud) {
    return self ? kn_timer_start(kn_kernel_timers(kn_plugin_kernel(self)), self, delay_ms, repeat,
                                 fn, ud)
                : NULL;
}

static int api_work_submit(ez_plugin *self, ez_work_fn work, ez_done_fn done, void *ud) {
    if (!self)
        return EZ_EINVAL;
    return kn_work_submit(kn_kernel_workers(kn_plugin_kernel(self)), self, work, done, ud);
}

static const char *api_data_dir(ez_plugin *self) {
    return kn_plugin_data_dir(self);
}

static const char *api_setting(ez_plugin *self, const char *key) {
    return kn_setting(kn_plugin_kernel(self), key);
}

static void api_shutdown(ez_plugin *self) {
    kn_kernel_shutdown(kn_plugin_kernel(self));
}

static json_t *api_log_recent(ez_plugin *self, int64_t since_ms, int limit) {
    return kn_log_recent(kn_plugin_kernel(self), since_ms, limit);
}

static void api_log_clear(ez_plugin *self) {
    kn_log_clear(kn_plugin_kernel(self));
}

static const char *api_plugin_name(const ez_plugin *self) {
    return kn_plugin_name(self);
}

void kn_hostapi_fill(ez_host_api *api) {
    api->log = api_log;
    api->subscribe = api_subscribe;
    api->export_api = api_export;
    api->import_api = api_import;
    api->publish_new = api_publish;
    api->now_ms = kn_now_ms;
    api->timer_start = api_timer_start;
    api->timer_cancel = kn_timer_cancel;
    api->work_submit = api_work_submit;
    api->store = kn_store_api();
    api->sock = kn_sio_api();
    api->uuid_v4 = kn_uuid_v4;
    api->uuid_valid = kn_uuid_valid;
    api->uuid_from_string = kn_uuid_from_string;
    api->iso_time = kn_iso_time;
    api->parse_time = kn_parse_time;
    api->data_dir = api_data_dir;
    api->setting = api_setting;
    api->shutdown = api_shutdown;
    api->log_recent = api_log_recent;
    api->log_clear = api_log_clear;
    api->plugin_name = api_plugin_name;
    kn_http_fill_api(api);
    kn_fdwatch_fill(api);            /* ABI 1.1 fd watches (runtime engineer, kernel/fdwatch.c) */
    api->mp_is_form = kn_mp_is_form; /* ABI 1.2 multipart reader (kernel/multipart.c) */
    api->mp_boundary = kn_mp_boundary;
    api->mp_parse = kn_mp_parse;
    api->mp_message = kn_mp_message;
    api->json_text = kn_json_text;         /* ABI 1.3 (kernel/json_text.c) */
    api->utf8_sanitize = kn_utf8_sanitize; /* ABI 1.4 (kernel/util_utf8.c) */
}
