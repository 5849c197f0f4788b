/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread and its ring of chunks (see worker.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "worker.h"

/* Four chunks: while the worker works on one, the caller fills another and
 * two more absorb the jitter between the threads. */
#define CHUNKS 4

struct swi_worker {
	swi_ctx_t *ctx;
	swi_work_fn fn;
	void *user;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *memory;   /* CHUNKS chunks of SWI_WORKER_CHUNK bytes */
	size_t len[CHUNKS];
	/* Chunks tail .. tail+ready-1 (mod CHUNKS) belong to the worker, in
	 * order; chunk head (= tail+ready) is the one the caller fills. head
	 * is the caller's, tail the worker's; ready is shared. */
	unsigned head;
	unsigned tail;
	unsigned ready;
	size_t filled;           /* bytes in the chunk being filled */
	bool stopping;
	int rc;                  /* fn's first error */
};

static unsigned char *chunk(struct swi_worker *w, unsigned i)
{
	return w->memory + (size_t)i * SWI_WORKER_CHUNK;
}

/* Takes the oldest chunk; false when stopping with nothing left. */
static bool wait_for_chunk(struct swi_worker *w, unsigned *index)
{
	pthread_mutex_lock(&w->lock);
	while (w->ready == 0 && !w->stopping)
		pthread_cond_wait(&w->changed, &w->lock);
	bool got = w->ready > 0 && !w->stopping;
	*index = w->tail;
	pthread_mutex_unlock(&w->lock);
	return got;
}

static void *worker_main(void *arg)
{
	struct swi_worker *w = arg;
	unsigned i;
	while (wait_for_chunk(w, &i)) {
		/* After an error the chunks are only released, so that the
		 * caller never waits for room that would not come. */
		int rc = w->rc ? w->rc : w->fn(w->user, chunk(w, i), w->len[i]);
		pthread_mutex_lock(&w->lock);
		if (rc && !w->rc)
			w->rc = rc;
		w->tail = (w->tail + 1) % CHUNKS;
		w->ready--;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

int swi_worker_start(swi_ctx_t *ctx, swi_work_fn fn, void *user, struct swi_worker **out)
{
	struct swi_worker *w = calloc(1, sizeof(*w));
	if (!w || !(w->memory = malloc((size_t)CHUNKS * SWI_WORKER_CHUNK))) {
		free(w);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory for the worker's buffers");
	}
	w->ctx = ctx;
	w->fn = fn;
	w->user = user;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	int err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		pthread_cond_destroy(&w->changed);
		pthread_mutex_destroy(&w->lock);
		free(w->memory);
		free(w);
		return swi_fail(ctx, SWI_ENOMEM, "cannot start a worker thread: %s", strerror(err));
	}
	*out = w;
	return SWI_OK;
}

/* Gives the chunk being filled to the worker. */
static void hand_over(struct swi_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->len[w->head] = w->filled;
	w->head = (w->head + 1) % CHUNKS;
	w->ready++;
	w->filled = 0;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* Waits for a free chunk to fill; the worker's error, or SWI_OK. */
static int wait_for_room(struct swi_worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->ready == CHUNKS && !w->rc)
		pthread_cond_wait(&w->changed, &w->lock);
	int rc = w->rc;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int swi_worker_put(struct swi_worker *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		int rc = wait_for_room(w);
		if (rc)
			return rc;
		/* The chunk at head is the caller's until it is handed over:
		 * no lock is needed to fill it. */
		size_t n = SWI_WORKER_CHUNK - w->filled;
		if (n > len)
			n = len;
		memcpy(chunk(w, w->head) + w->filled, p, n);
		w->filled += n;
		p += n;
		len -= n;
		if (w->filled == SWI_WORKER_CHUNK)
			hand_over(w);
	}
	return SWI_OK;
}

int swi_worker_drain(struct swi_worker *w)
{
	if (w->filled) {
		int rc = wait_for_room(w);
		if (rc)
			return rc;
		hand_over(w);
	}
	pthread_mutex_lock(&w->lock);
	while (w->ready > 0)
		pthread_cond_wait(&w->changed, &w->lock);
	int rc = w->rc;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void swi_worker_stop(struct swi_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w->memory);
	free(w);
}
