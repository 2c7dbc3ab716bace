/* File-descriptor watches for plugins (host API 1.1: fd_watch, fd_watch_update,
 * fd_watch_cancel): one persistent libevent event per watch on the kernel loop. */
#ifndef KN_FDWATCH_H
#define KN_FDWATCH_H

#include "kernel.h"

/* Sets the fd-watch members of the host API table. */
void kn_fdwatch_fill(ez_host_api *api);

#endif
