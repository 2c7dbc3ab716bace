/* Background checkpoints for the SQLite backend (store_sqlite_ckpt.c). */
#ifndef KN_STORE_SQLITE_CKPT_H
#define KN_STORE_SQLITE_CKPT_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct sq_ckpt sq_ckpt;

/* Takes over db's checkpoints: once a commit leaves `pages` pages in the write-ahead log, a
 * thread of its own (with its own connection to path) copies them into the database file, so
 * the commit that crossed the limit does not. NULL with err filled when it cannot start; db
 * then keeps SQLite's automatic checkpoints. The caller owns the result (sq_ckpt_stop). */
sq_ckpt *sq_ckpt_start(sqlite3 *db, const char *path, int pages, char *err, size_t errlen);
/* Stops the thread and gives db back SQLite's automatic checkpoints; frees k. */
void sq_ckpt_stop(sq_ckpt *k, sqlite3 *db);

#endif
