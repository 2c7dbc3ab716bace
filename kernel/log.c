/* Logging. One mutex guards the ring and keeps stderr lines whole across threads; the bus
 * publish happens outside it because the bus takes its own lock. */
#include "log.h"

#include "bus.h"
#include "util_time.h"
#include "util_utf8.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KN_LOG_MSG_MAX 2048

typedef struct log_entry {
    int64_t time;
    ez_level level;
    char plugin[32];
    char *msg;
} log_entry;

struct kn_logger {
    pthread_mutex_t mu;
    ez_level level;
    kn_bus *bus;
    size_t head; /* next slot to write */
    size_t count;
    log_entry ring[KN_LOG_RING];
};

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int kn_log_level_pino(ez_level level) {
    switch (level) {
    case EZ_ERR:
        return 50;
    case EZ_WARN:
        return 40;
    case EZ_INFO:
        return 30;
    default:
        return 20;
    }
}

int kn_log_level_parse(const char *s, ez_level *out) {
    static const struct {
        const char *name;
        ez_level level;
    } names[] = {{"error", EZ_ERR},     {"fatal", EZ_ERR},    {"warn", EZ_WARN},
                 {"warning", EZ_WARN},  {"info", EZ_INFO},    {"log", EZ_INFO},
                 {"progress", EZ_INFO}, {"success", EZ_INFO}, {"debug", EZ_DEBUG},
                 {"trace", EZ_DEBUG}};
    if (!s)
        return EZ_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return EZ_OK;
        }
    return EZ_EINVAL;
}

kn_logger *kn_logger_new(ez_level level) {
    kn_logger *lg = calloc(1, sizeof *lg);
    if (!lg)
        return NULL;
    pthread_mutex_init(&lg->mu, NULL);
    lg->level = level;
    return lg;
}

void kn_logger_free(kn_logger *lg) {
    if (!lg)
        return;
    for (size_t i = 0; i < KN_LOG_RING; i++)
        free(lg->ring[i].msg);
    pthread_mutex_destroy(&lg->mu);
    free(lg);
}

void kn_logger_set_level(kn_logger *lg, ez_level level) {
    pthread_mutex_lock(&lg->mu);
    lg->level = level;
    pthread_mutex_unlock(&lg->mu);
}

void kn_logger_set_bus(kn_logger *lg, kn_bus *bus) {
    pthread_mutex_lock(&lg->mu);
    lg->bus = bus;
    pthread_mutex_unlock(&lg->mu);
}

static void write_stderr(int64_t now, const char *plugin, ez_level level, const char *msg) {
    char ts[32];
    kn_iso_time(now, ts);
    /* one fprintf per line: stdio locks the stream, so lines from threads never interleave */
    fprintf(stderr, "%s %s [%s] %s\n", ts, level_names[level], plugin, msg);
}

void kn_logger_write(kn_logger *lg, const char *plugin, ez_level level, const char *msg) {
    if ((unsigned)level > EZ_DEBUG)
        level = EZ_DEBUG;
    if (!plugin)
        plugin = "kernel";
    int64_t now = kn_now_ms();
    if (!lg) {
        write_stderr(now, plugin, level, msg);
        return;
    }
    pthread_mutex_lock(&lg->mu);
    if (level > lg->level) {
        pthread_mutex_unlock(&lg->mu);
        return;
    }
    write_stderr(now, plugin, level, msg);
    log_entry *e = &lg->ring[lg->head];
    free(e->msg);
    e->msg = strdup(msg);
    e->time = now;
    e->level = level;
    snprintf(e->plugin, sizeof e->plugin, "%s", plugin);
    lg->head = (lg->head + 1) % KN_LOG_RING;
    if (lg->count < KN_LOG_RING)
        lg->count++;
    kn_bus *bus = lg->bus;
    pthread_mutex_unlock(&lg->mu);

    /* A kernel.log subscriber that logs would otherwise feed itself forever. */
    if (bus && !kn_bus_in_log_delivery(bus)) {
        json_t *m = json_pack("{s:I,s:i,s:s,s:s}", "time", (json_int_t)now, "level",
                              kn_log_level_pino(level), "plugin", plugin, "msg", msg);
        if (m)
            kn_bus_publish(bus, "kernel.log", m);
    }
}

void kn_logv(kn_kernel *k, const char *plugin, ez_level level, const char *fmt, va_list ap) {
    kn_logger *lg = k ? kn_kernel_logger(k) : NULL;
    char buf[KN_LOG_MSG_MAX];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        snprintf(buf, sizeof buf, "(unformattable log line)");
    else if ((size_t)n >= sizeof buf)
        memcpy(buf + sizeof buf - 4, "...", 4);
    /* one line per entry: control characters would let a client forge log lines */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* jansson refuses invalid UTF-8: a line echoing client bytes must not vanish */
    kn_utf8_sanitize(buf, strlen(buf));
    kn_logger_write(lg, plugin, level, buf);
}

void kn_log(kn_kernel *k, const char *plugin, ez_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kn_logv(k, plugin, level, fmt, ap);
    va_end(ap);
}

json_t *kn_logger_recent(kn_logger *lg, int64_t since_ms, int limit) {
    json_t *out = json_array();
    if (!lg || !out)
        return out;
    if (limit <= 0 || limit > KN_LOG_RING)
        limit = KN_LOG_RING;
    pthread_mutex_lock(&lg->mu);
    /* newest `limit` entries newer than since_ms, returned oldest first */
    size_t take = 0, start = (lg->head + KN_LOG_RING - lg->count) % KN_LOG_RING;
    for (size_t i = lg->count; i-- > 0;) {
        const log_entry *e = &lg->ring[(start + i) % KN_LOG_RING];
        if (e->time < since_ms || take == (size_t)limit)
            break;
        take++;
    }
    for (size_t i = lg->count - take; i < lg->count; i++) {
        const log_entry *e = &lg->ring[(start + i) % KN_LOG_RING];
        json_array_append_new(out, json_pack("{s:I,s:i,s:s,s:s}", "time", (json_int_t)e->time,
                                             "level", kn_log_level_pino(e->level), "plugin",
                                             e->plugin, "msg", e->msg ? e->msg : ""));
    }
    pthread_mutex_unlock(&lg->mu);
    return out;
}

void kn_logger_clear(kn_logger *lg) {
    if (!lg)
        return;
    pthread_mutex_lock(&lg->mu);
    for (size_t i = 0; i < KN_LOG_RING; i++) {
        free(lg->ring[i].msg);
        lg->ring[i].msg = NULL;
    }
    lg->head = lg->count = 0;
    pthread_mutex_unlock(&lg->mu);
}
