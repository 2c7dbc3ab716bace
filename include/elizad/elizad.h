/* Umbrella header of the elizad SDK. */
#ifndef EZ_ELIZAD_H
#define EZ_ELIZAD_H
#include <elizad/agents.h>
#include <elizad/host.h>
#include <elizad/messaging.h>
#include <elizad/model.h>
#include <elizad/plugin.h>
#endif
