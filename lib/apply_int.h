/*
 * apply_int - what apply.c (plan, diff, install, rollback) and
 * apply_service.c (the services: staging, validation, reload) share. Not
 * for other modules: they use apply.h.
 *
 * Errors are MC_EIO with the path; strings returned are the caller's.
 */
#ifndef MAILCTL_APPLY_INT_H
#define MAILCTL_APPLY_INT_H

#include <sys/types.h>

#include "apply.h"

/* Append the file at 'path' to 'sb'; -1 (errno set) when it cannot. */
int apply_read_file(const char *path, struct strbuf *sb);

/* Write 'len' bytes to 'path' through a temporary file and a rename. */
int apply_write_atomic(const char *path, const char *data, size_t len, mode_t mode, uid_t uid,
                       gid_t gid, struct mc_error *err);

/* Create the missing directories above 'path' (mode 0755). */
int apply_make_parents(const char *path, struct mc_error *err);

/* A private scratch directory; apply_rm_tree() removes and frees it. */
char *apply_scratch(struct mc_error *err);
void apply_rm_tree(char *dir);

/* 1 when 'name' is a SERVICE the manifest may name ("none" included). */
int apply_service_known(const char *name);

#endif
