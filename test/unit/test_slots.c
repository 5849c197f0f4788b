/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/slots.c. A simulated device lives in a mkdtemp
 * directory: slot files A and B, a kernel command line file and a mount
 * table file written by each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "context.h"
#include "slots.h"
#include "testutil.h"

struct fixture {
	char dir[64];
	char a[128], b[128];           /* slot devices (plain files) */
	char cmdline[128], mountinfo[128];
	swi_ctx_t *ctx;
	struct swi_slots slots;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	strcpy(fx->dir, "/tmp/test_slots.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->a, sizeof(fx->a), "%s/A", fx->dir);
	snprintf(fx->b, sizeof(fx->b), "%s/B", fx->dir);
	snprintf(fx->cmdline, sizeof(fx->cmdline), "%s/cmdline", fx->dir);
	snprintf(fx->mountinfo, sizeof(fx->mountinfo), "%s/mountinfo", fx->dir);
	write_file(fx->a, "slot A");
	write_file(fx->b, "slot B");
	write_file(fx->cmdline, "console=ttyS0 quiet\n");
	write_file(fx->mountinfo, "22 27 0:21 / /proc rw,relatime - proc proc rw\n");
	return swi_ctx_new(&fx->ctx);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = remove_tree(fx->dir);
	swi_slots_free(&fx->slots);
	swi_ctx_free(fx->ctx);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/* Parses text's `slots` setting (as from file "test.conf") into fx->slots. */
static int parse(struct fixture *fx, const char *text)
{
	config_t cfg;
	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg, text), CONFIG_TRUE);
	const config_setting_t *list = config_lookup(&cfg, "slots");
	assert_non_null(list);
	swi_slots_free(&fx->slots);
	int rc = swi_slots_parse(fx->ctx, list, "test.conf", &fx->slots);
	config_destroy(&cfg);
	return rc;
}

/* The usual A/B configuration over fx's slot files. */
static void parse_ab(struct fixture *fx)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "slots = (\n"
		 "  { name = \"A\"; device = \"%s\"; select = \"stable,copy1\";\n"
		 "    bootenv = { rootpart = \"2\"; }; },\n"
		 "  { name = \"B\"; device = \"%s\"; select = \"stable,copy2\";\n"
		 "    bootenv = { rootpart = 3; }; }\n"
		 ");\n",
		 fx->a, fx->b);
	assert_int_equal(parse(fx, text), SWI_OK);
}

static void assert_bad_config(struct fixture *fx, const char *text, const char *message)
{
	assert_int_equal(parse(fx, text), SWI_ECONFIG);
	assert_string_equal(swi_errmsg(fx->ctx), message);
	assert_int_equal(fx->slots.count, 0);
	assert_null(fx->slots.items);
}

/* The running slot's name and how it was found; NULL name on failure. */
static int running(struct fixture *fx, const char **name, const char **how)
{
	const struct swi_slot *slot = (const void *)1;
	*how = "unset";
	int rc = swi_slots_running(fx->ctx, &fx->slots, fx->cmdline, fx->mountinfo, &slot, how);
	*name = slot ? slot->name : NULL;
	return rc;
}

static void assert_running(struct fixture *fx, const char *name, const char *how)
{
	const char *got, *got_how;
	assert_int_equal(running(fx, &got, &got_how), SWI_OK);
	assert_non_null(got);
	assert_string_equal(got, name);
	assert_string_equal(got_how, how);
}

/* A mountinfo line mounting source at mount_point ("\040" escapes allowed). */
static void mount_line(char *buf, size_t size, const char *devnum, const char *mount_point,
		       const char *source)
{
	snprintf(buf, size, "36 35 %s / %s rw,noatime master:1 - ext4 %s rw,errors=continue\n",
		 devnum, mount_point, source);
}

/* ---- configuration ------------------------------------------------------ */

