/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running programs (see exec.h).
 *
 * The library may run other threads while it forks (the reader, the
 * worker): everything the child needs is prepared before fork() (the
 * program's path, its environment, the descriptors), and between fork()
 * and execve() the child calls only async-signal-safe functions. An exec
 * failure reaches the parent through a close-on-exec pipe: it reads
 * either the child's errno or, once execve() succeeded, end of file.
 *
 * The program gets, besides standard output and error, SWUpdate's two
 * extra channels: descriptor 3 ($SWUPDATE_INFO_FD) logged as information
 * and descriptor 4 ($SWUPDATE_WARN_FD) as warnings.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "exec.h"

extern char **environ;

/* SIGTERM first; whoever is still there this long after gets SIGKILL. */
#define KILL_GRACE_MS 2000
/* How often the cancel flag and the clock are looked at. */
#define TICK_MS 100
/* After the program exited, its output is read until it stays quiet this
 * long, or for this long at most: a background process of it may hold
 * the pipes open. */
#define DRAIN_QUIET_MS 200
#define DRAIN_MAX_MS 2000
/* A longer line is logged in pieces of this size. */
#define LINE_MAX_BYTES 4096

/* Its output channels, the descriptor each lands on in the program. */
enum { OUT_STDIO, OUT_INFO, OUT_WARN, NCHANNELS };
static const struct channel_def {
	int child_fds[2];   /* -1: none */
	int level;
} channel_defs[NCHANNELS] = {
	[OUT_STDIO] = { { STDOUT_FILENO, STDERR_FILENO }, SWI_LOG_INFO },
	[OUT_INFO] = { { 3, -1 }, SWI_LOG_INFO },
	[OUT_WARN] = { { 4, -1 }, SWI_LOG_WARN },
};
#define FIRST_FREE_FD 5
static const char *const channel_env[] = { "SWUPDATE_INFO_FD=3", "SWUPDATE_WARN_FD=4" };

struct channel {
	int fd;                       /* read end; -1 at end of file */
	size_t used;
	char line[LINE_MAX_BYTES + 1];
};

/* What the child needs, made before fork(). */
struct launch {
	char *path;                   /* argv[0], searched in PATH when it has no '/' */
	char **envp;
	int stdin_fd;                 /* /dev/null */
	int write_fds[NCHANNELS];     /* the pipes' write ends */
	int error_fd;                 /* where the child reports a failed exec */
	int max_fd;                   /* for closing inherited descriptors */
	sigset_t empty;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- before fork ----------------------------------------------------- */

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* argv[0] as execve() wants it: as given when it has a '/', else the first
 * executable of that name in PATH. *errnum: why there is none. */
static char *program_path(const char *name, int *errnum)
{
	if (strchr(name, '/'))
		return strdup(name);
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	*errnum = ENOENT;
	for (const char *dir = path; dir; ) {
		const char *end = strchr(dir, ':');
		size_t len = end ? (size_t)(end - dir) : strlen(dir);
		char *candidate = NULL;
		/* an empty element is the current directory, as in a shell */
		if (asprintf(&candidate, "%.*s/%s", (int)len, len ? dir : ".", name) < 0)
			return NULL;
		if (is_executable_file(candidate))
			return candidate;
		if (access(candidate, F_OK) == 0)
			*errnum = EACCES;
		free(candidate);
		dir = end ? end + 1 : NULL;
	}
	return NULL;
}

static size_t name_length(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	return eq ? (size_t)(eq - assignment) : strlen(assignment);
}

static bool defines(const char *const vars[], size_t n, const char *assignment)
{
	size_t len = name_length(assignment);
	for (size_t i = 0; i < n; i++)
		if (name_length(vars[i]) == len && strncmp(vars[i], assignment, len) == 0)
			return true;
	return false;
}

/* The installer's environment, with the channels' variables and extra
 * added (extra wins over both). The array only: its strings are not
 * copied. */
static char **program_environment(const char *const extra[])
{
	size_t nextra = 0, nenv = 0;
	while (extra && extra[nextra])
		nextra++;
	while (environ && environ[nenv])
		nenv++;
	size_t nchan = sizeof(channel_env) / sizeof(channel_env[0]);
	const char **envp = calloc(nextra + nchan + nenv + 1, sizeof(*envp));
	if (!envp)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < nextra; i++)
		envp[n++] = extra[i];
	for (size_t i = 0; i < nchan; i++)
		if (!defines(envp, n, channel_env[i]))
			envp[n++] = channel_env[i];
	size_t before_environ = n;
	for (size_t i = 0; i < nenv; i++)
		if (!defines(envp, before_environ, environ[i]))
			envp[n++] = environ[i];
	return (char **)envp;
}

static void launch_free(struct launch *l)
{
	free(l->path);
	free(l->envp);
	l->path = NULL;
	l->envp = NULL;
	close_fd(&l->stdin_fd);
	for (int i = 0; i < NCHANNELS; i++)
		close_fd(&l->write_fds[i]);
	close_fd(&l->error_fd);
}

static int cannot_run(swi_ctx_t *ctx, const char *what, const char *program, int errnum)
{
	return swi_fail(ctx, SWI_EHANDLER, "%s: cannot run: %s: %s", what, program,
			strerror(errnum));
}

/* The path, environment and descriptors; the pipes' read ends in
 * channels[], the error pipe's in *error_read. */
static int prepare(swi_ctx_t *ctx, const char *what, const char *const argv[],
		   const char *const env[], struct launch *l, struct channel channels[],
		   int *error_read)
{
	int errnum = ENOMEM;
	l->path = program_path(argv[0], &errnum);
	if (!l->path)
		return errnum == ENOMEM ? swi_fail(ctx, SWI_ENOMEM, "out of memory")
			: swi_fail(ctx, SWI_EHANDLER, "%s: cannot run: %s: %s (searched in PATH)",
				   what, argv[0], strerror(errnum));
	l->envp = program_environment(env);
	if (!l->envp)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	l->stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l->stdin_fd < 0)
		return cannot_run(ctx, what, argv[0], errno);
	for (int i = 0; i < NCHANNELS; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return cannot_run(ctx, what, argv[0], errno);
		channels[i].fd = p[0];
		l->write_fds[i] = p[1];
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cannot_run(ctx, what, argv[0], errno);
	*error_read = p[0];
	l->error_fd = p[1];
	long max = sysconf(_SC_OPEN_MAX);
	l->max_fd = max > 0 && max < 65536 ? (int)max : 65536;
	sigemptyset(&l->empty);
	return SWI_OK;
}

/* ---- in the child: async-signal-safe calls only --------------------- */

static __attribute__((noreturn)) void child_fail(const struct launch *l)
{
	int errnum = errno;
	ssize_t ignored = write(l->error_fd, &errnum, sizeof(errnum));
	(void)ignored;
	_exit(127);
}

/* A copy of fd above the descriptors the program gets (fd may be one of
 * them, when the installer runs without standard input, say). */
static int child_move_up(const struct launch *l, int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, FIRST_FREE_FD);
	if (high < 0)
		child_fail(l);
	return high;
}

