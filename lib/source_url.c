/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image sources: an http:// or https:// URL, read with libcurl.
 *
 * The transfer runs on a thread of its own (curl's multi interface), from
 * the install's first read on, into a ring of RING_SIZE bytes that the
 * install's reads empty on the caller's thread: the download goes on while
 * the install decodes and writes, the image is never stored whole, and a
 * full ring pauses the transfer. A read waits at most POLL_MS at a time
 * before it looks for a cancel; the thread looks for the end of the
 * install as often.
 *
 * A transfer that breaks on the way (a reset, a stall, an early end) is
 * started again with "Range: bytes=N-" from the byte it reached, after a
 * growing pause, and the install sees one unbroken stream. The answer to a
 * resume must be those bytes of the same file: a 206 starting at N, with
 * the ETag and Last-Modified of the first answer. Anything else fails the
 * download, since the bytes the install already took came from a file the
 * server no longer serves.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "source_url.h"

#define RING_SIZE (1024 * 1024)
#define CHUNK_SIZE (128 * 1024)   /* CURLOPT_BUFFERSIZE: the most one write brings */
#define POLL_MS 100
#define FIRST_BACKOFF_MS 250
#define MAX_BACKOFF_MS 30000
#define DEFAULT_RETRIES 5
#define DEFAULT_TIMEOUT 60
#define HEADER_MAX 256

/* What one answer said about the file it sends. */
struct answer {
	char status_line[HEADER_MAX];
	char etag[HEADER_MAX];
	char last_modified[HEADER_MAX];
	char content_range[HEADER_MAX];
};

/* The thread's fields are the transfer's; under lock: the ring, done,
 * status and msg (the thread's results), stop (the reader's request). */
struct swi_url_source {
	swi_ctx_t *ctx;
	char *url;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* bytes came or went, or the download ended */
	unsigned char *ring;
	size_t head, count;       /* unread bytes: count of them from ring[head] on */
	bool stop;                /* the install is over: the thread ends */
	CURLM *multi;
	CURL *easy;               /* the attempt running; NULL between attempts */
	bool paused;              /* the last write did not fit; curl holds it */
	uint64_t offset;          /* bytes received in all: where a resume starts */
	uint64_t attempt_offset;  /* offset when the current attempt started */
	bool accepted;            /* the current attempt's answer was checked */
	struct answer first;      /* the answer that began the file */
	struct answer now;        /* the current attempt's */
	int64_t size;             /* of the file, from the first answer; -1 unknown */
	long retries;             /* attempts in a row that may bring nothing */
	long timeout;             /* seconds of a stall or of connecting */
	unsigned failures;        /* attempts in a row that brought no byte */
	struct timespec retry_at; /* when the next attempt may start */
	bool done;                /* every byte arrived */
	bool cancelled;           /* a read stopped for swi_cancel() */
	int status;               /* SWI_OK, or why the download failed (msg) */
	char msg[512];
	char curl_error[CURL_ERROR_SIZE];
};

bool swi_is_url(const char *text)
{
	return text && (!strncasecmp(text, "http://", 7) || !strncasecmp(text, "https://", 8));
}

/* Records the download's failure (the first one counts); on the thread. */
__attribute__((format(printf, 2, 3)))
static int refuse(struct swi_url_source *s, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&s->lock);
	if (!s->status) {
		va_start(ap, fmt);
		vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		va_end(ap);
		s->status = SWI_EIO;
	}
	pthread_cond_signal(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return SWI_EIO;
}

/*
 * libcurl, loaded when the first download starts: a program that never
 * downloads does not map it, nor the thirty libraries it needs (TLS, HTTP/2,
 * LDAP, Kerberos, SSH, ...), which would add about 4 MiB to the memory of
 * every install. A device without libcurl installs from files as before.
 */
static struct {
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_pause) *easy_pause;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_perform) *multi_perform;
	__typeof__(curl_multi_poll) *multi_poll;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_strerror) *multi_strerror;
	__typeof__(curl_multi_wakeup) *multi_wakeup;
} api;
static char api_missing[256]; /* why libcurl could not be loaded, or "" */

/* Debian's libcurl4 (OpenSSL), else libcurl3-gnutls: the same API. */
static void *open_curl(void)
{
	void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (lib)
		return lib;
	snprintf(api_missing, sizeof(api_missing), "%s", dlerror());
	return dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL);
}

