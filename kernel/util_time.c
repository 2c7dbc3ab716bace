/* Wall-clock helpers. Kept free of locale and TZ so results never depend on the host setup. */
#include "util_time.h"

#include <elizad/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t kn_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kn_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm): avoids
 * timegm's dependence on the process time zone database and works for any year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void kn_iso_time(int64_t ms, char out[32]) {
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", y, m, d,
             (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
             (unsigned)rem);
    memcpy(out, tmp, 31);
    out[31] = '\0';
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_iso(const char *p, int64_t *ms) {
    int y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return EZ_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return EZ_EINVAL;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return EZ_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s))
                return EZ_EINVAL;
            if (*p == '.' || *p == ',') {
                p++;
                int n = 0;
                while (isdigit((unsigned char)*p)) {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    n++;
                    p++;
                }
                if (n == 0)
                    return EZ_EINVAL;
                for (; n < 3; n++)
                    frac *= 10;
            }
        }
        if (h > 24 || mi > 59 || s > 60)
            return EZ_EINVAL;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh))
                return EZ_EINVAL;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
                return EZ_EINVAL;
            offset_min = sign * (oh * 60 + om);
        }
    }
    if (*p != '\0')
        return EZ_EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + s) - offset_min * 60) * 1000 + frac;
    return EZ_OK;
}

int kn_parse_time(const char *s, int64_t *ms) {
    if (!s || !*s || !ms)
        return EZ_EINVAL;
    const char *p = s;
    if (*p == '-')
        p++;
    int all_digits = *p != '\0';
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) {
            all_digits = 0;
            break;
        }
    /* Eight digits could be a compact date, but JS clients only send ms numbers or ISO text. */
    if (all_digits) {
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return EZ_EINVAL;
        *ms = v;
        return EZ_OK;
    }
    return parse_iso(s, ms);
}
