/* probe: the test plugin of test_testkit (see probe.c). */
#ifndef PROBE_H
#define PROBE_H

#include <elizad/plugin.h>

#define PROBE_V1 "probe.v1"

typedef struct probe_v1 {
    uint32_t size;
    int (*add)(int a, int b);
} probe_v1;

/* What the test observes from outside the plugin's state. */
typedef struct probe_counters {
    int ud_freed;
    int stopped;
    int destroyed;
    int late_register_rc;
    int second_answer_rc;
} probe_counters;

void probe_bind_counters(probe_counters *c);

extern const ez_plugin_desc probe_desc;
extern const ez_plugin_desc probe_user_desc;

#endif
