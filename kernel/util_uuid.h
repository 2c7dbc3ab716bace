/* UUID helpers (context free, any thread). */
#ifndef KN_UTIL_UUID_H
#define KN_UTIL_UUID_H

/* Version-4 uuid, lower case: 48 bits of time in ms, then the version, variant and 74 random
 * bits (any thread). */
void kn_uuid_v4(char out[37]);
/* 1 for 8-4-4-4-12 hex (any version, either case, the zero uuid included), else 0. */
int kn_uuid_valid(const char *s);
/* elizaOS stringToUuid: s itself when it is a uuid, else SHA-1 of encodeURIComponent(s) with
 * the variant bits set and the version nibble cleared. */
void kn_uuid_from_string(const char *s, char out[37]);

#endif