/* Standard input, output and error, 3 and 4: all sources are moved up
 * first, so that no dup2() overwrites one still to be placed. */
static void child_place_descriptors(const struct launch *l)
{
	int stdin_fd = child_move_up(l, l->stdin_fd);
	int write_fds[NCHANNELS];
	for (int i = 0; i < NCHANNELS; i++)
		write_fds[i] = child_move_up(l, l->write_fds[i]);
	if (dup2(stdin_fd, STDIN_FILENO) < 0)
		child_fail(l);
	for (int i = 0; i < NCHANNELS; i++)
		for (int k = 0; k < 2; k++)
			if (channel_defs[i].child_fds[k] >= 0 &&
			    dup2(write_fds[i], channel_defs[i].child_fds[k]) < 0)
				child_fail(l);
}

/* Whatever the installer has open besides is closed by execve(), the
 * error pipe included, which must stay open until then. */
static void child_close_inherited(const struct launch *l)
{
	if (close_range(FIRST_FREE_FD, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = FIRST_FREE_FD; fd < l->max_fd; fd++) /* a kernel before 5.11 */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void child_default_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
}

static __attribute__((noreturn)) void child(struct launch *l, const char *const argv[])
{
	/* Its own process group: a timeout or cancel kills what it started too. */
	setpgid(0, 0);
	/* The library's threads block every signal; the program starts clean. */
	child_default_signals();
	sigprocmask(SIG_SETMASK, &l->empty, NULL);
	/* The error pipe above the descriptors the program gets. */
	if (l->error_fd < FIRST_FREE_FD) {
		int high = fcntl(l->error_fd, F_DUPFD_CLOEXEC, FIRST_FREE_FD);
		if (high < 0)
			_exit(127);
		l->error_fd = high;
	}
	child_place_descriptors(l);
	child_close_inherited(l);
	execve(l->path, (char *const *)argv, l->envp);
	child_fail(l);
}

/* ---- the parent: output, timeout, cancel ------------------------------ */

static void log_line(swi_ctx_t *ctx, const char *what, int level, struct channel *c)
{
	c->line[c->used] = '\0';
	swi_log(ctx, level, "%s: %s", what, c->line);
	c->used = 0;
}

/* Reads what is there; logs each complete line. Returns false at end of
 * file (or on an error), when the channel is closed. */
static bool read_channel(swi_ctx_t *ctx, const char *what, int level, struct channel *c)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (c->used)
			log_line(ctx, what, level, c);
		close_fd(&c->fd);
		return false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			log_line(ctx, what, level, c);
			continue;
		}
		c->line[c->used++] = buf[i] ? buf[i] : '@';
		if (c->used == LINE_MAX_BYTES)
			log_line(ctx, what, level, c);
	}
	return true;
}

