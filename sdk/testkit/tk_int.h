/* testkit: private structures shared by the tk_*.c files. One ez_tk owns everything here. */
#ifndef TK_INT_H
#define TK_INT_H

#include <elizad/testkit.h>

#include <pthread.h>
#include <stdio.h>

typedef enum tk_phase {
    TK_LOADED,  /* gate passed, init not called yet */
    TK_READY,   /* init succeeded */
    TK_STARTED, /* start ran */
    TK_STOPPED, /* stop ran */
    TK_DONE,    /* destroyed, or init failed and rolled back */
} tk_phase;

/* The fake host's record of one plugin (the SDK's opaque ez_plugin). */
struct ez_plugin {
    ez_tk *tk;
    char *name;
    const ez_plugin_desc *desc; /* NULL for a stub */
    json_t *cfg;
    void *state;
    tk_phase phase;
    int registering; /* inside init */
    char *data_dir;
};

typedef enum tk_reg_kind { TK_ROUTE, TK_SUB, TK_SOCK_ON, TK_SOCK_GUARD, TK_EXPORT } tk_reg_kind;

#define TK_MAX_SEGS 64
#define TK_MAX_PARAMS 16

/* One registration; undone (ud_free called) when its plugin goes away. */
typedef struct tk_reg {
    tk_reg_kind kind;
    ez_plugin *owner;
    void *ud;
    ez_free_fn ud_free;
    int dead;
    /* TK_ROUTE */
    unsigned methods;
    char *pattern;
    char *shape; /* pattern with parameter names erased, lower case: duplicate detection */
    ez_route_fn route_fn;
    ez_err_style err_style;
    char *uuid_code, *uuid_error;
    int raw_body;
    int nsegs;      /* fixed segments (before a trailing "*") */
    int star;       /* ends with "*" */
    char **segs;    /* fixed segments: literal text, or ":name" */
    unsigned uuids; /* bit i: segment i is ":x(uuid)" */
    /* TK_SUB */
    char *glob;
    ez_bus_fn bus_fn;
    /* TK_SOCK_ON / TK_SOCK_GUARD */
    char *nsp, *event;
    ez_sock_event_fn event_fn;
    ez_sock_guard_fn guard_fn;
    /* TK_EXPORT (name in event) */
    const void *table;
} tk_reg;

/* One request and its captured reply: the reply is the first member so the public pointer and
 * the request are the same allocation. */
struct ez_req {
    ez_tk_reply reply;
    ez_tk *tk;
    const tk_reg *route;
    char *method;
    char *path;  /* decoded, no query */
    char *query; /* raw, after '?', or NULL */
    int nparams;
    char *pnames[TK_MAX_PARAMS + 1];
    char *pvalues[TK_MAX_PARAMS + 1];
    json_t *body_json;
    char *body;
    size_t body_len;
    json_t *headers_in; /* {"lower-case name": value} */
    json_t *qcache;     /* decoded query values handed out by query() */
    char *remote;
    int authenticated;
    int gone;
    int answered;
    int streaming;
    struct ez_req *next;
};

typedef enum tk_item_kind { TK_ITEM_BUS, TK_ITEM_DONE } tk_item_kind;

typedef struct tk_item {
    tk_item_kind kind;
    char *topic;
    json_t *msg;
    ez_done_fn done;
    void *ud;
    ez_plugin *owner;
    struct tk_item *next;
} tk_item;

struct ez_timer {
    ez_plugin *owner;
    int64_t due;
    int64_t interval;
    int repeat;
    int cancelled;
    int firing;
    uint64_t seq;
    ez_timer_fn fn;
    void *ud;
};

struct ez_watch {
    ez_plugin *owner;
    int fd;
    unsigned events;
    ez_fd_fn fn;
    void *ud;
    int cancelled;
};

struct ez_socket {
    ez_tk *tk;
    char *nsp, *sid;
    json_t *auth;
    json_t *data;  /* object */
    json_t *rooms; /* object used as a set: room -> true */
    int connected;
};

struct ez_ack {
    ez_tk_ack pub; /* first member: the public view */
    ez_tk *tk;
    int released;
    struct ez_ack *next;
};

struct ez_tk {
    ez_host_api api;
    ez_store_api store;
    ez_sock_api sock;

    ez_plugin **plugins; /* load order */
    size_t nplugins;
    tk_reg **regs; /* registration order */
    size_t nregs;

    struct ez_req *reqs;
    struct ez_ack *acks;

    pthread_mutex_t
        mu; /* the queue and the captured logs: publish/emit/log may come from any thread */
    tk_item *qhead, *qtail;
    int delivering_log;

    ez_timer **timers;
    size_t ntimers;
    uint64_t timer_seq;
    size_t work_count;

    ez_watch **watches;
    size_t nwatches;

    struct ez_socket **socks;
    size_t nsocks;

    json_t *bus_log, *emit_log, *log, *disc_log;
    json_t *settings;
    json_t *kept; /* query results handed out by ez_tk_query */

    void *db; /* kernel SQLite backend handle (store_backend.h) */
    int in_txn;

    char *tmpdir;
    int shutdown;
    int log_level; /* echo to stderr up to this level */
    int checks, failures;
    char err[512];
};

/* tk_core.c */
void tk_fail(ez_tk *tk, const char *fmt, ...) EZ_PRINTF(2, 3);
int tk_reg_add(ez_tk *tk, ez_plugin *self, tk_reg *r, const char *what);
void tk_reg_free(tk_reg *r);
void tk_undo_owner(ez_tk *tk, ez_plugin *owner);
int tk_glob_match(const char *glob, const char *s);
void *tk_xcalloc(size_t n, size_t size);
char *tk_xstrdup(const char *s);
int tk_append(void ***arr, size_t *n, void *item);
void tk_log_write(ez_tk *tk, const char *plugin, ez_level level, const char *msg);

/* tk_http.c */
void tk_http_fill(ez_tk *tk);
int tk_route_add(ez_plugin *self, unsigned methods, const char *pattern, const ez_route_opts *opts,
                 ez_route_fn fn, void *ud, ez_free_fn ud_free);
void tk_reqs_free(ez_tk *tk);
int tk_reqs_pending(ez_tk *tk);

/* tk_bus.c */
void tk_bus_fill(ez_tk *tk);
int tk_queue_push(ez_tk *tk, tk_item *it);
void tk_queue_free(ez_tk *tk);
int tk_deliver_now(ez_tk *tk, const char *topic, const json_t *msg);

/* tk_time.c */
void tk_time_fill(ez_tk *tk);
void tk_timers_cancel_owner(ez_tk *tk, const ez_plugin *owner);
void tk_timers_free(ez_tk *tk);
void tk_clock_set(int64_t ms);

/* tk_store.c */
int tk_store_open(ez_tk *tk);
void tk_store_close(ez_tk *tk);
void tk_store_fill(ez_tk *tk);

/* tk_sock.c */
void tk_sock_fill(ez_tk *tk);
void tk_socks_free(ez_tk *tk);
int tk_acks_pending(ez_tk *tk);
void tk_acks_free(ez_tk *tk);

/* tk_util.c */
void tk_util_fill(ez_tk *tk);
size_t tk_percent_decode(const char *in, size_t len, char *out, int plus_space);

#endif
