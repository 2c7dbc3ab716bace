/* model_eliza's script (data) and responder (engine). No host dependency, so
 * tests/unit/test_eliza.c links these files directly. */
#ifndef ELIZA_ENGINE_H
#define ELIZA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* The compiled-in script: scripts/default.json, embedded by CMake (eliza_default_script.c). */
extern const unsigned char eliza_default_script[];
extern const size_t eliza_default_script_len;

/* ---- script (eliza_script.c) ---- */

typedef struct el_rule {
    char **pat; /* pattern tokens: "*", "@group" or a lower-case word */
    int npat;
    char **replies; /* reassembly templates */
    int nreplies;
    int goto_kw; /* index of the keyword to continue with, or -1 */
    int slot;    /* rotation counter index in a conversation */
} el_rule;

typedef struct el_keyword {
    char *label; /* first word: the name "goto" refers to */
    int rank;
    el_rule *rules;
    int nrules;
    el_rule *memory;
    int nmemory;
} el_keyword;

typedef struct el_pair {
    char *from; /* lower-case word, or two words for post ("i am") */
    char *to;
} el_pair;

typedef struct el_group {
    char *name;
    char **words; /* sorted */
    int nwords;
} el_group;

typedef struct el_kwindex {
    const char *word;
    int kw;
} el_kwindex;

typedef struct el_script {
    char *name;
    el_pair *pre, *post, *post_start; /* each sorted by from */
    int npre, npost, npost_start;
    el_group *groups;
    int ngroups;
    el_keyword *kws;
    int nkws;
    el_kwindex *index; /* word -> keyword, sorted by word; words borrowed from owned/groups */
    int nindex;
    char **owned; /* keyword words */
    int nowned, owned_cap;
    el_rule fallback; /* pattern unused */
    int nslots;
} el_script;

/* Parses and validates a script. Returns a new script, or NULL with a message in err
 * ("keywords[3].rules[0].pattern: must be a non-empty string"). */
el_script *el_script_load(const char *json_text, size_t len, char *err, size_t errlen);
void el_script_free(el_script *s);
/* Looks a word up in a sorted pair table; NULL when absent. */
const char *el_pair_find(const el_pair *tab, int n, const char *word);
const el_group *el_group_find(const el_script *s, const char *name);
int el_group_has(const el_group *g, const char *word);

/* ---- engine (eliza_engine.c) ---- */

#define EL_MEMORY_MAX 8
#define EL_MAX_CAPS 16
#define EL_MAX_CLAUSE 48 /* tokens matched per clause: bounds the backtracking */

/* One conversation's state: reply rotation counters and remembered topics. */
typedef struct el_conv {
    uint64_t seed;
    uint32_t *rot; /* nslots counters */
    int nslots;
    char *memory[EL_MEMORY_MAX]; /* FIFO of prepared replies, oldest at [0] */
    int nmemory;
} el_conv;

typedef struct el_persona {
    const char *name; /* agent name, may be NULL */
    const char *bio;  /* one line about the agent, may be NULL */
} el_persona;

/* seed: conversations with the same seed and the same inputs answer the same (new). */
el_conv *el_conv_new(const el_script *s, uint64_t seed);
void el_conv_free(el_conv *c);
/* FNV-1a of a string, chained from h (start with EL_FNV_OFFSET). */
#define EL_FNV_OFFSET 1469598103934665603ull
uint64_t el_hash(uint64_t h, const char *s);

/* The answer to one user input (new, malloc'd; never NULL except on out of memory). */
char *el_respond(const el_script *s, el_conv *c, const char *input, const el_persona *p);
/* Pronoun reflection of a phrase, as applied to captured text (new). */
char *el_reflect(const el_script *s, const char *text);
/* Number of whitespace-separated words (for usage counts). */
int el_count_words(const char *text);

#endif
