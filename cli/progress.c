/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "jsonstream.h"
#include "progress.h"

#define BAR_WIDTH 24
#define REDRAW_SECONDS 0.1

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_output_init(struct cli_output *o, FILE *out, int max_level, bool bar)
{
	memset(o, 0, sizeof(*o));
	o->out = out;
	o->max_level = max_level;
	o->bar = bar;
}

/* The JSON lines get standard output to themselves: they go to a copy of
 * it, and descriptor 1 becomes standard error, where anything else that
 * writes to it (Lua's print in an image's script) ends up. Without a
 * descriptor to spare, they share standard output. */
void cli_output_json(struct cli_output *o)
{
	int fd = dup(STDOUT_FILENO);
	FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
	if (out && fflush(stdout) == 0 && dup2(STDERR_FILENO, STDOUT_FILENO) >= 0) {
		o->out = out;
	} else {
		if (out)
			fclose(out);
		else if (fd >= 0)
			close(fd);
		o->out = stdout;
	}
	o->json = true;
	o->bar = false;
}

void cli_output_finish(struct cli_output *o)
{
	if (o->bar_open)
		fputc('\n', o->out);
	o->bar_open = false;
}

void cli_log(void *user, int level, const char *message)
{
	struct cli_output *o = user;
	if (level > o->max_level)
		return;
	if (o->json) {
		cli_json_log(o->out, level, message);
		return;
	}
	cli_output_finish(o);
	const char *tag = level == SWI_LOG_ERROR ? "error: " :
			  level == SWI_LOG_WARN ? "warning: " : "";
	fprintf(o->out, "swinstall: %s%s\n", tag, message);
}

/* The line on screen is overwritten by the next report, unless it shows
 * an artifact and the report is about something else: each artifact's
 * line stays, with its last numbers. */
static void start_line(struct cli_output *o, const struct swi_progress *p)
{
	unsigned artifact = p->member ? p->index : 0;
	if (o->bar_open && o->bar_artifact && o->bar_artifact != artifact)
		cli_output_finish(o);
	o->bar_artifact = artifact;
}

/* "installing [#####...] 42% [1/2] rootfs.img  0.3/0.3 MiB  12.0 MB/s":
 * the phase and the whole install's percent, then the artifact's bytes. */
static void draw(struct cli_output *o, const struct swi_progress *p, double t)
{
	int filled = (int)(p->percent * BAR_WIDTH / 100);
	char bar[BAR_WIDTH + 1];
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	char line[160];
	int n = snprintf(line, sizeof(line), "%-10s [%s] %3u%%", cli_phase_name(p->phase), bar,
			 p->percent);
	if (p->member && n > 0 && (size_t)n < sizeof(line)) {
		double elapsed = t - o->started;
		double rate = elapsed > 0 ? (double)p->done / elapsed / 1e6 : 0;
		snprintf(line + n, sizeof(line) - (size_t)n, " [%u/%u] %-20.20s %8.1f/%.1f MiB %7.1f MB/s",
			 p->index, p->count, p->member, (double)p->done / 1048576.0,
			 (double)p->total / 1048576.0, rate);
	}
	start_line(o, p);
	/* Padded to what the line held: a shorter text leaves nothing behind. */
	int width = (int)strlen(line);
	fprintf(o->out, "\r%-*s", o->bar_open && o->bar_width > width ? o->bar_width : width, line);
	fflush(o->out);
	if (!o->bar_open || width > o->bar_width)
		o->bar_width = width;
	o->bar_open = true;
}

void cli_progress(void *user, const struct swi_progress *p)
{
	struct cli_output *o = user;
	if (!o->bar && !o->json)
		return;
	double t = now();
	if (p->done == 0)
		o->started = t;
	else if (p->done < p->total && t - o->last_draw < REDRAW_SECONDS)
		return;
	/* The start of each phase and the first and the last report of each
	 * artifact always show; those in between at most every
	 * REDRAW_SECONDS, in the bar and in JSON. */
	if (o->json)
		cli_json_progress(o->out, p);
	else
		draw(o, p, t);
	o->last_draw = t;
}
