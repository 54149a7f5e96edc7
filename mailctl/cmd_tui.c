/* mailctl tui: start the terminal console, mailtui(8), in place of mailctl. */
#include "cli.h"
#include "xalloc.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* mailtui beside this mailctl (installed, or in the build tree), else
 * the installed one. Caller frees. */
static char *find_mailtui(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *dir = dirname(self);
		const char *const rel[] = {"mailtui", "../tui/mailtui"};
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *p = xasprintf("%s/%s", dir, rel[i]);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup(MAILTUI_PATH);
}

static int tui_cmd(struct cli *cli, int argc, char **argv)
{
	int code;
	if (cli_plain(cli, argc, argv, 0, 0, &code) < 0)
		return code;
	char *path = find_mailtui();
	char *args[] = {path, "--config", (char *)cli->config_path, NULL};
	if (!cli->config_explicit)
		args[1] = NULL;
	fflush(stdout);
	execv(path, args);
	code = cli_error(EX_UNAVAILABLE, "cannot run '%s': %s", path, mc_strerror(errno));
	free(path);
	return code;
}

const struct verb tui_verbs[] = {
    {"", tui_cmd, CMD_NOCONFIG, "",
     "Open the terminal console (mailtui): status, domains, users, aliases, DNS records.", NULL},
    {0},
};
