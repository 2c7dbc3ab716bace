/* auth: which paths need the key, the constant-time comparison and the whole decision. */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);                  \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int prot(const char *p) {
    return kn_auth_path_protected(p, strlen(p));
}

static void test_protected_paths(void) {
    CHECK(prot("/api"));
    CHECK(prot("/api/"));
    CHECK(prot("/api/server/ping"));
    CHECK(prot("/API/agents")); /* Express mounts match case-insensitively: no bypass */
    CHECK(prot("/Api"));
    CHECK(!prot("/apix"));
    CHECK(!prot("/apis/x"));
    CHECK(!prot("/health"));
    CHECK(!prot("/healthz"));
    CHECK(!prot("/socket.io/"));
    CHECK(!prot("/media/uploads/agents/x/y.png"));
    CHECK(!prot("/"));
    CHECK(!prot(""));
    CHECK(!prot("/ap"));
}

static void test_equal(void) {
    CHECK(kn_auth_equal("secret", 6, "secret", 6));
    CHECK(!kn_auth_equal("secret", 6, "secreT", 6));
    CHECK(!kn_auth_equal("secret", 6, "secret2", 7));
    CHECK(!kn_auth_equal("secret", 6, "secre", 5));
    CHECK(!kn_auth_equal("secret", 6, "", 0));
    CHECK(kn_auth_equal("", 0, "", 0));
    /* a NUL inside the presented bytes is not a terminator for the comparison */
    CHECK(!kn_auth_equal("ab", 2, "a\0", 2));
}

/* The comparison must not stop at the first differing byte: time a mismatch in the first byte
 * and in the last byte of a long key; they must be within a generous factor of each other
 * (an early-exit memcmp differs by ~the key length). */
static double time_compare(const char *a, const char *b, size_t n) {
    struct timespec t0, t1;
    int sink = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 400; i++)
        sink += kn_auth_equal(a, n, b, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(sink == 0);
    return (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
}

static void test_constant_time(void) {
    enum { N = 1 << 14 };
    static char key[N], first[N], last[N];
    memset(key, 'k', N);
    memcpy(first, key, N);
    memcpy(last, key, N);
    first[0] = 'x';
    last[N - 1] = 'x';
    double best_first = 1e18, best_last = 1e18;
    for (int round = 0; round < 5; round++) {
        double f = time_compare(key, first, N), l = time_compare(key, last, N);
        if (f < best_first)
            best_first = f;
        if (l < best_last)
            best_last = l;
    }
    double ratio = best_first > best_last ? best_first / best_last : best_last / best_first;
    if (ratio > 3.0)
        fprintf(stderr, "timing ratio %.2f (first %.0f ns, last %.0f ns)\n", ratio, best_first,
                best_last);
    CHECK(ratio < 3.0);
}

static void test_allows(void) {
    /* auth off */
    CHECK(kn_auth_allows(NULL, "/api/x", 6, 0, NULL));
    CHECK(kn_auth_allows("", "/api/x", 6, 0, NULL));
    /* auth on */
    CHECK(!kn_auth_allows("tok", "/api/x", 6, 0, NULL));
    CHECK(!kn_auth_allows("tok", "/api/x", 6, 0, "wrong"));
    CHECK(!kn_auth_allows("tok", "/api/x", 6, 0, "tok "));
    CHECK(!kn_auth_allows("tok", "/api/x", 6, 0, ""));
    CHECK(kn_auth_allows("tok", "/api/x", 6, 0, "tok"));
    CHECK(!kn_auth_allows("tok", "/API/x", 6, 0, NULL));
    /* OPTIONS preflight and public paths pass without a key */
    CHECK(kn_auth_allows("tok", "/api/x", 6, 1, NULL));
    CHECK(kn_auth_allows("tok", "/healthz", 8, 0, NULL));
    CHECK(kn_auth_allows("tok", "/health", 7, 0, NULL));
    CHECK(kn_auth_allows("tok", "/socket.io/", 11, 0, NULL));
    CHECK(kn_auth_allows("tok", "/media/a.png", 12, 0, NULL));
}

int main(void) {
    test_protected_paths();
    test_equal();
    test_constant_time();
    test_allows();
    if (failures) {
        fprintf(stderr, "test_auth: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_auth: ok\n");
    return 0;
}
