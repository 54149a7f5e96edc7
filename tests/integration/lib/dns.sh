# tests/integration/lib/dns.sh - pieces of the lab's DNS server (sourced).
#
# nsd_server_conf DIR: the 'server:' part of an nsd.conf for an nsd that
# runs unprivileged-style inside a lab host, answering on 127.0.0.1:5353
# (unbound in the same host forwards to it), with every file under DIR.
# Append 'zone:' blocks after it.
nsd_server_conf() {
	cat <<EOC
server:
	ip-address: 127.0.0.1@5353
	username: ""
	chroot: ""
	zonesdir: "$1"
	database: ""
	zonelistfile: "$1/zone.list"
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	pidfile: "$1/nsd.pid"
	logfile: "$1/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
EOC
}

# unbound_server_conf DIR: the common start of the lab resolver's 'server:'
# block: it answers lab clients on 192.0.2.53 and 2001:db8::53, keeps every
# file under DIR, and refuses every name but those the caller adds as
# transparent local zones (with stub zones to nsd), so nothing leaves the
# lab. Append further server options, then the zones.
unbound_server_conf() {
	cat <<EOC
server:
	interface: 192.0.2.53
	interface: 2001:db8::53
	port: 53
	access-control: 192.0.2.0/24 allow
	access-control: 2001:db8::/32 allow
	username: ""
	chroot: ""
	directory: "$1"
	pidfile: "$1/unbound.pid"
	logfile: "$1/unbound.log"
	use-syslog: no
	verbosity: 1
	do-not-query-localhost: no
	qname-minimisation: no
	local-zone: "." refuse
EOC
}

# lab_empty_resolver HOST DIR: unbound inside HOST on 127.0.0.1, answering
# NXDOMAIN for every name (a world with no DNS records), and HOST's
# resolv.conf pointing at it. For tests whose mail needs DNS answers (the
# milter checks SPF, DKIM and DMARC) but no particular records; nothing
# is ever asked outside the host. Prints unbound's PID.
lab_empty_resolver() {
	local host=$1 dir=$2 pid
	mkdir -p "$dir"
	cat >"$dir/unbound.conf" <<EOC
server:
	interface: 127.0.0.1
	port: 53
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	logfile: "$dir/unbound.log"
	use-syslog: no
	verbosity: 1
	module-config: "iterator"
	local-zone: "." static
EOC
	pid=$(host_spawn "$host" unbound -d -c "$dir/unbound.conf") || return 1
	host_set_resolver "$host" 127.0.0.1
	# shellcheck disable=SC2016
	host_sh "$host" 'for i in $(seq 50); do
		timeout 1 drill @127.0.0.1 SOA example.org 2>/dev/null | grep -q "rcode: NXDOMAIN" && exit 0
		sleep 0.1
	done; exit 1' || { echo "unbound in $host does not answer: $(tail -5 "$dir/unbound.log")" >&2; return 1; }
	echo "$pid"
}