/* Waits up to timeout_ms for output and logs it; the number of channels
 * that had something. */
static int pump(swi_ctx_t *ctx, const char *what, struct channel channels[], int timeout_ms)
{
	struct pollfd fds[NCHANNELS];
	for (int i = 0; i < NCHANNELS; i++)
		fds[i] = (struct pollfd){ .fd = channels[i].fd, .events = POLLIN };
	int ready = poll(fds, NCHANNELS, timeout_ms);
	if (ready <= 0)
		return 0;
	for (int i = 0; i < NCHANNELS; i++)
		if (fds[i].revents)
			read_channel(ctx, what, channel_defs[i].level, &channels[i]);
	return ready;
}

static bool all_closed(const struct channel channels[])
{
	for (int i = 0; i < NCHANNELS; i++)
		if (channels[i].fd >= 0)
			return false;
	return true;
}

/* Whether pid exited, without reaping it: until it is reaped, its process
 * group cannot be another's, so it can still be killed safely. No such
 * child (the application reaps children itself, or ignores SIGCHLD) counts
 * as exited. */
static bool has_exited(pid_t pid)
{
	siginfo_t info = { 0 };
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return info.si_pid == pid;
}

enum ending { RAN, TIMED_OUT, CANCELLED };

/* Logs the output until the program exits, is cancelled or runs out of
 * time; then kills what is left of its process group. */
static enum ending supervise(swi_ctx_t *ctx, const char *what, pid_t pid,
			     struct channel channels[], long timeout)
{
	long long deadline = timeout > 0 ? now_ms() + timeout * 1000LL : -1;
	long long kill_at = -1;
	enum ending ending = RAN;
	while (!has_exited(pid)) {
		pump(ctx, what, channels, TICK_MS);
		long long now = now_ms();
		if (ending == RAN && (swi_cancelled(ctx) || (deadline >= 0 && now >= deadline))) {
			ending = swi_cancelled(ctx) ? CANCELLED : TIMED_OUT;
			kill(-pid, SIGTERM);
			kill_at = now + KILL_GRACE_MS;
		} else if (kill_at >= 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = -1;
		}
	}
	if (ending != RAN)
		kill(-pid, SIGKILL);
	/* What it wrote last; a background process of it may keep a pipe
	 * open, so stop once the output stays quiet for a moment. */
	long long drain_end = now_ms() + DRAIN_MAX_MS;
	while (!all_closed(channels) && now_ms() < drain_end &&
	       pump(ctx, what, channels, DRAIN_QUIET_MS) > 0)
		;
	return ending;
}

