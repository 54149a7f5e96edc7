/*
 * error - how libmailctl reports failure.
 *
 * Library functions never print and never exit. They return 0 (or a count)
 * on success and -1 on failure, after filling the caller's struct mc_error
 * with a kind and a one-line, lowercase message that names what failed and
 * quotes the subject:  cannot open '/etc/mailctl/mailctl.yaml': no such file
 * The front-end decides whether to print, log or show it, and maps the kind
 * to an exit code (see mailctl/cli.c).
 */
#ifndef MAILCTL_ERROR_H
#define MAILCTL_ERROR_H

enum mc_errkind {
	MC_OK = 0,
	MC_EUSAGE,    /* the request itself is malformed */
	MC_EDATA,     /* input is well-formed but invalid or conflicts */
	MC_ENOUSER,   /* no such user, alias or address */
	MC_ENODOMAIN, /* no such domain */
	MC_ENOPERM,   /* caller lacks the right to do this */
	MC_EUNAVAIL,  /* a needed resource (database) is missing or unusable */
	MC_ETEMP,     /* try again later (database busy) */
	MC_EIO,       /* an I/O error, including a read-only database */
	MC_ECONFIG,   /* the configuration is invalid */
	MC_EINTERNAL, /* a bug or an unexpected library failure */
};

struct mc_error {
	enum mc_errkind kind;
	char msg[1024];
};

/* Fill 'err' (which may be NULL) and return -1, so callers can write
 * 'return mc_fail(err, MC_EDATA, "...")'. */
int mc_fail(struct mc_error *err, enum mc_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mc_error_clear(struct mc_error *err);

/* strerror() in the lowercase our messages use ("permission denied"). The
 * text lives in a per-thread buffer until the next call. */
const char *mc_strerror(int errnum);

#endif
