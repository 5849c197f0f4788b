/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread (lib/worker.c): order, completeness, errors, stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>
#include "worker.h"

/* What the worker's function saw; it runs on the worker thread, and is
 * read only after swi_worker_drain() or swi_worker_stop(). */
struct seen {
	swi_ctx_t *ctx;
	unsigned char *data;
	size_t len, cap;
	size_t calls;
	size_t fail_at_call;   /* 0: never */
	unsigned delay_us;     /* a slow consumer fills the ring */
};

static int record(void *user, const void *buf, size_t len)
{
	struct seen *s = user;
	s->calls++;
	if (s->delay_us)
		usleep(s->delay_us);
	if (s->fail_at_call && s->calls == s->fail_at_call)
		return swi_fail(s->ctx, SWI_EIO, "target: write failed");
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = realloc(s->data, s->cap);
	}
	memcpy(s->data + s->len, buf, len);
	s->len += len;
	return SWI_OK;
}

static unsigned char *pattern(size_t len)
{
	unsigned char *p = malloc(len);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + i / 251);
	return p;
}

/* Feeds len bytes of a pattern in pieces of `piece`; returns the first error. */
static int feed(struct swi_worker *w, const unsigned char *p, size_t len, size_t piece)
{
	for (size_t at = 0; at < len; at += piece) {
		int rc = swi_worker_put(w, p + at, len - at < piece ? len - at : piece);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

static void every_byte_arrives_in_order(void **state)
{
	(void)state;
	static const size_t pieces[] = { 1, 777, SWI_WORKER_CHUNK, 3 * SWI_WORKER_CHUNK + 5 };
	const size_t len = 10 * SWI_WORKER_CHUNK + 123;
	unsigned char *p = pattern(len);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		swi_ctx_t *ctx;
		assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
		struct seen s = { .ctx = ctx };
		struct swi_worker *w;
		assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
		assert_int_equal(feed(w, p, len, pieces[i]), SWI_OK);
		assert_int_equal(swi_worker_drain(w), SWI_OK);
		assert_int_equal(s.len, len);
		assert_memory_equal(s.data, p, len);
		assert_int_equal(s.calls, 11); /* whole chunks, then the rest */
		swi_worker_stop(w);
		free(s.data);
		swi_ctx_free(ctx);
	}
	free(p);
}

static void drain_keeps_the_worker_ready_for_more(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx };
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	assert_int_equal(swi_worker_put(w, "abc", 3), SWI_OK);
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(swi_worker_put(w, "def", 3), SWI_OK);
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.data, "abcdef", 6);
	swi_worker_stop(w);
	free(s.data);
	swi_ctx_free(ctx);
}

static void an_error_stops_the_flow_and_is_returned(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx, .fail_at_call = 2, .delay_us = 200 };
	const size_t len = 40 * SWI_WORKER_CHUNK;
	unsigned char *p = pattern(len);
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	/* The producer learns of the error while feeding, not only at the end. */
	assert_int_equal(feed(w, p, len, SWI_WORKER_CHUNK), SWI_EIO);
	assert_int_equal(swi_worker_drain(w), SWI_EIO);
	assert_string_equal(swi_errmsg(ctx), "target: write failed");
	assert_int_equal(s.len, SWI_WORKER_CHUNK); /* nothing after the failure */
	swi_worker_stop(w);
	free(p);
	free(s.data);
	swi_ctx_free(ctx);
}

static void stop_drops_what_is_pending(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx, .delay_us = 20000 };
	const size_t len = 3 * SWI_WORKER_CHUNK;
	unsigned char *p = pattern(len);
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	assert_int_equal(feed(w, p, len, SWI_WORKER_CHUNK), SWI_OK);
	swi_worker_stop(w); /* returns without waiting for all three slow chunks */
	assert_true(s.len < len);
	free(p);
	free(s.data);
	swi_ctx_free(ctx);
}

/* Lent pieces: the tokens come back, in order, once the worker is done. */
struct lender {
	unsigned returned;
	unsigned order_ok;   /* returns that came in the order lent */
};

