/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A second thread that runs one function over a stream of bytes, in order,
 * so that reading and hashing (the caller's thread) overlap with decoding
 * and writing (the worker's). The bytes are copied into a small ring of
 * chunks: memory is bounded, and the caller's buffer is free again as soon
 * as swi_worker_put() returns. Private.
 */
#ifndef SWI_WORKER_H
#define SWI_WORKER_H

#include <stddef.h>
#include "context.h"

/* Runs on the worker thread, on chunks of up to SWI_WORKER_CHUNK bytes. */
typedef int (*swi_work_fn)(void *user, const void *buf, size_t len);

#define SWI_WORKER_CHUNK (128 * 1024)

struct swi_worker;

int swi_worker_start(swi_ctx_t *ctx, swi_work_fn fn, void *user, struct swi_worker **out);
/* Hands len bytes over (waiting for room when the ring is full). Returns
 * the first error fn returned, once it has; the bytes are then dropped. */
int swi_worker_put(struct swi_worker *w, const void *buf, size_t len);
/* Hands the last partial chunk over and waits until fn has seen every byte;
 * fn's first error, or SWI_OK. The worker stays ready for more. */
int swi_worker_drain(struct swi_worker *w);
/* Stops the thread (dropping what it has not done) and frees w. */
void swi_worker_stop(struct swi_worker *w);

#endif
