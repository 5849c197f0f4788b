/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bootloader "grub": the GRUB environment block, a file (option grubenv) as
 * grub-editenv and GRUB's load_env/save_env know it: exactly 1024 bytes,
 * "# GRUB Environment Block\n", then "name=value\n" lines (and "#" comment
 * lines, e.g. the WARNING line grub-editenv 2.06 writes), the rest "#" fill.
 * In a value a backslash and a newline are written with a backslash before
 * them; reading, a backslash takes the next byte literally (as GRUB does).
 *
 * Written by hand: no library reads or writes this format (GRUB's own code
 * lives inside grub-editenv, and shelling out to grub-editenv would neither
 * validate the block nor write it atomically; grub-editenv rewrites the
 * file in place).
 *
 * Every get and apply re-reads the file, so a change made by grub-editenv in
 * the meantime is seen and kept. An apply writes a temporary file next to
 * the block, fsyncs it, renames it over the block, fsyncs it again (vfat
 * writes the renamed file's directory entry only so) and the directory:
 * after a power cut the old or the new block is there, never a torn one.
 * A corrupt block is refused and left alone rather than rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bootenv.h"
#include "staging.h"

#define GRUBENV_SIZE 1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"

/* One line of the block: a comment kept verbatim, or a variable. */
struct grub_line {
	char *name;  /* NULL for a comment line */
	char *text;  /* the comment (without '\n'), or the unescaped value */
};

struct grub_block {
	struct grub_line *lines;
	size_t count;
	mode_t mode;  /* of the file, given to the replacement */
};

struct grub_env {
	char *path;
};

static void block_free(struct grub_block *blk)
{
	for (size_t i = 0; i < blk->count; i++) {
		free(blk->lines[i].name);
		free(blk->lines[i].text);
	}
	free(blk->lines);
	blk->lines = NULL;
	blk->count = 0;
}

/* Takes ownership of name and text (freed on failure, as is a failed
 * strdup of either: a variable's name is never NULL). */
static int block_append(struct grub_block *blk, int is_var, char *name, char *text)
{
	struct grub_line *lines = realloc(blk->lines, (blk->count + 1) * sizeof(*lines));
	if (!lines || !text || (is_var && !name)) {
		if (lines)
			blk->lines = lines;
		free(name);
		free(text);
		return SWI_ENOMEM;
	}
	blk->lines = lines;
	blk->lines[blk->count++] = (struct grub_line){ name, text };
	return SWI_OK;
}

static int not_a_block(swi_ctx_t *ctx, const char *path, const char *reason, size_t line)
{
	if (line)
		return swi_fail(ctx, SWI_EIO, "%s: not a GRUB environment block (line %zu %s)", path,
				line, reason);
	return swi_fail(ctx, SWI_EIO, "%s: not a GRUB environment block (%s)", path, reason);
}

static size_t line_number(const char *buf, size_t pos)
{
	size_t n = 1;
	for (size_t i = 0; i < pos; i++)
		n += buf[i] == '\n';
	return n;
}

/* The value starting at buf[*pos], unescaped; *pos ends past its '\n'.
 * Returns NULL when no unescaped '\n' comes before end (or on ENOMEM,
 * told apart by *unterminated). */
static char *parse_value(const char *buf, size_t end, size_t *pos, int *unterminated)
{
	char *value = malloc(end - *pos + 1);
	size_t len = 0, i = *pos;
	*unterminated = 0;
	if (!value)
		return NULL;
	while (i < end && buf[i] != '\n') {
		if (buf[i] == '\\' && ++i == end)
			break;
		value[len++] = buf[i++];
	}
	if (i == end) {
		*unterminated = 1;
		free(value);
		return NULL;
	}
	value[len] = '\0';
	*pos = i + 1;
	return value;
}

/* One line at buf[*pos] (the content ends with '\n' before end). */
static int parse_line(swi_ctx_t *ctx, const char *path, const char *buf, size_t end, size_t *pos,
		      struct grub_block *blk)
{
	size_t start = *pos;
	const char *eol = memchr(buf + start, '\n', end - start);
	if (buf[start] == '#') {
		*pos = (size_t)(eol - buf) + 1;
		if (block_append(blk, 0, NULL, strndup(buf + start, (size_t)(eol - buf) - start)))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
		return SWI_OK;
	}
	const char *eq = memchr(buf + start, '=', (size_t)(eol - buf) - start);
	if (!eq)
		return not_a_block(ctx, path, "has no '='", line_number(buf, start));
	if (eq == buf + start)
		return not_a_block(ctx, path, "has an empty name", line_number(buf, start));
	*pos = (size_t)(eq - buf) + 1;
	int unterminated;
	char *value = parse_value(buf, end, pos, &unterminated);
	if (unterminated)
		return not_a_block(ctx, path, "has no line end (truncated?)", line_number(buf, start));
	if (!value || block_append(blk, 1, strndup(buf + start, (size_t)(eq - buf) - start), value))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

static int parse_block(swi_ctx_t *ctx, const char *path, const char *buf, struct grub_block *blk)
{
	size_t header_len = strlen(GRUBENV_HEADER);
	if (memcmp(buf, GRUBENV_HEADER, header_len) != 0)
		return not_a_block(ctx, path, "no '# GRUB Environment Block' header", 0);
	const char *nul = memchr(buf, '\0', GRUBENV_SIZE);
	if (nul)
		return not_a_block(ctx, path, "holds a NUL byte", line_number(buf, (size_t)(nul - buf)));
	/* The lines end at the last '\n' before the trailing '#' fill, where
	 * GRUB's own writer looks for the free space. */
	size_t end = GRUBENV_SIZE;
	while (buf[end - 1] == '#')
		end--;
	if (buf[end - 1] != '\n')
		return not_a_block(ctx, path, "has no line end before the '#' fill (truncated?)",
				   line_number(buf, end - 1));
	for (size_t pos = 0; pos < end;) {
		int rc = parse_line(ctx, path, buf, end, &pos, blk);
		if (rc) {
			block_free(blk);
			return rc;
		}
	}
	return SWI_OK;
}

static int read_fully(int fd, char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0; /* the file shrank under us */
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int read_block(swi_ctx_t *ctx, const char *path, struct grub_block *blk)
{
	*blk = (struct grub_block){ 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return swi_fail(ctx, SWI_ECONFIG,
				"%s: GRUB environment block missing (make it with 'grub-editenv %s create')",
				path, path);
	if (fd < 0)
		return swi_fail(ctx, SWI_EIO, "%s: cannot open the GRUB environment block: %s", path,
				strerror(errno));
	struct stat st;
	char buf[GRUBENV_SIZE];
	int rc = SWI_OK;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = not_a_block(ctx, path, "not a regular file", 0);
	else if (st.st_size != GRUBENV_SIZE)
		rc = swi_fail(ctx, SWI_EIO, "%s: not a GRUB environment block (%lld bytes, not %d)",
			      path, (long long)st.st_size, GRUBENV_SIZE);
	else if (read_fully(fd, buf, sizeof(buf)) < 0)
		rc = swi_fail(ctx, SWI_EIO, "%s: cannot read the GRUB environment block: %s", path,
			      errno ? strerror(errno) : "short read");
	close(fd);
	if (rc)
		return rc;
	blk->mode = st.st_mode & 07777;
	return parse_block(ctx, path, buf, blk);
}

static struct grub_line *find_var(struct grub_block *blk, const char *name)
{
	for (size_t i = 0; i < blk->count; i++)
		if (blk->lines[i].name && strcmp(blk->lines[i].name, name) == 0)
			return &blk->lines[i];
	return NULL;
}

/* Sets (keeping its place) or appends name; a NULL or "" value removes it. */
static int block_set(struct grub_block *blk, const char *name, const char *value)
{
	struct grub_line *line = find_var(blk, name);
	if (!value || !value[0]) {
		if (line) {
			free(line->name);
			free(line->text);
			size_t i = (size_t)(line - blk->lines);
			memmove(line, line + 1, (blk->count - i - 1) * sizeof(*line));
			blk->count--;
		}
		return SWI_OK;
	}
	if (!line)
		return block_append(blk, 1, strdup(name), strdup(value));
	char *copy = strdup(value);
	if (!copy)
		return SWI_ENOMEM;
	free(line->text);
	line->text = copy;
	return SWI_OK;
}

/* Names GRUB could not read back: "=" ends a name, a '\n' ends the line,
 * a leading '#' makes a comment. */
static int valid_name(const char *name)
{
	return name[0] && name[0] != '#' && !strpbrk(name, "=\n");
}

/* Appends s to out (up to GRUBENV_SIZE), escaping when asked; returns the
 * bytes it takes, written or not, so an overflow can be measured. */
static size_t put(char *out, size_t used, const char *s, int escape)
{
	size_t n = 0;
	for (; *s; s++) {
		if (escape && (*s == '\\' || *s == '\n')) {
			if (used + n < GRUBENV_SIZE)
				out[used + n] = '\\';
			n++;
		}
		if (used + n < GRUBENV_SIZE)
			out[used + n] = *s;
		n++;
	}
	return n;
}

/* The 1024-byte image of blk into out; returns the bytes its lines need. */
static size_t serialize(const struct grub_block *blk, char out[GRUBENV_SIZE])
{
	memset(out, '#', GRUBENV_SIZE);
	size_t used = 0;
	for (size_t i = 0; i < blk->count; i++) {
		const struct grub_line *line = &blk->lines[i];
		if (line->name) {
			used += put(out, used, line->name, 0);
			used += put(out, used, "=", 0);
		}
		used += put(out, used, line->text, line->name != NULL);
		used += put(out, used, "\n", 0);
	}
	return used;
}

static int write_fully(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return swi_sync_dir(dir);
}

/* Replaces path by image: temporary file in the same directory (so rename()
 * is atomic), its data on disk before the rename, the rename on disk after. */
static int replace_file(swi_ctx_t *ctx, const char *path, const char *image, mode_t mode)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.swi-XXXXXX", path) >= (int)sizeof(tmp))
		return swi_fail(ctx, SWI_EIO, "%s: path too long", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return swi_fail(ctx, SWI_EIO, "%s: cannot create a temporary file next to it: %s",
				path, strerror(errno));
	const char *step = NULL;
	if (fchmod(fd, mode) < 0)
		step = "set the mode of";
	else if (write_fully(fd, image, GRUBENV_SIZE) < 0)
		step = "write";
	else if (fsync(fd) < 0)
		step = "sync";
	else if (rename(tmp, path) < 0)
		step = "rename over the block";
	/* The file is synced once more after the rename: on vfat (an EFI
	 * system partition) the directory entry the file moved into is written
	 * with the file, not with its directory, while the old block's clusters
	 * are freed in the FAT at once; without this sync a power cut leaves
	 * the name pointing at freed clusters. */
	else if (fsync(fd) < 0)
		step = "sync the renamed";
	int saved = errno;
	if (close(fd) < 0 && !step) {
		step = "write";
		saved = errno;
	}
	if (step) {
		unlink(tmp);
		return swi_fail(ctx, SWI_EIO, "%s: cannot %s the new GRUB environment block: %s",
				path, step, strerror(saved));
	}
	if (sync_dir_of(path) < 0)
		return swi_fail(ctx, SWI_EIO, "%s: GRUB environment written but its directory not synced: %s",
				path, strerror(errno));
	return SWI_OK;
}

static void grub_close(void *state)
{
	struct grub_env *env = state;
	if (!env)
		return;
	free(env->path);
	free(env);
}

static int grub_open(swi_ctx_t *ctx, void **state)
{
	struct grub_env *env = calloc(1, sizeof(*env));
	if (!env || !(env->path = strdup(swi_opt_grubenv(ctx)))) {
		free(env);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	/* Read once now, so a missing or corrupt block is reported before
	 * anything on the device changes. */
	struct grub_block blk;
	int rc = read_block(ctx, env->path, &blk);
	block_free(&blk);
	if (rc) {
		grub_close(env);
		return rc;
	}
	*state = env;
	return SWI_OK;
}

static int grub_get(swi_ctx_t *ctx, void *state, const char *name, char **value)
{
	struct grub_env *env = state;
	struct grub_block blk;
	int rc = read_block(ctx, env->path, &blk);
	if (rc)
		return rc;
	const struct grub_line *line = find_var(&blk, name);
	if (line && !(*value = strdup(line->text)))
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	block_free(&blk);
	return rc;
}

static int apply_vars(swi_ctx_t *ctx, const char *path, struct grub_block *blk,
		      const struct swi_attrs *vars)
{
	for (size_t i = 0; i < vars->count; i++) {
		const struct swi_attr *v = &vars->items[i];
		if (!valid_name(v->name))
			return swi_fail(ctx, SWI_EINVAL,
					"%s: cannot set GRUB variable '%s': a name must be non-empty, not start with '#' and hold no '=' or line end",
					path, v->name);
		if (block_set(blk, v->name, v->value))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	return SWI_OK;
}

static int grub_apply(swi_ctx_t *ctx, void *state, const struct swi_attrs *vars)
{
	struct grub_env *env = state;
	/* A symbolic link (e.g. to a block on the EFI partition) is followed, so
	 * the rename replaces its target and the link stays. */
	char *target = NULL;
	struct grub_block blk;
	int rc = read_block(ctx, env->path, &blk);
	if (rc == SWI_OK && !(target = realpath(env->path, NULL)))
		rc = swi_fail(ctx, SWI_EIO, "%s: %s", env->path, strerror(errno));
	if (rc == SWI_OK)
		rc = apply_vars(ctx, env->path, &blk, vars);
	if (rc == SWI_OK) {
		char image[GRUBENV_SIZE];
		size_t need = serialize(&blk, image);
		if (need > GRUBENV_SIZE)
			rc = swi_fail(ctx, SWI_EIO, "%s: variables need %zu bytes, the block holds %d",
				      env->path, need, GRUBENV_SIZE);
		else
			rc = replace_file(ctx, target, image, blk.mode);
	}
	block_free(&blk);
	free(target);
	return rc;
}

const struct swi_bootenv_backend swi_bootenv_grub = {
	.name = "grub",
	.open = grub_open,
	.get = grub_get,
	.apply = grub_apply,
	.close = grub_close,
};
