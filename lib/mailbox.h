/*
 * mailbox - the mail directories under paths.mail_root.
 *
 * Mail is never deleted implicitly: removing a user or a domain moves its
 * directory under paths.archive_root with a UTC timestamp
 * (archive_root/<domain>/<local>.<YYYYmmddTHHMMSSZ>, or
 * archive_root/<domain>.<stamp> for a whole domain; "-1", "-2"... are
 * appended rather than replace an archive). Only an explicit
 * purge deletes. archive_root must be on the same filesystem as mail_root
 * (the move is a rename); otherwise the archive fails and nothing moves.
 * Returned paths are owned by the caller.
 */
#ifndef MAILCTL_MAILBOX_H
#define MAILCTL_MAILBOX_H

#include "config.h"
#include "error.h"

/* mail_root/<domain>[/<local>]; 'local' NULL for the domain directory. */
char *mailbox_path(const struct config *cfg, const char *domain, const char *local);

/* Move the directory into the archive. '*archived' gets the new path, or
 * NULL when there was no directory to move (not an error). */
int mailbox_archive(const struct config *cfg, const char *domain, const char *local,
                    char **archived, struct mc_error *err);

/* Undo mailbox_archive() (used when the database change then fails). */
int mailbox_unarchive(const struct config *cfg, const char *domain, const char *local,
                      const char *archived, struct mc_error *err);

/* Delete the directory and everything in it; a missing one is not an
 * error. Never follows symbolic links out of the tree. */
int mailbox_purge(const struct config *cfg, const char *domain, const char *local,
                  struct mc_error *err);

#endif
