/* Namespaces, rooms and broadcasts. A broadcast is encoded once; every recipient gets a
 * reference to the same bytes (kn_pkt), websocket ones even the same frame header. */
#include "sio_int.h"

#include <stdlib.h>
#include <string.h>

#define ROOM_NAME_MAX 1024

/* ---- namespaces ---- */

sio_nsp *sio_nsp_find(kn_sio *s, const char *name) {
    return kn_map_get(&s->nsps, name);
}

sio_nsp *sio_nsp_get(kn_sio *s, const char *name) {
    sio_nsp *n = sio_nsp_find(s, name);
    if (n)
        return n;
    size_t len = name ? strlen(name) : 0;
    if (len < 1 || len > SIO_NSP_MAX || name[0] != '/' || strchr(name, ','))
        return NULL;
    n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->sio = s;
    n->name = strdup(name);
    if (!n->name || kn_map_put(&s->nsps, n->name, n) != 0) {
        free(n->name);
        free(n);
        return NULL;
    }
    return n;
}

void sio_nsp_free(sio_nsp *n) {
    for (size_t i = 0; i < n->rooms.cap; i++)
        if (n->rooms.slots[i].key) {
            sio_room *r = n->rooms.slots[i].val;
            free(r->m);
            free(r);
        }
    kn_map_free(&n->rooms);
    kn_map_free(&n->sockets);
    kn_map_free(&n->handlers);
    free(n->all);
    free(n->name);
    free(n);
}

int sio_nsp_add_socket(sio_nsp *n, ez_socket *sock) {
    if (n->nall == n->capall) {
        uint32_t cap = n->capall ? n->capall * 2 : 16;
        ez_socket **na = realloc(n->all, cap * sizeof *na);
        if (!na)
            return EZ_ENOMEM;
        n->all = na;
        n->capall = cap;
    }
    if (kn_map_put(&n->sockets, sock->sid, sock) != 0)
        return EZ_ENOMEM;
    sock->all_idx = n->nall;
    n->all[n->nall++] = sock;
    return EZ_OK;
}

void sio_nsp_remove_socket(sio_nsp *n, ez_socket *sock) {
    kn_map_del(&n->sockets, sock->sid);
    uint32_t i = sock->all_idx;
    if (i < n->nall && n->all[i] == sock) {
        n->all[i] = n->all[--n->nall];
        n->all[i]->all_idx = i;
    }
}

/* ---- rooms ---- */

static void room_free_if_empty(sio_nsp *n, sio_room *r) {
    if (r->n)
        return;
    kn_map_del(&n->rooms, r->name);
    free(r->m);
    free(r);
}

int sio_room_join(ez_socket *sock, const char *name) {
    sio_nsp *n = sock->nsp;
    size_t len = strlen(name);
    if (len > ROOM_NAME_MAX)
        return EZ_EINVAL;
    sio_room *r = kn_map_get(&n->rooms, name);
    if (r) {
        for (uint32_t i = 0; i < sock->nmemb; i++)
            if (sock->memb[i].room == r)
                return EZ_OK;
    } else {
        r = calloc(1, sizeof *r + len + 1);
        if (!r)
            return EZ_ENOMEM;
        memcpy(r->name, name, len + 1);
        if (kn_map_put(&n->rooms, r->name, r) != 0) {
            free(r);
            return EZ_ENOMEM;
        }
    }
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 2;
        sio_member *nm = realloc(r->m, cap * sizeof *nm);
        if (!nm) {
            room_free_if_empty(n, r);
            return EZ_ENOMEM;
        }
        r->m = nm;
        r->cap = cap;
    }
    if (sock->nmemb == sock->capmemb) {
        uint32_t cap = sock->capmemb ? sock->capmemb * 2 : 2;
        sio_memb *nb = realloc(sock->memb, cap * sizeof *nb);
        if (!nb) {
            room_free_if_empty(n, r);
            return EZ_ENOMEM;
        }
        sock->memb = nb;
        sock->capmemb = cap;
    }
    sock->memb[sock->nmemb] = (sio_memb){r, r->n};
    r->m[r->n] = (sio_member){sock, sock->nmemb};
    r->n++;
    sock->nmemb++;
    return EZ_OK;
}

/* Drops membership slot k of sock. */
static void memb_drop(ez_socket *sock, uint32_t k) {
    sio_room *r = sock->memb[k].room;
    uint32_t idx = sock->memb[k].idx;
    /* the room's last member moves into the hole */
    r->m[idx] = r->m[--r->n];
    if (idx < r->n)
        r->m[idx].s->memb[r->m[idx].slot].idx = idx;
    /* and the socket's last membership into this slot */
    sock->memb[k] = sock->memb[--sock->nmemb];
    if (k < sock->nmemb) {
        sio_memb *mv = &sock->memb[k];
        mv->room->m[mv->idx].slot = k;
    }
    room_free_if_empty(sock->nsp, r);
}

int sio_room_leave(ez_socket *sock, const char *name) {
    for (uint32_t k = 0; k < sock->nmemb; k++)
        if (strcmp(sock->memb[k].room->name, name) == 0) {
            memb_drop(sock, k);
            return EZ_OK;
        }
    return EZ_ENOENT;
}

void sio_room_leave_all(ez_socket *sock) {
    while (sock->nmemb)
        memb_drop(sock, sock->nmemb - 1);
    free(sock->memb);
    sock->memb = NULL;
    sock->capmemb = 0;
}

/* ---- broadcast ---- */

int sio_broadcast(kn_sio *s, sio_nsp *n, const char *room, const char *except, const char *event,
                  const json_t *args) {
    ez_socket *ex = except ? kn_map_get(&n->sockets, except) : NULL;
    sio_room *r = NULL;
    if (room) {
        r = kn_map_get(&n->rooms, room);
        if (!r)
            return EZ_OK; /* nobody there */
    }
    if (r ? r->n == 0 : n->nall == 0)
        return EZ_OK;
    sio_out o;
    if (sio_encode(&s->scratch, &o, SIO_EVENT, n->name, -1, event, args) != 0)
        return EZ_ENOMEM;
    /* sending never calls back into this module synchronously, so the member arrays are
     * stable while we walk them */
    if (r) {
        for (uint32_t i = 0; i < r->n; i++)
            if (r->m[i].s != ex)
                sio_send(r->m[i].s, &o);
    } else {
        for (uint32_t i = 0; i < n->nall; i++)
            if (n->all[i] != ex)
                sio_send(n->all[i], &o);
    }
    sio_out_release(&o);
    return EZ_OK;
}
