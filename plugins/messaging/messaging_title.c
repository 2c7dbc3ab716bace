/* A local channel title: the conversation's most frequent meaningful words, title-cased. The
 * official server asks the agent's TEXT_SMALL model; this needs no model and never hangs. */
#include "messaging_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 256
#define WORD_LEN 24
#define SCAN_BYTES 2000
#define SCAN_MESSAGES 50
#define TITLE_WORDS 4

typedef struct word {
    char text[WORD_LEN + 1];
    int count;
    int first;
} word;

static int is_stopword(const char *w) {
    static const char *const stop[] = {
        "the",   "and",     "for",   "are",   "but",    "not",   "you",    "your",  "yours",
        "with",  "this",    "that",  "these", "those",  "have",  "has",    "had",   "was",
        "were",  "will",    "would", "could", "should", "can",   "about",  "what",  "which",
        "who",   "whom",    "when",  "where", "why",    "how",   "all",    "any",   "both",
        "each",  "few",     "more",  "most",  "other",  "some",  "such",   "than",  "too",
        "very",  "just",    "also",  "from",  "into",   "out",   "our",    "ours",  "they",
        "them",  "their",   "there", "then",  "here",   "him",   "his",    "her",   "hers",
        "she",   "its",     "it's",  "i'm",   "don't",  "does",  "did",    "doing", "been",
        "being", "let",     "let's", "yes",   "okay",   "hello", "thanks", "thank", "please",
        "know",  "like",    "get",   "got",   "one",    "may",   "might",  "must",  "shall",
        "via",   "per",     "over",  "under", "again",  "once",  "only",   "own",   "same",
        "off",   "because", "while", "until", "if",     "or",    "of",     "to",    "in",
        "on",    "at",      "by",    "an",    "a",      "is",    "be",     "do",    "so",
        "no",    "it",      "me",    "my",    "we",     "us",    "am",     "as",    "up",
        "hey",   "sure",    "want",  "need",  "tell",   "said",  "say",    "think", "really",
        "well",  "much",    "many",  "make"};
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strcmp(w, stop[i]) == 0)
            return 1;
    return 0;
}

static void count_word(word *words, int *n, const char *w, int order) {
    for (int i = 0; i < *n; i++) {
        if (strcmp(words[i].text, w) == 0) {
            words[i].count++;
            return;
        }
    }
    if (*n >= MAX_WORDS)
        return;
    snprintf(words[*n].text, sizeof words[*n].text, "%s", w);
    words[*n].count = 1;
    words[*n].first = order;
    (*n)++;
}

static void scan(word *words, int *n, int *order, const char *s) {
    char cur[WORD_LEN + 1];
    size_t len = 0, seen = 0;
    int too_long = 0;
    for (;; s++, seen++) {
        unsigned char c = (unsigned char)*s;
        int part = c && seen < SCAN_BYTES && (isalnum(c) || c == '\'' || c >= 0x80);
        if (part) {
            if (len < WORD_LEN)
                cur[len++] = (char)(c < 0x80 ? tolower(c) : c);
            else
                too_long = 1;
            continue;
        }
        if (len >= 3 && !too_long) {
            cur[len] = 0;
            if (!is_stopword(cur) && !isdigit((unsigned char)cur[0]))
                count_word(words, n, cur, (*order)++);
        }
        len = 0;
        too_long = 0;
        if (!c || seen >= SCAN_BYTES)
            return;
    }
}

static int by_weight(const void *a, const void *b) {
    const word *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    return x->first - y->first;
}

static void append_cap(char *out, size_t cap, const char *w) {
    size_t n = strlen(out);
    if (n && n + 1 < cap)
        out[n++] = ' ';
    if (n + strlen(w) + 1 > cap)
        return;
    strcpy(out + n, w);
    if (islower((unsigned char)out[n]))
        out[n] = (char)toupper((unsigned char)out[n]);
}

char *msg_title_from(const json_t *items) {
    word *words = calloc(MAX_WORDS, sizeof *words);
    if (!words)
        return NULL;
    int n = 0, order = 0;
    size_t count = json_array_size(items);
    if (count > SCAN_MESSAGES)
        count = SCAN_MESSAGES;
    /* Oldest first, so ties go to what the conversation opened with. */
    for (size_t i = count; i-- > 0;) {
        const char *content = msg_str(json_array_get(items, i), "content");
        if (content)
            scan(words, &n, &order, content);
    }
    qsort(words, (size_t)n, sizeof *words, by_weight);
    char title[160] = "";
    int picked = n < TITLE_WORDS ? n : TITLE_WORDS;
    if (picked == 0) {
        snprintf(title, sizeof title, "General Conversation Thread");
    } else {
        if (picked < 3)
            append_cap(title, sizeof title, picked == 1 ? "Discussion about" : "Talk about");
        for (int i = 0; i < picked; i++)
            append_cap(title, sizeof title, words[i].text);
    }
    free(words);
    return strdup(title);
}
