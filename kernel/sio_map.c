/* String-keyed hash map (see sio_map.h). */
#include "sio_map.h"

#include <stdlib.h>
#include <string.h>

static uint32_t map_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

static size_t map_find(const kn_map *m, const char *key, uint32_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const kn_map_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return i;
    }
}

void *kn_map_get(const kn_map *m, const char *key) {
    if (!m->count)
        return NULL;
    uint32_t h = map_hash(key);
    const kn_map_slot *s = &m->slots[map_find(m, key, h)];
    return s->key ? s->val : NULL;
}

static int map_grow(kn_map *m) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    kn_map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    kn_map old = *m;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < old.cap; i++) {
        kn_map_slot *s = &old.slots[i];
        if (!s->key)
            continue;
        size_t mask = ncap - 1, j = s->hash & mask;
        while (ns[j].key)
            j = (j + 1) & mask;
        ns[j] = *s;
    }
    free(old.slots);
    return 0;
}

int kn_map_put(kn_map *m, const char *key, void *val) {
    if ((m->count + 1) * 4 > m->cap * 3 && map_grow(m) != 0) /* load <= 3/4 */
        return -1;
    uint32_t h = map_hash(key);
    kn_map_slot *s = &m->slots[map_find(m, key, h)];
    if (!s->key)
        m->count++;
    s->key = key;
    s->val = val;
    s->hash = h;
    return 0;
}

void *kn_map_del(kn_map *m, const char *key) {
    if (!m->count)
        return NULL;
    uint32_t h = map_hash(key);
    size_t mask = m->cap - 1, i = map_find(m, key, h);
    if (!m->slots[i].key)
        return NULL;
    void *val = m->slots[i].val;
    /* backward shift: pull later members of the probe run into the hole */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        kn_map_slot *s = &m->slots[j];
        if (!s->key)
            break;
        size_t home = s->hash & mask;
        /* s may move into the hole at i only if its home is not in (i, j] cyclically */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        m->slots[i] = *s;
        i = j;
    }
    m->slots[i].key = NULL;
    m->slots[i].val = NULL;
    m->count--;
    return val;
}

void kn_map_free(kn_map *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}