struct token {
	struct lender *l;
	unsigned index;
};

static void give_back_token(void *arg)
{
	struct token *t = arg;
	t->l->order_ok += t->index == t->l->returned;
	t->l->returned++;
}

static void lent_and_copied_bytes_keep_their_order(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx };
	struct lender l = { 0 };
	struct token tokens[20];
	const size_t piece = 50000;
	unsigned char *p = pattern(20 * piece);
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	unsigned lent = 0;
	for (unsigned i = 0; i < 20; i++) {
		/* Every third piece copied, the others lent where they lie. */
		if (i % 3 == 0) {
			assert_int_equal(swi_worker_put(w, p + i * piece, piece), SWI_OK);
			continue;
		}
		tokens[i] = (struct token){ &l, lent++ };
		assert_int_equal(swi_worker_lend(w, p + i * piece, piece, give_back_token,
						 &tokens[i]), SWI_OK);
	}
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(s.len, 20 * piece);
	assert_memory_equal(s.data, p, 20 * piece);
	assert_int_equal(lent, 13);
	assert_int_equal(l.returned, 13); /* all back once drained, */
	assert_int_equal(l.order_ok, 13); /* in the order lent */
	swi_worker_stop(w);
	free(p);
	free(s.data);
	swi_ctx_free(ctx);
}

static void lent_pieces_come_back_after_an_error_or_a_stop(void **state)
{
	(void)state;
	for (int stop_early = 0; stop_early <= 1; stop_early++) {
		swi_ctx_t *ctx;
		assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
		struct seen s = { .ctx = ctx, .fail_at_call = stop_early ? 0 : 3,
				  .delay_us = 5000 };
		struct lender l = { 0 };
		struct token tokens[12];
		unsigned char *p = pattern(12 * 1000);
		struct swi_worker *w;
		assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
		unsigned lent = 0;
		for (unsigned i = 0; i < 12; i++) {
			tokens[i] = (struct token){ &l, i };
			lent++;
			if (swi_worker_lend(w, p + i * 1000, 1000, give_back_token, &tokens[i]))
				break; /* the error came back; this piece was given back too */
		}
		if (!stop_early)
			assert_int_equal(swi_worker_drain(w), SWI_EIO);
		swi_worker_stop(w);
		assert_int_equal(l.returned, lent);
		assert_int_equal(l.order_ok, lent);
		if (!stop_early)
			assert_int_equal(s.len, 2000); /* nothing after the failing call */
		else
			assert_true(s.len < 12000);
		free(p);
		free(s.data);
		swi_ctx_free(ctx);
	}
}

/* An idle worker is not woken by a single piece (wake-ups are batched),
 * but it still gets to it soon: a producer waiting for that piece's buffer
 * without draining must not wait forever. The release writes to a pipe. */
static void release_to_pipe(void *token)
{
	int fd = *(int *)token;
	/* On the worker's thread: no cmocka assertion (it cannot unwind there). */
	if (write(fd, "r", 1) != 1)
		abort();
}

static void a_lone_lent_piece_is_not_forgotten(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx };
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	usleep(20 * 1000); /* the worker is idle, waiting */
	assert_int_equal(swi_worker_lend(w, "lone", 4, release_to_pipe, &p[1]), SWI_OK);
	struct pollfd released = { .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&released, 1, 3000), 1);
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_memory_equal(s.data, "lone", 4);
	swi_worker_stop(w);
	close(p[0]);
	close(p[1]);
	free(s.data);
	swi_ctx_free(ctx);
}

/* A producer that writes into the worker's own chunks. */
static void acquired_chunks_arrive_as_committed(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct seen s = { .ctx = ctx, .delay_us = 100 };
	const size_t len = 9 * SWI_WORKER_CHUNK + 1234;
	unsigned char *p = pattern(len);
	struct swi_worker *w;
	assert_int_equal(swi_worker_start(ctx, record, &s, &w), SWI_OK);
	for (size_t at = 0; at < len;) {
		unsigned char *chunk;
		assert_int_equal(swi_worker_acquire(w, &chunk), SWI_OK);
		/* Uneven fills: a committed chunk need not be full. */
		size_t n = at % 3 == 0 ? SWI_WORKER_CHUNK : SWI_WORKER_CHUNK / 3;
		if (n > len - at)
			n = len - at;
		memcpy(chunk, p + at, n);
		swi_worker_commit(w, n);
		at += n;
	}
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(s.len, len);
	assert_memory_equal(s.data, p, len);
	swi_worker_stop(w);
	free(p);
	free(s.data);
	swi_ctx_free(ctx);
}

