/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image sources: the save-to copy (lib/source.c) and what swi_install_url()
 * (lib/source_url.c) decides before any server answers. Downloads from a
 * real server are tested by test/integration/test_url.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "swinstall.h"
#include "testutil.h"

static int setup(void **state)
{
	return dir_fixture_setup(state, "swi-source", "kept.swu");
}

static int teardown(void **state)
{
	return dir_fixture_teardown(state);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* DIR/image.swu: an unsigned image whose one entry writes /dev/null, in
 * a cpio archive padded to 512 bytes after its trailer. */
static void make_image(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf 'payload' > p.bin && "
		 "printf 'software = { version = \"1.0\"; images = ( { filename = \"p.bin\"; "
		 "type = \"raw\"; device = \"/dev/null\"; sha256 = \"%%s\"; } ); };' "
		 "\"$(sha256sum p.bin | cut -c1-64)\" > sw-description && "
		 "printf 'sw-description\\np.bin\\n' | cpio -o -H crc --quiet > image.swu",
		 dir);
	assert_int_equal(system(cmd), 0);
}

static bool same_files(const char *a, const char *b)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", a, b);
	return system(cmd) == 0;
}

/* Hands out 100 bytes at a time, on the caller's thread: the install stops
 * reading at the archive's trailer, and the copy reads the padding. */
static ssize_t small_reads(void *user, void *buf, size_t len)
{
	return read(*(int *)user, buf, len < 100 ? len : 100);
}

static void save_to_keeps_the_whole_image(void **state)
{
	struct dir_fixture *fx = *state;
	char image[128];
	make_image(fx->dir);
	snprintf(image, sizeof(image), "%s/image.swu", fx->dir);
	assert_int_equal(swi_set_option(fx->ctx, "insecure", "1"), SWI_OK);
	assert_int_equal(swi_set_option(fx->ctx, "check", "1"), SWI_OK);
	assert_int_equal(swi_set_option(fx->ctx, "save-to", fx->path), SWI_OK);
	int fd = open(image, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(swi_install_read(fx->ctx, small_reads, &fd), SWI_OK);
	close(fd);
	assert_true(same_files(image, fx->path));
	unlink(fx->path);
	/* From a file, read ahead on the library's thread. */
	assert_int_equal(swi_install_file(fx->ctx, image), SWI_OK);
	assert_true(same_files(image, fx->path));
}

static void a_failed_install_keeps_no_copy(void **state)
{
	struct dir_fixture *fx = *state;
	char image[128], part[160];
	snprintf(image, sizeof(image), "%s/image.swu", fx->dir);
	snprintf(part, sizeof(part), "%s.part", fx->path);
	FILE *f = fopen(image, "w");
	assert_non_null(f);
	fputs("this is no cpio archive, not even close to one: 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789", f);
	fclose(f);
	assert_int_equal(swi_set_option(fx->ctx, "save-to", fx->path), SWI_OK);
	assert_int_equal(swi_install_file(fx->ctx, image), SWI_EFORMAT);
	assert_false(exists(fx->path));
	assert_false(exists(part));
}

static void save_to_a_directory_that_is_missing_is_refused(void **state)
{
	struct dir_fixture *fx = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/no/such/dir/kept.swu", fx->dir);
	assert_int_equal(swi_set_option(fx->ctx, "save-to", path), SWI_OK);
	assert_int_equal(swi_install_file(fx->ctx, "/dev/null"), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "kept.swu.part"));
}

static void only_http_and_https_urls_are_taken(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_info info;
	assert_int_equal(swi_install_url(fx->ctx, "ftp://example.org/image.swu"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "ftp://example.org/image.swu"));
	assert_int_equal(swi_install_url(fx->ctx, "/tmp/image.swu"), SWI_EINVAL);
	assert_int_equal(swi_install_url(fx->ctx, NULL), SWI_EINVAL);
	assert_int_equal(swi_install_url(NULL, "http://example.org/"), SWI_EINVAL);
	assert_int_equal(swi_info_url(fx->ctx, "file:///etc/passwd", &info), SWI_EINVAL);
	swi_info_free(&info);
}

static void url_options_are_checked(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "url-timeout", "0"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "url-timeout"));
	assert_int_equal(swi_set_option(fx->ctx, "url-timeout", "soon"), SWI_EINVAL);
	assert_int_equal(swi_set_option(fx->ctx, "url-timeout", "30"), SWI_OK);
	assert_int_equal(swi_set_option(fx->ctx, "url-retries", "-1"), SWI_EINVAL);
	assert_int_equal(swi_set_option(fx->ctx, "url-retries", "forever"), SWI_EINVAL);
	assert_int_equal(swi_set_option(fx->ctx, "url-retries", "0"), SWI_OK);
	assert_int_equal(swi_set_option(fx->ctx, "url-ca-file", "/etc/ssl/ca.pem"), SWI_OK);
	assert_string_equal(swi_get_option(fx->ctx, "url-ca-file"), "/etc/ssl/ca.pem");
}

/* A port of 127.0.0.1 where nobody listens (bound, then let go). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void a_server_that_is_not_there_fails_after_the_retries(void **state)
{
	struct dir_fixture *fx = *state;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/image.swu", closed_port());
	assert_int_equal(swi_set_option(fx->ctx, "url-retries", "1"), SWI_OK);
	assert_int_equal(swi_install_url(fx->ctx, url), SWI_EIO);
	const char *msg = swi_errmsg(fx->ctx);
	assert_non_null(strstr(msg, url));
	assert_non_null(strstr(msg, "gave up after 2 attempts"));
}

/* A cancel that came first stops the download before it connects. */
static void a_cancelled_download_stops_at_once(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(swi_cancel(fx->ctx), SWI_OK);
	assert_int_equal(swi_install_url(fx->ctx, "http://192.0.2.1/image.swu"), SWI_ECANCELED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(save_to_keeps_the_whole_image, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_install_keeps_no_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(save_to_a_directory_that_is_missing_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(only_http_and_https_urls_are_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(url_options_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(a_server_that_is_not_there_fails_after_the_retries,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_cancelled_download_stops_at_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
