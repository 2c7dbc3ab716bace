/* audio private header. A request becomes one job that walks a few steps: speech recognition
 * and speech synthesis run on the worker pool, each engine through its own lane (one job at a
 * time, the rest queued, so a burst never parks every worker on an engine mutex); the
 * conversation's model call runs on the loop. Everything but the workers' step functions runs
 * on the loop thread. */
#ifndef AUDIO_INT_H
#define AUDIO_INT_H

#include "audio_engine.h"
#include "audio_wav.h"

#include <elizad/elizad.h>

#define AU_ID 37
#define AU_NAME 64
#define AU_WHY 256

typedef enum au_kind {
    AU_SPEAK,         /* synthesize / speech/generate: {text} -> WAV */
    AU_TRANSCRIBE,    /* transcriptions: file -> {text} */
    AU_AUDIO_MESSAGE, /* audio-messages: file -> {transcription, message} */
    AU_CONVERSATION,  /* speech/conversation: {text} or file -> the agent's reply as WAV */
} au_kind;

typedef struct au_state au_state;
typedef struct au_job au_job;

/* One engine's queue onto the worker pool. */
typedef struct au_lane {
    const char *name;        /* "synthesis" | "recognition", for messages */
    void (*work)(void *job); /* the worker step */
    void (*done)(au_job *j); /* back on the loop: answers j or moves it on (takes j) */
    au_job *head, *tail;     /* waiting jobs */
    int depth;               /* waiting jobs, not counting the running one */
    au_job *running;         /* submitted to the pool, done not yet seen */
} au_lane;

/* What one route does: its kind, under which pattern (for logs). */
typedef struct au_route {
    au_state *st;
    au_kind kind;
    const char *pattern;
} au_route;

#define AU_NROUTES 10

struct au_state {
    ez_plugin *self;
    const ez_host_api *api;
    const ez_agents_v1 *agents;
    char default_provider[AU_NAME];
    size_t max_text;          /* bytes of text one synthesis speaks */
    int64_t max_audio_ms;     /* longest clip accepted for recognition */
    int queue_depth;          /* jobs waiting per lane */
    int history_limit;        /* room memories given to the model */
    int64_t reply_timeout_ms; /* model calls longer than this are cancelled (0 = none) */
    au_tts *tts;              /* NULL: synthesis answers 503 with tts_why */
    au_stt *stt;              /* NULL: recognition answers 503 with stt_why */
    char tts_why[AU_WHY], stt_why[AU_WHY];
    au_lane tts_lane, stt_lane;
    au_job *thinking; /* conversations waiting for their model (linked by next) */
    au_route routes[AU_NROUTES];
    int stopping;
};

/* One request in flight. Owned by the step it is in: a lane (queued or running), the thinking
 * list (model call) or the handler; whoever answers it frees it (au_job_finish). */
struct au_job {
    au_state *st;
    ez_req *req;
    au_kind kind;
    au_job *next, *prev; /* lane queue (next only) or thinking list */
    au_lane *lane;       /* the lane it is in, or NULL */
    char agent_id[AU_ID];
    /* input */
    char *text;           /* words to speak / the user's words (own) */
    au_wav wav;           /* the upload; wav.data points into audio (own) */
    unsigned char *audio; /* copy of the upload's sample bytes (own) */
    /* worker results */
    int failed;
    char why[AU_WHY];
    unsigned char *out; /* synthesised WAV file (own) */
    size_t out_len;
    char *transcript; /* recognised words (own) */
    /* conversation */
    char room_id[AU_ID], entity_id[AU_ID], world_id[AU_ID], user_mem_id[AU_ID];
    char *user_name; /* own, may be NULL */
    json_t *agent;   /* agents.v1 get (own) */
    const ez_model_v1 *model;
    ez_model_call *call;
    ez_timer *timer;
    int in_generate, early, timed_out;
    char *early_error;    /* on_done that came inside generate(): replayed after (own) */
    json_t *early_result; /* own */
};

/* ---- audio_routes.c: handlers ---- */
int au_routes_register(au_state *st);

/* ---- audio_input.c: the request body ---- */
#define AU_MP_MAX_PARTS 16 /* more parts than this is a malformed request here */

/* What the routes need of a multipart part (read with the kernel's reader, host.h mp_parse). */
typedef struct au_part {
    char name[EZ_MP_NAME_MAX + 1]; /* form field name ("" when absent) */
    char type[EZ_MP_TYPE_MAX + 1]; /* lower case, no parameters; busboy's default if none */
    int is_file;                   /* a filename parameter was present */
    const unsigned char *data;     /* borrowed from the body */
    size_t len;
} au_part;

typedef struct au_input {
    json_t *fields;      /* JSON body or multipart text fields, as an object (own) */
    const au_part *file; /* the part named "file", or NULL (borrowed from parts) */
    int nfiles;          /* parts named "file" */
    int nparts;
    au_part parts[AU_MP_MAX_PARTS];
} au_input;
/* Reads the body as JSON or multipart. 0, or -1 after answering the error. */
int au_input_read(au_state *st, ez_req *req, au_input *in);
void au_input_clear(au_input *in);
/* Checks in->file as audio the recogniser can take, and copies its samples into j. 0, or -1
 * after answering the error (j is then freed). */
int au_input_take_audio(au_job *j, const au_input *in);

/* ---- audio_jobs.c: job lifetime and steps ---- */
au_job *au_job_new(au_state *st, ez_req *req, au_kind kind, const char *agent_id);
/* Answers with a Style A error and frees j. */
void au_job_fail(au_job *j, int status, const char *code, const char *message, const char *details);
/* Frees j without answering (teardown only, or after an answer). */
void au_job_free(au_job *j);
/* Queues j on the recogniser / synthesiser lane; answers 503 itself when the lane is full or
 * the pool refuses. Ownership of j passes to the lane either way. */
void au_job_recognize(au_job *j);
void au_job_speak(au_job *j);
/* Stop: answers the queued jobs 503 (running ones finish during the pool's drain). */
void au_lanes_stop(au_state *st);

/* Sets up both lanes. */
void au_lanes_init(au_state *st);

/* ---- audio_lane.c ---- */
void au_lane_init(au_lane *l, const char *name, void (*work)(void *job), void (*done)(au_job *j));
/* Takes j; 0 when queued or running, -1 when full or the pool refused (j not taken then). */
int au_lane_submit(au_state *st, au_lane *l, au_job *j);
/* Called by a lane job's done: frees the slot and submits the next waiting job. */
void au_lane_next(au_state *st, au_lane *l);
/* Detaches every waiting job (the running one stays) and returns them as a list. */
au_job *au_lane_drain(au_lane *l);

/* ---- audio_conv.c: the conversation's model step ---- */
/* j->text holds the user's words. Stores the user's memory, asks the agent's model, and on an
 * answer stores it and passes j to au_job_speak; answers errors itself. Takes j. */
void au_conv_think(au_job *j);
/* Cancels every model call (stop): each answers its request. */
void au_conv_stop(au_state *st);

#endif
