/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image sources: an http:// or https:// URL, streamed with libcurl and
 * resumed with a Range request when the connection drops. Private. */
#ifndef SWI_SOURCE_URL_H
#define SWI_SOURCE_URL_H

#include <stdbool.h>
#include <sys/types.h>
#include "context.h"

struct swi_url_source;

/* True for the URLs swi_url_open() takes: http:// and https://. */
bool swi_is_url(const char *text);

/* Prepares the download of url with the url-* options of ctx; nothing is
 * sent before the first read. SWI_EINVAL for a URL of another scheme. */
int swi_url_open(swi_ctx_t *ctx, const char *url, struct swi_url_source **out);

/* swi_read_fn over a struct swi_url_source, on the caller's thread: runs
 * the transfer until bytes arrive, resuming a dropped connection. -1 with
 * errno ECANCELED after swi_cancel(), EIO when the download failed (the
 * reason is kept for swi_url_close()). */
ssize_t swi_url_read(void *src, void *buf, size_t len);

/* Frees src and returns the status of the reading it served: rc, but
 * with the download's own reason when a failed download caused it, and
 * SWI_ECANCELED when a cancel stopped a read. */
int swi_url_close(struct swi_url_source *src, int rc);

#endif
