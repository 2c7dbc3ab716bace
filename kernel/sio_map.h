/* A string-keyed hash map (open addressing, linear probing, backward-shift deletion: no
 * tombstones, so a long-running server with churning sids never degrades). Keys are borrowed:
 * each key must live inside its value (a session's sid, a room's name) until it is removed. */
#ifndef KN_SIO_MAP_H
#define KN_SIO_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct kn_map_slot {
    const char *key; /* NULL = empty */
    void *val;
    uint32_t hash;
} kn_map_slot;

typedef struct kn_map {
    kn_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} kn_map;

void *kn_map_get(const kn_map *m, const char *key);
/* Inserts or replaces. 0, or -1 when out of memory. */
int kn_map_put(kn_map *m, const char *key, void *val);
/* Removes key; returns its value or NULL. */
void *kn_map_del(kn_map *m, const char *key);
void kn_map_free(kn_map *m);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ...  (no mutation). */

#endif
