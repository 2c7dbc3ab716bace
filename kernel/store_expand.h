/* The storage namespace rule, free of kernel state so the testkit can share it. */
#ifndef KN_STORE_EXPAND_H
#define KN_STORE_EXPAND_H

#include <stddef.h>

/* Rewrites "@name" outside quotes and comments to "<ns>_name". Writes into buf when it fits
 * (returns buf), else returns a new malloc'ed string the caller frees; NULL on ENOMEM.
 * *len receives the length. */
char *kn_store_expand(const char *ns, const char *sql, char *buf, size_t cap, size_t *len);

#endif