static void load_curl(void)
{
	static const struct {
		const char *name;
		void *slot;
	} symbols[] = {
		{ "curl_easy_cleanup", &api.easy_cleanup },
		{ "curl_easy_getinfo", &api.easy_getinfo },
		{ "curl_easy_init", &api.easy_init },
		{ "curl_easy_pause", &api.easy_pause },
		{ "curl_easy_setopt", &api.easy_setopt },
		{ "curl_easy_strerror", &api.easy_strerror },
		{ "curl_global_init", &api.global_init },
		{ "curl_multi_add_handle", &api.multi_add_handle },
		{ "curl_multi_cleanup", &api.multi_cleanup },
		{ "curl_multi_info_read", &api.multi_info_read },
		{ "curl_multi_init", &api.multi_init },
		{ "curl_multi_perform", &api.multi_perform },
		{ "curl_multi_poll", &api.multi_poll },
		{ "curl_multi_remove_handle", &api.multi_remove_handle },
		{ "curl_multi_strerror", &api.multi_strerror },
		{ "curl_multi_wakeup", &api.multi_wakeup },
	};
	void *lib = open_curl();
	if (!lib)
		return;
	api_missing[0] = '\0';
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *fn = dlsym(lib, symbols[i].name);
		if (!fn) {
			snprintf(api_missing, sizeof(api_missing), "libcurl lacks %s",
				 symbols[i].name);
			return;
		}
		memcpy(symbols[i].slot, &fn, sizeof(fn));
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(api_missing, sizeof(api_missing), "curl_global_init failed");
}

/* "bytes=N-" with N the first byte of the range, or -1 when absent. */
static int64_t range_start(const char *content_range)
{
	unsigned long long first;
	if (sscanf(content_range, "bytes %llu-", &first) != 1)
		return -1;
	return (int64_t)first;
}

/* "bytes A-B/TOTAL": TOTAL, or -1 when unknown ("*") or absent. */
static int64_t range_total(const char *content_range)
{
	const char *slash = strchr(content_range, '/');
	unsigned long long total;
	if (!slash || sscanf(slash + 1, "%llu", &total) != 1)
		return -1;
	return (int64_t)total;
}

/* Why an answer to a resume is not the rest of the file, or NULL. */
static const char *other_bytes(const struct swi_url_source *s, long code, char *why, size_t size)
{
	const struct answer *a = &s->now;
	int64_t total = range_total(a->content_range);
	if (code == 200)
		snprintf(why, size, "it sent the whole file again (200), not the rest (206): "
			 "it does not resume");
	else if (code != 206)
		snprintf(why, size, "it answered \"%s\"", a->status_line);
	else if (range_start(a->content_range) != (int64_t)s->offset)
		snprintf(why, size, "it sent the range \"%s\"", a->content_range);
	else if (strcmp(a->etag, s->first.etag))
		snprintf(why, size, "the ETag changed from %s to %s: the file changed",
			 s->first.etag[0] ? s->first.etag : "none", a->etag[0] ? a->etag : "none");
	else if (strcmp(a->last_modified, s->first.last_modified))
		snprintf(why, size, "Last-Modified changed from \"%s\" to \"%s\": the file changed",
			 s->first.last_modified, a->last_modified);
	else if (s->size >= 0 && total >= 0 && total != s->size)
		snprintf(why, size, "the file's size changed from %" PRId64 " to %" PRId64 " bytes",
			 s->size, total);
	else
		return NULL;
	return why;
}

/* Checks the current attempt's answer before any of its bytes are taken:
 * the file (200) on the first attempt, the rest of the same file after. */
