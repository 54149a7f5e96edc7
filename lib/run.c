/* Running helper programs; see run.h. */
#include "run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int run_capture(char *const argv[], struct strbuf *out)
{
	int status, fd = memfd_create("mailctl-run", MFD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char buf[4096];
	ssize_t n;
	if (fd < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0 || waitpid(pid, &status, 0) < 0) {
		close(fd);
		return -1;
	}
	if (out && lseek(fd, 0, SEEK_SET) == 0)
		while ((n = read(fd, buf, sizeof(buf))) > 0 && out->len < 65536)
			strbuf_add(out, buf, (size_t)n);
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
