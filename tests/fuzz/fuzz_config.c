/*
 * fuzz_config - libFuzzer harness for lib/config.c.
 *
 * config_load() only takes a path, so each input is written to one
 * temporary file per process (made at start-up with mkstemp, removed at
 * exit) and loaded from there with must_exist = 1. Any return is fine;
 * a crash, a leak or undefined behaviour is not. After a failed load
 * the struct must still hold the defaults, as config.h promises.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];
static int fd = -1;

static void check(int ok)
{
	if (!ok)
		abort();
}

static void remove_file(void)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	(void)argc, (void)argv;
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/fuzz_config.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0) {
		perror("fuzz_config: mkstemp");
		abort();
	}
	atexit(remove_file);
	return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	check(ftruncate(fd, 0) == 0);
	while (done < size) {
		n = pwrite(fd, data + done, size - done, (off_t)done);
		check(n > 0);
		done += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, def;
	struct mc_error err;

	write_input(data, size);
	if (config_load(&cfg, path, 1, &err) == 0) {
		check(cfg.file && !strcmp(cfg.file, path));
	} else {
		check(err.msg[0] && !cfg.file);
		config_init(&def);
		check(cfg.default_quota == def.default_quota &&
		      !strcmp(cfg.database, def.database) && !strcmp(cfg.hostname, def.hostname));
		config_release(&def);
	}
	/* every string key is set, whatever the file said */
	check(cfg.hostname && cfg.admin_address && cfg.database && cfg.log_file);
	config_release(&cfg);
	return 0;
}
