/* The storage backend interface store.c dispatches to. One implementation today
 * (store_sqlite.c); a PostgreSQL one (libpq, "$n" placeholders rewritten from "?") would add a
 * second table without touching plugins. Calls are serialised by store.c. */
#ifndef KN_STORE_BACKEND_H
#define KN_STORE_BACKEND_H

#include <elizad/types.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kn_store_backend {
    const char *name;
    /* target: backend-specific (SQLite: the database file). NULL with err filled on failure. */
    void *(*open)(const char *target, char *err, size_t errlen);
    void (*close)(void *db);
    /* One statement with "?" parameters (params borrowed, array or NULL).
     * rows == NULL: run it, *changes = rows changed. rows != NULL: *rows = new array of row
     * objects (max_rows 0 = all). Returns EZ_OK, EZ_EINVAL (bad SQL or params),
     * EZ_ECONSTRAINT or EZ_EIO; then errmsg() says why. */
    int (*run)(void *db, const char *sql, size_t len, const json_t *params, int max_rows,
               json_t **rows, int64_t *changes);
    /* Several statements, no parameters (migrations, BEGIN/COMMIT/ROLLBACK). */
    int (*script)(void *db, const char *sql);
    const char *(*errmsg)(void *db);
    /* Optional (NULL when the backend has no such thing). Moves the copying of the write-ahead
     * log into the database off the committing thread once the log holds `pages` pages, until
     * close. Not EZ_OK (err filled): commits go on copying it themselves. */
    int (*checkpoint_in_background)(void *db, const char *target, int pages, char *err,
                                    size_t errlen);
} kn_store_backend;

extern const kn_store_backend kn_store_sqlite;

#endif
