/*
 * peer.h - the DKIM peers (dkimpy, OpenDKIM) as child processes, for
 * test_dkim_interop.c (included once, after cmocka.h).
 *
 * peer_setup() makes a scratch directory and checks that peer.py can
 * run both peers; peer_teardown() removes the directory (unless
 * MAILCTL_KEEP_SCRATCH is set, to look at the messages of a failure).
 * Every peer run is a child in its own process group, killed after
 * PEER_TIMEOUT seconds; its stderr is shown when it fails. Messages are
 * NUL-free text, passed as files in the scratch directory.
 */
#ifndef MAILCTL_TEST_DKIM_PEER_H
#define MAILCTL_TEST_DKIM_PEER_H

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
#include "xalloc.h"

#define PEER_PYTHON  "/usr/bin/python3" /* the interpreter python3-dkim is installed for */
#define PEER_TIMEOUT 120                /* seconds; peer.py bounds each opendkim run too */
#define PEER_MAXARGS 80

static struct {
	char *dir, *script, *stderr_file;
	unsigned seq;
} P;

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
	assert_int_equal(fclose(f), 0);
}

/* The whole file; caller frees. */
static char *read_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb);
}

/* A fresh file name in the scratch directory, 'label' in it. Caller frees. */
static char *new_path(const char *label)
{
	char *path = xasprintf("%s/%03u-%s.eml", P.dir, ++P.seq, label);
	for (char *p = path + strlen(P.dir) + 1; *p; p++)
		if (*p == '/' || *p == ',' || *p == ' ')
			*p = '_';
	return path;
}

static void show_stderr(void)
{
	char *err = read_file(P.stderr_file);
	print_error("%s", err);
	free(err);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv (argv[0] a path) with stdin from 'in' and stdout to 'out'
 * (NULL: /dev/null), stderr to P.stderr_file. Returns the exit status,
 * or -1 when killed (by a signal, or by us after PEER_TIMEOUT). */
static int run(char *const argv[], const char *in, const char *out)
{
	int status;
	double deadline = now_s() + PEER_TIMEOUT;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fi = open(in ? in : "/dev/null", O_RDONLY);
		int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(P.stderr_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fi < 0 || fo < 0 || fe < 0 || setpgid(0, 0) < 0)
			_exit(126);
		dup2(fi, 0), dup2(fo, 1), dup2(fe, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_s() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			print_error("%s %s: killed after %d s\n", argv[1], argv[2], PEER_TIMEOUT);
			return -1;
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* peer.py with 'args' (NULL-terminated); fails the test unless it exits 0. */
static void run_peer(const char *const *args, const char *in, const char *out)
{
	const char *argv[PEER_MAXARGS + 3] = {PEER_PYTHON, P.script};
	size_t n = 2;
	for (; *args; args++) {
		assert_true(n < PEER_MAXARGS + 2);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	int rc = run((char *const *)argv, in, out);
	if (rc != 0) {
		show_stderr();
		fail_msg("peer.py %s exited %d", argv[2], rc);
	}
}

/* 'msg' signed by a peer: args[0] is "dkimpy-sign" or "opendkim-sign".
 * Caller frees. */
static char *peer_sign(const char *const *args, const char *msg)
{
	char *in = new_path("unsigned"), *out = new_path("signed");
	write_file(in, msg);
	run_peer(args, in, out);
	char *signed_msg = read_file(out);
	free(in);
	free(out);
	return signed_msg;
}

/* The verdict lines of peer.py 'cmd' ("dkimpy-verify", "opendkim-verify")
 * on the 'n' files 'paths' into got[] (caller frees each). */
static void peer_verify(const char *cmd, const char *keys_file, const char **paths, size_t n,
                        char **got)
{
	const char *args[PEER_MAXARGS + 1] = {cmd, keys_file};
	assert_true(n + 2 <= PEER_MAXARGS);
	memcpy(args + 2, paths, n * sizeof(*paths));
	args[n + 2] = NULL;
	char *out = new_path("verdicts");
	run_peer(args, NULL, out);
	char *text = read_file(out), *line = text, *nl;
	for (size_t i = 0; i < n; i++, line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			fail_msg("peer.py %s: verdicts missing from '%s'", cmd, text);
		got[i] = xstrndup(line, (size_t)(nl - line));
	}
	free(text);
	free(out);
}

static void peer_teardown(void);

/* The scratch directory, and both peers usable: else -1, saying which
 * Debian package is missing. */
static int peer_setup(void)
{
	const char *src = getenv("MAILCTL_SRC");
	const char *tmp = getenv("TMPDIR");
	char *argv[] = {PEER_PYTHON, NULL, "check", NULL};

	if (access(PEER_PYTHON, X_OK) < 0) {
		print_error("%s is missing: install the Debian packages python3 and "
		            "python3-dkim\n",
		            PEER_PYTHON);
		return -1;
	}
	P.script = xasprintf("%s/tests/conformance/dkim/peer.py", src ? src : MAILCTL_SRC);
	char *tmpl = xasprintf("%s/mailctl-dkim-interop.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		print_error("cannot make a directory like '%s'\n", tmpl);
		free(tmpl);
		return -1;
	}
	P.dir = tmpl;
	P.stderr_file = xasprintf("%s/stderr", P.dir);
	argv[1] = P.script;
	if (run(argv, NULL, NULL) != 0) {
		show_stderr();
		print_error("the DKIM peers cannot run (see above)\n");
		peer_teardown();
		return -1;
	}
	return 0;
}

static int peer_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void peer_teardown(void)
{
	if (P.dir && getenv("MAILCTL_KEEP_SCRATCH"))
		print_message("messages kept in %s\n", P.dir);
	else if (P.dir)
		nftw(P.dir, peer_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(P.dir);
	free(P.script);
	free(P.stderr_file);
	memset(&P, 0, sizeof(P));
}

#endif
