/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the script handlers share (see script.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exec.h"
#include "script.h"

#define SCRIPT_MODE 0700

const struct swi_handler_attr swi_script_attributes[] = {
	{ "data", SWI_TYPE_STRING, 0 },  /* arguments, split at blanks */
	{ NULL, 0, 0 },
};

/* The file gets the member's name, so that the script sees its own name
 * in $0 as under SWUpdate; a name that is no plain file name does not. */
static const char *file_name(const char *member)
{
	if (!member || !member[0] || strchr(member, '/') || !strcmp(member, ".") ||
	    !strcmp(member, ".."))
		return "script";
	return member;
}

/* A new file in dir for it: NAME, or NAME.XXXXXX when an entry of the same
 * member took NAME already. */
static int create_file(struct swi_target *t, struct swi_script *s, const char *dir)
{
	const char *name = file_name(swi_target_member(t));
	if (snprintf(s->path, sizeof(s->path), "%s/%s", dir, name) >= (int)sizeof(s->path))
		return swi_target_error(t, SWI_EIO, "%s/%s: path too long", dir, name);
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, SCRIPT_MODE);
	if (s->fd < 0 && errno == EEXIST) {
		if (snprintf(s->path, sizeof(s->path), "%s/%s.XXXXXX", dir, name) >= (int)sizeof(s->path))
			return swi_target_error(t, SWI_EIO, "%s/%s: path too long", dir, name);
		s->fd = mkostemp(s->path, O_CLOEXEC);
	}
	if (s->fd < 0)
		return swi_target_error(t, SWI_EIO, "cannot create %s: %s", s->path, strerror(errno));
	/* whatever the umask: the owner may run it, nobody else may touch it */
	if (fchmod(s->fd, SCRIPT_MODE) < 0)
		return swi_target_error(t, SWI_EIO, "%s: cannot set mode %04o: %s", s->path,
					SCRIPT_MODE, strerror(errno));
	return SWI_OK;
}

int swi_script_open(struct swi_target *t)
{
	struct swi_script *s = swi_target_state(t);
	const char *dir;
	s->fd = -1;
	int rc = swi_target_tmpdir(t, &dir);
	if (rc == SWI_OK)
		rc = create_file(t, s, dir);
	if (rc)
		swi_script_abort(t);
	return rc;
}

int swi_script_write(struct swi_target *t, const void *buf, size_t len)
{
	struct swi_script *s = swi_target_state(t);
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return swi_target_error(t, SWI_EIO, "%s: write failed: %s", s->path,
						n < 0 ? strerror(errno) : "no space written");
		p += n;
		len -= (size_t)n;
	}
	return SWI_OK;
}

int swi_script_close(struct swi_target *t)
{
	struct swi_script *s = swi_target_state(t);
	int rc = SWI_OK;
	if (fsync(s->fd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", s->path, strerror(errno));
	if (close(s->fd) < 0 && rc == SWI_OK)
		rc = swi_target_error(t, SWI_EIO, "%s: close failed: %s", s->path, strerror(errno));
	s->fd = -1;
	return rc;
}

/* Also after a failed open: the path is set once a file may exist. */
void swi_script_abort(struct swi_target *t)
{
	struct swi_script *s = swi_target_state(t);
	if (!s->path[0])
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	unlink(s->path);
	s->path[0] = '\0';
}

const char *swi_script_phase_name(enum swi_phase phase)
{
	switch (phase) {
	case SWI_PHASE_BEFORE: return "preinst";
	case SWI_PHASE_AFTER: return "postinst";
	case SWI_PHASE_FAILURE: return "postfailure";
	}
	return NULL;
}

/* The words of "data", or NULL for none; *words is one allocation. */
static int data_words(struct swi_target *t, char ***words)
{
	const char *data = swi_target_attr(t, "data");
	*words = NULL;
	if (!data || !data[strspn(data, " \t\n\r\f\v")])
		return SWI_OK;
	return swi_split_command(t->ctx, data, words);
}

static int run_argv(struct swi_target *t, const char *const argv[], const char *phase)
{
	struct swi_script *s = swi_target_state(t);
	char what[SWI_PLACE_MAX];
	snprintf(what, sizeof(what), "%s %s (%s)", t->handler->name, swi_target_member(t), phase);
	char *tmpdir = NULL;
	if (asprintf(&tmpdir, "TMPDIR=%s", swi_opt_tmpdir(t->ctx)) < 0)
		return swi_target_error(t, SWI_ENOMEM, "out of memory");
	const char *env[] = { tmpdir, NULL };
	swi_log(t->ctx, SWI_LOG_INFO, "running %s: %s", what, s->path);
	int rc = swi_target_run(t, what, argv, env);
	free(tmpdir);
	return rc;
}

int swi_script_ready(struct swi_target *t, enum swi_phase phase, const char **phase_text)
{
	struct swi_script *s = swi_target_state(t);
	*phase_text = swi_script_phase_name(phase);
	if (!*phase_text)
		return swi_target_error(t, SWI_EINVAL, "no phase %d", (int)phase);
	if (!(SWI_HANDLER_GET(t->handler, phases, 0u) & phase))
		return swi_target_error(t, SWI_EINVAL, "handler '%s' does not run in %s",
					t->handler->name, *phase_text);
	if (!s->path[0] || s->fd >= 0)
		return swi_target_error(t, SWI_EINVAL, "the script was not written before it runs");
	return SWI_OK;
}

int swi_script_run(struct swi_target *t, enum swi_phase phase, bool with_phase)
{
	const char *phase_text;
	int rc = swi_script_ready(t, phase, &phase_text);
	if (rc)
		return rc;
	char **data;
	rc = data_words(t, &data);
	if (rc)
		return rc;
	size_t ndata = 0;
	while (data && data[ndata])
		ndata++;
	const char **argv = calloc(ndata + 3, sizeof(*argv));
	if (!argv) {
		free(data);
		return swi_target_error(t, SWI_ENOMEM, "out of memory");
	}
	size_t n = 0;
	argv[n++] = ((struct swi_script *)swi_target_state(t))->path;
	if (with_phase)
		argv[n++] = phase_text;
	for (size_t i = 0; i < ndata; i++)
		argv[n++] = data[i];
	rc = run_argv(t, argv, phase_text);
	free(argv);
	free(data);
	return rc;
}