/* ---- pull workers: main takes the pieces itself ---- */

/* What main saw; read after drain or stop, like struct seen. */
struct puller {
	swi_ctx_t *ctx;
	struct seen seen;
	size_t stop_after;     /* return SWI_OK once this many bytes came (0: read to the end) */
	size_t fail_after;     /* return an error once this many bytes came (0: never) */
	int take_rc;           /* what the last take returned */
	atomic_size_t pulled;  /* bytes taken, for a test that watches main at work */
	int ran;
	struct swi_worker *w;   /* set once started, before the first put */
};

static int pull_main(void *user)
{
	struct puller *m = user;
	m->ran++;
	for (;;) {
		const void *buf;
		size_t len;
		if ((m->take_rc = swi_worker_take(m->w, &buf, &len)))
			return m->take_rc;
		if (len == 0)
			return SWI_OK;
		record(&m->seen, buf, len);
		atomic_fetch_add(&m->pulled, len);
		if (m->stop_after && m->seen.len >= m->stop_after)
			return SWI_OK;
		if (m->fail_after && m->seen.len >= m->fail_after)
			return swi_fail(m->ctx, SWI_EFORMAT, "payload.tar: entry 'x' refused");
	}
}

static struct swi_worker *start_puller(struct puller *m)
{
	struct swi_worker *w;
	assert_int_equal(swi_worker_start_pull(m->ctx, pull_main, m, &w), SWI_OK);
	m->w = w;
	return w;
}

static void pull_sees_every_byte_in_order(void **state)
{
	(void)state;
	static const size_t pieces[] = { 1, 777, SWI_WORKER_CHUNK, 3 * SWI_WORKER_CHUNK + 5 };
	const size_t len = 10 * SWI_WORKER_CHUNK + 123;
	unsigned char *p = pattern(len);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		swi_ctx_t *ctx;
		assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
		struct puller m = { .ctx = ctx, .seen = { .ctx = ctx } };
		struct swi_worker *w = start_puller(&m);
		assert_int_equal(feed(w, p, len, pieces[i]), SWI_OK);
		assert_int_equal(swi_worker_drain(w), SWI_OK);
		assert_int_equal(m.ran, 1);
		assert_int_equal(m.seen.len, len);
		assert_memory_equal(m.seen.data, p, len);
		swi_worker_stop(w);
		free(m.seen.data);
		swi_ctx_free(ctx);
	}
	free(p);
}

/* Many small lent blocks, each released once main took the next. */
static void pull_many_small_lent_blocks(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct puller m = { .ctx = ctx, .seen = { .ctx = ctx } };
	struct lender l = { 0 };
	enum { N = 3000, PIECE = 7 };
	static struct token tokens[N];
	unsigned char *p = pattern(N * PIECE);
	struct swi_worker *w = start_puller(&m);
	for (unsigned i = 0; i < N; i++) {
		tokens[i] = (struct token){ &l, i };
		assert_int_equal(swi_worker_lend(w, p + i * PIECE, PIECE, give_back_token,
						 &tokens[i]), SWI_OK);
	}
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(m.seen.calls, N);
	assert_memory_equal(m.seen.data, p, N * PIECE);
	assert_int_equal(l.returned, N);
	assert_int_equal(l.order_ok, N);
	swi_worker_stop(w);
	free(p);
	free(m.seen.data);
	swi_ctx_free(ctx);
}

/* A puller (early, failing) fed 40 chunks: what the feed and the drain
 * returned, and how much main saw before it returned. */