static void parse_good(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	assert_int_equal(fx->slots.count, 2);
	const struct swi_slot *a = swi_slots_find(&fx->slots, "A");
	const struct swi_slot *b = swi_slots_find(&fx->slots, "B");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->device, fx->a);
	assert_string_equal(a->select, "stable,copy1");
	assert_string_equal(swi_attrs_get(&a->bootenv, "rootpart"), "2");
	assert_string_equal(b->select, "stable,copy2");
	assert_string_equal(swi_attrs_get(&b->bootenv, "rootpart"), "3"); /* from an integer */
	assert_null(swi_slots_find(&fx->slots, "C"));
}

static void parse_without_bootenv(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(parse(fx, "slots = ({ name = \"A\"; device = \"/dev/a\"; "
				   "select = \"s,m\"; });"),
			 SWI_OK);
	assert_int_equal(fx->slots.count, 1);
	assert_int_equal(fx->slots.items[0].bootenv.count, 0);
}

static void parse_missing_device(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\"; },\n"
			  "  { name = \"B\"; select = \"s,2\"; }\n"
			  ");\n",
			  "test.conf:3: slot 'B' has no 'device'");
}

static void parse_duplicate_name(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\"; },\n"
			  "  { name = \"A\"; device = \"/dev/b\"; select = \"s,2\"; }\n"
			  ");\n",
			  "test.conf:3: slot name 'A' is used twice");
}

static void parse_duplicate_device(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\"; },\n"
			  "  { name = \"B\"; device = \"/dev/a\"; select = \"s,2\"; }\n"
			  ");\n",
			  "test.conf:3: device '/dev/a' belongs to slots 'A' and 'B'");
}

static void parse_bootenv_not_group(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\";\n"
			  "    bootenv = \"rootpart=2\"; }\n"
			  ");\n",
			  "test.conf:3: slot's 'bootenv' must be a group of name = \"value\"");
}

static void parse_bootenv_bad_value(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\";\n"
			  "    bootenv = { rootpart = true; }; }\n"
			  ");\n",
			  "test.conf:3: bootenv variable 'rootpart' must be a string or an integer");
}

static void parse_slots_not_list(void **state)
{
	assert_bad_config(*state, "\nslots = { name = \"A\"; };\n",
			  "test.conf:2: 'slots' must be a list ( { ... }, { ... } )");
	assert_bad_config(*state, "slots = [ \"A\", \"B\" ];\n",
			  "test.conf:1: 'slots' must be a list ( { ... }, { ... } )");
}

static void parse_slot_not_group(void **state)
{
	assert_bad_config(*state, "slots = (\n  \"A\", \"B\"\n);\n",
			  "test.conf:2: a slot must be a group { name = ...; device = ...; }");
}

static void parse_unknown_member(void **state)
{
	assert_bad_config(*state,
			  "slots = (\n"
			  "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\";\n"
			  "    boot_env = { rootpart = \"2\"; }; }\n"
			  ");\n",
			  "test.conf:3: unknown slot setting 'boot_env'");
}

static void parse_bad_strings(void **state)
{
	assert_bad_config(*state, "slots = ({ name = 1; device = \"/dev/a\"; select = \"s,1\"; });",
			  "test.conf:1: slot's 'name' must be a non-empty string");
	assert_bad_config(*state, "slots = ({ name = \"\"; device = \"/dev/a\"; select = \"s,1\"; });",
			  "test.conf:1: slot's 'name' must be a non-empty string");
	assert_bad_config(*state, "slots = ({ name = \"A\"; device = \"/dev/a\"; });",
			  "test.conf:1: slot 'A' has no 'select'");
	assert_bad_config(*state, "slots = ({ name = \"A\"; device = \"/dev/a\";\n select = \"s\"; });",
			  "test.conf:2: slot 'A': 'select' must be \"SET,MODE\", not 's'");
}

/* ---- the running slot --------------------------------------------------- */

static void running_from_swinstall_slot(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	write_file(fx->cmdline, "console=ttyS0 swinstall.slot=B quiet\n");
	assert_running(fx, "B", "kernel command line swinstall.slot");
}

