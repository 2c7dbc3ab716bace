/* The kernel's JSON writer: compact, keys in insertion order, strings escaped as
 * JSON.stringify does, several times fewer instructions per byte than json_dumps (most of the
 * text is copied in runs). Socket.IO packets are written with it, and plugins reach it through
 * the host's json_text (ABI 1.3) for the texts they store. */
#ifndef KN_JSON_TEXT_H
#define KN_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

#define KN_JSON_DEPTH_MAX 512

/* A growable byte buffer, always NUL-terminated once it holds something; reusable. */
typedef struct kn_jbuf {
    char *p;
    size_t len, cap;
} kn_jbuf;
int kn_jbuf_add(kn_jbuf *b, const void *data, size_t n); /* 0, or -1 out of memory */
int kn_jbuf_addc(kn_jbuf *b, char c);
void kn_jbuf_free(kn_jbuf *b);

/* Called for every object before it is written: may write it itself (then *done = 1).
 * 0, or -1 to fail the whole write. */
typedef int (*kn_json_hook)(kn_jbuf *b, const json_t *obj, void *ud, int *done);

/* Appends v's text. 0, or -1 on depth > KN_JSON_DEPTH_MAX, out of memory or a hook's -1. */
int kn_json_write(kn_jbuf *b, const json_t *v, kn_json_hook hook, void *ud);
int kn_json_write_string(kn_jbuf *b, const char *s, size_t len);

/* v's compact text (any value), new (free() it); *len_out its length when len_out is set.
 * NULL on depth > KN_JSON_DEPTH_MAX or out of memory. */
char *kn_json_text(const json_t *v, size_t *len_out);

#endif
