/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A second thread that runs one function over a stream of bytes, in order,
 * so that reading and hashing (the caller's thread) overlap with decoding
 * and writing (the worker's). Bytes are handed over in one of two ways:
 *  - copied (swi_worker_put) into a small ring of chunks: memory is bounded
 *    and the caller's buffer is free again at once;
 *  - lent (swi_worker_lend): the worker reads the caller's buffer where it
 *    is and calls a release function when done with it, saving a copy of
 *    every byte (the caller keeps the buffer valid until then).
 * Both may be mixed; the function sees the bytes in the order given.
 * A pull worker runs one function (main) instead, once, which takes the
 * pieces itself with swi_worker_take(), for code that wants to read.
 * Private.
 */
#ifndef SWI_WORKER_H
#define SWI_WORKER_H

#include <stddef.h>
#include "context.h"

/* Runs on the worker thread, on pieces of up to SWI_WORKER_CHUNK bytes
 * (copied bytes) or as lent. */
typedef int (*swi_work_fn)(void *user, const void *buf, size_t len);
/* Called on the worker's thread (or in swi_worker_stop()) once a lent
 * buffer is no longer needed, even when fn was not run on it. */
typedef void (*swi_release_fn)(void *token);

#define SWI_WORKER_CHUNK (128 * 1024)

struct swi_worker;

int swi_worker_start(swi_ctx_t *ctx, swi_work_fn fn, void *user, struct swi_worker **out);
/* A pull worker: main(user) runs once on the worker's thread and reads the
 * pieces with swi_worker_take(). Once main returned, whatever is handed
 * over later is only released, so the producer never waits for it; when
 * main returned an error, that is what put, lend, acquire and drain then
 * return. */
typedef int (*swi_worker_main_fn)(void *user);
int swi_worker_start_pull(swi_ctx_t *ctx, swi_worker_main_fn main, void *user,
			  struct swi_worker **out);
/* From main, on the worker's thread: the next piece at *buf, *len bytes,
 * valid until the next call (which releases it). Waits for one; *len is 0
 * once swi_worker_drain() marked the end and every piece was taken.
 * SWI_ECANCELED (no message recorded) when swi_worker_stop() stops the
 * worker meanwhile. */
int swi_worker_take(struct swi_worker *w, const void **buf, size_t *len);
/* Hands len bytes over by copy (waiting for room when the ring is full).
 * Returns the first error fn returned, once it has; the bytes are then
 * dropped. */
int swi_worker_put(struct swi_worker *w, const void *buf, size_t len);
/* Copy-free put for a producer that writes into memory it is given: a
 * free chunk of SWI_WORKER_CHUNK bytes (waiting for one), then its first
 * len bytes handed over. Not to be mixed with swi_worker_put(). */
int swi_worker_acquire(struct swi_worker *w, unsigned char **chunk);
void swi_worker_commit(struct swi_worker *w, size_t len);
/* Hands len bytes over by reference; release(token) follows in every case,
 * also when an error is returned. */
int swi_worker_lend(struct swi_worker *w, const void *buf, size_t len, swi_release_fn release,
		    void *token);
/* Hands the last partial chunk over and waits until fn has seen every byte;
 * fn's first error, or SWI_OK. The worker stays ready for more. A pull
 * worker: the end of its input; waits for main to return, and gives its
 * error, or SWI_OK. */
int swi_worker_drain(struct swi_worker *w);
/* Stops the thread (dropping what it has not done, releasing what was lent)
 * and frees w. A pull worker's main, waiting in swi_worker_take(), gets
 * SWI_ECANCELED; w is freed once it returned. */
void swi_worker_stop(struct swi_worker *w);

#endif