static void running_from_rauc_slot(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	write_file(fx->cmdline, "rauc.slot=A\n");
	assert_running(fx, "A", "kernel command line rauc.slot");
	/* swinstall's own parameter wins over RAUC's. */
	write_file(fx->cmdline, "swinstall.slot=B rauc.slot=A\n");
	assert_running(fx, "B", "kernel command line swinstall.slot");
}

static void running_from_quoted_args(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	/* A quoted value hides what looks like a parameter inside it. */
	write_file(fx->cmdline, "dyndbg=\"file x.c swinstall.slot=A\" swinstall.slot=\"B\"\n");
	assert_running(fx, "B", "kernel command line swinstall.slot");
	write_file(fx->cmdline, "quiet \"rauc.slot=A\"");
	assert_running(fx, "A", "kernel command line rauc.slot");
	/* The last occurrence counts, as with the kernel. */
	write_file(fx->cmdline, "swinstall.slot=A swinstall.slot=B");
	assert_running(fx, "B", "kernel command line swinstall.slot");
}

static void running_ignores_init_args(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char text[256];
	snprintf(text, sizeof(text), "root=%s -- swinstall.slot=B\n", fx->a);
	write_file(fx->cmdline, text);
	assert_running(fx, "A", "kernel command line root=");
}

static void running_from_root_path(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char text[256];
	snprintf(text, sizeof(text), "console=ttyS0 root=%s rootwait\n", fx->b);
	write_file(fx->cmdline, text);
	assert_running(fx, "B", "kernel command line root=");
}

static void running_from_root_symlink(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char link[160], text[256];
	snprintf(link, sizeof(link), "%s/by-partuuid-like", fx->dir);
	assert_int_equal(symlink(fx->a, link), 0);
	snprintf(text, sizeof(text), "root=%s\n", link);
	write_file(fx->cmdline, text);
	assert_running(fx, "A", "kernel command line root=");
}

static void running_from_mountinfo(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char line[512], text[1024];
	mount_line(line, sizeof(line), "98:0", "/", fx->a);
	snprintf(text, sizeof(text), "22 27 0:21 / /proc rw - proc proc rw\n%s", line);
	write_file(fx->mountinfo, text);
	assert_running(fx, "A", "mountinfo");
}

static void running_from_shadowing_mount(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char first[512], second[512], text[1200];
	mount_line(first, sizeof(first), "98:0", "/", fx->a);
	mount_line(second, sizeof(second), "98:1", "/", fx->b);
	snprintf(text, sizeof(text), "%s22 27 0:21 / /proc rw - proc proc rw\n%s", first, second);
	write_file(fx->mountinfo, text);
	assert_running(fx, "B", "mountinfo");
}

static void running_unmatched_root_falls_back(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char line[512];
	write_file(fx->cmdline, "root=/dev/nonexistent-disk root=PARTUUID=0000-01 root=250:77\n");
	mount_line(line, sizeof(line), "98:0", "/", fx->b);
	write_file(fx->mountinfo, line);
	assert_running(fx, "B", "mountinfo");
}

static void running_precedence(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	char line[512], text[256];
	mount_line(line, sizeof(line), "98:0", "/", fx->b);
	write_file(fx->mountinfo, line);
	snprintf(text, sizeof(text), "root=%s swinstall.slot=B\n", fx->a);
	write_file(fx->cmdline, text);
	assert_running(fx, "B", "kernel command line swinstall.slot");
	snprintf(text, sizeof(text), "root=%s\n", fx->a);
	write_file(fx->cmdline, text);
	assert_running(fx, "A", "kernel command line root=");
}

static void running_unknown(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	write_file(fx->mountinfo, "1 0 0:30 / / rw - overlay overlay rw\n"
				  "22 27 0:21 / /proc rw - proc proc rw\n");
	const char *name, *how;
	assert_int_equal(running(fx, &name, &how), SWI_ECOMPAT);
	assert_null(name);
	assert_null(how);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "running slot unknown: "));
	assert_non_null(strstr(swi_errmsg(fx->ctx), "mounted from overlay"));
	/* No "/" line at all. */
	write_file(fx->mountinfo, "");
	assert_int_equal(running(fx, &name, &how), SWI_ECOMPAT);
}

