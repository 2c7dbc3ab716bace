/* UTF-8 repair for text that must become a JSON string (jansson refuses invalid UTF-8). */
#ifndef KN_UTIL_UTF8_H
#define KN_UTIL_UTF8_H

#include <stddef.h>

/* Replaces every byte that does not start a valid sequence with '?', in place. Returns the
 * number of bytes replaced. */
size_t kn_utf8_sanitize(char *s, size_t len);

#endif
