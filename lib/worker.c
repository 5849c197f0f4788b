/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread and its queue (see worker.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "worker.h"

/* Four chunks for copied bytes: while the worker works on one, the caller
 * fills another and two more absorb the jitter between the threads. */
#define CHUNKS 4
/* Queued pieces, copied chunks and lent buffers together. */
#define ITEMS 16
/* An idle worker is woken once this many pieces wait, not at the first:
 * on a virtual machine, waking a thread on another core costs about as
 * much as hashing 20 KiB, and one wake-up per piece would add up. A lone
 * piece is taken after WAKE_LATE_NS anyway (its buffer may be what the
 * caller is waiting for). */
#define WAKE_AT 2
#define WAKE_LATE_NS (2 * 1000 * 1000)
#define IDLE_LOOK_NS (100 * 1000 * 1000)

struct item {
	const unsigned char *buf;
	size_t len;
	swi_release_fn release; /* NULL: buf is one of the worker's chunks */
	void *token;
};

struct swi_worker {
	swi_ctx_t *ctx;
	swi_work_fn fn;          /* NULL for a pull worker, */
	swi_worker_main_fn main; /* which runs this instead */
	void *user;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* Items tail .. tail+queued-1 (mod ITEMS) are the worker's, in order
	 * (the first one is being worked on); head = tail+queued is the next
	 * free one. head is the caller's, tail the worker's, queued shared. */
	struct item items[ITEMS];
	unsigned head;
	unsigned tail;
	unsigned queued;
	/* Chunks for copied bytes, used in ring order like the items: the
	 * caller fills chunk `filling`; chunks_queued are in items. */
	unsigned char *memory;   /* CHUNKS chunks of SWI_WORKER_CHUNK bytes */
	unsigned filling;
	unsigned chunks_queued;
	size_t filled;           /* bytes in the chunk being filled */
	bool draining;
	bool stopping;
	int rc;                  /* fn's (or main's) first error */
	/* A pull worker: */
	bool started;            /* main was called */
	bool ended;              /* drained: no more input will come */
	bool main_done;          /* main returned */
	bool taken;              /* main holds `current` (tail), released at its next take */
	struct item current;
};

/* What wait_for_item() found. */
enum wait_result { GOT_ITEM, AT_END, STOPPED };

static unsigned char *chunk(struct swi_worker *w, unsigned i)
{
	return w->memory + (size_t)i * SWI_WORKER_CHUNK;
}

static struct timespec in_ns(long ns)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ns;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Takes the oldest item (STOPPED when stopping). A worker that ran out of
 * items waits for WAKE_AT of them or for a drain; a lone item is taken
 * after WAKE_LATE_NS (an idle worker looks every IDLE_LOOK_NS whether one
 * came, since the first item does not wake it). With end_ok (a pull
 * worker's main taking), the end of the input is AT_END. */
static enum wait_result wait_for_item(struct swi_worker *w, struct item *it, bool end_ok)
{
	pthread_mutex_lock(&w->lock);
	bool late = false;
	if (w->queued == 0)
		while (!w->stopping && w->queued < WAKE_AT && !(end_ok && w->ended && w->queued == 0) &&
		       !(w->queued > 0 && (w->draining || w->ended || late))) {
			bool lone = w->queued > 0;
			struct timespec when = in_ns(lone ? WAKE_LATE_NS : IDLE_LOOK_NS);
			late = pthread_cond_timedwait(&w->changed, &w->lock, &when) == ETIMEDOUT &&
			       lone;
		}
	enum wait_result got = w->stopping ? STOPPED : w->queued == 0 ? AT_END : GOT_ITEM;
	*it = w->items[w->tail];
	pthread_mutex_unlock(&w->lock);
	return got;
}

/* The worker is done with item it (the oldest): it is released and its
 * room given back; rc, fn's result on it, is kept when the first error. */
static void done_with_item(struct swi_worker *w, const struct item *it, int rc)
{
	if (it->release)
		it->release(it->token);
	pthread_mutex_lock(&w->lock);
	if (rc && !w->rc)
		w->rc = rc;
	if (!it->release)
		w->chunks_queued--;
	w->tail = (w->tail + 1) % ITEMS;
	w->queued--;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* A pull worker's main, once; its error stays the worker's. */
static void run_main(struct swi_worker *w)
{
	int rc = w->main(w->user);
	if (w->taken)
		done_with_item(w, &w->current, SWI_OK);
	w->taken = false;
	pthread_mutex_lock(&w->lock);
	if (rc && !w->rc)
		w->rc = rc;
	w->main_done = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* main starts once there is something to read, or the end: whoever starts
 * a pull worker learns of it only when the start returned, and may need
 * that before main reads (the first piece comes after). False when the
 * worker was stopped first: main is then never called. */
static bool wait_for_start(struct swi_worker *w)
{
	pthread_mutex_lock(&w->lock);
	while (!w->stopping && w->queued == 0 && !w->ended)
		pthread_cond_wait(&w->changed, &w->lock);
	w->started = !w->stopping;
	w->main_done = !w->started;
	pthread_mutex_unlock(&w->lock);
	return w->started;
}

static void *worker_main(void *arg)
{
	struct swi_worker *w = arg;
	if (w->main && wait_for_start(w))
		run_main(w);
	struct item it;
	while (wait_for_item(w, &it, false) == GOT_ITEM) {
		/* After an error (or once a pull worker's main returned) the
		 * items are only released, so that the caller never waits for
		 * room that would not come. */
		int rc = w->rc || !w->fn ? w->rc : w->fn(w->user, it.buf, it.len);
		done_with_item(w, &it, rc);
	}
	return NULL;
}

int swi_worker_take(struct swi_worker *w, const void **buf, size_t *len)
{
	if (w->taken)
		done_with_item(w, &w->current, SWI_OK);
	w->taken = false;
	*buf = NULL;
	*len = 0;
	switch (wait_for_item(w, &w->current, true)) {
	case STOPPED:
		return SWI_ECANCELED;
	case AT_END:
		return SWI_OK;
	case GOT_ITEM:
		break;
	}
	w->taken = true;
	*buf = w->current.buf;
	*len = w->current.len;
	return SWI_OK;
}

static int start(swi_ctx_t *ctx, swi_work_fn fn, swi_worker_main_fn main, void *user,
		 struct swi_worker **out)
{
	struct swi_worker *w = calloc(1, sizeof(*w));
	if (!w || !(w->memory = malloc((size_t)CHUNKS * SWI_WORKER_CHUNK))) {
		free(w);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory for the worker's buffers");
	}
	w->ctx = ctx;
	w->fn = fn;
	w->main = main;
	w->user = user;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->changed, &attr);
	pthread_condattr_destroy(&attr);
	int err = swi_thread_start(&w->thread, worker_main, w);
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

int swi_worker_start(swi_ctx_t *ctx, swi_work_fn fn, void *user, struct swi_worker **out)
{
	return start(ctx, fn, NULL, user, out);
}

int swi_worker_start_pull(swi_ctx_t *ctx, swi_worker_main_fn main, void *user,
			  struct swi_worker **out)
{
	return start(ctx, NULL, main, user, out);
}

/* Waits for a free item (and, with a chunk, a free chunk); the worker's
 * error, or SWI_OK. */
static int wait_for_room(struct swi_worker *w, bool need_chunk)
{
	pthread_mutex_lock(&w->lock);
	while ((w->queued == ITEMS || (need_chunk && w->chunks_queued == CHUNKS)) && !w->rc)
		pthread_cond_wait(&w->changed, &w->lock);
	int rc = w->rc;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/* Queues an item (room was waited for). */
static void enqueue(struct swi_worker *w, struct item it)
{
	pthread_mutex_lock(&w->lock);
	w->items[w->head] = it;
	w->head = (w->head + 1) % ITEMS;
	w->queued++;
	if (!it.release)
		w->chunks_queued++;
	if (w->queued >= WAKE_AT || (w->main && !w->started))
		pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

/* Queues the chunk being filled. */
static void hand_over(struct swi_worker *w)
{
	enqueue(w, (struct item){ .buf = chunk(w, w->filling), .len = w->filled });
	w->filling = (w->filling + 1) % CHUNKS;
	w->filled = 0;
}

int swi_worker_put(struct swi_worker *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		int rc = wait_for_room(w, true);
		if (rc)
			return rc;
		/* The chunk being filled is not queued yet: it is the caller's,
		 * no lock is needed to fill it. */
		size_t n = SWI_WORKER_CHUNK - w->filled;
		if (n > len)
			n = len;
		memcpy(chunk(w, w->filling) + w->filled, p, n);
		w->filled += n;
		p += n;
		len -= n;
		if (w->filled == SWI_WORKER_CHUNK)
			hand_over(w);
	}
	return SWI_OK;
}

int swi_worker_acquire(struct swi_worker *w, unsigned char **out)
{
	int rc = wait_for_room(w, true);
	*out = rc ? NULL : chunk(w, w->filling);
	return rc;
}

void swi_worker_commit(struct swi_worker *w, size_t len)
{
	w->filled = len;
	hand_over(w);
}

int swi_worker_lend(struct swi_worker *w, const void *buf, size_t len, swi_release_fn release,
		    void *token)
{
	/* Copied bytes given before go first. */
	int rc = w->filled ? wait_for_room(w, true) : SWI_OK;
	if (rc == SWI_OK && w->filled)
		hand_over(w);
	if (rc == SWI_OK)
		rc = wait_for_room(w, false);
	if (rc) {
		release(token);
		return rc;
	}
	enqueue(w, (struct item){ .buf = buf, .len = len, .release = release, .token = token });
	return SWI_OK;
}

int swi_worker_drain(struct swi_worker *w)
{
	if (w->filled) {
		int rc = wait_for_room(w, true);
		if (rc)
			return rc;
		hand_over(w);
	}
	pthread_mutex_lock(&w->lock);
	w->draining = true;
	w->ended = w->main != NULL;
	pthread_cond_broadcast(&w->changed);
	while (w->queued > 0 || (w->main && !w->main_done))
		pthread_cond_wait(&w->changed, &w->lock);
	w->draining = false;
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
	/* What was lent and not done is given back. */
	for (; w->queued > 0; w->queued--, w->tail = (w->tail + 1) % ITEMS)
		if (w->items[w->tail].release)
			w->items[w->tail].release(w->items[w->tail].token);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w->memory);
	free(w);
}
