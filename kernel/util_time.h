/* Wall-clock helpers shared by the kernel and the host API (context free, any thread). */
#ifndef KN_UTIL_TIME_H
#define KN_UTIL_TIME_H

#include <stdint.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t kn_now_ms(void);
/* Monotonic milliseconds, for durations and deadlines. */
int64_t kn_mono_ms(void);
/* ms -> "2026-11-28T11:47:50.806Z"; out must hold 32 bytes. */
void kn_iso_time(int64_t ms, char out[32]);
/* Epoch ms ("1764330470806") or ISO-8601 ("2026-11-28", "2026-11-28T11:47:50.806Z",
 * "...+01:00", "... 11:47"; no zone = UTC). Returns 0 (EZ_OK) and fills *ms, or EZ_EINVAL. */
int kn_parse_time(const char *s, int64_t *ms);

#endif