/* Its wait status; -1 when someone else took it. */
static int reap(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

static int outcome(swi_ctx_t *ctx, const char *what, enum ending ending, int status,
		   long timeout)
{
	if (ending == CANCELLED) {
		swi_log(ctx, SWI_LOG_INFO, "%s: killed: the install was cancelled", what);
		return swi_fail_cancelled(ctx);
	}
	if (ending == TIMED_OUT)
		return swi_fail(ctx, SWI_EHANDLER, "%s: did not finish within %ld s; killed", what,
				timeout);
	if (status == -1)
		return swi_fail(ctx, SWI_EHANDLER, "%s: its exit status is lost (the application "
				"reaped it, or ignores SIGCHLD)", what);
	if (WIFSIGNALED(status))
		return swi_fail(ctx, SWI_EHANDLER, "%s: killed by signal %d (%s)", what,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		return swi_fail(ctx, SWI_EHANDLER, "%s: exited with status %d", what,
				WEXITSTATUS(status));
	return SWI_OK;
}

/* 0 once execve() succeeded (the pipe closed), else its errno. */
static int exec_error(int error_read)
{
	int errnum = 0;
	ssize_t n;
	while ((n = read(error_read, &errnum, sizeof(errnum))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(errnum) ? errnum : 0;
}

int swi_run_program(swi_ctx_t *ctx, const char *what, const char *const argv[],
		    const char *const env[], long timeout)
{
	if (!argv || !argv[0] || !argv[0][0])
		return swi_fail(ctx, SWI_EINVAL, "%s: no program to run", what);
	struct launch l = { .stdin_fd = -1, .error_fd = -1,
			    .write_fds = { -1, -1, -1 } };
	struct channel channels[NCHANNELS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
	int error_read = -1;
	int rc = prepare(ctx, what, argv, env, &l, channels, &error_read);
	pid_t pid = rc == SWI_OK ? fork() : -1;
	if (pid == 0)
		child(&l, argv);
	if (rc == SWI_OK && pid < 0)
		rc = cannot_run(ctx, what, argv[0], errno);
	if (pid > 0) {
		setpgid(pid, pid); /* either may come first: the group exists before any kill */
		launch_free(&l);
		int errnum = exec_error(error_read);
		enum ending ending = errnum ? RAN : supervise(ctx, what, pid, channels, timeout);
		int status = reap(pid);
		rc = errnum ? cannot_run(ctx, what, argv[0], errnum)
			: outcome(ctx, what, ending, status, timeout);
	}
	launch_free(&l);
	close_fd(&error_read);
	for (int i = 0; i < NCHANNELS; i++)
		close_fd(&channels[i].fd);
	return rc;
}

int swi_split_command(swi_ctx_t *ctx, const char *command, char ***argv)
{
	size_t words = 0, len = strlen(command);
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)command[i]) &&
		    (i == 0 || isspace((unsigned char)command[i - 1])))
			words++;
	if (words == 0)
		return swi_fail(ctx, SWI_EINVAL, "command '%s' has no program in it", command);
	/* The array, then a copy of the text cut into its words. */
	char **list = malloc((words + 1) * sizeof(*list) + len + 1);
	if (!list)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	char *text = memcpy((char *)(list + words + 1), command, len + 1);
	size_t n = 0;
	for (char *p = text; *p; ) {
		while (isspace((unsigned char)*p))
			*p++ = '\0';
		if (!*p)
			break;
		list[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	list[n] = NULL;
	*argv = list;
	return SWI_OK;
}
