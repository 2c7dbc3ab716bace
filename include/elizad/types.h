/* Types shared by every SDK header. */
#ifndef EZ_TYPES_H
#define EZ_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define EZ_EXPORT __attribute__((visibility("default")))
#define EZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EZ_EXPORT
#define EZ_PRINTF(f, a)
#endif

typedef struct ez_plugin ez_plugin; /* the kernel's record of one loaded plugin */
typedef struct ez_req ez_req;       /* one HTTP request */
typedef struct ez_timer ez_timer;   /* one timer */
typedef struct ez_host_api ez_host_api;

typedef enum ez_status {
    EZ_OK = 0,
    EZ_EINVAL = -1,
    EZ_ENOMEM = -2,
    EZ_EEXIST = -3,
    EZ_ENOENT = -4,
    EZ_ENOTSUP = -5,
    EZ_ESTATE = -6, /* wrong lifecycle phase, e.g. registering after init */
    EZ_EIO = -7,
    EZ_ECONSTRAINT = -8, /* storage: unique / foreign key violated */
} ez_status;

typedef enum ez_level { EZ_ERR = 0, EZ_WARN = 1, EZ_INFO = 2, EZ_DEBUG = 3 } ez_level;

typedef void (*ez_free_fn)(void *ud);

#ifdef __cplusplus
}
#endif

#endif
