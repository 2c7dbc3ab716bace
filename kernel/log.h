/* Leveled logging: stderr lines "2026-11-28T12:00:00.000Z INFO [plugin] text", an in-memory
 * ring of the last KN_LOG_RING entries, and a kernel.log bus message per line. Any thread. */
#ifndef KN_LOG_H
#define KN_LOG_H

#include "core.h"

#include <stdarg.h>

#define KN_LOG_RING 1000

kn_logger *kn_logger_new(ez_level level);
void kn_logger_free(kn_logger *lg);
void kn_logger_set_level(kn_logger *lg, ez_level level);
/* Lines are published on `bus` from now on (NULL stops publishing); bus borrowed. */
void kn_logger_set_bus(kn_logger *lg, kn_bus *bus);
/* k may be NULL (before the kernel exists): then the line only goes to stderr. */
void kn_logv(kn_kernel *k, const char *plugin, ez_level level, const char *fmt, va_list ap)
    EZ_PRINTF(4, 0);
void kn_logger_write(kn_logger *lg, const char *plugin, ez_level level, const char *msg);
json_t *kn_logger_recent(kn_logger *lg, int64_t since_ms, int limit);
void kn_logger_clear(kn_logger *lg);

/* "error" | "warn" | "info" | "debug" (and pino's other names, mapped to the nearest). */
int kn_log_level_parse(const char *s, ez_level *out);
/* pino number of a level: error 50, warn 40, info 30, debug 20. */
int kn_log_level_pino(ez_level level);

#endif
