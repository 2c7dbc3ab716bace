/* The event bus (see include/elizad/bus.h for the contract plugins see). Publishing is safe
 * from any thread; delivery runs on the loop thread. */
#ifndef KN_BUS_H
#define KN_BUS_H

#include "core.h"

#include <elizad/bus.h>

struct event_base;
typedef struct kn_sub kn_sub;

#define KN_TOPIC_MAX 128 /* topics and globs are shorter than this */

/* base borrowed; it must have been created after evthread_use_pthreads(). */
kn_bus *kn_bus_new(struct event_base *base);
/* Drops undelivered messages and every subscription (calling ud_free). */
void kn_bus_free(kn_bus *b);

/* Loop thread. owner may be NULL (kernel). NULL on a bad glob or out of memory; ud_free is not
 * called on failure. */
kn_sub *kn_bus_subscribe(kn_bus *b, ez_plugin *owner, const char *glob, ez_bus_fn fn, void *ud,
                         ez_free_fn ud_free);
/* Loop thread. The subscriber gets nothing more; ud_free(ud) runs now. Safe inside delivery. */
void kn_bus_unsubscribe(kn_sub *s);

/* Any thread. msg_new stolen (also on failure). EZ_EINVAL for a bad topic, EZ_ESTATE once the
 * bus is closed. */
int kn_bus_publish(kn_bus *b, const char *topic, json_t *msg_new);
/* Loop thread: delivers everything queued, including what subscribers publish meanwhile
 * (bounded rounds). Returns the number of messages delivered. */
size_t kn_bus_drain(kn_bus *b);
/* Later publishes are dropped (shutdown, after the final drain). */
void kn_bus_close(kn_bus *b);
/* 1 when called on the loop thread while a kernel.log message is being delivered. */
int kn_bus_in_log_delivery(kn_bus *b);

/* '*' matches any run of characters, dots included; everything else is literal. */
int kn_bus_glob_match(const char *glob, const char *topic);

#endif