static void running_named_slot_missing(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	write_file(fx->cmdline, "rauc.slot=C\n");
	const char *name, *how;
	assert_int_equal(running(fx, &name, &how), SWI_ECONFIG);
	assert_null(name);
	char want[256];
	snprintf(want, sizeof(want), "%s: rauc.slot=C names no configured slot", fx->cmdline);
	assert_string_equal(swi_errmsg(fx->ctx), want);
}

static void running_without_slots_or_files(void **state)
{
	struct fixture *fx = *state;
	const char *name, *how;
	assert_int_equal(running(fx, &name, &how), SWI_ECONFIG);
	assert_string_equal(swi_errmsg(fx->ctx), "running slot: no slots are configured");
	parse_ab(fx);
	unlink(fx->cmdline);
	assert_int_equal(running(fx, &name, &how), SWI_EIO);
	write_file(fx->cmdline, "");
	unlink(fx->mountinfo);
	assert_int_equal(running(fx, &name, &how), SWI_EIO);
	write_file(fx->mountinfo, "this is not mountinfo\n");
	assert_int_equal(running(fx, &name, &how), SWI_ECONFIG);
	char want[256];
	snprintf(want, sizeof(want), "%s:1: not a mountinfo line", fx->mountinfo);
	assert_string_equal(swi_errmsg(fx->ctx), want);
}

static void standby_is_the_other(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	const struct swi_slot *a = swi_slots_find(&fx->slots, "A");
	const struct swi_slot *b = swi_slots_find(&fx->slots, "B");
	assert_ptr_equal(swi_slots_standby(&fx->slots, a), b);
	assert_ptr_equal(swi_slots_standby(&fx->slots, b), a);
	assert_null(swi_slots_standby(&fx->slots, NULL));
	assert_int_equal(parse(fx, "slots = ({ name = \"A\"; device = \"/dev/a\"; "
				   "select = \"s,m\"; });"),
			 SWI_OK);
	assert_null(swi_slots_standby(&fx->slots, &fx->slots.items[0]));
}

/* ---- devices ------------------------------------------------------------ */

static void same_device(void **state)
{
	struct fixture *fx = *state;
	char link[160];
	snprintf(link, sizeof(link), "%s/link", fx->dir);
	assert_int_equal(symlink(fx->b, link), 0);
	assert_true(swi_same_device(fx->a, fx->a));
	assert_true(swi_same_device(link, fx->b));
	assert_false(swi_same_device(link, fx->a));
	assert_false(swi_same_device(fx->a, fx->b));
	assert_true(swi_same_device("/dev/null", "/dev/null"));
	assert_false(swi_same_device("/dev/null", "/dev/zero"));
	assert_false(swi_same_device("/dev/null", fx->a));
	/* Names that do not exist here compare as names. */
	assert_true(swi_same_device("/dev/no-such-disk1", "/dev/no-such-disk1"));
	assert_false(swi_same_device("/dev/no-such-disk1", "/dev/no-such-disk2"));
	assert_false(swi_same_device(fx->a, "/dev/no-such-disk1"));
	assert_false(swi_same_device(NULL, fx->a));
}

static void device_mounted(void **state)
{
	struct fixture *fx = *state;
	char spaced[160], escaped[200], line[512], text[1500];
	/* A slot file whose path holds a space, escaped by the kernel as \040. */
	snprintf(spaced, sizeof(spaced), "%s/slot C", fx->dir);
	snprintf(escaped, sizeof(escaped), "%s/slot\\040C", fx->dir);
	write_file(spaced, "slot C");
	mount_line(line, sizeof(line), "98:2", "/mnt/new\\040root", escaped);
	snprintf(text, sizeof(text),
		 "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
		 "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw\n"
		 "%s", line);
	write_file(fx->mountinfo, text);

	char *where = (char *)"unset";
	assert_int_equal(swi_device_mounted(fx->ctx, spaced, fx->mountinfo, &where), 1);
	assert_string_equal(where, "/mnt/new root");
	free(where);

	char link[160];
	snprintf(link, sizeof(link), "%s/link-to-c", fx->dir);
	assert_int_equal(symlink(spaced, link), 0);
	assert_int_equal(swi_device_mounted(fx->ctx, link, fx->mountinfo, NULL), 1);

	where = (char *)"unset";
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, &where), 0);
	assert_null(where);
	assert_int_equal(swi_device_mounted(fx->ctx, "tmpfs", fx->mountinfo, NULL), 0);
}

