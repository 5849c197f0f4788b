/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "raw", driven directly through a hand-made target
 * (handler_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "handler_fixture.h"

/* dev := the path of a slot of FILE_SIZE old bytes, made in the fixture's
 * directory (a regular file stands in for the block device). */
static void old_slot(const struct fixture *f, char *dev, size_t size)
{
	in_dir(f, "slot.img", dev, size);
	fill_file(dev, OLD_BYTE, FILE_SIZE);
}

static void raw_writes_at_offset(void **state, const char *offset, size_t at)
{
	struct fixture *f = *state;
	char dev[128];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, 5000, NULL, "device", dev, NULL);
	if (offset)
		set_attr(f, "offset", offset);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, 5000, 1024), SWI_OK);
	assert_released(f, t);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, at, OLD_BYTE);
	assert_bytes(buf, at, at + 5000, NEW_BYTE);
	assert_bytes(buf, at + 5000, FILE_SIZE, OLD_BYTE);
	free(buf);
}

static void raw_at_offset_zero(void **state)
{
	raw_writes_at_offset(state, NULL, 0);
}

static void raw_at_offset_8k(void **state)
{
	raw_writes_at_offset(state, "8K", 8192);
}

static void raw_at_hex_offset(void **state)
{
	raw_writes_at_offset(state, "0x3000", 0x3000);
}

static void raw_fills_target_exactly(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE - 8192, NULL, "device", dev,
				      "offset", "8K", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, FILE_SIZE - 8192, 4096), SWI_OK);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 8192, FILE_SIZE, NEW_BYTE);
	free(buf);
}

static void raw_check_refuses_offset_past_end(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, 1, "zlib", "device", dev,
				      "offset", "65K", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "member.img: offset 66560 is past the end of");
	assert_int_equal(t->handler->open(t), SWI_EIO);
	assert_released(f, t);
}

static void raw_check_refuses_too_large(void **state)
{
	struct fixture *f = *state;
	char dev[128], expected[200];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE - 8192 + 1, NULL,
				      "device", dev, "offset", "8K", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	snprintf(expected, sizeof(expected), "would write past the end of %s (size %d)", dev,
		 FILE_SIZE);
	assert_error_mentions(f, expected);
}

/* Encrypted: the stored size holds up to 16 bytes of padding. */
static void raw_check_allows_cipher_padding(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE + 16, NULL, "device", dev,
				      "encrypted", "true", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	t->stored_size = FILE_SIZE + 17;
	assert_int_equal(t->handler->check(t), SWI_EIO);
}

static void raw_write_refuses_past_end_when_compressed(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	old_slot(f, dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, 100, "zlib", "device", dev,
				      "offset", "60K", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, 4096 + 1, 4096), SWI_EIO);
	assert_error_mentions(f, "would write past the end of");
	assert_released(f, t);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, 60 * 1024, OLD_BYTE);
	free(buf);
}

static void raw_missing_device(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "absent.img", dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, "device", dev, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "No such file or directory");
	assert_error_mentions(f, dev);
	assert_int_equal(t->handler->open(t), SWI_EIO);
	assert_int_equal(access(dev, F_OK), -1); /* never created */
}

/* raw's attributes are refused at planning: no device, an offset that is
 * not a size, a path it cannot honour. */
static void raw_bad_attributes(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, NULL);
	assert_int_equal(swi_target_bind_attrs(t), SWI_EFORMAT);
	assert_error_mentions(f, "images[2] (member.img): handler 'raw' needs attribute 'device'");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "device", ""), SWI_OK);
	assert_int_equal(swi_target_bind_attrs(t), SWI_EFORMAT);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "device", "/dev/null"), SWI_OK);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "offset", "12Q"), SWI_OK);
	assert_int_equal(swi_target_bind_attrs(t), SWI_EFORMAT);
	assert_error_mentions(f, "attribute 'offset' is \"12Q\"; expected a size");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "offset", "1K"), SWI_OK);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", "/etc/x"), SWI_OK);
	assert_int_equal(swi_target_bind_attrs(t), SWI_EUNSUPPORTED);
	assert_error_mentions(f, "handler 'raw' cannot honour attribute 'path'");
}

static void raw_refuses_other_file_types(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, "device", "/dev/null", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "/dev/null is neither a block device nor a regular file");
	set_attr(f, "device", f->dir);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "neither a block device nor a regular file");
}

/* Attaches a loop device to path into dev; 0 when that is not possible
 * (not root, no loop support): the test is then skipped. */
static int attach_loop(const char *path, char *dev, size_t size)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return 0;
	int ok = fgets(dev, (int)size, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return 0;
	dev[strcspn(dev, "\n")] = '\0';
	return 1;
}

static void detach_loop(const char *dev)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	assert_int_equal(system(cmd), 0);
}

/* A block device's size comes from the kernel (BLKGETSIZE64). */
static void raw_block_device(void **state)
{
	struct fixture *f = *state;
	char backing[128], dev[64];
	in_dir(f, "disk.img", backing, sizeof(backing));
	fill_file(backing, OLD_BYTE, FILE_SIZE);
	if (!attach_loop(backing, dev, sizeof(dev)))
		skip();
	struct swi_target *t = target(f, &swi_handler_raw, 4097, NULL, "device", dev,
				      "offset", "60K", NULL);
	int too_large = t->handler->check(t);
	t->stored_size = 4096;
	int fits = t->handler->check(t);
	int installed = fits ? fits : install(t, 4096, 4096);
	detach_loop(dev);
	assert_int_equal(too_large, SWI_EIO);
	assert_int_equal(fits, SWI_OK);
	assert_int_equal(installed, SWI_OK);
	size_t size;
	unsigned char *buf = slurp(backing, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, 60 * 1024, OLD_BYTE);
	assert_bytes(buf, 60 * 1024, FILE_SIZE, NEW_BYTE);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(raw_at_offset_zero),
		T(raw_at_offset_8k),
		T(raw_at_hex_offset),
		T(raw_fills_target_exactly),
		T(raw_check_refuses_offset_past_end),
		T(raw_check_refuses_too_large),
		T(raw_check_allows_cipher_padding),
		T(raw_write_refuses_past_end_when_compressed),
		T(raw_missing_device),
		T(raw_bad_attributes),
		T(raw_refuses_other_file_types),
		T(raw_block_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
