/* cert_ari - when the CA's renewal information (RFC 9773) says to renew */
#include "acme.h"
#include "cert_int.h"
#include "store.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The served chain as text, or NULL. */
static char *read_chain(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, out);
	int bad = ferror(f);
	fclose(f);
	fclose(out);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *cert_served_id(const struct config *cfg)
{
	char *chain = read_chain(cfg->tls_cert_file), *id = NULL;
	struct mc_error none;
	if (chain && acme_ari_cert_id(chain, &id, &none) < 0)
		id = NULL;
	free(chain);
	return id;
}

/* FNV-1a of the certID: the same certificate picks the same time. */
static unsigned long seed_of(const char *id)
{
	unsigned long h = 2166136261UL;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619UL;
	return h;
}

static void window_text(const struct acme_ari *a, time_t pick, char **why)
{
	char start[21], end[21], at[21];
	cert_time_format(a->start, start);
	cert_time_format(a->end, end);
	cert_time_format(pick, at);
	*why = xasprintf("the CA's renewal window (RFC 9773) is %s to %s: renews at %s%s%s", start,
	                 end, at, a->explanation ? "; see " : "",
	                 a->explanation ? a->explanation : "");
}

/* The last window read, kept until the CA's Retry-After: a long-lived
 * caller (mailctld's renewal helper, asked again after every reload) does
 * not ask the CA more often than it said (RFC 9773 4.3). */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *directory, *id;
	struct acme_ari a;
} kept_window;

static int window_kept(const char *directory, const char *id, time_t now, struct acme_ari *out)
{
	pthread_mutex_lock(&kept_lock);
	int hit = kept_window.id && !strcmp(kept_window.id, id) &&
	          !strcmp(kept_window.directory, directory) && now < kept_window.a.retry_after;
	if (hit) {
		*out = kept_window.a;
		out->explanation =
		    kept_window.a.explanation ? xstrdup(kept_window.a.explanation) : NULL;
	}
	pthread_mutex_unlock(&kept_lock);
	return hit;
}

static void window_keep(const char *directory, const char *id, const struct acme_ari *a)
{
	pthread_mutex_lock(&kept_lock);
	free(kept_window.directory);
	free(kept_window.id);
	acme_ari_release(&kept_window.a);
	kept_window.directory = xstrdup(directory);
	kept_window.id = xstrdup(id);
	kept_window.a = *a;
	kept_window.a.explanation = a->explanation ? xstrdup(a->explanation) : NULL;
	pthread_mutex_unlock(&kept_lock);
}

int cert_ari_when(struct mc_ctx *ctx, const char *directory, time_t now, time_t *when,
                  time_t *ask_again, char **why)
{
	struct acme_account_row kept;
	struct acme_ari a = {0};
	struct mc_error e;
	*why = NULL;
	char *chain = read_chain(ctx->cfg->tls_cert_file), *id = NULL;
	if (!chain || acme_ari_cert_id(chain, &id, &e) < 0) {
		free(chain);
		return 0; /* nothing the CA could name: the lifetime decides */
	}
	int found = 0, rc = 0;
	if (!window_kept(directory, id, now, &a)) {
		found = store_acme_account_get(ctx->st, directory, &kept, &e);
		const char *ca_file = found == 1 && *kept.ca_file ? kept.ca_file : NULL;
		rc = acme_ari_fetch(directory, ca_file, chain, &a, &e);
		if (rc == 0)
			window_keep(directory, id, &a);
	}
	if (rc == 0) {
		*when = acme_ari_pick(&a, now, seed_of(id));
		*ask_again = a.retry_after;
		window_text(&a, *when, why);
		rc = 1;
	} else {
		if (rc < 0) {
			*why =
			    xasprintf("the CA's renewal information could not be read (%s)", e.msg);
			/* a temporary failure: again in an hour */
			*ask_again = a.retry_after ? a.retry_after : now + 3600;
		}
		rc = 0; /* 1: the CA offers none */
	}
	acme_ari_release(&a);
	if (found == 1)
		acme_account_row_release(&kept);
	free(chain);
	free(id);
	return rc;
}
