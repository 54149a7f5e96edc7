/* Private to lib/msgauth*.c. */
#ifndef MAILCTL_MSGAUTH_INT_H
#define MAILCTL_MSGAUTH_INT_H

#include "msgauth.h"

struct msgauth_key {
	char *domain, *selector;
	struct dkim_key *key;
};

struct msgauth_keys {
	struct msgauth_key *v; /* ordered by domain (as the store lists them) */
	size_t n;
};

/* Build the Authentication-Results value of an inbound result. */
char *msgauth_authres_build(const char *authserv_id, const struct msgauth_env *env,
                            const struct msgauth_result *r);

#endif
