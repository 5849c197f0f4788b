/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker thread (lib/worker.c): order, completeness, errors, stopping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_byte_arrives_in_order),
		cmocka_unit_test(drain_keeps_the_worker_ready_for_more),
		cmocka_unit_test(an_error_stops_the_flow_and_is_returned),
		cmocka_unit_test(stop_drops_what_is_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
