/*
 * netaddr - the addresses this server sends and receives mail on.
 *
 * Configured addresses win; otherwise they are read from the machine's
 * interfaces (getifaddrs), keeping only addresses the rest of the Internet
 * could reach: not loopback, link-local, private (RFC 1918, RFC 6598
 * shared, IPv6 unique-local) or multicast. Documentation ranges count as
 * public, so test hosts on 192.0.2.0/24 and 2001:db8::/32 behave like a
 * real server. Strings returned are owned by the list.
 */
#ifndef MAILCTL_NETADDR_H
#define MAILCTL_NETADDR_H

#include <stddef.h>

#include "error.h"

struct netaddr_list {
	char **v; /* NULL-terminated, for dnsrec_input.ipv4/ipv6 */
	size_t n, alloc;
};

/* 1 when the textual address 's' is one the Internet can reach, 0 when
 * not, -1 when it is not an address. */
int netaddr_is_public(const char *s);

/* The public addresses of the machine's interfaces, IPv4 and IPv6 apart,
 * each sorted and without repeats. */
int netaddr_detect(struct netaddr_list *v4, struct netaddr_list *v6, struct mc_error *err);

/* The addresses this server uses: those listed in 'conf4' and 'conf6'
 * (network.ipv4/ipv6: separated by commas or spaces), else the detected
 * ones. Finding none is not an error here. */
int netaddr_server(const char *conf4, const char *conf6, struct netaddr_list *v4,
                   struct netaddr_list *v6, struct mc_error *err);

void netaddr_list_add(struct netaddr_list *l, const char *addr);
void netaddr_list_release(struct netaddr_list *l);

#endif