static void device_mounted_ignores_holding_filesystem(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	assert_int_equal(stat(fx->a, &st), 0);
	/* The file system that holds slot file A is mounted; A itself is not. */
	char line[512], devnum[32];
	snprintf(devnum, sizeof(devnum), "%u:%u", major(st.st_dev), minor(st.st_dev));
	mount_line(line, sizeof(line), devnum, "/tmp", "tmpfs");
	write_file(fx->mountinfo, line);
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, NULL), 0);
}

static void device_mounted_bad_table(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->mountinfo, "22 27 0:21 / /proc rw,relatime proc proc rw\n");
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, NULL), SWI_ECONFIG);
	write_file(fx->mountinfo, "22 27 zero / /proc rw - proc proc rw\n");
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, NULL), SWI_ECONFIG);
	write_file(fx->mountinfo, "22 27 0:21 / /proc rw -\n");
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, NULL), SWI_ECONFIG);
	unlink(fx->mountinfo);
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, fx->mountinfo, NULL), SWI_EIO);
	char want[256];
	snprintf(want, sizeof(want), "%s: No such file or directory", fx->mountinfo);
	assert_string_equal(swi_errmsg(fx->ctx), want);
}

/* Block devices are matched by number: root=MAJOR:MINOR and /dev/root. Needs
 * mknod (root); skipped without it. */
static void block_device_numbers(void **state)
{
	struct fixture *fx = *state;
	char node_a[160], node_b[160], alias[160], text[1024];
	snprintf(node_a, sizeof(node_a), "%s/blk-a", fx->dir);
	snprintf(node_b, sizeof(node_b), "%s/blk-b", fx->dir);
	snprintf(alias, sizeof(alias), "%s/blk-b-alias", fx->dir);
	if (mknod(node_a, S_IFBLK | 0600, makedev(250, 2)) != 0)
		skip();
	assert_int_equal(mknod(node_b, S_IFBLK | 0600, makedev(250, 3)), 0);
	assert_int_equal(mknod(alias, S_IFBLK | 0600, makedev(250, 3)), 0);
	assert_true(swi_same_device(node_b, alias));
	assert_false(swi_same_device(node_a, alias));
	snprintf(text, sizeof(text),
		 "slots = (\n"
		 "  { name = \"A\"; device = \"%s\"; select = \"s,1\"; },\n"
		 "  { name = \"B\"; device = \"%s\"; select = \"s,2\"; }\n"
		 ");\n",
		 node_a, node_b);
	assert_int_equal(parse(fx, text), SWI_OK);

	write_file(fx->cmdline, "root=250:3 rootwait\n");
	assert_running(fx, "B", "kernel command line root=");
	snprintf(text, sizeof(text), "root=%s\n", alias);
	write_file(fx->cmdline, text);
	assert_running(fx, "B", "kernel command line root=");

	write_file(fx->cmdline, "root=/dev/root\n");
	write_file(fx->mountinfo, "1 0 250:2 / / rw - ext4 /dev/root rw\n");
	assert_running(fx, "A", "mountinfo");

	char *where = NULL;
	assert_int_equal(swi_device_mounted(fx->ctx, node_a, fx->mountinfo, &where), 1);
	assert_string_equal(where, "/");
	free(where);
	assert_int_equal(swi_device_mounted(fx->ctx, alias, fx->mountinfo, NULL), 0);
}

