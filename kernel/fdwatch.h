/* File-descriptor watches for plugins (host API 1.1: fd_watch, fd_watch_update,
 * fd_watch_cancel): one persistent libevent event per watch on the kernel loop. */
#ifndef KN_FDWATCH_H
#define KN_FDWATCH_H

#include "core.h"

/* Sets the fd-watch members of the host API table. */
void kn_fdwatch_fill(ez_host_api *api);

/* Every live watch, by owner, so that a plugin which forgets one (or fails init) cannot leave
 * an event that calls into its unloaded code. Loop thread only. */
kn_fdwatches *kn_fdwatches_new(void);
/* Frees what is left (each one is a plugin's bug, already reported by release_owner). */
void kn_fdwatches_free(kn_fdwatches *set);
/* Disarms and frees every watch owner still has; returns how many there were. */
size_t kn_fdwatches_release_owner(kn_fdwatches *set, const ez_plugin *owner);

#endif
