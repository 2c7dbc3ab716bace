/* Storage: the kernel half of include/elizad/store.h. store.c namespaces SQL ("@name" ->
 * "<plugin>_name"), serialises threads, owns transactions and migrations, and dispatches to a
 * backend (store_backend.h; SQLite today). Functions taking `ns` are the plugin-independent
 * core used by the host API table and by the unit tests. */
#ifndef KN_STORE_H
#define KN_STORE_H

#include "core.h"
#include "store_expand.h"

#include <elizad/store.h>

struct event_base;

/* Opens <data_dir>/elizad.db (creating data_dir with mkdir -p). k may be NULL (tests: errors go
 * to stderr). NULL on failure, reason logged. */
kn_store *kn_store_open(kn_kernel *k, const char *data_dir);
void kn_store_close(kn_store *s);

/* Turns on group commit for writes made on the calling (loop) thread: see store.c. base must
 * have two priorities (event_base_priority_init). EZ_OK or an error (then writes autocommit). */
int kn_store_group_commit(kn_store *s, struct event_base *base);
/* Whether the loop's turn has uncommitted writes: answers must wait for the commit. */
int kn_store_turn_open(const kn_store *s);
/* Commits the loop's turn now (before the loop thread waits on another thread). */
void kn_store_flush(kn_store *s);

/* Write-behind (store_writer.c). Output the loop produces now reports writes up to this batch:
 * 0 when nothing queued is uncommitted, else hold the output until kn_store_committed() reaches
 * it. fn runs on the loop each time a batch ends (the output gate's release); ok 0: the batch
 * failed (disk full, I/O error) and its writes are lost. */
uint64_t kn_store_out_tag(const kn_store *s);
uint64_t kn_store_committed(const kn_store *s);
void kn_store_on_commit(kn_store *s, void (*fn)(void *arg, uint64_t committed, int ok), void *arg);
/* Call before kn_store_group_commit: keep every write on the loop (config). */
void kn_store_no_write_behind(kn_store *s);
/* Call before kn_store_group_commit: checkpoint on a thread of the backend's once the log holds
 * this many pages (config; 0: the backend's own automatic checkpoints). */
void kn_store_checkpoint_pages(kn_store *s, int pages);

/* The table handed to plugins (static lifetime). Its functions find the store via the plugin. */
const ez_store_api *kn_store_api(void);

int kn_store_migrate(kn_store *s, const char *ns, int version, const char *sql);
int64_t kn_store_exec(kn_store *s, const char *ns, const char *sql, const json_t *params);
int kn_store_exec_later(kn_store *s, const char *ns, const char *sql, const json_t *params);
/* one: stop after the first row and return it (new) instead of an array; NULL for none. */
json_t *kn_store_query(kn_store *s, const char *ns, const char *sql, const json_t *params, int one);
int kn_store_begin(kn_store *s, const char *ns);
int kn_store_commit(kn_store *s, const char *ns);
int kn_store_rollback(kn_store *s, const char *ns);
/* The plugin's recorded schema version (0 when none). */
int kn_store_version(kn_store *s, const char *ns);

#endif
