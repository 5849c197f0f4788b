/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one lock of every command that writes a target or the bootloader
 * environment: an install, mark-good, rollback. Two of them at once would
 * interleave their writes into one slot, or one would overwrite the other's
 * boot selection. flock() on a file (option lock-file): the kernel drops it
 * when its holder exits, however it exits, so a killed process never leaves
 * it held and there is no stale lock to clean. The holder writes its pid
 * into the file so that a refused command can name it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "lock.h"
#include "staging.h"

#define POLL_NS (100 * 1000 * 1000)

static void note_holder(int fd)
{
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) == len)
		return;
	/* The pid is a courtesy for messages; the lock holds without it. */
}

/* The pid written by the holder, or 0 when it cannot be read. */
static long holder_of(int fd)
{
	char text[32] = "";
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtol(text, NULL, 10);
}

static int busy(swi_ctx_t *ctx, const char *path, int fd, long waited)
{
	long pid = holder_of(fd);
	char who[48] = "another swinstall";
	if (pid > 0)
		snprintf(who, sizeof(who), "another swinstall (pid %ld)", pid);
	if (waited > 0)
		return swi_fail(ctx, SWI_EBUSY,
				"%s: %s still holds the lock after %ld s: an install or a change of "
				"the boot selection is running", path, who, waited);
	return swi_fail(ctx, SWI_EBUSY,
			"%s: %s holds the lock: an install or a change of the boot selection "
			"is running; try again when it is done, or wait for it with --wait", path,
			who);
}

/* Polls rather than blocks, so that a cancel stops the wait at once. */
static int wait_for_lock(swi_ctx_t *ctx, const char *path, int fd, long seconds)
{
	struct timespec start, now, pause = { 0, POLL_NS };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return SWI_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return swi_fail(ctx, SWI_EIO, "%s: cannot lock: %s", path, strerror(errno));
		if (swi_cancelled(ctx))
			return swi_fail_cancelled(ctx);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds >= 0 && now.tv_sec - start.tv_sec >= seconds)
			return busy(ctx, path, fd, seconds);
		nanosleep(&pause, NULL);
	}
}

int swi_lock_take(swi_ctx_t *ctx, int *out)
{
	const char *path = swi_opt_lock_file(ctx);
	long seconds = 0;
	swi_parse_wait(ctx->opt.lock_wait, &seconds);
	*out = -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return swi_fail(ctx, SWI_ECONFIG, "lock-file %s: cannot open: %s", path,
				strerror(errno));
	int rc;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = SWI_OK;
	else if (errno != EWOULDBLOCK)
		rc = swi_fail(ctx, SWI_EIO, "%s: cannot lock: %s", path, strerror(errno));
	else if (seconds == 0)
		rc = busy(ctx, path, fd, 0);
	else
		rc = wait_for_lock(ctx, path, fd, seconds);
	if (rc) {
		close(fd);
		return rc;
	}
	note_holder(fd);
	/* Staged files belong to the lock's holder: what an earlier holder
	 * left (it was killed, the power failed) is removed now. */
	rc = swi_journal_recover(ctx);
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return SWI_OK;
}

void swi_lock_release(int fd)
{
	/* Closing the last descriptor of the open file releases the lock; the
	 * file stays (removing it would let two processes lock two files). */
	if (fd >= 0)
		close(fd);
}
