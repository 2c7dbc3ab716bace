/* No ez_plugin_v1 symbol at all: a shared object that is not an elizad plugin. */
#include <elizad/types.h>

EZ_EXPORT extern const int ez_plugin_v2;
const int ez_plugin_v2 = 1;