static void real_mountinfo(void **state)
{
	struct fixture *fx = *state;
	char *where = NULL;
	assert_int_equal(swi_device_mounted(fx->ctx, fx->a, "/proc/self/mountinfo", &where), 0);
	assert_null(where);
	/* "/" is mounted on this machine; whatever from, it is not a slot file. */
	parse_ab(fx);
	const struct swi_slot *slot;
	const char *how;
	assert_int_equal(swi_slots_running(fx->ctx, &fx->slots, fx->cmdline,
					   "/proc/self/mountinfo", &slot, &how),
			 SWI_ECOMPAT);
	assert_null(strstr(swi_errmsg(fx->ctx), "from nothing"));
}

/* ---- the bootloader's choice -------------------------------------------- */

static void booting_next(void **state)
{
	struct fixture *fx = *state;
	parse_ab(fx);
	struct swi_attrs env = { 0 };
	assert_null(swi_slots_booting_next(&fx->slots, &env));
	assert_int_equal(swi_attrs_set(&env, "ustate", "0"), SWI_OK);
	assert_int_equal(swi_attrs_set(&env, "rootpart", "2"), SWI_OK);
	const struct swi_slot *next = swi_slots_booting_next(&fx->slots, &env);
	assert_non_null(next);
	assert_string_equal(next->name, "A");
	assert_int_equal(swi_attrs_set(&env, "rootpart", "3"), SWI_OK);
	next = swi_slots_booting_next(&fx->slots, &env);
	assert_non_null(next);
	assert_string_equal(next->name, "B");
	assert_int_equal(swi_attrs_set(&env, "rootpart", "4"), SWI_OK);
	assert_null(swi_slots_booting_next(&fx->slots, &env));
	swi_attrs_free(&env);
}

static void booting_next_needs_every_variable(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(parse(fx, "slots = (\n"
				   "  { name = \"A\"; device = \"/dev/a\"; select = \"s,1\";\n"
				   "    bootenv = { part = \"2\"; disk = \"0\"; }; },\n"
				   "  { name = \"B\"; device = \"/dev/b\"; select = \"s,2\";\n"
				   "    bootenv = { part = \"2\"; disk = \"1\"; }; },\n"
				   "  { name = \"R\"; device = \"/dev/r\"; select = \"s,r\"; }\n"
				   ");\n"),
			 SWI_OK);
	struct swi_attrs env = { 0 };
	assert_int_equal(swi_attrs_set(&env, "part", "2"), SWI_OK);
	/* A slot without bootenv is never "next", even by vacuous truth. */
	assert_null(swi_slots_booting_next(&fx->slots, &env));
	assert_int_equal(swi_attrs_set(&env, "disk", "1"), SWI_OK);
	const struct swi_slot *next = swi_slots_booting_next(&fx->slots, &env);
	assert_non_null(next);
	assert_string_equal(next->name, "B");
	swi_attrs_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(parse_good),
		T(parse_without_bootenv),
		T(parse_missing_device),
		T(parse_duplicate_name),
		T(parse_duplicate_device),
		T(parse_bootenv_not_group),
		T(parse_bootenv_bad_value),
		T(parse_slots_not_list),
		T(parse_slot_not_group),
		T(parse_unknown_member),
		T(parse_bad_strings),
		T(running_from_swinstall_slot),
		T(running_from_rauc_slot),
		T(running_from_quoted_args),
		T(running_ignores_init_args),
		T(running_from_root_path),
		T(running_from_root_symlink),
		T(running_from_mountinfo),
		T(running_from_shadowing_mount),
		T(running_unmatched_root_falls_back),
		T(running_precedence),
		T(running_unknown),
		T(running_named_slot_missing),
		T(running_without_slots_or_files),
		T(standby_is_the_other),
		T(same_device),
		T(device_mounted),
		T(device_mounted_ignores_holding_filesystem),
		T(device_mounted_bad_table),
		T(block_device_numbers),
		T(real_mountinfo),
		T(booting_next),
		T(booting_next_needs_every_variable),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
