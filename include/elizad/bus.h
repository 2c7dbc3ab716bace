/* The in-process event bus: topics are lower.dotted.names, subscriptions are globs
 * ("messaging.*", "*.agent.started"). Delivery is asynchronous, on the loop thread, in publish
 * order, to subscribers in subscription order. A message is one immutable json_t shared by all
 * subscribers (borrowed in the callback). */
#ifndef EZ_BUS_H
#define EZ_BUS_H

#include <elizad/types.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ez_bus_fn)(const char *topic, const json_t *msg, void *ud);

/* Topics the kernel publishes:
 *   kernel.started                      {}
 *   kernel.stopping                     {}
 *   kernel.log                          {time, level, plugin, msg}     (level: pino number)
 *   socket.connected                    {sid, nsp, auth, headers}
 *   socket.disconnected                 {sid, nsp, reason}
 */

#ifdef __cplusplus
}
#endif

#endif
