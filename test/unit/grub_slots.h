/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fixture of the life-cycle tests: slots A and B (files), a GRUB
 * environment block made and read back with grub-editenv, the running slot
 * given on a simulated kernel command line. Include after testutil.h. */
#ifndef SWI_TEST_GRUB_SLOTS_H
#define SWI_TEST_GRUB_SLOTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swinstall.h>

struct fixture {
	char dir[64];
	char path[160];
	swi_ctx_t *ctx;
};

/* Runs fmt with dir and arg filled in; it must succeed. */
static inline void sh(const char *fmt, const char *dir, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, dir, arg ? arg : "");
	assert_int_equal(system(cmd), 0);
}

/* Writes dir/name; f->path names it after. */
static inline void write_in(struct fixture *f, const char *name, const char *text)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The environment's variables, as grub-editenv lists them, sorted, in one
 * line; valid until the next call. */
static inline char *env_list(struct fixture *f)
{
	static char out[1024];
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s/grubenv list | sort | tr '\\n' ' '", f->dir);
	char *text = command_output(cmd);
	snprintf(out, sizeof(out), "%s", text);
	free(text);
	return out;
}

static inline void set_env(struct fixture *f, const char *assignments)
{
	sh("grub-editenv %s/grubenv set %s", f->dir, assignments);
}

static inline void running(struct fixture *f, const char *slot)
{
	char line[64];
	snprintf(line, sizeof(line), "quiet swinstall.slot=%s\n", slot);
	write_in(f, "cmdline", line);
}

/* A new temporary directory with an empty grubenv, A running, and a
 * context configured with the slots (rootpart 2 and 3, selections
 * stable,copy1 and stable,copy2) and extra (more settings, or ""). */
static inline struct fixture *grub_slots_setup(const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-slots-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sh("cd %s && grub-editenv grubenv create", f->dir, NULL);
	write_in(f, "mountinfo", "");
	running(f, "A");
	char conf[2048];
	snprintf(conf, sizeof(conf),
		 "bootloader = \"grub\"; grubenv = \"%1$s/grubenv\";\n"
		 "cmdline-file = \"%1$s/cmdline\"; mountinfo-file = \"%1$s/mountinfo\";\n"
		 "hwrevision-file = \"%1$s/hwrevision\"; sw-versions-file = \"%1$s/sw-versions\";\n"
		 "lock-file = \"%1$s/lock\"; state-dir = \"%1$s/state\";\n"
		 "slots = (\n"
		 " { name = \"A\"; device = \"%1$s/slotA\"; select = \"stable,copy1\"; bootenv = { rootpart = \"2\"; }; },\n"
		 " { name = \"B\"; device = \"%1$s/slotB\"; select = \"stable,copy2\"; bootenv = { rootpart = \"3\"; }; }\n"
		 ");\n%2$s\n", f->dir, extra);
	write_in(f, "swinstall.conf", conf);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	assert_int_equal(swi_load_config(f->ctx, f->path), SWI_OK);
	return f;
}

static inline int grub_slots_teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(remove_tree(f->dir), 0);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

#endif
