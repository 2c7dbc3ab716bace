/* util_uuid + util_time: elizaOS-compatible ids and timestamps. */
#include "check.h"
#include "util_time.h"
#include "util_uuid.h"

#include <elizad/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_from_string(void) {
    char out[37];
    /* the value COMPAT §1.6 verified against the real stringToUuid */
    kn_uuid_from_string("MockAgent", out);
    CHECK_STR(out, "5d53d7ff-18e0-05c1-92f8-b792e6b0fd11");
    /* a uuid passes through untouched */
    kn_uuid_from_string("5D53D7FF-18E0-05C1-92F8-B792E6B0FD11", out);
    CHECK_STR(out, "5D53D7FF-18E0-05C1-92F8-B792E6B0FD11");
    /* encodeURIComponent: "a b" hashes as "a%20b", so it must differ from "a%20b" hashed as
     * "a%2520b", and equal nothing else we know; check stability and format instead */
    char a[37], b[37];
    kn_uuid_from_string("a b", a);
    kn_uuid_from_string("a b", b);
    CHECK_STR(a, b);
    kn_uuid_from_string("a%20b", b);
    CHECK(strcmp(a, b) != 0);
    CHECK(kn_uuid_valid(a));
    CHECK(a[14] == '0'); /* version nibble cleared */
    CHECK(strchr("89ab", a[19]) != NULL);
    /* long input takes the heap path and still works */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kn_uuid_from_string(big, out);
    CHECK(kn_uuid_valid(out));
    kn_uuid_from_string("", out);
    CHECK(kn_uuid_valid(out));
    /* expected values computed with node: sha1(encodeURIComponent(s)) per COMPAT §1.6 */
    kn_uuid_from_string("a b", out);
    CHECK_STR(out, "3eef69cc-e15c-0b7f-af9b-8a819fb16d49");
    kn_uuid_from_string("\xc3\xa9t\xc3\xa9", out);
    CHECK_STR(out, "a5516f68-2c1d-0679-879f-178411c32937");
    kn_uuid_from_string("it's (ok)!*~-_.", out);
    CHECK_STR(out, "2ee9be41-7b2a-01f4-bc49-a1fce38ca5a7");
    kn_uuid_from_string("chan:00000000-0000-0000-0000-000000000000", out);
    CHECK_STR(out, "05f8c1f1-af1c-0c77-9628-57aca80156e2");
}

static void test_v4_valid(void) {
    char u[37], v[37];
    kn_uuid_v4(u);
    kn_uuid_v4(v);
    CHECK(kn_uuid_valid(u));
    CHECK(strcmp(u, v) != 0);
    CHECK(u[14] == '4');
    CHECK(strchr("89ab", u[19]) != NULL);
    for (const char *p = u; *p; p++)
        CHECK(!(*p >= 'A' && *p <= 'F'));
    /* the first 48 bits are the time in ms: later ids sort after earlier ones */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    long long id_ms = strtoll(hex, NULL, 16);
    CHECK(id_ms <= now_ms && now_ms - id_ms < 5000);
    char prev[37];
    memcpy(prev, u, sizeof prev);
    int ordered = 1, distinct = 1;
    for (int i = 0; i < 2000; i++) {
        if (i % 500 == 0) {
            struct timespec two_ms = {0, 2000000};
            nanosleep(&two_ms, NULL);
        }
        kn_uuid_v4(v);
        if (memcmp(v, prev, 13) < 0) /* same millisecond: any order; never an earlier one */
            ordered = 0;
        if (strcmp(v, prev) == 0)
            distinct = 0;
        CHECK(v[14] == '4' && strchr("89ab", v[19]) != NULL);
        memcpy(prev, v, sizeof prev);
    }
    CHECK(ordered);
    CHECK(distinct);
    CHECK(strcmp(v, u) > 0);
    CHECK(kn_uuid_valid("00000000-0000-0000-0000-000000000000"));
    CHECK(kn_uuid_valid("ABCDEF01-2345-6789-abcd-ef0123456789"));
    CHECK(!kn_uuid_valid("00000000-0000-0000-0000-00000000000"));
    CHECK(!kn_uuid_valid("00000000-0000-0000-0000-0000000000000"));
    CHECK(!kn_uuid_valid("00000000x0000-0000-0000-000000000000"));
    CHECK(!kn_uuid_valid("g0000000-0000-0000-0000-000000000000"));
    CHECK(!kn_uuid_valid(""));
    CHECK(!kn_uuid_valid(NULL));
}

static void test_time(void) {
    char s[32];
    kn_iso_time(0, s);
    CHECK_STR(s, "1970-01-01T00:00:00.000Z");
    kn_iso_time(1764330470806LL, s);
    CHECK_STR(s, "2025-11-28T11:47:50.806Z");
    kn_iso_time(951782400000LL, s); /* leap day 2000 */
    CHECK_STR(s, "2000-02-29T00:00:00.000Z");
    kn_iso_time(-1, s);
    CHECK_STR(s, "1969-12-31T23:59:59.999Z");

    int64_t ms = 0;
    CHECK_INT(kn_parse_time("1764330470806", &ms), EZ_OK);
    CHECK_INT(ms, 1764330470806LL);
    CHECK_INT(kn_parse_time("2025-11-28T11:47:50.806Z", &ms), EZ_OK);
    CHECK_INT(ms, 1764330470806LL);
    CHECK_INT(kn_parse_time("2025-11-28T12:47:50.806+01:00", &ms), EZ_OK);
    CHECK_INT(ms, 1764330470806LL);
    CHECK_INT(kn_parse_time("2025-11-28T11:47:50.8061234Z", &ms), EZ_OK);
    CHECK_INT(ms, 1764330470806LL);
    CHECK_INT(kn_parse_time("2025-11-28", &ms), EZ_OK);
    CHECK_INT(ms, 1764288000000LL);
    CHECK_INT(kn_parse_time("2025-11-28 11:47", &ms), EZ_OK);
    CHECK_INT(ms, 1764330420000LL);
    CHECK_INT(kn_parse_time("2025-11-28T11:47:50-0130", &ms), EZ_OK);
    CHECK_INT(ms, 1764330470000LL + 90 * 60000LL);
    /* round trip */
    kn_iso_time(1234567890123LL, s);
    CHECK_INT(kn_parse_time(s, &ms), EZ_OK);
    CHECK_INT(ms, 1234567890123LL);
    CHECK_INT(kn_parse_time("", &ms), EZ_EINVAL);
    CHECK_INT(kn_parse_time("yesterday", &ms), EZ_EINVAL);
    CHECK_INT(kn_parse_time("2025-13-01", &ms), EZ_EINVAL);
    CHECK_INT(kn_parse_time("2025-11-28T11:47:50Zjunk", &ms), EZ_EINVAL);
    CHECK_INT(kn_parse_time("99999999999999999999999", &ms), EZ_EINVAL);
    CHECK(kn_now_ms() > 1700000000000LL);
    int64_t a = kn_mono_ms(), b = kn_mono_ms();
    CHECK(b >= a);
}

int main(void) {
    test_from_string();
    test_v4_valid();
    test_time();
    CHECK_DONE();
}
