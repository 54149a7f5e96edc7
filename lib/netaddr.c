/* Public address detection; see netaddr.h. */
#include "netaddr.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Ranges no other mail server can reach: prefix and length in bits. */
static const struct {
	const char *prefix;
	int bits;
} unreachable4[] = {
    {"0.0.0.0", 8},      {"10.0.0.0", 8},    {"100.64.0.0", 10},  {"127.0.0.0", 8},
    {"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.168.0.0", 16}, {"224.0.0.0", 3},
};
static const struct {
	const char *prefix;
	int bits;
} unreachable6[] = {
    {"::", 127}, /* :: and ::1 */
    {"fc00::", 7}, {"fe80::", 10}, {"ff00::", 8}, {"::ffff:0:0", 96},
};

static int in_prefix(const unsigned char *addr, const unsigned char *net, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(addr, net, (size_t)bytes) != 0)
		return 0;
	if (!rest)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (addr[bytes] & mask) == (net[bytes] & mask);
}

int netaddr_is_public(const char *s)
{
	unsigned char a[16], net[16];
	if (inet_pton(AF_INET, s, a) == 1) {
		for (size_t i = 0; i < sizeof(unreachable4) / sizeof(unreachable4[0]); i++) {
			inet_pton(AF_INET, unreachable4[i].prefix, net);
			if (in_prefix(a, net, unreachable4[i].bits))
				return 0;
		}
		return 1;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		for (size_t i = 0; i < sizeof(unreachable6) / sizeof(unreachable6[0]); i++) {
			inet_pton(AF_INET6, unreachable6[i].prefix, net);
			if (in_prefix(a, net, unreachable6[i].bits))
				return 0;
		}
		return 1;
	}
	return -1;
}

void netaddr_list_add(struct netaddr_list *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], addr) == 0)
			return;
	l->v = xgrow(l->v, &l->alloc, l->n + 2, sizeof(char *));
	l->v[l->n++] = xstrdup(addr);
	l->v[l->n] = NULL;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int netaddr_detect(struct netaddr_list *v4, struct netaddr_list *v6, struct mc_error *err)
{
	struct ifaddrs *ifs;
	char buf[INET6_ADDRSTRLEN];
	if (getifaddrs(&ifs) < 0)
		return mc_fail(err, MC_EIO, "cannot list network interfaces: %s",
		               mc_strerror(errno));
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		int fam = i->ifa_addr->sa_family;
		const void *a = fam == AF_INET
		                    ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
		                : fam == AF_INET6
		                    ? (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr
		                    : NULL;
		if (a && inet_ntop(fam, a, buf, sizeof(buf)) && netaddr_is_public(buf) == 1)
			netaddr_list_add(fam == AF_INET ? v4 : v6, buf);
	}
	freeifaddrs(ifs);
	if (v4->n)
		qsort(v4->v, v4->n, sizeof(char *), cmp);
	if (v6->n)
		qsort(v6->v, v6->n, sizeof(char *), cmp);
	return 0;
}

void netaddr_list_release(struct netaddr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int netaddr_server(const char *conf4, const char *conf6, struct netaddr_list *v4,
                   struct netaddr_list *v6, struct mc_error *err)
{
	const char *conf[] = {conf4, conf6};
	struct netaddr_list *lists[] = {v4, v6};
	char word[64];
	for (int i = 0; i < 2; i++)
		for (const char *p = conf[i] + strspn(conf[i], ", "); *p; p += strspn(p, ", ")) {
			size_t n = strcspn(p, ", ");
			snprintf(word, sizeof(word), "%.*s", (int)n, p);
			netaddr_list_add(lists[i], word);
			p += n;
		}
	return v4->n || v6->n ? 0 : netaddr_detect(v4, v6, err);
}
