/* The signing keys of msgauth.h: every active DKIM key, loaded once per
 * (re)load and shared read-only by the messages. */
#include "msgauth.h"
#include "msgauth_int.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int msgauth_keys_load(struct store *st, struct msgauth_keys **out, char **problems,
                      struct mc_error *err)
{
	struct dkim_list rows = {0};
	struct strbuf probs = STRBUF_INIT;
	*out = NULL;
	*problems = NULL;
	if (store_dkim_list(st, NULL, &rows, err) < 0)
		return -1;
	struct msgauth_keys *k = xcalloc(1, sizeof(*k));
	k->v = xcalloc(rows.n + 1, sizeof(*k->v));
	for (size_t i = 0; i < rows.n; i++) {
		const struct dkim_row *r = &rows.v[i];
		struct mc_error e = {0};
		if (strcmp(r->state, "active") != 0)
			continue;
		struct dkim_key *key = dkim_key_load(r->key_file, &e);
		if (!key) {
			strbuf_addf(&probs, "%s key %s of %s not loaded: %s\n", r->algorithm,
			            r->selector, r->domain, e.msg);
			continue;
		}
		k->v[k->n++] = (struct msgauth_key){xstrdup(r->domain), xstrdup(r->selector), key};
	}
	dkim_list_release(&rows);
	if (probs.len)
		*problems = strbuf_detach(&probs);
	strbuf_release(&probs);
	*out = k;
	return 0;
}

size_t msgauth_keys_count(const struct msgauth_keys *k)
{
	return k ? k->n : 0;
}

void msgauth_keys_free(struct msgauth_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].domain);
		free(k->v[i].selector);
		dkim_key_free(k->v[i].key);
	}
	free(k->v);
	free(k);
}