static void pull_until_main_returns(struct puller proto, int *fed, int *drained, size_t *seen)
{
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct puller m = proto;
	m.ctx = m.seen.ctx = ctx;
	const size_t len = 40 * SWI_WORKER_CHUNK;
	unsigned char *p = pattern(len);
	struct swi_worker *w = start_puller(&m);
	*fed = feed(w, p, len, SWI_WORKER_CHUNK);
	*drained = swi_worker_drain(w);
	*seen = m.seen.len;
	if (*drained)
		assert_string_equal(swi_errmsg(ctx), "payload.tar: entry 'x' refused");
	swi_worker_stop(w);
	free(p);
	free(m.seen.data);
	swi_ctx_free(ctx);
}

/* main stops reading early, content: the rest is released unread and the
 * producer never blocks on a full ring. main's error reaches the producer
 * while it feeds, and drain. */
static void pull_main_may_return_early_or_fail(void **state)
{
	(void)state;
	int fed, drained;
	size_t seen;
	pull_until_main_returns((struct puller){ .stop_after = 1 }, &fed, &drained, &seen);
	assert_int_equal(fed, SWI_OK);
	assert_int_equal(drained, SWI_OK);
	assert_int_equal(seen, SWI_WORKER_CHUNK);
	pull_until_main_returns((struct puller){ .fail_after = 1 }, &fed, &drained, &seen);
	assert_int_equal(fed, SWI_EFORMAT);
	assert_int_equal(drained, SWI_EFORMAT);
	assert_int_equal(seen, SWI_WORKER_CHUNK);
}

/* Stopped while main waits for more: main wakes with SWI_ECANCELED and
 * the stop returns once main did. */
static void pull_stop_wakes_a_waiting_main(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct puller m = { .ctx = ctx, .seen = { .ctx = ctx } };
	unsigned char *p = pattern(SWI_WORKER_CHUNK);
	struct swi_worker *w = start_puller(&m);
	assert_int_equal(swi_worker_put(w, p, SWI_WORKER_CHUNK), SWI_OK); /* a whole chunk goes */
	for (int i = 0; i < 300 && atomic_load(&m.pulled) < SWI_WORKER_CHUNK; i++)
		usleep(10 * 1000); /* a lone piece is taken after a short while */
	swi_worker_stop(w);
	assert_int_equal(m.ran, 1);
	assert_int_equal(m.seen.len, SWI_WORKER_CHUNK);
	assert_int_equal(m.take_rc, SWI_ECANCELED);
	free(p);
	free(m.seen.data);
	swi_ctx_free(ctx);
}

/* An empty input: main runs and sees the end at once; a stop before any
 * input: main never runs. */
static void pull_empty_input_and_stop_before_start(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	struct puller m = { .ctx = ctx, .seen = { .ctx = ctx } };
	struct swi_worker *w = start_puller(&m);
	assert_int_equal(swi_worker_drain(w), SWI_OK);
	assert_int_equal(m.ran, 1);
	assert_int_equal(m.seen.len, 0);
	swi_worker_stop(w);
	struct puller idle = { .ctx = ctx, .seen = { .ctx = ctx } };
	swi_worker_stop(start_puller(&idle));
	assert_int_equal(idle.ran, 0);
	swi_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_byte_arrives_in_order),
		cmocka_unit_test(drain_keeps_the_worker_ready_for_more),
		cmocka_unit_test(an_error_stops_the_flow_and_is_returned),
		cmocka_unit_test(stop_drops_what_is_pending),
		cmocka_unit_test(lent_and_copied_bytes_keep_their_order),
		cmocka_unit_test(lent_pieces_come_back_after_an_error_or_a_stop),
		cmocka_unit_test(a_lone_lent_piece_is_not_forgotten),
		cmocka_unit_test(acquired_chunks_arrive_as_committed),
		cmocka_unit_test(pull_sees_every_byte_in_order),
		cmocka_unit_test(pull_many_small_lent_blocks),
		cmocka_unit_test(pull_main_may_return_early_or_fail),
		cmocka_unit_test(pull_stop_wakes_a_waiting_main),
		cmocka_unit_test(pull_empty_input_and_stop_before_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
