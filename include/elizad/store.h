/* Storage as plugins see it. Each plugin has its own namespace: in SQL, write a table name as
 * "@name" and the kernel expands it to the plugin's own table ("<plugin>_name"). Never a sqlite3
 * pointer crosses this line, so a PostgreSQL backend can replace SQLite without plugin changes.
 * Keep SQL to the portable subset (no AUTOINCREMENT tricks, no sqlite-only functions); store
 * timestamps as integers (epoch ms) and JSON as TEXT.
 *
 * Parameters are a JSON array bound to "?" in order: string -> text, integer -> int64,
 * real -> double, true/false -> 1/0, null -> NULL, object/array -> its compact JSON text.
 * Rows come back as JSON objects keyed by column name: INTEGER -> integer, REAL -> real,
 * TEXT -> string, NULL -> null, BLOB -> string.
 * All functions: loop thread (or a worker the plugin submitted; the kernel serialises access). */
#ifndef EZ_STORE_H
#define EZ_STORE_H

#include <elizad/types.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ez_store_api {
    uint32_t size; /* sizeof as the kernel built it; check before using members added later */

    /* Applies `sql` (may hold several statements) once, in a transaction, when the plugin's
     * recorded schema version is below `version`. Call in ascending order from init. */
    int (*migrate)(ez_plugin *self, int version, const char *sql);

    /* Runs one statement. Returns the number of changed rows (>= 0) or a negative ez_status
     * (EZ_ECONSTRAINT for unique/foreign-key violations). params: borrowed, may be NULL. */
    int64_t (*exec)(ez_plugin *self, const char *sql, const json_t *params);

    /* Runs one query. Returns a new array of row objects (empty when no rows) or NULL on error. */
    json_t *(*query)(ez_plugin *self, const char *sql, const json_t *params);

    /* Like query, but only the first row (new) or NULL when there is none or on error. */
    json_t *(*query_one)(ez_plugin *self, const char *sql, const json_t *params);

    /* Transactions do not nest; begin returns EZ_ESTATE inside one. */
    int (*begin)(ez_plugin *self);
    int (*commit)(ez_plugin *self);
    int (*rollback)(ez_plugin *self);

    /* ---- appended in ABI 1.2: check with EZ_STORE_HAS(store, exec_later) ---- */

    /* Queues one write (INSERT/UPDATE/DELETE) to run on the kernel's storage thread, after the
     * current loop turn, in one transaction with the turn's other queued writes; for hot-path
     * writes whose result the caller does not need (rows it just rendered, logs, counters).
     * Ordering: the plugin's later exec/begin/migrate on the loop first wait for every queued
     * write. Answers and socket events the loop sends after this call leave the process only
     * once the write is committed, so a client reads what it was told. Queries on the loop see
     * the write once committed (normally within milliseconds): keep what you must read back
     * sooner in memory. Inside the plugin's own transaction, or off the loop, or when the
     * operator turned write-behind off, it is an ordinary exec. Returns EZ_OK when queued (the
     * statement's own failure is logged, not returned) or a negative ez_status for bad input.
     * params: the store keeps a reference and reads it on the storage thread, where an object
     * or array parameter is turned into its text (off the loop): do not change the array or
     * what it holds afterwards. */
    int (*exec_later)(ez_plugin *self, const char *sql, const json_t *params);

    /* 1 while writes queued with exec_later (by any plugin) are not committed yet: a plugin
     * that caches what it reads should not fill its cache then (the read may miss them). */
    int (*later_pending)(ez_plugin *self);
} ez_store_api;

/* Whether a store table (as the kernel built it) has a member appended after ABI 1.0. */
#define EZ_STORE_HAS(s, member)                                                                    \
    (offsetof(ez_store_api, member) + sizeof((s)->member) <= (s)->size && (s)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif
