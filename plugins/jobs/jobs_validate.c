/* POST /jobs body validation, in the official order with the official texts (COMPAT §9), so a
 * client sees the same first complaint from both servers. UUID formats are checked later, by
 * the handler, as the official server does. */
#include "jobs_int.h"

#include <stdlib.h>
#include <string.h>

size_t jb_utf16_len(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;            /* continuation byte */
        n += *p >= 0xF0 ? 2 : 1; /* beyond the BMP: a surrogate pair in JavaScript */
    }
    return n;
}

/* JSON.stringify(metadata).length; jansson's compact form is the same text for what JSON can
 * carry (no spaces, UTF-8 kept, the same escapes). */
static size_t json_text_len(const json_t *v) {
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = t ? jb_utf16_len(t) : (size_t)-1;
    free(t);
    return n;
}

const char *jb_validate_create(const json_t *body) {
    /* a JSON array is an "object" to JavaScript: it gets past this check and fails on userId */
    if (!json_is_object(body) && !json_is_array(body))
        return "Request body must be an object";
    const json_t *agent = json_object_get(body, "agentId");
    const json_t *user = json_object_get(body, "userId");
    const json_t *content = json_object_get(body, "content");
    const json_t *meta = json_object_get(body, "metadata");
    const json_t *timeout = json_object_get(body, "timeoutMs");
    if (agent && !json_is_string(agent))
        return "agentId must be a valid UUID string";
    if (!json_is_string(user))
        return "userId is required and must be a valid UUID string";
    if (!json_is_string(content))
        return "content is required and must be a string";
    const char *text = json_string_value(content);
    if (!*text)
        return "content cannot be empty";
    /* bytes bound the code units from above and from below (a unit is at most 3 bytes) */
    size_t bytes = strlen(text);
    if (bytes > (size_t)JB_MAX_CONTENT * 3 ||
        (bytes > JB_MAX_CONTENT && jb_utf16_len(text) > JB_MAX_CONTENT))
        return "content exceeds maximum length of 50000 characters";
    if (meta) {
        /* stricter than the official typeof check: an array would be spread into the channel
         * metadata as {"0":...,"1":...} */
        if (!json_is_object(meta))
            return "metadata must be an object";
        if (json_text_len(meta) > JB_MAX_METADATA)
            return "metadata exceeds maximum size of 10000 bytes";
    }
    if (timeout) {
        if (!json_is_number(timeout) || json_number_value(timeout) < 0)
            return "timeoutMs must be a positive number";
        if (json_number_value(timeout) < JB_MIN_TIMEOUT_MS)
            return "timeoutMs must be at least 1000ms";
        if (json_number_value(timeout) > JB_MAX_TIMEOUT_MS)
            return "timeoutMs cannot exceed 300000ms";
    }
    return NULL;
}
