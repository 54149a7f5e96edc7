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
