/* Shared between stream.c and stream_read.c. */
#ifndef LG_STREAM_INTERNAL_H
#define LG_STREAM_INTERNAL_H

#include "linger.h"

enum lg_stream_state {
    LG_STREAM_OPEN = 1,
    LG_STREAM_FLUSHING, /* close() called: sending what is queued */
    LG_STREAM_DRAINING, /* FIN sent: reading and discarding until the peer's EOF */
    LG_STREAM_CLOSED
};

/* s->flags */
#define LG_SF_READING 0x01u        /* the owner wants input */
#define LG_SF_SHUT_REQUESTED 0x02u /* lg_stream_shutdown(): FIN after the queue */
#define LG_SF_SHUT_DONE 0x04u      /* FIN sent */
#define LG_SF_WRITE_FAILED 0x08u   /* the peer is gone for sending */
#define LG_SF_FLUSHING 0x10u       /* inside flush(): writes only queue */
#define LG_SF_SHUT_AGAIN 0x20u     /* the transport could not end sending yet: when writable */
#define LG_SF_PEER_DONE 0x40u      /* lg_stream_peer_done(): the peer will send nothing more */

/* The read forms (stream_read.c) are reached through this pointer, which
 * their start sets, rather than by a call: a program that never uses them
 * (the server) then does not link them. One pointer for the process, not
 * one per stream, and it only ever holds the one value. */
extern void (*lg__stream_reader)(lg_stream *s);
/* Deliver on the next tick what is buffered (always, when force is set). */
void lg__stream_schedule_delivery(lg_stream *s, int force);
void lg__stream_release_if_idle(lg_stream *s);
#endif