static int accept_answer(struct swi_url_source *s)
{
	long code = 0;
	char why[2 * HEADER_MAX + 96];
	api.easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	s->accepted = true;
	if (s->offset == 0) {
		if (code != 200)
			return refuse(s, "%s: the server answered \"%s\"", s->url,
				      s->now.status_line[0] ? s->now.status_line : "nothing");
		curl_off_t length = -1;
		api.easy_getinfo(s->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
		s->first = s->now;
		s->size = length;
		return SWI_OK;
	}
	if (other_bytes(s, code, why, sizeof(why)))
		return refuse(s, "%s: resuming at byte %" PRIu64 " failed: %s", s->url, s->offset,
			      why);
	return SWI_OK;
}

/* Puts len bytes into the ring when they fit. */
static bool put(struct swi_url_source *s, const char *data, size_t len)
{
	pthread_mutex_lock(&s->lock);
	bool fits = RING_SIZE - s->count >= len;
	if (fits) {
		size_t tail = (s->head + s->count) % RING_SIZE;
		size_t first = len < RING_SIZE - tail ? len : RING_SIZE - tail;
		memcpy(s->ring + tail, data, first);
		memcpy(s->ring, data + first, len - first);
		s->count += len;
		pthread_cond_signal(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	return fits;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
	struct swi_url_source *s = user;
	size_t len = size * count;
	if (!s->accepted && accept_answer(s))
		return CURL_WRITEFUNC_ERROR;
	if (len > RING_SIZE) {
		refuse(s, "%s: curl wrote %zu bytes at once, more than the buffer holds", s->url, len);
		return CURL_WRITEFUNC_ERROR;
	}
	if (!put(s, data, len)) {
		s->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	s->offset += len;
	return len;
}

/* Copies text (len bytes, blanks and line end around it dropped) into a
 * field of struct answer, cut to fit. */
static void copy_trimmed(const char *text, size_t len, char *field)
{
	while (len && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len && (text[len - 1] == '\r' || text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len >= HEADER_MAX)
		len = HEADER_MAX - 1;
	memcpy(field, text, len);
	field[len] = '\0';
}

/* Keeps the value of a "Name: value" header line when it is name's. */
static void keep_header(const char *line, size_t len, const char *name, char *field)
{
	size_t n = strlen(name);
	if (len > n && !strncasecmp(line, name, n) && line[n] == ':')
		copy_trimmed(line + n + 1, len - n - 1, field);
}

/* Headers of every answer of the attempt come here, a redirect's too: a
 * status line ("HTTP/1.1 404 Not Found") starts a new answer; its code and
 * reason are kept for messages. */
static size_t on_header(char *line, size_t size, size_t count, void *user)
{
	struct swi_url_source *s = user;
	size_t len = size * count;
	const char *space = memchr(line, ' ', len);
	if (len > 5 && !strncmp(line, "HTTP/", 5) && space) {
		s->now = (struct answer){ 0 };
		copy_trimmed(space, len - (size_t)(space - line), s->now.status_line);
		return len;
	}
	keep_header(line, len, "ETag", s->now.etag);
	keep_header(line, len, "Last-Modified", s->now.last_modified);
	keep_header(line, len, "Content-Range", s->now.content_range);
	return len;
}

static long option_number(const swi_ctx_t *ctx, const char *name, long fallback)
{
	const char *text = swi_get_option(ctx, name);
	return text ? strtol(text, NULL, 10) : fallback;
}

static void set_security(struct swi_url_source *s, CURL *e)
{
	const char *ca = swi_get_option(s->ctx, "url-ca-file");
	const char *cert = swi_get_option(s->ctx, "url-client-cert");
	const char *key = swi_get_option(s->ctx, "url-client-key");
	/* Unset, curl verifies against the system's certificate authorities. */
	if (ca)
		api.easy_setopt(e, CURLOPT_CAINFO, ca);
	if (cert)
		api.easy_setopt(e, CURLOPT_SSLCERT, cert);
	if (key)
		api.easy_setopt(e, CURLOPT_SSLKEY, key);
	api.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	api.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	api.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	api.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
}

/* A transfer from s->offset on: the whole file, or the rest of it. */
static int start_attempt(struct swi_url_source *s)
{
	char range[32];
	CURL *e = api.easy_init();
	if (!e)
		return refuse(s, "%s: out of memory", s->url);
	api.easy_setopt(e, CURLOPT_URL, s->url);
	api.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	api.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	api.easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	api.easy_setopt(e, CURLOPT_USERAGENT, "swinstall/" SWI_VERSION_STRING);
	api.easy_setopt(e, CURLOPT_BUFFERSIZE, (long)CHUNK_SIZE);
	api.easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_error);
	api.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	api.easy_setopt(e, CURLOPT_WRITEDATA, s);
	api.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	api.easy_setopt(e, CURLOPT_HEADERDATA, s);
	api.easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* A stall: less than a byte a second for the whole timeout. */
	api.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, s->timeout);
	api.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	api.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, s->timeout);
	set_security(s, e);
	if (s->offset > 0) {
		snprintf(range, sizeof(range), "%" PRIu64 "-", s->offset);
		api.easy_setopt(e, CURLOPT_RANGE, range);
	}
	s->curl_error[0] = '\0';
	s->now = (struct answer){ 0 };
	s->accepted = false;
	s->paused = false;
	s->attempt_offset = s->offset;
	if (api.multi_add_handle(s->multi, e) != CURLM_OK) {
		api.easy_cleanup(e);
		return refuse(s, "%s: cannot start the transfer", s->url);
	}
	s->easy = e;
	return SWI_OK;
}

/* Failures of the way, which another attempt may get past. Refusals of
 * the server or of its certificate are final. */
static bool worth_retrying(CURLcode res)
{
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static struct timespec after_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Milliseconds until t, 0 when it has passed. */
static long ms_until(struct timespec t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (t.tv_sec - now.tv_sec) * 1000L + (t.tv_nsec - now.tv_nsec) / 1000000L;
	return ms > 0 ? ms : 0;
}

/* An attempt broke: another one after a pause that doubles with each
 * attempt in a row that brought nothing, or the end of the download. */
static int plan_retry(struct swi_url_source *s, const char *reason)
{
	if (s->offset > s->attempt_offset)
		s->failures = 0;
	if (++s->failures > (unsigned long)s->retries)
		return refuse(s, "%s: %s at byte %" PRIu64 "; gave up after %u attempt%s in a row "
			      "that brought nothing (url-retries %ld)", s->url, reason, s->offset,
			      s->failures, s->failures == 1 ? "" : "s", s->retries);
	long pause = FIRST_BACKOFF_MS;
	for (unsigned i = 1; i < s->failures && pause < MAX_BACKOFF_MS; i++)
		pause *= 2;
	if (pause > MAX_BACKOFF_MS)
		pause = MAX_BACKOFF_MS;
	swi_log(s->ctx, SWI_LOG_WARN, "%s: %s at byte %" PRIu64 "; resuming in %ld ms", s->url,
		reason, s->offset, pause);
	s->retry_at = after_ms(pause);
	return SWI_OK;
}

/* The attempt ended: the file is complete, or it broke on the way. */
static int finish_attempt(struct swi_url_source *s, CURLcode res)
{
	if (res == CURLE_OK && !s->accepted)
		accept_answer(s);  /* an answer without a body: a 404, ... */
	api.multi_remove_handle(s->multi, s->easy);
	api.easy_cleanup(s->easy);
	s->easy = NULL;
	if (s->status)
		return s->status;
	if (res == CURLE_OK && (s->size < 0 || s->offset >= (uint64_t)s->size)) {
		pthread_mutex_lock(&s->lock);
		s->done = true;
		pthread_cond_signal(&s->changed);
		pthread_mutex_unlock(&s->lock);
		return SWI_OK;
	}
	const char *reason = res == CURLE_OK ? "the connection ended early"
			   : s->curl_error[0] ? s->curl_error : api.easy_strerror(res);
	if (res != CURLE_OK && !worth_retrying(res))
		return refuse(s, "%s: %s", s->url, reason);
	return plan_retry(s, reason);
}

static bool stopping(struct swi_url_source *s)
{
	pthread_mutex_lock(&s->lock);
	bool stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Waits until the reader made room for the write curl holds back (at most
 * CHUNK_SIZE), or the install is over. */
static void wait_for_room(struct swi_url_source *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->stop && RING_SIZE - s->count < CHUNK_SIZE)
		pthread_cond_wait(&s->changed, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

/* Runs the transfer for up to POLL_MS, or starts the next attempt when
 * its time has come. */
static int pump(struct swi_url_source *s)
{
	if (!s->easy) {
		long wait = ms_until(s->retry_at);
		if (wait > 0) {
			struct timespec nap = { 0, (wait < POLL_MS ? wait : POLL_MS) * 1000000L };
			nanosleep(&nap, NULL);
			return SWI_OK;
		}
		return start_attempt(s);
	}
	if (s->paused) {
		wait_for_room(s);
		s->paused = false;
		api.easy_pause(s->easy, CURLPAUSE_CONT);
	}
	int running;
	CURLMcode mc = api.multi_perform(s->multi, &running);
	CURLMsg *msg;
	int left;
	while (mc == CURLM_OK && (msg = api.multi_info_read(s->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			return finish_attempt(s, msg->data.result);
	if (mc == CURLM_OK && !s->paused)
		mc = api.multi_poll(s->multi, NULL, 0, POLL_MS, NULL);
	return mc == CURLM_OK ? s->status : refuse(s, "%s: %s", s->url, api.multi_strerror(mc));
}

static void *run_transfer(void *user)
{
	struct swi_url_source *s = user;
	while (!s->done && !s->status && !stopping(s))
		pump(s);
	return NULL;
}

/* Moves up to len bytes from the ring into buf; under the lock. */
static size_t take(struct swi_url_source *s, unsigned char *buf, size_t len)
{
	size_t n = len < s->count ? len : s->count;
	size_t first = n < RING_SIZE - s->head ? n : RING_SIZE - s->head;
	memcpy(buf, s->ring + s->head, first);
	memcpy(buf + first, s->ring, n - first);
	s->head = (s->head + n) % RING_SIZE;
	s->count -= n;
	pthread_cond_signal(&s->changed);
	return n;
}

ssize_t swi_url_read(void *user, void *buf, size_t len)
{
	struct swi_url_source *s = user;
	/* The transfer starts with the first read (not after a cancel). */
	if (!s->started && !swi_cancelled(s->ctx)) {
		if (swi_thread_start(&s->thread, run_transfer, s)) {
			refuse(s, "%s: cannot start the thread of the download", s->url);
			errno = EIO;
			return -1;
		}
		s->started = true;
	}
	ssize_t n = -1;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (swi_cancelled(s->ctx)) {
			s->cancelled = true;
			errno = ECANCELED;
			break;
		}
		if (s->count || s->status || s->done) {
			n = s->count ? (ssize_t)take(s, buf, len) : s->status ? -1 : 0;
			errno = EIO;
			break;
		}
		struct timespec until = after_ms(POLL_MS);
		pthread_cond_timedwait(&s->changed, &s->lock, &until);
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

int swi_url_open(swi_ctx_t *ctx, const char *url, struct swi_url_source **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	*out = NULL;
	if (!swi_is_url(url))
		return swi_fail(ctx, SWI_EINVAL, "%s: not an http:// or https:// URL", url);
	pthread_once(&once, load_curl);
	if (api_missing[0])
		return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: installing from a URL needs libcurl: %s",
				url, api_missing);
	struct swi_url_source *s = calloc(1, sizeof(*s));
	if (!s)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	/* The reader's waits are timed on the monotonic clock (after_ms()). */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&s->lock, NULL);
	s->ctx = ctx;
	s->ring = malloc(RING_SIZE);
	s->url = strdup(url);
	s->multi = api.multi_init();
	if (!s->ring || !s->url || !s->multi) {
		swi_url_close(s, SWI_OK);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	s->size = -1;
	s->retries = option_number(ctx, "url-retries", DEFAULT_RETRIES);
	s->timeout = option_number(ctx, "url-timeout", DEFAULT_TIMEOUT);
	s->retry_at = after_ms(0);
	*out = s;
	return SWI_OK;
}

int swi_url_close(struct swi_url_source *s, int rc)
{
	if (!s)
		return rc;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		api.multi_wakeup(s->multi);
		pthread_join(s->thread, NULL);
	}
	/* The install only knows that its read failed; say why. A cancel
	 * may stop the read before the install looks for one. */
	if (rc && rc != SWI_ECANCELED && s->cancelled)
		rc = swi_fail_cancelled(s->ctx);
	else if (rc && rc != SWI_ECANCELED && s->status)
		rc = swi_fail(s->ctx, s->status, "%s", s->msg);
	if (s->easy) {
		api.multi_remove_handle(s->multi, s->easy);
		api.easy_cleanup(s->easy);
	}
	api.multi_cleanup(s->multi);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s->url);
	free(s->ring);
	free(s);
	return rc;
}

/* An install, a stage or a verify (given as its swi_*_read() function)
 * fed from url. */
static int read_url(swi_ctx_t *ctx, const char *url,
		    int (*consume)(swi_ctx_t *, swi_read_fn, void *))
{
	struct swi_url_source *src;
	if (!ctx || !url)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "no image URL given") : SWI_EINVAL;
	int rc = swi_url_open(ctx, url, &src);
	if (rc == SWI_OK)
		rc = swi_url_close(src, consume(ctx, swi_url_read, src));
	return rc;
}

int swi_install_url(swi_ctx_t *ctx, const char *url)
{
	return read_url(ctx, url, swi_install_read);
}

int swi_stage_url(swi_ctx_t *ctx, const char *url)
{
	return read_url(ctx, url, swi_stage_read);
}

int swi_verify_url(swi_ctx_t *ctx, const char *url)
{
	return read_url(ctx, url, swi_verify_read);
}

int swi_info_url(swi_ctx_t *ctx, const char *url, struct swi_info *info)
{
	struct swi_url_source *src;
	if (!ctx || !info)
		return SWI_EINVAL;
	*info = (struct swi_info){ 0 };
	if (!url)
		return swi_fail(ctx, SWI_EINVAL, "no image URL given");
	int rc = swi_url_open(ctx, url, &src);
	if (rc == SWI_OK)
		rc = swi_url_close(src, swi_info_read(ctx, swi_url_read, src, info));
	return rc;
}
