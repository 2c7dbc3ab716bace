/* Socket.IO protocol v5 packet codec, and the JSON writer used for every outgoing packet
 * (JSON.stringify's spelling: compact, numbers in shortest form, binary attachments replaced
 * by placeholders). Pure functions plus a scratch buffer; any thread. */
#ifndef KN_SIO_CODEC_H
#define KN_SIO_CODEC_H

#include "json_text.h"
#include "sio_pkt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
};

#define SIO_NSP_MAX 200 /* longer namespaces are malformed packets */
#define SIO_ATTACHMENTS_MAX 1000

typedef struct sio_packet {
    int type;
    char nsp[SIO_NSP_MAX + 1]; /* "/" when absent */
    int64_t id;                /* -1: no ack requested */
    int attachments;           /* binary packets that follow (types 5 and 6) */
    json_t *data;              /* new; NULL when absent */
} sio_packet;

/* Parses one packet (an Engine.IO text message). 0, or -1 when malformed: unknown type, bad
 * attachment count, bad JSON, or a payload of the wrong shape for the type (CONNECT: object;
 * DISCONNECT: none; EVENT: array starting with a non-reserved name; ACK: array). */
int sio_packet_decode(const char *s, size_t len, sio_packet *p);

/* Replaces {"_placeholder":true,"num":n} in data with {"$binary":"<base64 of atts[n]>"}.
 * 0, or -1 when a placeholder is out of range or data is too deep. */
int sio_placeholders_resolve(json_t *data, kn_pkt *const *atts, int natts);

/* A growable byte buffer reused across encodes (the JSON writer's). */
typedef kn_jbuf sio_buf;
#define sio_buf_add kn_jbuf_add
#define sio_buf_free kn_jbuf_free

/* An encoded packet: the Engine.IO text message ("4<type>...") and its attachments. */
typedef struct sio_out {
    kn_pkt *text;
    kn_pkt **atts;
    int natts;
    int atts_cap;
} sio_out;
void sio_out_release(sio_out *o);

/* Encodes a packet into o (new packets; release with sio_out_release). event != NULL: the data
 * is [event, ...args] where args is an array or one value (NULL: no arguments). event == NULL:
 * data is written as is (NULL: no data). EVENT/ACK become BINARY_* when data holds
 * {"$binary": base64} objects. scratch is a reusable buffer. 0, or -1 (out of memory, depth). */
int sio_encode(sio_buf *scratch, sio_out *o, int type, const char *nsp, int64_t id,
               const char *event, const json_t *data);

/* JSON.stringify-compatible writer (json_text.h); with atts != NULL, "$binary" objects become
 * placeholders and their bytes new binary packets in atts. -1 on depth > 512 or out of memory. */
int sio_json_write(sio_buf *b, const json_t *v, sio_out *atts);

#endif
